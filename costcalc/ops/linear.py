"""linear: a fully connected layer on the last axis of any-rank input, as torch.nn.Linear."""
from __future__ import annotations

from costcalc.ops.args import Bool, Name, PosInt
from costcalc.ops.registry import register
from costcalc.ops.base import Cost, LayerKind, ShapeError, numel


@register
class Linear(LayerKind):
    name = "linear"
    summary = "fully connected layer on the last axis (torch.nn.Linear)"
    args = {"out": PosInt(doc="output features"), "bias": Bool(default=True),
            "in": PosInt(default=None, doc="optional: the input features it expects (checked)"),
            "tie": Name(default=None, doc="optional: an embedding layer whose table is this "
                        "layer's weight (GPT-2's lm_head is wte): its params are counted there, once")}
    macs_rule = "positions × in features × out features"
    elementops_rule = "one bias add per output element, if bias"

    def shape(self, a, inputs):
        shape = inputs[0]
        if getattr(shape, "layout", None) == ("C", "H", "W"):
            # on a (C, H, W) feature map the last axis is W: almost surely a missing flatten
            raise ShapeError(f"linear needs flat features, but its input is {list(shape)}; "
                             "put a flatten layer before it")
        if a["in"] is not None and a["in"] != shape[-1]:
            raise ShapeError(f"linear expects {a['in']} input features but receives {shape[-1]}")
        return tuple(shape[:-1]) + (a["out"],)

    def cost(self, a, inputs, out):
        fin = inputs[0][-1]
        rows = numel(inputs[0][:-1])  # positions the same weights apply to (1 for flat input)
        bias = a["out"] if a["bias"] else 0
        # rows * fin * out multiply-accumulates: one per weight per position
        weights = 0 if a["tie"] else fin * a["out"]  # a tied weight is the embedding's
        return Cost(weights=weights, biases=bias, macs=rows * fin * a["out"],
                    elementops=rows * bias)
