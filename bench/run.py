"""The costcalc benchmark: whole-process timings and peak memory against peers and floors.

    python bench/run.py [--rounds N] [--out bench/RESULTS.md]

Installs nothing. Peers come from the optional extras (pip install -e '.[verify,bench]'); a peer
that is not installed is reported as not measured. Every figure is a whole process: wall time by
time.perf_counter around subprocess, peak RSS by GNU time (/usr/bin/time -f %M, which also adds
its own ~1 ms to every command alike). Commands of a group run interleaved (A B C A B C ...) after one warm-up round; we report the median, min and
max, and every target as a ratio of medians measured in the same run.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from specgen import chain_spec, nested_spec, one_repeat_spec, repeat_near_limit_spec  # noqa: E402

PY = sys.executable
#: target 4's sizes: the spec language refuses more than 100,000 layers and block instances
#: together, so the nested shape (61 instances per 100 layers) stops at 60,000 layers
BIG = {"chain": 100_000, "nested": 60_000}
GOOGLENET = "specs/googlenet.yaml"
HUGE = "tests/data/huge_1e10.yaml"  # 10**10 parameters: one 100,000 x 100,000 linear, no bias
RSS_LIMIT_KB = 1.5 * 1024 * 1024  # target 5: 1.5 GB, in KiB as ru_maxrss reports it
PEERS = {  # name: (module it needs, script)
    "fvcore": ("fvcore", "peer_fvcore.py"), "torchinfo": ("torchinfo", "peer_torchinfo.py"),
    "ptflops": ("ptflops", "peer_ptflops.py"), "thop": ("thop", "peer_thop.py"),
    "FlopCounterMode": ("torch", "peer_flopcounter.py")}


def child_env() -> dict:
    """The children's environment: this checkout first on the path, byte-code caches allowed
    (as for any installed package; PYTHONDONTWRITEBYTECODE would make costcalc alone recompile
    its sources on every run, while torch and the peers load theirs from site-packages)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["COLUMNS"] = "160"
    return env


@dataclass
class Run:
    seconds: float
    rss_kb: int
    code: int
    out: str  # the last KEEP characters of stdout and stderr: the harness stays small
    err: str


KEEP = 4000
TIME = "/usr/bin/time"  # GNU time: %M is the child's own peak RSS in KiB


def run_once(cmd: list, env: dict) -> Run:
    """One whole process: wall time around it, and its peak RSS from GNU time (-f %M).

    Not the harness's own rusage: on Linux a child's ru_maxrss also counts the parent's pages it
    was forked from, so a small tool would inherit the harness's size. Without GNU time, os.wait4's
    rusage of the child is used instead (an upper bound)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as rss:
        full = [TIME, "-q", "-f", "%M", "-o", rss.name, *cmd] if os.access(TIME, os.X_OK) else cmd
        start = time.perf_counter()
        proc = subprocess.Popen(full, cwd=ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        written = rss.read().split()
        peak = int(written[-1]) if written and written[-1].isdigit() else usage.ru_maxrss

        def tail(fh):
            fh.seek(max(0, fh.seek(0, os.SEEK_END) - KEEP))
            return fh.read().decode(errors="replace")

        return Run(seconds, peak, code, tail(out), tail(err))


@dataclass
class Measure:
    label: str
    cmd: list
    runs: list = field(default_factory=list)

    @property
    def times(self):
        return [r.seconds for r in self.runs]

    @property
    def median(self):
        return statistics.median(self.times)

    @property
    def ok(self):
        return bool(self.runs) and all(r.code == 0 for r in self.runs)

    @property
    def rss_mb(self):
        return max(r.rss_kb for r in self.runs) / 1024


def interleave(measures: list, rounds: int, env: dict, warmup: int = 1):
    """Run each command once per round, in turn (A B C A B C ...); the warm-up rounds are not kept."""
    for r in range(warmup + rounds):
        for m in measures:
            run = run_once(m.cmd, env)
            if r >= warmup or run.code != 0:
                m.runs.append(run)
            if run.code != 0:  # a failing command is reported, not timed again
                measures = [x for x in measures if x is not m]
        print(f"  round {r + 1 - warmup}/{rounds}" if r >= warmup else "  warm-up round", file=sys.stderr)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def machine() -> list:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)

    def version(dist):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return [
        f"- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- CPU: {cpu}; {len(os.sched_getaffinity(0))} usable cores (nproc)",
        f"- memory: {mem / 1024 / 1024:.1f} GiB",
        f"- load average at start (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- {platform.platform()}; Python {platform.python_version()} ({PY})",
        "- versions: " + ", ".join(f"{d} {version(d)}" for d in
                                   ("torch", "typer", "pydantic", "rich", "PyYAML", "fvcore",
                                    "torchinfo", "ptflops", "thop")),
    ]


class Report:
    def __init__(self):
        self.lines: list[str] = []
        self.targets: list[tuple] = []  # (number, what, figure, met: True/False/None)
        self.failed: list = []  # measures whose command exited non-zero: the run fails

    def add(self, *lines):
        self.lines.extend(lines)
        for line in lines:
            print(line)

    def table(self, title: str, measures: list, base: Measure | None = None):
        self.failed += [m for m in measures if not m.ok]
        rows = [f"### {title}", "",
                "| command | median | min | max | runs | peak RSS |" + (f" ÷ {base.label} |" if base else ""),
                "|---|---:|---:|---:|---:|---:|" + ("---:|" if base else "")]
        for m in measures:
            if not m.ok:
                err = (m.runs[-1].err.strip().splitlines() or ["?"])[-1][:160] if m.runs else "not run"
                rows.append(f"| {m.label} | failed (exit {m.runs[-1].code if m.runs else '-'}): {err} |||||"
                            + ("|" if base else ""))
                continue
            ratio = f" {m.median / base.median:.2f}× |" if base and base.ok else (" |" if base else "")
            rows.append(f"| {m.label} | {ms(m.median)} | {ms(min(m.times))} | {ms(max(m.times))} | "
                        f"{len(m.runs)} | {m.rss_mb:,.0f} MB |{ratio}")
        self.add(*rows, "")

    def target(self, number, what, figure, met):
        self.targets.append((number, what, figure, met))


def peer_available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def costcalc(*args) -> list:
    return [PY, "-m", "costcalc", *map(str, args)]


def bench_startup(rep: Report, rounds: int, env: dict):
    floors = [Measure("floor: python -c pass", [PY, "-c", "pass"]),
              Measure("floor: import yaml, typer, rich.console, rich.table",
                      [PY, "-c", "import yaml, typer, rich.console, rich.table"]),
              Measure("floor: bare typer app --help", [PY, str(HERE / "bare_typer.py"), "--help"]),
              Measure("floor: bare typer app running its command (typer imports pydantic)",
                      [PY, str(HERE / "bare_typer.py"), "--name", "x"])]
    table = Measure("costcalc analyze googlenet (table)", costcalc("analyze", GOOGLENET))
    js = Measure("costcalc analyze googlenet --format json", costcalc("analyze", GOOGLENET, "-f", "json"))
    peers, missing = [], []
    for name, (module, script) in PEERS.items():
        if peer_available(module):
            peers.append(Measure(f"{name} on the spec-built googlenet", [PY, str(HERE / script), GOOGLENET]))
        else:
            missing.append(name)
    print(f"targets 1-2: googlenet, {rounds} interleaved rounds", file=sys.stderr)
    interleave(floors + [table, js] + peers, rounds, env)
    rep.table("Targets 1 and 2: GoogLeNet (specs/googlenet.yaml), whole processes", floors + [table, js] + peers,
              base=table)
    for name in missing:
        rep.add(f"- {name}: not measured: not installed (pip install -e '.[verify,bench]')")
    counts = [m.runs[-1].out.strip() for m in peers if m.ok]
    if counts:
        rep.add("What each peer printed (its own unit and convention):", "",
                *[f"- {c}" for c in counts], "")

    fv = next((m for m in peers if m.label.startswith("fvcore")), None)
    bare = floors[2]
    if fv is not None and fv.ok and table.ok:
        r = fv.median / table.median
        rep.target("1a", "analyze (table) ≥ 8× faster than fvcore on the same model", f"{r:.1f}×", r >= 8)
    else:
        rep.target("1a", "analyze (table) ≥ 8× faster than fvcore on the same model",
                   "not measured: fvcore unavailable" if fv is None else "fvcore or costcalc failed", None)
    r = table.median / bare.median if table.ok and bare.ok else None
    command = floors[3]
    also = (f"; {table.median / command.median:.2f}× the bare app running its command "
            f"({ms(command.median)})") if command.ok and r else ""
    rep.target("1b", "analyze (table) ≤ 1.5× a bare typer app's --help",
               f"{r:.2f}× ({ms(table.median)} vs {ms(bare.median)}){also}" if r else "failed",
               r is not None and r <= 1.5)
    r = js.median / bare.median if js.ok and bare.ok else None
    rep.target("1c", "analyze --format json ≤ 1.0× a bare typer app's --help",
               f"{r:.2f}× ({ms(js.median)} vs {ms(bare.median)})" if r else "failed",
               r is not None and r <= 1.0)

    probe = run_once([PY, "-X", "importtime", *costcalc("analyze", GOOGLENET, "-f", "json")[1:]], env)
    imported = {line.split("|")[-1].strip() for line in probe.err.splitlines() if line.startswith("import time:")}
    heavy = sorted(m for m in ("rich.table", "rich.console", "torch", "fvcore", "pydantic") if m in imported)
    faster = js.ok and table.ok and js.median < table.median
    rep.target("2", "--format json faster than the table, without rich's table machinery or pydantic",
               f"{ms(js.median)} vs {ms(table.median)} ({table.median / js.median:.2f}× faster); "
               f"imports of rich.table/rich.console/torch/fvcore/pydantic: {', '.join(heavy) or 'none'}",
               faster and not heavy)


def bench_scaling(rep: Report, rounds: int, env: dict, tmp: Path):
    specs = {}
    for n in (1_000, 10_000, BIG["chain"], BIG["nested"]):
        for shape, make in (("chain", chain_spec), ("nested", nested_spec)):
            path = tmp / f"{shape}-{n}.yaml"
            path.write_text(make(n))
            specs[shape, n] = path
    small = [Measure(f"{shape}, {n:,} layers: analyze --format json", costcalc("analyze", specs[shape, n], "-f", "json"))
             for shape in ("chain", "nested") for n in (1_000, 10_000)]
    tables = [Measure(f"{shape}, 10,000 layers: analyze (table)",
                      costcalc("analyze", specs[shape, 10_000])) for shape in ("chain", "nested")]
    print(f"target 3: 1,000 and 10,000 layers, json and table, {rounds} interleaved rounds", file=sys.stderr)
    interleave(small + tables, rounds, env)
    rep.table("Target 3: generated specs of 1,000 and 10,000 layers (chain, and nested blocks)", small + tables)
    for shape, js, tab in (("chain", small[1], tables[0]), ("nested", small[3], tables[1])):
        r = tab.median / js.median if tab.ok and js.ok else None
        rep.target("3b", f"{shape}, 10,000 layers: the table ≤ 2× the same spec's json",
                   f"{r:.2f}× ({ms(tab.median)} vs {ms(js.median)})" if r else "failed",
                   r is not None and r <= 2)
    for shape, (one_k, ten_k) in (("chain", small[0:2]), ("nested", small[2:4])):
        if one_k.ok and ten_k.ok:
            growth = ten_k.median / one_k.median
            rep.target("3", f"{shape}, 10,000 layers: analyze --format json < 1 s, t(10,000)/t(1,000) ≤ 12",
                       f"{ms(ten_k.median)}; ratio {growth:.2f}", ten_k.median < 1 and growth <= 12)
        else:
            rep.target("3", f"{shape}, 10,000 layers: analyze --format json < 1 s, t(10,000)/t(1,000) ≤ 12",
                       "failed", False)

    big = [Measure(f"{shape}, {BIG[shape]:,} layers: analyze --format json",
                   costcalc("analyze", specs[shape, BIG[shape]], "-f", "json")) for shape in ("chain", "nested")]
    print("target 4: the largest specs the expansion limit accepts, one run each", file=sys.stderr)
    interleave(big, 1, env, warmup=0)
    rep.table("Target 4: the largest generated specs the limit accepts (one run each; the limit is "
              "100,000 layers and block instances together)", big)
    for m in big:
        rep.target("4", m.label.replace(": analyze --format json", " completes"),
                   f"exit {m.runs[-1].code}, {ms(m.median)}, peak RSS {m.rss_mb:,.0f} MB", m.ok)


LIMIT_SECONDS, LIMIT_RSS_MB = 1.0, 200  # issue 19.4: each valid spec, table and json
LIMIT_ROUNDS = 3


def bench_limits(rep: Report, env: dict, tmp: Path):
    """Issue 19.4: the largest valid specs, as a table and as json, each under 1 s and 200 MB."""
    cases = {"900 entries × repeat: 100 (90,000 layers), a file just under 10 MiB": repeat_near_limit_spec(),
             "one relu × repeat: 100,000 (100,000 layers)": one_repeat_spec()}
    measures = []
    for i, (what, text) in enumerate(cases.items()):
        path = tmp / f"limit-{i}.yaml"
        path.write_text(text)
        measures.append((what, path.stat().st_size,
                         Measure(f"{what}: analyze (table)", costcalc("analyze", path)),
                         Measure(f"{what}: analyze --format json", costcalc("analyze", path, "-f", "json"))))
    print(f"target 6: the largest valid specs, table and json, {LIMIT_ROUNDS} interleaved rounds",
          file=sys.stderr)
    interleave([m for _, _, t, j in measures for m in (t, j)], LIMIT_ROUNDS, env)
    rep.table(f"Target 6: the largest valid specs, as a table and as json ({LIMIT_ROUNDS} rounds each)",
              [m for _, _, t, j in measures for m in (t, j)])
    for what, size, tab, js in measures:
        for m, fmt in ((tab, "table"), (js, "json")):
            rep.target("6", f"{what}, {fmt}: exit 0, median < {LIMIT_SECONDS:g} s, peak RSS < "
                            f"{LIMIT_RSS_MB} MB (issue 19.4)",
                       f"exit {m.runs[-1].code}, {ms(m.median)}, peak RSS {m.rss_mb:,.0f} MB; file "
                       f"{size:,} bytes" if m.ok else "failed",
                       m.ok and m.median < LIMIT_SECONDS and m.rss_mb < LIMIT_RSS_MB)


def bench_verify(rep: Report, env: dict):
    what = "verify on a spec with 10¹⁰ parameters (meta path): peak RSS < 1.5 GB"
    probe = run_once(costcalc("verify", "--help"), env)
    if probe.code != 0:
        rep.add("### Target 5: verify with 10¹⁰ parameters", "",
                "not measured: verify unavailable (`python -m costcalc verify --help` exits "
                f"{probe.code}: {(probe.err.strip().splitlines() or [''])[-1][:120]})", "")
        rep.target("5", what, "not measured: verify unavailable", None)
        return
    m = Measure(f"verify {HUGE}", costcalc("verify", HUGE))
    print("target 5: verify, one run", file=sys.stderr)
    interleave([m], 1, env, warmup=0)
    run = m.runs[-1]
    rep.table("Target 5: verify with 10¹⁰ parameters (a 100,000 × 100,000 linear layer, no bias)", [m])
    tail = "\n".join(run.out.strip().splitlines()[-6:])
    rep.add("Its last lines of output:", "", "```", tail or run.err.strip()[-600:], "```", "")
    rep.target("5", what, f"exit {run.code}, peak RSS {run.rss_kb / 1024:,.0f} MB",
               run.code == 0 and run.rss_kb < RSS_LIMIT_KB)


def write_atomically(path: Path, text: str):
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=10, help="interleaved rounds per group (default 10)")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md", help="where to write the results")
    ap.add_argument("--skip", action="append", default=[], choices=["startup", "scaling", "limits", "verify"],
                    help="leave a group out (for a quick look; RESULTS.md then says so)")
    args = ap.parse_args(argv)
    env = child_env()
    rep = Report()
    rep.add("# costcalc benchmark results", "",
            "Written by `python bench/run.py`; every figure is a whole process on this machine. "
            f"Interleaved runs after a warm-up round; {args.rounds} rounds per group unless noted; "
            "ratios are of medians from the same run.", "", "## Machine", "", *machine(), "", "## Measurements", "")
    with tempfile.TemporaryDirectory(prefix="costcalc-bench-") as tmp:
        if "startup" not in args.skip:
            bench_startup(rep, args.rounds, env)
        if "scaling" not in args.skip:
            bench_scaling(rep, args.rounds, env, Path(tmp))
        if "limits" not in args.skip:
            bench_limits(rep, env, Path(tmp))
        if "verify" not in args.skip:
            bench_verify(rep, env)
    rep.add("## Targets", "", "| # | target | figure | verdict |", "|---|---|---|---|")
    for number, what, figure, met in rep.targets:
        verdict = "met" if met else ("not measured" if met is None else "**not met**")
        rep.add(f"| {number} | {what} | {figure} | {verdict} |")
    if args.skip:
        rep.add("", f"Groups left out of this run: {', '.join(args.skip)}.")
    rep.add("", f"- load average at the end (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return finish(rep, args.out)


def finish(rep: Report, out: Path) -> int:
    """Write the results, or, when a listed case could not run, leave them as they were and
    fail (exit 1) naming each case: a stale figure must not survive a silent failure."""
    if rep.failed:
        for m in rep.failed:
            run = m.runs[-1] if m.runs else None
            why = (run.err.strip().splitlines() or ["?"])[-1][:200] if run else "not run"
            print(f"bench: FAILED: {m.label}: exit {run.code if run else '-'}: {why}", file=sys.stderr)
        print(f"bench: {len(rep.failed)} case(s) could not run; {out} is not rewritten", file=sys.stderr)
        return 1
    write_atomically(out, "\n".join(rep.lines) + "\n")
    print(f"\nwrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
