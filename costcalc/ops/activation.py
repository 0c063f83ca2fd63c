"""Element-wise activations: relu, relu6, hardtanh, sigmoid, tanh, hardswish, hardsigmoid, silu,
gelu, scale (by a constant), softmax."""
from __future__ import annotations

from costcalc.ops.args import Axis, Choice, Real
from costcalc.ops.registry import register
from costcalc.ops.base import Cost, LayerKind, numel


class _Elementwise(LayerKind):
    """One op per output element; shape unchanged."""

    args = {}
    elementops_rule = "one op per output element"

    def shape(self, a, inputs):
        return inputs[0]

    def cost(self, a, inputs, out):
        return Cost(elementops=numel(out))


@register
class ReLU(_Elementwise):
    name = "relu"
    summary = "max(x, 0) (torch.nn.ReLU)"


@register
class ReLU6(_Elementwise):
    name = "relu6"
    summary = "min(max(x, 0), 6) (torch.nn.ReLU6)"


@register
class Hardtanh(_Elementwise):
    name = "hardtanh"
    summary = "clamp(x, min_val, max_val) (torch.nn.Hardtanh)"
    args = {"min_val": Real(default=-1.0), "max_val": Real(default=1.0)}


@register
class Sigmoid(_Elementwise):
    name = "sigmoid"
    summary = "1 / (1 + exp(-x)) (torch.nn.Sigmoid)"


@register
class Tanh(_Elementwise):
    name = "tanh"
    summary = "tanh(x) (torch.nn.Tanh)"


@register
class Hardswish(_Elementwise):
    name = "hardswish"
    summary = "x * relu6(x + 3) / 6 (torch.nn.Hardswish)"


@register
class Hardsigmoid(_Elementwise):
    name = "hardsigmoid"
    summary = "relu6(x + 3) / 6 (torch.nn.Hardsigmoid)"


@register
class SiLU(_Elementwise):
    name = "silu"
    summary = "x * sigmoid(x), also called swish (torch.nn.SiLU)"


@register
class GELU(_Elementwise):
    name = "gelu"
    summary = "x * Phi(x), exact (erf) or its tanh approximation (torch.nn.GELU)"
    args = {"approximate": Choice(("none", "tanh"), default="none")}


@register
class Scale(_Elementwise):
    name = "scale"
    summary = ("multiplies by a constant (torch x * c): attention scores by 1/√Dh, when attention "
               "is written as matmul, scale and softmax")
    args = {"by": Real(doc="the constant")}


@register
class Softmax(LayerKind):
    name = "softmax"
    summary = "softmax over one axis, by default the first: channels or features (torch.nn.Softmax)"
    args = {"axis": Axis(default=0)}
    elementops_rule = "3 ops per element (exp, sum, divide)"

    def shape(self, a, inputs):
        inputs[0].axis(a["axis"])  # an axis the input has
        return inputs[0]

    def cost(self, a, inputs, out):
        return Cost(elementops=3 * numel(out))
