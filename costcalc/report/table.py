"""rich renderers for the terminal. This is the only module that imports rich.table."""
from __future__ import annotations

import os
import sys

from rich import box
from rich.console import Console
from rich.table import Table

from costcalc.gcpause import without_gc
from costcalc.units import exact, human
from costcalc.report.plaintable import add_columns, print_table
from costcalc.report.rows import layer_rows
from costcalc.report.text import path_diff, shape_text, summary_lines


def console(stderr: bool = False) -> Console:
    """A console that is wide enough for full layer paths when output goes to a file or pipe."""
    stream = sys.stderr if stderr else sys.stdout
    columns = os.environ.get("COLUMNS", "")
    width = None if stream.isatty() else (int(columns) if columns.isdigit() and int(columns) >= 40 else 160)
    # markup and emoji off: names from a spec are printed as written ("[x]", ":smile:"), and
    # no cell is parsed for them (about a tenth of the table's render time)
    return Console(stderr=stderr, highlight=False, markup=False, emoji=False, soft_wrap=False, width=width)


def analyze_table(result, depth=None) -> Table:
    unit = result.convention.unit
    shape = "×".join(map(str, result.input))
    table = Table(title=f"{result.name}: input {shape}, batch {result.batch}, {result.convention.name} "
                        "convention", box=box.SIMPLE_HEAD, show_footer=True, title_justify="left")
    t = result.totals
    table.add_column("layer", footer="total", overflow="fold")
    table.add_column("kind")
    table.add_column("output", justify="right")
    table.add_column("params", justify="right", footer=human(t["params"]))
    table.add_column(unit, justify="right", footer=human(t["ops"]))
    table.add_column("element ops", justify="right", footer=human(t["elementops"]))
    table.add_column("activations", justify="right", footer=human(t["activations"]))
    rows = layer_rows(result, depth)
    cells: dict = {}  # id(row.figures) -> its cells: equal layers (repeat:, blocks) share Figures

    def figures(row):
        f = row.figures
        known = cells.get(id(f))
        if known is None:
            known = cells[id(f)] = (f.kind, shape_text(f.output), human(f.params), human(f.ops),
                                    human(f.elementops), human(f.activations))
        return known

    names = [f"Σ {row.name}" if row.subtotal else row.name for row in rows]
    add_columns(table, [names, *zip(*map(figures, rows))] if rows else [],
                ["bold" if row.subtotal else None for row in rows])
    return table


@without_gc  # a row, a Row and cells per layer, all alive until printed: nothing to collect
def print_analyze(results, depth=None, out: Console | None = None, chart: bool = False):
    """Each result's layer table (or with ``chart``, its bars: chart_table) and totals, then its
    claims (``r.claims``) when it has any."""
    out = out or console()
    for i, r in enumerate(results):
        if i:
            out.print()
        print_table(out, chart_table(r, depth, out) if chart else analyze_table(r, depth))
        for line in summary_lines(r):
            out.print(line)
        if r.claims:
            out.print()
            print_claims(r.claims, out)


CHART_BAR = 24  # characters for the longest bar


def chart_table(result, depth=None, out: Console | None = None) -> Table:
    """`analyze --chart`: one line per row of layer_rows, a bar each for the ops figure, params
    and activations (each column on one scale: its largest row), with the rounded figure.
    Without colour (a file or a pipe), each distinct bar is drawn by rich once, as its text, so
    that the table's cells are plain text (plaintable)."""
    from rich.bar import Bar

    rows = layer_rows(result, depth)
    cols = (("ops", result.convention.unit), ("params", "params"), ("activations", "activations"))
    scales = [max((getattr(r, attr) for r in rows), default=0) or 1 for attr, _ in cols]
    table = Table(title=f"{result.name}: per layer ({result.convention.name} convention; Σ a block's "
                        "subtotal)", box=None, padding=(0, 1), title_justify="left", show_edge=False)
    table.add_column("layer", overflow="fold")
    for attr, title in cols:
        table.add_column(title, width=CHART_BAR, no_wrap=True)
        table.add_column("", justify="right")
    as_text = out is not None and out.color_system is None and not out.record
    drawn: dict = {}  # (scale, value) -> the bar's text

    def bar(scale, value):
        if not as_text:
            return Bar(scale, 0, value, width=CHART_BAR)
        text = drawn.get((scale, value))
        if text is None:
            line, = out.render_lines(Bar(scale, 0, value, width=CHART_BAR),
                                     out.options.update(width=CHART_BAR), pad=False)
            text = drawn[scale, value] = "".join(segment.text for segment in line)
        return text

    for row in rows:
        cells = [f"Σ {row.name}" if row.subtotal else row.name]
        for (attr, _), scale in zip(cols, scales):
            value = getattr(row, attr)
            cells += [bar(scale, value), human(value)]
        table.add_row(*cells, style="bold" if row.subtotal else None)
    return table


def print_compare(cmp, out: Console | None = None):
    out = out or console()
    models = cmp["models"]
    table = Table(title="compare: totals (ratio and change against the first model)",
                  box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("metric")
    for i, m in enumerate(models):
        table.add_column(m["name"], justify="right")
        if i:
            table.add_column(f"vs {models[0]['name']}", justify="right")
    for metric in cmp["metrics"]:
        cells = [metric["label"]]
        for i, value in enumerate(metric["values"]):
            cells.append(human(value))
            if i:
                cells.append(metric["vs_first"][i - 1]["text"])
        table.add_row(*cells)
    print_table(out, table)
    for metric in cmp["metrics"]:
        out.print(f"{metric['label']}: " + " vs ".join(map(exact, metric["values"])))
    if cmp["paths"]:
        header, rows = path_diff(cmp, human)
        diff = Table(title=f"per path ({cmp['paths_unit']})", box=box.SIMPLE_HEAD, title_justify="left")
        for i, h in enumerate(header):
            diff.add_column(h, justify="right" if i else "left")
        for row in rows:
            diff.add_row(*row)
        print_table(out, diff)


def claims_table(outcomes, title="claims: published figures against the exact computed ones") -> Table:
    from costcalc.report.verdicts import (
        claimed_cell,
        computed_cell,
        scope_cell,
        verdict_cell,
        why_cell,
    )

    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("scope", overflow="fold")
    table.add_column("metric")
    table.add_column("claimed", justify="right")
    table.add_column("computed", justify="right")
    table.add_column("verdict")
    table.add_column("why", overflow="fold")
    for o in outcomes:
        table.add_row(scope_cell(o), o.expectation.metric, claimed_cell(o), computed_cell(o),
                      verdict_cell(o), why_cell(o), style=None if o.passed else "bold")
    return table


def print_claims(outcomes, out: Console | None = None):
    from costcalc.report.verdicts import sources, summary

    out = out or console()
    print_table(out, claims_table(outcomes))
    out.print(summary(outcomes))
    src = sources(outcomes)
    if src:
        out.print("Sources: " + "; ".join(src))


def print_table1(table, out: Console | None = None):
    """The paper's Table 1 layout, then every claim with its verdict."""
    from costcalc.report.paper import UNITS, all_outcomes, cells, header, ops_m, params_k

    out = out or console()
    t = table.totals
    rich_table = Table(title=f"{table.name}: Table 1 layout", box=box.SIMPLE_HEAD,
                       title_justify="left", show_footer=True)
    for i, name in enumerate(header(table)):
        footer = {0: "total", len(header(table)) - 2: params_k(t["params"]),
                  len(header(table)) - 1: ops_m(t["macs"])}.get(i, "")
        rich_table.add_column(name, footer=footer, justify="left" if i < 2 else "right")
    for row in table.rows:
        rich_table.add_row(*cells(table, row))
    print_table(out, rich_table)
    out.print(f"Units: {UNITS}.")
    out.print(f"Totals: {exact(t['params'])} params ({exact(t['weights'])} weights), "
              f"{exact(t['macs'])} MACs")
    outcomes = all_outcomes(table)
    if outcomes:
        out.print()
        print_claims(outcomes, out)


def print_check(report, top: int = 10, max_rows: int = 50, out: Console | None = None):
    """`costcalc check` for humans: the verdict, the failures, the layers that changed against
    the lock, and decreases (which pass) with a hint to re-lock."""
    from costcalc.report.gate import (
        CHANGE_HEADER,
        FAIL_HEADER,
        HINT,
        change_rows,
        changes_title,
        decrease_lines,
        failure_rows,
        more_failures_text,
        summary_line,
    )

    if out is None:
        out = console()
        if not sys.stdout.isatty():  # a CI log: let rows run to their natural width
            out.width = max(out.width, 240)
    out.print(summary_line(report))
    if report.failures:
        out.print("failures:")
        table = Table(box=box.SIMPLE_HEAD)
        for i, h in enumerate(FAIL_HEADER):  # only the path may fold, never a figure or place
            table.add_column(h, justify="right" if 4 <= i <= 6 else "left", overflow="fold",
                             no_wrap=h != "path")
        rows, hidden = failure_rows(report, max_rows)
        for row in rows:
            table.add_row(*row)
        print_table(out, table)
        if hidden:
            out.print(more_failures_text(hidden))
    if report.changes:
        out.print(changes_title(report, top) + ":")
        table = Table(box=box.SIMPLE_HEAD)
        for i, h in enumerate(CHANGE_HEADER):
            table.add_column(h, justify="right" if i >= 3 else "left")
        for row in change_rows(report, top):
            table.add_row(*row)
        print_table(out, table)
    dec = decrease_lines(report, top)
    if dec:
        out.print(f"decreased against the lock (passes; {HINT}):")
        for line in dec:
            out.print(f"  {line}")
    for note in report.notes:
        out.print(f"note: {note}")


def check_table_text(report, top: int = 10, max_rows: int = 50) -> str:
    """print_check's output as plain text (for --output FILE)."""
    import io

    buf = io.StringIO()
    print_check(report, top, max_rows, Console(file=buf, width=240, highlight=False, soft_wrap=False))
    return buf.getvalue()
