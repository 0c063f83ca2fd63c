import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def run_cli(*args, cwd=ROOT, env=None, timeout=300):
    """Run `python -m costcalc ...` as a whole process; returns CompletedProcess. This checkout's
    costcalc is the one run, whatever the working directory (cwd)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    full_env = dict(os.environ, COLUMNS="160", PYTHONPATH=path)
    full_env.pop("COSTCALC_DEBUG", None)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-m", "costcalc", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=full_env, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def write_spec(tmp_path):
    """Write YAML text to a file and return its path."""
    def write(text, name="spec.yaml"):
        p = tmp_path / name
        p.write_text(text)
        return p
    return write


_MEASURED = {}


def measured(path):
    """(graph, costcalc.crosscheck Measurement) of a spec file, traced once per test session and
    shared by every test module (a measurement is convention-free)."""
    from costcalc.counting.graph import build_graph
    from costcalc.crosscheck import measure

    key = str(path)
    if key not in _MEASURED:
        graph = build_graph(key)
        _MEASURED[key] = graph, measure(graph, graph.spec.batch)
    return _MEASURED[key]
