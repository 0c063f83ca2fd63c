"""linear: a fully connected layer on flat features, as torch.nn.Linear."""
from __future__ import annotations

from costcalc.ops.args import Bool, PosInt
from costcalc.ops.registry import register
from costcalc.ops.base import Cost, LayerKind, ShapeError


@register


class Linear(LayerKind):
    name = "linear"
    summary = "fully connected layer on flat features (torch.nn.Linear)"
    args = {"out": PosInt(doc="output features"), "bias": Bool(default=True),
            "in": PosInt(default=None, doc="optional: the input features it expects (checked)")}
    elementops_rule = "one bias add per output feature, if bias"

    def shape(self, a, inputs):
        shape = inputs[0]
        if len(shape) != 1:
            raise ShapeError(f"linear needs flat features, but its input is {list(shape)}; "
                             "put a flatten layer before it")
        if a["in"] is not None and a["in"] != shape[0]:
            raise ShapeError(f"linear expects {a['in']} input features but receives {shape[0]}")
        return (a["out"],)

    def cost(self, a, inputs, out):
        fin = inputs[0][0]
        bias = a["out"] if a["bias"] else 0
        # fin*out multiply-accumulates, one per weight
        return Cost(weights=fin * a["out"], biases=bias, macs=fin * a["out"], elementops=bias)
