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

from itertools import repeat
from operator import attrgetter

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


_END_SECTION = attrgetter("end_section")


def _simple(table) -> bool:
    """The table uses only what plain_lines reproduces."""
    # a simple head box with its edges, or (a chart) no box, no edges and no footer
    framed = table.box is boxes.SIMPLE_HEAD and table.show_edge
    bare = table.box is None and not table.show_edge and not table.show_footer
    return ((framed or bare) and table.pad_edge and table.show_header
            and not table.expand and table.width is None and table.min_width is None
            and not table.show_lines and not table.leading and not table.collapse_padding
            and tuple(table.padding) == (0, 1, 0, 1) and not table.caption
            and (not table.title or table.title_justify == "left")
            and all(c.min_width is None and c.max_width is None
                    and c.ratio is None and c.justify in ("left", "right") for c in table.columns)
            and not any(map(_END_SECTION, table.rows)))


def plain_lines(table, console) -> list[str] | None:
    """The lines rich prints for ``table`` on ``console``, or None if rich must render it."""
    if console.color_system is not None or console.record or not _simple(table):
        return None
    columns = table.columns
    show_header, show_footer = table.show_header, table.show_footer
    grid = [c._cells for c in columns]  # the lists Column.cells yields from (read only)
    widths = []
    longest = []  # each column's widest cell, header and footer aside
    distinct = []  # each column's distinct cells: repeated layers repeat their cells
    for col, cells in zip(columns, grid):
        extra = ([col.header] if show_header else []) + ([col.footer] if show_footer else [])
        try:
            texts = set(cells)
        except TypeError:  # an unhashable renderable (Text ...): rich renders it
            return None
        # a set is read in hash order, scattered in memory: a column of mostly distinct cells
        # (the layer names) is read in its own order instead
        seen = texts if len(texts) * 4 < len(cells) else cells
        # a rich renderable (a table ...) is one of the distinct cells (a str subclass equal to
        # a str may hide behind it, but rich prints such a cell as its str)
        if not set(map(type, seen)).union(map(type, extra)) <= {str}:
            return None
        distinct.append(texts)
        if not (_all_plain(seen) and _all_plain(extra)):
            return None
        # a plain text is as many cells wide as it has characters
        longest.append(max(map(len, seen), default=0))
        widest = max([longest[-1], *map(len, extra)])
        if col.width is not None:  # a fixed width: rich wraps or crops a cell wider than it
            if widest > col.width:
                return None
            widest = col.width
        widths.append(widest + 2)
    table_width = sum(widths) + table._extra_width
    if table_width > console.width:
        if len(table.rows) > MAX_WRAPPED_ROWS or any(c.width is not None for c in columns):
            return None  # (rich shrinks the other columns around a fixed width its own way)
        # too wide: rich's own layout decides the widths (it measures every cell), and a cell
        # that does not fit its column is wrapped by rich (_wrapped)
        widths = table._calculate_column_widths(
            console, console.options.update_width(console.width - table._extra_width))
        table_width = sum(widths) + table._extra_width
    title = table.title
    if title and (_width(title) < 0 or title != " ".join(title.split()) or cell_len(title) > table_width):
        return None
    box = table.box and table.box.substitute(console.options, safe=console.safe_box
                                             if table.safe_box is None else table.safe_box)
    edges = _Edges(box)

    rooms = [w - 2 for w in widths]
    lefts = [c.justify == "left" for c in columns]

    def line(cells, left, vertical, right):
        out = []
        for text, room, is_left in zip(cells, rooms, lefts):
            pad = room - len(text)
            if pad < 0:
                return _wrapped(console, cells, widths, columns, left, vertical, right)
            out.append(" " + text + " " * pad + " " if is_left else " " + " " * pad + text + " ")
        return left + vertical.join(out) + right

    lines = []
    if title:
        lines.append(title + " " * (table_width - cell_len(title)))
    if box:
        lines.append(box.get_top(widths))
    if show_header:
        lines.append(line([c.header for c in columns], *edges.head))
        if box:
            lines.append(box.get_row(widths, "head", edge=True))
    n = len(table.rows)
    if columns and all(w <= room for w, room in zip(longest, rooms)):
        # every cell fits: justify each column's cells at once, then join each row's
        body = n if show_footer else n - 1
        lines += _fitted_rows([cells[:body] for cells in grid], distinct, rooms, lefts, *edges.mid)
        if n and not show_footer:
            lines += _fitted_rows([cells[-1:] for cells in grid], distinct, rooms, lefts, *edges.foot)
    else:  # a cell wider than its column: rows of such cells are wrapped
        for i, cells in enumerate(zip(*grid)):
            last = i == n - 1 and not show_footer
            lines.append(line(cells, *(edges.foot if last else edges.mid)))
    if show_footer:
        lines.append(box.get_row(widths, "foot", edge=True))
        lines.append(line([c.footer for c in columns], *edges.foot))
    if box:
        lines.append(box.get_bottom(widths))
    return lines


class _Edges:
    """(left, vertical, right) of the header, the body rows and the last row: the box's
    characters, or nothing for a table without a box (and without edges)."""

    def __init__(self, box):
        self.head = (box.head_left, box.head_vertical, box.head_right) if box else ("", "", "")
        self.mid = (box.mid_left, box.mid_vertical, box.mid_right) if box else ("", "", "")
        self.foot = (box.foot_left, box.foot_vertical, box.foot_right) if box else ("", "", "")


def _fitted_rows(cells, distinct, rooms, lefts, left, vertical, right) -> list[str]:
    """Rows whose every cell fits its column: ``cells[i]`` is column i's list, ``distinct[i]``
    its distinct texts. The cells after the first repeat together in a layer table (equal
    layers, equal figures), so each distinct run of them is justified and joined once."""
    count = len(cells[0])
    sep = " " + vertical + " "
    heads = map((left + " ").__add__, _justified(cells[0], count, distinct[0], rooms[0], lefts[0]))
    if len(cells) == 1:
        return list(map(str.__add__, heads, repeat(" " + right)))
    tails = list(zip(*cells[1:]))
    kinds = set(tails)
    if len(kinds) * 4 < count:
        text = {t: sep.join([c.ljust(room) if is_left else c.rjust(room)
                             for c, room, is_left in zip(t, rooms[1:], lefts[1:])]) + " " + right
                for t in kinds}
        return list(map(sep.join, zip(heads, map(text.__getitem__, tails))))
    justified = [heads, *(_justified(column, count, texts, room, is_left) for column, texts, room, is_left
                          in zip(cells[1:], distinct[1:], rooms[1:], lefts[1:]))]
    justified[-1] = map(str.__add__, justified[-1], repeat(" " + right))
    return list(map(sep.join, zip(*justified)))


def _justified(cells, count, texts, room, is_left):
    """An iterator of the ``count`` ``cells`` justified to ``room`` characters; ``texts``: the
    distinct ones among them, each justified once when they are few."""
    if len(texts) * 4 < count:
        done = {t: t.ljust(room) if is_left else t.rjust(room) for t in texts}
        return map(done.__getitem__, cells)
    return map(str.ljust if is_left else str.rjust, cells, repeat(room))


def _all_plain(texts) -> bool:
    """Every text is one line of printable text, each character one cell wide: _width >= 0 for
    each, checked on their characters at once."""
    joined = "".join(texts)  # printable ASCII is one cell a character (as rich counts)
    if not joined.isprintable():
        return False
    return joined.isascii() or all(cell_len(c) == 1 for c in set(joined) if not c.isascii())


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


def add_columns(table, cells, styles) -> None:
    """What ``table.add_row(*row, style=style)`` stores for each row and style, given the rows'
    cells a column at a time (``cells[i]``: column i's text, a row each): each cell in its column
    and a Row per row, without add_row's checks per cell, most of a 100,000-row table's time."""
    from rich.table import Row

    columns = table.columns
    if cells and (len(cells) != len(columns) or set(map(len, cells)) != {len(styles)}
                  or any(set(map(type, c)) != {str} for c in cells)):
        for row, style in zip(zip(*cells), styles):  # anything else: rich's own way
            table.add_row(*row, style=style)
        return
    for column, texts in zip(columns, cells):
        column._cells.extend(texts)
    rows_of = {style: Row(style=style) for style in set(styles)}  # rich only reads them ...
    table.rows.extend(map(rows_of.__getitem__, styles))
    if styles:  # ... but the last, which add_section marks: that one is its own
        table.rows[-1] = Row(style=styles[-1])


def print_table(console, table) -> None:
    """``console.print(table)``, through plain_lines when it applies."""
    lines = plain_lines(table, console)
    if lines is None:
        console.print(table)
    else:
        console.file.write("\n".join(lines) + "\n")
