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
import typer.main

from costcalc.cli.coercion import install as install_coercion
from costcalc.errors import EXIT_FAIL, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, CostcalcError, printable
from costcalc.ops.args import MAX_INT
from costcalc.counting.conventions import CONVENTIONS


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


ConventionName = Enum("ConventionName", {name: name for name in CONVENTIONS}, type=str)


def _choices(name: str, *values: str):
    """A str Enum of option values (typer's choices), each named as its value."""
    return Enum(name, {v: v for v in values}, type=str)


#: --train's choices (counting/training.py: OPTIMIZERS, PRECISIONS)
Optimizer = _choices("Optimizer", "sgd", "momentum", "adam", "adamw")
Precision = _choices("Precision", "fp32", "mixed")


ConventionOpt = typer.Option(ConventionName.macs, "--convention", "-c",
                             help="what the ops column counts: macs (multiply-accumulates, default), "
                                  "flops (2 x MACs, FlopCounterMode), fvcore (fvcore's count), "
                                  "causal (FLOPs with causal attention halved, as MaxText)")
BatchOpt = typer.Option(None, "--batch", "-b", min=1, max=MAX_INT,
                        help="batch size (default: the spec's, else 1)")
DtypeOpt = typer.Option(None, "--dtype", help="dtype for activation bytes (default float32)")


@app.callback()
def _main(debug: bool = typer.Option(False, "--debug", help="show the traceback of an error"),
          quiet: bool = typer.Option(False, "--quiet", "-q", help="print no warnings")):
    if debug:
        _state["debug"] = True
    _state["quiet"] = quiet


SetOpt = typer.Option(None, "--set", metavar="NAME=VALUE",
                      help="override a top-level parameter of the spec (params: in the spec), "
                           "e.g. --set seq=2048; repeatable")


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


def _params(items) -> dict | None:
    if not items:
        return None
    from costcalc.spec.schema import parse_set

    return parse_set(items)


#: command → (the library function that computes what it prints, the warnings of that result).
#: Each command's options are parsed by its typer function below, which calls run().
COMMANDS = {
    "analyze": ("costcalc:analyze", lambda rs: [w for r in rs for w in r.warnings]),
    "train": ("costcalc:analyze", lambda rs: [w for r in rs for w in r.warnings]),
    "verify-train": ("costcalc.crosscheck:verify_train", lambda cs: [w for c in cs for w in c.result.warnings]),
    "compare": ("costcalc:compare", lambda d: [w for m in d["models"] for w in m["warnings"]]),
    "table": ("costcalc:table1", lambda t: t.warnings),
    "verify": ("costcalc.crosscheck:verify", lambda cs: [w for c in cs for w in c.result.warnings]),
    "check": ("costcalc.expectations.gate:run_check", lambda report: []),
    "lock": ("costcalc.expectations.gate:run_lock", lambda done: []),
}


def call(command: str, *args, **kwargs):
    """The command's library function, called with the parsed options."""
    from importlib import import_module

    module, _, name = COMMANDS[command][0].partition(":")
    return getattr(import_module(module), name)(*args, **kwargs)


def run(command: str, fmt: str, data, **opts):
    """Render a command's result (report.render.RENDERERS) and print its warnings: after a
    table, so that they are what a terminal shows last; before any other format."""
    from costcalc.report.render import emit

    warnings = COMMANDS[command][1](data)
    if fmt != "table":
        _warn(warnings)
    emit(command, fmt, data, **opts)
    if fmt == "table":
        _warn(warnings)


def _warn(warnings):
    """Warnings on stderr, one line per kind and file (none with --quiet)."""
    if _state["quiet"] or not warnings:
        return
    from costcalc.errors import warning_lines

    for line in warning_lines(warnings):
        print(f"costcalc: warning: {line}", file=sys.stderr)


def _fraction(option: str, text: str, most=None):
    """An option's positive number, exactly (a Fraction), or one clear error."""
    from costcalc.units import exact_number

    try:
        value = exact_number(text)
    except (ValueError, ZeroDivisionError) as exc:
        raise CostcalcError(f"{option} {text!r} is not a number{': ' + str(exc) if str(exc) else ''}") from None
    if value <= 0 or (most is not None and value > most):
        raise CostcalcError(f"{option} must be above 0{f' and at most {most}' if most else ''}, not {text}")
    return value


InputOpt = typer.Option(None, "--input", "-i", metavar="SHAPE[:DTYPE]",
                        help="a model's input without the batch, e.g. 3,224,224 or 1024:int64 "
                             "(for a TARGET: file.py:FACTORY or package.module:FACTORY)")
AllowUnknownOpt = typer.Option(False, "--allow-unknown",
                               help="record torch ops with no kind as zero-cost 'opaque' layers "
                                    "(named in a warning) instead of failing")


TrainOpt = typer.Option(False, "--train", help="one training step: forward, grad-input and "
                        "grad-weight MACs, train FLOPs, saved activations and memory")
OptimizerOpt = typer.Option(Optimizer.adam, "--optimizer", help="with --train: its state")
PrecisionOpt = typer.Option(Precision.fp32, "--precision",
                            help="with --train: fp32, or mixed (fp16 + fp32 master weights)")


@app.command()
def analyze(
    specs: List[Path] = typer.Argument(..., help="spec files (YAML), or model targets file.py:FACTORY / "
                                                 "package.module:FACTORY with --input",
                                       show_default=False, metavar="SPEC"),
    format: Format = typer.Option(Format.table, "--format", "-f", help="output format"),
    depth: Optional[int] = typer.Option(None, "--depth", "-d", min=1,
                                        help="table and markdown: collapse blocks nested deeper than N path "
                                             "levels (json and csv always list every layer)"),
    chart: bool = typer.Option(False, "--chart", help="table format: a per-layer bar chart of the ops "
                                                       "figure, params and activations instead of the table"),
    convention: ConventionName = ConventionOpt,
    batch: Optional[int] = BatchOpt,
    dtype: Optional[str] = DtypeOpt,
    set_: Optional[List[str]] = SetOpt,
    train: bool = TrainOpt,
    optimizer: Optimizer = OptimizerOpt,
    precision: Precision = PrecisionOpt,
    checkpoint: Optional[List[str]] = typer.Option(None, "--checkpoint", metavar="GLOB",
                                                   help="with --train: checkpoint these block instances; repeatable"),
    freeze: Optional[List[str]] = typer.Option(None, "--freeze", metavar="GLOB",
                                               help="with --train: layers whose weights are not trained; repeatable"),
    samples: Optional[int] = typer.Option(None, "--samples", min=1, help="with --train: samples per epoch"),
    epochs: int = typer.Option(1, "--epochs", min=1, help="with --samples: epochs"),
    tokens: Optional[int] = typer.Option(None, "--tokens", min=1, help="with --train: tokens in the run"),
    throughput: Optional[str] = typer.Option(None, "--throughput", metavar="TFLOPS",
                                             help="with a run: TFLOP/s per device"),
    mfu: str = typer.Option("1", "--mfu", metavar="X", help="with --throughput: model-FLOPs "
                            "utilisation, a fraction of the throughput (0 < X <= 1)"),
    devices: int = typer.Option(1, "--devices", min=1, help="with --throughput: devices"),
    input_: Optional[str] = InputOpt,
    allow_unknown: bool = AllowUnknownOpt,
):
    """Per-layer params, MACs, element ops and activations, with block subtotals and totals,
    then the spec's published claims with their verdicts; with --train, one training step.
    A model target (file.py:FACTORY) is traced as `costcalc import` does, and analysed without
    writing a file."""
    if chart and (format is not Format.table or train):
        raise CostcalcError(f"--chart draws in the terminal; it does not combine with "
                            f"{'--train' if train else '--format ' + format.value}")
    params = _params(set_)
    opts = {}
    if train:
        whole = (dict(samples=samples, epochs=epochs, tokens=tokens, devices=devices,
                      throughput=None if throughput is None else _fraction("--throughput", throughput),
                      mfu=_fraction("--mfu", mfu, most=1)) if samples or tokens else None)
        opts = dict(train=True, optimizer=optimizer.value, precision=precision.value,
                    checkpoint=tuple(checkpoint or ()), frozen=tuple(freeze or ()), run=whole)
    results = [_analyze_one(str(s), input_, allow_unknown, set=params, convention=convention.value,
                            batch=batch, dtype=dtype, **opts) for s in _spec_args(specs)]
    if input_ is not None and not any(_is_target(str(s)) for s in specs):
        raise CostcalcError("--input is for a model target (file.py:FACTORY or package.module:FACTORY), "
                            "not a spec file")
    gc.freeze()  # they live until exit: the cyclic collector need not re-scan them while reporting
    run("train" if train else "analyze", format.value, results, depth=depth, chart=chart)


def _is_target(text: str) -> bool:
    from costcalc.importing.target import is_target

    return is_target(text) and not os.path.exists(text)


def _analyze_one(source: str, input_, allow_unknown, **options):
    """A spec file's analysis, or a model target's, traced (imports torch) without writing a file."""
    if not _is_target(source):
        return call("analyze", source, **options)
    if input_ is None:
        raise CostcalcError(f"{source}: a model target needs --input SHAPE, e.g. --input 3,224,224")
    if options.pop("set"):
        raise CostcalcError(f"{source}: --set overrides a spec's params; a model target has none")
    from costcalc.importing import analyze_target

    return analyze_target(source, input_, allow_unknown=allow_unknown, **options)


@app.command(name="import")
def import_cmd(
    target: str = typer.Argument(..., metavar="TARGET", help="path/to/file.py:FACTORY or "
                                 "package.module:FACTORY: a class or function returning an nn.Module"),
    input_: str = typer.Option(..., "--input", "-i", metavar="SHAPE[:DTYPE]",
                               help="the input without the batch, e.g. 3,224,224 or 1024:int64"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="OUT.yaml",
                                          help="the spec file to write (atomically); default: stdout"),
    allow_unknown: bool = AllowUnknownOpt,
):
    """Trace a PyTorch model (torch.fx, on the meta device: no weights are allocated) into a
    spec: names from the module hierarchy, repeated submodules as parameterised blocks. An op
    with no kind is an error listing each with its module path and count (exit 2)."""
    from costcalc.importing import import_model, write_import

    if output is None:
        sys.stdout.write(import_model(target, input_, allow_unknown=allow_unknown)[1])
        return
    print(write_import(target, input_, output, allow_unknown=allow_unknown))


@app.command()
def compare(
    specs: List[Path] = typer.Argument(..., metavar="SPEC", help="two or more spec files; ratios are against the first",
                                       show_default=False),
    format: CompareFormat = typer.Option(CompareFormat.table, "--format", "-f", help="output format"),
    convention: ConventionName = ConventionOpt,
    batch: Optional[int] = BatchOpt,
    dtype: Optional[str] = DtypeOpt,
    set_: Optional[List[str]] = SetOpt,
    train: bool = TrainOpt,
    optimizer: Optimizer = OptimizerOpt,
    precision: Precision = PrecisionOpt,
):
    """Totals side by side, with ratios against the first spec and a per-path diff; with
    --train, each model's training step too."""
    data = call("compare", _spec_args(specs), set=_params(set_), convention=convention.value,
                batch=batch, dtype=dtype, train=train, optimizer=optimizer.value,
                precision=precision.value)
    gc.freeze()
    run("compare", format.value, data)


@app.command()
def report(
    specs: List[Path] = typer.Argument(..., help="spec files (YAML); with two or more, the compare view too",
                                       show_default=False, metavar="SPEC"),
    output: Path = typer.Option(..., "--output", "-o", metavar="FILE", help="the HTML file to write (atomically)"),
    convention: ConventionName = ConventionOpt,
    batch: Optional[int] = BatchOpt,
    dtype: Optional[str] = DtypeOpt,
    set_: Optional[List[str]] = SetOpt,
    train: bool = TrainOpt,
    optimizer: Optimizer = OptimizerOpt,
    precision: Precision = PrecisionOpt,
):
    """One self-contained HTML file (nothing fetched): exact totals, per-layer bar charts, the
    layer graph, published claims and, with several specs, the compare view; with --train,
    each model's training step too."""
    from costcalc.report.html import write_report

    params = _params(set_)
    results = [call("analyze", str(s), set=params, convention=convention.value, batch=batch, dtype=dtype,
                    train=train, optimizer=optimizer.value, precision=precision.value)
               for s in _spec_args(specs)]
    _warn(COMMANDS["analyze"][1](results))
    print(write_report(results, output))


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
    set_: Optional[List[str]] = SetOpt,
):
    """The GoogLeNet paper's Table 1 layout: one row per top-level layer or block, with filter
    columns, depth, params (K = 1024) and ops (MACs, M = 10^6), then every published claim
    beside the exact computed figure, with its verdict."""
    run("table", format.value, call("table", str(spec), set=_params(set_)))


@app.command()
def verify(
    specs: List[Path] = typer.Argument(..., help="spec files (YAML)", show_default=False, metavar="SPEC"),
    format: CompareFormat = typer.Option(CompareFormat.table, "--format", "-f", help="output format"),
    convention: ConventionName = ConventionOpt,
    batch: Optional[int] = BatchOpt,
    fvcore_limit: int = typer.Option(1024, "--fvcore-limit", min=0, metavar="MiB",
                                     help="run fvcore (CPU tensors) only if parameters + activations "
                                          "fit in this many MiB; FlopCounterMode always runs on meta"),
    set_: Optional[List[str]] = SetOpt,
    train: bool = typer.Option(False, "--train", help="forward + loss.backward() on meta: train FLOPs "
                               "against FlopCounterMode and saved bytes against saved_tensors_hooks"),
):
    """Build the real PyTorch model and check every layer against fvcore and FlopCounterMode.

    Exit 0 when everything agrees exactly, 1 on any mismatch, 2 on bad input."""
    if train:
        checks = call("verify-train", [str(s) for s in _spec_args(specs)], batch=batch,
                      params=_params(set_))
        run("verify-train", format.value, checks)
        if not all(c.ok for c in checks):
            raise typer.Exit(EXIT_FAIL)
        return
    checks = call("verify", [str(s) for s in _spec_args(specs)], convention=convention.value,
                  batch=batch, fvcore_limit=fvcore_limit << 20, params=_params(set_))
    run("verify", format.value, checks)
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
    html: Optional[Path] = typer.Option(None, "--html", metavar="FILE",
                                        help="also write the HTML report of the checked specs (a CI artifact)"),
    set_: Optional[List[str]] = SetOpt,
):
    from costcalc.report.render import emit_check

    report = call("check", _spec_args(specs) or (), budget=budget, lock=lock, tolerance=tolerance,
                  params=_params(set_))
    emit_check(report, format.value, output, top, max_rows, bool(os.environ.get("GITHUB_ACTIONS")))
    if html is not None:
        from costcalc.report.html import write_report

        print(write_report(list(report.results.values()), html, check=report, compare_view=False),
              file=sys.stderr)
    raise typer.Exit(report.exit_code)


@app.command(name="lock")
def lock_cmd(
    specs: Optional[List[Path]] = typer.Argument(None, metavar="SPEC", help="spec files (default: the project's)",
                                                 show_default=False),
    lock: Optional[Path] = typer.Option(None, "--lock", help="lock file (default: [tool.costcalc] "
                                                            "lock, else costcalc.lock)"),
    update: bool = typer.Option(False, "--update", help="rewrite an existing lock with the current "
                                                       "figures (atomically)"),
    set_: Optional[List[str]] = SetOpt,
):
    """Write the baseline lock: exact params, MACs and activations per spec, block instance and
    layer. An existing lock is only rewritten with --update (other specs in it are kept; specs
    whose file is gone are dropped). Exit codes: 0 written, 2 usage or input error."""
    run("lock", "table", call("lock", _spec_args(specs) or (), lock=lock, update=update,
                              params=_params(set_)))


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
        command = typer.main.get_command(app)
        install_coercion(command)  # typer's values without importing pydantic (cli/coercion.py)
        code = command.main(args=argv, prog_name="costcalc", standalone_mode=False)
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
