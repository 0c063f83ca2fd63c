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
