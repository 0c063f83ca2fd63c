"""Layers that move, split, pad or drop values without arithmetic: flatten, dropout, stochastic
depth, identity, split, chunk, channel shuffle and channel zero-padding."""
from __future__ import annotations

from costcalc.ops.args import Axis, AxisList, Choice, Dims, NonNegInt, PosInt, PosIntList, Real
from costcalc.ops.registry import register
from costcalc.ops.base import LayerKind, Outputs, Shape, ShapeError, numel, spatial


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


@register
class Reshape(LayerKind):
    name = "reshape"
    summary = ("the same elements in a new shape, the batch kept (torch.reshape); e.g. split "
               "heads: {T: 197, D: 768} to {T: 197, H: 12, Dh: 64}")
    args = {"shape": Dims(doc="the new shape without the batch; a mapping names its axes")}

    def shape(self, a, inputs):
        dims, layout = a["shape"]
        if numel(dims) != numel(inputs[0]):
            raise ShapeError(f"reshape to {list(dims)} ({numel(dims):,} elements) needs as many "
                             f"elements as its input {list(inputs[0])} ({numel(inputs[0]):,})")
        return Shape(dims, layout)


@register
class Permute(LayerKind):
    name = "permute"
    summary = "reorders the axes, the batch kept first (torch.permute; a transpose is a permute)"
    args = {"order": AxisList(doc="every axis of the input once, in the new order: [H, T, Dh]")}

    def shape(self, a, inputs):
        x = inputs[0]
        order = [x.axis(k) for k in a["order"]]
        if sorted(order) != list(range(len(x))):
            raise ShapeError(f"permute order {list(a['order'])} must name every axis of the input "
                             f"[{', '.join(x.layout)}] once")
        return Shape(tuple(x[k] for k in order), tuple(x.layout[k] for k in order))
