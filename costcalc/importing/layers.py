"""Mappings of CNN-family torch targets to kinds: torch.nn modules (conv, pools, norms,
activations ...), costcalc's own helper modules (what `verify` builds), and the functions and
tensor methods of a CNN's forward (F.relu, torch.cat, torch.flatten, operator.add, x.view ...)."""
from __future__ import annotations

import operator

import torch
import torch.nn.functional as F
from torch import nn

from costcalc.crosscheck import modules as cc
from costcalc.importing.mapping import (ALIAS, MAPPINGS, Unsupported, maps, need_kind, pair, plain,
                                        scale)
from costcalc.importing.structure import Tie


# -- modules ------------------------------------------------------------------------------------

@maps(nn.Conv2d)
def _conv(c):
    m = c.module
    pad = m.padding if isinstance(m.padding, str) else pair(m.padding)
    if pad == "valid":
        pad = 0
    return plain("conv", out=m.out_channels, kernel=pair(m.kernel_size), stride=pair(m.stride),
                  pad=pad, dilation=pair(m.dilation), groups=m.groups, bias=m.bias is not None)


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
    return plain("batchnorm", eps=c.module.eps, affine=c.module.affine)


def _no_args(kind):
    return lambda c: plain(kind)


for _cls, _kind in ((nn.ReLU, "relu"), (nn.ReLU6, "relu6"), (nn.Sigmoid, "sigmoid"),
                    (nn.Tanh, "tanh"), (nn.Hardswish, "hardswish"), (nn.Hardsigmoid, "hardsigmoid"),
                    (nn.SiLU, "silu"), (nn.Identity, "identity")):
    MAPPINGS.add(_cls, _no_args(_kind))


@maps(nn.Hardtanh)
def _hardtanh(c):
    return plain("hardtanh", min_val=float(c.module.min_val), max_val=float(c.module.max_val))


@maps(nn.GELU)
def _gelu(c):
    return plain("gelu", approximate=c.module.approximate)


@maps(nn.Softmax)
def _softmax(c):
    if c.module.dim is None:
        raise Unsupported("its dim is not given")
    return plain("softmax", axis=c.axis(c.module.dim))


@maps(nn.Dropout, nn.Dropout2d)
def _dropout(c):
    return plain("dropout", p=float(c.module.p))


@maps(nn.MaxPool2d)
def _maxpool(c):
    m = c.module
    if m.return_indices:
        raise Unsupported("it returns indices")
    return plain("maxpool", kernel=pair(m.kernel_size), stride=pair(m.stride or m.kernel_size),
                  pad=pair(m.padding), dilation=pair(m.dilation), ceil=bool(m.ceil_mode))


@maps(nn.AvgPool2d)
def _avgpool(c):
    m = c.module
    return plain("avgpool", kernel=pair(m.kernel_size), stride=pair(m.stride or m.kernel_size),
                  pad=pair(m.padding), ceil=bool(m.ceil_mode),
                  count_include_pad=bool(m.count_include_pad))


def _adaptive(c):
    h, w = c.out[1], c.out[2]
    if (h, w) == (1, 1):
        return plain("global_avgpool")
    return plain("adaptive_avgpool", out=pair((h, w)))


MAPPINGS.add(nn.AdaptiveAvgPool2d, _adaptive)
MAPPINGS.add(F.adaptive_avg_pool2d, _adaptive)


@maps(nn.LocalResponseNorm)
def _lrn(c):
    m = c.module
    return plain("lrn", size=m.size, alpha=float(m.alpha), beta=float(m.beta), k=float(m.k))


@maps(nn.LayerNorm)
def _layernorm(c):
    m = c.module
    if len(m.normalized_shape) != 1:
        raise Unsupported("it normalises more than one axis")
    if m.elementwise_affine and m.bias is None:
        raise Unsupported("it has a weight but no bias")
    return plain("layernorm", axis=-1, eps=float(m.eps), affine=bool(m.elementwise_affine))


@maps(nn.Flatten)
def _flatten_module(c):
    return _flatten_to(c)


# costcalc's own helper modules (what `verify` builds for kinds torch.nn lacks) map back
@maps(cc.LayerNormAxis)
def _layernorm_axis(c):
    m = c.module
    rank = len(c.ins[0]) + 1
    dim = rank - 1 if m.to_last is None else m.to_last[-1]
    return plain("layernorm", axis=dim - 1, eps=float(m.norm.eps),
                  affine=bool(m.norm.elementwise_affine))


@maps(cc.LayerScale)
def _layerscale(c):
    sizes = tuple(c.module.scale.shape)
    axis = next((i for i, n in enumerate(sizes) if n != 1), 0)
    return plain("layer_scale", axis=axis)


@maps(cc.StochasticDepth)
def _stochastic_depth(c):
    return plain("stochastic_depth", p=float(c.module.p), mode=c.module.mode)


@maps(cc.ChannelShuffle)
def _channel_shuffle(c):
    return plain("channel_shuffle", groups=c.module.groups)


@maps(cc.PadChannels)
def _pad_channels(c):
    m = c.module
    return plain("pad_channels", before=m.before, after=m.after, stride=m.stride)



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
    return plain("gelu", approximate=c.arg(1, "approximate", "none"))


@maps(F.hardtanh)
def _hardtanh_fn(c):
    return plain("hardtanh", min_val=float(c.arg(1, "min_val", -1.0)),
                  max_val=float(c.arg(2, "max_val", 1.0)))


@maps(F.softmax, torch.softmax, "Tensor.softmax")
def _softmax_fn(c):
    return plain("softmax", axis=c.axis(c.arg(1, "dim")))


@maps(F.dropout)
def _dropout_fn(c):
    return plain("dropout", p=float(c.arg(1, "p", 0.5)))


@maps(F.max_pool2d)
def _maxpool_fn(c):
    k = c.arg(1, "kernel_size")
    if c.arg(6, "return_indices", False):
        raise Unsupported("it returns indices")
    return plain("maxpool", kernel=pair(k), stride=pair(c.arg(2, "stride", None) or k),
                  pad=pair(c.arg(3, "padding", 0)), dilation=pair(c.arg(4, "dilation", 1)),
                  ceil=bool(c.arg(5, "ceil_mode", False)))


@maps(F.avg_pool2d)
def _avgpool_fn(c):
    k = c.arg(1, "kernel_size")
    return plain("avgpool", kernel=pair(k), stride=pair(c.arg(2, "stride", None) or k),
                  pad=pair(c.arg(3, "padding", 0)), ceil=bool(c.arg(4, "ceil_mode", False)),
                  count_include_pad=bool(c.arg(5, "count_include_pad", True)))


def _flatten_to(c):
    """A flatten when the output is the input's elements as one axis."""
    x, out = c.ins[0], c.out
    if len(out) == 1 and len(x) > 1:
        return plain("flatten")
    if tuple(out) == tuple(x):
        return ALIAS
    return [(need_kind("reshape"), {"shape": list(out)})]


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
        return plain("global_avgpool")
    return [("global_avgpool", {}), ("flatten", {})]


@maps(torch.cat, torch.concat)
def _cat(c):
    return plain("concat", axis=c.axis(c.arg(1, "dim", 0)))


def _binary(kind):
    def fn(c):
        if kind == "mul" and len(c.ins) == 1:
            return scale(c, divide=False)
        if len(c.ins) != 2 or any(not isinstance(a, torch.fx.Node) for a in c.node.args[:2]):
            raise Unsupported("one side is a constant, not a tensor")
        if c.node.kwargs.get("alpha", 1) != 1:
            raise Unsupported("it has an alpha")
        return plain(kind)
    return fn


for _kind, _targets in (("add", (operator.add, operator.iadd, torch.add, "Tensor.add", "Tensor.add_")),
                        ("mul", (operator.mul, operator.imul, torch.mul, "Tensor.mul", "Tensor.mul_"))):
    for _t in _targets:
        MAPPINGS.add(_t, _binary(_kind))


@maps(torch.split, "Tensor.split")
def _split(c):
    axis = c.axis(c.arg(2, "dim", 0))
    return plain("split", sizes=[o[axis] for o in c.out], axis=axis)


@maps(torch.chunk, "Tensor.chunk")
def _chunk(c):
    axis = c.axis(c.arg(2, "dim", 0))
    sizes = [o[axis] for o in c.out]
    if len(set(sizes)) == 1 and sizes[0] * len(sizes) == c.ins[0][axis]:
        return plain("chunk", chunks=len(sizes), axis=axis)
    return plain("split", sizes=sizes, axis=axis)


@maps("Tensor.contiguous", "Tensor.clone", "Tensor.detach")
def _alias(c):
    return ALIAS
