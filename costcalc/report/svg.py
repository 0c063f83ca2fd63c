"""Inline SVG for the HTML report: per-layer bar charts (blocks as collapsible <details>) and the
per-path diff chart. Strings only: no imports beyond the standard library.

Every bar is one ``<rect class="bar ...">`` with a ``<title>`` (on its row) that gives the row's
exact figures, so a chart of N layers holds exactly N bars of each metric.
"""
from __future__ import annotations

from html import escape

from costcalc.counting.compare import change_text
from costcalc.units import exact, human
from costcalc.report.rows import layer_rows
from costcalc.report.text import shape_text

ROW = 18  # px per row
NAME_W = 320  # the name column
COL_W = 230  # one metric column: the bar and its short figure
BAR_W = 150  # the longest bar
INDENT = 12  # px per nesting level

#: (css class, Row attribute, column title given the ops unit)
METRICS = (("ops", "ops", lambda unit: unit), ("params", "params", lambda unit: "params"),
           ("acts", "activations", lambda unit: "activations (elements)"))


def esc(text) -> str:
    return escape(str(text), quote=True)


def fit(text: str, px: float, char_px: float = 6.2) -> str:
    """``text`` cut with '…' to about ``px`` pixels of 11px text (the hover title has it whole)."""
    n = max(int(px / char_px), 4)
    return text if len(text) <= n else text[: n - 1] + "…"


def _width(value: int, scale: int) -> str:
    """A bar's width in px (3 decimals) for ``value`` against ``scale`` (the longest bar)."""
    return f"{BAR_W * value / scale:.3f}".rstrip("0").rstrip(".") if scale and value else "0"


def chart_width(columns: int) -> int:
    return NAME_W + COL_W * columns


def header_svg(titles) -> str:
    cells = "".join(f'<text x="{NAME_W + i * COL_W}" y="13" class="colh">{esc(t)}</text>'
                    for i, t in enumerate(titles))
    return (f'<svg class="rows head" width="{chart_width(len(titles))}" height="{ROW}">'
            f'<text x="4" y="13" class="colh">layer</text>{cells}</svg>')


def _row(y: int, row, scales, unit: str, block: bool) -> str:
    """One row: its name (indented by level), one bar per metric, and its exact figures as the
    hover <title>."""
    short = row.name.rsplit("/", 1)[-1]
    what = row.kind + (f" · {shape_text(row.output)}" if row.output else "")
    figures = "\n".join(f"{title(unit)}: {exact(getattr(row, attr))}" for _, attr, title in METRICS)
    scope = " (block subtotal)" if block else ""
    parts = [f'<g transform="translate(0,{y})"><title>{esc(row.name)} · {esc(what)}{scope}\n'
             f'{esc(figures)}</title>'
             f'<rect class="hit" width="{chart_width(len(METRICS))}" height="{ROW}"/>'
             f'<text x="{4 + INDENT * row.level}" y="13" class="{"bname" if block else "lname"}">'
             + ('<tspan class="shut">▸ </tspan><tspan class="open">▾ </tspan>' if block else "")
             + f'{esc(fit(short, NAME_W - 8 - INDENT * (row.level + 2 * block)))}</text>']
    for i, (css, attr, _) in enumerate(METRICS):
        x = NAME_W + i * COL_W
        value = getattr(row, attr)
        w = _width(value, scales[i])
        kind = "sub" if block else "bar"
        parts.append(f'<rect class="{kind} {css}" x="{x}" y="3" width="{w}" height="{ROW - 6}"/>'
                     f'<text x="{x + BAR_W + 4}" y="13" class="fig">{human(value)}</text>')
    parts.append("</g>")
    return "".join(parts)


def _run(rows, scales, unit) -> str:
    body = "".join(_row(i * ROW, r, scales, unit, False) for i, r in enumerate(rows))
    return (f'<svg class="rows" width="{chart_width(len(METRICS))}" height="{ROW * len(rows)}">'
            f'{body}</svg>')


def _tree(result):
    """layer_rows as a tree: ('layer', Row) and ('block', Row, children), in spec order (a block's
    subtotal row follows its layers in layer_rows; here it heads them)."""
    pending: dict[int, list] = {}
    for row in layer_rows(result):
        if row.subtotal:
            children = pending.pop(row.level + 1, [])
            pending.setdefault(row.level, []).append(("block", row, children))
        else:
            pending.setdefault(row.level, []).append(("layer", row))
    return pending.get(0, [])


def _rows(items):
    for item in items:
        yield item[1]
        if item[0] == "block":
            yield from _rows(item[2])


def layer_chart(result, open_blocks: bool = False) -> str:
    """Per-layer bar charts of the ops figure (MACs by default), params and activations, side by
    side on shared rows, every bar of a column (layers and block subtotals, lighter) on one scale.
    Blocks are <details>, closed unless ``open_blocks``."""
    unit = result.convention.unit
    tree = _tree(result)
    scales = [max((getattr(r, attr) for r in _rows(tree)), default=0) for _, attr, _ in METRICS]
    out = [header_svg([title(unit) for _, _, title in METRICS])]
    opened = " open" if open_blocks else ""

    def emit(items):
        run = []
        for item in items:
            if item[0] == "layer":
                run.append(item[1])
                continue
            if run:
                out.append(_run(run, scales, unit))
                run = []
            _, row, children = item
            out.append(f'<details class="blk"{opened}><summary>'
                       f'<svg class="rows" width="{chart_width(len(METRICS))}" height="{ROW}">'
                       f'{_row(0, row, scales, unit, True)}</svg></summary>')
            emit(children)
            out.append("</details>")
        if run:
            out.append(_run(run, scales, unit))

    emit(tree)
    return "".join(out)


def diff_chart(data: dict, limit: int = 2000) -> str:
    """The per-path diff of `costcalc compare` (compare.compare's data) as bars: one row per path
    that differs between the models, one bar per model for the ops figure and for params, each
    scaled to the largest value of its column. Up to ``limit`` rows are drawn."""
    models = [m["name"] for m in data["models"]]
    unit = data["paths_unit"]
    rows = [p for p in data["paths"] if len({_key(v) for v in p["values"]}) > 1]
    hidden = len(rows) - limit if len(rows) > limit else 0
    rows = rows[:limit]
    cols = (("ops", unit), ("params", "params"))
    scales = [max((v[key] for p in rows for v in p["values"] if v), default=0) for key, _ in cols]
    k = len(models)
    bar_h = 6
    row_h = k * bar_h + 6
    width = chart_width(len(cols))
    parts = [header_svg([t for _, t in cols]),
             f'<svg class="rows diff" width="{width}" height="{row_h * len(rows)}">']
    for r, p in enumerate(rows):
        lines = []
        first = p["values"][0]
        for i, (name, v) in enumerate(zip(models, p["values"])):
            line = f"{name}: " + ("not in this model" if v is None else
                                  f"{unit} {exact(v['ops'])}, params {exact(v['params'])}")
            if i and v and first:
                line += f" ({unit} {change_text(first['ops'], v['ops'])})"
            lines.append(line)
        parts.append(f'<g transform="translate(0,{r * row_h})"><title>{esc(p["path"])}\n'
                     f'{esc(chr(10).join(lines))}</title>'
                     f'<rect class="hit" width="{width}" height="{row_h}"/>'
                     f'<text x="4" y="{row_h // 2 + 4}" class="lname">{esc(fit(p["path"], NAME_W - 8))}</text>')
        for c, (key, _) in enumerate(cols):
            x = NAME_W + c * COL_W
            for i, v in enumerate(p["values"]):
                value = v[key] if v else 0
                parts.append(f'<rect class="dbar m{i % 6}" x="{x}" y="{3 + i * bar_h}" '
                             f'width="{_width(value, scales[c])}" height="{bar_h - 1}"/>')
        parts.append("</g>")
    parts.append("</svg>")
    if hidden:
        parts.append(f'<p class="note">… and {hidden:,} more differing paths not drawn '
                     f'(`costcalc compare --format json` lists every path)</p>')
    if not rows:
        parts.append('<p class="note">no path differs between the models</p>')
    return "".join(parts)


def _key(v):
    return None if v is None else (v["params"], v["ops"])
