"""Layers that join branches: concat (channel axis) and add (element-wise)."""
from __future__ import annotations

from costcalc.ops.registry import register
from costcalc.ops.base import Cost, LayerKind, ShapeError, numel


@register


class Concat(LayerKind):
    name = "concat"
    summary = "concatenate along channels (torch.cat(dim=1)); two or more inputs"
    args = {}
    arity = None

    def shape(self, a, inputs):
        first = inputs[0]
        for j, other in enumerate(inputs[1:], 1):
            if len(other) != len(first) or other[1:] != first[1:]:
                raise ShapeError("concat needs equal sizes apart from channels",
                                 sides=((0, first), (j, other)))
        return (sum(s[0] for s in inputs),) + tuple(first[1:])


@register


class Add(LayerKind):
    name = "add"
    summary = "element-wise sum of two or more equal shapes (residual add)"
    args = {}
    arity = None
    elementops_rule = "(inputs - 1) adds per output element"

    def shape(self, a, inputs):
        first = inputs[0]
        for j, other in enumerate(inputs[1:], 1):
            if other != first:
                raise ShapeError("add needs equal shapes", sides=((0, first), (j, other)))
        return first

    def cost(self, a, inputs, out):
        return Cost(elementops=(len(inputs) - 1) * numel(out))
