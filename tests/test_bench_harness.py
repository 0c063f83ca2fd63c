"""bench/run.py fails loudly: a case that can no longer run fails the run and leaves RESULTS.md
as it was, and every case it lists is a spec the limits accept (issue 12.6)."""
import sys

import costcalc
from bench import run as bench
from bench.specgen import chain_spec, nested_spec


def test_a_failing_case_fails_the_run_and_writes_nothing(tmp_path, capsys):
    env = bench.child_env()
    ok = bench.Measure("ok", [sys.executable, "-c", "pass"])
    bad = bench.Measure("refused", [sys.executable, "-c", "import sys; print('too big', file=sys.stderr); sys.exit(2)"])
    bench.interleave([ok, bad], 1, env, warmup=0)
    rep = bench.Report()
    rep.table("t", [ok, bad])
    out = tmp_path / "RESULTS.md"
    out.write_text("old\n")
    assert bench.finish(rep, out) == 1
    assert out.read_text() == "old\n"
    assert "bench: FAILED: refused: exit 2: too big" in capsys.readouterr().err
    rep = bench.Report()
    rep.table("t", [ok])
    assert bench.finish(rep, out) == 0 and "| ok |" in out.read_text()


def test_the_largest_cases_are_within_the_expansion_limit(tmp_path):
    for make, n in ((nested_spec, bench.BIG["nested"]), (chain_spec, bench.BIG["chain"])):
        path = tmp_path / "big.yaml"
        path.write_text(make(n))
        r = costcalc.analyze(str(path))
        assert len(r.layers) == n
        assert r.totals["macs"] == n // 2 * 36_864  # per conv 8*8*8 * 8*3*3 = 36,864 MACs
