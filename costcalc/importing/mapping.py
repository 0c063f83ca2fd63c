"""Torch targets → layer kinds: one registry keyed by the torch target (a module class, a
function such as ``torch.cat`` or ``operator.add``, or a tensor method's name such as
``"Tensor.view"``), refusing duplicates like costcalc/registry.py.

A mapping gets a ``Call`` (the fx node, its module, the shapes of its tensor inputs and output
without the batch) and returns the layers it becomes, ``[(kind, args), ...]`` in a chain, or
``ALIAS`` when its output is its first input (``x.contiguous()``); it raises ``Unsupported``
when this use of the target has no kind. Arguments come from the module's attributes and from
torch's own output shapes, so ``x.view(x.size(0), -1)`` is a flatten because its output is.
"""
from __future__ import annotations

import operator

import torch
import torch.nn.functional as F
from torch import nn

from costcalc.crosscheck import modules as cc
from costcalc.importing.structure import Tie
from costcalc.registry import Registry

MAPPINGS = Registry("torch op mapping")
ALIAS = "alias"
_MISSING = object()


class Unsupported(Exception):
    """This use of a known target has no kind (the message says why)."""


def maps(*targets):
    def deco(fn):
        for t in targets:
            MAPPINGS.add(t, fn)
        return fn
    return deco


def key_of(node, module=None):
    """The registry key of an fx node: its module's class, its function, or "Tensor.NAME"."""
    if node.op == "call_module":
        return type(module)
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    if node.op == "get_attr":
        return "get_attr"
    return node.target


def describe_key(key) -> str:
    """``torch.nn.LSTM``, ``torch.sin``, ``operator.sub``, ``Tensor.unfold``."""
    if key == "get_attr":
        return "a parameter or buffer read in forward"
    if isinstance(key, str):
        return key
    module = getattr(key, "__module__", None) or ""
    name = getattr(key, "__qualname__", None) or getattr(key, "__name__", None) or repr(key)
    if module.startswith("torch.nn.modules") or (module.startswith("torch.nn.") and isinstance(key, type)):
        module = "torch.nn"
    elif module in ("_operator", "operator"):
        module = "operator"
    elif module.startswith("torch._C") or module == "" or name.startswith("_VariableFunctions"):
        module, name = "torch", getattr(key, "__name__", name)
    return f"{module}.{name}" if module else name


class Call:
    """One fx node as a mapping sees it."""

    def __init__(self, node, module, ins, out, tie=None):
        self.node, self.module, self.ins, self.out = node, module, ins, out
        self.tie = tie  # the id of the embedding layer whose weight is this module's

    def arg(self, i, name, default=_MISSING):
        """Argument ``i`` (the tensor itself is 0, for methods too) or keyword ``name``."""
        args = self.node.args
        if i < len(args):
            return args[i]
        if name in self.node.kwargs:
            return self.node.kwargs[name]
        if default is _MISSING:
            raise Unsupported(f"needs its argument '{name}'")
        return default

    def number(self, value):
        """A constant number among the arguments (one computed from shapes too), else None."""
        if isinstance(value, torch.fx.Node):
            value = value.meta.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return value

    def axis(self, dim, shape=None) -> int:
        """A torch dim (the batch is 0) as costcalc's axis index (the batch excluded)."""
        rank = len(shape if shape is not None else self.ins[0]) + 1
        if not isinstance(dim, int) or not -rank <= dim < rank:
            raise Unsupported(f"its dim {dim!r} is not a constant dim")
        d = dim % rank
        if d == 0:
            raise Unsupported("it works along the batch axis")
        return d - 1


def _pair(v):
    v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    return v[0] if v[0] == v[1] else [v[0], v[1]]


def _plain(name, **args):
    return [(name, args)]


# -- modules ------------------------------------------------------------------------------------

@maps(nn.Conv2d)
def _conv(c):
    m = c.module
    pad = m.padding if isinstance(m.padding, str) else _pair(m.padding)
    if pad == "valid":
        pad = 0
    return _plain("conv", out=m.out_channels, kernel=_pair(m.kernel_size), stride=_pair(m.stride),
                  pad=pad, dilation=_pair(m.dilation), groups=m.groups, bias=m.bias is not None)


@maps(nn.Linear)
def _linear(c):
    args = {"out": c.module.out_features, "bias": c.module.bias is not None}
    if c.tie is not None:  # its weight is an embedding's table: counted once, there
        from costcalc import ops

        if "tie" not in ops.get("linear").args:
            raise Unsupported("its weight is an embedding's (tied), and linear has no 'tie'")
        args["tie"] = Tie(c.tie)
    return [("linear", args)]


@maps(nn.BatchNorm2d)
def _batchnorm(c):
    return _plain("batchnorm", eps=c.module.eps, affine=c.module.affine)


def _no_args(kind):
    return lambda c: _plain(kind)


for _cls, _kind in ((nn.ReLU, "relu"), (nn.ReLU6, "relu6"), (nn.Sigmoid, "sigmoid"),
                    (nn.Tanh, "tanh"), (nn.Hardswish, "hardswish"), (nn.Hardsigmoid, "hardsigmoid"),
                    (nn.SiLU, "silu"), (nn.Identity, "identity")):
    MAPPINGS.add(_cls, _no_args(_kind))


@maps(nn.Hardtanh)
def _hardtanh(c):
    return _plain("hardtanh", min_val=float(c.module.min_val), max_val=float(c.module.max_val))


@maps(nn.GELU)
def _gelu(c):
    return _plain("gelu", approximate=c.module.approximate)


@maps(nn.Softmax)
def _softmax(c):
    if c.module.dim is None:
        raise Unsupported("its dim is not given")
    return _plain("softmax", axis=c.axis(c.module.dim))


@maps(nn.Dropout, nn.Dropout2d)
def _dropout(c):
    return _plain("dropout", p=float(c.module.p))


@maps(nn.MaxPool2d)
def _maxpool(c):
    m = c.module
    if m.return_indices:
        raise Unsupported("it returns indices")
    return _plain("maxpool", kernel=_pair(m.kernel_size), stride=_pair(m.stride or m.kernel_size),
                  pad=_pair(m.padding), dilation=_pair(m.dilation), ceil=bool(m.ceil_mode))


@maps(nn.AvgPool2d)
def _avgpool(c):
    m = c.module
    return _plain("avgpool", kernel=_pair(m.kernel_size), stride=_pair(m.stride or m.kernel_size),
                  pad=_pair(m.padding), ceil=bool(m.ceil_mode),
                  count_include_pad=bool(m.count_include_pad))


def _adaptive(c):
    h, w = c.out[1], c.out[2]
    if (h, w) == (1, 1):
        return _plain("global_avgpool")
    return _plain("adaptive_avgpool", out=_pair((h, w)))


MAPPINGS.add(nn.AdaptiveAvgPool2d, _adaptive)
MAPPINGS.add(F.adaptive_avg_pool2d, _adaptive)


@maps(nn.LocalResponseNorm)
def _lrn(c):
    m = c.module
    return _plain("lrn", size=m.size, alpha=float(m.alpha), beta=float(m.beta), k=float(m.k))


@maps(nn.LayerNorm)
def _layernorm(c):
    m = c.module
    if len(m.normalized_shape) != 1:
        raise Unsupported("it normalises more than one axis")
    if m.elementwise_affine and m.bias is None:
        raise Unsupported("it has a weight but no bias")
    return _plain("layernorm", axis=-1, eps=float(m.eps), affine=bool(m.elementwise_affine))


@maps(nn.Flatten)
def _flatten_module(c):
    return _flatten_to(c)


# costcalc's own helper modules (what `verify` builds for kinds torch.nn lacks) map back
@maps(cc.LayerNormAxis)
def _layernorm_axis(c):
    m = c.module
    rank = len(c.ins[0]) + 1
    dim = rank - 1 if m.to_last is None else m.to_last[-1]
    return _plain("layernorm", axis=dim - 1, eps=float(m.norm.eps),
                  affine=bool(m.norm.elementwise_affine))


@maps(cc.LayerScale)
def _layer_scale(c):
    sizes = tuple(c.module.scale.shape)
    axis = next((i for i, n in enumerate(sizes) if n != 1), 0)
    return _plain("layer_scale", axis=axis)


@maps(cc.StochasticDepth)
def _stochastic_depth(c):
    return _plain("stochastic_depth", p=float(c.module.p), mode=c.module.mode)


@maps(cc.ChannelShuffle)
def _channel_shuffle(c):
    return _plain("channel_shuffle", groups=c.module.groups)


@maps(cc.PadChannels)
def _pad_channels(c):
    m = c.module
    return _plain("pad_channels", before=m.before, after=m.after, stride=m.stride)



# -- functions and tensor methods ---------------------------------------------------------------

def _fn_no_args(kind, *targets):
    MAPPINGS.add(targets[0], _no_args(kind))
    for t in targets[1:]:
        MAPPINGS.add(t, MAPPINGS[targets[0]])


_fn_no_args("relu", F.relu, torch.relu, "Tensor.relu", F.relu_, "Tensor.relu_")
_fn_no_args("relu6", F.relu6)
_fn_no_args("sigmoid", torch.sigmoid, "Tensor.sigmoid", F.sigmoid)
_fn_no_args("tanh", torch.tanh, "Tensor.tanh", F.tanh)
_fn_no_args("hardswish", F.hardswish)
_fn_no_args("hardsigmoid", F.hardsigmoid)
_fn_no_args("silu", F.silu)


@maps(F.gelu)
def _gelu_fn(c):
    return _plain("gelu", approximate=c.arg(1, "approximate", "none"))


@maps(F.hardtanh)
def _hardtanh_fn(c):
    return _plain("hardtanh", min_val=float(c.arg(1, "min_val", -1.0)),
                  max_val=float(c.arg(2, "max_val", 1.0)))


@maps(F.softmax, torch.softmax, "Tensor.softmax")
def _softmax_fn(c):
    return _plain("softmax", axis=c.axis(c.arg(1, "dim")))


@maps(F.dropout)
def _dropout_fn(c):
    return _plain("dropout", p=float(c.arg(1, "p", 0.5)))


@maps(F.max_pool2d)
def _maxpool_fn(c):
    k = c.arg(1, "kernel_size")
    if c.arg(6, "return_indices", False):
        raise Unsupported("it returns indices")
    return _plain("maxpool", kernel=_pair(k), stride=_pair(c.arg(2, "stride", None) or k),
                  pad=_pair(c.arg(3, "padding", 0)), dilation=_pair(c.arg(4, "dilation", 1)),
                  ceil=bool(c.arg(5, "ceil_mode", False)))


@maps(F.avg_pool2d)
def _avgpool_fn(c):
    k = c.arg(1, "kernel_size")
    return _plain("avgpool", kernel=_pair(k), stride=_pair(c.arg(2, "stride", None) or k),
                  pad=_pair(c.arg(3, "padding", 0)), ceil=bool(c.arg(4, "ceil_mode", False)),
                  count_include_pad=bool(c.arg(5, "count_include_pad", True)))


def _flatten_to(c):
    """A flatten when the output is the input's elements as one axis."""
    x, out = c.ins[0], c.out
    if len(out) == 1 and len(x) > 1:
        return _plain("flatten")
    if tuple(out) == tuple(x):
        return ALIAS
    return [(_kind("reshape"), {"shape": list(out)})]


@maps(torch.flatten, "Tensor.flatten", "Tensor.view", "Tensor.reshape", torch.reshape)
def _flatten(c):
    return _flatten_to(c)


@maps("Tensor.mean", torch.mean)
def _mean(c):
    x = c.ins[0]
    dims = c.arg(1, "dim", None)
    dims = (dims,) if isinstance(dims, int) else tuple(dims or ())
    if len(x) != 3 or sorted(c.axis(d) for d in dims) != [1, 2]:
        raise Unsupported("only a mean over H and W of a (C, H, W) map has a kind")
    if c.arg(2, "keepdim", False):
        return _plain("global_avgpool")
    return [("global_avgpool", {}), ("flatten", {})]


@maps(torch.cat, torch.concat)
def _cat(c):
    return _plain("concat", axis=c.axis(c.arg(1, "dim", 0)))


def _binary(kind):
    def fn(c):
        if kind == "mul" and len(c.ins) == 1:
            return _scale(c, divide=False)
        if len(c.ins) != 2 or any(not isinstance(a, torch.fx.Node) for a in c.node.args[:2]):
            raise Unsupported("one side is a constant, not a tensor")
        if c.node.kwargs.get("alpha", 1) != 1:
            raise Unsupported("it has an alpha")
        return _plain(kind)
    return fn


for _kind, _targets in (("add", (operator.add, operator.iadd, torch.add, "Tensor.add", "Tensor.add_")),
                        ("mul", (operator.mul, operator.imul, torch.mul, "Tensor.mul", "Tensor.mul_"))):
    for _t in _targets:
        MAPPINGS.add(_t, _binary(_kind))


@maps(torch.split, "Tensor.split")
def _split(c):
    axis = c.axis(c.arg(2, "dim", 0))
    return _plain("split", sizes=[o[axis] for o in c.out], axis=axis)


@maps(torch.chunk, "Tensor.chunk")
def _chunk(c):
    axis = c.axis(c.arg(2, "dim", 0))
    sizes = [o[axis] for o in c.out]
    if len(set(sizes)) == 1 and sizes[0] * len(sizes) == c.ins[0][axis]:
        return _plain("chunk", chunks=len(sizes), axis=axis)
    return _plain("split", sizes=sizes, axis=axis)


@maps("Tensor.contiguous", "Tensor.clone", "Tensor.detach")
def _alias(c):
    return ALIAS


# -- transformers: embeddings, attention, matmul, reshapes, scaling -----------------------------

#: a node computed from the input's shape alone (torch.arange(T), zeros_like(ids)): a layer that
#: reads it reads the model input, as costcalc's position and zeros lookups do
FROM_INPUT = "from-input"


def _kind(name: str) -> str:
    from costcalc import ops

    if ops.get(name) is None:
        raise Unsupported(f"costcalc has no '{name}' kind")
    return name


@maps(torch.arange, torch.zeros_like)
def _from_input(c):
    return FROM_INPUT


#: modules that hold an embedding table (a linear whose weight is one is tied to it)
EMBEDDINGS = (nn.Embedding, cc.Embedding)


@maps(nn.Embedding)
def _embedding(c):
    src = c.node.args[0]
    lookup = {torch.arange: "positions", torch.zeros_like: "zeros"}.get(
        getattr(src, "target", None), "ids")
    m = c.module
    return [(_kind("embedding"), {"vocab": m.num_embeddings, "dim": m.embedding_dim,
                                  "lookup": lookup})]


@maps(cc.Embedding)
def _cc_embedding(c):
    t = c.module.table
    return [("embedding", {"vocab": t.num_embeddings, "dim": t.embedding_dim,
                           "lookup": c.module.lookup})]


@maps(cc.Parameter)
def _cc_parameter(c):
    return [("parameter", {"shape": list(c.module.value.shape)})]


@maps(cc.Rope)
def _cc_rope(c):
    return [("rope", {})]  # its base is folded into cos and sin; no count depends on it


@maps(nn.RMSNorm)
def _rmsnorm(c):
    m = c.module
    if len(m.normalized_shape) != 1 or not m.elementwise_affine:
        raise Unsupported("only a one-axis RMSNorm with its weight has a kind")
    return [(_kind("rmsnorm"), {"axis": -1, **({"eps": float(m.eps)} if m.eps is not None else {})})]


@maps(F.scaled_dot_product_attention)
def _sdpa(c):
    if isinstance(c.arg(3, "attn_mask", None), torch.fx.Node):
        raise Unsupported("it has an attention mask")
    return [(_kind("attention"), {"causal": bool(c.arg(5, "is_causal", False))})]


@maps(torch.matmul, operator.matmul, "Tensor.matmul", torch.bmm)
def _matmul(c):
    x, y = c.ins
    if len(x) != len(y) or len(x) < 2 or tuple(x[:-2]) != tuple(y[:-2]):
        raise Unsupported("only a product with equal leading axes (no broadcasting) has a kind")
    return [(_kind("matmul"), {})]


@maps("Tensor.transpose", torch.transpose)
def _transpose(c):
    order = list(range(len(c.ins[0])))
    a, b = c.axis(c.arg(1, "dim0")), c.axis(c.arg(2, "dim1"))
    order[a], order[b] = order[b], order[a]
    return _permute_to(order)


@maps("Tensor.permute", torch.permute)
def _permute(c):
    dims = c.node.args[1:] if c.node.op == "call_method" else c.arg(1, "dims")
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    dims = list(dims) or list(c.node.kwargs.get("dims", ()))
    rank = len(c.ins[0]) + 1
    if not dims or dims[0] % rank:
        raise Unsupported("it moves the batch axis")
    return _permute_to([c.axis(d) for d in dims[1:]])


def _permute_to(order):
    if order == sorted(order):
        return ALIAS
    return [(_kind("permute"), {"order": order})]


def _scale(c, divide: bool):
    """x * c or x / c with a constant c: the scale kind."""
    sides = c.node.args[:2]
    const = [c.number(a) for a in sides if not _is_tensor(a)]
    if len(sides) != 2 or len(const) != 1 or const[0] is None:
        raise Unsupported("one side is not a number")
    by = 1.0 / const[0] if divide else float(const[0])
    return [(_kind("scale"), {"by": by})]


def _is_tensor(a) -> bool:
    return isinstance(a, torch.fx.Node) and "tensor_meta" in a.meta


@maps(operator.truediv, torch.div, "Tensor.div")
def _div(c):
    if len(c.ins) == 1 and _is_tensor(c.node.args[0]) and c.number(c.node.args[1]) is not None:
        return _scale(c, divide=True)
    raise Unsupported("a division by a tensor has no kind")


@maps(operator.getitem)
def _select(c):
    """``x[:, k]``: one token of a sequence (BERT's pooler reads x[:, 0]), as a split and a
    reshape that drops the axis."""
    index = c.node.args[1]
    x = c.ins[0] if c.ins else ()
    if not (isinstance(index, tuple) and len(index) == 2 and index[0] == slice(None)
            and isinstance(index[1], int) and len(x) >= 2):
        raise Unsupported("only x[:, k] (one index of the first axis after the batch) has a kind")
    n, k = x[0], index[1] % x[0]
    sizes = [s for s in (k, 1, n - k - 1) if s]
    return [(_kind("split"), {"sizes": sizes, "axis": 0}, 1 if k else 0),
            (_kind("reshape"), {"shape": list(c.out)})]


@maps(cc.Reshape)
def _cc_reshape(c):
    return [("reshape", {"shape": list(c.module.shape)})]


#: module classes the tracer keeps whole (their forward is not traced through)
LEAF_CLASSES = tuple(k for k in MAPPINGS if isinstance(k, type))
