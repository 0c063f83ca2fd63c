"""The model zoo (specs/zoo/): each spec reproduces torchvision's model exactly.

Expected figures are independent of costcalc: torchvision's published weight metadata
(``num_params`` and ``_ops``, the GMACs, in each model file's ``*_Weights`` enum, also shown on
https://pytorch.org/vision/stable/models.html), hand arithmetic, and fvcore / FlopCounterMode
run on the PyTorch model built from the spec.
"""
import re

import pytest

import costcalc
from conftest import SPECS, measured
from costcalc.counting.graph import build_graph

ZOO = SPECS / "zoo"
ZOO_SPECS = sorted(p.name for p in ZOO.glob("*.yaml"))

# spec: (params, GMACs in thousandths), from torchvision/models/<file>.py, IMAGENET1K_V1 meta
PUBLISHED = {
    "alexnet.yaml": (61_100_840, 714),        # alexnet.py AlexNet_Weights: 61100840, _ops 0.714
    "vgg16.yaml": (138_357_544, 15_470),      # vgg.py VGG16_Weights: 138357544, _ops 15.47
    "resnet18.yaml": (11_689_512, 1_814),     # resnet.py ResNet18_Weights: 11689512, _ops 1.814
    "resnet50.yaml": (25_557_032, 4_089),     # resnet.py ResNet50_Weights: 25557032, _ops 4.089
    "mobilenet_v2.yaml": (3_504_872, 301),    # mobilenetv2.py MobileNet_V2_Weights: 3504872, 0.301
    "googlenet_torchvision.yaml": (6_624_904, 1_498),  # googlenet.py GoogLeNet_Weights: 6624904, 1.498
    "squeezenet1_0.yaml": (1_248_424, 819),   # squeezenet.py SqueezeNet1_0_Weights: 1248424, 0.819
    "densenet121.yaml": (7_978_856, 2_834),   # densenet.py DenseNet121_Weights: 7978856, 2.834
    # mobilenetv3.py MobileNet_V3_Small_Weights / MobileNet_V3_Large_Weights IMAGENET1K_V1
    "mobilenet_v3_small.yaml": (2_542_856, 57),   # 2542856, _ops 0.057
    "mobilenet_v3_large.yaml": (5_483_032, 217),  # 5483032, _ops 0.217
    "shufflenet_v2_x1_0.yaml": (2_278_604, 145),  # shufflenetv2.py ShuffleNet_V2_X1_0_Weights: 2278604, 0.145
    "efficientnet_b0.yaml": (5_288_548, 386),
    "vit_b_16.yaml": (86_567_656, 17_564),  # vision_transformer.py ViT_B_16_Weights: 86567656, 17.564
    "convnext_tiny.yaml": (28_589_128, 4_456),  # convnext.py ConvNeXt_Tiny_Weights: 28589128, 4.456  # efficientnet.py EfficientNet_B0_Weights: 5288548, 0.386
    # inception.py Inception_V3_Weights: 27161264 params, _ops 5.713. The published count
    # includes the AuxLogits head, which the spec leaves out (it only runs in training):
    # conv0 768*128 + BN 2*128 + conv1 128*768*5*5 + BN 2*768 + fc 768*1000 + 1000
    # = 98,304 + 256 + 2,457,600 + 1,536 + 769,000 = 3,326,696
    "inception_v3.yaml": (27_161_264 - 3_326_696, 5_713),
}


def test_every_zoo_spec_has_published_figures():
    assert set(ZOO_SPECS) == set(PUBLISHED)


@pytest.mark.parametrize("spec", ZOO_SPECS)
def test_params_equal_torchvision_published(spec):
    assert costcalc.analyze(ZOO / spec).totals["params"] == PUBLISHED[spec][0]


@pytest.mark.parametrize("spec", ZOO_SPECS)
def test_macs_round_to_torchvision_published_ops(spec):
    macs = costcalc.analyze(ZOO / spec).totals["macs"]
    # _ops is GMACs to 3 decimals: the MACs rounded (half up) to the nearest million
    assert (macs + 500_000) // 1_000_000 == PUBLISHED[spec][1]


@pytest.mark.parametrize("spec", ZOO_SPECS)
def test_spec_states_torchvision_figures_as_claims(spec):
    from costcalc.expectations.claims import claim_outcomes

    out = {o.expectation.metric: o for o in claim_outcomes(costcalc.analyze(ZOO / spec))}
    assert set(out) == {"params", "macs"}
    assert out["macs"].verdict == "rounded" and out["macs"].passed
    if spec == "inception_v3.yaml":  # published with the AuxLogits head, which is left out
        assert out["params"].verdict == "mismatch" and out["params"].expectation.informational
    else:
        assert out["params"].verdict == "exact" and out["params"].computed == PUBLISHED[spec][0]


@pytest.mark.parametrize("spec", ZOO_SPECS)
def test_spec_is_short(spec):
    assert len((ZOO / spec).read_text().splitlines()) <= 150


@pytest.mark.parametrize("spec", ZOO_SPECS)
def test_spec_cites_its_torchvision_source(spec):
    head = (ZOO / spec).read_text().split("\nname:")[0]
    assert re.search(r"torchvision/models/\w+\.py", head)


def conv(h, w, cout, cin, kh, kw=None):
    """MACs of a conv: output H*W*Cout times Cin*kh*kw."""
    return h * w * cout * cin * kh * (kw or kh)


def test_alexnet_macs_by_hand():
    expected = (
        conv(55, 55, 64, 3, 11)      # (224 + 4 - 11) // 4 + 1 = 55: 70,276,800
        + conv(27, 27, 192, 64, 5)   # after 3x3/2 pool 55 -> 27: 223,948,800
        + conv(13, 13, 384, 192, 3)  # 27 -> 13: 112,140,288
        + conv(13, 13, 256, 384, 3)  # 149,520,384
        + conv(13, 13, 256, 256, 3)  # 99,680,256
        + 256 * 6 * 6 * 4096         # 37,748,736
        + 4096 * 4096                # 16,777,216
        + 4096 * 1000                # 4,096,000
    )
    assert expected == 714_188_480
    assert costcalc.analyze(ZOO / "alexnet.yaml").totals["macs"] == expected


def test_vgg16_macs_by_hand():
    # (size, [(cout, cin), ...]) per stage; every conv 3x3 pad 1 keeps the size
    stages = [(224, [(64, 3), (64, 64)]), (112, [(128, 64), (128, 128)]),
              (56, [(256, 128), (256, 256), (256, 256)]), (28, [(512, 256), (512, 512), (512, 512)]),
              (14, [(512, 512)] * 3)]
    convs = sum(conv(s, s, co, ci, 3) for s, layers in stages for co, ci in layers)
    fcs = 512 * 7 * 7 * 4096 + 4096 * 4096 + 4096 * 1000  # 102,760,448 + 16,777,216 + 4,096,000
    assert convs == 15_346_630_656
    assert convs + fcs == 15_470_264_320
    assert costcalc.analyze(ZOO / "vgg16.yaml").totals["macs"] == convs + fcs


def test_vgg16_params_by_hand():
    cfg = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    cins = [3] + cfg[:-1]
    convs = sum(ci * co * 9 + co for ci, co in zip(cins, cfg))  # 14,714,688
    fcs = (25088 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)  # 123,642,856
    assert convs + fcs == 138_357_544  # torchvision's published num_params


def test_resnet18_macs_by_hand():
    stem = conv(112, 112, 64, 3, 7)  # 118,013,952
    layer1 = 4 * conv(56, 56, 64, 64, 3)  # 4 * 115,605,504
    # layers 2-4: the size halves and the channels double, so each costs the same:
    # first 3x3 (stride 2) + three 3x3 + the 1x1/2 downsample
    layer2 = conv(28, 28, 128, 64, 3) + 3 * conv(28, 28, 128, 128, 3) + conv(28, 28, 128, 64, 1)
    layer3 = conv(14, 14, 256, 128, 3) + 3 * conv(14, 14, 256, 256, 3) + conv(14, 14, 256, 128, 1)
    layer4 = conv(7, 7, 512, 256, 3) + 3 * conv(7, 7, 512, 512, 3) + conv(7, 7, 512, 256, 1)
    assert layer2 == layer3 == layer4 == 411_041_792
    expected = stem + layer1 + layer2 + layer3 + layer4 + 512 * 1000
    assert expected == 1_814_073_344
    assert costcalc.analyze(ZOO / "resnet18.yaml").totals["macs"] == expected


def _instances(spec, block):
    return [p for p, inst in build_graph(ZOO / spec).instances.items() if inst.block == block]


def test_resnet_blocks_and_downsamples():
    assert len(_instances("resnet50.yaml", "bottleneck")) == 3 + 4 + 6 + 3
    # every stage's first bottleneck changes the channels (64 -> 256 in layer1 too)
    assert len(_instances("resnet50.yaml", "downsample")) == 4
    assert len(_instances("resnet18.yaml", "basic")) == 2 + 2 + 2 + 2
    # layer1 of ResNet-18 keeps 64 channels at stride 1: identity shortcut
    assert sorted(_instances("resnet18.yaml", "downsample")) == [
        "layer2/first/downsample", "layer3/first/downsample", "layer4/first/downsample"]
    r = costcalc.analyze(ZOO / "resnet18.yaml")
    assert r.layer("layer1/first/add").inputs == ["layer1/first/bn2", "maxpool"]


def test_mobilenet_v2_expansions_and_residuals():
    # inverted_residual_setting (t, c, n, s): 1+2+3+4+3+3+1 = 17 blocks
    assert len(_instances("mobilenet_v2.yaml", "inverted_residual")) == 17
    g = build_graph(ZOO / "mobilenet_v2.yaml")
    paths = [n.path for n in g.nodes]
    # only the t=1 block has no 1x1 expansion
    assert sum(p.endswith("/expand/conv") for p in paths) == 16
    # a residual add wherever stride 1 and in == out: all but each stage's first block,
    # (2-1) + (3-1) + (4-1) + (3-1) + (3-1) = 10
    assert sum(p.endswith("/add") for p in paths) == 10
    dw = {n.path: n for n in g.nodes}["stage2/first/depthwise/conv"]
    assert dw.args["groups"] == 96 and dw.args["stride"] == (2, 2)  # 16 * 6 channels, depthwise


def test_densenet121_channel_growth():
    r = costcalc.analyze(ZOO / "densenet121.yaml")
    assert r.layer("denseblock1/5/out").output == (64 + 6 * 32, 56, 56)
    assert r.layer("transition1/pool").output == (128, 28, 28)
    assert r.layer("denseblock4/15/out").output == (512 + 16 * 32, 7, 7)
    assert r.layer("classifier").macs == 1024 * 1000


def test_squeezenet1_0_sizes():
    r = costcalc.analyze(ZOO / "squeezenet1_0.yaml")
    assert r.layer("conv1").output == (96, 109, 109)  # (224 - 7) // 2 + 1
    assert r.layer("maxpool1").output == (96, 54, 54)  # ceil((109 - 3) / 2) + 1
    assert r.layer("fire9/out").output == (512, 13, 13)
    assert r.layer("conv10").macs == 13 * 13 * 1000 * 512  # 86,528,000


class TestGoogLeNetTorchvision:
    """torchvision's GoogLeNet differs from the paper in four ways (issue 8)."""

    spec = ZOO / "googlenet_torchvision.yaml"

    def test_every_conv_is_bias_free_and_followed_by_batchnorm_eps_0001(self):
        g = build_graph(self.spec)
        readers = {}
        for n in g.nodes:
            for i in n.inputs:
                readers.setdefault(i, []).append(n)
        convs = [n for n in g.nodes if n.kind.name == "conv"]
        assert len(convs) == 3 + 9 * 6  # stem convs + six per inception
        for c in convs:
            assert c.args["bias"] is False, c.path
            (bn,) = readers[c.path]
            assert bn.kind.name == "batchnorm" and bn.args["eps"] == 0.001, c.path
        assert not any(n.kind.name == "lrn" for n in g.nodes)

    def test_5x5_branch_is_3x3(self):
        r = costcalc.analyze(self.spec)
        assert r.graph.nodes[[n.path for n in r.graph.nodes].index("inception3a/branch3/conv")].args[
            "kernel"] == (3, 3)
        assert r.layer("inception3a/branch3/conv").macs == 28 * 28 * 32 * 16 * 3 * 3  # 3,612,672

    def test_pool_before_5a_is_2x2_stride_2(self):
        g = build_graph(self.spec)
        pool = {n.path: n for n in g.nodes}["maxpool4"]
        assert pool.args["kernel"] == (2, 2) and pool.args["stride"] == (2, 2) and pool.args["ceil"]
        assert g.shapes["maxpool4"] == (832, 7, 7)

    def test_dropout_is_0_2(self):
        g = build_graph(self.spec)
        assert [n.args["p"] for n in g.nodes if n.kind.name == "dropout"] == [0.2]


# -- costcalc verify: the PyTorch model built from each spec, layer by layer ------------------

@pytest.mark.parametrize("convention", ["macs", "flops", "fvcore"])
@pytest.mark.parametrize("spec", ZOO_SPECS)
def test_costcalc_verify_agrees_exactly(spec, convention):
    from costcalc.counting.results import analyze
    from costcalc.crosscheck import check_model

    graph, m = measured(ZOO / spec)  # shared with test_verify: each model is traced once
    c = check_model(analyze(graph, convention=convention), m)
    assert m.fvcore_total is not None, c.fvcore_note  # fvcore really ran
    assert [l.name for l in c.mismatches] == []  # shapes, params, FlopCounterMode, fvcore
    assert c.ok
    assert c.totals["torch"]["params"] == PUBLISHED[spec][0]  # the real model's numel
    assert c.totals["flopcounter"]["raw"] == 2 * c.totals["analytic"]["plain_macs"]


def test_mobilenet_v3_small_squeeze_excitation_by_hand():
    # bneck1 of MobileNetV3-Small on 16x112x112: depthwise 3x3 stride 2 → 16x56x56, then SE with
    # _make_divisible(16 // 4, 8) = 8 squeeze channels: fc1 16*8 + 8 = 136 params and 16*8 = 128
    # MACs on 1x1, fc2 8*16 + 16 = 144 params and 128 MACs; the mul scales 16*56*56 = 50,176
    # elements (one op each); the pool reads them all: 50,176 ops
    r = costcalc.analyze(ZOO / "mobilenet_v3_small.yaml")
    se = r.scope_totals()["bneck1/se"]
    assert se["params"] == 136 + 144 and se["macs"] == 128 + 128
    assert r.layer("bneck1/se/scale").elementops == 50_176
    assert r.layer("bneck1/se/scale").output == (16, 56, 56)
    assert r.layer("bneck1/se/avgpool").elementops == 50_176


def test_efficientnet_b0_mbconv_by_hand():
    # stage2/first: MBConv(t=6, k=3, s=2) from 16x112x112 to 24x56x56; expand 1x1 to 96:
    # 112*112*96*16 = 19,267,584 MACs; depthwise 3x3/2: 56*56*96*9 = 2,709,504; SE squeezes to
    # 16 // 4 = 4 (the block's input, not the expanded width): 96*4 + 4*96 = 768; project
    # 56*56*24*96 = 7,225,344 → 29,203,200 MACs
    r = costcalc.analyze(ZOO / "efficientnet_b0.yaml")
    assert r.scope_totals()["stage2/first"]["macs"] == 29_203_200
    # params: expand 96*16 + BN 2*96 = 1,728; depthwise 96*9 + 192 = 1,056; SE fc1 96*4 + 4 =
    # 388, fc2 4*96 + 96 = 480; project 24*96 + BN 48 = 2,352 → 6,004
    assert r.scope_totals()["stage2/first"]["params"] == 6_004


def test_shufflenet_v2_units_by_hand():
    # stage2/down: 24x56x56 → 116x28x28, branch features 116 // 2 = 58. branch1: depthwise
    # 3x3/2 784*24*9 = 169,344, 1x1 784*58*24 = 1,091,328; branch2: 1x1 at 56x56 3136*58*24 =
    # 4,365,312, depthwise 3x3/2 784*58*9 = 409,248, 1x1 784*58*58 = 2,637,376 → 8,672,608
    r = costcalc.analyze(ZOO / "shufflenet_v2_x1_0.yaml")
    assert r.scope_totals()["stage2/down"]["macs"] == 8_672_608
    # a stride-1 unit runs branch2 on half the channels: 784 * (58*58 + 58*9 + 58*58) = 784 * 7,250 = 5,684,000
    assert r.scope_totals()["stage2/basic/0"]["macs"] == 5_684_000
    assert r.layer("stage2/basic/0/shuffle").output == (116, 28, 28)


def test_convnext_tiny_block_by_hand():
    # stage1/0: CNBlock(96) on 56x56 (3136 positions). MACs: depthwise 7x7 3136*96*49 =
    # 14,751,744; Linear 96 -> 384 and 384 -> 96, 3136*384*96 = 115,605,504 each → 245,962,752
    r = costcalc.analyze(ZOO / "convnext_tiny.yaml")
    assert r.scope_totals()["stage1/0"]["macs"] == 245_962_752
    # params: depthwise 96*49 + 96 = 4,800; LayerNorm 96 + 96 = 192; Linears 96*384 + 384 =
    # 37,248 and 384*96 + 96 = 36,960; layer_scale 96 → 79,296
    assert r.scope_totals()["stage1/0"]["params"] == 79_296
    assert r.layer("stage1/0/layer_scale").params == 96
