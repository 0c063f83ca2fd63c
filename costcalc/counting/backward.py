"""Backward rules keyed by kind: the MACs of the backward pass and the tensors autograd saves. Pure.

Two rules per kind, keyed by its name as the tool conventions are (counting/conventions.py):

- a **backward rule**: (args, input shapes, output shape, Cost, needs) → ``Backward``, the MACs
  of the gradients with respect to the layer's inputs (``grad_input``: only of the inputs that
  need one, ``needs[i]``; none for a layer fed only by the model input, or by layers with no
  trainable weights before them) and to its weights (``grad_weight``, as if asked for; the
  graph drops it where the layer has no trainable weights);
- a **saved rule**: (args, input shapes, output shape, batch) → the tensors autograd saves for
  the backward pass: one of the layer's inputs (``inp(i)``), its output (``out()``) or a tensor
  of its own (``own(elements, itemsize)``: max pool's int64 indices, batch norm's statistics).

A view (flatten, identity, split, chunk) shares its input's storage, so a tensor saved by two
layers, or a view of it, is held once: the total dedupes saved tensors by the storage they
belong to, as ``torch.autograd.graph.saved_tensors_hooks`` sees them
(``tensor.untyped_storage()``). Weights saved for the backward pass (conv's and linear's) are
the weights themselves, counted in weight memory, not here.
"""
from __future__ import annotations

from dataclasses import dataclass

from costcalc.errors import CostcalcError
from costcalc.ops.base import Cost, numel
from costcalc.registry import Registry


@dataclass(frozen=True)
class Backward:
    """MACs of one layer's backward pass for one sample."""

    grad_input: int = 0
    grad_weight: int = 0


@dataclass(frozen=True)
class Saved:
    """One tensor saved for backward: ``ref`` is "input" (with ``index``), "output", or None
    for a tensor of the layer's own of ``elements`` elements of ``itemsize`` bytes (None: the
    activation dtype's); ``batched``: ``elements`` is per sample."""

    ref: str | None
    index: int = 0
    elements: int = 0
    itemsize: int | None = None
    batched: bool = True


def inp(i: int = 0) -> Saved:
    return Saved("input", i)


def out() -> Saved:
    return Saved("output")


def own(elements: int, itemsize: int | None = None, batched: bool = True) -> Saved:
    return Saved(None, elements=elements, itemsize=itemsize, batched=batched)


BACKWARD = Registry("backward rule")
SAVED = Registry("saved-tensor rule")
#: kinds whose output is a view of their first input (same storage); their saved rule is none.
#: reshape is one too unless its input went through a permute (then torch copies)
VIEWS = {"flatten", "identity", "split", "chunk", "permute", "reshape"}
INT64, FLOAT32 = 8, 4


def _no_macs(a, inputs, o, cost, needs):
    """no MACs: its gradient is element-wise, a copy or an index-add (embedding), not a product"""
    return Backward()


def _same_as_forward(a, inputs, o, cost, needs):
    """grad_input = forward MACs (a transposed conv or a matrix product of the same size);
    grad_weight = forward MACs"""
    return Backward(cost.macs if needs[0] else 0, cost.macs)


def _matmul(a, inputs, o, cost, needs):
    """dX = dY·Yᵀ and dY' = Xᵀ·dY, each the forward's MACs, for each input that needs one"""
    return Backward(cost.macs * (needs[0] + needs[1]))


def _attention(a, inputs, o, cost, needs):
    """dV = Pᵀ·dO for v; dP = dO·Vᵀ, then dQ = dS·K and dK = dSᵀ·Q for q and k: H·T·S·Dh MACs
    each (the forward's two products are 2·H·T·S·Dh), so 2 × forward with all three"""
    one = cost.macs // 2
    q, k, v = needs
    return Backward(one * (v + (q or k) + q + k))


BACKWARD.add("conv", _same_as_forward)
BACKWARD.add("linear", _same_as_forward)
BACKWARD.add("matmul", _matmul)
BACKWARD.add("attention", _attention)


def _nothing(a, inputs, o, n):
    """nothing"""
    return ()


def _input(a, inputs, o, n):
    """its input"""
    return (inp(0),)


def _output(a, inputs, o, n):
    """its output"""
    return (out(),)


def _maxpool(a, inputs, o, n):
    """its input and the int64 index of each output element's maximum"""
    return (inp(0), own(numel(o), INT64))


def _batchnorm(a, inputs, o, n):
    """its input and the batch mean and inverse std of each channel (float32, per batch)"""
    return (inp(0), own(2 * inputs[0][0], FLOAT32, batched=False))


def _layernorm(a, inputs, o, n):
    """its input and the mean and inverse std of each normalised position (float32)"""
    x = inputs[0]
    return (inp(0), own(2 * (numel(x) // x[x.axis(a["axis"])]), FLOAT32))


def _lrn(a, inputs, o, n):
    """its input, the channel-padded square (C + size - 1)·H·W that avg_pool3d reads, and
    the two C·H·W tensors of pow(k + alpha·avg, beta): its base and its result
    (torch.nn.functional.local_response_norm)"""
    c, h, w = inputs[0]
    return (inp(0), own((c + a["size"] - 1) * h * w), own(c * h * w), own(c * h * w))


def _adaptive(a, inputs, o, n):
    """its input; nothing for a 1×1 output (torch computes it as a mean)"""
    return () if tuple(a["out"]) == (1, 1) else (inp(0),)


def _dropout(a, inputs, o, n):
    """its mask, one element per output element in the activation dtype (torch's CPU and meta
    dropout: input * noise; CUDA's fused dropout keeps a 1-byte bool mask instead)"""
    return (own(numel(o)),) if a["p"] > 0 else ()


def _stochastic_depth(a, inputs, o, n):
    """its keep mask: one element per sample (mode row) or one in all (mode batch)"""
    if a["p"] == 0:
        return ()
    return (own(1, batched=a["mode"] == "row"),)


def _mul(a, inputs, o, n):
    """both inputs"""
    return (inp(0), inp(1))


def _embedding(a, inputs, o, n):
    """its int64 indices: the ids it looks up (one per token), or the T positions (0..T-1 or
    zeros) it makes once for the batch"""
    t = inputs[0][0]
    return (own(numel(inputs[0]) if a["lookup"] == "ids" else t, INT64,
                batched=a["lookup"] == "ids"),)


def _attention_saved(a, inputs, o, n):
    """torch's math path (what the meta device and a CPU without a fused kernel run): q and k
    each scaled by 1/√√Dh (new H·T·Dh and H·S·Dh tensors, k repeated to the H query heads), the
    attention probabilities H·T·S, and v: its input, or repeated to H heads (new) for GQA. A
    fused flash kernel (CUDA) keeps q, k, v, its output and a log-sum-exp per row instead"""
    (h, t, dh), (kv, s, _) = inputs[0], inputs[1]
    v = inp(2) if kv == h else own(h * s * dh)
    return (own(h * t * dh), own(h * s * dh), own(h * t * s), v)


def _rmsnorm(a, inputs, o, n):
    """its input, the float32 inverse root mean square of each position and the normalised
    input before the scale (torch.nn.RMSNorm's composite: x * rsqrt(mean(x²) + eps), then × weight)"""
    x = inputs[0]
    return (inp(0), own(numel(x) // x[x.axis(a["axis"])], FLOAT32), own(numel(x)))


for _kind, _rule in (
    ("conv", _input), ("linear", _input), ("batchnorm", _batchnorm), ("lrn", _lrn),
    ("layernorm", _layernorm), ("layer_scale", _input),
    ("relu", _output), ("sigmoid", _output), ("tanh", _output), ("softmax", _output),
    ("relu6", _input), ("hardtanh", _input), ("hardswish", _input), ("hardsigmoid", _input),
    ("silu", _input), ("gelu", _input),
    ("maxpool", _maxpool), ("avgpool", _input), ("adaptive_avgpool", _adaptive),
    ("global_avgpool", _nothing),
    ("add", _nothing), ("concat", _nothing), ("mul", _mul),
    ("flatten", _nothing), ("identity", _nothing), ("split", _nothing), ("chunk", _nothing),
    ("channel_shuffle", _nothing), ("pad_channels", _nothing),
    ("dropout", _dropout), ("stochastic_depth", _stochastic_depth),
    ("embedding", _embedding), ("parameter", _nothing), ("reshape", _nothing), ("permute", _nothing),
    ("scale", _nothing), ("rope", _nothing), ("matmul", _mul), ("attention", _attention_saved),
    ("rmsnorm", _rmsnorm),
    # a placeholder for an op with no kind counts 0 both ways and passes the gradient on
    ("opaque", _nothing),
):
    SAVED.add(_kind, _rule)


def backward_rule(kind: str):
    """The backward rule of a kind: MAC-free kinds have none of their own."""
    return BACKWARD.get(kind, _no_macs)


def saved_rule(kind: str):
    rule = SAVED.get(kind)
    if rule is None:
        raise CostcalcError(f"layer kind '{kind}' has no saved-tensor rule, so its training "
                            f"memory is unknown; kinds with one: {', '.join(sorted(SAVED))}")
    return rule


def check_rules(kinds) -> None:
    """A CostcalcError naming every kind (of ``kinds``) with a forward MAC rule but no
    backward rule, or with no saved-tensor rule: never a silent zero."""
    from costcalc import ops

    missing = sorted(k for k in kinds if k not in SAVED
                     or (ops.get(k).macs_rule != "0" and k not in BACKWARD))
    if missing:
        raise CostcalcError(f"no training rule for layer kind(s) {', '.join(missing)}")


# -- what FlopCounterMode counts for a backward pass (a tool's rule, keyed by kind) ----------

def _flopcounter_conv(a, b: Backward) -> int:
    """2 × grad-input MACs + 2 × groups × grad-weight MACs: torch 2.13's conv_backward_flop
    counts the weight gradient as conv_flop_count(x.T, grad_out.T, grad_weight.T), whose
    c_out × c_in is out × in channels, not out × in / groups, so a grouped (or depthwise)
    conv's weight gradient is counted ``groups`` times"""
    return 2 * b.grad_input + 2 * a["groups"] * b.grad_weight


FLOPCOUNTER_BACKWARD = Registry("FlopCounterMode backward rule")
FLOPCOUNTER_BACKWARD.add("conv", _flopcounter_conv)


def flopcounter_backward(kind: str, a: dict, b: Backward) -> int:
    """FlopCounterMode's FLOPs for a layer's backward of ``b`` MACs (2 per MAC, unless a rule of
    its own says otherwise)."""
    rule = FLOPCOUNTER_BACKWARD.get(kind)
    return rule(a, b) if rule else 2 * (b.grad_input + b.grad_weight)
