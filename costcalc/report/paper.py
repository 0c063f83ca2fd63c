"""Table 1 as text: the paper's human units, json, csv and markdown (no rich).

Human columns follow the paper: params in K with K = 1024, ops (MACs) in M = 10⁶; blank where
the figure is 0, as the paper leaves it. json and csv carry exact integers.
"""
from __future__ import annotations

import csv
import io

from costcalc.report.verdicts import claims_json, claims_markdown, summary

UNITS = ("params: weights + biases in K, K = 1024; ops: MACs (conv + linear multiply-accumulates, "
         "bias excluded) in M, M = 10⁶; as the paper prints them")


def _paper(n: int, unit: int, suffix: str) -> str:
    if n == 0:
        return ""
    v = n / unit
    return f"{v:.1f}{suffix}" if v < 10 else f"{v:.0f}{suffix}"


def params_k(n: int) -> str:
    """114,944 → '112K' (K = 1024); 2,800 → '2.7K'."""
    return _paper(n, 1024, "K")


def ops_m(n: int) -> str:
    """359,661,568 → '360M' (M = 10⁶)."""
    return _paper(n, 10**6, "M")


def output_text(row) -> str:
    """The paper's order, H×W×C: '112×112×64'; flat features as 1×1×F."""
    c, h, w = row.output_chw
    return f"{h}×{w}×{c}"


def header(table) -> list[str]:
    return (["type", "patch size/stride", "output size", "depth"] + list(table.columns)
            + ["params", "ops"])


def cells(table, row) -> list[str]:
    return ([row.label, row.patch, output_text(row), str(row.depth)]
            + [str(row.filters[c]) if c in row.filters else "" for c in table.columns]
            + [params_k(row.params), ops_m(row.macs)])


def all_outcomes(table) -> list:
    return [o for r in table.rows for o in r.claims] + list(table.claims)


def table_json(table) -> dict:
    """The JSON contract of `costcalc table --format json` (keys may be added)."""
    outcomes = all_outcomes(table)
    return {
        "name": table.name,
        "file": table.file,
        "units": {"params": "weights + biases", "macs": "multiply-accumulates, bias excluded"},
        "columns": list(table.columns),
        "rows": [{"type": r.type, "label": r.label, "name": r.name, "patch": r.patch,
                  "output": r.output_chw, "depth": r.depth, "filters": dict(r.filters),
                  "params": r.params, "weights": r.weights, "macs": r.macs, "layers": list(r.layers),
                  "claims": claims_json(r.claims)} for r in table.rows],
        "totals": dict(table.totals),
        "claims": claims_json(table.claims),
        "claims_summary": summary(outcomes) if outcomes else "",
    }


def table_csv(table) -> str:
    """One line per row, exact integers; a claimed/verdict column pair per claimed metric."""
    metrics = list(dict.fromkeys(o.expectation.metric for r in table.rows for o in r.claims))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["name", "type", "label", "patch", "output", "depth", *table.columns, "params",
                "weights", "macs", *[f"{m}_{x}" for m in metrics for x in ("claimed", "verdict")]])
    for r in table.rows:
        claimed = {}
        for o in r.claims:
            claimed.setdefault(o.expectation.metric, (o.expectation.text, o.verdict))
        w.writerow([r.name, r.type, r.label, r.patch, "x".join(map(str, r.output_chw)), r.depth,
                    *[r.filters.get(c, "") for c in table.columns], r.params, r.weights, r.macs,
                    *[v for m in metrics for v in claimed.get(m, ("", ""))]])
    t = table.totals
    w.writerow(["TOTAL", "", "", "", "", "", *["" for _ in table.columns], t["params"], t["weights"],
                t["macs"], *["" for _ in metrics for _x in (0, 1)]])
    return buf.getvalue()


def table_markdown(table) -> str:
    from costcalc.report.text import md_table

    rows = [cells(table, r) for r in table.rows]
    t = table.totals
    rows.append(["**total**", "", "", "", *["" for _ in table.columns], params_k(t["params"]),
                 ops_m(t["macs"])])
    parts = [f"### {table.name}: Table 1", md_table(header(table), rows, "ll" + "r" * (len(header(table)) - 2)), f"Units: {UNITS}."]
    outcomes = all_outcomes(table)
    if outcomes:
        parts += ["#### Claims", claims_markdown(outcomes, md_table)]
    return "\n\n".join(parts) + "\n"
