"""The command line: formats, exit codes, golden output and lazy imports."""
import csv
import io
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, SPECS, run_cli

GOLDEN = ROOT / "tests" / "golden"


def golden(name, text):
    """Compare with tests/golden/NAME; COSTCALC_UPDATE_GOLDEN=1 rewrites it (review the diff!)."""
    path = GOLDEN / name
    if os.environ.get("COSTCALC_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_analyze_table_golden():
    r = run_cli("analyze", SPECS / "reduced.yaml")
    assert r.returncode == 0, r.stderr
    golden("analyze_reduced.txt", r.stdout)
    assert "128,049,152" in r.stdout and "MACs" in r.stdout


def test_analyze_depth_collapses_blocks():
    r = run_cli("analyze", SPECS / "googlenet.yaml", "--depth", "1")
    assert r.returncode == 0, r.stderr
    golden("analyze_googlenet_depth1.txt", r.stdout)
    assert "inception_4a/b1 " not in r.stdout


def test_compare_golden():
    r = run_cli("compare", SPECS / "naive.yaml", SPECS / "reduced.yaml")
    assert r.returncode == 0, r.stderr
    golden("compare_naive_reduced.txt", r.stdout)
    assert "303.5M" in r.stdout and "128.0M" in r.stdout


def test_analyze_json_contract():
    r = run_cli("analyze", SPECS / "fc_head.yaml", "--format", "json")
    d = json.loads(r.stdout)
    assert d["name"] == "fc-head" and d["input"] == [1024, 7, 7] and d["convention"] == "macs"
    assert d["totals"]["params"] == 51_381_248  # 7*7*1024*1024 + 1024
    assert d["totals"]["macs"] == 51_380_224  # 7*7*1024*1024
    assert d["totals"]["flops"] == 2 * 51_380_224
    assert d["totals"]["activations"] == 50_176 + 1024  # flatten output + fc output
    fc = d["layers"][-1]
    assert {k: fc[k] for k in ("name", "kind", "output", "params", "macs", "flops")} == {
        "name": "fc", "kind": "linear", "output": [1024], "params": 51_381_248,
        "macs": 51_380_224, "flops": 102_760_448}


def test_compare_json_contract():
    r = run_cli("compare", SPECS / "fc_head.yaml", SPECS / "gap_head.yaml", "-f", "json")
    d = json.loads(r.stdout)
    assert [m["name"] for m in d["models"]] == ["fc-head", "gap-head"]
    assert d["models"][0]["totals"]["params"] == 51_381_248 and d["models"][1]["totals"]["params"] == 0
    params = next(m for m in d["metrics"] if m["key"] == "params")
    assert params["vs_first"][0]["ratio"] == 0.0


def test_analyze_csv_exact_integers():
    r = run_cli("analyze", SPECS / "reduced.yaml", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    total = rows[-1]
    assert total["layer"] == "TOTAL" and total["macs"] == "128049152" and total["params"] == "163696"


def test_analyze_markdown_is_a_table():
    r = run_cli("analyze", SPECS / "gap_head.yaml", "--format", "markdown")
    assert r.returncode == 0
    assert "| layer | kind |" in r.stdout and "|---|" in r.stdout


def test_bad_input_is_one_line_exit_2(write_spec):
    p = write_spec("input: [3, 8, 8]\nlayers:\n  - {convv: {out: 4}}\n")
    r = run_cli("analyze", p)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("costcalc: error: ")
    assert "unknown layer kind 'convv'" in lines[0] and "known kinds:" in lines[0]
    assert ":3:6:" in lines[0]
    assert "Traceback" not in r.stderr


def test_debug_shows_traceback(write_spec):
    p = write_spec("input: [3, 8, 8]\nlayers:\n  - {convv: {out: 4}}\n")
    r = run_cli("--debug", "analyze", p)
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_missing_file_exit_2():
    r = run_cli("analyze", "no/such.yaml")
    assert r.returncode == 2 and r.stderr.startswith("costcalc: error: no/such.yaml: no such spec file")


@pytest.mark.parametrize("args", [
    ["analyze", "specs/googlenet.yaml", "--format", "json"],
    ["compare", "specs/naive.yaml", "specs/reduced.yaml", "--format", "json"],
    ["analyze", "specs/googlenet.yaml"],
    ["kinds"],
])
def test_analytic_path_never_imports_torch(args):
    code = ("import sys, runpy; sys.argv = ['costcalc'] + %r\n"
            "try:\n    runpy.run_module('costcalc', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "heavy = sorted(m for m in ('torch', 'fvcore', 'numpy') if m in sys.modules)\n"
            "print('HEAVY', heavy, file=sys.stderr)\n") % (args,)
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert "HEAVY []" in r.stderr, r.stderr[-500:]


def test_json_does_not_import_rich_table():
    code = ("import sys, runpy; sys.argv = ['costcalc', 'analyze', 'specs/googlenet.yaml', '-f', 'json']\n"
            "try:\n    runpy.run_module('costcalc', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('RICH_TABLE', 'rich.table' in sys.modules, file=sys.stderr)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert "RICH_TABLE False" in r.stderr, r.stderr[-500:]


def test_shell_glob_with_a_claims_file_skips_it():
    # specs/*.yaml includes googlenet.claims.yaml, which is read beside googlenet.yaml
    r = run_cli("analyze", SPECS / "googlenet.yaml", SPECS / "googlenet.claims.yaml", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert "skipped" in r.stderr and "googlenet.claims.yaml" in r.stderr
    assert json.loads(r.stdout)["totals"]["macs"] == 1_582_671_872  # fvcore on the real model
    alone = run_cli("analyze", SPECS / "googlenet.claims.yaml")
    assert alone.returncode == 2 and "not a spec" in alone.stderr


def test_human_units_pick_the_prefix_after_rounding():
    from costcalc.units import human

    assert human(999_950) == "1.00M"  # not "1000.0K"
    assert human(999_999_999) == "1.00G"
    assert human(120_422_400) == "120.4M" and human(1_582_671_872) == "1.58G" and human(999) == "999"


def test_atomic_write_keeps_the_files_mode(tmp_path):
    import stat

    from costcalc.atomic import write_text_atomic

    p = tmp_path / "costcalc.lock"
    p.write_text("old")
    p.chmod(0o644)
    write_text_atomic(p, "new")
    assert p.read_text() == "new" and stat.S_IMODE(p.stat().st_mode) == 0o644


def test_compare_paths_follow_spec_order_with_subtotals_after_their_layers():
    r = run_cli("compare", SPECS / "zoo" / "resnet18.yaml", SPECS / "zoo" / "resnet50.yaml", "-f", "json")
    paths = [p["path"] for p in json.loads(r.stdout)["paths"]]
    assert paths.index("layer1") < paths.index("layer2/first/conv1") < paths.index("layer2")
    assert paths.index("layer2/first/downsample/conv") < paths.index("layer2/first/downsample") \
        < paths.index("layer2/first")


def test_compare_markdown_carries_the_per_path_diff():
    # issue 12.4: the markdown output has the per-path table that table and json carry
    r = run_cli("compare", SPECS / "naive.yaml", SPECS / "reduced.yaml", "--format", "markdown")
    assert r.returncode == 0
    assert "#### per path (MACs)" in r.stdout
    rows = {line.split(" | ")[0].lstrip("| "): line for line in r.stdout.splitlines()
            if line.startswith("| inception_3a")}
    # naive b3: 5×5 conv 192→32 on 28×28: 28*28*192*5*5*32 = 120,422,400 MACs,
    # 5*5*192*32 + 32 = 153,632 params; b2: 3×3 192→128: 28*28*192*9*128 = 173,408,256 MACs
    assert "| 153,632 | 120,422,400 |" in rows["inception_3a/b3"]
    assert "| 173,408,256 |" in rows["inception_3a/b2"]
    assert set(rows) >= {"inception_3a/b1", "inception_3a/b4", "inception_3a"}


@pytest.mark.parametrize("batch", ["9" * 400, str(2**40 + 1)])
def test_a_huge_batch_is_a_usage_error(batch):
    """Issue 20: a 400-digit --batch overflowed a float division (exit 3); 2**40 is the limit a
    spec's own batch has (costcalc.ops.args.MAX_INT)."""
    r = run_cli("analyze", SPECS / "naive.yaml", "--batch", batch)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("costcalc: error: Invalid value for '--batch'") and "1099511627776" in r.stderr
    assert r.stderr.count("\n") == 1


def test_kinds_says_which_tools_count_each_kind():
    r = run_cli("kinds")
    assert r.returncode == 0, r.stderr
    blocks = {}
    for line in r.stdout.splitlines():
        if not line.startswith(" "):
            name = line.split()[0]
        blocks[name] = blocks.get(name, "") + line + "\n"
    # the SE multiply and the activations: no MACs, so FlopCounterMode 0; fvcore has no handle
    for kind in ("mul", "layer_scale", "hardswish", "silu", "gelu", "hardsigmoid"):
        assert "counted: MACs: 0; FlopCounterMode: 0; fvcore: 0 (no fvcore handle" in blocks[kind]
    assert "fvcore: 5 per element with affine, 4 without (aten::layer_norm" in blocks["layernorm"]
    assert "fvcore: 2 per element with affine, 1 without (aten::batch_norm" in blocks["batchnorm"]
    assert "FlopCounterMode: 2 × MACs; fvcore: its MACs" in blocks["conv"]
    assert "element ops: one multiply per output element" in blocks["mul"]

