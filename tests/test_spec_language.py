"""The spec language: blocks, parameters, expressions, wiring, repeat and scoped paths."""
import pytest

import costcalc
from costcalc.errors import CostcalcError
from costcalc.spec.schema import parse_spec_text
from costcalc.counting.graph import build_graph


def run(text):
    return costcalc.analyze(parse_spec_text(text, "t.yaml"))


def test_nested_blocks_scope_paths_and_subtotals():
    r = run("""
input: [8, 10, 10]
blocks:
  cbr:
    params: [c, {k: 3}]
    layers:
      - {name: conv, conv: {out: $c, kernel: $k, pad: '${k // 2}', bias: false}}
      - {name: bn, batchnorm: }
      - {name: relu, relu: }
  pair:
    params: [c]
    layers:
      - {name: a, block: cbr, args: [$c]}
      - {name: b, block: cbr, args: {c: '${c * 2}', k: 1}}
layers:
  - {name: s1, block: pair, args: [4]}
""")
    names = [l.name for l in r.layers]
    assert names == ["s1/a/conv", "s1/a/bn", "s1/a/relu", "s1/b/conv", "s1/b/bn", "s1/b/relu"]
    assert r.layers[0].macs == 10 * 10 * 4 * 8 * 3 * 3  # 28,800
    assert r.layers[3].output == (8, 10, 10)
    assert r.layers[3].macs == 10 * 10 * 8 * 4 * 1 * 1  # 3,200
    sub = r.scope_totals()
    # weights 4*8*9 = 288 and 8*4 = 32; BN weight+bias 2*4 = 8 and 2*8 = 16
    assert sub["s1/a"]["params"] == 288 + 8
    assert sub["s1"]["params"] == 288 + 8 + 32 + 16
    assert r.instances["s1/b"].block == "cbr"


def test_residual_add_and_from():
    r = run("""
input: [16, 8, 8]
layers:
  - {name: c1, conv: {out: 16, kernel: 3, pad: 1}}
  - {name: c2, conv: {out: 16, kernel: 3, pad: 1}}
  - {name: sum, add: [c2, input]}
  - {name: tail, relu: , from: sum}
""")
    add = r.layer("sum")
    assert add.inputs == ["c2", "input"]
    assert add.elementops == 16 * 8 * 8  # one add per element


def test_repeat_chains_instances():
    r = run("""
input: [4, 6, 6]
blocks:
  unit:
    params: [c]
    layers:
      - {name: conv, conv: {out: $c, kernel: 1}}
layers:
  - {name: stage, block: unit, args: [4], repeat: 3}
  - {name: head, relu: }
""")
    assert [l.name for l in r.layers] == ["stage/0/conv", "stage/1/conv", "stage/2/conv", "head"]
    assert r.layers[1].inputs == ["stage/0/conv"]
    assert r.layers[3].inputs == ["stage/2/conv"]
    assert r.scope_totals()["stage"]["macs"] == 3 * 36 * 4 * 4  # 3 * 576


def test_unnamed_layers_get_stable_names_and_bare_kind_strings():
    r = run("input: [3, 4, 4]\nlayers:\n  - relu\n  - relu\n  - {flatten: }\n")
    assert [l.name for l in r.layers] == ["relu_1", "relu_2", "flatten_1"]


def test_dilated_grouped_depthwise_conv_counts():
    r = run("input: [32, 16, 16]\nlayers:\n  - {conv: {out: 32, kernel: 3, pad: 2, dilation: 2, groups: 32}}\n")
    l = r.layers[0]
    assert l.output == (32, 16, 16)
    assert l.weights == 32 * 1 * 3 * 3  # 288: one 3x3 filter per channel
    assert l.macs == 32 * 16 * 16 * 9  # 73,728


@pytest.mark.parametrize("text,needle", [
    ("input: [3, 8, 8]\nlayers:\n  - {convv: {out: 4, kernel: 3}}\n", "unknown layer kind 'convv' (did you mean 'conv'?)"),
    ("input: [3, 8, 8]\nlayers:\n  - {conv: {out: 4, k: 3}}\n", "did you mean 'kernel'?"),
    ("input: [3, 8, 8]\nlayers:\n  - {conv: {out: 4, kernel: 3}, from: later}\n  - {name: later, relu: }\n", "not an earlier layer"),
    ("input: [3, 8, 8]\nlayers:\n  - {name: a, relu: }\n  - {name: a, relu: }\n", "duplicate layer name 'a'"),
    ("input: [3, 8, 8]\nblocks:\n  b: {layers: [{block: b}]}\nlayers:\n  - {block: b}\n", "uses itself (b → b)"),
    ("input: [3, 8, 8]\nlayers:\n  - {conv: {out: 4, kernel: 9}}\n", "kernel 9 is larger than its padded input 8x8"),
    ("input: [3, 8, 8]\nlayers:\n  - {conv: {out: 4, kernel: 3, groups: 2}}\n", "groups 2 must divide"),
    ("input: [3, 8, 8]\nlayers:\n  - {name: a, conv: {out: 4, kernel: 1}}\n  - {name: b, conv: {out: 4, kernel: 3}, from: input}\n  - {add: [a, b]}\n", "add needs equal shapes"),
    ("input: [3, 8, 8]\nlayers:\n  - {linear: {out: 4}}\n", "put a flatten layer before it"),
    ("input: [3, 8, 8]\nlayers:\n  - {conv: {out: 0, kernel: 3}}\n", "'out' must be positive"),
    ("input: [3, 8, 8]\nlayers:\n  - {conv: {out: 2.5, kernel: 3}}\n", "'out' must be a whole number"),
    ("input: [3, 8, 8]\nlayers:\n  - {conv: {out: true, kernel: 3}}\n", "not the boolean true"),
])
def test_errors_name_the_problem(text, needle):
    with pytest.raises(CostcalcError) as info:
        run(text)
    assert needle in str(info.value)
    assert str(info.value).startswith("t.yaml:")


def test_error_carries_line_column_and_layer():
    text = "input: [3, 8, 8]\nblocks:\n  b:\n    params: [k]\n    layers:\n      - {name: c, conv: {out: 4, kernel: $k}}\nlayers:\n  - {name: inst, block: b, args: [9]}\n"
    with pytest.raises(CostcalcError) as info:
        run(text)
    assert str(info.value).startswith("t.yaml:6:9: layer 'inst/c': conv kernel 9")


def test_unused_layer_warns():
    g = build_graph(parse_spec_text("input: [3, 8, 8]\nlayers:\n  - {name: a, relu: }\n  - {name: b, relu: , from: input}\n", "t.yaml"))
    assert any("layer 'a'" in w and "never used" in w for w in g.warnings)


WHEN_SPEC = """
input: [8, 6, 6]
blocks:
  res:
    params: [cin, c, {s: 1}]
    layers:
      - {name: conv, conv: {out: $c, kernel: 3, stride: $s, pad: 1, bias: false}}
      - {name: short, conv: {out: $c, kernel: 1, stride: $s, bias: false}, from: input,
         when: '${s != 1 or cin != c}'}
      - {name: add, add: [conv, short]}
layers:
  - {name: same, block: res, args: [8, 8]}
  - {name: wider, block: res, args: [8, 16]}
  - {name: strided, block: res, args: [16, 16, 2]}
"""


def test_when_false_leaves_a_layer_out_and_its_name_reads_its_input():
    r = run(WHEN_SPEC)
    names = [l.name for l in r.layers]
    # 'same' keeps the identity shortcut: its add reads the block input directly
    assert "same/short" not in names
    assert r.layer("same/add").inputs == ["same/conv", "input"]
    # channels change (8 -> 16) or stride 2: the 1x1 projection is there
    assert r.layer("wider/add").inputs == ["wider/conv", "wider/short"]
    assert r.layer("strided/short").output == (16, 3, 3)
    assert r.layer("wider/short").macs == 6 * 6 * 16 * 8  # 4,608


def test_when_accepts_booleans_and_rejects_other_values():
    r = run("input: [3, 4, 4]\nlayers:\n  - {name: a, relu: , when: false}\n  - {name: b, relu: , when: true}\n")
    assert [l.name for l in r.layers] == ["b"]
    assert r.layer("b").inputs == ["input"]
    with pytest.raises(CostcalcError, match="'when' must be true, false or a whole number"):
        run("input: [3, 4, 4]\nlayers:\n  - {name: a, relu: , when: maybe}\n")


def test_repeat_zero_is_an_empty_chain():
    r = run("""
input: [4, 6, 6]
blocks:
  unit:
    params: [c, n]
    layers:
      - {name: conv, conv: {out: $c, kernel: 1}, repeat: '${n - 1}'}
      - {name: out, relu: }
layers:
  - {name: one, block: unit, args: [4, 1]}
  - {name: three, block: unit, args: [4, 3]}
""")
    assert [l.name for l in r.layers] == ["one/out", "three/conv/0", "three/conv/1", "three/out"]
    assert r.layer("one/out").inputs == ["input"]
    with pytest.raises(CostcalcError, match="'repeat' must be a whole number from 0"):
        run("input: [3, 4, 4]\nlayers:\n  - {name: a, relu: , repeat: -1}\n")


@pytest.mark.parametrize("expr,value", [
    ("a == 2", 1), ("a != 2", 0), ("a < b", 1), ("b <= a", 0), ("a > 1 and b >= 3", 1),
    ("a > 5 or b == 3", 1), ("not a", 0), ("1 < a < b", 1), ("(a == 2) * 7 + b", 10),
])
def test_expression_comparisons_and_logic_give_one_or_zero(expr, value):
    from costcalc.spec.substitute import evaluate

    assert evaluate("${" + expr + "}", {"a": 2, "b": 3}) == value
