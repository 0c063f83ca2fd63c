"""Renderers for `costcalc check`: text lines, json, markdown, JUnit XML and GitHub annotations.

They read a check.CheckReport and the flat records of check.record; no rich here (the terminal
table is report.table.print_check).
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from costcalc.expectations.gate import SYMBOL, CheckReport, ranked_changes, record
from costcalc.report.text import md_table, to_json

LABEL = {"params": "params", "weights": "weights", "biases": "biases", "macs": "MACs",
         "flops": "FLOPs", "elementops": "element ops", "activations": "activations",
         "activation_bytes": "activation bytes"}
HINT = "re-lock with `costcalc lock --update` to keep the gain"
TOP = 10


def num(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.4g}"
    return f"{v:,}"


def signed(v) -> str:
    return "—" if v is None else ("+" if v > 0 else "−" if v < 0 else "±") + num(abs(v))


def pct_text(p) -> str:
    """'+1.25%', '+0.00000078%' (two significant digits when tiny), '' when undefined."""
    if p is None:
        return ""
    if p == 0:
        return "0%"
    digits = 2 if abs(p) >= 0.01 else 1 - math.floor(math.log10(abs(p)))
    return f"{p:+.{digits}f}%".replace("-", "−")


def overshoot_text(r: dict) -> str:
    if r["overshoot"] is None:
        return r["detail"] if r["verdict"] == "missing" else "—"
    pct = pct_text(r["overshoot_pct"])
    return signed(r["overshoot"]) + (f" ({pct})" if pct else "")


def limit_text(r: dict) -> str:
    text = f"{SYMBOL.get(r['rule'], r['rule'])} {num(r['limit'])}"
    if r["rule"] == "claim":
        text = f"≈ {r['written']}"
    if r["tolerance"]:
        text += f" (+{r['tolerance']:.2%} tolerance)"
    return text


def where_text(r: dict) -> str:
    if not r["file"]:
        return ""
    return r["file"] + "".join(f":{v}" for v in (r["line"], r["column"]) if v)


def failure_text(r: dict) -> str:
    """One line naming spec, path, metric, limit, actual and overshoot."""
    head = f"{r['spec']}: {r['path']}: {LABEL.get(r['metric'], r['metric'])}"
    if r["verdict"] == "missing":
        return f"{r['spec']}: {r['detail']}"
    if r["rule"] == "claim":
        return f"{head}: claimed {r['written']}, computed {num(r['actual'])}: {r['verdict']}, {r['detail']}"
    what = {"max": "limit", "min": "minimum", "lock": "locked figure"}[r["rule"]]
    if r["rule"] != "lock":
        what = f"{'published' if r['kind'] == 'claim' else 'budget'} {what}"
    side = "under" if r["rule"] == "min" else "over"
    tol = f" (tolerance {r['tolerance']:.2%})" if r["tolerance"] else ""
    return (f"{head} {num(r['actual'])} is {side} the {what} {num(r['limit'])}{tol} by "
            f"{overshoot_text(r)}")


def summary_line(report: CheckReport) -> str:
    groups = report.expectations()
    kinds: dict = {}
    for e, outs in groups:
        k = record(outs[0])["kind"]
        total, failed = kinds.get(k, (0, 0))
        kinds[k] = (total + 1, failed + (not all(o.passed for o in outs)))
    failed = sum(f for _, f in kinds.values())
    n = len(report.specs)
    on = f"on {n} spec{'s' if n != 1 else ''}"
    if failed:
        parts = ", ".join(f"{k} {f} of {t}" for k, (t, f) in kinds.items())
        return f"costcalc check: FAILED: {failed} of {len(groups)} expectations ({parts}) {on}"
    if not groups:
        return f"costcalc check: ok: no budgets, lock or claims apply {on}: nothing to check"
    parts = ", ".join(f"{k} {t}" for k, (t, _) in kinds.items())
    return f"costcalc check: ok: all {len(groups)} expectations hold ({parts}) {on}"


def decrease_lines(report: CheckReport, top: int = TOP) -> list[str]:
    """Model totals that went down against the lock (block and layer figures are counted, and
    listed in the change table)."""
    recs = [record(o) for o in report.decreases]
    totals = [r for r in recs if r["path"] == "total"][:top]
    lines = [f"{r['spec']}: total {LABEL[r['metric']]} {num(r['actual'])}, locked "
             f"{num(r['limit'])}: {overshoot_text(r)}" for r in totals]
    if len(recs) > len(totals):
        lines.append(f"and {len(recs) - len(totals)} block and layer figures")
    return lines


def change_rows(report: CheckReport, top: int = TOP) -> list[list[str]]:
    return [[c["spec"], c["path"], c["status"], signed(c["delta"]["params"]),
             signed(c["delta"]["macs"]), signed(c["delta"]["activations"])]
            for c in ranked_changes(report.changes)[:top]]


CHANGE_HEADER = ["spec", "layer", "change", "Δ params", "Δ MACs", "Δ activations"]
FAIL_HEADER = ["spec", "path", "metric", "kind", "limit", "actual", "overshoot", "where"]


KIND_ORDER = {"budget": 0, "claim": 1, "lock": 2}
MAX_ROWS = 50


def ranked_failures(report: CheckReport) -> list[dict]:
    """Failure records, most telling first: budgets and claims, then the lock; within each
    spec, the model total, then block instances and layers outermost first; params, MACs,
    FLOPs, activations within a path."""
    recs = [record(o) for o in report.failures]
    order = {m: i for i, m in enumerate(("params", "weights", "biases", "macs", "flops",
                                         "elementops", "activations", "activation_bytes"))}
    return sorted(recs, key=lambda r: (KIND_ORDER.get(r["kind"], 3), r["spec"],
                                       0 if r["path"] == "total" else 1 + r["path"].count("/"),
                                       r["path"], order.get(r["metric"], 99)))


def failure_rows(report: CheckReport, max_rows: int | None = MAX_ROWS) -> tuple[list, int]:
    """(rows for the failure table, how many failures were left out to keep it readable)."""
    recs = ranked_failures(report)
    shown = recs if max_rows is None else recs[:max_rows]
    rows = [[r["spec"], r["path"], LABEL.get(r["metric"], r["metric"]), r["kind"], limit_text(r),
             num(r["actual"]), overshoot_text(r), where_text(r)] for r in shown]
    return rows, len(recs) - len(shown)


def more_failures_text(hidden: int) -> str:
    return (f"… and {hidden} more failure{'s' if hidden != 1 else ''} (deeper paths; "
            "--max-rows N shows more, --format json or junit lists all)")


def changes_title(report: CheckReport, top: int = TOP) -> str:
    n = len(report.changes)
    shown = min(n, top)
    return (f"changed against the lock: {'top ' + str(shown) + ' of ' if n > shown else ''}{n} "
            f"layer{'s' if n != 1 else ''}, largest |Δ MACs| first, then |Δ params|")


def lock_summary(done: dict) -> str:
    """What `costcalc lock` wrote (check.run_lock's result)."""
    n, b, l = len(done["specs"]), done["blocks"], done["layers"]
    lines = [f"{done['lock']}: {n} spec{'s' if n != 1 else ''}, {b} block instance{'s' if b != 1 else ''}, "
             f"{l} layer{'s' if l != 1 else ''} locked"]
    for key in ("added", "changed", "dropped"):
        lines += [f"  {key} {s}" + (" (the spec file no longer exists)" if key == "dropped" else "")
                  for s in done[key]]
    return "\n".join(lines)


# -- json -----------------------------------------------------------------------------------------

def check_json(report: CheckReport) -> str:
    recs = [record(o) for o in report.outcomes]
    return to_json({
        "passed": not report.failures, "exit_code": report.exit_code,
        "summary": summary_line(report), "specs": report.specs, "lock": report.lock,
        "budgets": report.budgets, "lock_tolerance": float(report.tolerance),
        "failures": [r for r in recs if not r["passed"]],
        "decreased": [record(o) for o in report.decreases],
        "changes": ranked_changes(report.changes), "notes": report.notes, "outcomes": recs,
    })


# -- markdown (a pull-request comment) ---------------------------------------------------------

def check_markdown(report: CheckReport, top: int = TOP, max_rows: int = MAX_ROWS) -> str:
    ok = not report.failures
    out = [f"### {'✅' if ok else '❌'} {summary_line(report)}", ""]
    if not ok:
        rows, hidden = failure_rows(report, max_rows)
        out += ["**Failures**", "", md_table(FAIL_HEADER, [[f"`{c}`" if i in (0, 1, 7) and c else c
                                                            for i, c in enumerate(row)]
                                                           for row in rows]), ""]
        if hidden:
            out += [more_failures_text(hidden), ""]
    if report.changes:
        title = changes_title(report, top)
        out += [f"**{title[0].upper() + title[1:]}**", "",
                md_table(CHANGE_HEADER, [[f"`{c}`" if i < 2 else c for i, c in enumerate(row)]
                                         for row in change_rows(report, top)]), ""]
    dec = decrease_lines(report, top)
    if dec:
        out += [f"**Decreased against the lock** (passes; {HINT})", ""] + [f"- {d}" for d in dec] + [""]
    counts: dict = {}
    for e, outs in report.expectations():
        k = (e.spec if e.ratio is None else " / ".join(e.ratio), record(outs[0])["kind"])
        t, f = counts.get(k, (0, 0))
        counts[k] = (t + 1, f + (not all(o.passed for o in outs)))
    rows = [[f"`{s}`", k, str(t), str(f)] for (s, k), (t, f) in sorted(counts.items())]
    out += ["<details><summary>Expectations per spec</summary>", "",
            md_table(["spec", "kind", "expectations", "failed"], rows), "", "</details>", ""]
    out += [f"> {n}" for n in report.notes]
    return "\n".join(out).rstrip("\n") + "\n"


# -- JUnit XML ------------------------------------------------------------------------------------

def check_junit(report: CheckReport) -> str:
    """One <testcase> per expectation (a glob's matches are one case), grouped per spec."""
    suites = ET.Element("testsuites", name="costcalc check")
    by_spec: dict = {}
    for e, outs in report.expectations():
        by_spec.setdefault(record(outs[0])["spec"], []).append((e, outs))
    total = failed = 0
    for spec, cases in by_spec.items():
        suite = ET.SubElement(suites, "testsuite", name=spec)
        bad = 0
        for e, outs in cases:
            r = record(outs[0])
            name = f"{r['kind']}: {e.scope} {LABEL.get(e.metric, e.metric)} {limit_text(r)}"
            case = ET.SubElement(suite, "testcase", classname=f"costcalc.{r['kind']}.{spec}",
                                 name=name)
            if r["file"]:
                case.set("file", r["file"])
                if r["line"]:
                    case.set("line", str(r["line"]))
            fails = [record(o) for o in outs if not o.passed]
            if fails:
                bad += 1
                f = ET.SubElement(case, "failure", message=failure_text(fails[0]),
                                  type=fails[0]["verdict"])
                f.text = "\n".join(failure_text(x) for x in fails)
            elif any(o.verdict in ("decreased", "removed") for o in outs) or r["informational"]:
                ET.SubElement(case, "system-out").text = "\n".join(
                    f"{x['path']}: {x['verdict']}: {x['detail']}" for x in map(record, outs))
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(bad))
        total, failed = total + len(cases), failed + bad
    suites.set("tests", str(total))
    suites.set("failures", str(failed))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


# -- GitHub workflow annotations ---------------------------------------------------------------

def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def annotations(report: CheckReport, top: int = TOP) -> list[str]:
    """`::error file=...,line=...::` for every failure; `::warning` on the spec line of each of
    the ``top`` layers that grew most against the lock; `::notice` for decreased totals."""
    lines = []
    for o in report.failures:
        lines.append(_command("error", record(o), failure_text(record(o))))
    grown = [c for c in ranked_changes(report.changes) if c["status"] != "removed"
             and any(v > 0 for v in c["delta"].values())]
    for c in grown[:top]:
        where = {"file": c["spec"], "line": c["line"], "column": c["column"]}
        growth = ", ".join(f"{signed(v)} {LABEL[m]}" for m, v in c["delta"].items() if v)
        lines.append(_command("warning", where, f"{c['spec']}: layer {c['path']} {c['status']} "
                                                f"against the lock: {growth}"))
    for o in report.decreases:
        r = record(o)
        if r["path"] == "total":
            lines.append(_command("notice", r, f"{r['spec']}: total {LABEL[r['metric']]} decreased: "
                                               f"{overshoot_text(r)}; {HINT}"))
    return lines


def _command(level: str, r: dict, message: str) -> str:
    props = [f"title={_escape_prop('costcalc check')}"]
    if r["file"]:
        props.insert(0, f"file={_escape_prop(r['file'])}")
        if r["line"]:
            props.insert(1, f"line={r['line']}")
            if r["column"]:
                props.insert(2, f"col={r['column']}")
    return f"::{level} {','.join(props)}::{_escape_data(message)}"
