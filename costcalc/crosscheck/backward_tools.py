"""Measure one training step of the real model on the meta device (imports torch).

Forward plus ``loss.backward()``, with ``loss`` the sum of every output's sum, in train mode,
under FlopCounterMode and ``torch.autograd.graph.saved_tensors_hooks``:

- FLOPs per layer: FlopCounterMode's module tracker attributes backward ops loosely (a conv's
  backward can land on the add after it), so each op is attributed here by the autograd node
  that runs it: every node a layer's forward creates is that layer's, and a pre-hook on the
  node marks the layer while its backward runs. FlopCounterMode's own ``Global`` total is
  kept beside it, so nothing outside the layers can hide.
- Saved tensors per layer: each tensor the pack hook sees while a layer's forward runs,
  deduplicated by its storage (``untyped_storage()``: a view shares its base's) and counted
  at the storage's bytes; parameters and buffers (a conv's weight, batch norm's running
  statistics) are weights, not activations, and are left out.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

from costcalc.crosscheck.tools import build, check_tensor_sizes
from costcalc.errors import CostcalcError


@dataclass
class StepMeasure:
    batch: int
    forward: dict  # layer path -> FlopCounterMode FLOPs of its forward ops
    backward: dict  # layer path -> FLOPs of its backward ops
    backward_ops: dict  # layer path -> {op name: FLOPs} of its backward
    saved: dict  # layer path -> {storage key: bytes}
    flopcounter_total: int  # FlopCounterMode's Global, forward + backward
    versions: dict


def _counter_class():
    from torch.utils.flop_counter import FlopCounterMode

    class LayerFlops(FlopCounterMode):
        """FlopCounterMode that also adds each op's FLOPs to the layer marked current."""

        def __init__(self):
            super().__init__(display=False)
            self.current = [None, "forward"]  # layer path, pass
            self.layers = {}

        def _count_flops(self, func_packet, out, args, kwargs):
            if func_packet in self.flop_registry:
                n = self.flop_registry[func_packet](*args, **kwargs, out_val=out)
                ops = self.layers.setdefault(tuple(self.current), {})
                op = str(func_packet).rpartition(".")[2]  # aten.mm → mm
                ops[op] = ops.get(op, 0) + n
            return super()._count_flops(func_packet, out, args, kwargs)

    return LayerFlops


def _claim_nodes(fn, path, owner, counter):
    """Give ``path`` every autograd node reachable from ``fn`` that no layer owns yet."""
    stack = [fn]
    while stack:
        f = stack.pop()
        if f is None or f in owner:
            continue
        owner[f] = path
        f.register_prehook(lambda grads, p=path: counter.current.__setitem__(slice(None), [p, "backward"]))
        stack.extend(g for g, _ in f.next_functions)


def measure_step(graph, batch: int = 1) -> StepMeasure:
    import torch

    from costcalc.crosscheck.model import example_input

    check_tensor_sizes(graph, batch)
    from costcalc.counting.training import frozen_paths

    model = build(graph, "meta").train()
    for path in frozen_paths(graph):  # the spec's frozen: layers train no weight
        model.get_submodule(model.names[path]).requires_grad_(False)
    counter = _counter_class()()
    weights = {t.untyped_storage()._cdata for t in list(model.parameters()) + list(model.buffers())}
    keep, saved, owner = [], {}, {}

    def pack(t):
        keep.append(t)  # alive until the end: no storage key is reused
        path = counter.current[0]
        st = t.untyped_storage()
        if st._cdata not in weights and path is not None:
            saved.setdefault(path, {})[st._cdata] = st.nbytes()
        return t

    for node in graph.nodes:
        mod = model.get_submodule(model.names[node.path])
        mod.register_forward_pre_hook(
            lambda m, a, p=node.path: counter.current.__setitem__(slice(None), [p, "forward"]))

        def claim(m, a, out, p=node.path):
            for o in out if isinstance(out, tuple) else (out,):
                if o.grad_fn is not None:
                    _claim_nodes(o.grad_fn, p, owner, counter)
        mod.register_forward_hook(claim)
    x = example_input(graph, batch, device="meta")
    outputs = graph.outputs
    try:
        with warnings.catch_warnings(), counter, torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            warnings.simplefilter("ignore")
            values = model(x, return_all=True)
            counter.current[:] = [None, "loss"]
            loss = sum(values[o].sum() for o in outputs)
            if loss.requires_grad:  # else no layer has a trainable weight: nothing to train
                loss.backward()
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        msg = " ".join(str(exc).split())[:300]
        raise CostcalcError(f"the torch model fails to train: {type(exc).__name__}: {msg}",
                            file=graph.spec.file) from None
    layers = counter.layers
    fwd = {n.path: sum(layers.get((n.path, "forward"), {}).values()) for n in graph.nodes}
    bwd = {n.path: sum(layers.get((n.path, "backward"), {}).values()) for n in graph.nodes}
    ops = {n.path: dict(layers.get((n.path, "backward"), {})) for n in graph.nodes}
    total = sum(counter.get_flop_counts().get("Global", {}).values())
    return StepMeasure(batch, fwd, bwd, ops, {n.path: saved.get(n.path, {}) for n in graph.nodes},
                       total, {"torch": torch.__version__})
