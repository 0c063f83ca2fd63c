"""Large generated specs count exactly: 10,000 layers as one long chain and as nested blocks.

No timing here (that is bench/run.py's job), but a quadratic step would make these tests crawl:
to_dict(), the display rows and the scope totals all run over every layer and every block.
"""
import json

import pytest

import costcalc
from bench.specgen import chain_spec, nested_spec
from costcalc.report.rows import layer_rows
from costcalc.report.text import to_json

N = 10_000  # layers: 5,000 conv 3x3 (8 -> 8 channels, pad 1) on 8x8, and 5,000 relu


@pytest.fixture(scope="module", params=["chain", "nested"])
def result(request, tmp_path_factory):
    text = chain_spec(N) if request.param == "chain" else nested_spec(N)
    path = tmp_path_factory.mktemp("scaling") / f"{request.param}.yaml"
    path.write_text(text)
    return request.param, costcalc.analyze(str(path))


def test_totals_are_exact(result):
    _, r = result
    t = r.totals
    assert len(r.layers) == N
    assert t["weights"] == 2_880_000  # 5,000 convs * 8*8*3*3 = 5,000 * 576
    assert t["biases"] == 40_000  # 5,000 * 8
    assert t["params"] == 2_920_000
    assert t["macs"] == 184_320_000  # 5,000 * (8*8*8 outputs * 8*3*3) = 5,000 * 36,864
    assert t["flops"] == 368_640_000  # 2 * MACs
    assert t["elementops"] == 5_120_000  # 5,000 bias adds of 512 + 5,000 relus of 512
    assert t["activations"] == 5_120_000  # 10,000 layers * 512 outputs
    assert r.layers[-1].output == (8, 8, 8)


def test_nested_block_subtotals(result):
    shape, r = result
    scopes = r.scope_totals()
    if shape == "chain":
        assert scopes == {}
        return
    # 100 stages, each 10 groups of 5 units: 100 + 1,000 + 5,000 instances
    assert len(scopes) == 6_100
    assert scopes["stage_99"]["macs"] == 1_843_200  # 50 convs * 36,864
    assert scopes["stage_99/group_10"]["params"] == 2_920  # 5 convs * (576 + 8)
    assert scopes["stage_0/group_1/unit_5"]["elementops"] == 1_024  # 512 bias adds + 512 relu
    assert r.layer("stage_42/group_3/unit_2/relu").inputs == ["stage_42/group_3/unit_2/conv"]


def test_json_and_rows_cover_every_layer(result):
    shape, r = result
    d = json.loads(to_json(r.to_dict()))
    assert len(d["layers"]) == N and d["totals"]["macs"] == 184_320_000
    assert len(d["blocks"]) == (0 if shape == "chain" else 6_100)
    rows = layer_rows(r)
    assert len(rows) == N + len(d["blocks"])  # a subtotal row after each block instance
    assert sum(row.ops for row in rows if not row.subtotal) == 184_320_000


@pytest.mark.parametrize("which", ["near the file limit", "repeat 100,000"])
def test_the_largest_valid_specs_print_as_a_plain_table(which, tmp_path):
    """Issue 19.4: 900 entries × repeat: 100 in a file just under 10 MiB, and one layer ×
    repeat: 100,000, are valid; their layer tables take the plain path (rich rendered their
    90,000-100,000 rows for over 20 s) and still list every row."""
    import io

    from rich.console import Console

    from bench.specgen import one_repeat_spec, repeat_near_limit_spec
    from costcalc.report.plaintable import plain_lines
    from costcalc.report.table import analyze_table
    from costcalc.spec.yamlio import MAX_FILE_BYTES

    path = tmp_path / "limit.yaml"
    path.write_text(repeat_near_limit_spec() if which == "near the file limit" else one_repeat_spec())
    r = costcalc.analyze(str(path))
    if which == "near the file limit":
        assert MAX_FILE_BYTES - 8192 < path.stat().st_size <= MAX_FILE_BYTES
        assert len(r.layers) == 90_000 and len(r.instances) == 900
        assert r.totals["macs"] == 45_000 * 2 * 36_864  # 90,000 convs of 8*8*8 * 8*3*3 = 36,864
    else:
        assert len(r.layers) == 100_000 and r.totals["elementops"] == 100_000 * 512  # relu on 8×8×8
    con = Console(file=io.StringIO(), width=160, highlight=False, markup=False, emoji=False)
    lines = plain_lines(analyze_table(r), con)
    # every layer and repeat group, plus title, top edge, header, rule, footer rule, footer, bottom
    assert lines is not None and len(lines) == len(r.layers) + len(r.instances) + 7
