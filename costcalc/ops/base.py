"""What a layer kind is: its argument schema, its shape rule and its cost rule, nothing else.

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
    What a tool counts instead (fvcore's batchnorm rule) is the tool's convention
    (counting/conventions.py), not the kind's.
    """

    weights: int = 0
    biases: int = 0
    macs: int = 0
    elementops: int = 0

    @property
    def params(self) -> int:
        return self.weights + self.biases


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


def fmt_pair(p) -> str:
    return f"{p[0]}" if p[0] == p[1] else f"{p[0]}x{p[1]}"


class LayerKind:
    """Base class for a registry entry. Subclasses set the class attributes and override
    ``shape`` and ``cost``."""

    name: str = ""
    summary: str = ""
    args: dict = {}
    #: how many inputs: 1, or None for "two or more" (concat, add)
    arity: int | None = 1
    #: element-op rule, for the README's layer table
    elementops_rule: str = "0"

    def shape(self, a: dict, inputs: list) -> tuple:
        raise NotImplementedError

    def cost(self, a: dict, inputs: list, out: tuple) -> Cost:
        return Cost()
