"""Measure the real PyTorch model of a graph: torch and fvcore are imported here and only here.

- FlopCounterMode, output shapes and parameter numel come from one forward pass on the meta
  device: no weights and no activations are ever allocated, whatever the model's size.
- fvcore traces with torch.jit, which fails on meta convolutions, so it runs on CPU tensors
  (``to_empty(device="cpu")``: uninitialised, never filled) only when the model's parameters
  and activations fit under ``fvcore_limit`` bytes; above it fvcore is skipped and the
  report says so.
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

from costcalc.errors import CostcalcError
from costcalc.ops.base import numel, with_batch
#: fvcore runs only when float32 parameters + activations (at the batch) fit in this many bytes
FVCORE_LIMIT = DEFAULT_FVCORE_LIMIT = 1 << 30  # 1 GiB

#: a model with more layers than this is refused: building it as nn.Modules would itself be heavy
MAX_LAYERS = 100_000
#: elements in any one tensor (a weight, the input or an output, at the batch): torch counts a
#: tensor's bytes in an int64, so even a meta tensor over 2**63 bytes cannot be made
MAX_TENSOR_NUMEL = 2**60
FLOAT32 = 4


@dataclass
class LayerMeasure:
    """What the real model says about one spec layer (batch included in counts and shape)."""

    shape: tuple  # real output shape, batch first
    numel: int  # sum of numel of the module's parameters
    flopcounter: int  # FlopCounterMode's FLOPs (2 per multiply-accumulate)
    fvcore_params: int  # fvcore.nn.parameter_count
    fvcore: int | None = None  # fvcore FlopCountAnalysis.by_module, None if fvcore was skipped
    fvcore_skipped: dict = field(default_factory=dict)  # operator -> times fvcore skipped it


@dataclass
class Measurement:
    batch: int
    layers: dict  # spec path -> LayerMeasure
    flopcounter_total: int
    numel_total: int
    fvcore_params_total: int
    fvcore_total: int | None
    fvcore_skipped: dict  # operator -> count, whole model
    fvcore_reason: str | None  # why fvcore did not run, or None
    fvcore_bytes: int  # the estimate compared against the limit
    fvcore_limit: int
    versions: dict


def fvcore_bytes(graph, batch: int) -> int:
    """float32 bytes fvcore's CPU trace needs at least: parameters plus every activation."""
    params = sum(c.params for c in graph.costs.values())
    acts = numel(graph.spec.input) + sum(numel(graph.shapes[node.path]) for node in graph.nodes)
    return FLOAT32 * (params + batch * acts)


def _import_fvcore():
    with warnings.catch_warnings():  # fvcore's imports emit DeprecationWarnings (iopath, pkg_resources)
        warnings.simplefilter("ignore", DeprecationWarning)
        import fvcore
        from fvcore.nn import FlopCountAnalysis, parameter_count
    for name in ("fvcore", "fvcore.nn.jit_analysis"):
        logging.getLogger(name).setLevel(logging.ERROR)  # skipped-op warnings: we report them ourselves
    return fvcore, FlopCountAnalysis, parameter_count


def build(graph, device: str):
    """The model, or a CostcalcError naming the layer that has no torch equivalent."""
    from costcalc.crosscheck import model as torchmodel

    if len(graph.nodes) > MAX_LAYERS:
        raise CostcalcError(f"too large to verify: {len(graph.nodes):,} layers (the limit is "
                            f"{MAX_LAYERS:,}); the analytic counts need no torch model",
                            file=graph.spec.file)
    try:
        return torchmodel.build_model(graph, device=device)
    except NotImplementedError as exc:
        raise CostcalcError(f"cannot build the torch model: {exc}", file=graph.spec.file) from None


def _forward_meta(graph, model, batch):
    """One forward on meta under FlopCounterMode: per-module FLOPs and every output shape."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from costcalc.crosscheck.model import example_input

    x = example_input(graph, batch, device="meta")
    counter = FlopCounterMode(display=False)
    try:
        with warnings.catch_warnings(), torch.no_grad(), counter:
            warnings.simplefilter("ignore")  # torch's performance notes (e.g. even-kernel 'same')
            values = model(x, return_all=True)  # the root must be called: it names the modules
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        msg = " ".join(str(exc).split())[:300]
        layer, disagree = _failing_layer(graph, model, x)
        if disagree:
            msg += f" (an earlier shape disagrees: {disagree})"
        raise CostcalcError(f"the torch model fails to run: {type(exc).__name__}: {msg}",
                            file=graph.spec.file, layer=layer) from None
    counts = counter.get_flop_counts()
    prefix = type(model).__name__ + "."
    per_layer = {node.path: sum(counts.get(prefix + model.names[node.path], {}).values())
                 for node in graph.nodes}
    total = sum(counts.get("Global", {}).values())
    shapes = {node.path: real_shape(values[node.path]) for node in graph.nodes}
    return per_layer, total, shapes


def real_shape(value) -> tuple:
    """A module output's shape, batch first; a tuple of shapes for several outputs."""
    if isinstance(value, (tuple, list)):
        return tuple(tuple(v.shape) for v in value)
    return tuple(value.shape)


def _failing_layer(graph, model, x):
    """Rerun the layers one by one (meta, no counting): the failing layer's path, and the first
    layer before it whose real output shape differs from the inferred one (or '')."""
    values, disagree = {"input": x}, ""
    for node in graph.nodes:
        try:
            out = values[node.path] = model.get_submodule(model.names[node.path])(
                *[values[p] for p in node.inputs])
        except Exception:  # noqa: BLE001 - any failure names this layer
            return node.path, disagree
        if isinstance(out, tuple):
            values.update((f"{node.path}.{i}", o) for i, o in enumerate(out))
        real = real_shape(out)
        inferred = with_batch(graph.shapes[node.path], real[0][0] if isinstance(out, tuple) else real[0])
        if real != inferred and not disagree:
            unbatched = lambda sh: [list(o[1:]) for o in sh] if isinstance(out, tuple) else list(sh[1:])  # noqa: E731
            disagree = f"layer '{node.path}' inferred {unbatched(inferred)}, real {unbatched(real)}"
    return None, disagree


def _fvcore_cpu(graph, model, batch, FlopCountAnalysis):
    """fvcore's per-module counts and skipped operators, traced on uninitialised CPU tensors."""
    import torch

    from costcalc.crosscheck.model import example_input

    cpu = model.to_empty(device="cpu")
    cpu.tie_weights(graph)  # to_empty gives each module its own copy of a shared weight
    x = example_input(graph, batch, device="cpu")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings; fvcore's own are turned off below
        analysis = FlopCountAnalysis(cpu, x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        analysis.tracer_warnings("none")
        by_module = analysis.by_module()
        skipped = {node.path: dict(analysis.unsupported_ops(cpu.names[node.path]))
                   for node in graph.nodes}
        total = analysis.total()
        skipped_total = dict(analysis.unsupported_ops())
    per_layer = {node.path: _int(by_module.get(cpu.names[node.path], 0)) for node in graph.nodes}
    return per_layer, _int(total), skipped, skipped_total


def _int(v) -> int:
    """fvcore's handles may return floats; an exact count must be a whole number."""
    if isinstance(v, float):
        if not v.is_integer():
            raise ValueError(f"fvcore returned a fractional count {v}")
        return int(v)
    return int(v)


def check_tensor_sizes(graph, batch: int):
    """A CostcalcError naming the first tensor torch cannot hold, even on the meta device."""
    sizes = [("input", "the input", batch * numel(graph.spec.input))]
    for node in graph.nodes:
        cost = graph.costs[node.path]
        sizes += [(node.path, "its weight", cost.weights),
                  (node.path, "its output", batch * numel(graph.shapes[node.path]))]
    for path, what, n in sizes:
        if n > MAX_TENSOR_NUMEL:
            line, col = next(((nd.pos or (None, None)) for nd in graph.nodes if nd.path == path), (None, None))
            raise CostcalcError(f"too large to verify: {what} has {n:,} elements, over torch's "
                                f"limit of 2**60 per tensor; the analytic counts are exact",
                                file=graph.spec.file, line=line, column=col,
                                layer=path if path != "input" else None)


def measure(graph, batch: int = 1, fvcore_limit: int = FVCORE_LIMIT) -> Measurement:
    """Build the graph's model and measure it with FlopCounterMode (meta) and fvcore (CPU)."""
    import torch

    check_tensor_sizes(graph, batch)

    fvcore, FlopCountAnalysis, parameter_count = _import_fvcore()

    model = build(graph, "meta")
    flops, flop_total, shapes = _forward_meta(graph, model, batch)
    fv_params = parameter_count(model)  # numel only: works on meta
    seen: set = set()  # a tied weight belongs to the first layer that holds it

    def owned(path):
        params = [p for p in model.get_submodule(model.names[path]).parameters() if id(p) not in seen]
        seen.update(id(p) for p in params)
        return sum(p.numel() for p in params)

    numels = {node.path: owned(node.path) for node in graph.nodes}
    numel_total = sum(p.numel() for p in model.parameters())  # before to_empty, which unties
    need = fvcore_bytes(graph, batch)
    fv = fv_total = None
    skipped, skipped_total, reason = {}, {}, None
    if need > fvcore_limit:
        reason = (f"fvcore not run: its trace needs real CPU tensors, about {need:,} bytes of "
                  f"parameters and activations, over the {fvcore_limit:,}-byte limit")
    else:
        try:
            fv, fv_total, skipped, skipped_total = _fvcore_cpu(graph, model, batch, FlopCountAnalysis)
        except (AssertionError, RuntimeError) as exc:  # e.g. its layer_norm handle: rank 2 to 5
            msg = " ".join(str(exc).split())[:200]
            fv = fv_total = None
            skipped, skipped_total = {}, {}
            deep = [(n.path, len(graph.in_shapes(n)[0]) + 1) for n in graph.nodes
                    if n.kind.name == "layernorm" and len(graph.in_shapes(n)[0]) > 4]
            hint = (f"; fvcore 0.1.5's layer_norm handle takes tensors of rank 2 to 5 only, batch "
                    f"included, and layer '{deep[0][0]}' gets rank {deep[0][1]}" if deep else "")
            reason = (f"fvcore not run: its analysis fails on this model ({type(exc).__name__}: "
                      f"{msg}){hint}")
    layers = {
        node.path: LayerMeasure(shapes[node.path], numels[node.path], flops[node.path],
                                # fvcore counts a tied weight under every module holding it
                                0 if node.path in getattr(graph, "ties", {}) else
                                int(fv_params.get(model.names[node.path], 0)),
                                None if fv is None else fv[node.path], skipped.get(node.path, {}))
        for node in graph.nodes
    }
    return Measurement(batch, layers, flop_total, numel_total,
                       int(fv_params.get("", 0)), fv_total, skipped_total, reason, need, fvcore_limit,
                       {"torch": torch.__version__, "fvcore": getattr(fvcore, "__version__", "?")})
