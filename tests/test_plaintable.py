"""The plain-text fast path of rich tables (costcalc/report/plaintable.py) prints exactly what
rich prints: on every shipped spec, generated specs, and each command's tables."""
import io
import sys
from pathlib import Path

import pytest
from rich.console import Console

import costcalc
from conftest import ROOT, SPECS
from costcalc.report import plaintable, table as tables
from costcalc.report.rows import layer_rows
from costcalc.report.text import summary_lines
from costcalc.spec.schema import spec_files

sys.path.insert(0, str(ROOT / "bench"))
from specgen import chain_spec, nested_spec  # noqa: E402

SHIPPED = spec_files(SPECS) + [ROOT / "tests" / "data" / "every_kind.yaml"]


def console(width=160):
    return Console(file=io.StringIO(), width=width, highlight=False, markup=False, emoji=False,
                   soft_wrap=False)


def both(monkeypatch, draw, width=160):
    """(rich's output, the fast path's output, how many tables took the fast path)."""
    used = []
    fast = plaintable.plain_lines

    def counting(table, con):
        lines = fast(table, con)
        used.append(lines is not None)
        return lines

    monkeypatch.setattr(plaintable, "plain_lines", lambda t, c: None)
    ref = console(width)
    draw(ref)
    monkeypatch.setattr(plaintable, "plain_lines", counting)
    out = console(width)
    draw(out)
    return ref.file.getvalue(), out.file.getvalue(), sum(used)


@pytest.mark.parametrize("spec", SHIPPED, ids=lambda p: str(Path(p).relative_to(ROOT)))
def test_analyze_and_table1_equal_rich(monkeypatch, spec):
    r = costcalc.analyze(spec)
    ref, out, fast = both(monkeypatch, lambda c: tables.print_analyze([r], None, c))
    assert out == ref
    assert fast >= 1  # the layer table, at least, took the fast path
    ref, out, _ = both(monkeypatch, lambda c: tables.print_analyze([r], 1, c))
    assert out == ref
    if r.claims:  # the claims table too; googlenet's wraps its 'why' column
        ref, out, fast = both(monkeypatch, lambda c: tables.print_claims(r.claims, c))
        assert out == ref and fast == 1
        ref, out, fast = both(monkeypatch, lambda c: tables.print_claims(r.claims, c), width=90)
        assert out == ref and fast == 1
    if "googlenet" in str(spec):
        t = costcalc.table1(spec)
        ref, out, fast = both(monkeypatch, lambda c: tables.print_table1(t, c))
        assert out == ref and fast >= 2


@pytest.mark.parametrize("text", [chain_spec(1_000), nested_spec(1_000)], ids=["chain", "nested"])
def test_generated_specs_equal_rich(monkeypatch, write_spec, text):
    r = costcalc.analyze(write_spec(text))
    ref, out, fast = both(monkeypatch, lambda c: tables.print_analyze([r], None, c))
    assert out == ref and fast == 1
    # a row per layer and block subtotal; title, top edge, header and rule; footer rule, footer
    # and bottom edge; then the summary lines
    rows = list(layer_rows(r, None))
    assert len(rows) == (1_000 if "chain" in text else 1_000 + 10 * (1 + 10 + 50))
    assert out.count("\n") == len(rows) + 7 + len(summary_lines(r))


def test_compare_equals_rich(monkeypatch):
    data = costcalc.compare([SPECS / "naive.yaml", SPECS / "reduced.yaml"])
    ref, out, fast = both(monkeypatch, lambda c: tables.print_compare(data, c))
    assert out == ref and fast == 2  # totals and the per-path diff


def test_unusual_names_and_narrow_consoles_equal_rich(monkeypatch, write_spec):
    """A title with wide characters: rich renders the table. A console too narrow for the
    table: rich's column widths, and rich folds the long name, the other cells are plain."""
    p = write_spec("name: 模型 ✨ wide\ninput: [3, 8, 8]\nlayers:\n  - {name: a_very_long_layer_name_"
                   + "x" * 60 + ", conv: {out: 4, kernel: 3}}\n  - relu\n")
    r = costcalc.analyze(p)
    ref, out, fast = both(monkeypatch, lambda c: tables.print_analyze([r], None, c))
    assert out == ref and fast == 0
    p = write_spec("input: [3, 8, 8]\nlayers:\n  - {name: " + "y" * 120 + ", conv: {out: 4, kernel: 3}}\n")
    r = costcalc.analyze(p)
    ref, out, fast = both(monkeypatch, lambda c: tables.print_analyze([r], None, c), width=80)
    assert out == ref and fast == 1  # the 120-character name folds in rich's way at 80 columns
    assert "  " + "y" * 15 + "   conv " in out and "y" * 16 not in out


def test_a_colour_terminal_gets_rich(monkeypatch):
    con = Console(file=io.StringIO(), width=160, force_terminal=True, color_system="standard")
    r = costcalc.analyze(SPECS / "reduced.yaml")
    assert plaintable.plain_lines(tables.analyze_table(r), con) is None


def test_check_report_equals_rich(monkeypatch, tmp_path):
    from checkproject import TINY, make_project
    from costcalc.expectations.gate import run_check, run_lock

    p = make_project(tmp_path)
    monkeypatch.chdir(p)
    run_lock(["tiny.yaml"])
    p.joinpath("tiny.yaml").write_text(TINY + "  - {name: head, conv: {out: 2, kernel: 1}}\n")
    report = run_check(["tiny.yaml"])
    assert report.failures and report.changes
    ref, out, fast = both(monkeypatch, lambda c: tables.print_check(report, 10, 50, c), width=240)
    assert out == ref and fast == 2  # the failures and the changed layers


def test_a_rich_renderable_cell_goes_to_rich(monkeypatch):
    from rich.table import Table
    from rich.text import Text

    t = Table(box=tables.box.SIMPLE_HEAD)
    t.add_column("a")
    t.add_row(Text("styled", style="bold"))
    assert plaintable.plain_lines(t, console()) is None
    ref, out, fast = both(monkeypatch, lambda c: plaintable.print_table(c, t))
    assert out == ref and fast == 0


@pytest.mark.parametrize("spec", SHIPPED, ids=lambda p: str(Path(p).relative_to(ROOT)))
def test_the_chart_equals_rich(monkeypatch, spec):
    """`analyze --chart` without colour: each distinct bar is drawn by rich once as text, and
    the table (no box, no edges, fixed-width bar columns) takes the fast path; equal to rich
    drawing every Bar itself, at 160 columns and at 90 (too narrow: rich lays it out)."""
    r = costcalc.analyze(spec)
    bars = console()
    bars.print(tables.chart_table(r, None))  # rich's own Bar renderables in every cell
    ref, out, fast = both(monkeypatch, lambda c: tables.print_analyze([r], None, c, chart=True))
    assert out == ref and ref.startswith(bars.file.getvalue())
    assert fast == 1 + bool(r.claims)  # the chart, and the claims table after it
    ref, out, _ = both(monkeypatch, lambda c: tables.print_analyze([r], 1, c, chart=True), width=90)
    assert out == ref


def test_a_chart_of_100000_rows_is_drawn_from_one_bar_per_figure(monkeypatch, write_spec):
    from rich import bar

    from bench.specgen import one_repeat_spec

    drawn = []
    original = bar.Bar.__rich_console__
    monkeypatch.setattr(bar.Bar, "__rich_console__", lambda *a: drawn.append(1) or original(*a))
    r = costcalc.analyze(write_spec(one_repeat_spec()))
    out = console()
    tables.print_analyze([r], None, out, chart=True)
    lines = out.file.getvalue().splitlines()
    # title, header, 100,000 relus and the repeat's subtotal, then the summary
    assert len(lines) == 2 + 100_001 + len(summary_lines(r))
    # relu: 0 MACs, 0 params, 512 activations; the subtotal Σ r: 0, 0, 51,200,000 = 100,000 * 512
    # MACs and params are 0 on a scale of 1 (an empty bar, one text for both); activations 512
    # and 51,200,000 on a scale of 51,200,000: three bars drawn, not 600,006
    assert len(drawn) == 3
