"""Which renderer draws each command's result in each format, and where the output goes.

``RENDERERS`` maps (command, format) to a renderer: ``module:function``, the render options it
takes, and whether its value is written as JSON. A renderer either returns the report's text or,
for the rich tables, prints it itself. Modules are imported only when their format is asked for,
so ``--format json`` never loads rich's table machinery.
"""
from __future__ import annotations

import sys
from importlib import import_module
from typing import NamedTuple


class Renderer(NamedTuple):
    target: str  # "module:function"
    options: tuple = ()  # the render options it takes, by keyword
    json: bool = False  # its value is a mapping, written with to_json


_T, _X, _P, _C, _G, _V = ("costcalc.report.table", "costcalc.report.text", "costcalc.report.paper",
                          "costcalc.report.crosscheck", "costcalc.report.gate", "costcalc.report.verdicts")
_R = "costcalc.report.training"

RENDERERS: dict[tuple[str, str], Renderer] = {
    ("analyze", "table"): Renderer(f"{_T}:print_analyze", ("depth", "chart")),
    ("analyze", "json"): Renderer(f"{_V}:analyze_json", json=True),
    ("analyze", "csv"): Renderer(f"{_X}:analyze_csv"),
    ("analyze", "markdown"): Renderer(f"{_X}:analyze_markdown", ("depth",)),
    ("train", "table"): Renderer(f"{_R}:print_train", ("depth",)),
    ("train", "json"): Renderer(f"{_R}:train_json", json=True),
    ("train", "markdown"): Renderer(f"{_R}:train_markdown", ("depth",)),
    ("train", "csv"): Renderer(f"{_R}:train_csv"),
    ("verify-train", "table"): Renderer(f"{_R}:print_verify_train"),
    ("verify-train", "json"): Renderer("costcalc.crosscheck.train_agreement:train_report_dict", json=True),
    ("verify-train", "markdown"): Renderer(f"{_R}:verify_train_markdown"),
    ("compare", "table"): Renderer(f"{_T}:print_compare"),
    ("compare", "json"): Renderer(f"{_X}:to_json"),
    ("compare", "markdown"): Renderer(f"{_X}:compare_markdown"),
    ("table", "table"): Renderer(f"{_T}:print_table1"),
    ("table", "json"): Renderer(f"{_P}:table_json", json=True),
    ("table", "csv"): Renderer(f"{_P}:table_csv"),
    ("table", "markdown"): Renderer(f"{_P}:table_markdown"),
    ("verify", "table"): Renderer(f"{_C}:print_verify"),
    ("verify", "json"): Renderer(f"{_C}:verify_json", json=True),
    ("verify", "markdown"): Renderer(f"{_C}:verify_markdown"),
    ("check", "table"): Renderer(f"{_T}:print_check", ("top", "max_rows")),
    ("check", "table-file"): Renderer(f"{_T}:check_table_text", ("top", "max_rows")),
    ("check", "json"): Renderer(f"{_G}:check_json"),
    ("check", "markdown"): Renderer(f"{_G}:check_markdown", ("top", "max_rows")),
    ("check", "junit"): Renderer(f"{_G}:check_junit"),
    ("lock", "table"): Renderer(f"{_G}:lock_summary"),
}


def formats(command: str) -> list[str]:
    """The formats a command can be rendered in (for its --format choices)."""
    return [f for c, f in RENDERERS if c == command and "-" not in f]


def render(command: str, fmt: str, data, **opts) -> str | None:
    """The report text of ``data`` in ``fmt``, or None when the renderer printed it (rich)."""
    r = RENDERERS[command, fmt]
    module, _, name = r.target.partition(":")
    value = getattr(import_module(module), name)(data, **{k: opts[k] for k in r.options if k in opts})
    if r.json:
        from costcalc.report.jsontext import to_json

        return to_json(value) + "\n"
    return value


def emit(command: str, fmt: str, data, **opts) -> None:
    """Render ``data`` to stdout."""
    text = render(command, fmt, data, **opts)
    if text is not None:
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")


def emit_check(report, fmt: str, output=None, top: int = 10, max_rows: int = 50,
               github_actions: bool = False) -> None:
    """Write `costcalc check`'s report in ``fmt`` (table, json, markdown, junit) to stdout or,
    atomically, to ``output``; with ``github_actions``, also the ::error annotations. Workflow
    commands are read from stdout, so they go there unless a machine format occupies it."""
    from costcalc.report import gate

    to_stdout = output is None
    if github_actions:
        stream = sys.stdout if (fmt == "table" or not to_stdout) else sys.stderr
        for line in gate.annotations(report, top):
            print(line, file=stream)
    if to_stdout:
        text = render("check", fmt, report, top=top, max_rows=max_rows)
        if text is not None:
            sys.stdout.write(text)
        return
    text = render("check", "table-file" if fmt == "table" else fmt, report, top=top, max_rows=max_rows)
    from costcalc.atomic import write_text_atomic

    write_text_atomic(output, text, what="report")
    print(gate.summary_line(report))
