"""Where each command's report goes: the renderer for each format, and writing to a file."""
from __future__ import annotations

from costcalc.report import gate


def emit_check(report, fmt: str, output=None, top: int = gate.TOP, max_rows: int = gate.MAX_ROWS,
         github_actions: bool = False) -> None:
    """Write `costcalc check`'s report in ``fmt`` (table, json, markdown, junit) to stdout or,
    atomically, to ``output``; with ``github_actions``, also the ::error annotations. Workflow
    commands are read from stdout, so they go there unless a machine format occupies it."""
    import sys

    to_stdout = output is None
    if github_actions:
        stream = sys.stdout if (fmt == "table" or not to_stdout) else sys.stderr
        for line in gate.annotations(report, top):
            print(line, file=stream)
    if fmt == "table" and to_stdout:
        from costcalc.report.table import print_check

        print_check(report, top, max_rows)
        return
    if fmt == "table":
        from costcalc.report.table import check_table_text

        text = check_table_text(report, top, max_rows)
    else:
        text = {"json": gate.check_json, "junit": gate.check_junit,
                "markdown": lambda r: gate.check_markdown(r, top, max_rows)}[fmt](report)
    if to_stdout:
        sys.stdout.write(text)
    else:
        from costcalc.atomic import write_text_atomic

        write_text_atomic(output, text, what="report")
        print(gate.summary_line(report))
