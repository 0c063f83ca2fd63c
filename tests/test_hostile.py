"""Small hostile specs (issue 19): each gets one short `costcalc: error:` line and exit 2 from
every command that reads specs, as a real process.

No timing: subprocess timeouts only catch a hang. What is bounded is the output (an error
line of at most a few hundred characters), which a message printing an aliased value whole
breaks by orders of magnitude.
"""
from __future__ import annotations

import json
import os

import pytest

from conftest import ROOT, run_cli
from hostile import BOMB_SLOTS, alias_bomb_in, aliased_argument_spec, substituted_list_spec

MAX_ERROR_LINE = 400  # characters: the longest message below is about 200 plus the file's path


SPEC = "hostile.yaml"  # in the test's own directory, the working directory of each run
COMMANDS = [["analyze", SPEC], ["analyze", SPEC, "-f", "json"], ["compare", ROOT / "specs" / "naive.yaml", SPEC],
            ["table", SPEC], ["check", SPEC], ["lock", SPEC]]
CLAIMS_COMMANDS = [c for c in COMMANDS if c[0] not in ("compare", "lock")]  # these read no claims


def one_error_line(r) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr[:500])
    assert len(r.stderr) <= MAX_ERROR_LINE, f"{len(r.stderr):,} characters: {r.stderr[:300]}"
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"costcalc: error: {SPEC}:"), r.stderr
    assert r.stdout == ""
    return r.stderr.strip()


@pytest.mark.parametrize("slot", BOMB_SLOTS)
def test_an_aliased_value_in_an_error_is_described_not_printed(tmp_path, slot):
    spec = tmp_path / SPEC
    spec.write_text(alias_bomb_in(slot))
    assert spec.stat().st_size < 20_000  # 10,000 texts of 1,000 characters once expanded
    for args in CLAIMS_COMMANDS if slot == "metric" else COMMANDS:
        line = one_error_line(run_cli(*args, cwd=tmp_path, timeout=120))
        assert "a list of 10 items" in line, line


def test_a_long_text_in_an_error_is_cut(tmp_path):
    # a 1,000,000-character name where a layer name belongs, and as an unknown top-level key
    # (written '? KEY': YAML allows 1,024 characters in a plain 'KEY:')
    (tmp_path / SPEC).write_text("input: [3, 8, 8]\nlayers:\n  - {name: '" + "x " * 500_000 + "', relu: }\n")
    line = one_error_line(run_cli("analyze", SPEC, cwd=tmp_path, timeout=120))
    assert line.endswith("... (1,000,000 characters) must be letters, digits, _ or - (and not 'input')")
    (tmp_path / SPEC).write_text("input: [3, 8, 8]\nlayers: [relu]\n? " + "k" * 1_000_000 + "\n: 1\n")
    r = run_cli("analyze", SPEC, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and len(r.stderr) < 1_200, r.stderr[:300]
    assert r.stderr.startswith(f"costcalc: error: {SPEC}:3:3: unknown top-level key 'kkk")
    assert r.stderr.endswith(" characters, cut)\n") and "... (an error line of 1,000," in r.stderr


def test_an_aliased_argument_is_substituted_once_not_once_per_instance(tmp_path):
    # 2,000 instances of 'outer', each passing a 600,995-node aliased list (about 800 bytes of
    # YAML) to 5 instances of 'inner'; walked once per instance, 1.2 billion nodes
    (tmp_path / SPEC).write_text(aliased_argument_spec())
    r = run_cli("analyze", SPEC, "-f", "json", cwd=tmp_path, timeout=120)
    assert r.returncode == 0 and r.stderr == "", r.stderr[:300]
    d = json.loads(r.stdout)
    assert len(d["layers"]) == 10_000  # 2,000 outer x 5 inner x 1 relu
    assert d["totals"]["elementops"] == 1_920_000  # 10,000 relus x 3*8*8 = 192 elements


def test_substitution_counts_nodes_times_instances(tmp_path):
    # a list of 2,000 '$q' rebuilt in each of 2,000 instances: 4,000,000 list items. Each instance
    # counts 2,006: the entry {block, args} 1 + 2, its args list 1 + 1, the list 1 + 2,000;
    # instances 0 to 497 make 498 * 2,006 = 998,988, and instance 498 passes 1,000,000
    (tmp_path / SPEC).write_text(substituted_list_spec())
    for args in COMMANDS:
        line = one_error_line(run_cli(*args, cwd=tmp_path, timeout=120))
        assert line.endswith(f"{SPEC}:7:9: layer 'outer_1/498': block parameters are substituted into "
                             "more than 1,000,000 list items and mapping values (each counted once per "
                             "block instance)"), line


@pytest.mark.parametrize("kind", ["named pipe", "character device"])
def test_only_a_regular_file_is_read(tmp_path, kind):
    # a named pipe with no writer blocks open() forever; /dev/zero (here through a symlink)
    # never ends
    if kind == "named pipe":
        os.mkfifo(tmp_path / SPEC)
    else:
        os.symlink("/dev/zero", tmp_path / SPEC)
    for args in COMMANDS:
        line = one_error_line(run_cli(*args, cwd=tmp_path, timeout=60))
        assert line == f"costcalc: error: {SPEC}: not a regular file (a {kind}), so not a spec file", line


@pytest.mark.parametrize("name,what", [("costcalc.lock", "lock"), ("tiny.claims.yaml", "claims")])
def test_a_named_pipe_as_lock_or_claims_file(tmp_path, name, what):
    (tmp_path / "tiny.yaml").write_text("input: [3, 8, 8]\nlayers: [relu]\n")
    os.mkfifo(tmp_path / name)
    r = run_cli("check", "tiny.yaml", cwd=tmp_path, timeout=60)
    assert r.returncode == 2 and len(r.stderr) <= MAX_ERROR_LINE and r.stdout == "", r.stderr
    assert r.stderr.startswith("costcalc: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.endswith(f"{name}: not a regular file (a named pipe), so not a {what} file\n"), r.stderr
