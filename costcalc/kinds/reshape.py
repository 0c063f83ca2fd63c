"""Layers that move or drop values without arithmetic: flatten, dropout, identity."""
from __future__ import annotations

from ..args import Real
from . import register
from .base import LayerKind, numel


@register
class Flatten(LayerKind):
    name = "flatten"
    summary = "(C, H, W) to C*H*W flat features (torch.nn.Flatten)"
    args = {}
    folds_into_previous = True

    def shape(self, a, inputs):
        return (numel(inputs[0]),)

    def build(self, a, inputs):
        import torch.nn as nn

        return nn.Flatten()


@register
class Dropout(LayerKind):
    name = "dropout"
    summary = "dropout; the identity in eval mode (torch.nn.Dropout)"
    args = {"p": Real(default=0.5, low=0.0, high=1.0, doc="drop probability")}
    table_type = "dropout"

    def shape(self, a, inputs):
        return inputs[0]

    def build(self, a, inputs):
        import torch.nn as nn

        return nn.Dropout(a["p"])

    def label(self, a):
        return f"dropout ({a['p'] * 100:g}%)"


@register
class Identity(LayerKind):
    name = "identity"
    summary = "passes its input through (torch.nn.Identity)"
    args = {}
    folds_into_previous = True

    def shape(self, a, inputs):
        return inputs[0]

    def build(self, a, inputs):
        import torch.nn as nn

        return nn.Identity()
