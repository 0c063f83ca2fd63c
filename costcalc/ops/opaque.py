"""opaque: a placeholder for an op that has no kind (``costcalc import --allow-unknown``).

It has the output shape torch gave and counts zero for everything, and every analysis names it
in a warning, so a zero is never silent.
"""
from __future__ import annotations

from costcalc.ops.args import PosIntList, Text
from costcalc.ops.registry import register
from costcalc.ops.base import LayerKind


@register
class Opaque(LayerKind):
    name = "opaque"
    summary = ("a placeholder for a torch op with no kind, counted as 0 and named in a warning "
               "(costcalc import --allow-unknown)")
    args = {"op": Text(doc="the torch op or module it stands for"),
            "shape": PosIntList(doc="its output shape without the batch, as torch gave it")}
    arity = (1, None)
    elementops_rule = "0 (not counted: a placeholder)"

    def shape(self, a, inputs):
        return a["shape"]

    def placeholder_for(self, a) -> str:
        return a["op"]
