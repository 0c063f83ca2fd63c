"""Side-by-side comparison of several models: totals, ratios against the first, per-path diff."""
from __future__ import annotations

from fractions import Fraction

from costcalc.counting.metrics import COMPARED
from costcalc.counting.results import ModelResult


def change_text(first: int, value: int) -> str:
    """'2.37× less (−57.8%)', '1.50× more (+50.0%)', 'same', or 'all of it removed'."""
    if value == first:
        return "same"
    if first == 0:
        return f"+{value:,} (first is 0)"
    if value == 0:
        return "0 (−100%)"
    r = Fraction(value, first)
    pct = float((r - 1) * 100)
    if r < 1:
        return f"{float(1 / r):.2f}× less ({pct:+.1f}%)".replace("-", "−")
    return f"{float(r):.2f}× more ({pct:+.1f}%)"


#: (key, label) of the training figures compared with --train: Training.totals, then .memory
TRAIN_COMPARED = (("train_flops", "Train FLOPs (2 × (forward + backward MACs))"),
                  ("backward_macs", "Backward MACs (grad-input + grad-weight)"),
                  ("saved_bytes", "Saved for backward (bytes)"))


def compare(results: list[ModelResult]) -> dict:
    """The data of `costcalc compare`; the JSON contract is ``{"models": [...], ...}``. Each
    metric carries its exact value per model (``values``) and each model's change against the
    first; results with a training step (``r.training``) add its figures."""
    first = results[0]
    unit = first.convention.unit
    keys = [(m.name, unit if m.name == "ops" else m.label) for m in COMPARED]
    if first.convention.name == "flops":
        keys = [k for k in keys if k[0] != "flops"]
    rows = [(key, label, [r.totals[key] for r in results]) for key, label in keys]
    if all(r.training is not None for r in results):
        t = first.training
        rows += [(key, label, [r.training.totals[key] for r in results]) for key, label in TRAIN_COMPARED]
        rows.append(("train_memory_bytes", f"Training memory (bytes: weights, gradients, {t.optimizer} "
                     f"state, saved activations; {t.precision})",
                     [r.training.memory["total_bytes"] for r in results]))
    metrics = []
    for key, label, values in rows:
        base = values[0]
        metrics.append({
            "key": key, "label": label, "values": values,
            "vs_first": [{"model": r.name, "ratio": (v / base) if base else None,
                          "text": change_text(base, v)} for r, v in zip(results[1:], values[1:])],
        })
    return {"convention": first.convention.name, "models": [r.to_dict() for r in results],
            "metrics": metrics, "paths": _paths(results), "paths_unit": unit}


def _paths(results) -> list[dict]:
    """Layer and block paths that appear in two or more models, in first-seen order; paths
    with no params and no ops in any model (activations, concat) are left out."""
    tables = []
    for r in results:
        # spec order: a block's subtotal right after its last layer, inner blocks first
        last = {}
        for i, l in enumerate(r.layers):
            scope = l.scope
            while scope:
                last[scope] = i
                scope = r.instances[scope].parent
        keyed = [((i, 0, 0), l.name, {"params": l.values["params"], "ops": l.values["ops"]})
                 for i, l in enumerate(r.layers)]
        keyed += [((last.get(path, -1), 1, -path.count("/")), path,
                   {"params": totals["params"], "ops": totals["ops"]})
                  for path, totals in r.scope_totals().items()]
        tables.append({path: value for _, path, value in sorted(keyed, key=lambda e: e[0])})
    order: dict[str, int] = {}
    for table in tables:
        for path in table:
            order[path] = order.get(path, 0) + 1
    out = []
    for p, n in order.items():
        values = [t.get(p) for t in tables]
        if n >= 2 and any(v and (v["params"] or v["ops"]) for v in values):
            out.append({"path": p, "values": values})
    return out
