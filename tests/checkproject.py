"""A throwaway costcalc project for the budgets/lock/check tests, and a CLI runner for it.

TINY is small enough to count by hand:
  stem     conv 3→4, 3×3 pad 1 on 8×8: MACs 8*8*4*3*3*3 = 6,912; params 4*27 + 4 = 112;
           activations 4*8*8 = 256
  u1/conv  conv 4→8, 3×3 pad 1 on 8×8: MACs 8*8*8*4*3*3 = 18,432; params 8*36 + 8 = 296;
           activations 8*8*8 = 512
  u1/relu  activations 512 (no params, no MACs)
  block u1 params 296, MACs 18,432, activations 512 + 512 = 1,024
  total    params 112 + 296 = 408; MACs 6,912 + 18,432 = 25,344; activations 256 + 1,024 = 1,280
"""
import os
import subprocess
import sys

from conftest import ROOT

TINY = """\
name: tiny
input: [3, 8, 8]
blocks:
  unit:
    params: [out]
    layers:
      - {name: conv, conv: {out: $out, kernel: 3, pad: 1}}
      - {name: relu, relu: }
layers:
  - {name: stem, conv: {out: 4, kernel: 3, pad: 1}}
  - {name: u1, block: unit, args: [8]}
"""
# lock scopes: total, block u1, layers stem, u1/conv, u1/relu; 3 metrics each
TINY_LOCK_EXPECTATIONS = 5 * 3


def run(project, *args, env=None):
    """`python -m costcalc ARGS` in the project directory, with this checkout's code."""
    full = dict(os.environ, COLUMNS="160", PYTHONPATH=str(ROOT))
    for key in ("COSTCALC_DEBUG", "GITHUB_ACTIONS"):
        full.pop(key, None)
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "costcalc", *map(str, args)], cwd=project,
                          capture_output=True, text=True, env=full, timeout=120)


def make_project(tmp_path, specs=None, config="", budgets=None):
    """A directory with a pyproject.toml (so lookups stop there), specs and a budgets file."""
    tmp_path.joinpath("pyproject.toml").write_text("[tool.costcalc]\n" + config)
    for name, text in (specs or {"tiny.yaml": TINY}).items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    if budgets is not None:
        tmp_path.joinpath("costcalc-budgets.yaml").write_text(budgets)
    return tmp_path


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


import pytest  # noqa: E402


@pytest.fixture
def cc(monkeypatch, capsys):
    """Like run(), but in this process (fast): costcalc.cli.main in the project directory."""
    from costcalc.cli import main

    def call(project, *args, env=None):
        monkeypatch.chdir(project)
        monkeypatch.setenv("COLUMNS", "160")
        for key in ("COSTCALC_DEBUG", "GITHUB_ACTIONS"):
            monkeypatch.delenv(key, raising=False)
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return call
