"""The analytic commands, with --format json, leave torch, fvcore and rich's table machinery
unimported: each runs in a fresh subprocess that then lists what sys.modules holds."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT

#: pydantic: typer 0.29 imports it to coerce values, costcalc/cli/coercion.py does not need it
HEAVY = ("torch", "fvcore", "numpy", "rich.table", "rich.console", "pydantic")

COMMANDS = {
    "analyze": ["analyze", "specs/googlenet.yaml", "--format", "json"],
    "analyze, two specs": ["analyze", "specs/naive.yaml", "specs/reduced.yaml", "--format", "json"],
    "compare": ["compare", "specs/naive.yaml", "specs/reduced.yaml", "--format", "json"],
    "table": ["table", "specs/googlenet.yaml", "--format", "json"],
    "check": ["check", "--format", "json"],  # the project's specs, budgets and lock
    "analyze --train": ["analyze", "specs/googlenet_train.yaml", "--train", "--checkpoint", "inception_*",
                        "--samples", "1000", "--throughput", "100", "--mfu", "0.5", "--format", "json"],
}

PROBE = """
import contextlib, io, json, runpy, sys
args, heavy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv = ["costcalc"] + args
out = io.StringIO()
code = 0
try:
    with contextlib.redirect_stdout(out):
        runpy.run_module("costcalc", run_name="__main__")
except SystemExit as exc:
    code = exc.code or 0
print(json.dumps({"code": code, "stdout": out.getvalue(),
                  "heavy": sorted(m for m in heavy if m in sys.modules)}))
"""


def run_probe(args):
    r = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-800:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_json_output_imports_no_heavy_module(name):
    got = run_probe(COMMANDS[name])
    assert got["code"] == 0
    json.loads(got["stdout"])  # it did print its JSON
    assert got["heavy"] == []


def test_probe_sees_a_heavy_import():
    """The probe can fail: the table format does load rich's table machinery."""
    got = run_probe(["analyze", "specs/reduced.yaml"])
    assert got["code"] == 0 and "rich.table" in got["heavy"] and "torch" not in got["heavy"]
    assert "pydantic" not in got["heavy"]


def test_a_bad_value_gets_typers_own_message():
    """A value costcalc's coercer leaves to typer (here one below --batch's minimum) is coerced
    by typer, pydantic and all, so the message is typer's."""
    got = run_probe(["analyze", "specs/reduced.yaml", "--batch", "0"])
    assert got["code"] == 2 and "pydantic" in got["heavy"]
