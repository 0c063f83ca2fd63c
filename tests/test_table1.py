"""`costcalc table`: the GoogLeNet paper's Table 1 rebuilt from the spec graph.

Every expected figure is hand arithmetic from the paper's filter counts (Szegedy et al. 2014,
Table 1), shown in the comments; the totals are fvcore's on the real model (1,582,671,872 MACs,
6,998,552 params).
"""
import csv
import io
import json
import os

import pytest

import costcalc
from conftest import ROOT, SPECS, run_cli
from costcalc.expectations.claims import claim_outcomes
from costcalc.errors import CostcalcError
from costcalc.spec.schema import parse_spec_text
from costcalc.paper.table1 import build_table

GOLDEN = ROOT / "tests" / "golden"

# name, label, patch, output (C, H, W), depth, weights, biases, MACs
ROWS = [
    # 3*7*7*64 = 9,408 weights; 112*112*9,408 = 118,013,952
    ("conv1", "convolution", "7×7/2", [64, 112, 112], 1, 9_408, 64, 118_013_952),
    ("pool1", "max pool", "3×3/2", [64, 56, 56], 0, 0, 0, 0),
    # 64*64 + 64*9*192 = 4,096 + 110,592 = 114,688; biases 64 + 192; 56*56*114,688 = 359,661,568
    ("conv2", "convolution", "3×3/1", [192, 56, 56], 2, 114_688, 256, 359_661_568),
    ("pool2", "max pool", "3×3/2", [192, 28, 28], 0, 0, 0, 0),
    # in 192: 192*64 + 192*96 + 96*9*128 + 192*16 + 16*25*32 + 192*32
    #   = 12,288 + 18,432 + 110,592 + 3,072 + 12,800 + 6,144 = 163,328; 28*28*163,328 = 128,049,152
    ("inception_3a", "inception (3a)", "", [256, 28, 28], 2, 163_328, 368, 128_049_152),
    # in 256: 256*128 + 256*128 + 128*9*192 + 256*32 + 32*25*96 + 256*64
    #   = 32,768 + 32,768 + 221,184 + 8,192 + 76,800 + 16,384 = 388,096; 784*388,096 = 304,267,264
    ("inception_3b", "inception (3b)", "", [480, 28, 28], 2, 388_096, 640, 304_267_264),
    ("pool3", "max pool", "3×3/2", [480, 14, 14], 0, 0, 0, 0),
    # in 480: 92,160 + 46,080 + 96*9*208 = 179,712 + 7,680 + 16*25*48 = 19,200 + 30,720 = 375,552
    #   14*14*375,552 = 73,608,192
    ("inception_4a", "inception (4a)", "", [512, 14, 14], 2, 375_552, 624, 73_608_192),
    # in 512: 81,920 + 57,344 + 112*9*224 = 225,792 + 12,288 + 24*25*64 = 38,400 + 32,768 = 448,512
    #   196*448,512 = 87,908,352
    ("inception_4b", "inception (4b)", "", [512, 14, 14], 2, 448_512, 648, 87_908_352),
    # in 512: 65,536 + 65,536 + 128*9*256 = 294,912 + 12,288 + 38,400 + 32,768 = 509,440
    #   196*509,440 = 99,850,240
    ("inception_4c", "inception (4c)", "", [512, 14, 14], 2, 509_440, 664, 99_850_240),
    # in 512: 57,344 + 73,728 + 144*9*288 = 373,248 + 16,384 + 32*25*64 = 51,200 + 32,768 = 604,672
    #   196*604,672 = 118,515,712
    ("inception_4d", "inception (4d)", "", [528, 14, 14], 2, 604_672, 704, 118_515_712),
    # in 528: 135,168 + 84,480 + 160*9*320 = 460,800 + 16,896 + 32*25*128 = 102,400 + 67,584
    #   = 867,328; 196*867,328 = 169,996,288
    ("inception_4e", "inception (4e)", "", [832, 14, 14], 2, 867_328, 1_024, 169_996_288),
    ("pool4", "max pool", "3×3/2", [832, 7, 7], 0, 0, 0, 0),
    # in 832: 212,992 + 133,120 + 460,800 + 26,624 + 102,400 + 106,496 = 1,042,432
    #   7*7*1,042,432 = 51,079,168
    ("inception_5a", "inception (5a)", "", [832, 7, 7], 2, 1_042_432, 1_024, 51_079_168),
    # in 832: 319,488 + 159,744 + 192*9*384 = 663,552 + 39,936 + 48*25*128 = 153,600 + 106,496
    #   = 1,442,816; 49*1,442,816 = 70,697,984
    ("inception_5b", "inception (5b)", "", [1024, 7, 7], 2, 1_442_816, 1_264, 70_697_984),
    ("pool5", "avg pool", "7×7/1", [1024, 1, 1], 0, 0, 0, 0),
    ("dropout", "dropout (40%)", "", [1024, 1, 1], 0, 0, 0, 0),
    # 1024*1000 = 1,024,000 weights, one MAC each
    ("fc", "linear", "", [1000, 1, 1], 1, 1_024_000, 1_000, 1_024_000),
    ("softmax", "softmax", "", [1000, 1, 1], 0, 0, 0, 0),
]

FILTERS = {  # Table 1's filter columns, as printed
    "conv2": {"#3×3 reduce": 64, "#3×3": 192},
    "inception_3a": [64, 96, 128, 16, 32, 32],
    "inception_3b": [128, 128, 192, 32, 96, 64],
    "inception_4a": [192, 96, 208, 16, 48, 64],
    "inception_4b": [160, 112, 224, 24, 64, 64],
    "inception_4c": [128, 128, 256, 24, 64, 64],
    "inception_4d": [112, 144, 288, 32, 64, 64],
    "inception_4e": [256, 160, 320, 32, 128, 128],
    "inception_5a": [256, 160, 320, 32, 128, 128],
    "inception_5b": [384, 192, 384, 48, 128, 128],
}
COLUMNS = ["#1×1", "#3×3 reduce", "#3×3", "#5×5 reduce", "#5×5", "pool proj"]


def table_of(spec):
    r = costcalc.analyze(SPECS / spec)
    return build_table(r, claim_outcomes(r))


def test_googlenet_rows_match_the_paper_layout():
    t = table_of("googlenet.yaml")
    assert len(t.rows) == 19 and t.columns == COLUMNS
    for row, (name, label, patch, out, depth, w, b, macs) in zip(t.rows, ROWS):
        got = (row.name, row.label, row.patch, row.output_chw, row.depth, row.weights,
               row.params - row.weights, row.macs)
        assert got == (name, label, patch, out, depth, w, b, macs), name
        want = FILTERS.get(name, {})
        if isinstance(want, list):
            want = dict(zip(COLUMNS, want))
        assert row.filters == want, name


def test_rows_add_up_to_the_fvcore_totals():
    t = table_of("googlenet.yaml")
    # fvcore on the real model: 6,998,552 params, 1,582,671,872 MACs
    assert sum(r[5] + r[6] for r in ROWS) == 6_998_552 == t.totals["params"]
    assert sum(r[7] for r in ROWS) == 1_582_671_872 == t.totals["macs"]


def test_folded_layers_join_the_row_above():
    t = table_of("googlenet.yaml")
    rows = {r.name: r for r in t.rows}
    assert rows["conv1"].layers == ["conv1", "conv1_relu"]
    assert rows["pool1"].layers == ["pool1", "norm1"]  # LRN folds into the pool row
    assert rows["conv2"].layers[-1] == "norm2"
    assert rows["dropout"].layers == ["dropout", "flatten_1"]


def test_variant_conv1_is_separable():
    t = table_of("googlenet_table1.yaml")
    conv1 = t.rows[0]
    # depthwise 3*1*7*7*8 = 1,176 + pointwise 24*64 = 1,536 → 2,712 weights; biases 24 + 64
    assert (conv1.weights, conv1.params) == (2_712, 2_800)
    # 112*112*(24*49 + 24*64) = 12,544*2,712 = 34,019,328
    assert conv1.macs == 34_019_328
    assert (conv1.label, conv1.patch, conv1.output_chw) == ("convolution", "7×7/2", [64, 112, 112])
    assert conv1.depth == 2  # depthwise then pointwise: honest, though the paper prints 1
    # 1,582,671,872 - 118,013,952 + 34,019,328
    assert t.totals["macs"] == 1_498_677_248
    # 6,998,552 - (9,408 + 64) + (2,712 + 88)
    assert t.totals["params"] == 6_991_880


def test_variant_is_googlenet_apart_from_conv1():
    """googlenet_table1.yaml copies googlenet.yaml; every layer outside conv1 must agree."""
    a = costcalc.analyze(SPECS / "googlenet.yaml")
    b = costcalc.analyze(SPECS / "googlenet_table1.yaml")
    strip = lambda r: [(l.name, l.kind, l.output, l.weights, l.biases, l.macs, l.elementops)
                       for l in r.layers if l.name.split("/")[0] != "conv1"]
    assert strip(a) == strip(b)
    assert [l.name for l in b.layers if l.name.startswith("conv1/")] == ["conv1/depthwise",
                                                                           "conv1/pointwise"]


def test_variant_against_torch():
    """The real PyTorch model of the variant (on the meta device: shapes only, no weights):
    its parameters and FlopCounterMode's count (2 per MAC)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from costcalc.counting.graph import build_graph
    from costcalc.crosscheck.model import build_model, example_input

    g = build_graph(SPECS / "googlenet_table1.yaml")
    model = build_model(g, device="meta")
    assert sum(p.numel() for p in model.parameters()) == 6_991_880
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(example_input(g, device="meta"))
    assert counter.get_total_flops() == 2 * 1_498_677_248


def test_table_golden():
    r = run_cli("table", SPECS / "googlenet.yaml")
    assert r.returncode == 0, r.stderr
    path = GOLDEN / "table_googlenet.txt"
    if os.environ.get("COSTCALC_UPDATE_GOLDEN"):
        path.write_text(r.stdout)
    assert r.stdout == path.read_text()
    # the paper's human units: K = 1024, M = 10^6
    assert "112K" in r.stdout and "360M" in r.stdout and "1,582,671,872 MACs" in r.stdout
    # (the why column wraps: compare with whitespace collapsed)
    assert "computed −5.4% vs the claim, which is 1.06× too high" in " ".join(r.stdout.split())


def test_table_json_contract():
    r = run_cli("table", SPECS / "googlenet.yaml", "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["name"] == "googlenet"
    assert d["totals"] == {"params": 6_998_552, "weights": 6_990_272, "macs": 1_582_671_872}
    assert len(d["rows"]) == 19
    for row, (name, label, patch, out, depth, w, b, macs) in zip(d["rows"], ROWS):
        assert {k: row[k] for k in ("name", "output", "params", "macs")} == {
            "name": name, "output": out, "params": w + b, "macs": macs}
        assert isinstance(row["type"], str) and isinstance(row["claims"], list)
    r5a = next(row for row in d["rows"] if row["name"] == "inception_5a")
    assert r5a["type"] == "inception"
    macs = next(c for c in r5a["claims"] if c["metric"] == "macs")
    assert {k: macs[k] for k in ("metric", "claimed", "computed", "verdict")} == {
        "metric": "macs", "claimed": "54M", "computed": 51_079_168, "verdict": "mismatch"}
    assert "5a's printed filter counts" in macs["note"] and macs["informational"] is True


def test_table_csv_exact_integers():
    r = run_cli("table", SPECS / "googlenet.yaml", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows[2]["name"] == "conv2" and rows[2]["macs"] == "359661568"
    assert rows[2]["#3×3 reduce"] == "64" and rows[2]["macs_verdict"] == "rounded"
    assert rows[-1]["name"] == "TOTAL" and rows[-1]["params"] == "6998552"


def test_table_markdown():
    r = run_cli("table", SPECS / "googlenet_table1.yaml", "--format", "markdown")
    assert r.returncode == 0, r.stderr
    assert "| type | patch size/stride | output size | depth | #1×1 |" in r.stdout
    assert "| convolution | 7×7/2 | 112×112×64 | 2 |" in r.stdout
    assert "#### Claims" in r.stdout


def test_block_without_table_mapping_and_repeat_group():
    r = costcalc.analyze(parse_spec_text("""
input: [4, 8, 8]
blocks:
  unit:
    params: [c]
    layers:
      - {name: a, conv: {out: $c, kernel: 3, pad: 1}}
      - {name: b, conv: {out: $c, kernel: 1}}
layers:
  - {name: u, block: unit, args: [4]}
  - {name: r, conv: {out: 4, kernel: 1}, repeat: 3}
  - relu
""", "t.yaml"))
    t = build_table(r)
    assert [(x.name, x.type, x.label, x.depth) for x in t.rows] == [
        ("u", "unit", "unit", 2), ("r", "convolution", "convolution ×3", 3)]
    assert t.rows[1].layers[-1] == "relu_1" and t.columns == []


@pytest.mark.parametrize("table,needle", [
    ("{type: x, patch_of: nope}", "'patch_of' names 'nope', which is not a layer of the block"),
    ("{type: x, '#1x1': abc}", "filter column '#1x1' must be a whole number"),
    ("[1, 2]", "'table' must be a mapping"),
    ("{type: x, '#1x1': $zz}", "'$zz' is not a parameter of this block"),
])
def test_bad_table_mapping(table, needle):
    spec = parse_spec_text(f"""input: [4, 8, 8]
blocks:
  unit:
    params: [c]
    table: {table}
    layers:
      - {{name: a, conv: {{out: $c, kernel: 1}}}}
layers:
  - {{name: u, block: unit, args: [4]}}
""", "t.yaml")
    with pytest.raises(CostcalcError) as info:
        build_table(costcalc.analyze(spec))
    assert needle in str(info.value) and str(info.value).startswith("t.yaml:")


def test_filter_column_x_is_read_as_times():
    spec = parse_spec_text("""input: [4, 8, 8]
blocks:
  unit:
    params: [c]
    table: {type: inception, '#3x3 reduce': $c, '#1x1': 7}
    layers:
      - {name: a, conv: {out: $c, kernel: 1}}
layers:
  - {name: u, block: unit, args: [4]}
""", "t.yaml")
    t = build_table(costcalc.analyze(spec))
    assert t.columns == ["#1×1", "#3×3 reduce"] and t.rows[0].filters == {"#3×3 reduce": 4, "#1×1": 7}


def test_a_repeated_block_row_is_described_by_its_block(tmp_path):
    from costcalc.paper.table1 import build_table
    from costcalc.counting.results import analyze

    p = tmp_path / "rep.yaml"
    p.write_text("input: [8, 10, 10]\nblocks:\n  res:\n    params: [c]\n    table: {type: residual}\n"
                 "    layers:\n      - {name: c1, conv: {out: $c, kernel: 3, pad: 1}}\n"
                 "      - {name: r1, relu: }\n      - {name: sum, add: [r1, input]}\n"
                 "layers:\n  - {name: stage, block: res, args: [8], repeat: 3}\n")
    row = build_table(analyze(str(p)), []).rows[0]
    assert (row.type, row.label) == ("residual", "residual ×3")
    assert row.depth == 3  # three 3x3 convs on the longest path
    assert row.params == 3 * (8 * 8 * 9 + 8)  # 1,752


def test_modern_activations_and_norms_fold_into_the_row_above():
    # MobileNetV3-Small's classifier: linear 576 -> 1024, Hardswish, dropout, linear; ConvNeXt's
    # stem: conv 4x4/4, then its LayerNorm2d
    rows = {r.name: r for r in build_table(costcalc.analyze(SPECS / "zoo" / "mobilenet_v3_small.yaml"), []).rows}
    assert rows["fc1"].layers == ["fc1", "hardswish"] and "hardswish" not in rows
    rows = {r.name: r for r in build_table(costcalc.analyze(SPECS / "zoo" / "convnext_tiny.yaml"), []).rows}
    assert rows["stem"].layers == ["stem", "stem_norm"]
