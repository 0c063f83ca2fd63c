"""Regenerate the README sections that costcalc itself produces.

    python tools/readme_sections.py            # rewrite every generated section in README.md
    python tools/readme_sections.py --check    # exit 1 if README.md is out of date (used by tests)

A generated section sits between two markers in README.md:

    <!-- BEGIN costcalc:NAME -->
    ...generated text...
    <!-- END costcalc:NAME -->

and is produced by the function registered here under NAME, which runs costcalc (the CLI via
subprocess, or the library) and returns markdown. The README is written atomically.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SECTIONS = {}


def section(name):
    """Register a generator: a function of no arguments returning the section's markdown."""
    def deco(fn):
        if name in SECTIONS:
            raise ValueError(f"section {name} registered twice")
        SECTIONS[name] = fn
        return fn
    return deco


def costcalc(*args) -> str:
    """stdout of `python -m costcalc ARGS` run at the repository root (fails loudly)."""
    import subprocess

    r = subprocess.run([sys.executable, "-m", "costcalc", *args], cwd=ROOT, capture_output=True,
                       text=True, env=dict(os.environ, COLUMNS="160"))
    if r.returncode not in (0, 1):
        raise SystemExit(f"costcalc {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


@section("kinds")
def kinds_table() -> str:
    sys.path.insert(0, str(ROOT))
    from costcalc import kinds

    lines = ["| kind | arguments (default) | element ops |", "|---|---|---|"]
    for n in kinds.known():
        k = kinds.get(n)
        a = ", ".join(f"`{key}`" + ("" if arg.required else f" ({arg.default})")
                      for key, arg in k.args.items()) or "—"
        lines.append(f"| `{n}`: {k.summary} | {a} | {k.elementops_rule} |")
    return "\n".join(lines)


@section("table1")
def table1_markdown() -> str:
    out = costcalc("table", "specs/googlenet.yaml", "--format", "markdown")
    return out.replace("### googlenet: Table 1\n\n", "", 1).replace("#### Claims\n\n", "", 1)


@section("review-claims")
def review_claims() -> str:
    cmd = ("analyze", "specs/conv5x5_naive.yaml", "specs/conv5x5_reduced.yaml")
    return "```console\n$ costcalc " + " ".join(cmd) + "\n" + costcalc(*cmd).rstrip() + "\n```"


def render(text: str) -> str:
    for name, fn in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN costcalc:{name} -->\n).*?(<!-- END costcalc:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no markers for section '{name}'")
        body = fn().strip("\n")
        text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    return text


def main(argv) -> int:
    old = README.read_text()
    new = render(old)
    if "--check" in argv:
        if new != old:
            print("README.md is out of date: run python tools/readme_sections.py", file=sys.stderr)
            return 1
        return 0
    fd, tmp = tempfile.mkstemp(dir=ROOT, prefix=".README.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(new)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, README)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
