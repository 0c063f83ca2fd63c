"""`verify --train`: compare one training step's exact figures with a StepMeasure. Pure Python.

Per layer and in total:

- FlopCounterMode's forward + backward FLOPs must equal what costcalc predicts FlopCounterMode
  counts: 2 × (forward + backward MACs), except where the tool has a known error of its own
  (counting/backward.py, ``FLOPCOUNTER_BACKWARD``: a grouped conv's weight gradient counted
  ``groups`` times). There the row says so, with the formula, and the exact figure stays
  costcalc's; it is not a mismatch, because the tool's figure is predicted exactly.
- The bytes autograd saves must equal the saved rule's, per layer and in total (each storage
  once, parameters and buffers left out).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from costcalc.counting import backward


@dataclass
class TrainLayerCheck:
    name: str
    kind: str
    train_flops: int  # exact: 2 × (forward + backward MACs)
    predicted: int  # what FlopCounterMode should report
    flopcounter: int  # what it reports: forward + backward ops of this layer
    saved: int  # analytic saved bytes
    real_saved: int  # saved_tensors_hooks, by storage
    notes: list = field(default_factory=list)

    @property
    def flops_ok(self) -> bool:
        return self.flopcounter == self.predicted

    @property
    def saved_ok(self) -> bool:
        return self.saved == self.real_saved

    @property
    def tool_error(self) -> bool:
        return self.predicted != self.train_flops

    @property
    def match(self) -> bool:
        return self.flops_ok and self.saved_ok


@dataclass
class TrainCheck:
    result: object  # the ModelResult, with .training
    layers: list
    totals: dict
    versions: dict

    @property
    def mismatches(self) -> list:
        return [l for l in self.layers if not l.match]

    @property
    def ok(self) -> bool:
        return not self.mismatches and all(self.totals["ok"].values())


def check_step(result, m) -> TrainCheck:
    graph, step = result.graph, result.training
    layers = []
    for node, tl in zip(graph.nodes, step.layers):
        b = backward.Backward(tl.grad_input_macs, tl.grad_weight_macs)
        predicted = 2 * tl.forward_macs + backward.flopcounter_backward(tl.kind, node.args, b)
        real_saved = sum(m.saved[tl.name].values())
        lc = TrainLayerCheck(tl.name, tl.kind, tl.train_flops, predicted,
                             m.forward[tl.name] + m.backward[tl.name], tl.saved_bytes, real_saved)
        if lc.tool_error:
            g = node.args.get("groups", 1)
            lc.notes.append(
                f"FlopCounterMode's known overcount: a grouped conv's weight gradient counted "
                f"{g}× (groups): 2 × ({tl.forward_macs:,} + {tl.grad_input_macs:,} + {g} × "
                f"{tl.grad_weight_macs:,}) = {predicted:,} FLOPs, exact {tl.train_flops:,} "
                f"({predicted / tl.train_flops:.2f}×; torch's conv_backward_flop uses in × out "
                "channels, not in / groups × out)")
        if not lc.flops_ok:
            lc.notes.append(f"FlopCounterMode {lc.flopcounter:,} FLOPs != predicted {predicted:,}")
        if not lc.saved_ok:
            lc.notes.append(f"saved {lc.saved:,} bytes != autograd's {real_saved:,}")
        layers.append(lc)
    storages = {}
    for d in m.saved.values():
        storages.update(d)
    predicted = sum(l.predicted for l in layers)
    totals = {
        "train_flops": step.totals["train_flops"], "predicted_flopcounter": predicted,
        "flopcounter": m.flopcounter_total, "tool_overcount": predicted - step.totals["train_flops"],
        "saved_bytes": step.totals["saved_bytes"], "real_saved_bytes": sum(storages.values()),
        "ok": {"flopcounter": m.flopcounter_total == predicted,
               "saved": step.totals["saved_bytes"] == sum(storages.values())},
    }
    return TrainCheck(result, layers, totals, m.versions)


def train_check_dict(c: TrainCheck) -> dict:
    r = c.result
    return {"name": r.name, "file": r.file, "ok": c.ok, "batch": r.batch, "versions": c.versions,
            "totals": {k: (dict(v) if isinstance(v, dict) else v) for k, v in c.totals.items()},
            "layers": [{"name": l.name, "kind": l.kind, "train_flops": l.train_flops,
                        "flopcounter_predicted": l.predicted, "flopcounter": l.flopcounter,
                        "saved_bytes": l.saved, "real_saved_bytes": l.real_saved,
                        "tool_error": l.tool_error, "match": l.match, "notes": list(l.notes)}
                       for l in c.layers],
            "mismatches": [l.name for l in c.mismatches]}


def train_report_dict(checks) -> dict:
    return {"ok": all(c.ok for c in checks), "models": [train_check_dict(c) for c in checks]}
