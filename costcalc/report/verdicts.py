"""Claims as text: cells for the table renderers, a one-line summary, a markdown table (no rich)."""
from __future__ import annotations

from collections import Counter

from costcalc.expectations.claims import outcome_dict

VERDICTS = ("exact", "rounded", "truncated", "mismatch", "ok", "over", "under", "missing")
#: verdicts that fail check unless the claim is informational
FAILING = ("mismatch", "over", "under", "missing")


def scope_cell(o) -> str:
    return o.path if o.expectation.ratio is None else f"ratio {o.path}"


def claimed_cell(o) -> str:
    """The claim as written; a limit (rule max or min) with its sign: '≤ 1.5B'."""
    sign = {"max": "≤ ", "min": "≥ "}.get(o.expectation.rule, "")
    return sign + o.expectation.text


def computed_cell(o) -> str:
    c = o.computed
    if c is None:
        return "—"
    if isinstance(c, int):
        return f"{c:,}"
    d = o.extra
    return f"{d['numerator']:,} / {d['denominator']:,}" if "numerator" in d else f"{float(c):.4g}"


def verdict_cell(o) -> str:
    if not o.passed:
        return f"{o.verdict}: FAILS"
    if o.expectation.informational and o.verdict in FAILING:
        return f"{o.verdict} (informational)"
    return o.verdict


def why_cell(o) -> str:
    """The verdict's detail, then the claim's note (a known rule that explains it)."""
    note = o.expectation.note
    return f"{o.detail}; {note}" if note else o.detail


def summary(outcomes) -> str:
    """'24 claims: 2 exact, 9 rounded, 2 truncated, 11 mismatch (11 informational); all hold or
    are informational'."""
    n = Counter(o.verdict for o in outcomes)
    parts = [f"{n[v]} {v}" for v in VERDICTS if n[v]]
    info = sum(1 for o in outcomes if o.expectation.informational and o.verdict in FAILING)
    failing = sum(1 for o in outcomes if not o.passed)
    text = f"{len(outcomes)} claim{'s' if len(outcomes) != 1 else ''}: {', '.join(parts)}"
    if info:
        text += f" ({info} informational: shown, never failing check)"
    return text + (f"; {failing} fail" if failing else "; none fails")


def sources(outcomes) -> list[str]:
    return list(dict.fromkeys(o.expectation.source for o in outcomes if o.expectation.source))


def claims_markdown(outcomes, md_table) -> str:
    rows = [[scope_cell(o), o.expectation.metric, claimed_cell(o), computed_cell(o), verdict_cell(o),
             why_cell(o)] for o in outcomes]
    table = md_table(["scope", "metric", "claimed", "computed", "verdict", "why"], rows, "llrrll")
    text = f"{table}\n\n{summary(outcomes)}"
    src = sources(outcomes)
    return text + ("\n\nSources: " + "; ".join(src) + "." if src else "")


def claims_json(outcomes) -> list[dict]:
    return [outcome_dict(o) for o in outcomes]


def analyze_json(results) -> dict:
    """`costcalc analyze --format json`: one model's object (its claims included), or
    ``{"models": [...]}`` for several."""
    from costcalc.report.jsontext import layer_records

    objs = [dict(r.to_dict(layer_records), claims=claims_json(r.claims or [])) for r in results]
    return objs[0] if len(objs) == 1 else {"models": objs}
