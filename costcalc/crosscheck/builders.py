"""Torch builders, keyed by kind: the nn.Module equivalent of one layer of a spec.

``build(kind, args, inputs)`` takes the kind's validated arguments and its input shapes (no
batch). torch is imported by the functions, so importing this module imports nothing heavy; a
kind without a builder raises NotImplementedError, which ``verify`` reports as one line.
"""
from __future__ import annotations

from costcalc.registry import Registry

BUILDERS = Registry("torch builder")
builder = BUILDERS.register


def build(kind: str, a: dict, inputs: list):
    fn = BUILDERS.get(kind)
    if fn is None:
        raise NotImplementedError(f"{kind} has no torch equivalent")
    return fn(a, inputs)


def _nn():
    import torch.nn as nn

    return nn


@builder("conv")
def _conv(a, inputs):
    return _nn().Conv2d(inputs[0][0], a["out"], a["kernel"], stride=a["stride"], padding=a["pad"],
                        dilation=a["dilation"], groups=a["groups"], bias=a["bias"])


@builder("linear")
def _linear(a, inputs):
    return _nn().Linear(inputs[0][-1], a["out"], bias=a["bias"])


def _pool_stride(a):
    return a["stride"] or a["kernel"]


@builder("maxpool")
def _maxpool(a, inputs):
    return _nn().MaxPool2d(a["kernel"], _pool_stride(a), a["pad"], a["dilation"], ceil_mode=a["ceil"])


@builder("avgpool")
def _avgpool(a, inputs):
    return _nn().AvgPool2d(a["kernel"], _pool_stride(a), a["pad"], ceil_mode=a["ceil"],
                           count_include_pad=a["count_include_pad"])


@builder("adaptive_avgpool")
def _adaptive_avgpool(a, inputs):
    return _nn().AdaptiveAvgPool2d(a["out"])


@builder("global_avgpool")
def _global_avgpool(a, inputs):
    return _nn().AdaptiveAvgPool2d(1)


@builder("batchnorm")
def _batchnorm(a, inputs):
    return _nn().BatchNorm2d(inputs[0][0], eps=a["eps"], affine=a["affine"])


@builder("lrn")
def _lrn(a, inputs):
    return _nn().LocalResponseNorm(a["size"], alpha=a["alpha"], beta=a["beta"], k=a["k"])


def _module(name):
    """A builder for an nn module that takes the kind's arguments as its keyword arguments."""
    return lambda a, inputs: getattr(_nn(), name)(**a)


for _kind, _name in (("relu", "ReLU"), ("relu6", "ReLU6"), ("hardtanh", "Hardtanh"),
                     ("sigmoid", "Sigmoid"), ("tanh", "Tanh"), ("flatten", "Flatten"),
                     ("identity", "Identity"), ("hardswish", "Hardswish"),
                     ("hardsigmoid", "Hardsigmoid"), ("silu", "SiLU"), ("gelu", "GELU")):
    BUILDERS.add(_kind, _module(_name))


def _dim(a, inputs) -> int:
    """The torch dim of the kind's axis: its index in the input, plus 1 for the batch."""
    return inputs[0].axis(a["axis"]) + 1


@builder("softmax")
def _softmax(a, inputs):
    return _nn().Softmax(dim=_dim(a, inputs))


@builder("dropout")
def _dropout(a, inputs):
    return _nn().Dropout(a["p"])


@builder("concat")
def _concat(a, inputs):
    from costcalc.crosscheck.modules import Concat

    return Concat(_dim(a, inputs))


@builder("split")
def _split(a, inputs):
    from costcalc.crosscheck.modules import Split

    return Split(list(a["sizes"]), _dim(a, inputs))


@builder("chunk")
def _chunk(a, inputs):
    from costcalc.crosscheck.modules import Chunk

    return Chunk(a["chunks"], _dim(a, inputs))


@builder("add")
def _add(a, inputs):
    from costcalc.crosscheck.modules import Add

    return Add()


@builder("mul")
def _mul(a, inputs):
    from costcalc.crosscheck.modules import Mul

    return Mul()


def _axis(a, inputs):
    """(size, torch dim, torch rank) of the kind's axis, the batch counted."""
    x = inputs[0]
    return x[x.axis(a["axis"])], _dim(a, inputs), len(x) + 1


@builder("layernorm")
def _layernorm(a, inputs):
    from costcalc.crosscheck.modules import LayerNormAxis

    return LayerNormAxis(*_axis(a, inputs), eps=a["eps"], affine=a["affine"])


@builder("layer_scale")
def _layer_scale(a, inputs):
    from costcalc.crosscheck.modules import LayerScale

    return LayerScale(*_axis(a, inputs), init=a["init"])


@builder("stochastic_depth")
def _stochastic_depth(a, inputs):
    from costcalc.crosscheck.modules import StochasticDepth

    return StochasticDepth(a["p"], a["mode"])


@builder("channel_shuffle")
def _channel_shuffle(a, inputs):
    from costcalc.crosscheck.modules import ChannelShuffle

    return ChannelShuffle(a["groups"])


@builder("pad_channels")
def _pad_channels(a, inputs):
    from costcalc.crosscheck.modules import PadChannels

    return PadChannels(a["before"], a["after"], a["stride"])


@builder("opaque")
def _opaque(a, inputs):
    from costcalc.crosscheck.modules import Opaque

    return Opaque(a["shape"])

def _modules():
    from costcalc.crosscheck import modules

    return modules


@builder("embedding")
def _embedding(a, inputs):
    return _modules().Embedding(a["vocab"], a["dim"], a["lookup"])


@builder("parameter")
def _parameter(a, inputs):
    return _modules().Parameter(a["shape"][0])


@builder("reshape")
def _reshape(a, inputs):
    return _modules().Reshape(a["shape"][0])


@builder("permute")
def _permute(a, inputs):
    return _modules().Permute([inputs[0].axis(k) for k in a["order"]])


@builder("matmul")
def _matmul(a, inputs):
    return _modules().Matmul()


@builder("attention")
def _attention(a, inputs):
    return _modules().Attention(a["causal"], inputs[1][0] != inputs[0][0])


@builder("rope")
def _rope(a, inputs):
    return _modules().Rope(inputs[0][1], inputs[0][2], a["base"])


@builder("rmsnorm")
def _rmsnorm(a, inputs):
    x = inputs[0]
    if x.axis(a["axis"]) != len(x) - 1:
        raise NotImplementedError("rmsnorm on an axis other than the last has no torch equivalent here")
    return _nn().RMSNorm(x[-1], eps=a["eps"])


@builder("scale")
def _scale(a, inputs):
    return _modules().Scale(a["by"])
