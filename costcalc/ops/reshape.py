"""Layers that move or drop values without arithmetic: flatten, dropout, identity."""
from __future__ import annotations

from costcalc.ops.args import Real
from costcalc.ops.registry import register
from costcalc.ops.base import LayerKind, numel


@register


class Flatten(LayerKind):
    name = "flatten"
    summary = "(C, H, W) to C*H*W flat features (torch.nn.Flatten)"
    args = {}

    def shape(self, a, inputs):
        return (numel(inputs[0]),)


@register


class Dropout(LayerKind):
    name = "dropout"
    summary = "dropout; the identity in eval mode (torch.nn.Dropout)"
    args = {"p": Real(default=0.5, low=0.0, high=1.0, doc="drop probability")}

    def shape(self, a, inputs):
        return inputs[0]


@register


class Identity(LayerKind):
    name = "identity"
    summary = "passes its input through (torch.nn.Identity)"
    args = {}

    def shape(self, a, inputs):
        return inputs[0]
