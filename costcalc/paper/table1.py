"""The GoogLeNet paper's Table 1 layout, derived from any spec's layer graph.

One row per top-level entry of the spec (a layer, a block instance or a repeat group). Layers
whose kind ``folds_into_previous`` (activations, norms, flatten) join the row above, as in the
paper. Each kind's row text comes from its entry in paper/presentation.py (row type, label,
patch, depth); a block supplies its row through a ``table:`` mapping::

    blocks:
      inception:
        params: [c1, c3r, c3, c5r, c5, pp]
        table: {type: inception, "#1×1": $c1, "#3×3 reduce": $c3r, "#3×3": $c3,
                "#5×5 reduce": $c5r, "#5×5": $c5, "pool proj": $pp}
      conv_reduce:
        params: [reduce, out]
        table: {type: convolution, patch_of: conv, "#3×3 reduce": $reduce, "#3×3": $out}

``type`` is the row type, ``patch_of`` names the block layer whose kernel/stride fills the
patch column, and every other key is a filter column with its value (parameters substituted).
An instance's ``label:`` (e.g. ``inception (3a)``) is the row's display label.

Depth is the number of layers with weights (conv, linear) on the longest path through the row's
layers: 2 for an inception module and for the conv2 stage, as the paper prints.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from costcalc.errors import CostcalcError, brief
from costcalc.paper import presentation
from costcalc.spec.yamlio import pos_of
from costcalc.spec.substitute import substitute

#: the paper's filter columns, in its order; other filter columns follow in first-seen order
PAPER_COLUMNS = ("#1×1", "#3×3 reduce", "#3×3", "#5×5 reduce", "#5×5", "pool proj")
ROW_KEYS = ("type", "patch_of")


@dataclass
class Table1Row:
    name: str  # the top-level entry: a layer name or a block-instance path
    type: str  # "convolution", "max pool", "inception"
    label: str  # display text: "inception (3a)", "dropout (40%)"
    patch: str  # "7×7/2", or ""
    output: tuple  # the row's last layer's output
    depth: int
    filters: dict  # filter column -> count
    params: int
    weights: int
    macs: int
    layers: list  # the paths the row holds
    claims: list = field(default_factory=list)  # Outcomes of claims on this row's entry

    @property
    def output_chw(self) -> list:
        """[C, H, W]; flat features are F×1×1, as the paper prints a linear layer."""
        return list(self.output) if len(self.output) == 3 else [self.output[0], 1, 1]


@dataclass
class Table1:
    name: str
    file: str | None
    columns: list  # the filter columns that appear
    rows: list
    totals: dict  # params, weights, macs
    claims: list  # Outcomes of claims on no single row (total, ratios, inner layers, globs)
    warnings: list = field(default_factory=list)  # the spec's warnings


def column_name(key) -> str:
    """'#3x3 reduce' → '#3×3 reduce': x between digits is read as ×."""
    return re.sub(r"(\d)\s*[xX]\s*(\d)", r"\1×\2", str(key).strip())


def build_table(result, outcomes=None) -> Table1:
    """Table 1 rows for a ModelResult; ``outcomes`` (claim Outcomes) attach to their rows."""
    graph = result.graph
    groups: list[tuple[str, list]] = []  # (top-level name, [(node, layer result)])
    for node, layer in zip(graph.nodes, result.layers):
        top = node.path.split("/", 1)[0]
        if groups and groups[-1][0] == top:
            groups[-1][1].append((node, layer))
        elif groups and not node.scope and presentation.of(node.kind.name).folds_into_previous:
            groups[-1][1].append((node, layer))
        else:
            groups.append((top, [(node, layer)]))
    rows = [_row(graph, top, members) for top, members in groups]
    columns = [c for c in PAPER_COLUMNS if any(c in r.filters for r in rows)]
    for r in rows:
        columns += [c for c in r.filters if c not in columns]
    by_name = {r.name: r for r in rows}
    loose = []
    for o in outcomes or []:
        row = by_name.get(o.path) if o.expectation.ratio is None else None
        (row.claims if row is not None else loose).append(o)
    t = result.totals
    return Table1(result.name, result.file, columns, rows,
                  {"params": t["params"], "weights": t["weights"], "macs": t["macs"]}, loose,
                  list(result.warnings))


def _row(graph, top, members) -> Table1Row:
    nodes = [n for n, _ in members]
    first = nodes[0]
    inst = graph.instances.get(top)
    filters: dict = {}
    if inst is not None and inst.block is not None:
        rtype, patch, filters = _block_row(graph, inst, top, nodes)
        label = inst.label or rtype
    elif inst is not None:  # a repeat group: described by its first copy
        copies = len({n.path[len(top) + 1:].split("/")[0] for n in nodes if n.path.startswith(top + "/")})
        copy0 = graph.instances.get(f"{top}/0")
        if copy0 is not None and copy0.block is not None:  # copies of a block
            rtype, patch, filters = _block_row(graph, copy0, f"{top}/0",
                                               [n for n in nodes if n.path.startswith(f"{top}/0/")])
            label = inst.label or f"{rtype} ×{copies}"
        else:
            rtype = presentation.row_type(first.kind.name)
            label = inst.label or f"{presentation.label(first.kind.name, first.args)} ×{copies}"
            patch = presentation.of(first.kind.name).patch(first.args)
    else:
        rtype = presentation.row_type(first.kind.name)
        label = first.label or presentation.label(first.kind.name, first.args)
        patch = presentation.of(first.kind.name).patch(first.args)
    layers = [l for _, l in members]
    values = [l.values for l in layers]
    return Table1Row(name=top, type=rtype, label=label, patch=patch, output=tuple(layers[-1].output),
               depth=_depth(nodes), filters=filters, params=sum(v["params"] for v in values),
               weights=sum(v["weights"] for v in values), macs=sum(v["macs"] for v in values),
               layers=[l.name for l in layers])


def _depth(nodes) -> int:
    """Layers with weights on the longest path through these nodes (paths from outside count 0)."""
    depth: dict[str, int] = {}
    for n in nodes:
        before = max((depth[p] for p in n.inputs if p in depth), default=0)
        depth[n.path] = before + presentation.of(n.kind.name).depth
    return max(depth.values(), default=0)


def _block_row(graph, inst, top, nodes):
    spec = graph.spec
    bdef = spec.blocks[inst.block]
    raw = bdef.table

    def err(msg, node=raw, key=None):
        pos = pos_of(node, key) or bdef.pos
        return CostcalcError(f"block '{bdef.name}': table: {msg}", file=spec.file,
                             line=pos[0] if pos else None, column=pos[1] if pos else None)

    if not isinstance(raw, dict):
        raise err("'table' must be a mapping such as {type: inception, \"#1×1\": $c1}")
    try:
        table = substitute(raw, inst.args)
    except CostcalcError as exc:
        raise exc.located(file=spec.file, line=(bdef.pos or (None,))[0],
                          column=bdef.pos[1] if bdef.pos else None, layer=top)
    rtype = table.get("type", inst.block)
    if not isinstance(rtype, str) or not rtype.strip():
        raise err("'type' is the row's type as text, e.g. inception", raw, "type")
    patch = ""
    if "patch_of" in table:
        target = f"{top}/{table['patch_of']}"
        node = next((n for n in nodes if n.path == target), None)
        if node is None:
            raise err(f"'patch_of' names '{table['patch_of']}', which is not a layer of the block",
                      raw, "patch_of")
        patch = presentation.of(node.kind.name).patch(node.args)
    filters = {}
    for key, value in table.items():
        if key in ROW_KEYS:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise err(f"filter column '{key}' must be a whole number (or $param), not {brief(value)}",
                      raw, key)
        filters[column_name(key)] = value
    return rtype.strip(), patch, filters
