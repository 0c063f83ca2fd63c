"""rich's own output for a plain table, without rich's per-cell rendering.

rich renders every cell through its whole machinery (measure, wrap, pad, style: about 0.34 ms
per 7-cell row even with fixed column widths), which makes a 10,000-row layer table take
several seconds. When the output has no colour (a file or a pipe), every cell is one line of
plain text and the table fits the console's width, rich's layout is fully determined by the
cells' widths: each column is as wide as its widest cell, padded by one space each side, the
rows joined by the box's own characters. ``plain_lines`` writes exactly that, using rich's box,
its cell widths (``rich.cells.cell_len``) and its column settings; anything else (a terminal,
a cell that would wrap, a table wider than the console, a setting it does not cover) returns
None, and rich renders the table itself. tests/test_plaintable.py checks the two are equal byte
for byte.
"""
from __future__ import annotations

from rich import box as boxes
from rich.cells import cell_len

#: characters whose width rich and this module agree on without asking (besides printable ASCII)
_SAFE = frozenset("×Σ—−…≤≥·Δ→±µ✓✗")


def _plain(s) -> bool:
    return isinstance(s, str) and (s.isascii() and s.isprintable() or
                                   all(c in _SAFE or (c.isascii() and c.isprintable()) for c in s))


def _simple(table) -> bool:
    """The table uses only what plain_lines reproduces."""
    return (table.box is boxes.SIMPLE_HEAD and table.show_edge and table.pad_edge and table.show_header
            and not table.expand and table.width is None and table.min_width is None
            and not table.show_lines and not table.leading and not table.collapse_padding
            and tuple(table.padding) == (0, 1, 0, 1) and not table.caption
            and (not table.title or table.title_justify == "left")
            and all(c.width is None and c.min_width is None and c.max_width is None
                    and c.ratio is None and c.justify in ("left", "right") for c in table.columns)
            and not any(r.end_section for r in table.rows))


def plain_lines(table, console) -> list[str] | None:
    """The lines rich prints for ``table`` on ``console``, or None if rich must render it."""
    if console.color_system is not None or console.record or not _simple(table):
        return None
    columns = table.columns
    show_header, show_footer = table.show_header, table.show_footer
    grid = [list(c.cells) for c in columns]
    texts = []
    for col, cells in zip(columns, grid):
        extra = ([col.header] if show_header else []) + ([col.footer] if show_footer else [])
        if not all(_plain(x) for x in extra) or not all(map(_plain, cells)):
            return None
        texts.append(extra)
    widths = []
    for cells, extra in zip(grid, texts):
        widths.append(max(map(cell_len, cells + extra), default=0) + 2)
    table_width = sum(widths) + len(columns) + 1
    if table_width > console.width:
        return None
    title = table.title
    if title and (not _plain(title) or title != " ".join(title.split()) or cell_len(title) > table_width):
        return None
    box = table.box.substitute(console.options, safe=console.safe_box if table.safe_box is None
                               else table.safe_box)

    def line(cells, left, vertical, right):
        out = []
        for text, width, col in zip(cells, widths, columns):
            pad = " " * (width - 2 - cell_len(text))
            out.append(f" {text}{pad} " if col.justify == "left" else f" {pad}{text} ")
        return left + vertical.join(out) + right

    lines = []
    if title:
        lines.append(title + " " * (table_width - cell_len(title)))
    lines.append(box.get_top(widths))
    if show_header:
        lines.append(line([c.header for c in columns], box.head_left, box.head_vertical, box.head_right))
        lines.append(box.get_row(widths, "head", edge=True))
    n = len(table.rows)
    for i, cells in enumerate(zip(*grid)):
        last = i == n - 1 and not show_footer
        lines.append(line(cells, box.foot_left, box.foot_vertical, box.foot_right) if last else
                     line(cells, box.mid_left, box.mid_vertical, box.mid_right))
    if show_footer:
        lines.append(box.get_row(widths, "foot", edge=True))
        lines.append(line([c.footer for c in columns], box.foot_left, box.foot_vertical, box.foot_right))
    lines.append(box.get_bottom(widths))
    return lines


def print_table(console, table) -> None:
    """``console.print(table)``, through plain_lines when it applies."""
    lines = plain_lines(table, console)
    if lines is None:
        console.print(table)
    else:
        console.file.write("\n".join(lines) + "\n")
