"""`costcalc report`: one self-contained HTML file (styles and scripts inline, nothing fetched).

It holds, for each spec, the exact totals, per-layer bar charts (report/svg.py), the layer graph
(report/layout.py) and the published claims with their verdicts; with several specs, the compare
view (compare.compare's totals and per-path diff); and, from `costcalc check --html`, the check's
summary, failures and changes against the lock. No rich, no torch.
"""
from __future__ import annotations

from costcalc import __version__
from costcalc.units import exact
from costcalc.report.verdicts import FAILING, claimed_cell, computed_cell, scope_cell, sources, summary, verdict_cell, why_cell
from costcalc.report.layout import graph_svg
from costcalc.report.svg import diff_chart, esc, layer_chart
from costcalc.report.text import shape_text, summary_lines

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2330;background:#fff}
header{background:#1d2b45;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c9d3e6;font-size:12px}
main{padding:8px 24px 40px}section{margin:18px 0 28px}h2{font-size:18px;border-bottom:2px solid #d6deea;padding-bottom:3px}
h3{font-size:15px;margin:18px 0 6px}.meta{color:#555}.note{color:#666;font-size:12px}
ul.totals{list-style:none;padding:0;margin:6px 0}ul.totals li{font-variant-numeric:tabular-nums;padding:1px 0}
ul.totals b{font-size:15px}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #d6deea;padding:3px 7px;vertical-align:top}
th{background:#eef2f8;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.v-pass{color:#17652b;font-weight:600}.v-info{color:#8a5a00;font-weight:600}.v-fail{color:#b00020;font-weight:700}
.chart{overflow-x:auto;border:1px solid #e3e8f0;padding:4px;max-height:80vh;overflow-y:auto}
svg.rows{display:block}svg text{font-size:11px;fill:#1d2330}text.colh{font-weight:700}
text.bname{font-weight:700}text.fig{fill:#555}rect.hit{fill:transparent}g:hover>rect.hit{fill:#eef3fb}
rect.ops{fill:#3b6fb6}rect.params{fill:#d08a2e}rect.acts{fill:#4a9a5b}rect.sub{opacity:.45}
details.blk>summary{list-style:none;cursor:pointer;display:block}details.blk>summary::-webkit-details-marker{display:none}
details.blk[open]>summary{background:#f6f8fc}details.blk[open]>summary .shut,details.blk:not([open])>summary .open{display:none}
text.bname tspan{fill:#33476b}
rect.m0{fill:#3b6fb6}rect.m1{fill:#d0552e}rect.m2{fill:#4a9a5b}rect.m3{fill:#8b5cb8}rect.m4{fill:#c9a227}rect.m5{fill:#2aa3a3}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;height:10px;margin-right:4px}
.graphbox{overflow:auto;max-height:85vh;border:1px solid #e3e8f0}
svg.graph text{text-anchor:middle;font-size:11px}svg.graph text.sub{fill:#555;font-size:10px}
svg.graph text.gname{text-anchor:start;font-weight:700;fill:#33476b}
svg.graph .node rect{fill:#f4f7fc;stroke:#7d8fb3}svg.graph .node.k-conv rect{fill:#e4edfb}
svg.graph .node.k-linear rect{fill:#fbeedd}svg.graph .node.k-concat rect,svg.graph .node.k-add rect{fill:#e6f4e9}
svg.graph .node.input rect{fill:#1d2b45}svg.graph .node.input text{fill:#fff}
svg.graph .node.collapsed rect{fill:#fff7e6;stroke:#c9a227;stroke-dasharray:4 2}
svg.graph .group>rect{fill:#fbfcfe;stroke:#9fb0cf;stroke-dasharray:5 3}
svg.graph .edges path{fill:none;stroke:#8894aa;stroke-width:1.1}svg.graph .ah{fill:#8894aa}
button{font:inherit;font-size:12px;margin:0 6px 6px 0}
"""

#: first in <head>: errors (a failed load of an image or stylesheet too) and console.error calls
#: are recorded on <html data-errors> (a headless browser's --dump-dom shows them); the last
#: script sets, once the page has loaded, data-resources (how many resources it fetched: 0) and
#: data-ready
RECORDER = """<script>(function(){var d=document.documentElement;function rec(m){d.setAttribute('data-errors',(d.getAttribute('data-errors')||'')+m+';')}
window.addEventListener('error',function(e){rec('error: '+(e.message||e.type))},true);
var ce=console.error;console.error=function(){rec('console: '+Array.prototype.join.call(arguments,' '));return ce.apply(console,arguments)}})();</script>"""

SCRIPT = """<script>(function(){document.querySelectorAll('button[data-toggle]').forEach(function(b){
b.addEventListener('click',function(){var open=b.getAttribute('data-toggle')==='open';
document.getElementById(b.getAttribute('data-for')).querySelectorAll('details.blk').forEach(function(d){d.open=open})})});
window.addEventListener('load',function(){var d=document.documentElement;
d.setAttribute('data-resources',String(performance.getEntriesByType('resource').length));d.setAttribute('data-ready','1')})})();</script>"""


def render_report(results, claims, compare_data=None, check=None, max_rows=None) -> str:
    """The whole page. ``claims``: a list of claim Outcomes per result; ``compare_data``:
    compare.compare(results) when there are several; ``check``: a check.CheckReport."""
    names = ", ".join(r.name for r in results)
    out = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">", RECORDER,
           f"<title>costcalc report: {esc(names)}</title>",
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<style>{STYLE}</style></head><body>",
           f"<header><h1>costcalc report: {esc(names)}</h1><p>costcalc {esc(__version__)}; exact "
           "integers throughout (figures beside the bars round: K = 10³, M = 10⁶, G = 10⁹); hover a "
           "bar or a box for its exact figures</p></header><main>"]
    if check is not None:
        out.append(_check_section(check, max_rows))
    if compare_data is not None:
        out.append(_compare_section(compare_data))
    for i, (r, c) in enumerate(zip(results, claims)):
        out.append(_model_section(i, r, c))
    out.append(f"</main>{SCRIPT}</body></html>\n")
    return "".join(out)


def _table(header, rows, numeric=()) -> str:
    """An HTML table; columns in ``numeric`` align right; a cell may be (text, css class)."""
    def cell(i, c):
        text, css = c if isinstance(c, tuple) else (c, "n" if i in numeric else "")
        return f'<td class="{css}">{esc(text)}</td>' if css else f"<td>{esc(text)}</td>"

    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _verdict_class(o) -> str:
    if not o.passed:
        return "v-fail"
    return "v-info" if o.verdict in FAILING else "v-pass"


def _claims(outcomes) -> str:
    if not outcomes:
        return '<p class="note">no published claims for this spec</p>'
    rows = [[scope_cell(o), o.expectation.metric, claimed_cell(o), computed_cell(o),
             (verdict_cell(o), _verdict_class(o)), why_cell(o)] for o in outcomes]
    src = sources(outcomes)
    return (_table(["scope", "metric", "claimed", "computed", "verdict", "why"], rows, numeric=(2, 3))
            + f"<p>{esc(summary(outcomes))}</p>"
            + (f'<p class="note">Sources: {esc("; ".join(src))}.</p>' if src else ""))


def _model_section(i, r, outcomes) -> str:
    sid = f"m{i}"
    meta = (f"{r.file or '(mapping)'} · input {shape_text(r.input)} · batch {r.batch} · {r.dtype} · "
            f"{r.convention.name} convention · {_count(len(r.layers), 'layer')}, "
            f"{_count(len(r.instances), 'block instance or repeat group', 'block instances and repeat groups')}")
    totals = "".join(f"<li>{_bold_figure(line)}</li>" for line in summary_lines(r))
    warnings = "".join(f"<li>{esc(w)}</li>" for w in r.warnings)
    graph, stats = graph_svg(r, uid=sid)
    graph_note = (f"{stats['boxes']:,} boxes and {stats['groups']:,} open groups drawn")
    if stats["collapsed"]:
        graph_note += (f"; {stats['collapsed']:,} block instances drawn collapsed, as one box (the "
                       "drawing is capped to stay readable; the charts above list every layer)")
    if stats["hidden"]:
        graph_note += f"; the last {stats['hidden']:,} top-level entries are not drawn"
    return (f'<section class="model" id="{sid}"><h2>{esc(r.name)}</h2><p class="meta">{esc(meta)}</p>'
            f'<h3>Totals</h3><ul class="totals">{totals}</ul>'
            + (f'<h3>Warnings</h3><ul>{warnings}</ul>' if warnings else "")
            + f'<h3>Per layer: {esc(r.convention.unit)}, params, activations</h3>'
            f'<p class="note">Bars of a column share one scale; a block\'s subtotal is the '
            f'lighter bar on its row (bold name). Click a block to open it.</p>'
            f'<button data-toggle="open" data-for="{sid}-chart">expand all</button>'
            f'<button data-toggle="close" data-for="{sid}-chart">collapse all</button>'
            f'<div class="chart" id="{sid}-chart">{layer_chart(r)}</div>'
            + _training_section(r)
            + f"<h3>Published claims</h3>{_claims(outcomes)}"
            f'<h3 id="{sid}-graph">Graph</h3><p class="note">{esc(graph_note)}; block instances are the dashed '
            f'groups.</p><div class="graphbox">{graph}</div></section>')


def _training_section(r) -> str:
    """`report --train`: the step's totals and memory (the lines `analyze --train` prints) and
    its per-layer table; nothing without a training step."""
    if r.training is None:
        return ""
    from costcalc.report import training

    header = ["layer", "kind"] + [c for _, c in training.COLUMNS]
    body = training.rows(r) + [training.total_row(r)]
    totals = "".join(f"<li>{_bold_figure(line)}</li>" for line in training.lines(r))
    return (f"<h3>{esc(training.title(r))}</h3><ul class=\"totals\">{totals}</ul>"
            + _table(header, body, numeric=range(2, len(header))))


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _bold_figure(line: str) -> str:
    """'MACs: 1,582,671,872 (1.58G) ...' with the exact figure in bold."""
    label, sep, rest = line.partition(": ")
    if not sep:
        return esc(line)
    figure, space, tail = rest.partition(" ")
    stop = "," if figure.endswith(",") else ""  # 'Params: 387,296, trainable ...'
    return f"{esc(label)}: <b>{esc(figure[:len(figure) - len(stop)])}</b>{stop}{space}{esc(tail)}"


def _compare_section(data) -> str:
    models = data["models"]
    header = ["metric"] + [m["name"] for m in models] + [f"{m['name']} vs {models[0]['name']}"
                                                          for m in models[1:]]
    rows = []
    for metric in data["metrics"]:
        rows.append([metric["label"]] + [exact(v) for v in metric["values"]]
                    + [v["text"] for v in metric["vs_first"]])
    legend = "".join(f'<span><svg width="12" height="10"><rect class="m{i % 6}" width="12" height="10"/>'
                     f'</svg> {esc(m["name"])}</span>' for i, m in enumerate(models))
    return ('<section class="compare" id="compare"><h2>Compare</h2>'
            f'<p class="meta">ratios and changes against {esc(models[0]["name"])}</p>'
            + _table(header, rows, numeric=range(1, len(header)))
            + f'<h3>Per path: {esc(data["paths_unit"])} and params, where the models differ</h3>'
            f'<p class="legend">{legend}</p><div class="chart" id="diff">{diff_chart(data)}</div></section>')


def _check_section(report, max_rows) -> str:
    from costcalc.report.gate import CHANGE_HEADER, FAIL_HEADER, change_rows, changes_title, failure_rows, summary_line

    parts = ['<section class="check" id="check"><h2>Check</h2>',
             f'<p class="{"v-fail" if report.failures else "v-pass"}">{esc(summary_line(report))}</p>']
    rows, hidden = failure_rows(report, max_rows)
    if rows:
        parts.append("<h3>Failures</h3>" + _table(FAIL_HEADER, rows, numeric=(4, 5, 6)))
        if hidden:
            parts.append(f'<p class="note">… and {hidden:,} more failures</p>')
    if report.changes:
        top = len(report.changes) if max_rows is None else max_rows
        parts.append(f"<h3>{esc(changes_title(report, top))}</h3>"
                     + _table(CHANGE_HEADER, change_rows(report, top), numeric=(3, 4, 5)))
    parts += [f'<p class="note">{esc(n)}</p>' for n in report.notes]
    parts.append("</section>")
    return "".join(parts)


def write_report(results, output, check=None, max_rows=None, compare_view=True) -> str:
    """Render and write the report atomically; returns the line to print. With several results
    (and ``compare_view``), the compare view comes first."""
    from costcalc.atomic import write_text_atomic
    from costcalc.expectations.claims import claim_outcomes

    compare_data = None
    if compare_view and len(results) > 1:
        from costcalc.counting.compare import compare

        compare_data = compare(results)
    text = render_report(results, [claim_outcomes(r) for r in results], compare_data, check, max_rows)
    write_text_atomic(output, text, what="report")
    return f"costcalc report: wrote {output} ({len(text.encode()):,} bytes, {len(results)} spec" \
           f"{'s' if len(results) != 1 else ''})"
