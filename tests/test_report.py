"""`costcalc report` (one self-contained HTML file), `analyze --chart` and `check --html`, read
as text. tests/test_report_browser.py renders the same files in headless Chromium."""
import re

import pytest

import costcalc
from bench.specgen import chain_spec, nested_spec
from conftest import ROOT, SPECS, run_cli
from costcalc.report.html import render_report
from costcalc.report.layout import MAX_BOXES, graph_svg
from test_lazy_imports import run_probe

# GoogLeNet (specs/googlenet.yaml) has 143 layers: 13 outside any block (conv1, conv1_relu, pool1,
# norm1, norm2, pool2, pool3, pool4, pool5, dropout, flatten, fc, softmax), conv2's block of 4
# (reduce, reduce_relu, conv, relu) and 9 inception modules of 14 (4 branches of 3 layers but b1
# with 2, i.e. 11, then b4's pool ... : b1 b1_relu, b2_reduce b2_reduce_relu b2 b2_relu, b3_reduce
# b3_reduce_relu b3 b3_relu, b4_pool b4 b4_relu, out): 13 + 4 + 9*14 = 143
GOOGLENET_LAYERS = 143
GOOGLENET_BLOCKS = 10  # conv2 and 9 inception modules


def bars(html, cls):
    return len(re.findall(rf'<rect class="{cls}"', html))


@pytest.fixture(scope="module")
def googlenet_html(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "g.html"
    r = run_cli("report", SPECS / "googlenet.yaml", "-o", out)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"costcalc report: wrote {out}")
    return out.read_text(encoding="utf-8")


def test_report_shows_the_exact_totals(googlenet_html):
    # the paper's dense GoogLeNet: conv + linear multiply-accumulates, bias adds excluded (the
    # README's peers table: 1,582,671,872 MACs, 6,998,552 params), with the unit named
    assert "MACs: <b>1,582,671,872</b>" in googlenet_html
    assert "Params: <b>6,998,552</b>" in googlenet_html
    # conv1 7x7/2, 3 -> 64 on 224x224: 112*112*64 * 3*7*7 = 118,013,952 MACs, in its hover title
    assert re.search(r"<title>conv1 · conv · 64×112×112\nMACs: 118,013,952\nparams: 9,472\n",
                     googlenet_html)  # 64*3*7*7 + 64 = 9,472 params


def test_report_is_self_contained(googlenet_html):
    """Nothing is fetched: no external script, stylesheet, image, font or import."""
    assert not re.search(r"<(link|img|iframe|object|embed)\b", googlenet_html)
    assert not re.search(r"<script[^>]*\bsrc=", googlenet_html)
    assert not re.search(r"@import|url\((?!#)", googlenet_html)  # url(#id): the page's own marker
    assert not re.search(r"(src|href)=\"?(https?:)?//", googlenet_html)


def test_report_has_one_bar_per_layer_in_each_chart(googlenet_html):
    for metric in ("ops", "params", "acts"):
        assert bars(googlenet_html, f"bar {metric}") == GOOGLENET_LAYERS
        assert bars(googlenet_html, f"sub {metric}") == GOOGLENET_BLOCKS
    # blocks are collapsible and start closed
    assert googlenet_html.count('<details class="blk">') == GOOGLENET_BLOCKS


def test_report_lists_every_top_level_layer_and_the_claims(googlenet_html):
    for name in ("conv1", "pool1", "norm1", "conv2", "inception_3a", "inception_5b", "pool5", "fc",
                 "softmax"):
        assert f">{name}</text>" in googlenet_html
    # the paper's budget claim (§1: 1.5 billion multiply-adds) with its verdict
    assert "≤ 1.5B" in googlenet_html and '<td class="v-info">over (informational)</td>' in googlenet_html
    # Table 1's conv2 weights, "112K" with K = 1024: 114,688 = 112 * 1024 exactly
    assert re.search(r'<td>conv2</td><td>weights</td><td class="n">112K</td><td class="n">114,688</td>'
                     r'<td class="v-pass">exact</td>', googlenet_html)


def test_report_graph_draws_block_instances_as_groups():
    r = costcalc.analyze(str(SPECS / "googlenet.yaml"))
    svg, stats = graph_svg(r)
    # every layer and the input as a box, every block instance as an open group
    assert stats == {"boxes": GOOGLENET_LAYERS + 1, "groups": GOOGLENET_BLOCKS, "collapsed": 0, "hidden": 0}
    assert svg.count('<g class="group"') == GOOGLENET_BLOCKS
    assert svg.count('<g class="node') == GOOGLENET_LAYERS + 1
    # arrows: the top-level chain of input and 23 entries (conv1 ... softmax, a block as one box)
    # has 23; inside each inception module 13 (b1 1, b2 3, b3 3, b4 2, the concat's 4) plus 4
    # stubs from the group's top, where b1, b2_reduce, b3_reduce and b4_pool read from outside;
    # inside conv2 3 plus 1 stub: 23 + 9 * 17 + 4 = 180
    assert svg.count("marker-end") == 180


def test_report_graph_collapses_blocks_beyond_the_cap():
    r = costcalc.analyze(str(SPECS / "googlenet.yaml"))
    _, stats = graph_svg(r, max_boxes=60)
    # 24 top-level boxes (input + 23 entries); opening a block swaps its box for a frame around
    # its layers, frames counting against the cap: conv2 adds 4 (28), an inception module 14
    # (42, 56), the next one would make 70 > 60. Drawn: 56 - 3 frames = 53 boxes, 3 groups, and
    # 10 - 3 = 7 blocks collapsed
    assert stats == {"boxes": 53, "groups": 3, "collapsed": 7, "hidden": 0}


def test_report_compare_view(tmp_path):
    out = tmp_path / "c.html"
    r = run_cli("report", SPECS / "naive.yaml", SPECS / "reduced.yaml", "-o", out)
    assert r.returncode == 0, r.stderr
    html = out.read_text(encoding="utf-8")
    assert '<section class="compare"' in html
    # totals side by side: naive inception (3a) 303,464,448 MACs vs reduced 128,049,152 (README)
    assert "<td class=\"n\">303,464,448</td><td class=\"n\">128,049,152</td>" in html
    # per-path diff: the paths in both models that differ: b2, b3, b4 and the block total (b1,
    # 28*28*192*64 = 9,633,792 MACs in both, is the same; the reduce layers exist only in reduced)
    diff = html[html.index('id="diff"'):html.index("</section>")]
    titles = re.findall(r"<title>([^\n<]+)\n", diff)
    assert titles == ["inception_3a/b2", "inception_3a/b3", "inception_3a/b4", "inception_3a"]
    # b2: 3x3 conv 192 -> 128 on 28x28 = 28*28*128*192*9 = 173,408,256; reduced: 96 -> 128 after
    # the 1x1 reduce, 28*28*128*96*9 = 86,704,128
    assert "inception-naive: MACs 173,408,256" in diff and "inception-reduced: MACs 86,704,128" in diff
    assert "(MACs 2.00× less (−50.0%))" in diff  # 96 of 192 input channels: exactly half
    assert bars(diff, "dbar m0") == 2 * 4 and bars(diff, "dbar m1") == 2 * 4  # 2 columns x 4 paths


def test_report_train_adds_each_models_step_and_compares_it(tmp_path):
    out = tmp_path / "t.html"
    r = run_cli("report", SPECS / "naive.yaml", SPECS / "reduced.yaml", "--train", "--optimizer", "sgd",
                "-o", out)
    assert r.returncode == 0, r.stderr
    html = out.read_text(encoding="utf-8")
    assert html.count("training step: input 192×28×28, batch 1, sgd, fp32</h3>") == 2
    # naive: every conv reads the input, so no grad-input; grad-weight = forward = 303,464,448
    # (README): train FLOPs 2 * 2 * 303,464,448 = 1,213,857,792. Reduced: 2 * (2 * 128,049,152 +
    # 96,739,328 of the 3x3 and 5x5 convs' grad-inputs, 86,704,128 + 10,035,200) = 705,675,264
    assert "Train FLOPs (2 × (forward + backward MACs)): <b>1,213,857,792</b>" in html
    assert "Train FLOPs (2 × (forward + backward MACs)): <b>705,675,264</b>" in html
    compare = html[html.index('<section class="compare"'):]
    assert '<td class="n">1,213,857,792</td><td class="n">705,675,264</td>' in compare
    # 192*64+64 + 192*128*9+128 + 192*32*25+32 = 12,352 + 221,312 + 153,632 = 387,296
    assert "Params: <b>387,296</b>, trainable 387,296" in html


@pytest.mark.parametrize("kind", ["chain", "nested"])
def test_report_stays_bounded_for_10000_layers(kind):
    """10,000 layers: every layer has its bars, the graph is capped, the file grows linearly."""
    sizes = {}
    for n in (1_000, 10_000):
        r = costcalc.analyze(_yaml(chain_spec(n) if kind == "chain" else nested_spec(n)))
        html = render_report([r], [[]])
        sizes[n] = len(html)
        assert bars(html, "bar ops") == n
        _, stats = graph_svg(r)
        assert stats["boxes"] + stats["groups"] <= MAX_BOXES + 1
    assert sizes[10_000] < 11 * sizes[1_000]  # linear: 10x the layers, under 11x the bytes


def _yaml(text):
    import yaml

    return yaml.safe_load(text)


def test_report_graph_caps_a_long_chain():
    r = costcalc.analyze(_yaml(chain_spec(10_000)))
    _, stats = graph_svg(r)
    # the input and 10,000 layers at the top level: the first MAX_BOXES entries are drawn
    assert stats == {"boxes": MAX_BOXES, "groups": 0, "collapsed": 0, "hidden": 10_001 - MAX_BOXES}


def test_report_needs_an_output_file():
    r = run_cli("report", SPECS / "reduced.yaml")
    assert r.returncode == 2 and r.stderr.count("costcalc: error:") == 1 and "--output" in r.stderr


def test_report_bad_spec_is_one_line(write_spec, tmp_path):
    bad = write_spec("input: [3, 8, 8]\nlayers:\n  - {conv: {out: 4, kernal: 3}}\n")
    out = tmp_path / "r.html"
    r = run_cli("report", bad, "-o", out)
    assert r.returncode == 2 and r.stderr.count("costcalc: error:") == 1 and "kernel" in r.stderr
    assert not out.exists()


def test_report_imports_neither_torch_nor_rich_tables(tmp_path):
    got = run_probe(["report", "specs/naive.yaml", "specs/reduced.yaml", "-o", str(tmp_path / "c.html")])
    assert got["code"] == 0 and got["heavy"] == []


def test_check_html_writes_the_report_as_an_artifact(tmp_path):
    out = tmp_path / "check.html"
    r = run_cli("check", SPECS / "reduced.yaml", "--html", out, "--format", "json")
    assert r.returncode == 0, r.stderr
    import json

    json.loads(r.stdout)  # stdout stays the machine format; the note goes to stderr
    assert f"costcalc report: wrote {out}" in r.stderr
    html = out.read_text(encoding="utf-8")
    assert '<section class="check"' in html and "costcalc check: ok" in html
    # reduced inception (3a): 128,049,152 MACs (README)
    assert "MACs: <b>128,049,152</b>" in html


def test_check_html_shows_failures(tmp_path, write_spec):
    spec = write_spec("input: [3, 8, 8]\nbudget: {total: {macs: 100}}\nlayers:\n  - {conv: {out: 4, kernel: 3}}\n")
    out = tmp_path / "check.html"
    # run outside the project (its own lock would hold no baseline for this spec)
    r = run_cli("check", spec, "--html", out, cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert r.returncode == 1, r.stderr
    html = out.read_text(encoding="utf-8")
    # 6*6*4 outputs * 3*3*3 = 3,888 MACs over a budget of 100
    assert "<h3>Failures</h3>" in html and "3,888" in html and "costcalc check: FAILED" in html


def test_analyze_chart_draws_a_bar_per_row():
    r = run_cli("analyze", SPECS / "reduced.yaml", "--chart")
    assert r.returncode == 0, r.stderr
    lines = {line.split()[0]: line for line in r.stdout.splitlines() if line.strip()}
    # the largest MACs row is the block subtotal (128,049,152): a full 24-character bar; b2
    # (28*28*128*96*9 = 86,704,128) is 24 * 86,704,128 / 128,049,152 = 16.25 characters
    assert lines["Σ"].split("128.0M")[0].count("█") == 24
    assert lines["inception_3a/b2"].split("86.7M")[0].count("█") == 16
    # a relu has no MACs and no params: no bar in those columns; its activations bar is
    # 24 * 100,352 / 928,256 = 2.59 characters (128*28*28 = 100,352 of the block's 928,256)
    relu = lines["inception_3a/b2_relu"].split()
    assert relu[1:3] == ["0", "0"] and relu[3].count("█") == 2 and relu[4] == "100.4K"
    assert "MACs: 128,049,152" in r.stdout


def test_analyze_chart_needs_the_table_format():
    r = run_cli("analyze", SPECS / "reduced.yaml", "--chart", "--format", "json")
    assert r.returncode == 2 and r.stderr.count("costcalc: error:") == 1 and "--chart" in r.stderr


def test_report_unwritable_output_is_one_line(tmp_path):
    out = tmp_path / "no" / "such" / "dir" / "r.html"
    r = run_cli("report", SPECS / "reduced.yaml", "-o", out)
    assert r.returncode == 2 and r.stderr.count("costcalc: error:") == 1 and "cannot write report" in r.stderr
    assert "Traceback" not in r.stderr


def test_report_graph_routes_long_edges_between_boxes():
    """An edge that skips ranks runs straight down between the boxes of the ranks it crosses."""
    from costcalc.report.layout import BOX_H, BOX_W

    svg, _ = graph_svg(costcalc.analyze(str(SPECS / "reduced.yaml")))
    inner = svg[svg.index('<g class="group"'):]  # inception_3a's children, in one coordinate system
    # ranks in the block: b1 0, b1_relu 1; b2_reduce 0 ... b2_relu 3; b3 the same; b4_pool 0, b4 1,
    # b4_relu 2; out 4. b1_relu -> out crosses ranks 2 and 3, b4_relu -> out rank 3: 3 straight runs
    runs = re.findall(r"C[-\d.]+,[-\d.]+ [-\d.]+,[-\d.]+ ([-\d.]+),([-\d.]+) L([-\d.]+),([-\d.]+)", inner)
    assert len(runs) == 3
    boxes = [(float(x), float(y)) for x, y in
             re.findall(r'<g class="node[^"]*" transform="translate\(([-\d.]+),([-\d.]+)\)">', inner)]
    assert len(boxes) == 14
    for x, y1, x2, y2 in runs:
        x, y1, y2 = float(x), float(y1), float(y2)
        assert float(x2) == x and y2 > y1
        for bx, by in boxes:
            if by < y2 and by + BOX_H > y1:  # a box in a rank the run crosses
                assert not bx <= x <= bx + BOX_W


def test_report_long_names_are_cut_in_the_drawing_but_whole_in_the_hover_text():
    name = "a_" + "very_" * 20 + "long_name"  # 109 characters
    r = costcalc.analyze({"input": [3, 8, 8], "layers": [{"name": name, "conv": {"out": 4, "kernel": 3}}]})
    html = render_report([r], [[]])
    assert f"<title>{name} · conv · 4×6×6\n" in html  # the chart's hover text
    assert f"<title>{name} · conv · 4×6×6\nMACs: 3,888\n" in graph_svg(r)[0]  # 6*6*4 * 3*3*3 = 3,888
    texts = re.findall(r">(a_very_[^<]*)</text>", html)
    assert texts and all(t.endswith("…") and len(t) < 60 for t in texts)


def test_report_escapes_what_a_spec_says():
    """A spec's name and its claims' notes are text, never markup."""
    r = costcalc.analyze({"name": "</title><script>alert(1)</script>", "input": [3, 8, 8],
                          "layers": [{"conv": {"out": 4, "kernel": 3}}]})
    html = render_report([r], [[]])
    assert "<script>alert(1)</script>" not in html
    assert "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<script>") == 2  # the page's own two


@pytest.mark.parametrize("spec", [str(p.relative_to(ROOT)) for p in
                                  __import__("costcalc.spec.schema", fromlist=["x"]).spec_files(SPECS)])
def test_every_shipped_spec_has_a_report_with_its_exact_totals(spec):
    # a split's outputs ('halves.1', ShuffleNet) are edges from the split's node in the graph
    r = costcalc.analyze(ROOT / spec)
    html = render_report([r], [r.claims])
    assert f"MACs: <b>{r.totals['macs']:,}</b>" in html and f"Params: <b>{r.totals['params']:,}</b>" in html
    assert bars(html, "bar ops") == len(r.layers)  # one bar per layer
    assert bars(html, "sub ops") == len(r.instances)  # one per block instance or repeat group
