"""The shipped module specs give exactly the figures from hand arithmetic (the seed's FIGURES)."""
import pytest

import costcalc
from conftest import SPECS

# (spec, MACs, params); every figure is hand arithmetic, shown in the comment
EXPECTED = [
    # 28*28*192*5*5*32 = 120,422,400; params 192*5*5*32 + 32 = 153,632
    ("conv5x5_naive.yaml", 120_422_400, 153_632),
    # 192*28*28*16 = 2,408,448 + 16*5*5*28*28*32 = 10,035,200 → 12,443,648;
    # params (192*16 + 16) + (16*25*32 + 32) = 3,088 + 12,832 = 15,920
    ("conv5x5_reduced.yaml", 12_443_648, 15_920),
    # 28*28*192*(64 + 9*128 + 25*32) = 784*192*2016 = 303,464,448
    # params 192*(64 + 9*128 + 25*32) + (64+128+32) = 387,072 + 224 = 387,296
    ("naive.yaml", 303_464_448, 387_296),
    # 784*(192*64 + 192*96 + 96*9*128 + 192*16 + 16*25*32 + 192*32) = 784*163,328 = 128,049,152
    # params 163,328 weights + (64+96+128+16+32+32 = 368) biases = 163,696
    ("reduced.yaml", 128_049_152, 163_696),
    # 7*7*1024*1024 = 51,380,224 MACs; + 1,024 biases = 51,381,248 params
    ("fc_head.yaml", 51_380_224, 51_381_248),
    # global average pooling has no weights and no MACs
    ("gap_head.yaml", 0, 0),
    # fvcore on the equivalent PyTorch model (seed FIGURES.md): 1,582,671,872 MACs, 6,998,552 params
    ("googlenet.yaml", 1_582_671_872, 6_998_552),
]


@pytest.mark.parametrize("spec,macs,params", EXPECTED, ids=[e[0] for e in EXPECTED])
def test_totals(spec, macs, params):
    r = costcalc.analyze(SPECS / spec)
    assert r.totals["macs"] == macs
    assert r.totals["params"] == params
    assert r.totals["flops"] == 2 * macs
    assert isinstance(r.totals["macs"], int)


def test_reduced_per_layer():
    r = costcalc.analyze(SPECS / "reduced.yaml")
    macs = {l.name.split("/")[-1]: l.macs for l in r.layers if l.kind == "conv"}
    assert macs == {
        "b1": 9_633_792,        # 784*192*64
        "b2_reduce": 14_450_688,  # 784*192*96
        "b2": 86_704_128,       # 784*96*9*128
        "b3_reduce": 2_408_448,  # 784*192*16
        "b3": 10_035_200,       # 784*16*25*32
        "b4": 4_816_896,        # 784*192*32
    }
    assert r.layers[-1].output == (256, 28, 28)  # 64+128+32+32
    assert r.totals["weights"] == 163_328 and r.totals["biases"] == 368


def test_gap_head_element_ops():
    r = costcalc.analyze(SPECS / "gap_head.yaml")
    assert r.totals["elementops"] == 50_176  # 1024*7*7 pooling adds, not MACs
    assert r.layers[-1].output == (1024,)


def test_googlenet_output_sizes():
    r = costcalc.analyze(SPECS / "googlenet.yaml")
    size = {l.name: l.output for l in r.layers}
    # Table 1's printed output sizes
    assert size["conv1"] == (64, 112, 112)
    assert size["pool1"] == (64, 56, 56)
    assert size["conv2/relu"] == (192, 56, 56)
    assert size["pool2"] == (192, 28, 28)
    assert size["inception_3a/out"] == (256, 28, 28)
    assert size["inception_3b/out"] == (480, 28, 28)
    assert size["pool3"] == (480, 14, 14)
    assert size["inception_4e/out"] == (832, 14, 14)
    assert size["pool4"] == (832, 7, 7)
    assert size["inception_5b/out"] == (1024, 7, 7)
    assert size["pool5"] == (1024, 1, 1)
    assert size["fc"] == (1000,)


def test_batch_scales_counts_not_params():
    r = costcalc.analyze(SPECS / "conv5x5_naive.yaml", batch=4)
    assert r.totals["macs"] == 4 * 120_422_400
    assert r.totals["params"] == 153_632
    assert r.totals["activations"] == 4 * 32 * 28 * 28


def test_fvcore_convention_adds_only_bn_and_adaptive_pool():
    r = costcalc.analyze(SPECS / "gap_head.yaml", convention="fvcore")
    assert r.totals["ops"] == 50_176  # adaptive_avg_pool2d: 1 per input element, 1024*49
    r = costcalc.analyze(SPECS / "googlenet.yaml", convention="flops")
    assert r.totals["ops"] == 2 * 1_582_671_872
