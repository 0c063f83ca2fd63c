"""Normalisation and scaling: batchnorm (eval mode), local response norm, layer norm over one
axis, and layer scale (a learnable per-channel multiplier)."""
from __future__ import annotations

from costcalc.ops.args import Axis, Bool, PosInt, Real
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


NORM_AXIS = Axis(default=0, doc="the axis normalised or scaled: a layout name (C, D ...) or an "
                 "index; by default the first, channels")


@register
class LayerNorm(LayerKind):
    name = "layernorm"
    summary = ("layer normalisation over one axis (torch.nn.LayerNorm on the last axis; on a "
               "[C, H, W] map with axis C, ConvNeXt's channels-last LayerNorm2d)")
    args = {"axis": NORM_AXIS, "eps": Real(default=1e-5, low=0.0), "affine": Bool(default=True)}
    elementops_rule = ("5 per element with affine, 4 without (mean, variance, subtract, divide; "
                       "scale and shift as one); params: weight and bias of the axis's size if affine")

    def shape(self, a, inputs):
        inputs[0].axis(a["axis"])  # an axis the input has
        return inputs[0]

    def cost(self, a, inputs, out):
        n = inputs[0][inputs[0].axis(a["axis"])]
        affine = n if a["affine"] else 0
        return Cost(weights=affine, biases=affine, elementops=numel(out) * (5 if a["affine"] else 4))


@register
class LayerScale(LayerKind):
    name = "layer_scale"
    summary = ("a learnable multiplier per channel (or per index of the axis), as ConvNeXt's and "
               "CaiT's layer scale")
    args = {"axis": NORM_AXIS, "init": Real(default=1e-6, doc="the initial scale (no effect on counts)")}
    elementops_rule = "one multiply per element; params: one per index of the axis"

    def shape(self, a, inputs):
        inputs[0].axis(a["axis"])
        return inputs[0]

    def cost(self, a, inputs, out):
        return Cost(weights=inputs[0][inputs[0].axis(a["axis"])], elementops=numel(out))


@register
class RMSNorm(LayerKind):
    name = "rmsnorm"
    summary = "root-mean-square normalisation over one axis, with a learnable scale (torch.nn.RMSNorm)"
    args = {"axis": Axis(default=-1, doc="the axis normalised: a layout name or an index; by "
                         "default the last"), "eps": Real(default=1e-6, low=0.0)}
    elementops_rule = ("4 per element (square, mean, multiply by the reciprocal root, scale); "
                       "params: a weight of the axis's size")

    def shape(self, a, inputs):
        inputs[0].axis(a["axis"])
        return inputs[0]

    def cost(self, a, inputs, out):
        return Cost(weights=inputs[0][inputs[0].axis(a["axis"])], elementops=4 * numel(out))
