"""Repeated layers (repeat:, block instances) run each kind's shape and cost rule once per
distinct (kind, args, input shapes), and share one values dict; the counts stay exact.

Structural, not timed: a counter on the rules (issue 19.4, 100,000 repeated layers)."""
import pytest

import costcalc
from costcalc import ops
from costcalc.spec.schema import parse_spec_text


@pytest.fixture
def calls(monkeypatch):
    """How many times conv's and relu's shape and cost rules ran."""
    counts = {}
    for name in ("conv", "relu"):
        cls = type(ops.get(name))
        for rule in ("shape", "cost"):
            original = getattr(cls, rule)

            def counted(self, *a, _original=original, _key=(name, rule)):
                counts[_key] = counts.get(_key, 0) + 1
                return _original(self, *a)

            monkeypatch.setattr(cls, rule, counted)
    return counts


def run(text):
    return costcalc.analyze(parse_spec_text(text, "t.yaml"))


def test_a_repeated_layer_runs_its_rules_once(calls):
    r = run("""
input: [8, 8, 8]
layers:
  - {name: c, conv: {out: 8, kernel: 3, pad: 1}, repeat: 1000}
  - {name: r, relu: , repeat: 500}
""")
    assert len(r.layers) == 1500
    # every conv reads and writes 8x8x8: one key; every relu too
    assert calls == {("conv", "shape"): 1, ("conv", "cost"): 1, ("relu", "shape"): 1, ("relu", "cost"): 1}
    assert r.totals["macs"] == 36_864_000  # 1,000 * 8*8*8 outputs * 8*3*3 = 1,000 * 36,864
    assert r.totals["params"] == 584_000  # 1,000 * (8*8*3*3 + 8) = 1,000 * 584
    assert r.totals["elementops"] == 768_000  # 1,000 bias adds of 512 + 500 relus of 512
    assert r.scope_totals()["r"]["activations"] == 256_000  # 500 * 512
    assert r.layers[999].values is r.layers[0].values  # one dict for the equal layers


def test_equal_block_instances_share_their_rules(calls):
    r = run("""
input: [4, 16, 16]
blocks:
  unit:
    params: [c]
    layers:
      - {name: conv, conv: {out: $c, kernel: 3, pad: 1}}
      - {name: relu, relu: }
layers:
  - {name: a, block: unit, args: [4]}
  - {name: b, block: unit, args: [4]}
  - {name: c, block: unit, args: [8]}
  - {name: d, block: unit, args: [8]}
""")
    # conv 4->4 on 4x16x16 (a, b), 4->8 on 4x16x16 (c), 8->8 on 8x16x16 (d): three keys;
    # relu on 4x16x16 and on 8x16x16: two
    assert calls == {("conv", "shape"): 3, ("conv", "cost"): 3, ("relu", "shape"): 2, ("relu", "cost"): 2}
    macs = [l.macs for l in r.layers if l.kind == "conv"]
    # 16*16 outputs * out * in * 3*3: 4*4 -> 36,864; 8*4 -> 73,728; 8*8 -> 147,456
    assert macs == [36_864, 36_864, 73_728, 147_456]


def test_a_shrinking_repeat_gets_each_shape(calls):
    r = run("""
input: [2, 16, 16]
layers:
  - {name: p, maxpool: {kernel: 2}, repeat: 3}
""")
    assert [l.output for l in r.layers] == [(2, 8, 8), (2, 4, 4), (2, 2, 2)]
    assert r.totals["activations"] == 168  # 2*8*8 + 2*4*4 + 2*2*2 = 128 + 32 + 8


def test_arguments_written_alike_are_checked_once_and_written_differently_apart(monkeypatch):
    """A chain of separate entries (no repeat:) with equal argument mappings checks them once;
    a value equal in Python but of another type (1 == True) is checked on its own and refused."""
    from costcalc.ops import args as arg_schema
    from costcalc.errors import CostcalcError
    from costcalc.spec import expand

    seen = []
    original = arg_schema.validate_args
    monkeypatch.setattr(expand, "validate_args",
                        lambda kind, *a: seen.append(kind) or original(kind, *a))
    entry = "  - {conv: {out: 8, kernel: 3, pad: 1, bias: true}}\n  - relu\n"
    r = run("input: [8, 8, 8]\nlayers:\n" + entry * 50)
    assert len(r.layers) == 100 and seen == ["conv", "relu"]
    assert r.totals["params"] == 29_200  # 50 * (8*8*3*3 + 8) = 50 * 584
    with pytest.raises(CostcalcError, match="'bias' must be true or false, not 1") as info:
        run("input: [8, 8, 8]\nlayers:\n" + entry + "  - {conv: {out: 8, kernel: 3, pad: 1, bias: 1}}\n")
    assert info.value.line == 5


def test_layers_that_share_a_values_dict_share_their_kind_and_output():
    """The reports format each distinct values dict once (rows, csv, json, lock): that holds
    only if layers sharing one dict also share kind and output shape. Every shipped spec."""
    from conftest import ROOT, SPECS
    from costcalc.spec.schema import spec_files

    shared = 0
    for spec in spec_files(SPECS) + [ROOT / "tests" / "data" / "every_kind.yaml"]:
        r = costcalc.analyze(str(spec))
        seen = {}
        for layer in r.layers:
            kind, output = seen.setdefault(id(layer.values), (layer.kind, layer.output))
            assert (kind, output) == (layer.kind, layer.output), (spec, layer.name)
        shared += len(r.layers) - len(seen)
    assert shared > 1_000  # the check saw sharing: GPT-3's 96 layers, ResNets' blocks ...
