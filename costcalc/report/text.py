"""Plain-text renderers: json, csv and markdown (no rich)."""
from __future__ import annotations

import re
import io

from costcalc.counting import metrics
from costcalc.units import exact, human
from costcalc.report.jsontext import to_json  # noqa: F401 - the json renderers' writer, here too
from costcalc.report.rows import layer_rows


def shape_text(shape) -> str:
    """'16×8×8'; several outputs (a split) as '8×8×8 + 8×8×8'."""
    if shape and isinstance(shape[0], tuple):
        return " + ".join(shape_text(s) for s in shape)
    return "×".join(str(d) for d in shape) if shape else ""


def _with_unit(values: list, unit: str) -> list:
    """The metric values in table order with the ops unit after ops (csv's column order)."""
    k = metrics.NAMES.index("ops") + 1
    return values[:k] + [unit] + values[k:]


def analyze_csv(results) -> str:
    """One line per layer, exact integers; several models are stacked with a 'model' column."""
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = metrics.NAMES
    w.writerow(["model", "layer", "kind", "output", *names[:names.index("ops") + 1], "ops_unit",
                *names[names.index("ops") + 1:]])
    for r in results:
        unit = r.convention.unit
        shapes = r.graph.shapes
        tails: dict = {}  # id(values) -> the row after the name: equal layers share values
        for node, values in r.facts():
            tail = tails.get(id(values))
            if tail is None:
                tail = tails[id(values)] = [node.kind.name, shape_text(shapes[node.path]).replace("×", "x"),
                                            *_with_unit([values[m] for m in names], unit)]
            w.writerow([r.name, node.path, *tail])
        w.writerow([r.name, "TOTAL", "", "", *_with_unit([r.totals[m] for m in names], unit)])
    return buf.getvalue()


_FIGURE = re.compile(r"^[−+-]?[\d,.]+[KMGTkB%×]?i?$|^$|^—$")


def _distinct(rows, i):
    column = [r[i] for r in rows]
    try:
        return set(column)
    except TypeError:
        return column


def md_table(header, rows, align: str | None = None) -> str:
    """A markdown table. ``align`` has one letter per column, l or r; by default a column whose
    cells are all figures (120.4M, 1,024, 5.4%) aligns right and any other column left."""
    if align is None:  # each distinct cell of a column is looked at once (repeated layers)
        align = "".join("r" if rows and all(_FIGURE.match(str(c).strip("*")) for c in _distinct(rows, i))
                        else "l" for i in range(len(header)))
    escaped: dict = {}

    def cell(v):
        try:
            text = escaped.get(v)
        except TypeError:  # an unhashable cell
            return str(v).replace("|", "\\|")
        if text is None:
            text = escaped[v] = str(v).replace("|", "\\|")
        return text

    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|"]
    out += ["| " + " | ".join(map(cell, r)) + " |" for r in rows]
    return "\n".join(out)


def summary_lines(r) -> list[str]:
    """The totals, exact and human, each naming its unit and convention."""
    t = r.totals
    lines = [
        f"Params: {exact(t['params'])} ({human(t['params'])}) = {exact(t['weights'])} weights"
        f" + {exact(t['biases'])} biases",
        f"MACs: {exact(t['macs'])} ({human(t['macs'])}) multiply-accumulates of conv, linear, "
        "matmul and attention, bias adds excluded",
        f"FLOPs: {exact(t['flops'])} ({human(t['flops'])}) = 2 × MACs",
    ]
    if r.convention.name in ("fvcore", "causal"):
        lines.append(f"{r.convention.unit}: {exact(t['ops'])} ({human(t['ops'])}): {r.convention.summary}")
    lines += [
        f"Element ops: {exact(t['elementops'])} ({human(t['elementops'])}) not in MACs "
        "(bias adds, pooling, activations, norms, adds)",
        f"Activations: {exact(t['activations'])} output elements ({human(t['activation_bytes'])}B"
        f" at {r.dtype}), batch {r.batch}",
    ]
    return lines + transformer_lines(r)


def transformer_lines(r) -> list[str]:
    """A model with attention: per-token figures, memory and the approximations' gaps."""
    tf = r.transformer()
    if tf is None:
        return []
    d, mem, tok = tf["dims"], tf["memory"], tf["per_token"]
    lines = [
        f"Transformer: {d['layers']} layers, {d['heads']} heads ({d['kv_heads']} key/value) of "
        f"{d['head_dim']}, d_model {d['d_model']}, d_ff {d['d_ff']}, T {d['tokens']}; "
        f"non-embedding params N {exact(d['non_embedding_params'])}",
        f"Per token: prefill {exact(tok['prefill_flops'])} FLOPs (the sequence's ÷ T)"
        + (f"; one decode step at context {tok['decode_context']}: "
           f"{exact(tok['decode_step_flops'])} FLOPs" if tok["decode_step_flops"] is not None else ""),
        f"KV cache: {exact(mem['kv_cache'])} elements, {exact(mem['kv_cache_bytes'])} bytes at "
        f"{mem['dtype']}, batch {r.batch}",
        "Weight bytes: " + ", ".join(f"{exact(b)} at {dt}" for dt, b in mem["param_bytes_by_dtype"].items()),
    ]
    for a in tf["approximations"]:
        lines.append(f"≈ {a['name']} ({a['source'].split(':')[0]}): {exact(a['flops'])} {a['what']}, "
                     f"{a['gap']:+.3%} vs the exact {exact(a['exact'])}")
    return lines


def analyze_markdown(results, depth=None) -> str:
    from costcalc.report.verdicts import claims_markdown

    parts = []
    for r in results:
        unit = r.convention.unit
        cells: dict = {}  # id(row.figures) -> its cells: equal layers share their Figures

        def figures(f):
            known = cells.get(id(f))
            if known is None:
                known = cells[id(f)] = [f.kind, shape_text(f.output), human(f.params), human(f.ops),
                                        human(f.elementops), human(f.activations)]
            return known

        rows = [[("**" + row.name + "**") if row.subtotal else row.name, *figures(row.figures)]
                for row in layer_rows(r, depth)]
        t = r.totals
        rows.append(["**total**", "", "", human(t["params"]), human(t["ops"]),
                     human(t["elementops"]), human(t["activations"])])
        parts.append(f"### {r.name}\n\n"
                     + md_table(["layer", "kind", "output", "params", unit, "element ops",
                                 "activations"], rows)
                     + "\n\n" + "\n".join(f"- {s}" for s in summary_lines(r)))
        if r.claims:
            parts.append("#### Claims\n\n" + claims_markdown(r.claims, md_table))
    return "\n\n".join(parts) + "\n"


def path_diff(data, num) -> tuple[list, list]:
    """(header, rows) of compare's per-path diff, figures written with ``num``."""
    header = ["path"]
    for m in data["models"]:
        header += [f"{m['name']} params", f"{m['name']} {data['paths_unit']}"]
    rows = []
    for p in data["paths"]:
        cells = [p["path"]]
        for v in p["values"]:
            cells += ["—", "—"] if v is None else [num(v["params"]), num(v["ops"])]
        rows.append(cells)
    return header, rows


def compare_markdown(data) -> str:
    models = data["models"]
    header = ["metric"]
    for i, m in enumerate(models):
        header.append(m["name"])
        if i:
            header.append(f"vs {models[0]['name']}")
    rows = []
    for metric in data["metrics"]:
        cells = [metric["label"]]
        for i, value in enumerate(metric["values"]):
            cells.append(f"{value:,}")
            if i:
                cells.append(metric["vs_first"][i - 1]["text"])
        rows.append(cells)
    out = md_table(header, rows) + "\n"
    if data["paths"]:
        out += f"\n#### per path ({data['paths_unit']})\n\n" + md_table(*path_diff(data, exact)) + "\n"
    return out
