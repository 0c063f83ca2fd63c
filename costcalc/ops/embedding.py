"""Learnable tables and tensors: embedding (a lookup, no arithmetic) and parameter (a learnable
tensor such as ViT's class token or position embedding)."""
from __future__ import annotations

from costcalc.ops.args import Choice, Dims, PosInt
from costcalc.ops.registry import register
from costcalc.ops.base import Cost, LayerKind, Shape, ShapeError, numel


@register
class Embedding(LayerKind):
    name = "embedding"
    summary = ("a table of vocab × dim learnable rows, looked up (torch.nn.Embedding): by the "
               "token ids of its input, by position 0..T-1 (GPT-2's wpe), or row 0 everywhere "
               "(BERT's token type 0)")
    args = {"vocab": PosInt(doc="rows of the table"), "dim": PosInt(doc="the width of a row"),
            "lookup": Choice(("ids", "positions", "zeros"), default="ids",
                             doc="ids: its input holds token ids; positions: rows 0..T-1 for an "
                                 "input of T tokens; zeros: row 0 for each token")}
    elementops_rule = "0 (a lookup); params: vocab × dim"

    def shape(self, a, inputs):
        x = inputs[0]
        t = x[0]
        if a["lookup"] == "positions" and t > a["vocab"]:
            raise ShapeError(f"embedding of {a['vocab']} positions cannot cover {t} tokens")
        if a["lookup"] == "ids":
            return Shape(tuple(x) + (a["dim"],), tuple(x.layout) + ("D",))
        return Shape((t, a["dim"]), (x.layout[0], "D"))

    def cost(self, a, inputs, out):
        return Cost(weights=a["vocab"] * a["dim"])


@register
class Parameter(LayerKind):
    name = "parameter"
    summary = ("a learnable tensor of the given shape, repeated over the batch (ViT's class token "
               "{T: 1, D: 768}, its position embedding); it reads its input for the batch only")
    args = {"shape": Dims(doc="the tensor's shape without the batch")}
    elementops_rule = "0; params: its elements"

    def shape(self, a, inputs):
        dims, layout = a["shape"]
        return Shape(dims, layout)

    def cost(self, a, inputs, out):
        return Cost(weights=numel(out))
