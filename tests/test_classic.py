"""The classic networks GoogLeNet measures itself against (specs/classic/): exact figures by hand
arithmetic from each paper, and an exact match with the real PyTorch model."""
import json
from fractions import Fraction

import pytest
import torch
from fvcore.nn import FlopCountAnalysis
from torch.utils.flop_counter import FlopCounterMode

import costcalc
from conftest import SPECS
from costcalc.counting.graph import build_graph
from costcalc.crosscheck.model import build_model, example_input

CLASSIC = SPECS / "classic"


def conv_layers(result):
    """{path: (params, MACs)} of the conv and linear layers."""
    return {l.name: (l.params, l.macs) for l in result.layers if l.kind in ("conv", "linear")}


# -- LeNet-5 (LeCun et al. 1998, §II.B), dense C3, tanh, 2x2 average pooling -------------------

def test_lenet5_layers():
    r = costcalc.analyze(CLASSIC / "lenet5.yaml")
    assert conv_layers(r) == {
        "c1": (156, 117_600),      # 6*1*5*5 + 6 = 156;   28*28 * 6*25 = 117,600
        "c3": (2_416, 240_000),    # 16*6*5*5 + 16 = 2,416; 10*10 * 16*6*25 = 240,000
        "c5": (48_120, 48_000),    # 400*120 + 120 = 48,120 (the paper's C5 figure); 400*120
        "f6": (10_164, 10_080),    # 120*84 + 84 = 10,164 (the paper's F6 figure); 120*84
        "f7": (850, 840),          # 84*10 + 10 = 850; 84*10
    }
    size = {l.name: l.output for l in r.layers}
    assert size["c1"] == (6, 28, 28) and size["s2"] == (6, 14, 14)
    assert size["c3"] == (16, 10, 10) and size["s4"] == (16, 5, 5)


def test_lenet5_totals():
    r = costcalc.analyze(CLASSIC / "lenet5.yaml")
    # 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706
    assert r.totals["params"] == 61_706
    # 117,600 + 240,000 + 48,000 + 10,080 + 840 = 416,520
    assert r.totals["macs"] == 416_520
    # biases 6 + 16 + 120 + 84 + 10 = 236
    assert r.totals["biases"] == 236


def test_lenet5_partial_c3_arithmetic_in_the_spec_comment():
    # Table I connects 60 of 96 (S2, C3) map pairs: 6*3 + 6*4 + 3*4 + 1*6 = 60.
    # Partial C3: 60*25 + 16 = 1,516 params (the paper's figure), 100*60*25 = 150,000 MACs.
    # The dense C3 the spec counts minus the partial one:
    r = costcalc.analyze(CLASSIC / "lenet5.yaml")
    c3 = r.layer("c3")
    # costcalc's dense C3 connects all 6*16 = 96 pairs; removing the 36 pairs Table I leaves
    # out removes 36*25 = 900 weights and 10*10 * 900 = 90,000 MACs
    assert c3.params - 1_516 == 36 * 25  # 1,516: the paper's own partial-C3 figure
    assert c3.macs - 150_000 == 10 * 10 * 36 * 25  # 150,000 = 100 * 1,500 (paper: 151,600 - 1,600)
    text = (CLASSIC / "lenet5.yaml").read_text()
    for figure in ("1,516", "2,416", "150,000", "240,000", "60,806", "326,520"):
        assert figure in text
    # the whole network with the partial C3: 61,706 - 900 and 416,520 - 90,000
    assert (r.totals["params"] - 900, r.totals["macs"] - 90_000) == (60_806, 326_520)


# -- AlexNet, two GPUs (Krizhevsky et al. 2012, §3.5, Figure 2), input 227 ------------------------

ALEXNET = {
    # 11*11*3*96 + 96 = 34,848 + 96 = 34,944;  55*55 * 34,848 = 105,415,200
    "conv1": (34_944, 105_415_200),
    # groups 2: 5*5*48*256 + 256 = 307,200 + 256 = 307,456;  27*27 * 307,200 = 223,948,800
    "conv2": (307_456, 223_948_800),
    # dense: 3*3*256*384 + 384 = 884,736 + 384 = 885,120;  13*13 * 884,736 = 149,520,384
    "conv3": (885_120, 149_520_384),
    # groups 2: 3*3*192*384 + 384 = 663,552 + 384 = 663,936;  13*13 * 663,552 = 112,140,288
    "conv4": (663_936, 112_140_288),
    # groups 2: 3*3*192*256 + 256 = 442,368 + 256 = 442,624;  13*13 * 442,368 = 74,760,192
    "conv5": (442_624, 74_760_192),
    # 6*6*256 = 9,216 inputs: 9,216*4,096 + 4,096 = 37,748,736 + 4,096 = 37,752,832
    "fc6": (37_752_832, 37_748_736),
    # 4,096*4,096 + 4,096 = 16,777,216 + 4,096 = 16,781,312
    "fc7": (16_781_312, 16_777_216),
    # 4,096*1,000 + 1,000 = 4,096,000 + 1,000 = 4,097,000
    "fc8": (4_097_000, 4_096_000),
}


def test_alexnet_layers():
    r = costcalc.analyze(CLASSIC / "alexnet_2012.yaml")
    assert conv_layers(r) == ALEXNET
    size = {l.name: l.output for l in r.layers}
    # Figure 2's sizes: 55, 27, 13, 13, 13, 6
    assert size["conv1"] == (96, 55, 55) and size["pool1"] == (96, 27, 27)
    assert size["conv2"] == (256, 27, 27) and size["pool2"] == (256, 13, 13)
    assert size["conv5"] == (256, 13, 13) and size["pool5"] == (256, 6, 6)


def test_alexnet_totals():
    r = costcalc.analyze(CLASSIC / "alexnet_2012.yaml")
    # 34,944 + 307,456 + 885,120 + 663,936 + 442,624 + 37,752,832 + 16,781,312 + 4,097,000
    #   = 60,965,224 (weights and biases)
    assert r.totals["params"] == 60_965_224
    # biases 96 + 256 + 384 + 384 + 256 + 4,096 + 4,096 + 1,000 = 10,568
    assert r.totals["biases"] == 10_568
    # conv 105,415,200 + 223,948,800 + 149,520,384 + 112,140,288 + 74,760,192 = 665,784,864
    # fc   37,748,736 + 16,777,216 + 4,096,000 = 58,621,952;  total 724,406,816
    # (Sze et al., "Efficient Processing of Deep Neural Networks", Proc. IEEE 2017, print
    # AlexNet as 666M conv + 58.6M FC = 724M MACs)
    assert r.totals["macs"] == 724_406_816


# -- Network in Network, ImageNet (the Caffe Model Zoo prototxt, gist d802a5849de39225bcc6) --------

NIN = {
    # mlpconv1 at 54x54 (= 2,916 positions): 11*11*3*96 = 34,848 weights, then 96*96 = 9,216 twice
    "mlpconv1/conv": (34_848 + 96, 2_916 * 34_848),      # 101,616,768 MACs
    "mlpconv1/cccp1": (9_216 + 96, 2_916 * 9_216),       # 26,873,856
    "mlpconv1/cccp2": (9_216 + 96, 2_916 * 9_216),
    # mlpconv2 at 27x27 (729): 5*5*96*256 = 614,400, then 256*256 = 65,536 twice
    "mlpconv2/conv": (614_400 + 256, 729 * 614_400),     # 447,897,600
    "mlpconv2/cccp1": (65_536 + 256, 729 * 65_536),      # 47,775,744
    "mlpconv2/cccp2": (65_536 + 256, 729 * 65_536),
    # mlpconv3 at 13x13 (169): 3*3*256*384 = 884,736, then 384*384 = 147,456 twice
    "mlpconv3/conv": (884_736 + 384, 169 * 884_736),     # 149,520,384
    "mlpconv3/cccp1": (147_456 + 384, 169 * 147_456),    # 24,920,064
    "mlpconv3/cccp2": (147_456 + 384, 169 * 147_456),
    # mlpconv4 at 6x6 (36): 3*3*384*1024 = 3,538,944, 1024*1024 = 1,048,576, 1024*1000 = 1,024,000
    "mlpconv4/conv": (3_538_944 + 1_024, 36 * 3_538_944),  # 127,401,984
    "mlpconv4/cccp1": (1_048_576 + 1_024, 36 * 1_048_576),  # 37,748,736
    "mlpconv4/cccp2": (1_024_000 + 1_000, 36 * 1_024_000),  # 36,864,000
}


def test_nin_layers():
    r = costcalc.analyze(CLASSIC / "nin_imagenet.yaml")
    assert conv_layers(r) == NIN
    size = {l.name: l.output for l in r.layers}
    # (224 - 11) // 4 + 1 = 54; Caffe's ceil pooling 54 -> 27 -> 13 -> 6; global pool -> 1
    assert size["mlpconv1/cccp2"] == (96, 54, 54) and size["pool1"] == (96, 27, 27)
    assert size["pool2"] == (256, 13, 13) and size["pool3"] == (384, 6, 6)
    assert size["mlpconv4/cccp2"] == (1000, 6, 6) and size["gap"] == (1000, 1, 1)
    # every mlpconv is one block instance
    assert sorted(p for p, i in r.instances.items() if i.block == "mlpconv") == \
        ["mlpconv1", "mlpconv2", "mlpconv3", "mlpconv4"]


def test_nin_totals():
    r = costcalc.analyze(CLASSIC / "nin_imagenet.yaml")
    # weights 34,848 + 2*9,216 + 614,400 + 2*65,536 + 884,736 + 2*147,456 + 3,538,944
    #         + 1,048,576 + 1,024,000 = 7,589,920
    # biases  3*96 + 3*256 + 3*384 + 2*1,024 + 1,000 = 5,256
    assert r.totals["weights"] == 7_589_920
    assert r.totals["params"] == 7_595_176  # x 4 bytes = 30.4 MB = 29.0 MiB: the zoo's "29MB"
    # 101,616,768 + 2*26,873,856 + 447,897,600 + 2*47,775,744 + 149,520,384 + 2*24,920,064
    # + 127,401,984 + 37,748,736 + 36,864,000 = 1,100,188,800
    assert r.totals["macs"] == 1_100_188_800
    # fvcore also counts the global average pool, 1 per input element: 1,000*6*6 = 36,000
    r = costcalc.analyze(CLASSIC / "nin_imagenet.yaml", convention="fvcore")
    assert r.totals["ops"] == 1_100_188_800 + 36_000


# -- every classic spec against the real PyTorch model ------------------------------------------

@pytest.mark.parametrize("name", ["lenet5.yaml", "alexnet_2012.yaml", "nin_imagenet.yaml"])
def test_matches_torch(name):
    spec = CLASSIC / name
    graph = build_graph(spec)
    model, x = build_model(graph), example_input(graph)
    with torch.no_grad():
        values = model(x, return_all=True)
    for node in graph.nodes:  # every layer's forward shape equals the analytic shape
        assert tuple(values[node.path].shape[1:]) == tuple(graph.shapes[node.path]), node.path
    r = costcalc.analyze(graph)
    assert sum(p.numel() for p in model.parameters()) == r.totals["params"]
    flops = FlopCountAnalysis(model, x)
    flops.unsupported_ops_warnings(False)
    flops.uncalled_modules_warnings(False)
    assert flops.total() == costcalc.analyze(graph, convention="fvcore").totals["ops"]
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    assert counter.get_total_flops() == 2 * r.totals["macs"]


# -- cross-model claims (in specs/googlenet.claims.yaml; googlenet_table1.yaml includes it) -------

from costcalc.expectations.claims import claim_outcomes  # noqa: E402
from costcalc.expectations.rules import Expectation, evaluate, read_written  # noqa: E402

GOOGLENET = SPECS / "googlenet.yaml"
TABLE1 = SPECS / "googlenet_table1.yaml"


def whole_model_claims(spec):
    """The outcomes of a spec's claims on the whole model (ratios and totals), by metric."""
    out = claim_outcomes(costcalc.analyze(spec))
    return {o.expectation.metric: o for o in out if o.expectation.scope == "total"}


def test_table1_variant_conv1():
    r = costcalc.analyze(TABLE1)
    conv1 = r.scope_totals()["conv1"]
    # depthwise 7*7*1*24 = 1,176 + pointwise 24*64 = 1,536 -> 2,712 weights ("2.7K")
    assert conv1["weights"] == 2_712
    # 112*112*24*49 = 14,751,744 + 112*112*24*64 = 19,267,584 -> 34,019,328 MACs ("34M")
    assert conv1["macs"] == 34_019_328
    # dense conv1: 112*112*64*3*49 = 118,013,952, so 1,582,671,872 - 118,013,952 + 34,019,328
    assert r.totals["macs"] == 1_498_677_248


@pytest.mark.parametrize("spec,params", [(GOOGLENET, 6_998_552), (TABLE1, 6_991_880)])
def test_twelve_times_fewer_parameters_than_alexnet(spec, params):
    o = whole_model_claims(spec)["params"]
    # params(googlenet) / params(alexnet), read against "1/12": 60,965,224 / 6,998,552 = 8.71
    # (dense), 60,965,224 / 6,991,880 = 8.72 (Table-1 variant: 6,672 fewer conv1 params)
    assert o.expectation.ratio[1].endswith("classic/alexnet_2012.yaml")
    assert o.computed == Fraction(params, 60_965_224)
    assert round(float(1 / o.computed), 2) in (8.71, 8.72)
    assert o.verdict == "mismatch"
    assert "1.38× too high" in o.detail  # 12 / 8.71 = 1.378
    assert o.passed and o.expectation.informational  # shown, never fails check
    assert "5 million" in o.expectation.note
    # 12x would fit a GoogLeNet of 60,965,224 / 12 = 5,080,435 params: the note says 5.08M
    assert "60,965,224 / 12 = 5.08M" in o.expectation.note
    assert o.extra["denominator"] // 12 == 5_080_435  # AlexNet's params from costcalc, over 12
    assert o.extra["ratio_text"] == f"{60_965_224 / params:.3g}× fewer params (claimed 12×)"


def test_budget_of_one_and_a_half_billion_multiply_adds():
    dense, variant = whole_model_claims(GOOGLENET)["macs"], whole_model_claims(TABLE1)["macs"]
    assert dense.expectation.rule == variant.expectation.rule == "max"
    # an upper bound: 1,582,671,872 > 1,500,000,000 by 82,671,872 (+5.51%)
    assert dense.computed == 1_582_671_872 and dense.verdict == "over"
    assert "+82,671,872 (+5.51%)" in dense.detail
    assert dense.passed  # informational: the paper's own text describes the dense conv1
    # 1,498,677,248 <= 1,500,000,000, by 1,322,752 (-0.09%)
    assert variant.computed == 1_498_677_248 and variant.verdict == "ok" and variant.passed
    assert "1,322,752 (-0.09%)" in variant.detail.replace("−", "-")


def test_budget_read_as_a_written_figure_would_hide_the_overrun():
    # Why the budget is a max rule: "1.5 billion" read as a written figure (1.5G, one decimal)
    # accepts 1.582G as "truncated" (1.5G <= 1.58G < 1.6G), so a claim reading would pass the
    # dense GoogLeNet although it is 82,671,872 MACs over the budget. The variant is "rounded".
    def claim(spec):
        value, precision, _ = read_written("1.5B")
        return Expectation("claim", str(spec), "total", "macs", value, "1.5B", precision=precision)
    dense, variant = evaluate([claim(GOOGLENET), claim(TABLE1)], costcalc.analyze)
    assert dense.verdict == "truncated" and dense.passed
    assert variant.verdict == "rounded"


def test_a_budget_that_is_not_informational_fails_when_over():
    e = whole_model_claims(GOOGLENET)["macs"].expectation
    e.informational = False
    [o] = evaluate([e], costcalc.analyze)
    assert o.verdict == "over" and not o.passed


def test_table_shows_the_cross_model_verdicts(cli):
    r = cli("table", GOOGLENET, "--format", "json")
    assert r.returncode == 0, r.stderr
    claims = {c["metric"]: c for c in json.loads(r.stdout)["claims"]}
    assert claims["params"]["verdict"] == "mismatch" and claims["params"]["informational"]
    assert claims["macs"]["verdict"] == "over" and claims["macs"]["rule"] == "max"


def test_check_counts_a_published_limit_as_a_claim_not_a_budget():
    # the paper's "1.5 billion multiply-adds" is a max rule from a claims file: still a claim
    import json

    from conftest import run_cli

    r = run_cli("check", "specs/googlenet.yaml", "--format", "json")
    items = json.loads(r.stdout)["outcomes"]
    limits = [x for x in items if x.get("rule") == "max" and x.get("written") in ("1.5B", "1.5G")]
    assert limits and all(x["kind"] == "claim" for x in limits)
