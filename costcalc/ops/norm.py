"""Normalisation: batchnorm (eval mode) and local response norm."""
from __future__ import annotations

from costcalc.ops.args import PosInt, Real, Bool
from costcalc.ops.registry import register
from costcalc.ops.base import Cost, LayerKind, numel, spatial


@register


class BatchNorm(LayerKind):
    name = "batchnorm"
    summary = "batch normalisation in eval mode (torch.nn.BatchNorm2d)"
    args = {"eps": Real(default=1e-5, low=0.0), "affine": Bool(default=True)}
    elementops_rule = "2 per element (scale and shift); params: weight and bias if affine"

    def shape(self, a, inputs):
        spatial(inputs[0], self.name)
        return inputs[0]

    def cost(self, a, inputs, out):
        c = inputs[0][0]
        n = numel(out)
        # running mean/var are buffers, not parameters
        return Cost(weights=c if a["affine"] else 0, biases=c if a["affine"] else 0,
                    elementops=2 * n)


@register


class LRN(LayerKind):
    name = "lrn"
    summary = "local response normalisation across channels (torch.nn.LocalResponseNorm)"
    args = {"size": PosInt(doc="channels in the window"), "alpha": Real(default=1e-4),
            "beta": Real(default=0.75), "k": Real(default=1.0)}
    elementops_rule = "size + 2 per element (window sum of squares, power, divide)"

    def shape(self, a, inputs):
        spatial(inputs[0], self.name)
        return inputs[0]

    def cost(self, a, inputs, out):
        return Cost(elementops=numel(out) * (a["size"] + 2))
