"""Display rows for a per-layer report: layers, block subtotals, and --depth collapsing.

Pure data; the renderers decide how a row looks.
"""
from __future__ import annotations

from typing import NamedTuple

from costcalc.counting.results import ModelResult


class Figures(NamedTuple):
    """What a row shows after its name. Equal layers (repeat:, block instances) share one
    values dict in the result, hence one Figures here: a renderer formats each once."""

    kind: str  # layer kind, or "block <name>" / "repeat"
    output: tuple | None
    params: int
    ops: int  # the convention's figure
    elementops: int
    activations: int


class DisplayRow:
    """One row: a layer, or a block's subtotal printed after its layers."""

    __slots__ = ("name", "level", "figures", "subtotal")

    def __init__(self, name: str, level: int, figures: Figures, subtotal: bool = False):
        self.name = name  # full path
        self.level = level  # nesting level, 0 at the top
        self.figures = figures
        self.subtotal = subtotal

    kind = property(lambda self: self.figures.kind)
    output = property(lambda self: self.figures.output)
    params = property(lambda self: self.figures.params)
    ops = property(lambda self: self.figures.ops)
    elementops = property(lambda self: self.figures.elementops)
    activations = property(lambda self: self.figures.activations)

    def __repr__(self) -> str:
        return f"DisplayRow({self.name!r}, {self.level}, {self.figures!r}, subtotal={self.subtotal})"


def _kind_of(instance) -> str:
    return f"block {instance.block}" if instance.block else "repeat"


def _figures(kind, output, values) -> Figures:
    return Figures(kind, output, values["params"], values["ops"], values["elementops"],
                   values["activations"])


def layer_rows(result: ModelResult, depth: int | None = None) -> list[DisplayRow]:
    """Rows in spec order. Block instances get a subtotal row after their layers; with
    ``depth`` N, anything nested deeper than N path components collapses into its block row."""
    instances = result.graph.instances
    scope_totals = result.scope_totals() if instances else {}
    rows: list[DisplayRow] = []
    append = rows.append
    open_scopes: list[str] = []  # innermost last
    last = None  # the node before the one being placed
    shared: dict = {}  # id(values dict) -> its Figures (equal layers share one values dict)

    def close_until(scope: str):
        while open_scopes and not (scope == open_scopes[-1] or scope.startswith(open_scopes[-1] + "/")):
            path = open_scopes.pop()
            level = path.count("/")
            if depth is None or level < depth:
                collapsed = depth is not None and level == depth - 1
                # every layer since the scope opened was inside it: the one before is its last
                append(DisplayRow(path, level, _figures(_kind_of(instances[path]),
                                                        result.graph.shapes[last.path],
                                                        scope_totals[path]), subtotal=not collapsed))

    current = ""  # the innermost open scope ("" when none is)
    level = 0  # of the layers in the current scope
    shapes = result.graph.shapes
    for node, values in result.facts():
        scope = node.scope
        if scope != current:
            close_until(scope)
            chain = []
            s = scope
            while s and s not in open_scopes:
                chain.append(s)
                s = instances[s].parent
            open_scopes.extend(reversed(chain))
            current = scope
            level = scope.count("/") + 1 if scope else 0
        last = node
        if depth is None or level < depth:
            figures = shared.get(id(values))
            if figures is None:
                figures = shared[id(values)] = _figures(node.kind.name, shapes[node.path], values)
            append(DisplayRow(node.path, level, figures))
    close_until("")
    return rows
