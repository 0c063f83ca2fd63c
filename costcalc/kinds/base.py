"""What a layer kind is: its arguments, shape rule, cost formulas and torch builder, together.

Shapes exclude the batch: (C, H, W) for feature maps, (F,) for flat features.
Costs are per sample; the graph multiplies by the batch.
"""
from __future__ import annotations

from dataclasses import dataclass


class ShapeError(ValueError):
    """A shape rule cannot apply to these inputs; the graph adds file, line and layer.

    ``sides`` names two of a multi-input layer's inputs that disagree, as ((index, shape),
    (index, shape)); the graph then names them by their layer paths.
    """

    def __init__(self, message: str, sides=None):
        self.message, self.sides = message, sides
        if sides:
            message = f"{message}, but gets {list(sides[0][1])} and {list(sides[1][1])}"
        super().__init__(message)

    def named(self, inputs) -> str:
        """The message with the disagreeing inputs named by ``inputs`` (their layer paths)."""
        if not self.sides:
            return str(self)
        (i, a), (j, b) = self.sides
        return f"{self.message}, but '{inputs[i]}' gives {list(a)} and '{inputs[j]}' gives {list(b)}"


@dataclass(frozen=True)
class Cost:
    """One layer's counts for one sample. All exact ints.

    macs: multiply-accumulates of conv/linear, bias adds excluded (the default convention).
    elementops: every other arithmetic op (bias adds, pooling, activations, norms, adds),
        kept apart from MACs; each kind documents its rule.
    fvcore: what fvcore's default handles count for this layer, if that differs from macs.
    """

    weights: int = 0
    biases: int = 0
    macs: int = 0
    elementops: int = 0
    fvcore: int | None = None

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def fvcore_count(self) -> int:
        return self.macs if self.fvcore is None else self.fvcore


def numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def spatial(shape, kind: str):
    """(C, H, W) of a feature map, or a ShapeError that says what came in."""
    if len(shape) != 3:
        raise ShapeError(f"{kind} needs a (C, H, W) feature map, but its input is flat {list(shape)}; "
                         f"it must come before flatten")
    return shape


def patch_text(kernel, stride) -> str:
    """Table 1's "patch size/stride" text: '7×7/2', or '1×7/1×2' for unequal strides."""
    ks = f"{kernel[0]}×{kernel[1]}"
    return f"{ks}/{stride[0]}" if stride[0] == stride[1] else f"{ks}/{stride[0]}×{stride[1]}"


def fmt_pair(p) -> str:
    return f"{p[0]}" if p[0] == p[1] else f"{p[0]}x{p[1]}"


class LayerKind:
    """Base class for a registry entry. Subclasses set the class attributes and override
    ``shape`` and ``cost``; ``build`` returns the equivalent torch module (torch imported lazily)."""

    name: str = ""
    summary: str = ""
    args: dict = {}
    #: how many inputs: 1, or None for "two or more" (concat, add)
    arity: int | None = 1
    #: the row label in a Table-1 style report
    table_type: str = ""
    #: element-op rule, for the README's layer table
    elementops_rule: str = "0"
    #: True for kinds that fold into the preceding row of a Table-1 report (relu, norm, flatten)
    folds_into_previous: bool = False

    def shape(self, a: dict, inputs: list) -> tuple:
        raise NotImplementedError

    def cost(self, a: dict, inputs: list, out: tuple) -> Cost:
        return Cost()

    def build(self, a: dict, inputs: list):
        raise NotImplementedError(f"{self.name} has no torch equivalent")

    def label(self, a: dict) -> str:
        """The row label in a Table-1 style report."""
        return self.table_type or self.name

    def patch(self, a: dict) -> str:
        """Kernel/stride text for a Table-1 report, e.g. '7x7/2'; '' if none."""
        return ""

    def depth(self, a: dict) -> int:
        """Layers with weights count 1 toward the paper's 'depth' column."""
        return 0
