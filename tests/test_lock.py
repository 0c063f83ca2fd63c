"""The baseline lock: round trip, diffs, damage, vanished specs, interrupted writes.
Figures of TINY are worked out in checkproject.py."""
import json
import os

import pytest

from checkproject import TINY, TINY_LOCK_EXPECTATIONS, cc, make_project, run  # noqa: F401 (cc: fixture)

HEAD = "  - {name: head, conv: {out: 2, kernel: 1}}\n"  # 8*8*2*8 = 1,024 MACs; 2*8 + 2 = 18 params


def test_lock_round_trip(tmp_path, cc):
    p = make_project(tmp_path)
    r = cc(p, "lock", "tiny.yaml")
    assert r.returncode == 0, r.stderr
    assert "costcalc.lock: 1 spec, 1 block instance, 3 layers locked" in r.stdout
    text = p.joinpath("costcalc.lock").read_text()
    d = json.loads(text)
    assert d["costcalc-lock"] == 1 and d["metrics"] == ["params", "macs", "activations"]
    tiny = d["specs"]["tiny.yaml"]
    assert tiny["total"] == {"params": 408, "macs": 25_344, "activations": 1_280}
    assert tiny["blocks"] == {"u1": {"params": 296, "macs": 18_432, "activations": 1_024}}
    assert tiny["layers"] == {
        "stem": {"params": 112, "macs": 6_912, "activations": 256},
        "u1/conv": {"params": 296, "macs": 18_432, "activations": 512},
        "u1/relu": {"params": 0, "macs": 0, "activations": 512}}
    # one line per layer, sorted: the diff of a change is the changed lines
    assert '        "u1/conv": {"params": 296, "macs": 18432, "activations": 512},\n' in text
    r = cc(p, "check")  # no SPEC: the lock names tiny.yaml
    assert r.returncode == 0, r.stdout
    assert f"all {TINY_LOCK_EXPECTATIONS} expectations hold (lock {TINY_LOCK_EXPECTATIONS})" in r.stdout
    # an existing lock is only rewritten on request; rewriting unchanged figures is byte-stable
    r = cc(p, "lock", "tiny.yaml")
    assert r.returncode == 2 and "use --update" in r.stderr
    assert cc(p, "lock", "--update").returncode == 0
    assert p.joinpath("costcalc.lock").read_text() == text


def test_added_layer_shows_in_the_diff_and_fails(tmp_path, cc):
    p = make_project(tmp_path)
    assert cc(p, "lock", "tiny.yaml").returncode == 0
    p.joinpath("tiny.yaml").write_text(TINY + HEAD)
    r = cc(p, "check", "--format", "json")
    assert r.returncode == 1
    d = json.loads(r.stdout)
    assert d["changes"] == [{"spec": "tiny.yaml", "path": "head", "status": "added", "before": None,
                             "after": {"params": 18, "macs": 1024, "activations": 128},
                             "delta": {"params": 18, "macs": 1024, "activations": 128},
                             "line": 12, "column": 5}]  # where head is written in the spec
    total_macs = next(f for f in d["failures"] if f["path"] == "total" and f["metric"] == "macs")
    # 25,344 + 1,024 = 26,368; 1,024 / 25,344 = 4.04%
    assert (total_macs["limit"], total_macs["actual"], total_macs["overshoot"]) == (25_344, 26_368, 1_024)
    assert round(total_macs["overshoot_pct"], 2) == 4.04
    table = cc(p, "check").stdout
    changed = table[table.index("changed against the lock"):]
    assert "head" in changed and "added" in changed and "+1,024" in changed
    # the head adds to the total only: 3 failures (params, MACs, activations); keep 1 row
    r = cc(p, "check", "--max-rows", "1")
    assert "… and 2 more failures" in r.stdout and r.stdout.count("tiny.yaml:1:1") == 1


def test_decrease_passes_with_a_hint_to_relock(tmp_path, cc):
    p = make_project(tmp_path)
    assert cc(p, "lock", "tiny.yaml").returncode == 0
    # u1 with 4 filters: u1/conv 8*8*4*4*3*3 = 9,216 MACs; total 6,912 + 9,216 = 16,128
    p.joinpath("tiny.yaml").write_text(TINY.replace("args: [8]", "args: [4]"))
    r = cc(p, "check")
    assert r.returncode == 0, r.stdout
    assert "decreased against the lock" in r.stdout and "costcalc lock --update" in r.stdout
    assert "tiny.yaml: total MACs 16,128, locked 25,344: −9,216 (−36.36%)" in r.stdout


def test_removed_layer_is_a_decrease(tmp_path, cc):
    p = make_project(tmp_path, {"tiny.yaml": TINY + HEAD})
    assert cc(p, "lock", "tiny.yaml").returncode == 0
    p.joinpath("tiny.yaml").write_text(TINY)
    r = cc(p, "check", "-f", "json")
    assert r.returncode == 0
    d = json.loads(r.stdout)
    assert {(o["path"], o["verdict"]) for o in d["outcomes"] if o["path"] == "head"} == {("head", "removed")}
    assert d["changes"][0]["status"] == "removed" and d["changes"][0]["delta"]["macs"] == -1024


def test_tolerance(tmp_path, cc):
    p = make_project(tmp_path)
    assert cc(p, "lock", "tiny.yaml").returncode == 0
    # a ReLU after u1 adds 8*8*8 = 512 activations: 1,280 → 1,792, exactly +40%
    p.joinpath("tiny.yaml").write_text(TINY + "  - {name: out_relu, relu: }\n")
    assert cc(p, "check", "--tolerance", "40%").returncode == 0
    r = cc(p, "check", "--tolerance", "39.9%")
    assert r.returncode == 1 and "+512 (+40.00%)" in r.stdout
    p.joinpath("pyproject.toml").write_text('[tool.costcalc]\nlock-tolerance = "0.4"\n')
    assert cc(p, "check").returncode == 0


@pytest.mark.parametrize("damage, message", [
    (lambda t: t[: len(t) // 2], "corrupt lock: JSON:"),  # truncated
    (lambda t: "{ not json", "costcalc.lock:1:3: corrupt lock: JSON:"),
    (lambda t: "", "corrupt lock: the file is empty"),
    (lambda t: t.replace('"costcalc-lock": 1', '"costcalc-lock": 2'),
     "lock format version 2 is newer than the version this costcalc reads (1); upgrade costcalc"),
    (lambda t: t.replace('"costcalc-lock": 1', '"costcalc-lock": "x"'), "lock format version 'x' is not"),
    (lambda t: t.replace('"costcalc-lock": 1,', ''), "not a costcalc lock"),
    (lambda t: t.replace('"macs": 6912', '"macs": "6912"'),
     "corrupt lock: spec 'tiny.yaml' layer 'stem': 'macs' must be a whole number ≥ 0, not '6912'"),
    (lambda t: t.replace('"macs": 6912', '"macs": -1'), "must be a whole number ≥ 0, not -1"),
    # issue 20: Python refuses to read an int of over 4,300 digits (exit 3 before); the stem's
    # line, 13, and its "macs" figure after 8 spaces + '"stem": {"params": 112, "macs": ' (40)
    (lambda t: t.replace('"macs": 6912', '"macs": ' + "9" * 5000),
     "costcalc.lock:13:41: corrupt lock: a number of 5,000 digits; the limit is 100"),
    # issue 20: JSON's reader recursed into a RecursionError (exit 3)
    (lambda t: "[" * 100_000 + "]" * 100_000, "costcalc.lock: corrupt lock: JSON nested too deep"),
    # issue 20: a lone surrogate could not be printed (exit 3, after lock --update had written)
    (lambda t: t.replace('"u1/relu"', '"u1/\\ud800"'),
     "corrupt lock: spec 'tiny.yaml': a layer path 'u1/\\ud800' holds a control character or a lone "
     "surrogate"),
    (lambda t: t.replace('"tiny.yaml": {', '"t\\u001b[2J.yaml": {'),
     "corrupt lock: a spec path 't\\x1b[2J.yaml' holds a control character"),  # shown escaped
    (lambda t: t.replace('"name": "tiny"', '"name": "\\u0000"'), "spec 'tiny.yaml': the name '\\x00' holds"),
    # issue 20: true == 1 in Python, and json keeps the last of two equal keys
    (lambda t: t.replace('"costcalc-lock": 1', '"costcalc-lock": true'),
     "lock format version True is not the version this costcalc reads (1)"),
    (lambda t: t.replace('"costcalc-lock": 1,', '"costcalc-lock": 1, "costcalc-lock": 1,'),
     "corrupt lock: the key 'costcalc-lock' is given twice in one mapping"),
    (lambda t: t.replace('"macs": 6912', '"macs": 6912, "macs": 0'),
     "corrupt lock: the key 'macs' is given twice in one mapping"),
])
def test_damaged_or_other_version_lock_is_exit_2(tmp_path, cc, damage, message):
    p = make_project(tmp_path)
    assert cc(p, "lock", "tiny.yaml").returncode == 0
    lock = p / "costcalc.lock"
    lock.write_text(damage(lock.read_text()))
    damaged = lock.read_bytes()
    for args in (("check",), ("check", "tiny.yaml"), ("lock", "--update")):
        r = cc(p, *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stderr.startswith("costcalc: error: costcalc.lock") and r.stderr.count("\n") == 1
        assert message in r.stderr, r.stderr
        assert r.stderr.isprintable() or r.stderr[:-1].isprintable()  # no escape reaches the terminal
    assert lock.read_bytes() == damaged  # lock --update wrote nothing


def test_vanished_spec_fails_and_update_drops_it(tmp_path, cc):
    p = make_project(tmp_path, {"tiny.yaml": TINY, "other.yaml": TINY.replace("tiny", "other")})
    assert cc(p, "lock", "tiny.yaml", "other.yaml").returncode == 0
    os.remove(p / "other.yaml")
    r = cc(p, "check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "other.yaml is in the lock but no longer exists" in r.stdout
    assert cc(p, "check", "tiny.yaml").returncode == 0  # named specs: only their entries apply
    r = cc(p, "lock", "--update")
    assert r.returncode == 0 and "dropped other.yaml" in r.stdout
    assert list(json.loads((p / "costcalc.lock").read_text())["specs"]) == ["tiny.yaml"]
    assert cc(p, "check").returncode == 0


def test_missing_lock_named_by_flag_or_config_is_exit_2(tmp_path, cc):
    p = make_project(tmp_path)
    r = cc(p, "check", "tiny.yaml", "--lock", "nope.lock")
    assert r.returncode == 2 and "nope.lock: no such lock file" in r.stderr
    assert cc(p, "check", "tiny.yaml").returncode == 0  # the default lock is optional


@pytest.mark.parametrize("crash", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_interrupted_update_leaves_the_old_lock_intact(tmp_path, cc, monkeypatch, crash):
    p = make_project(tmp_path)
    assert cc(p, "lock", "tiny.yaml").returncode == 0
    before = (p / "costcalc.lock").read_bytes()
    p.joinpath("tiny.yaml").write_text(TINY + HEAD)
    written = []

    def crash_before_rename(src, dst):  # the new text is written and fsynced; the rename never happens
        written.append(open(src).read())
        raise crash

    monkeypatch.setattr(os, "replace", crash_before_rename)
    r = cc(p, "lock", "--update")
    monkeypatch.undo()
    assert '"head"' in written[0]  # the crash came after the complete new lock was written
    assert r.returncode == (2 if isinstance(crash, OSError) else 130)
    if isinstance(crash, OSError):
        assert "costcalc.lock: cannot write lock: No space left on device" in r.stderr
    assert (p / "costcalc.lock").read_bytes() == before
    assert sorted(f.name for f in p.iterdir()) == ["costcalc.lock", "pyproject.toml", "tiny.yaml"]


def test_lookup_order_flag_then_pyproject_then_default(tmp_path, cc):
    p = make_project(tmp_path, config='lock = "baseline/models.lock"\nspecs = ["*.yaml"]\n')
    (p / "baseline").mkdir()
    assert cc(p, "lock").returncode == 0  # no SPEC: [tool.costcalc] specs
    assert (p / "baseline" / "models.lock").is_file() and not (p / "costcalc.lock").exists()
    # spec paths in a lock are relative to the lock's directory
    assert list(json.loads((p / "baseline" / "models.lock").read_text())["specs"]) == ["../tiny.yaml"]
    assert cc(p, "lock", "--lock", "flag.lock").returncode == 0
    assert (p / "flag.lock").is_file()
    sub = p / "baseline"  # run from a subdirectory: the pyproject above still applies
    r = cc(sub, "check")
    assert r.returncode == 0 and "on 1 spec" in r.stdout
    p.joinpath("pyproject.toml").write_text("[tool.costcalc]\n")
    assert cc(p, "lock", "tiny.yaml").returncode == 0 and (p / "costcalc.lock").is_file()


def test_bad_project_config_is_exit_2(tmp_path, cc):
    p = make_project(tmp_path, config='lok = "x.lock"\n')
    r = cc(p, "check", "tiny.yaml")
    assert r.returncode == 2 and "unknown key 'lok' (did you mean 'lock'?)" in r.stderr
    p.joinpath("pyproject.toml").write_text('[tool.costcalc]\nbudgets = "missing.yaml"\n')
    r = cc(p, "check", "tiny.yaml")
    assert r.returncode == 2 and "missing.yaml: no such budgets file" in r.stderr
    p.joinpath("pyproject.toml").write_text('[tool.costcalc\n')
    r = cc(p, "check", "tiny.yaml")
    assert r.returncode == 2 and "pyproject.toml: TOML:" in r.stderr


def test_config_exclude_takes_files_out_of_specs(tmp_path, cc):
    p = make_project(tmp_path, {"tiny.yaml": TINY, "tiny.claims.yaml": "claims: []\n"},
                     config='specs = ["*.yaml"]\nexclude = ["*.claims.yaml"]\n')
    r = cc(p, "lock")
    assert r.returncode == 0, r.stderr
    assert list(json.loads((p / "costcalc.lock").read_text())["specs"]) == ["tiny.yaml"]
    p.joinpath("pyproject.toml").write_text('[tool.costcalc]\nspecs = ["*.yaml"]\n')
    r = cc(p, "check")  # without the exclusion the claims file is read as a spec
    assert r.returncode == 2 and "tiny.claims.yaml" in r.stderr


@pytest.mark.parametrize("config, args, message", [
    ("", ("--tolerance", "1e300000000"), "--tolerance '1e300000000' is not a relative tolerance"),
    ("", ("--tolerance", "1e-300000000%"), "(its power of ten is beyond ±100)"),
    ('lock-tolerance = "1e300000000"\n', (), "lock-tolerance '1e300000000' is not a relative "
     "tolerance such as 0, 0.5% or 0.01 (its power of ten is beyond ±100)"),
])
def test_a_tolerance_with_a_huge_exponent_is_refused_at_once(tmp_path, config, args, message):
    """Issue 20: Fraction('1e300000000') builds 10**300000000, which never finished."""
    p = make_project(tmp_path, config=config)
    r = run(p, "check", "tiny.yaml", *args)  # a subprocess: a hang fails on its timeout
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert message in r.stderr, r.stderr


@pytest.mark.parametrize("key", ["../x.yaml", "/ABS/x.yaml", "sub/../../x.yaml"])
def test_a_lock_naming_a_file_outside_the_project_is_refused(tmp_path, cc, key):
    """Issue 20: a lock key '../x.yaml' made check read a file outside the project and show its
    content in the error ("unknown top-level key 'secret'")."""
    (tmp_path / "proj").mkdir()
    p = make_project(tmp_path / "proj")
    assert cc(p, "lock", "tiny.yaml").returncode == 0
    (tmp_path / "x.yaml").write_text("secret: hunter2\n")
    key = key.replace("/ABS", tmp_path.as_posix())
    lock = p / "costcalc.lock"
    lock.write_text(lock.read_text().replace('"tiny.yaml": {', json.dumps(key) + ": {"))
    for args in (("check",), ("lock", "--update")):
        r = cc(p, *args)
        assert r.returncode == 2, r.stdout + r.stderr
        assert r.stderr.startswith(f"costcalc: error: costcalc.lock: spec '{key[:60]}")  # cut at 60
        assert r.stderr.endswith(f" is outside the project ({p.resolve().as_posix()}); a lock names "
                                 "only spec files inside it\n")
        assert "secret" not in r.stderr and "hunter2" not in r.stderr


def test_a_lock_in_a_subfolder_may_name_specs_above_it(tmp_path, cc):
    """The root is the project's, not the lock's folder: baseline/x.lock names '../tiny.yaml'."""
    p = make_project(tmp_path, config='lock = "baseline/x.lock"\n')
    (p / "baseline").mkdir()
    assert cc(p, "lock", "tiny.yaml").returncode == 0
    assert list(json.loads((p / "baseline" / "x.lock").read_text())["specs"]) == ["../tiny.yaml"]
    r = cc(p, "check")
    assert r.returncode == 0 and f"all {TINY_LOCK_EXPECTATIONS} expectations hold" in r.stdout


def test_concurrent_updates_of_different_specs_keep_both(tmp_path, monkeypatch):
    """Issue 20: two `lock --update` runs, one per spec, both read the old lock, and the second
    write dropped the first one's figures (19 of 20 tries). Here the first reader waits up to
    2 s for a second one to read too: without the lock on the update both read the old lock;
    with it the second can only read once the first has written."""
    import threading

    import costcalc
    from costcalc.expectations import lock as lockfile

    other = TINY.replace("name: tiny", "name: other")
    p = make_project(tmp_path, {"tiny.yaml": TINY, "other.yaml": other})
    monkeypatch.chdir(p)
    results = {s: costcalc.analyze(s) for s in ("tiny.yaml", "other.yaml")}
    lockfile.update("costcalc.lock", results, update=False)
    # both specs gain the head: 25,344 + 1,024 = 26,368 MACs each
    for name, text in (("tiny.yaml", TINY), ("other.yaml", other)):
        p.joinpath(name).write_text(text + HEAD)
    new = {s: costcalc.analyze(s) for s in ("tiny.yaml", "other.yaml")}
    read, real_read = [], lockfile.read_lock
    second = threading.Event()

    def slow_read(*args, **kwargs):
        lock = real_read(*args, **kwargs)
        read.append(lock)
        if len(read) == 1:
            second.wait(2)
        else:
            second.set()
        return lock

    monkeypatch.setattr(lockfile, "read_lock", slow_read)
    threads = [threading.Thread(target=lockfile.update, args=("costcalc.lock", {s: new[s]}),
                                kwargs={"update": True}) for s in new]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    monkeypatch.undo()
    specs = json.loads(p.joinpath("costcalc.lock").read_text())["specs"]
    assert {s: specs[s]["total"]["macs"] for s in specs} == {"other.yaml": 26_368, "tiny.yaml": 26_368}


def test_a_killed_update_leaves_a_temp_file_that_the_next_run_removes(tmp_path, cc):
    """Issue 20: kill -9 between writing the temp file and the rename left
    .costcalc.lock.XXXXXXXX.tmp behind for good. The next write removes our own stale ones."""
    import subprocess
    import sys

    from conftest import ROOT

    p = make_project(tmp_path)
    assert cc(p, "lock", "tiny.yaml").returncode == 0
    before = (p / "costcalc.lock").read_text()
    kill = ("import os, signal, sys; sys.path.insert(0, sys.argv[1]); "
            "os.replace = lambda a, b: os.kill(os.getpid(), signal.SIGKILL); "
            "from costcalc.cli import main; main(['lock', '--update'])")
    r = subprocess.run([sys.executable, "-c", kill, str(ROOT)], cwd=p, capture_output=True, timeout=120)
    assert r.returncode == -9, r.stderr
    (stale,) = [f.name for f in p.iterdir() if f.name.endswith(".tmp")]
    assert stale.startswith(".costcalc.lock.") and (p / "costcalc.lock").read_text() == before
    others = [".costcalc.lock.keep.tmp", ".costcalc.lock.abcd1234.tmp.bak", ".other.abcd1234.tmp"]
    for name in others:  # not of our pattern: kept
        (p / name).write_text("x")
        os.utime(p / name, (0, 0))
    in_progress = p / ".costcalc.lock.zzzz9999.tmp"  # newer than the run: another writer's, kept
    in_progress.write_text("x")
    os.utime(in_progress, (4e9, 4e9))
    os.utime(p / stale, (1e9, 1e9))  # the killed run's: older than the next run
    assert cc(p, "lock", "--update").returncode == 0
    assert sorted(f.name for f in p.iterdir() if f.name.startswith(".")) == \
        sorted(others + [in_progress.name])
    assert json.loads((p / "costcalc.lock").read_text()) == json.loads(before)


def test_the_lock_text_is_json_that_reads_back_as_its_entries():
    """lock_text lays its JSON out by hand (a line per layer); read back, it is the entries of
    every shipped spec, figures equal to each layer's own."""
    import costcalc
    from costcalc.expectations.lock import entry_for, lock_text
    from conftest import ROOT
    from costcalc.spec.schema import spec_files

    specs = spec_files(ROOT / "specs")
    results = {str(s): costcalc.analyze(str(s)) for s in specs}
    entries = {s: entry_for(r) for s, r in results.items()}
    back = json.loads(lock_text(entries, ROOT / "costcalc.lock"))["specs"]
    assert back == {os.path.relpath(s, ROOT): e for s, e in entries.items()}
    for s, r in results.items():
        layers = back[os.path.relpath(s, ROOT)]["layers"]
        assert len(layers) == len(r.layers)
        for layer in r.layers:
            assert layers[layer.name] == {"params": layer.params, "macs": layer.macs,
                                          "activations": layer.activations}
