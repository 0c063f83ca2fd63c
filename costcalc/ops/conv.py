"""conv: 2-D convolution, as torch.nn.Conv2d."""
from __future__ import annotations

from costcalc.ops.args import Bool, Padding, Pair, PosInt
from costcalc.ops.registry import register
from costcalc.ops.base import Cost, LayerKind, ShapeError, fmt_pair, numel, spatial


def conv_out_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil: bool = False) -> int:
    """PyTorch's output-size rule along one axis (floor division, as ATen's div_rtn)."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= size + pad:
        out -= 1  # the last window must start inside the input or its left padding
    return out


def check_window(kind: str, h: int, w: int, kernel, stride, pad, dilation, ceil=False,
                 kernel_must_fit: bool = False):
    """Output (H, W) of a sliding window, or a ShapeError naming the sizes.

    With ``kernel_must_fit`` (convolutions) a kernel larger than the padded input is refused;
    otherwise (pools: in ceil mode a window may hang over the edge) only an output of size zero
    or less is, exactly as PyTorch does.
    """
    eff = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    oh = conv_out_size(h, kernel[0], stride[0], pad[0], dilation[0], ceil)
    ow = conv_out_size(w, kernel[1], stride[1], pad[1], dilation[1], ceil)
    too_big = eff[0] > h + 2 * pad[0] or eff[1] > w + 2 * pad[1]
    if (kernel_must_fit and too_big) or oh <= 0 or ow <= 0:
        out = f" (output size {oh}x{ow})" if oh <= 0 or ow <= 0 else ""
        raise ShapeError(f"{kind} kernel {fmt_pair(eff)} is larger than its padded input "
                         f"{h + 2 * pad[0]}x{w + 2 * pad[1]}{out}")
    return oh, ow


@register
class Conv(LayerKind):
    name = "conv"
    summary = "2-D convolution (torch.nn.Conv2d)"
    args = {
        "out": PosInt(doc="output channels"),
        "kernel": Pair(doc="kernel size, k or [kh, kw]"),
        "stride": Pair(default=1),
        "pad": Padding(default=0, doc="zero padding per side, [ph, pw], or 'same' (stride 1 only)"),
        "dilation": Pair(default=1),
        "groups": PosInt(default=1, doc="groups; groups = in channels is depthwise"),
        "bias": Bool(default=True),
    }
    macs_rule = "output elements × (in channels / groups) × kh × kw"
    elementops_rule = "one bias add per output element, if bias"

    def shape(self, a, inputs):
        c, h, w = spatial(inputs[0], "conv")
        g = a["groups"]
        if c % g or a["out"] % g:
            raise ShapeError(f"conv groups {g} must divide both its input channels {c} "
                             f"and its output channels {a['out']}")
        if a["pad"] == "same":
            if a["stride"] != (1, 1):
                raise ShapeError("conv pad 'same' needs stride 1 (as in PyTorch)")
            return (a["out"], h, w)
        oh, ow = check_window("conv", h, w, a["kernel"], a["stride"], a["pad"], a["dilation"],
                              kernel_must_fit=True)
        return (a["out"], oh, ow)

    def cost(self, a, inputs, out):
        cin = inputs[0][0]
        kh, kw = a["kernel"]
        weights = a["out"] * (cin // a["groups"]) * kh * kw
        spatial_out = out[1] * out[2]
        # each output element: (cin/groups)*kh*kw multiply-accumulates
        macs = numel(out) * (cin // a["groups"]) * kh * kw
        biases = a["out"] if a["bias"] else 0
        return Cost(weights=weights, biases=biases, macs=macs,
                    elementops=a["out"] * spatial_out if a["bias"] else 0)
