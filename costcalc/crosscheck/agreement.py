"""Compare the analytic counts with a Measurement of the real model. Pure Python: no torch.

Every layer is checked against both tools under every convention:

- FlopCounterMode must report exactly 2 × the layer's MACs (it counts conv and matmul only);
- fvcore must report exactly the layer's fvcore figure (MACs, plus batchnorm, layernorm and
  adaptive average pooling, which its default handles count; 0 for a conv with pad 'same');
- the parameters must equal the sum of ``numel`` of the module's parameters (and fvcore's
  parameter_count), and the real output shape the inferred one.

The convention picks the unit every column is printed in, and which tool its figure is
claimed to reproduce (README, Conventions). Where a tool counts a layer that the convention
does not (fvcore on batchnorm under ``macs``), the columns differ by design and the row says
so; that is not a mismatch, because the tool still agrees exactly with costcalc's model of it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from costcalc.counting import conventions
from costcalc.counting.results import ModelResult
from costcalc.ops.base import with_batch

#: fvcore's figures as costcalc predicts them, dead code included (its jit trace drops it)
FVCORE = conventions.get("fvcore")


#: the claim each convention makes in the README's Conventions table: (text, check name)
CLAIMS = {
    "macs": [("MACs = FlopCounterMode ÷ 2", "flopcounter"),
             ("MACs = fvcore, on the layers where fvcore counts MACs", "fvcore_macs")],
    "flops": [("FLOPs = FlopCounterMode", "flopcounter"),
              ("FLOPs = 2 × fvcore, on the layers where fvcore counts MACs", "fvcore_macs")],
    # the causal convention halves what no tool halves: its checks are made on the full count
    "causal": [("2 × MACs = FlopCounterMode (which counts causal attention in full; the causal "
                "FLOPs halve it)", "flopcounter"),
               ("MACs = fvcore, on the layers where fvcore counts MACs", "fvcore_macs")],
    "fvcore": [("fvcore flops = fvcore FlopCountAnalysis", "fvcore"),
               ("fvcore flops = FlopCounterMode ÷ 2, on the layers where fvcore counts MACs",
                "fcm_macs")],
}


@dataclass
class LayerCheck:
    name: str
    kind: str
    ops: int  # the convention's analytic figure, batch included
    macs: int  # analytic MACs, batch included
    fvcore_expected: int  # what fvcore should report (its own unit), batch included
    params: int
    shape: tuple  # analytic output shape, batch first
    real_shape: tuple
    numel: int
    fvcore_params: int
    flopcounter: int  # FlopCounterMode FLOPs
    fvcore: int | None  # fvcore's count, None if fvcore was skipped
    skipped_ops: dict
    per_mac: int
    elementops: int = 0  # analytic element ops (not in MACs), batch included
    dead: bool = False  # its output never reaches the model output: fvcore's trace drops it
    notes: list = field(default_factory=list)

    @property
    def fvcore_counts_macs(self) -> bool:
        """fvcore's figure on this layer is its MACs (not batchnorm's or a pool's own count)."""
        return self.fvcore_expected == self.macs and not self.dead

    @property
    def flopcounter_ok(self) -> bool:
        return self.flopcounter == 2 * self.macs

    @property
    def fvcore_ok(self) -> bool | None:
        return None if self.fvcore is None else self.fvcore == self.fvcore_expected

    @property
    def params_ok(self) -> bool:
        return self.numel == self.params and self.fvcore_params == self.params

    @property
    def shape_ok(self) -> bool:
        return self.real_shape == self.shape

    @property
    def match(self) -> bool:
        return (self.flopcounter_ok and self.fvcore_ok is not False and self.params_ok
                and self.shape_ok)

    # the tools' figures in the convention's unit
    @property
    def flopcounter_ops(self) -> int:
        return self.flopcounter * self.per_mac // 2

    @property
    def fvcore_ops(self) -> int | None:
        """fvcore's figure in the convention's unit where it counts MACs; elsewhere (batchnorm,
        adaptive pool) its own count, which no MAC unit can express."""
        if self.fvcore is None:
            return None
        return self.fvcore * self.per_mac if self.fvcore_counts_macs else self.fvcore


@dataclass
class Claim:
    text: str
    layers: int  # layers the claim applies to
    layers_ok: int
    total_ok: bool | None  # None: not checkable (fvcore skipped)
    excluded: dict = field(default_factory=dict)  # kind -> layers it does not apply to
    has_total: bool = True  # False for a per-layer-only claim (shapes)

    @property
    def ok(self) -> bool | None:
        if self.total_ok is None:
            return None
        return self.total_ok and self.layers_ok == self.layers


@dataclass
class SkippedOp:
    op: str
    count: int
    layers: list  # spec paths where fvcore skipped it
    kinds: list
    free: bool  # the convention gives every one of those layers 0
    missed: int = 0  # the convention's count on those layers, which fvcore's figure lacks


@dataclass
class ModelCheck:
    result: ModelResult
    layers: list
    totals: dict
    claims: list
    skipped: list
    fvcore_note: str | None
    versions: dict

    @property
    def silent(self) -> dict:
        """Kinds fvcore ignores without a report: element ops, yet a 0 count and no skipped op.

        kind -> number of layers (fvcore's built-in ignore list has aten::relu, for example)."""
        out: dict[str, int] = {}
        for l in self.layers:
            if l.fvcore == 0 and l.elementops and not l.skipped_ops and not l.dead:
                out[l.kind] = out.get(l.kind, 0) + 1
        return out

    @property
    def convention(self):
        return self.result.convention

    @property
    def mismatches(self) -> list:
        return [l for l in self.layers if not l.match]

    @property
    def totals_ok(self) -> bool:
        return all(v is not False for v in self.totals["ok"].values())

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.totals_ok


def check_model(result: ModelResult, m) -> ModelCheck:
    """Compare an analyzed model (``result``, any convention) with a runner Measurement."""
    graph, n = result.graph, m.batch
    per_mac = result.convention.per_mac
    unit = result.convention.unit
    layers = []
    for node, lr in zip(graph.nodes, result.layers):
        cost, got = graph.costs[lr.name], m.layers[lr.name]
        dead = lr.name in graph.dead
        fv = FVCORE.layer_figure(lr.kind, node.args, graph.in_shapes(node), graph.shapes[lr.name],
                                 cost, dead)
        lc = LayerCheck(lr.name, lr.kind, lr.ops, cost.macs * n, fv * n,
                        lr.params, with_batch(lr.output, n), tuple(got.shape), got.numel,
                        got.fvcore_params, got.flopcounter, got.fvcore, dict(got.fvcore_skipped),
                        per_mac, lr.elementops, dead)
        _explain(lc, unit)
        layers.append(lc)
    totals = _totals(result, m, layers, per_mac)
    return ModelCheck(result, layers, totals, _claims(result, m, layers, totals),
                      _skipped(layers, m.fvcore_skipped),
                      m.fvcore_reason, m.versions)


def _explain(lc: LayerCheck, unit: str):
    """Notes for columns that differ by design, and for each failed check."""
    if lc.dead and lc.fvcore_ok:
        lc.notes.append("fvcore counts 0 here, as expected: its jit trace drops a layer whose "
                        "output never reaches the model output; FlopCounterMode runs it")
    elif lc.fvcore is not None and lc.fvcore_ok and lc.fvcore_ops > lc.ops:
        lc.notes.append(f"fvcore counts {lc.kind} ({lc.fvcore:,} fvcore flops); {unit} do not")
    elif lc.fvcore is not None and lc.fvcore_ok and lc.fvcore_ops < lc.ops:
        skipped = ", ".join(lc.skipped_ops) or "its ops"
        lc.notes.append(f"fvcore skips this {lc.kind} ({skipped}); {unit} count it")
    if lc.flopcounter_ok and lc.flopcounter_ops < lc.ops:
        lc.notes.append(f"FlopCounterMode does not count {lc.kind}")
    elif lc.flopcounter_ok and lc.flopcounter_ops > lc.ops:
        lc.notes.append(f"FlopCounterMode counts this {lc.kind}; {unit} do not")
    if not lc.flopcounter_ok:
        lc.notes.append(f"FlopCounterMode {lc.flopcounter:,} FLOPs != 2 × {lc.macs:,} MACs")
    if lc.fvcore_ok is False:
        lc.notes.append(f"fvcore {lc.fvcore:,} != expected {lc.fvcore_expected:,}")
    if lc.numel != lc.params:
        lc.notes.append(f"params {lc.params:,} != numel {lc.numel:,}")
    if lc.fvcore_params != lc.params:
        lc.notes.append(f"params {lc.params:,} != fvcore parameter_count {lc.fvcore_params:,}")
    if not lc.shape_ok:
        lc.notes.append(f"shape {list(lc.shape)} != real {list(lc.real_shape)}")


def _totals(result, m, layers, per_mac) -> dict:
    t = result.totals
    macs, fv_expected = t["macs"], sum(l.fvcore_expected for l in layers)
    fv_ran = m.fvcore_total is not None
    fv_other = sum(l.fvcore_expected for l in layers if not l.fvcore_counts_macs)
    return {
        "analytic": {"macs": t["ops"], "params": t["params"], "plain_macs": macs,
                     "fvcore_flops": fv_expected},
        # MAC layers scaled to the unit, fvcore's own extra counts (batchnorm, pools) as they are
        "fvcore": {"macs": (m.fvcore_total - fv_other) * per_mac + fv_other if fv_ran else None,
                   "params": m.fvcore_params_total, "raw": m.fvcore_total},
        "flopcounter": {"macs": m.flopcounter_total * per_mac // 2, "raw": m.flopcounter_total},
        "torch": {"params": m.numel_total},
        "ok": {
            # whole-model figures, so an op outside every layer's module cannot hide
            "flopcounter": m.flopcounter_total == 2 * macs,
            "fvcore": m.fvcore_total == fv_expected if fv_ran else None,
            "params": m.numel_total == t["params"] == m.fvcore_params_total,
        },
    }


def _claims(result, m, layers, totals) -> list:
    ok = totals["ok"]
    fv_ran = m.fvcore_total is not None
    checks = {
        "flopcounter": (layers, lambda l: l.flopcounter_ok, ok["flopcounter"]),
        "fvcore": (layers, lambda l: l.fvcore_ok, ok["fvcore"]),
        "fvcore_macs": ([l for l in layers if l.fvcore_counts_macs], lambda l: l.fvcore_ok,
                        ok["fvcore"]),
        "fcm_macs": ([l for l in layers if l.fvcore_counts_macs], lambda l: l.flopcounter_ok,
                     ok["flopcounter"]),
    }
    out = []
    for text, name in CLAIMS[result.convention.name]:
        subset, test, total_ok = checks[name]
        uses_fvcore = name.startswith("fvcore")
        inside = {id(l) for l in subset}
        excluded: dict[str, int] = {}
        for l in layers:
            if id(l) not in inside:
                key = "unreachable" if l.dead else l.kind
                excluded[key] = excluded.get(key, 0) + 1
        out.append(Claim(text, len(subset), sum(1 for l in subset if test(l)),
                         None if uses_fvcore and not fv_ran else total_ok, excluded,
                         has_total=not name.endswith("_macs")))
    out.append(Claim("params = sum of numel of each module's parameters = fvcore parameter_count",
                     len(layers), sum(1 for l in layers if l.params_ok), ok["params"]))
    out.append(Claim("output shape = the real forward's", len(layers),
                     sum(1 for l in layers if l.shape_ok), True, has_total=False))
    return out


def _skipped(layers, model_total: dict) -> list:
    """fvcore's skipped operators, and whether the convention gives their layers 0 anyway.

    Operators run outside every layer's module (none, in SpecModel) would be listed apart."""
    ops: dict[str, SkippedOp] = {}
    for l in layers:
        for op, count in l.skipped_ops.items():
            s = ops.setdefault(op, SkippedOp(op, 0, [], [], True))
            s.count += count
            s.layers.append(l.name)
            if l.kind not in s.kinds:
                s.kinds.append(l.kind)
            s.free = s.free and l.ops == 0
            s.missed += l.ops
    for op, count in model_total.items():
        s = ops.setdefault(op, SkippedOp(op, 0, [], [], True))
        if count > s.count:
            s.layers.append(f"(outside every layer: {count - s.count})")
            s.count = count
    return sorted(ops.values(), key=lambda s: (-s.count, s.op))


def layer_dict(l: LayerCheck) -> dict:
    return {
        "name": l.name, "kind": l.kind,
        "analytic": {"macs": l.ops, "params": l.params, "shape": list(l.shape),
                     "plain_macs": l.macs, "fvcore_flops": l.fvcore_expected},
        "fvcore": {"macs": l.fvcore_ops, "params": l.fvcore_params, "raw": l.fvcore,
                   "ok": l.fvcore_ok, "skipped_ops": dict(l.skipped_ops)},
        "flopcounter": {"macs": l.flopcounter_ops, "raw": l.flopcounter, "ok": l.flopcounter_ok},
        "torch": {"params": l.numel, "shape": list(l.real_shape)},
        "shape_ok": l.shape_ok, "params_ok": l.params_ok, "match": l.match, "notes": list(l.notes),
    }


def model_dict(c: ModelCheck) -> dict:
    """The JSON contract of `costcalc verify --format json` for one model.

    Every ``macs`` figure is in the convention's ``unit`` (MACs, FLOPs or fvcore flops);
    ``raw`` is the tool's own number, ``plain_macs`` always multiply-accumulates (conv, linear,
    matmul, attention: the macs convention's figure, whatever the run's convention).
    """
    r = c.result
    return {
        "name": r.name, "file": r.file, "ok": c.ok, "convention": r.convention.name,
        "unit": r.convention.unit, "batch": r.batch, "versions": dict(c.versions),
        "fvcore_ran": c.fvcore_note is None, "fvcore_note": c.fvcore_note,
        "layers": [layer_dict(l) for l in c.layers],
        "totals": {k: dict(v) for k, v in c.totals.items()},
        "claims": [{"claim": cl.text, "layers": cl.layers, "layers_ok": cl.layers_ok,
                    "total_ok": cl.total_ok, "ok": cl.ok,
                    "not_applicable_to": cl.excluded} for cl in c.claims],
        "skipped_ops": [{"op": s.op, "count": s.count, "layers": s.layers, "kinds": s.kinds,
                         "free_by_convention": s.free, "missed": s.missed} for s in c.skipped],
        "fvcore_ignored_silently": c.silent,
        "mismatches": [l.name for l in c.mismatches],
    }


def report_dict(checks: list) -> dict:
    return {"ok": all(c.ok for c in checks), "models": [model_dict(c) for c in checks]}
