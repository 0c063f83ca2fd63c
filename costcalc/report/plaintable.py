"""rich's own output for a plain table, without rich's per-cell rendering.

rich renders every cell through its whole machinery (measure, wrap, pad, style: about 0.34 ms
per 7-cell row even with fixed column widths), which makes a 10,000-row layer table take
several seconds. When the output has no colour (a file or a pipe), every cell is one line of
plain text and the table fits the console's width, rich's layout is fully determined by the
cells' widths: each column is as wide as its widest cell, padded by one space each side, the
rows joined by the box's own characters. ``plain_lines`` writes exactly that, using rich's box,
its cell widths (``rich.cells.cell_len``) and its column settings. A table wider than the
console gets rich's own column widths, and each cell that does not fit is rendered (wrapped,
folded) by rich alone. Anything else (a terminal, a setting it does not cover) returns None,
and rich renders the table itself. tests/test_plaintable.py checks the two are equal byte
for byte.
"""
from __future__ import annotations

from rich import box as boxes
from rich.cells import cell_len

def _width(s) -> int:
    """The cells rich gives ``s``: one line of printable text, each character one cell wide
    (ASCII, or what rich counts so); -1 for anything else (wide and zero-width characters,
    tabs, control codes), which is left to rich."""
    if not isinstance(s, str):
        return -1
    if s.isascii():
        return len(s) if s.isprintable() else -1
    return len(s) if s.isprintable() and all(cell_len(c) == 1 for c in s) else -1


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
    lengths = {}  # text -> its width in cells
    widths = []
    for col, cells in zip(columns, grid):
        extra = ([col.header] if show_header else []) + ([col.footer] if show_footer else [])
        if not set(map(type, cells + extra)) <= {str}:  # a rich renderable (Text, a table ...)
            return None
        texts = set(cells + extra)  # each distinct text once: repeated layers repeat their cells
        widest = 0
        for text in texts:
            n = lengths.get(text)
            if n is None:
                n = lengths[text] = _width(text)
                if n < 0:
                    return None
            if n > widest:
                widest = n
        widths.append(widest + 2)
    table_width = sum(widths) + len(columns) + 1
    if table_width > console.width:
        if len(table.rows) > MAX_WRAPPED_ROWS:
            return None
        # too wide: rich's own layout decides the widths (it measures every cell), and a cell
        # that does not fit its column is wrapped by rich (_wrapped)
        widths = table._calculate_column_widths(
            console, console.options.update_width(console.width - table._extra_width))
        table_width = sum(widths) + len(columns) + 1
    title = table.title
    if title and (_width(title) < 0 or title != " ".join(title.split()) or cell_len(title) > table_width):
        return None
    box = table.box.substitute(console.options, safe=console.safe_box if table.safe_box is None
                               else table.safe_box)

    rooms = [w - 2 for w in widths]
    lefts = [c.justify == "left" for c in columns]

    def line(cells, left, vertical, right):
        out = []
        for text, room, is_left in zip(cells, rooms, lefts):
            pad = room - lengths[text]
            if pad < 0:
                return _wrapped(console, cells, widths, columns, left, vertical, right)
            out.append(" " + text + " " * pad + " " if is_left else " " + " " * pad + text + " ")
        return left + vertical.join(out) + right

    lines = []
    if title:
        lines.append(title + " " * (table_width - cell_len(title)))
    lines.append(box.get_top(widths))
    if show_header:
        lines.append(line([c.header for c in columns], box.head_left, box.head_vertical, box.head_right))
        lines.append(box.get_row(widths, "head", edge=True))
    n = len(table.rows)
    padded = _padded_columns(grid, rooms, lefts, lengths)
    if padded is None:  # a cell wider than its column: rows of such cells are wrapped
        for i, cells in enumerate(zip(*grid)):
            last = i == n - 1 and not show_footer
            lines.append(line(cells, box.foot_left, box.foot_vertical, box.foot_right) if last else
                         line(cells, box.mid_left, box.mid_vertical, box.mid_right))
    else:
        body = list(map(box.mid_vertical.join, zip(*padded)))
        mid = body if show_footer else body[:-1]
        left, right = box.mid_left, box.mid_right
        lines += [left + text + right for text in mid]
        if body and not show_footer:
            lines.append(box.foot_left + box.foot_vertical.join(p[-1] for p in padded) + box.foot_right)
    if show_footer:
        lines.append(box.get_row(widths, "foot", edge=True))
        lines.append(line([c.footer for c in columns], box.foot_left, box.foot_vertical, box.foot_right))
    lines.append(box.get_bottom(widths))
    return lines


def _padded_columns(grid, rooms, lefts, lengths) -> list | None:
    """Each column's cells padded to its width (one space each side, justified), each distinct
    text padded once; None if a cell does not fit its column, or there are no columns."""
    out = []
    for cells, room, is_left in zip(grid, rooms, lefts):
        done = {}
        for text in set(cells):
            pad = room - lengths[text]
            if pad < 0:
                return None
            done[text] = " " + text + " " * pad + " " if is_left else " " + " " * pad + text + " "
        out.append(list(map(done.__getitem__, cells)))
    return out or None


#: a table wider than the console is laid out by rich, which measures every cell: beyond this
#: many rows, rich renders it whole
MAX_WRAPPED_ROWS = 2_000


def _wrapped(console, cells, widths, columns, left, vertical, right) -> str:
    """One row whose cells rich renders, each in its column's width (wrapped or folded as the
    column says), top-aligned and padded to the row's height: the lines of rich's Table._render
    for the row, as text (there is no colour to keep)."""
    rendered = []
    for text, width, col in zip(cells, widths, columns):
        opts = console.options.update(width=width - 2, justify=col.justify, no_wrap=col.no_wrap,
                                      overflow=col.overflow, height=None, highlight=col.highlight)
        lines = console.render_lines(text, opts, pad=True)
        rendered.append([" " + "".join(seg.text for seg in ln) + " " for ln in lines])
    height = max(len(r) for r in rendered)
    for r, width in zip(rendered, widths):
        r += [" " * width] * (height - len(r))
    return "\n".join(left + vertical.join(r[i] for r in rendered) + right for i in range(height))


def add_rows(table, rows, styles) -> None:
    """``table.add_row(*cells, style=style)`` for each row of text cells and its style, a
    column at a time: what add_row stores (each cell in its column, a Row per row), without its
    checks per cell, which are the most of a 100,000-row table's time."""
    from rich.table import Row

    columns = table.columns
    grid = list(zip(*rows))
    if rows and (set(map(len, rows)) != {len(columns)} or any(set(map(type, c)) != {str} for c in grid)):
        for cells, style in zip(rows, styles):  # anything else: rich's own way
            table.add_row(*cells, style=style)
        return
    for column, cells in zip(columns, grid):
        column._cells.extend(cells)
    table.rows.extend(Row(style=style) for style in styles)


def print_table(console, table) -> None:
    """``console.print(table)``, through plain_lines when it applies."""
    lines = plain_lines(table, console)
    if lines is None:
        console.print(table)
    else:
        console.file.write("\n".join(lines) + "\n")
