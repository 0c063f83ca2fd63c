"""What a layer kind is: its argument schema, its shape rule and its cost rule, nothing else.

Shapes exclude the batch and may have any rank; each names its axes (its layout): (C, H, W)
for feature maps, (F,) for flat features, (T, D) for a sequence, (H, T, Dh) for attention
heads. A node with several outputs (split, chunk) has an ``Outputs`` of shapes.
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

    macs: multiply-accumulates of conv, linear, matmul and attention, bias adds excluded (the
        default convention).
    elementops: every other arithmetic op (bias adds, pooling, activations, norms, adds),
        kept apart from MACs; each kind documents its rule.
    cached: elements the layer keeps between decoding steps (attention's keys and values:
        the KV cache).
    What a tool counts instead (fvcore's batchnorm rule) is the tool's convention
    (counting/conventions.py), not the kind's.
    """

    weights: int = 0
    biases: int = 0
    macs: int = 0
    elementops: int = 0
    cached: int = 0

    @property
    def params(self) -> int:
        return self.weights + self.biases


#: the layout a shape gets when nobody names its axes, by rank
DEFAULT_LAYOUTS = {1: ("F",), 3: ("C", "H", "W")}


def default_layout(rank: int) -> tuple:
    return DEFAULT_LAYOUTS.get(rank) or tuple(f"d{i}" for i in range(rank))


class Shape(tuple):
    """A tensor shape without the batch, with a name for each axis: Shape((3, 224, 224)) has
    the layout (C, H, W). Equal to the plain tuple of its sizes."""

    def __new__(cls, dims, layout=None):
        self = super().__new__(cls, dims)
        self.layout = tuple(layout) if layout is not None else default_layout(len(self))
        return self

    def __reduce__(self):
        return (Shape, (tuple(self), self.layout))

    def axis(self, a) -> int:
        """The index of axis ``a``: a name of the layout, or an int (negative from the end)."""
        if isinstance(a, str):
            if a not in self.layout:
                raise ShapeError(f"the input has no axis '{a}' (its layout is "
                                 f"[{', '.join(self.layout)}])")
            return self.layout.index(a)
        if not -len(self) <= a < len(self):
            raise ShapeError(f"axis {a} is out of range for a rank-{len(self)} input "
                             f"[{', '.join(self.layout)}]")
        return a % len(self)

    def size(self, name: str) -> int:
        return self[self.axis(name)]


class Outputs(tuple):
    """The shapes of a node with several outputs, read as ``name.0``, ``name.1`` ..."""


def as_shape(out, like) -> "Shape | Outputs":
    """A shape rule's result with its layout: kept if the rule named one, else the first
    input's layout when the rank is the same, else the default for the rank."""
    if isinstance(out, Outputs):
        return Outputs(as_shape(o, like) for o in out)
    if isinstance(out, Shape):
        return out
    layout = like.layout if isinstance(like, Shape) and len(like) == len(out) else None
    return Shape(out, layout)


def with_batch(shape, n: int) -> tuple:
    """The shape with the batch first; for several outputs, a tuple of such shapes."""
    if isinstance(shape, Outputs):
        return tuple(with_batch(o, n) for o in shape)
    return (n,) + tuple(shape)


def numel(shape) -> int:
    if isinstance(shape, Outputs):
        return sum(numel(s) for s in shape)
    n = 1
    for d in shape:
        n *= d
    return n


def spatial(shape, kind: str):
    """(C, H, W) of a feature map, or a ShapeError that says what came in."""
    if len(shape) != 3:
        what = "flat" if len(shape) == 1 else f"rank-{len(shape)}"
        hint = "; it must come before flatten" if len(shape) == 1 else ""
        raise ShapeError(f"{kind} needs a (C, H, W) feature map, but its input is {what} "
                         f"{list(shape)}{hint}")
    return shape


def fmt_pair(p) -> str:
    return f"{p[0]}" if p[0] == p[1] else f"{p[0]}x{p[1]}"


class LayerKind:
    """Base class for a registry entry. Subclasses set the class attributes and override
    ``shape`` and ``cost``."""

    name: str = ""
    summary: str = ""
    args: dict = {}
    #: how many inputs, (fewest, most); most None for no limit: (2, None) is "two or more"
    arity: tuple = (1, 1)
    #: multiply-accumulate rule (what every tool's MAC count is), for `costcalc kinds` and the README
    macs_rule: str = "0"
    #: element-op rule, for the README's layer table
    elementops_rule: str = "0"

    def shape(self, a: dict, inputs: list) -> tuple:
        raise NotImplementedError

    def cost(self, a: dict, inputs: list, out: tuple) -> Cost:
        return Cost()

    def placeholder_for(self, a: dict) -> str | None:
        """The op a placeholder layer stands for (counted as 0, so every analysis names it in
        a warning), or None for a real kind."""
        return None
