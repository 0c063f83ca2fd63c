"""Pooling: maxpool, avgpool, adaptive_avgpool and global_avgpool, as in torch.nn."""
from __future__ import annotations

import math

from costcalc.ops.args import Bool, NonNegPair, Pair
from costcalc.ops.registry import register
from costcalc.ops.base import Cost, LayerKind, ShapeError, numel, spatial
from costcalc.ops.conv import check_window


class _Window(LayerKind):
    """Shared rule for sliding-window pools; stride defaults to the kernel, as in PyTorch."""


    def _stride(self, a):
        return a["stride"] or a["kernel"]

    def _window(self, a, inputs, dilation=(1, 1)):
        c, h, w = spatial(inputs[0], self.name)
        k, p = a["kernel"], a["pad"]
        if p[0] > k[0] // 2 or p[1] > k[1] // 2:  # PyTorch compares with the undilated kernel
            raise ShapeError(f"{self.name} pad {list(p)} must be at most half its kernel {list(k)}"
                             " (as in PyTorch)")
        oh, ow = check_window(self.name, h, w, k, self._stride(a), p, dilation, a["ceil"])
        return (c, oh, ow)


@register
class MaxPool(_Window):
    name = "maxpool"
    summary = "max pooling (torch.nn.MaxPool2d)"
    args = {"kernel": Pair(), "stride": Pair(default=None, doc="defaults to kernel"),
            "pad": NonNegPair(default=0), "dilation": Pair(default=1), "ceil": Bool(default=False)}
    elementops_rule = "kh*kw - 1 comparisons per output element"

    def shape(self, a, inputs):
        return self._window(a, inputs, a["dilation"])

    def cost(self, a, inputs, out):
        kh, kw = a["kernel"]
        return Cost(elementops=numel(out) * (kh * kw - 1))


@register
class AvgPool(_Window):
    name = "avgpool"
    summary = "average pooling (torch.nn.AvgPool2d)"
    args = {"kernel": Pair(), "stride": Pair(default=None, doc="defaults to kernel"),
            "pad": NonNegPair(default=0), "ceil": Bool(default=False),
            "count_include_pad": Bool(default=True)}
    elementops_rule = "kh*kw ops per output element (kh*kw - 1 adds and a divide)"

    def shape(self, a, inputs):
        return self._window(a, inputs)

    def cost(self, a, inputs, out):
        kh, kw = a["kernel"]
        return Cost(elementops=numel(out) * kh * kw)


def _adaptive_window_total(size: int, out: int) -> int:
    """Sum of PyTorch's adaptive window lengths along one axis, in closed form.

    Window i spans [floor(i*size/out), ceil((i+1)*size/out)). Summed over i the floors
    telescope to ``size``, and each ceil exceeds its floor by 1 unless out divides j*size,
    which happens for gcd(out, size) of j = 1..out: total = size + out - gcd(out, size).
    (A loop over the windows would take O(out) time, and ``out`` can be 10^12.)
    """
    return size + out - math.gcd(out, size)


@register
class AdaptiveAvgPool(LayerKind):
    name = "adaptive_avgpool"
    summary = "adaptive average pooling to a fixed size (torch.nn.AdaptiveAvgPool2d)"
    args = {"out": Pair(doc="output size, s or [h, w]")}
    elementops_rule = "one op per input element of each window (adds and a divide)"

    def shape(self, a, inputs):
        c, _, _ = spatial(inputs[0], self.name)
        return (c, a["out"][0], a["out"][1])

    def cost(self, a, inputs, out):
        c, h, w = inputs[0]
        ops = c * _adaptive_window_total(h, out[1]) * _adaptive_window_total(w, out[2])
        return Cost(elementops=ops)


@register
class GlobalAvgPool(AdaptiveAvgPool):
    name = "global_avgpool"
    summary = "global average pooling to C×1×1 (torch.nn.AdaptiveAvgPool2d(1))"
    args = {}

    def shape(self, a, inputs):
        return super().shape({"out": (1, 1)}, inputs)

    def cost(self, a, inputs, out):
        return super().cost({"out": (1, 1)}, inputs, out)
