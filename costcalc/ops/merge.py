"""Layers that join branches: concat (along one axis), add (element-wise) and mul (broadcast)."""
from __future__ import annotations

from costcalc.ops.args import Axis
from costcalc.ops.registry import register
from costcalc.ops.base import Cost, LayerKind, ShapeError, numel


@register
class Concat(LayerKind):
    name = "concat"
    summary = "concatenate along one axis, by default the first: channels (torch.cat); two or more inputs"
    args = {"axis": Axis(default=0, doc="the axis to join along: a layout name or an index")}
    arity = (2, None)

    def shape(self, a, inputs):
        first = inputs[0]
        k = first.axis(a["axis"])
        rest = lambda s: tuple(s[:k]) + tuple(s[k + 1:])  # noqa: E731
        what = "channels" if k == 0 else f"axis {first.layout[k]}"
        for j, other in enumerate(inputs[1:], 1):
            if len(other) != len(first) or rest(other) != rest(first):
                raise ShapeError(f"concat needs equal sizes apart from {what}",
                                 sides=((0, first), (j, other)))
        return tuple(first[:k]) + (sum(s[k] for s in inputs),) + tuple(first[k + 1:])


@register
class Add(LayerKind):
    name = "add"
    summary = "element-wise sum of two or more equal shapes (residual add)"
    args = {}
    arity = (2, None)
    elementops_rule = "(inputs - 1) adds per output element"

    def shape(self, a, inputs):
        first = inputs[0]
        for j, other in enumerate(inputs[1:], 1):
            if other != first:
                raise ShapeError("add needs equal shapes", sides=((0, first), (j, other)))
        return first

    def cost(self, a, inputs, out):
        return Cost(elementops=(len(inputs) - 1) * numel(out))


@register
class Mul(LayerKind):
    name = "mul"
    summary = ("element-wise product of two inputs of one rank, broadcasting axes of size 1 "
               "(squeeze-excitation's [C, H, W] × [C, 1, 1]; torch.mul)")
    args = {}
    arity = (2, 2)
    elementops_rule = "one multiply per output element"

    def shape(self, a, inputs):
        x, y = inputs
        if len(x) != len(y) or any(p != q and 1 not in (p, q) for p, q in zip(x, y)):
            raise ShapeError("mul needs two shapes of one rank whose sizes are equal or 1 on each "
                             "axis", sides=((0, x), (1, y)))
        return tuple(max(p, q) for p, q in zip(x, y))

    def cost(self, a, inputs, out):
        return Cost(elementops=numel(out))
