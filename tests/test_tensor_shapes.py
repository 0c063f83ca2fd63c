"""Core v2's shape model: inputs of any rank with named layouts, kinds that take an axis,
nodes with several outputs, and blocks that read their input's shape (${in.C}).

Independent oracles: hand arithmetic, and torch run on modules written here by hand."""
import json

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import costcalc
from conftest import run_cli
from costcalc.counting.graph import build_graph
from costcalc.crosscheck import verify
from costcalc.errors import CostcalcError
from costcalc.spec.schema import parse_spec_text

nn = torch.nn

MLP = """name: mlp-tokens
input: {T: 16, D: 32}
blocks:
  mlp:
    params: [{hidden: 64}]
    layers:
      - {name: up, linear: {out: $hidden}}
      - {name: act, relu: }
      - {name: down, linear: {out: "${in.D}"}}
layers:
  - {name: parts, split: {sizes: [8, 8], axis: T}}
  - {name: a, block: mlp, from: parts.0}
  - {name: b, block: mlp, args: {hidden: 16}, from: parts.1}
  - {name: join, concat: {axis: T}, from: [a, b]}
  - {name: halves, chunk: {chunks: 2, axis: -1}}
  - {name: sum, add: [halves.0, halves.1]}
  - {name: prob, softmax: {axis: D}}
"""


class HandMLP(nn.Module):
    """MLP above, written by hand in torch."""

    def __init__(self):
        super().__init__()
        self.a = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 32))
        self.b = nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 32))

    def forward(self, x):
        p0, p1 = torch.split(x, [8, 8], dim=1)
        h0, h1 = torch.chunk(torch.cat([self.a(p0), self.b(p1)], dim=1), 2, dim=-1)
        return torch.softmax(h0 + h1, dim=2)


def graph(text):
    return build_graph(parse_spec_text(text, "F"))


def test_named_layout_and_any_rank_input():
    g = graph(MLP)
    assert g.shapes["input"] == (16, 32) and g.shapes["input"].layout == ("T", "D")
    assert g.shapes["parts.0"] == g.shapes["parts.1"] == (8, 32)
    assert g.shapes["a/up"].layout == ("T", "D")  # linear keeps its input's layout
    assert g.shapes["join"] == (16, 32) and g.shapes["halves.1"] == (16, 16)
    assert [list(s) for s in g.shapes["halves"]] == [[16, 16], [16, 16]]


def test_linear_on_the_last_axis_counts_every_position():
    r = costcalc.analyze(parse_spec_text(MLP, "F"))
    by = {l.name: l for l in r.layers}
    # a/up: 8 tokens * 32 * 64 = 16,384 MACs; weights 32*64 = 2,048, biases 64; bias adds 8*64
    assert (by["a/up"].macs, by["a/up"].params, by["a/up"].elementops) == (16_384, 2_112, 512)
    # a/down reads ${in.D} = 32 outputs: 8 * 64 * 32 = 16,384 MACs, 64*32 + 32 = 2,080 params
    assert (by["a/down"].macs, by["a/down"].params) == (16_384, 2_080)
    # b: hidden 16: up 8*32*16 = 4,096, down 8*16*32 = 4,096
    assert (by["b/up"].macs, by["b/down"].macs) == (4_096, 4_096)
    # total 16,384*2 + 4,096*2 = 40,960 MACs; params 2,112 + 2,080 + 528 + 544 = 5,264
    assert (r.totals["macs"], r.totals["params"]) == (40_960, 5_264)
    # a split's activations are its outputs: 8*32 + 8*32 = 512 elements
    assert by["parts"].activations == 512


def test_agrees_with_torch_on_a_hand_written_model():
    model = HandMLP()
    with FlopCounterMode(display=False) as fcm:
        out = model(torch.zeros(1, 16, 32))
    r = costcalc.analyze(parse_spec_text(MLP, "F"))
    assert fcm.get_total_flops() == 2 * r.totals["macs"]  # 81,920 = 2 * 40,960
    assert sum(p.numel() for p in model.parameters()) == r.totals["params"]
    assert tuple(out.shape[1:]) == r.layers[-1].output == (16, 16)


def test_verify_builds_split_chunk_and_axis_kinds(tmp_path):
    path = tmp_path / "mlp.yaml"
    path.write_text(MLP)
    (c,) = verify([path])
    assert c.ok, [(l.name, l.notes) for l in c.mismatches]
    parts = next(l for l in c.layers if l.name == "parts")
    assert parts.real_shape == ((1, 8, 32), (1, 8, 32))


def test_existing_specs_keep_their_layout_and_meaning():
    g = graph("input: [3, 8, 8]\nlayers:\n  - {conv: {out: 4, kernel: 3}}\n  - flatten\n"
              "  - {linear: {out: 2}}\n")
    assert g.shapes["input"].layout == ("C", "H", "W")
    assert g.shapes["flatten_1"].layout == ("F",)
    # conv 4*6*6 outputs * 3*9 = 3,888; linear 144*2 = 288
    assert [g.costs[n.path].macs for n in g.nodes] == [3_888, 0, 288]


@pytest.mark.parametrize("text,needle", [
    ("input: {T: 4, D: 8}\nlayers:\n  - {name: s, split: {sizes: [2, 2]}}\n  - {name: r, relu: }\n",
     "layer 'r': 's' has 2 outputs; read one of them, e.g. from: s.0"),
    ("input: {T: 4, D: 8}\nlayers:\n  - {name: s, split: {sizes: [2, 2]}}\n  - {name: r, relu: , from: s.2}\n",
     "'from' names 's.2', but 's' has 2 outputs (0 to 1)"),
    ("input: {T: 4, D: 8}\nlayers:\n  - {name: s, split: {sizes: [2, 3]}}\n",
     "split sizes [2, 3] add up to 5, but axis T of the input [4, 8] has 4"),
    ("input: {T: 4, D: 8}\nlayers:\n  - {name: p, softmax: {axis: C}}\n",
     "the input has no axis 'C' (its layout is [T, D])"),
    ("input: {T: 4, D: 8}\nlayers:\n  - {name: p, chunk: {chunks: 3, axis: D}}\n",
     "chunk into 3 needs axis D (8) to divide evenly"),
    ("input: {T: 4, D: 8}\nblocks:\n  b:\n    layers:\n      - {linear: {out: \"${in.C}\"}}\n"
     "layers:\n  - {block: b}\n", "the block's input has no axis 'C' (its axes: T, D)"),
    ("input: [4]\nlayers:\n  - {name: m, add: [input]}\n", "add needs two or more inputs"),
])
def test_shape_errors_are_one_located_line(text, needle):
    with pytest.raises(CostcalcError) as exc:
        graph(text)
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_json_lists_several_outputs(tmp_path):
    path = tmp_path / "mlp.yaml"
    path.write_text(MLP)
    r = run_cli("analyze", path, "-f", "json")
    layers = {l["name"]: l for l in json.loads(r.stdout)["layers"]}
    assert layers["parts"]["output"] == [[8, 32], [8, 32]]
    assert layers["a/up"]["inputs"] == ["parts.0"]
