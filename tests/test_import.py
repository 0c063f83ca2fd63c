"""`costcalc import`: a PyTorch model traced (torch.fx, meta device) into a spec.

Oracles: every shipped spec's own torch model (built by costcalc.crosscheck) imports back to a
spec with the same figures, layer by layer; models written by hand here (tests/models/), never
built by costcalc, import to specs whose params are their own numel sum and whose FLOPs are
FlopCounterMode's total on the meta device.
"""
import sys

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import costcalc
from conftest import ROOT, SPECS, run_cli
from costcalc.counting.graph import build_graph
from costcalc.crosscheck.model import build_model
from costcalc.errors import CostcalcError
from costcalc.importing import import_model, spec_of_model
from costcalc.spec.schema import parse_spec_text, spec_files

sys.path.insert(0, str(ROOT / "tests" / "models"))
import cnn  # noqa: E402

SHIPPED = spec_files(SPECS)
FIGURES = ("params", "weights", "biases", "macs", "elementops", "activations")
MODELS = "tests/models/cnn.py"


def analysed(text):
    return costcalc.analyze(parse_spec_text(text))


def torch_figures(model, shape, dtype=torch.float32):
    """(sum of numel, FlopCounterMode's total) of a model on meta, at batch 1."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros((1,) + shape, dtype=dtype, device="meta"))
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops()


def imported(target, factory, shape, dtype=torch.float32):
    """(spec, its analysis, the hand model's numel, its FlopCounterMode total) of a target."""
    text_shape = ",".join(map(str, shape)) + ("" if dtype is torch.float32 else ":int64")
    spec, text = import_model(target, text_shape)
    with torch.device("meta"):
        numel, flops = torch_figures(factory().eval(), shape, dtype)
    return spec, analysed(text), numel, flops


@pytest.mark.parametrize("spec", SHIPPED, ids=[str(p.relative_to(SPECS)) for p in SHIPPED])
def test_round_trip_of_every_shipped_spec(spec):
    graph = build_graph(spec)
    model = build_model(graph, device="meta")
    _, text = spec_of_model(model, tuple(graph.spec.input), name=graph.name, source=str(spec))
    before, after = costcalc.analyze(spec), analysed(text)
    # names differ (scoped by module path); the figures, layer by layer in order, do not
    assert [[l.get(f) for f in FIGURES] for l in after.layers] == \
           [[l.get(f) for f in FIGURES] for l in before.layers]
    assert [l.kind for l in after.layers] == [l.kind for l in before.layers]
    assert after.totals == before.totals


# ResNet-34 (He et al. 2015; torchvision's ResNet34_Weights.IMAGENET1K_V1: num_params
# 21,797,672, _ops 3.664 GMACs). Its stem conv 64*112*112 * 3*49 = 118,013,952 MACs, and
# FlopCounterMode counts 2 per multiply-accumulate.
def test_resnet34_imports_to_its_numel_and_flopcounter():
    spec, r, numel, flops = imported(f"{MODELS}:ResNet34", cnn.ResNet34, (3, 224, 224))
    text = import_model(f"{MODELS}:ResNet34", "3,224,224")[1]
    assert r.totals["params"] == numel == 21_797_672
    assert r.totals["flops"] == flops == 7_327_522_816  # 2 * 3,663,761,408 MACs
    assert r.layer("conv1").macs == 118_013_952
    # readable: one BasicBlock with the width as its parameter, used 13 times (the three other
    # blocks, which stride and project, are BasicBlock_2), folded with repeat where they chain
    blocks = spec["blocks"]
    assert blocks["BasicBlock"]["params"] == ["conv1_out"]
    assert blocks["layer3"]["layers"][1] == {"name": "1-5", "block": "BasicBlock",
                                             "args": {"conv1_out": 256}, "repeat": 5}
    assert [e["name"] for e in spec["layers"]] == ["conv1", "bn1", "relu", "maxpool", "layer1",
                                                   "layer2", "layer3", "layer4", "avgpool",
                                                   "flatten", "fc"]
    assert r.layer("layer3/1-5/4/conv2").macs == 14 * 14 * 256 * 256 * 9  # 115,605,504
    assert len(text.splitlines()) < 60  # not 180 flat lines


# MobileNetV1 (Howard et al. 2017, Table 1 and §4: 569 million mult-adds, 4.2 million params)
def test_mobilenet_v1_imports_to_its_numel_and_flopcounter():
    spec, r, numel, flops = imported(f"{MODELS}:MobileNetV1", cnn.MobileNetV1, (3, 224, 224))
    assert r.totals["params"] == numel == 4_231_976
    assert r.totals["flops"] == flops == 1_137_480_704  # 2 * 568,740,352 MACs
    # x.mean((2, 3)) is a global average pool and a flatten
    assert [l.kind for l in r.layers[-3:]] == ["global_avgpool", "flatten", "linear"]
    # the 13 depthwise-separable blocks are one block with three parameters; 7-11 repeat
    feats = spec["blocks"]["features"]["layers"]
    assert {e["block"] for e in feats[1:]} == {"Sequential_2"}
    assert spec["blocks"]["Sequential_2"]["params"] == ["conv0_out", "conv0_stride", "conv3_out"]
    assert feats[7] == {"name": "7-11", "block": "Sequential_2", "repeat": 5,
                        "args": {"conv0_out": 512, "conv0_stride": 1, "conv3_out": 512}}


def test_a_70b_model_imports_on_meta():
    # 4 * (131,072^2 weights + 131,072 biases) = 4 * 17,180,000,256 = 68,720,001,024
    spec, text = import_model("tests/models/odd.py:huge", "131072")
    assert analysed(text).totals["params"] == 68_720_001_024


def test_an_op_without_a_kind_is_one_error_listing_each(tmp_path):
    r = run_cli("import", "tests/models/odd.py:Wavy", "--input", "3,8,8", "-o", tmp_path / "w.yaml")
    assert r.returncode == 2 and r.stdout == "" and not (tmp_path / "w.yaml").exists()
    assert r.stderr == ("costcalc: error: tests/models/odd.py:Wavy: 3 ops with no layer kind: "
                        "torch.sin (2× at 'act.0' 1×, 'act.1' 1×); torch.nn.Softplus (1× at 'soft'); "
                        "--allow-unknown records them as zero-cost 'opaque' layers\n")
    r = run_cli("analyze", "tests/models/odd.py:Sines", "--input", "3,8,8")
    assert r.returncode == 2 and "2 ops with no layer kind: torch.sin (2× at '(top level)')" in r.stderr


def test_allow_unknown_records_named_placeholders():
    spec, text = import_model("tests/models/odd.py:Sines", "3,8,8", allow_unknown=True)
    r = analysed(text)
    assert [l.kind for l in r.layers] == ["conv", "opaque", "opaque", "flatten", "linear"]
    # conv 8*6*6 * 3*9 = 7,776 and fc 288*10 = 2,880 MACs; the sines count 0
    assert r.totals["macs"] == 10_656
    assert any("placeholder" in w and "torch.sin" in w for w in r.warnings)
    out = run_cli("analyze", "tests/models/odd.py:Sines", "--input", "3,8,8", "--allow-unknown")
    assert out.returncode == 0
    assert ("2 placeholder layers for ops with no kind, counted as 0: 'sin' (torch.sin), "
            "'sin_2' (torch.sin)") in out.stderr


def test_import_writes_a_spec_that_analyses_as_the_trace(tmp_path):
    out = tmp_path / "resnet34.yaml"
    r = run_cli("import", f"{MODELS}:ResNet34", "--input", "3,224,224", "-o", out)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"wrote {out}")
    direct = run_cli("analyze", f"{MODELS}:ResNet34", "--input", "3,224,224", "-f", "json")
    written = run_cli("analyze", out, "-f", "json")
    assert direct.returncode == written.returncode == 0
    import json
    a, b = json.loads(direct.stdout), json.loads(written.stdout)
    assert a["totals"] == b["totals"] and a["totals"]["params"] == 21_797_672
    assert not list(tmp_path.glob(".*.tmp"))  # written via write-then-rename


@pytest.mark.parametrize("args, message", [
    (["import", f"{MODELS}:ResNet34"], "Missing option '--input'"),
    (["import", f"{MODELS}:Nope", "--input", "3,8,8"], "has no class or function 'Nope'"),
    (["import", "tests/models/none.py:Net", "--input", "3,8,8"], "none.py: no such file"),
    (["import", f"{MODELS}:ResNet34", "--input", "3,x"], "expected 1 to 8 positive sizes"),
    (["import", f"{MODELS}:ResNet34", "--input", "3,8,8:int4"], "the dtype must be one of"),
    (["import", f"{MODELS}:conv_bn", "--input", "3,8,8"], "conv_bn() failed on the meta device"),
    (["analyze", f"{MODELS}:ResNet34"], "a model target needs --input SHAPE"),
    (["analyze", "specs/reduced.yaml", "--input", "3,8,8"], "--input is for a model target"),
    (["import", f"{MODELS}:ResNet34", "--input", "3,224"], "fails on an input of shape [3, 224]"),
])
def test_bad_import_input_is_one_line_exit_2(args, message):
    r = run_cli(*args)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.startswith("costcalc: error:") and r.stderr.count("\n") == 1


def test_a_mapping_is_registered_once():
    from costcalc.importing.trace import mapping

    MAPPINGS = mapping.MAPPINGS

    with pytest.raises(ValueError, match="registered twice"):
        MAPPINGS.add(torch.nn.Conv2d, object())


def test_an_untraceable_model_is_an_error():
    class Branchy(torch.nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    with pytest.raises(CostcalcError, match="torch.fx cannot trace"):
        spec_of_model(Branchy(), (4,), name="b", source="Branchy")


# GPT-2 small (tests/models/gpt2.py, after Hugging Face's GPT2LMHeadModel with SDPA): the
# published 124,439,808 params (openai-community/gpt2, lm_head tied to wte). At T = 1024,
# FlopCounterMode: 12 layers * 1024 tokens * (768*2304 + 768*768 + 2*768*3072) = 86,973,087,744
# linear MACs, lm_head 1024*768*50257 = 39,523,713,024, attention 12 * 2*12*1024*1024*64 =
# 19,327,352,832: 145,824,153,600 MACs = 291,648,307,200 FLOPs
def test_gpt2_small_imports_to_its_numel_and_flopcounter():
    import gpt2

    spec, r, numel, flops = imported("tests/models/gpt2.py:GPT2", gpt2.GPT2, (1024,), torch.int64)
    assert r.totals["params"] == numel == 124_439_808
    assert r.totals["flops"] == flops == 291_648_307_200
    assert spec["input"] == {"T": 1024}
    assert spec["layers"][-1] == {"name": "lm_head", "linear": {"out": 50257, "bias": False, "tie": "wte"}}
    assert spec["layers"][1]["embedding"] == {"vocab": 1024, "dim": 768, "lookup": "positions"}
    assert spec["blocks"]["h"]["layers"] == [{"name": "0-11", "block": "Block", "repeat": 12}]
    assert [l.kind for l in r.layers if l.name.startswith("h/0-11/0/attn/")].count("attention") == 1
    assert r.layer("h/0-11/3/attn/scaled_dot_product_attention").macs == 2 * 12 * 1024 * 1024 * 64


# BERT-base as the transformers tests write it by hand (tests/models/transformers.py): eager
# attention (matmul, / math.sqrt(64), softmax, matmul), token types from zeros_like, the pooler
# on x[:, 0]; 109,482,240 params (google-bert/bert-base-uncased with its pooler)
def test_bert_base_imports_to_its_numel_and_flopcounter():
    import transformers as hand

    _, r, numel, flops = imported("tests/models/transformers.py:BertWithPooler", hand.BertWithPooler,
                                  (512,), torch.int64)
    assert r.totals["params"] == numel == 109_482_240
    # 12 layers * 512 tokens * (4*768*768 + 2*768*3072) + pooler 768*768 on one token
    # + attention 12 * 2*12*512*512*64 = 43,486,543,872 + 589,824 + 4,831,838,208
    # = 48,318,971,904 MACs
    assert r.totals["flops"] == flops == 2 * 48_318_971_904
    assert {l.kind for l in r.layers} >= {"embedding", "matmul", "scale", "softmax", "split", "reshape"}


def test_shared_weights_are_refused():
    class Twice(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(4, 4, 3, padding=1)

        def forward(self, x):
            return self.conv(self.conv(x))

    with pytest.raises(CostcalcError, match=r"torch.nn.Conv2d \(1× at 'conv': called again: its "
                                            "weights are shared"):
        spec_of_model(Twice(), (4, 8, 8), name="t", source="Twice")


# ViT-B/16 as the transformers tests write it by hand (tests/models/transformers.py):
# nn.MultiheadAttention, a class token and position embedding read as parameters in forward;
# torchvision's ViT_B_16_Weights.IMAGENET1K_V1: 86,567,656 params. MACs: conv_proj
# 196*768*768 = 115,605,504; 12 layers * 197 tokens * (4*768*768 + 2*768*3072) =
# 16,732,127,232; attention 12 * 2*12*197*197*64 = 715,327,488; head 768*1000 = 768,000
# → 17,563,828,224
def test_vit_b16_imports_to_its_numel_and_flopcounter():
    import transformers as hand

    spec, r, numel, flops = imported("tests/models/transformers.py:ViTB16", hand.ViTB16, (3, 224, 224))
    assert r.totals["params"] == numel == 86_567_656
    assert r.totals["flops"] == flops
    assert r.totals["macs"] == 17_563_828_224
    assert [e["name"] for e in spec["layers"][3:6]] == ["class_token", "cat", "pos_embedding"]


def test_a_package_module_target():
    # torch.nn.Hardswish's forward is F.hardswish: one layer, 8 element ops on 8 features
    r = run_cli("analyze", "torch.nn:Hardswish", "--input", "8", "-f", "json")
    assert r.returncode == 0, r.stderr
    import json
    layers = json.loads(r.stdout)["layers"]
    assert [(l["kind"], l["elementops"]) for l in layers] == [("hardswish", 8)]
    r = run_cli("import", "nosuch.mod:Net", "--input", "8")
    assert r.returncode == 2 and "cannot import module 'nosuch.mod'" in r.stderr
