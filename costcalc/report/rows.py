"""Display rows for a per-layer report: layers, block subtotals, and --depth collapsing.

Pure data; the renderers decide how a row looks.
"""
from __future__ import annotations

from dataclasses import dataclass

from costcalc.counting.results import ModelResult


@dataclass(slots=True)
class DisplayRow:
    name: str  # full path
    level: int  # nesting level, 0 at the top
    kind: str  # layer kind, or "block <name>" / "repeat"
    output: tuple | None
    params: int
    ops: int  # the convention's figure
    elementops: int
    activations: int
    subtotal: bool = False  # a block's subtotal row, printed after its layers


def _kind_of(instance) -> str:
    return f"block {instance.block}" if instance.block else "repeat"


def layer_rows(result: ModelResult, depth: int | None = None) -> list[DisplayRow]:
    """Rows in spec order. Block instances get a subtotal row after their layers; with
    ``depth`` N, anything nested deeper than N path components collapses into its block row."""
    instances = result.graph.instances
    scope_totals = result.scope_totals() if instances else {}
    rows: list[DisplayRow] = []
    open_scopes: list[str] = []  # innermost last
    last_output = None  # the output of the layer before the one being placed

    def close_until(scope: str):
        while open_scopes and not (scope == open_scopes[-1] or scope.startswith(open_scopes[-1] + "/")):
            path = open_scopes.pop()
            level = path.count("/")
            if depth is None or level < depth:
                collapsed = depth is not None and level == depth - 1
                totals = scope_totals[path]
                # every layer since the scope opened was inside it: the one before is its last
                rows.append(DisplayRow(path, level, _kind_of(instances[path]), last_output,
                                totals["params"], totals["ops"], totals["elementops"],
                                totals["activations"], subtotal=not collapsed))

    current = ""  # the innermost open scope ("" when none is)
    for layer in result.layers:
        scope = layer.scope
        if scope != current:
            close_until(scope)
            chain = []
            s = scope
            while s and s not in open_scopes:
                chain.append(s)
                s = instances[s].parent
            open_scopes.extend(reversed(chain))
            current = scope
        name = layer.name
        level = name.count("/")
        if depth is None or level < depth:
            v = layer.values
            rows.append(DisplayRow(name, level, layer.kind, layer.output, v["params"], v["ops"],
                                   v["elementops"], v["activations"]))
        last_output = layer.output
    close_until("")
    return rows
