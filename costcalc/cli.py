"""The `costcalc` command line: parses options, calls the library, prints a report.

No counting logic lives here. Bad input ends with one `costcalc: error:` line and exit 2.
"""
from __future__ import annotations

import gc
import os
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from costcalc.ops.args import MAX_INT
from costcalc.errors import EXIT_FAIL, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, CostcalcError, printable


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

_state = {"debug": bool(os.environ.get("COSTCALC_DEBUG")), "quiet": False}


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
BatchOpt = typer.Option(None, "--batch", "-b", min=1, max=MAX_INT,
                        help="batch size (default: the spec's, else 1)")
DtypeOpt = typer.Option(None, "--dtype", help="dtype for activation bytes (default float32)")


@app.callback()
def _main(debug: bool = typer.Option(False, "--debug", help="show the traceback of an error"),
          quiet: bool = typer.Option(False, "--quiet", "-q", help="print no warnings")):
    if debug:
        _state["debug"] = True
    _state["quiet"] = quiet


def _spec_args(paths):
    """The spec files among command-line paths; claims files are skipped with a note."""
    if not paths:
        return paths
    from costcalc.spec.schema import split_claims_files

    specs, skipped = split_claims_files(paths)
    for p in skipped:
        print(f"costcalc: note: skipped {p}: a claims file, read with the spec beside it",
              file=sys.stderr)
    return specs


def _analyze_all(specs, convention, batch, dtype):
    from costcalc.counting.results import analyze

    results = [analyze(str(s), convention=convention.value, batch=batch, dtype=dtype) for s in specs]
    gc.freeze()  # they live until exit: the cyclic collector need not re-scan them while reporting
    return results


def _warn(results):
    """The results' warnings on stderr, one line per kind and file (none with --quiet)."""
    if _state["quiet"]:
        return
    from costcalc.errors import warning_lines

    for line in warning_lines(w for r in results for w in r.warnings):
        print(f"costcalc: warning: {line}", file=sys.stderr)


@app.command()
def analyze(
    specs: List[Path] = typer.Argument(..., help="spec files (YAML)", show_default=False, metavar="SPEC"),
    format: Format = typer.Option(Format.table, "--format", "-f", help="output format"),
    depth: Optional[int] = typer.Option(None, "--depth", "-d", min=1,
                                        help="table and markdown: collapse blocks nested deeper than N path "
                                             "levels (json and csv always list every layer)"),
    convention: ConventionName = ConventionOpt,
    batch: Optional[int] = BatchOpt,
    dtype: Optional[str] = DtypeOpt,
):
    """Per-layer params, MACs, element ops and activations, with block subtotals and totals."""
    results = _analyze_all(_spec_args(specs), convention, batch, dtype)
    from costcalc.expectations.claims import claim_outcomes

    claims = [claim_outcomes(r) for r in results]
    if format is Format.json:
        from costcalc.report.verdicts import analyze_json
        from costcalc.report.text import to_json

        _warn(results)
        print(to_json(analyze_json(results, claims)))
    elif format is Format.csv:
        from costcalc.report.text import analyze_csv

        _warn(results)
        sys.stdout.write(analyze_csv(results))
    elif format is Format.markdown:
        from costcalc.report.text import analyze_markdown

        _warn(results)
        sys.stdout.write(analyze_markdown(results, depth, claims))
    else:
        from costcalc.report.table import print_analyze

        print_analyze(results, depth, claims=claims)
        _warn(results)


@app.command()
def compare(
    specs: List[Path] = typer.Argument(..., metavar="SPEC", help="two or more spec files; ratios are against the first",
                                       show_default=False),
    format: CompareFormat = typer.Option(CompareFormat.table, "--format", "-f", help="output format"),
    convention: ConventionName = ConventionOpt,
    batch: Optional[int] = BatchOpt,
    dtype: Optional[str] = DtypeOpt,
):
    """Totals side by side, with ratios against the first spec and a per-path diff."""
    specs = _spec_args(specs)
    if len(specs) < 2:
        raise CostcalcError("compare needs two or more spec files")
    from costcalc.counting.compare import compare as build

    results = _analyze_all(specs, convention, batch, dtype)
    data = build(results)
    _warn(results)
    if format is CompareFormat.json:
        from costcalc.report.text import to_json

        print(to_json(data))
    elif format is CompareFormat.markdown:
        from costcalc.report.text import compare_markdown

        sys.stdout.write(compare_markdown(data))
    else:
        from costcalc.report.table import print_compare

        print_compare(data)


@app.command()
def kinds():
    """List the layer kinds a spec can use, with their arguments."""
    from costcalc import ops as registry
    from costcalc.counting.conventions import tool_counts

    for name in registry.known():
        kind = registry.get(name)
        args = ", ".join(f"{k}: {a.describe()}" for k, a in kind.args.items()) or "no arguments"
        counts = "; ".join(f"{tool}: {rule}" for tool, rule in tool_counts(kind).items())
        print(f"{name:18} {kind.summary}\n{'':18} {args}\n{'':18} counted: {counts}; "
              f"element ops: {kind.elementops_rule}")


@app.command()
def table(
    spec: Path = typer.Argument(..., help="spec file (YAML)", show_default=False, metavar="SPEC"),
    format: Format = typer.Option(Format.table, "--format", "-f", help="output format"),
):
    """The GoogLeNet paper's Table 1 layout: one row per top-level layer or block, with filter
    columns, depth, params (K = 1024) and ops (MACs, M = 10^6), then every published claim
    beside the exact computed figure, with its verdict."""
    from costcalc.expectations.claims import claim_outcomes
    from costcalc.counting.results import analyze as count
    from costcalc.paper.table1 import build_table

    result = count(str(spec))
    data = build_table(result, claim_outcomes(result))
    _warn([result])
    if format is Format.json:
        from costcalc.report.paper import table_json
        from costcalc.report.text import to_json

        print(to_json(table_json(data)))
    elif format is Format.csv:
        from costcalc.report.paper import table_csv

        sys.stdout.write(table_csv(data))
    elif format is Format.markdown:
        from costcalc.report.paper import table_markdown
        from costcalc.report.text import md_table

        sys.stdout.write(table_markdown(data, md_table))
    else:
        from costcalc.report.table import print_table1

        print_table1(data)


@app.command()
def verify(
    specs: List[Path] = typer.Argument(..., help="spec files (YAML)", show_default=False, metavar="SPEC"),
    format: CompareFormat = typer.Option(CompareFormat.table, "--format", "-f", help="output format"),
    convention: ConventionName = ConventionOpt,
    batch: Optional[int] = BatchOpt,
    fvcore_limit: int = typer.Option(1024, "--fvcore-limit", min=0, metavar="MiB",
                                     help="run fvcore (CPU tensors) only if parameters + activations "
                                          "fit in this many MiB; FlopCounterMode always runs on meta"),
):
    """Build the real PyTorch model and check every layer against fvcore and FlopCounterMode.

    Exit 0 when everything agrees exactly, 1 on any mismatch, 2 on bad input."""
    from costcalc.crosscheck import report_dict, verify as run

    checks = run([str(s) for s in _spec_args(specs)], convention=convention.value, batch=batch,
                 fvcore_limit=fvcore_limit << 20)
    if format is CompareFormat.json:
        from costcalc.report.text import to_json

        print(to_json(report_dict(checks)))
    elif format is CompareFormat.markdown:
        from costcalc.report.crosscheck import verify_markdown

        sys.stdout.write(verify_markdown(checks))
    else:
        from costcalc.report.crosscheck import print_verify

        print_verify(checks)
    for c in checks:
        _warn([c.result])
    if not all(c.ok for c in checks):
        raise typer.Exit(EXIT_FAIL)


class CheckFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    junit = "junit"


CHECK_HELP = """Evaluate budgets, the baseline lock and published claims on specs, for CI.

With no SPEC, checks the specs named by [tool.costcalc] specs in pyproject.toml, the budgets
file and the lock. Settings come from the flag, else [tool.costcalc] (budgets, lock,
lock-tolerance), else the defaults costcalc-budgets.yaml and costcalc.lock.

Exit codes: 0 all expectations hold; 1 an expectation is violated (a budget exceeded, a figure
above the lock, a spec or path gone); 2 usage or input error (bad spec, budgets file or
pyproject, unreadable, corrupt or newer-version lock). With GITHUB_ACTIONS set, failures are
also printed as ::error workflow annotations pointing at the spec or budget line."""


@app.command(help=CHECK_HELP)
def check(
    specs: Optional[List[Path]] = typer.Argument(None, metavar="SPEC", help="spec files (default: the project's)",
                                                 show_default=False),
    budget: Optional[Path] = typer.Option(None, "--budget", help="budgets file (YAML)"),
    lock: Optional[Path] = typer.Option(None, "--lock", help="lock file"),
    format: CheckFormat = typer.Option(CheckFormat.table, "--format", "-f", help="output format"),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="write the report to FILE (atomically) instead of stdout"),
    tolerance: Optional[str] = typer.Option(None, "--tolerance",
                                            help="allowed increase over the lock: 0 (default), 0.5%, 0.01"),
    top: int = typer.Option(10, "--top", min=1, help="layers to list in the change summary"),
    max_rows: int = typer.Option(50, "--max-rows", min=1,
                                 help="failures to list in table and markdown (json and junit list all)"),
):
    from costcalc.expectations.gate import run_check
    from costcalc.report.render import emit_check as emit

    report = run_check(_spec_args(specs) or (), budget=budget, lock=lock, tolerance=tolerance)
    emit(report, format.value, output, top, max_rows, bool(os.environ.get("GITHUB_ACTIONS")))
    raise typer.Exit(report.exit_code)


@app.command(name="lock")
def lock_cmd(
    specs: Optional[List[Path]] = typer.Argument(None, metavar="SPEC", help="spec files (default: the project's)",
                                                 show_default=False),
    lock: Optional[Path] = typer.Option(None, "--lock", help="lock file (default: [tool.costcalc] "
                                                            "lock, else costcalc.lock)"),
    update: bool = typer.Option(False, "--update", help="rewrite an existing lock with the current "
                                                       "figures (atomically)"),
):
    """Write the baseline lock: exact params, MACs and activations per spec, block instance and
    layer. An existing lock is only rewritten with --update (other specs in it are kept; specs
    whose file is gone are dropped). Exit codes: 0 written, 2 usage or input error."""
    from costcalc.expectations.gate import run_lock

    from costcalc.report.gate import lock_summary

    print(lock_summary(run_lock(_spec_args(specs) or (), lock=lock, update=update)))


def main(argv=None):
    """Console-script entry point: runs the app and turns errors into one line and an exit code."""
    # the click that typer uses (typer >= 0.24 vendors its own copy)
    click = sys.modules[typer.BadParameter.__module__]
    no_args = getattr(click, "NoArgsIsHelpError", ())
    _state["debug"] = bool(os.environ.get("COSTCALC_DEBUG"))  # --debug sets it for this run only
    _state["quiet"] = False
    # a one-shot process that mostly allocates and keeps: collect cyclic garbage less often (the
    # default runs ~80 passes over the growing heap of imports for one GoogLeNet table)
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        code = app(args=argv, prog_name="costcalc", standalone_mode=False)
    except CostcalcError as exc:
        if _state["debug"]:
            raise
        print(f"costcalc: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except no_args as exc:  # bare `costcalc`: the help text
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:  # usage: an unknown option, a bad value ...
        text = printable(" ".join(exc.format_message().split()))  # it may quote what was typed
        hint = f" (see '{exc.ctx.command_path} --help')" if getattr(exc, "ctx", None) else ""
        print(f"costcalc: error: {text}{hint}", file=sys.stderr)
        sys.exit(EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code)
    except typer.Abort:
        print("costcalc: error: aborted", file=sys.stderr)
        sys.exit(EXIT_FAIL)
    except KeyboardInterrupt:
        print("costcalc: error: interrupted", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # a bug: never a bare traceback unless asked for
        if _state["debug"]:
            raise
        print(f"costcalc: error: internal error: {type(exc).__name__}: {printable(' '.join(str(exc).split()))} "
              "(a bug in costcalc; rerun with --debug for the traceback)", file=sys.stderr)
        sys.exit(EXIT_INTERNAL)
    finally:
        gc.set_threshold(*thresholds)  # main() is also called in-process (tests)
        gc.unfreeze()
    sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":  # pragma: no cover
    main()
