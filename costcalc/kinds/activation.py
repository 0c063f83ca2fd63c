"""Element-wise activations: relu, relu6, hardtanh, sigmoid, tanh, softmax."""
from __future__ import annotations

from ..args import Real
from . import register
from .base import Cost, LayerKind, numel


class _Elementwise(LayerKind):
    """One op per output element; shape unchanged."""

    args = {}
    folds_into_previous = True
    elementops_rule = "one op per output element"
    torch_name = ""

    def shape(self, a, inputs):
        return inputs[0]

    def cost(self, a, inputs, out):
        return Cost(elementops=numel(out))

    def build(self, a, inputs):
        import torch.nn as nn

        return getattr(nn, self.torch_name)(**a)


@register
class ReLU(_Elementwise):
    name = "relu"
    summary = "max(x, 0) (torch.nn.ReLU)"
    torch_name = "ReLU"


@register
class ReLU6(_Elementwise):
    name = "relu6"
    summary = "min(max(x, 0), 6) (torch.nn.ReLU6)"
    torch_name = "ReLU6"


@register
class Hardtanh(_Elementwise):
    name = "hardtanh"
    summary = "clamp(x, min_val, max_val) (torch.nn.Hardtanh)"
    args = {"min_val": Real(default=-1.0), "max_val": Real(default=1.0)}
    torch_name = "Hardtanh"


@register
class Sigmoid(_Elementwise):
    name = "sigmoid"
    summary = "1 / (1 + exp(-x)) (torch.nn.Sigmoid)"
    torch_name = "Sigmoid"


@register
class Tanh(_Elementwise):
    name = "tanh"
    summary = "tanh(x) (torch.nn.Tanh)"
    torch_name = "Tanh"


@register
class Softmax(LayerKind):
    name = "softmax"
    summary = "softmax over channels/features (torch.nn.Softmax(dim=1))"
    args = {}
    table_type = "softmax"
    elementops_rule = "3 ops per element (exp, sum, divide)"

    def shape(self, a, inputs):
        return inputs[0]

    def cost(self, a, inputs, out):
        return Cost(elementops=3 * numel(out))

    def build(self, a, inputs):
        import torch.nn as nn

        return nn.Softmax(dim=1)
