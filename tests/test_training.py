"""Training cost (issue 18): backward MACs split into grad-input and grad-weight, what autograd
saves, training memory, checkpointing and whole runs. Golden figures are FlopCounterMode on
models written by hand here, and hand arithmetic."""
import pytest
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from costcalc.counting.graph import build_graph
from costcalc.counting.training import megatron_flops, train_step, whole_run
from conftest import ROOT, SPECS

DATA = ROOT / "tests" / "data"


class Basic(nn.Module):
    """torchvision's BasicBlock, by hand."""

    def __init__(self, i, o, stride):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(i, o, 3, stride, 1, bias=False), nn.BatchNorm2d(o)
        self.c2, self.b2 = nn.Conv2d(o, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o)
        self.down = (nn.Sequential(nn.Conv2d(i, o, 1, stride, bias=False), nn.BatchNorm2d(o))
                     if stride != 1 or i != o else None)

    def forward(self, x):
        y = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
        return torch.relu(y + (x if self.down is None else self.down(x)))


def resnet18():
    layers, i = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                 nn.MaxPool2d(3, 2, 1)], 64
    for o, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [Basic(i, o, stride), Basic(o, o, 1)]
        i = o
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1000))


def vgg16():
    layers, i = [], 3
    for c, n in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(n):
            layers += [nn.Conv2d(i, c, 3, padding=1), nn.ReLU()]
            i = c
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(7), nn.Flatten(), nn.Linear(25088, 4096),
                         nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(),
                         nn.Linear(4096, 1000))


def flopcounter_train(make, shape):
    """FlopCounterMode's FLOPs of forward + loss.sum().backward() on the meta device."""
    with torch.device("meta"):
        model = make().train()
    counter = FlopCounterMode(display=False)
    with counter:
        model(torch.zeros(shape, device="meta")).sum().backward()
    return counter.get_total_flops()


@pytest.mark.parametrize("make,spec", [(resnet18, "zoo/resnet18.yaml"), (vgg16, "zoo/vgg16.yaml")])
def test_train_flops_match_flopcounter_on_hand_written_models(make, spec):
    # ResNet-18: 2 × (3 × 1,814,073,344 − 118,013,952 of conv1's grad-input) = 10,648,412,160
    # VGG-16: 2 × (3 × 15,470,264,320 − 86,704,128 of conv1_1's grad-input) = 92,648,177,664
    step = train_step(build_graph(SPECS / spec), batch=1)
    assert step.totals["train_flops"] == flopcounter_train(make, (1, 3, 224, 224))


def test_compare_train_puts_each_models_step_side_by_side():
    """`costcalc compare A B --train`: train FLOPs equal FlopCounterMode over forward + backward
    on the hand-written models above; training memory is weights, gradients and Adam's two
    moments (4 + 4 + 8 bytes per parameter, fp32) plus the saved activations."""
    import json

    from conftest import run_cli

    r = run_cli("compare", SPECS / "zoo/resnet18.yaml", SPECS / "zoo/vgg16.yaml", "--train", "-f", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    metric = {m["key"]: m for m in d["metrics"]}
    flops = metric["train_flops"]["values"]
    assert flops == [flopcounter_train(resnet18, (1, 3, 224, 224)), flopcounter_train(vgg16, (1, 3, 224, 224))]
    assert flops == [10_648_412_160, 92_648_177_664]  # the figures of the test above
    assert metric["train_flops"]["vs_first"][0]["text"] == "8.70× more (+770.1%)"  # 92,648,177,664 / 10,648,412,160
    saved = metric["saved_bytes"]["values"]
    # ResNet-18 11,689,512 params, VGG-16 138,357,544 (torchvision's published counts)
    assert metric["train_memory_bytes"]["values"] == [16 * 11_689_512 + saved[0], 16 * 138_357_544 + saved[1]]
    assert [m["training"]["optimizer"] for m in d["models"]] == ["adam", "adam"]
    text = run_cli("compare", SPECS / "zoo/resnet18.yaml", SPECS / "zoo/vgg16.yaml", "--train",
                   "--optimizer", "sgd").stdout
    # SGD keeps no state: 8 bytes per parameter; 8 * 11,689,512 = 93,516,096
    assert f"Training memory (bytes: weights, gradients, sgd state, saved activations; fp32): " \
           f"{93_516_096 + saved[0]:,} vs {8 * 138_357_544 + saved[1]:,}" in text
    assert "Train FLOPs (2 × (forward + backward MACs)): 10,648,412,160 vs 92,648,177,664" in text


def test_train_csv_has_a_line_per_layer_whose_columns_sum_to_the_total():
    import csv
    import io

    from conftest import run_cli

    r = run_cli("analyze", SPECS / "reduced.yaml", "--train", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    layers, total = rows[:-1], rows[-1]
    assert len(layers) == 14 and total["layer"] == "TOTAL"
    for m in ("forward_macs", "grad_input_macs", "grad_weight_macs", "backward_macs", "train_flops"):
        assert sum(int(l[m]) for l in layers) == int(total[m]), m
    b2 = next(l for l in layers if l["layer"] == "inception_3a/b2")
    # 3x3 conv 96 -> 128 on 28x28: 28*28*128*96*9 = 86,704,128 MACs forward, grad-input and
    # grad-weight each; train FLOPs 2 * 3 * 86,704,128 = 520,224,768
    assert (b2["grad_input"], b2["forward_macs"], b2["grad_input_macs"], b2["grad_weight_macs"],
            b2["train_flops"]) == ("1", "86704128", "86704128", "86704128", "520224768")
    b1 = next(l for l in layers if l["layer"] == "inception_3a/b1")  # reads the input: no grad-input
    assert (b1["grad_input"], b1["grad_input_macs"]) == ("0", "0")
    # 28*28*64*192 = 9,633,792 MACs. The step: forward 128,049,152 (the reduced module's MACs),
    # grad-weight as much again, grad-input only for the convs after a reduce, b2 86,704,128 and
    # b3 28*28*32*16*25 = 10,035,200: 2 * (2 * 128,049,152 + 96,739,328) = 705,675,264
    assert b1["forward_macs"] == "9633792" and total["train_flops"] == "705675264"


def test_first_layer_has_no_grad_input():
    # conv5x5: 28·28·32 outputs × 192·5·5 = 120,422,400 MACs, fed by the model input
    step = train_step(build_graph(SPECS / "conv5x5_naive.yaml"), batch=1)
    conv = step.layer("conv5x5")
    assert (conv.forward_macs, conv.grad_input_macs, conv.grad_weight_macs) == (120_422_400, 0, 120_422_400)
    assert conv.train_flops == 481_689_600  # 2 × (120,422,400 + 120,422,400)
    assert conv.saved_bytes == 602_112  # its input: 192·28·28 × 4 bytes


def test_second_layer_has_grad_input():
    step = train_step(build_graph(SPECS / "conv5x5_reduced.yaml"), batch=2)
    conv = step.layer("conv5x5")
    # 2 × 28·28·32 × 16·5·5 = 20,070,400 MACs each way
    assert (conv.grad_input_macs, conv.grad_weight_macs) == (20_070_400, 20_070_400)
    assert step.layer("reduce1x1").grad_input_macs == 0


def test_frozen_layers_have_no_grad_weight_and_no_optimizer_state():
    step = train_step(build_graph(SPECS / "conv5x5_reduced.yaml"), batch=1, frozen=["reduce1x1"],
                      optimizer="adam")
    reduce = step.layer("reduce1x1")
    assert reduce.backward_macs == 0  # frozen, fed by the input: no gradient at all
    # so nothing before conv5x5 needs a gradient: its grad-weight only, 28·28·32 × 16·5·5
    assert (step.layer("conv5x5").grad_input_macs, step.layer("conv5x5").grad_weight_macs) == (0, 10_035_200)
    # conv5x5 still trains: 32·16·5·5 + 32 = 12,832 params, Adam 2 × 4 bytes each
    assert step.memory["optimizer_bytes"] == 8 * 12_832
    assert step.layer("reduce1x1").saved_bytes == 0  # its output needs no gradient


def test_memory_per_optimizer_and_precision():
    # ZeRO (Rajbhandari et al. 2020, §3.1): mixed-precision Adam holds 16 bytes per parameter
    # (2 fp16 weights + 2 fp16 gradients + 12 fp32 master weights, momentum and variance).
    # conv5x5_naive has 153,632 params.
    g = build_graph(SPECS / "conv5x5_naive.yaml")
    mem = lambda o, p: train_step(g, batch=1, optimizer=o, precision=p).memory  # noqa: E731
    m = mem("adam", "mixed")
    assert (m["weights_bytes"] + m["master_weights_bytes"] + m["gradient_bytes"]
            + m["optimizer_bytes"]) == 16 * 153_632
    assert mem("sgd", "fp32")["optimizer_bytes"] == 0
    assert mem("momentum", "fp32")["optimizer_bytes"] == 4 * 153_632
    assert mem("adamw", "fp32")["optimizer_bytes"] == 8 * 153_632
    # the conv keeps its input, 192·28·28 elements: 4 bytes each in fp32, 2 in mixed precision
    assert (mem("sgd", "fp32")["saved_activation_bytes"], m["saved_activation_bytes"]) == (602_112, 301_056)


def test_saved_tensors_dedupe_views_and_shared_inputs():
    # relu saves its output; the max pool after it saves the same tensor (held once) and its
    # int64 indices; flatten is a view
    g = build_graph({"name": "t", "input": [2, 4, 4], "layers": [
        {"conv": {"out": 3, "kernel": 1}}, {"relu": None}, {"maxpool": {"kernel": 2}},
        {"flatten": None}, {"linear": {"out": 5}}]})
    step = train_step(g, batch=1)
    # input 2·4·4·4 = 128 (conv); relu out 3·4·4·4 = 192 (relu, pool); indices 3·2·2·8 = 96;
    # pool out 3·2·2·4 = 48 (linear, through the flatten view)
    assert [l.saved_bytes for l in step.layers] == [128, 192, 192 + 96, 0, 48]
    assert step.totals["saved_bytes"] == 128 + 192 + 96 + 48


def test_checkpointing_drops_inner_tensors_and_recomputes_the_forward():
    g = build_graph(SPECS / "reduced.yaml")
    plain = train_step(g, batch=1)
    ck = train_step(g, batch=1, checkpoint=["inception_3a"])
    assert ck.checkpoint.recompute_macs == 128_049_152  # the whole module's forward MACs
    assert ck.totals["train_flops"] == plain.totals["train_flops"] + 2 * 128_049_152
    assert ck.checkpoint.stored_bytes == 192 * 28 * 28 * 4  # only the segment's input: 602,112
    assert ck.checkpoint.peak_bytes == 602_112 + plain.totals["saved_bytes"]


def test_whole_run_beside_6nd():
    step = train_step(build_graph(SPECS / "zoo/resnet18.yaml"), batch=1)
    run = whole_run(step, None, samples=1_281_167, epochs=90)
    assert run["flops"] == 10_648_412_160 * 1_281_167 * 90
    assert run["rule_6nd_flops"] == 6 * 11_689_512 * 1_281_167 * 90


def test_megatron_gpt3_example():
    # Narayanan et al. 2021 (Megatron-LM), §5.1: GPT-3 175B (l = 96, h = 12288, V = 51200,
    # s = 2048; Table 1: 174.6B parameters) on T = 300B tokens with n = 1,024 A100s at
    # X = 140 teraFLOP/s each takes "34 days" by their estimate 8TP/(nX)
    step = train_step(build_graph(SPECS / "llm/gpt3_175b.yaml"), batch=1, checkpoint=["h/*"])
    # one sequence, every layer recomputed: exactly their 96·B·s·l·h²·(1 + s/6h + V/16lh)
    assert step.totals["train_flops"] == megatron_flops(1, 2048, 96, 12288, 51200)
    run = whole_run(step, 2048, tokens=300 * 10**9, throughput=140, devices=1024)
    assert run["flops"] == megatron_flops(300 * 10**9 // 2048, 2048, 96, 12288, 51200)
    assert round(run["rule_8nd_days"]) == 34  # the paper's 34 days, from P = 174.6B
    assert 34.7 < run["days"] < 34.8  # the exact count: 430,199,694,950,400,000,000,000 FLOPs


# -- verify --train: the real model's forward + backward on meta ------------------------------

from costcalc import analyze  # noqa: E402
from costcalc.counting import backward  # noqa: E402
from costcalc.crosscheck import verify_train  # noqa: E402
from costcalc.crosscheck.backward_tools import measure_step  # noqa: E402
from costcalc.crosscheck.train_agreement import check_step  # noqa: E402
from costcalc.spec.schema import spec_files  # noqa: E402

SHIPPED = spec_files(SPECS)


@pytest.mark.parametrize("spec", SHIPPED + [DATA / "every_kind.yaml"],
                         ids=[str(p.relative_to(ROOT)) for p in SHIPPED + [DATA / "every_kind.yaml"]])
def test_verify_train_is_green(spec):
    [c] = verify_train([str(spec)])
    assert c.mismatches == [] and c.ok
    assert c.totals["flopcounter"] == c.totals["predicted_flopcounter"]
    assert c.totals["saved_bytes"] == c.totals["real_saved_bytes"]


def test_depthwise_overcount_is_predicted_exactly():
    # the example: a depthwise 3×3 on 32×112×112, fed by a layer with weights so that
    # its input needs a gradient. Forward 32·112·112·9 = 3,612,672 MACs = 7,225,344 FLOPs.
    with torch.device("meta"):
        model = nn.Sequential(nn.Conv2d(32, 32, 1), nn.Conv2d(32, 32, 3, padding=1, groups=32))
    x = torch.zeros(1, 32, 112, 112, device="meta")
    counter = FlopCounterMode(display=False)
    with counter:
        model[0](x).detach().requires_grad_()  # the 1×1 alone, to take it out below
    one_by_one = counter.get_total_flops()
    counter = FlopCounterMode(display=False)
    with counter:
        model(x).sum().backward()
    # the 1×1 (fed by the input): forward + grad-weight = 2 × its forward
    depthwise = counter.get_total_flops() - 2 * one_by_one
    assert depthwise == 34 * 7_225_344  # forward + grad-input + 32 × grad-weight
    g = build_graph({"name": "dw", "input": [32, 112, 112], "layers": [
        {"conv": {"out": 32, "kernel": 1}},
        {"name": "dw", "conv": {"out": 32, "kernel": 3, "pad": 1, "groups": 32}}]})
    [c] = [check_step(r, measure_step(r.graph, 1)) for r in [analyze(g, train=True)]]
    dw = next(l for l in c.layers if l.name == "dw")
    assert (dw.train_flops, dw.predicted, dw.flopcounter) == (3 * 7_225_344, depthwise, depthwise)
    assert dw.tool_error and dw.match and "32×" in dw.notes[0]


def test_a_wrong_saved_rule_is_a_mismatch(monkeypatch):
    monkeypatch.setitem(backward.SAVED, "maxpool", lambda a, inputs, o, n: (backward.inp(0),))
    [c] = verify_train([str(DATA / "every_kind.yaml")])
    assert [l.name for l in c.mismatches] == ["mp"] and not c.ok
    assert "!= autograd's" in c.mismatches[0].notes[0]


def test_cli_train(cli):
    r = cli("analyze", SPECS / "zoo/resnet18.yaml", "--train", "--optimizer", "sgd")
    assert r.returncode == 0, r.stderr
    assert "Train FLOPs (2 × (forward + backward MACs)): 10,648,412,160 (10.6G) FLOPs per step" in r.stdout
    assert "No grad-input (no input needs a gradient) for conv1\n" in r.stdout
    import json

    r = cli("analyze", SPECS / "conv5x5_naive.yaml", "--train", "--format", "json")
    t = json.loads(r.stdout)["training"]
    assert t["totals"]["train_flops"] == 481_689_600 and t["layers"][0]["grad_input_macs"] == 0
    r = cli("verify", SPECS / "zoo/mobilenet_v2.yaml", "--train")
    assert r.returncode == 0 and "known overcount" in r.stdout
    r = cli("analyze", SPECS / "naive.yaml", "--train", "--tokens", "1000")
    assert r.returncode == 2 and "--tokens needs a sequence model" in r.stderr
    r = cli("analyze", SPECS / "naive.yaml", "--train", "--samples", "10", "--mfu", "1.5")
    assert r.returncode == 2 and "--mfu must be above 0 and at most 1" in r.stderr
    r = cli("analyze", SPECS / "naive.yaml", "--train", "--checkpoint", "nope*")
    assert r.returncode == 2 and r.stderr.startswith("costcalc: error: ") and "nope*" in r.stderr


# -- GoogLeNet's training graph: several outputs --------------------------------------------

def test_googlenet_training_graph():
    train, infer = analyze(str(SPECS / "googlenet_train.yaml"), train=True), analyze(str(SPECS / "googlenet.yaml"))
    scopes = train.scope_totals()
    # (4a): 512·128+128 + 2048·1024+1024 + 1024·1000+1000 = 3,188,840 params,
    #       4·4·512·128 + 2048·1024 + 1024·1000 = 4,169,728 MACs; (4d) reads 528 channels
    assert (scopes["aux1"]["params"], scopes["aux1"]["macs"]) == (3_188_840, 4_169_728)
    assert (scopes["aux2"]["params"], scopes["aux2"]["macs"]) == (3_190_888, 4_202_496)
    assert train.totals["params"] == 13_378_280 == infer.totals["params"] + 3_188_840 + 3_190_888
    assert train.graph.outputs == ["softmax", "aux1/fc2", "aux2/fc2"] and not train.warnings
    # every conv and linear but conv1 (fed by the image) has a grad-input:
    # 2 × (3 × 1,591,044,096 − 118,013,952) = 9,310,236,672
    assert train.training.totals["train_flops"] == 9_310_236_672
    # the inference graph, read from the same spec: what reaches the softmax
    inference = train.training.inference
    assert (inference["params"], inference["forward_macs"]) == (6_998_552, 1_582_671_872)
    assert inference["forward_macs"] == infer.totals["macs"]


def test_outputs_must_name_top_level_layers(cli, write_spec):
    p = write_spec("input: [3, 8, 8]\nlayers:\n  - {name: a, conv: {out: 4, kernel: 1}}\n"
                   "  - {name: b, relu: }\noutputs: [b, nope]\n")
    r = cli("analyze", p)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert f"{p}:5:" in r.stderr and "'outputs' names 'nope'" in r.stderr


def test_a_model_with_several_outputs_returns_them_all():
    from costcalc.crosscheck.model import build_model

    g = build_graph({"name": "two", "input": [4], "outputs": ["a", "b"], "layers": [
        {"name": "a", "linear": {"out": 3}}, {"name": "b", "linear": {"out": 2}, "from": "input"}]})
    out = build_model(g, "meta")(torch.zeros(1, 4, device="meta"))
    assert [tuple(o.shape) for o in out] == [(1, 3), (1, 2)] and not g.warnings


# -- transformers: the FlopCounterMode anchors, on the hand-written models ---------------

from models import transformers as hand  # noqa: E402

#: spec → (hand-written model, its input (no batch), dtype, the issue's anchor or None)
TRANSFORMERS = {
    "llm/gpt2.yaml": (hand.GPT2LMHead, (1024,), torch.long, 874_944_921_600),
    "zoo/vit_b_16.yaml": (hand.ViTB16, (3, 224, 224), torch.float32, 105_151_758_336),
    "llm/bert_base.yaml": (hand.BertWithPooler, (512,), torch.long, None),
    "llm/llama2_7b.yaml": (hand.llama2_7b, (4096,), torch.long, None),
    "llm/llama3_8b.yaml": (hand.llama3_8b, (8192,), torch.long, None),
}


@pytest.mark.parametrize("spec", TRANSFORMERS)
def test_transformer_train_flops_match_flopcounter_on_hand_written_models(spec):
    make, shape, dtype, anchor = TRANSFORMERS[spec]
    with torch.device("meta"):
        model = make().train()
        x = torch.zeros((1,) + shape, dtype=dtype)
    counter = FlopCounterMode(display=False)
    with counter:
        model(x).sum().backward()
    step = train_step(build_graph(SPECS / spec), batch=1)
    assert step.totals["train_flops"] == counter.get_total_flops()
    if anchor is not None:
        assert step.totals["train_flops"] == anchor


def test_gpt2_and_vit_backward_by_hand():
    # GPT-2: every product has a grad-input (the embeddings' weights are trained, so even the
    # first block's input needs a gradient). Forward 145,824,153,600 MACs, of which attention's
    # 12 × 1,610,612,736 = 19,327,352,832 have no weights but two inputs: grad-input
    # 145,824,153,600 + 19,327,352,832 = 165,151,506,432, grad-weight 145,824,153,600 −
    # 19,327,352,832 = 126,496,800,768; 2 × 3 × 145,824,153,600 = 874,944,921,600 FLOPs
    gpt2 = train_step(build_graph(SPECS / "llm/gpt2.yaml"), batch=1)
    assert gpt2.totals["forward_macs"] == 145_824_153_600
    assert (gpt2.totals["grad_input_macs"], gpt2.totals["grad_weight_macs"]) == (
        165_151_506_432, 126_496_800_768)
    # the tied lm_head (1024·768·50257 = 39,523,713,024 MACs) still has its weight gradient
    assert gpt2.layer("lm_head").grad_weight_macs == 39_523_713_024
    # attention: 4 products of 12·1024·1024·64 = 805,306,368 MACs back, none of them weights'
    sdpa = gpt2.layer("h/0/attn/sdpa")
    assert (sdpa.grad_input_macs, sdpa.grad_weight_macs) == (4 * 805_306_368, 0)
    assert gpt2.layer("wte").backward_macs == 0  # an index-add, no MACs
    # ViT-B/16: conv_proj reads the image: no grad-input for its 196·768·768 = 115,605,504 MACs
    vit = train_step(build_graph(SPECS / "zoo/vit_b_16.yaml"), batch=1)
    assert vit.layer("conv_proj").grad_input_macs == 0
    assert vit.totals["train_flops"] == 2 * (3 * 17_563_828_224 - 115_605_504)


def test_every_kind_has_training_rules_and_a_missing_one_is_an_error(monkeypatch, cli):
    from costcalc import ops
    from costcalc.errors import CostcalcError

    backward.check_rules(ops.known())  # none missing
    monkeypatch.delitem(backward.SAVED, "relu")
    with pytest.raises(CostcalcError, match="no training rule for layer kind.*relu"):
        train_step(build_graph(SPECS / "reduced.yaml"), batch=1)


class Checkpointed(nn.Module):
    """A module run under torch.utils.checkpoint: its forward runs again in the backward pass."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        from torch.utils.checkpoint import checkpoint

        return checkpoint(self.inner, x, use_reentrant=False)


def test_checkpoint_recompute_matches_flopcounter_on_a_hand_written_resnet18():
    # every BasicBlock checkpointed: FlopCounterMode counts each block's forward twice
    def make():
        model = resnet18()
        return nn.Sequential(*[Checkpointed(m) if isinstance(m, Basic) else m for m in model])

    step = train_step(build_graph(SPECS / "zoo/resnet18.yaml"), batch=1, checkpoint=["layer*/*"])
    assert len(step.checkpoint.segments) == 8  # layer1/first, layer1/rest ... layer4/rest
    # recompute: every conv but conv1 (118,013,952) and the fc (512,000) again
    assert step.checkpoint.recompute_macs == 1_814_073_344 - 118_013_952 - 512_000
    assert step.totals["train_flops"] == flopcounter_train(make, (1, 3, 224, 224))


FROZEN = """\
name: fz
input: [3, 32, 32]
frozen: [c1, 'blk/*']
blocks:
  b:
    layers:
      - {name: c, conv: {out: 8, kernel: 3, pad: 1}}
      - {name: bn, batchnorm: }
      - {name: r, relu: }
layers:
  - {name: c1, conv: {out: 8, kernel: 3, pad: 1}}
  - {name: blk, block: b}
  - {name: c2, conv: {out: 8, kernel: 3, pad: 1}}
  - {name: r2, relu: }
  - flatten
  - {name: fc, linear: {out: 10}}
"""


def test_spec_frozen_layers_are_checked_against_torch(write_spec):
    p = write_spec(FROZEN)
    [c] = verify_train([str(p)])  # the frozen modules' parameters get requires_grad False
    assert c.ok
    step = c.result.training
    # c2 (8·32·32 × 8·3·3 = 589,824 MACs) is the first trained layer: grad-weight only
    assert (step.layer("c2").grad_input_macs, step.layer("c2").grad_weight_macs) == (0, 589_824)
    assert step.layer("blk/c").backward_macs == 0 and step.layer("blk/bn").saved_bytes == 0
    # trainable: c2 8·8·9 + 8 = 584, fc 8·32·32·10 + 10 = 81,930; Adam: 8 bytes each
    assert step.totals["trainable_params"] == 584 + 81_930
    assert step.memory["optimizer_bytes"] == 8 * (584 + 81_930)


def test_frozen_must_name_layers(write_spec, cli):
    p = write_spec(FROZEN.replace("[c1, 'blk/*']", "[c1, nope]"))
    r = cli("analyze", p, "--train")
    assert r.returncode == 2 and f"{p}:3:" in r.stderr and "'frozen' names 'nope'" in r.stderr
