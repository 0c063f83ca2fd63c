"""Top-level spec params, ``--set NAME=VALUE``, and costcalc.analyze() returning what
`costcalc analyze` prints (claims included)."""
import json

import pytest

import costcalc
from conftest import ROOT, SPECS, run_cli
from costcalc.errors import CostcalcError

# input 3×h×h; stem: conv 3→c, 3×3, pad 1; unit: a block whose conv (c→c, k×k, pad k//2) reads the
# top-level c inside the block
SPEC = """\
name: sized
params: {h: 8, c: 4}
input: [3, $h, $h]
blocks:
  unit:
    params: [k]
    layers:
      - {name: conv, conv: {out: $c, kernel: $k, pad: '${k // 2}'}}
layers:
  - {name: stem, conv: {out: $c, kernel: 3, pad: 1}}
  - {name: u, block: unit, args: [1]}
"""


def in_dir(tmp_path, *args):
    """The CLI run in tmp_path (where the lock is written), importing this checkout."""
    return run_cli(*args, cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})


@pytest.fixture
def spec(write_spec):
    return write_spec(SPEC)


def test_top_level_params_are_the_default(spec):
    r = costcalc.analyze(spec)
    assert r.input == (3, 8, 8)
    # stem: 8*8*4 * 3*3*3 = 6,912 MACs; u/conv (1×1): 8*8*4 * 4 = 1,024 MACs
    assert r.layer("stem").macs == 6_912
    assert r.layer("u/conv").macs == 1_024
    assert r.totals["macs"] == 7_936
    # stem 4*3*9 + 4 = 112 params; u/conv 4*4 + 4 = 20
    assert r.totals["params"] == 132


def test_set_overrides_a_param_everywhere(spec):
    r = costcalc.analyze(spec, set={"h": 16, "c": 2})
    assert r.input == (3, 16, 16)
    # stem: 16*16*2 * 27 = 13,824; u/conv: 16*16*2 * 2 = 1,024
    assert r.totals["macs"] == 14_848
    # stem 2*27 + 2 = 56; u/conv 2*2 + 2 = 6
    assert r.totals["params"] == 62


def test_block_parameter_shadows_a_top_level_one(write_spec):
    p = write_spec(SPEC.replace("params: [k]", "params: [k, {c: 6}]"))
    # u/conv: 8*8*6 * 4 = 1,536 MACs, stem unchanged 6,912
    assert costcalc.analyze(p).totals["macs"] == 8_448


def test_unknown_name_is_an_error_listing_the_params(spec):
    with pytest.raises(CostcalcError, match=r"--set seq: the spec has no parameter 'seq'; its params: h, c"):
        costcalc.analyze(spec, set={"seq": 1})


def test_cli_set(spec):
    r = run_cli("analyze", spec, "--set", "h=16", "--set", "c=2", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["totals"]["macs"] == 14_848  # as above


@pytest.mark.parametrize("command", ["analyze", "table", "verify", "check", "lock"])
def test_cli_unknown_name_exits_2_with_one_line(spec, command, tmp_path):
    r = in_dir(tmp_path, command, spec, "--set", "seq=2048")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1, r.stderr
    assert "costcalc: error:" in r.stderr and "no parameter 'seq'; its params: h, c" in r.stderr


def test_cli_set_needs_name_equals_value(spec):
    r = run_cli("analyze", spec, "--set", "h")
    assert r.returncode == 2
    assert r.stderr == "costcalc: error: --set 'h': expected NAME=VALUE, e.g. --set seq=2048\n"


def test_cli_set_value_is_a_yaml_scalar(spec):
    r = run_cli("analyze", spec, "--set", "h=eight")
    assert r.returncode == 2
    assert "costcalc: error:" in r.stderr and "'eight'" in r.stderr



def test_compare_with_set(spec):
    r = run_cli("compare", spec, spec, "--set", "h=16", "--set", "c=2", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert [m["totals"]["macs"] for m in json.loads(r.stdout)["models"]] == [14_848, 14_848]  # as above


def test_check_against_a_lock_written_with_set(spec, tmp_path):
    r = in_dir(tmp_path, "lock", spec, "--set", "h=4")
    assert r.returncode == 0, r.stderr
    lock = json.loads((tmp_path / "costcalc.lock").read_text())
    (entry,) = lock["specs"].values()
    # h=4: stem 4*4*4 * 27 = 1,728; u/conv 4*4*4 * 4 = 256
    assert entry["total"]["macs"] == 1_984
    assert in_dir(tmp_path, "check", spec, "--set", "h=4").returncode == 0
    assert in_dir(tmp_path, "check", spec).returncode == 1  # h=8 is above the lock


def test_analyze_returns_what_the_cli_prints_claims_included():
    r = costcalc.analyze(SPECS / "reduced.yaml")
    # the two Table-1 claims on inception_3a: 163,328 weights, 128,049,152 MACs
    assert [(o.expectation.metric, o.computed, o.verdict) for o in r.claims] == [
        ("weights", 163_328, "truncated"), ("macs", 128_049_152, "rounded")]
    from costcalc.report.verdicts import analyze_json
    from costcalc.report.text import to_json

    cli = run_cli("analyze", SPECS / "reduced.yaml", "-f", "json")
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout == to_json(analyze_json([r])) + "\n"
    assert [c["computed"] for c in json.loads(cli.stdout)["claims"]] == [163_328, 128_049_152]


def test_every_format_of_every_command_has_a_renderer():
    """The table in report/render.py covers each command's --format choices, and nothing else."""
    import typer.main

    from costcalc.cli import app
    from costcalc.report.render import formats

    group = typer.main.get_command(app)
    for name in ("analyze", "compare", "table", "verify", "check"):
        (fmt,) = [p for p in group.commands[name].params if p.name == "format"]
        choices = [m.value for m in fmt.type_descriptor.annotation]
        assert choices == formats(name), name
