"""Layers that move, split, pad or drop values without arithmetic: flatten, dropout, stochastic
depth, identity, split, chunk, channel shuffle and channel zero-padding."""
from __future__ import annotations

from costcalc.ops.args import Axis, Choice, NonNegInt, PosInt, PosIntList, Real
from costcalc.ops.registry import register
from costcalc.ops.base import LayerKind, Outputs, ShapeError, numel, spatial


@register
class Flatten(LayerKind):
    name = "flatten"
    summary = "(C, H, W) to C*H*W flat features (torch.nn.Flatten)"
    args = {}

    def shape(self, a, inputs):
        return (numel(inputs[0]),)


class _Passthrough(LayerKind):
    """Its output is its input (in eval mode): shape unchanged, no cost."""

    def shape(self, a, inputs):
        return inputs[0]


@register
class Dropout(_Passthrough):
    name = "dropout"
    summary = "dropout; the identity in eval mode (torch.nn.Dropout)"
    args = {"p": Real(default=0.5, low=0.0, high=1.0, doc="drop probability")}


@register
class StochasticDepth(_Passthrough):
    name = "stochastic_depth"
    summary = ("drops a residual branch at random in training; the identity in eval mode "
               "(torchvision.ops.StochasticDepth)")
    args = {"p": Real(default=0.0, low=0.0, high=1.0, doc="drop probability"),
            "mode": Choice(("row", "batch"), default="row")}


@register
class Identity(_Passthrough):
    name = "identity"
    summary = "passes its input through (torch.nn.Identity)"
    args = {}


MAX_OUTPUTS = 4096  # parts of one split or chunk
SPLIT_AXIS = Axis(default=0, doc="the axis to split: a layout name or an index")


def parts(x, k: int, sizes) -> Outputs:
    """The shapes of ``x`` cut along axis ``k`` into parts of ``sizes``."""
    return Outputs(tuple(x[:k]) + (n,) + tuple(x[k + 1:]) for n in sizes)


@register
class Split(LayerKind):
    name = "split"
    summary = "splits one axis into parts of the given sizes, read as NAME.0, NAME.1 ... (torch.split)"
    args = {"sizes": PosIntList(doc="the size of each part, e.g. [64, 64]"), "axis": SPLIT_AXIS}

    def shape(self, a, inputs):
        x = inputs[0]
        k = x.axis(a["axis"])
        if sum(a["sizes"]) != x[k]:
            raise ShapeError(f"split sizes {list(a['sizes'])} add up to {sum(a['sizes'])}, but "
                             f"axis {x.layout[k]} of the input {list(x)} has {x[k]}")
        return parts(x, k, a["sizes"])


@register
class Chunk(LayerKind):
    name = "chunk"
    summary = "splits one axis into equal parts, read as NAME.0, NAME.1 ... (torch.chunk)"
    args = {"chunks": PosInt(doc="how many parts; the axis must divide evenly"), "axis": SPLIT_AXIS}

    def shape(self, a, inputs):
        x = inputs[0]
        k = x.axis(a["axis"])
        if a["chunks"] > MAX_OUTPUTS:
            raise ShapeError(f"chunk into {a['chunks']:,} parts: at most {MAX_OUTPUTS:,}")
        if x[k] % a["chunks"]:
            raise ShapeError(f"chunk into {a['chunks']} needs axis {x.layout[k]} ({x[k]}) to "
                             "divide evenly (torch.chunk would give unequal parts)")
        return parts(x, k, [x[k] // a["chunks"]] * a["chunks"])


@register
class ChannelShuffle(LayerKind):
    name = "channel_shuffle"
    summary = ("interleaves the channels of g groups (ShuffleNet's channel_shuffle: view, "
               "transpose, view; torch.nn.ChannelShuffle)")
    args = {"groups": PosInt(doc="groups; must divide the channels")}

    def shape(self, a, inputs):
        c = spatial(inputs[0], self.name)[0]
        if c % a["groups"]:
            raise ShapeError(f"channel_shuffle groups {a['groups']} must divide the input "
                             f"channels {c}")
        return inputs[0]


@register
class PadChannels(LayerKind):
    name = "pad_channels"
    summary = ("zero channels added before and after, optionally on every stride-th pixel: "
               "ResNet option A's shortcut, F.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, before, after))")
    args = {"before": NonNegInt(default=0, doc="zero channels put first"),
            "after": NonNegInt(default=0, doc="zero channels put last"),
            "stride": PosInt(default=1, doc="keep every stride-th row and column (x[:, :, ::s, ::s])")}

    def shape(self, a, inputs):
        c, h, w = spatial(inputs[0], self.name)
        s = a["stride"]
        return (a["before"] + c + a["after"], -(-h // s), -(-w // s))
