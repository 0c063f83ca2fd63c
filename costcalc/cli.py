"""The `costcalc` command line: parses options, calls the library, prints a report.

No counting logic lives here. Bad input ends with one `costcalc: error:` line and exit 2.
"""
from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .errors import CostcalcError

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

app = typer.Typer(
    name="costcalc",
    help="Exact parameter, MAC, FLOP and activation counts for neural-network architectures "
         "written as YAML specs.\n\nExit codes: 0 ok, 1 a check or verification failed, "
         "2 bad input or usage, 3 internal error (a bug: please report it with --debug output).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": bool(os.environ.get("COSTCALC_DEBUG"))}


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class CompareFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


class ConventionName(str, Enum):
    macs = "macs"
    flops = "flops"
    fvcore = "fvcore"


ConventionOpt = typer.Option(ConventionName.macs, "--convention", "-c",
                             help="what the ops column counts: macs (conv+linear multiply-accumulates, "
                                  "default), flops (2 x MACs, FlopCounterMode), fvcore (fvcore's count)")
BatchOpt = typer.Option(None, "--batch", "-b", min=1, help="batch size (default: the spec's, else 1)")
DtypeOpt = typer.Option(None, "--dtype", help="dtype for activation bytes (default float32)")


@app.callback()
def _main(debug: bool = typer.Option(False, "--debug", help="show the traceback of an error")):
    if debug:
        _state["debug"] = True


def _analyze_all(specs, convention, batch, dtype):
    from .results import analyze

    return [analyze(str(s), convention=convention.value, batch=batch, dtype=dtype) for s in specs]


def _warn(results):
    for r in results:
        for w in r.warnings:
            print(f"costcalc: warning: {w}", file=sys.stderr)


@app.command()
def analyze(
    specs: List[Path] = typer.Argument(..., help="spec files (YAML)", show_default=False),
    format: Format = typer.Option(Format.table, "--format", "-f", help="output format"),
    depth: Optional[int] = typer.Option(None, "--depth", "-d", min=1,
                                        help="collapse blocks nested deeper than N path levels"),
    convention: ConventionName = ConventionOpt,
    batch: Optional[int] = BatchOpt,
    dtype: Optional[str] = DtypeOpt,
):
    """Per-layer params, MACs, element ops and activations, with block subtotals and totals."""
    results = _analyze_all(specs, convention, batch, dtype)
    from .claims import claim_outcomes

    claims = [claim_outcomes(r) for r in results]
    if format is Format.json:
        from .report.claims import claims_json
        from .report.text import to_json

        objs = [dict(r.to_dict(), claims=claims_json(c)) for r, c in zip(results, claims)]
        _warn(results)
        print(to_json(objs[0] if len(objs) == 1 else {"models": objs}))
    elif format is Format.csv:
        from .report.text import analyze_csv

        _warn(results)
        sys.stdout.write(analyze_csv(results))
    elif format is Format.markdown:
        from .report.text import analyze_markdown

        _warn(results)
        sys.stdout.write(analyze_markdown(results, depth, claims))
    else:
        from .report.table import print_analyze

        print_analyze(results, depth, claims=claims)


@app.command()
def compare(
    specs: List[Path] = typer.Argument(..., help="two or more spec files; ratios are against the first",
                                       show_default=False),
    format: CompareFormat = typer.Option(CompareFormat.table, "--format", "-f", help="output format"),
    convention: ConventionName = ConventionOpt,
    batch: Optional[int] = BatchOpt,
    dtype: Optional[str] = DtypeOpt,
):
    """Totals side by side, with ratios against the first spec and a per-path diff."""
    if len(specs) < 2:
        raise CostcalcError("compare needs two or more spec files")
    from .compare import compare as build

    results = _analyze_all(specs, convention, batch, dtype)
    data = build(results)
    _warn(results)
    if format is CompareFormat.json:
        from .report.text import to_json

        print(to_json(data))
    elif format is CompareFormat.markdown:
        from .report.text import compare_markdown

        sys.stdout.write(compare_markdown(data))
    else:
        from .report.table import print_compare

        print_compare(data)


@app.command()
def kinds():
    """List the layer kinds a spec can use, with their arguments."""
    from . import kinds as registry

    for name in registry.known():
        kind = registry.get(name)
        args = ", ".join(f"{k}: {a.describe()}" for k, a in kind.args.items()) or "no arguments"
        print(f"{name:18} {kind.summary}\n{'':18} {args}")


@app.command()
def table(
    spec: Path = typer.Argument(..., help="spec file (YAML)", show_default=False),
    format: Format = typer.Option(Format.table, "--format", "-f", help="output format"),
):
    """The GoogLeNet paper's Table 1 layout: one row per top-level layer or block, with filter
    columns, depth, params (K = 1024) and ops (MACs, M = 10^6), then every published claim
    beside the exact computed figure, with its verdict."""
    from .claims import claim_outcomes
    from .results import analyze as count
    from .table1 import build_table

    result = count(str(spec))
    data = build_table(result, claim_outcomes(result))
    _warn([result])
    if format is Format.json:
        from .report.table1 import table_json
        from .report.text import to_json

        print(to_json(table_json(data)))
    elif format is Format.csv:
        from .report.table1 import table_csv

        sys.stdout.write(table_csv(data))
    elif format is Format.markdown:
        from .report.table1 import table_markdown
        from .report.text import md_table

        sys.stdout.write(table_markdown(data, md_table))
    else:
        from .report.table import print_table1

        print_table1(data)


@app.command()
def verify(
    specs: List[Path] = typer.Argument(..., help="spec files (YAML)", show_default=False),
    format: CompareFormat = typer.Option(CompareFormat.table, "--format", "-f", help="output format"),
    convention: ConventionName = ConventionOpt,
    batch: Optional[int] = BatchOpt,
    fvcore_limit: int = typer.Option(1024, "--fvcore-limit", min=0, metavar="MiB",
                                     help="run fvcore (CPU tensors) only if parameters + activations "
                                          "fit in this many MiB; FlopCounterMode always runs on meta"),
):
    """Build the real PyTorch model and check every layer against fvcore and FlopCounterMode.

    Exit 0 when everything agrees exactly, 1 on any mismatch, 2 on bad input."""
    from .verify import report_dict, verify as run

    checks = run([str(s) for s in specs], convention=convention.value, batch=batch,
                 fvcore_limit=fvcore_limit << 20)
    if format is CompareFormat.json:
        from .report.text import to_json

        print(to_json(report_dict(checks)))
    elif format is CompareFormat.markdown:
        from .report.verify import verify_markdown

        sys.stdout.write(verify_markdown(checks))
    else:
        from .report.verify import print_verify

        print_verify(checks)
    for c in checks:
        _warn([c.result])
    if not all(c.ok for c in checks):
        raise typer.Exit(EXIT_FAIL)


def main(argv=None):
    """Console-script entry point: runs the app and turns errors into one line and an exit code."""
    try:
        app(args=argv, prog_name="costcalc", standalone_mode=True)
    except CostcalcError as exc:
        if _state["debug"]:
            raise
        print(f"costcalc: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        print("costcalc: error: interrupted", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # a bug: never a bare traceback unless asked for
        if _state["debug"]:
            raise
        print(f"costcalc: error: internal error: {type(exc).__name__}: {exc} "
              "(a bug in costcalc; rerun with --debug for the traceback)", file=sys.stderr)
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    main()
