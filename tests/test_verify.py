"""`costcalc verify`: every shipped spec agrees exactly with fvcore and FlopCounterMode, layer by
layer, under every convention; a wrong formula is caught and named; big models stay on meta."""
import json
import subprocess
import sys

import pytest

import torch  # noqa: E402,F401  (required by the test extra: a missing torch fails, never skips)
import fvcore  # noqa: E402,F401

from costcalc import cli, ops  # noqa: E402
from costcalc.counting.graph import build_graph  # noqa: E402
from costcalc.crosscheck import check_model, measure, verify, verify_graph  # noqa: E402
from costcalc.counting.results import analyze  # noqa: E402
from costcalc.spec.schema import spec_files  # noqa: E402
from conftest import ROOT, SPECS, measured, run_cli  # noqa: E402

DATA = ROOT / "tests" / "data"
CONVENTIONS = ("macs", "flops", "fvcore")
SHIPPED = spec_files(SPECS)


def run_main(argv, capsys):
    """The CLI in this process (so monkeypatches apply); returns (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("spec", SHIPPED, ids=[str(p.relative_to(SPECS)) for p in SHIPPED])
def test_every_shipped_spec_agrees_exactly(spec, convention):
    graph, m = measured(spec)
    c = check_model(analyze(graph, convention=convention), m)
    # fvcore really ran on every shipped spec small enough for its CPU trace (the transformers at
    # their full context are not: tests/test_transformers.py runs it on them at 64 tokens)
    assert m.fvcore_total is not None or m.fvcore_bytes > m.fvcore_limit, c.fvcore_note
    assert [l.name for l in c.mismatches] == []
    # every check holds; fvcore's is not made (None) only where fvcore could not run
    assert c.ok and all(cl.ok or (cl.ok is None and m.fvcore_total is None) for cl in c.claims)
    # the convention's figure equals the tool it claims to reproduce, in total
    t = c.totals
    if convention == "fvcore" and m.fvcore_total is not None:
        assert t["analytic"]["macs"] == t["fvcore"]["raw"]
    elif convention == "fvcore":
        pass  # no fvcore figure to equal
    else:
        assert t["analytic"]["macs"] == t["flopcounter"]["raw"] * {"macs": 1, "flops": 2}[convention] // 2
    assert t["analytic"]["params"] == t["torch"]["params"] == t["fvcore"]["params"]


def test_every_kind_spec_uses_every_kind():
    used = {n.kind.name for n in build_graph(DATA / "every_kind.yaml").nodes}
    assert used == set(ops.known())


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_every_kind_spec_agrees(convention):
    graph, m = measured(DATA / "every_kind.yaml")
    c = check_model(analyze(graph, convention=convention), m)
    assert c.ok, [(l.name, l.notes) for l in c.mismatches]
    # hand arithmetic: conv c1 12*12*8 outputs * 4*9 = 41,472; grouped dilated conv dil
    # 12*12*8 * (8/2)*9 = 41,472; squeeze-excitation 1x1 convs on 1x1: se_reduce 16*4 = 64,
    # se_expand 4*16 = 64; fc on pad_channels' 2 + 16 + 2 = 20 features: 20*10 = 200
    # → 83,272 MACs for the CNN part. The transformer tail: up 2 tokens*5*8 = 80, qkv
    # 3*8*16 = 384, head 3*8*4 = 96; attention q [2,3,4], k/v [1,3,4]: QKᵀ and AV
    # 2*(2*3*3*4) = 144; scores [2,3,4]x[2,4,3] 2*3*4*3 = 72; mix [2,3,3]x[2,3,4] 2*3*3*4 = 72
    # → 83,272 + 80 + 384 + 96 + 144 + 72 + 72 = 84,120 MACs
    assert c.totals["analytic"]["plain_macs"] == 84_120
    # fvcore adds batchnorm 2 * 8*12*12 = 2,304, se_pool's input 16*6*6 = 576, layernorm ln
    # 5 (affine) * 16*6*6 = 2,880, adaptive pool input 20*3*3 = 180, global pool input
    # 20*4*5 = 400 and ln_last 4 (no affine) * 10 = 40: 83,272 + 6,380 = 89,652 (mul,
    # hardswish, silu, gelu, hardsigmoid: fvcore skips them); the tail's linears and matmuls
    # 80 + 384 + 96 + 72 + 72 = 704, and no SDPA handle (attention: 0): 89,652 + 704 = 90,356
    assert c.totals["fvcore"]["raw"] == 90_356
    # FlopCounterMode on meta decomposes SDPA into counted bmm: 2 * 84,120 = 168,240
    assert c.totals["flopcounter"]["raw"] == 168_240
    # params: c1 8*4*9 = 288, bn 8+8 = 16, dil 8*4*9 + 8 = 296, se_reduce 16*4 + 4 = 68,
    # se_expand 4*16 + 16 = 80, ln 16+16 = 32, ls 16, fc 20*10 + 10 = 210 → 1,006; the tail:
    # up 5*8 + 8 = 48, pos 4*8 = 32, tpe 2*8 = 16, cls 8, rms 8, qkv 8*16 = 128, head tied
    # to pos: 0 → 1,006 + 240 = 1,246 (torch holds the tied table once)
    assert c.totals["torch"]["params"] == c.totals["analytic"]["params"] == 1_246


# GoogLeNet (the paper's, specs/googlenet.yaml). Independent figures: fvcore 0.1.5 on the
# equivalent PyTorch model reports 1,582,671,872 flops and 6,998,552 parameters (seed
# FIGURES.md); FlopCounterMode counts 2 per multiply-accumulate: 2 * 1,582,671,872 = 3,165,343,744.
GOOGLENET = {"macs": 1_582_671_872, "flops": 3_165_343_744, "fvcore": 1_582_671_872}


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_googlenet_figures(convention):
    graph, m = measured(SPECS / "googlenet.yaml")
    c = check_model(analyze(graph, convention=convention), m)
    assert c.ok
    t = c.totals
    assert t["analytic"]["macs"] == GOOGLENET[convention]
    assert t["fvcore"]["raw"] == 1_582_671_872
    assert t["flopcounter"]["raw"] == 3_165_343_744
    assert t["torch"]["params"] == t["analytic"]["params"] == 6_998_552
    # every max pool is skipped by fvcore and free under every convention
    pools = {s.op: s for s in c.skipped}["aten::max_pool2d"]
    assert pools.count == 13 and pools.free and pools.kinds == ["maxpool"]  # 4 stem + 9 inception


def test_wrong_conv_formula_exits_1_and_names_the_layer(monkeypatch, capsys):
    conv = ops.get("conv")
    right = type(conv).cost

    def off_by_one(self, a, inputs, out):
        c = right(self, a, inputs, out)
        if a["out"] == 128:  # only inception_3a/b2 (3x3, 128 out) in reduced.yaml
            return type(c)(c.weights, c.biases, c.macs + 1, c.elementops)
        return c

    monkeypatch.setattr(type(conv), "cost", off_by_one)
    code, out, err = run_main(["verify", str(SPECS / "reduced.yaml"), "-f", "json"], capsys)
    assert code == 1, err
    d = json.loads(out)
    assert d["ok"] is False and d["models"][0]["mismatches"] == ["inception_3a/b2"]
    bad = next(l for l in d["models"][0]["layers"] if l["name"] == "inception_3a/b2")
    assert bad["analytic"]["macs"] == 86_704_129  # 784*96*9*128 + 1
    assert bad["flopcounter"]["macs"] == 86_704_128 and bad["match"] is False
    code, out, err = run_main(["verify", str(SPECS / "reduced.yaml")], capsys)
    assert code == 1 and "MISMATCH layer 'inception_3a/b2' (conv)" in out


SMALL_HEAD = ("input: [3, 8, 8]\nlayers:\n  - {name: c, conv: {out: 4, kernel: 3}}\n"
              "  - {name: mp, maxpool: {kernel: 2}}\n  - {name: gap, global_avgpool: }\n"
              "  - flatten\n  - {name: fc, linear: {out: 5}}\n")


def test_wrong_shape_rule_and_params_are_caught(monkeypatch, capsys, write_spec):
    pool, linear = ops.get("maxpool"), ops.get("linear")
    shape, cost = type(pool).shape, type(linear).cost
    monkeypatch.setattr(type(pool), "shape", lambda self, a, i: (lambda s: (s[0], s[1], s[2] + 1))(
        shape(self, a, i)))
    monkeypatch.setattr(type(linear), "cost", lambda self, a, i, o: (lambda c: type(c)(
        c.weights, c.biases + 1, c.macs, c.elementops))(cost(self, a, i, o)))
    spec = write_spec(SMALL_HEAD)
    code, out, err = run_main(["verify", str(spec), "-f", "json"], capsys)
    assert code == 1, err
    m = json.loads(out)["models"][0]
    layers = {l["name"]: l for l in m["layers"]}
    assert layers["mp"]["shape_ok"] is False and layers["fc"]["params_ok"] is False
    # gap follows: fvcore counts its input, 4*3*3 = 36 real elements, not the inferred 4*3*4 = 48
    assert m["mismatches"] == ["mp", "gap", "fc"]


def test_a_wrong_shape_that_breaks_the_forward_is_named(monkeypatch, capsys, write_spec):
    pool = ops.get("maxpool")
    shape = type(pool).shape
    monkeypatch.setattr(type(pool), "shape", lambda self, a, i: (lambda s: (s[0], s[1], s[2] + 1))(
        shape(self, a, i)))
    spec = write_spec(SMALL_HEAD.replace("global_avgpool: ", "identity: "))
    code, out, err = run_main(["verify", str(spec)], capsys)
    assert code == 2 and err.count("\n") == 1 and "layer 'fc': the torch model fails to run" in err
    assert "an earlier shape disagrees: layer 'mp' inferred [4, 3, 4], real [4, 3, 3]" in err


def test_conv_pad_same_is_skipped_by_fvcore(write_spec):
    # padding="same" makes torch record aten::_convolution_mode, which fvcore 0.1.5 skips
    spec = write_spec("input: [6, 11, 9]\nlayers:\n"
                      "  - {name: s, conv: {out: 6, kernel: [4, 2], pad: same, dilation: [1, 3]}}\n"
                      "  - {name: v, conv: {out: 2, kernel: 3}}\n")
    for convention in CONVENTIONS:
        (c,) = verify([spec], convention=convention)
        assert c.ok, [(l.name, l.notes) for l in c.mismatches]
        s, v = c.layers
        assert s.real_shape == (1, 6, 11, 9)
        # s: 6*11*9 outputs * 6*4*2 = 28,512 MACs; v: 2*9*7 outputs * 6*9 = 6,804 MACs
        assert (s.macs, v.macs) == (28_512, 6_804)
        assert (s.flopcounter, s.fvcore, v.fvcore) == (2 * 28_512, 0, 6_804)
        assert s.skipped_ops == {"aten::_convolution_mode": 1}
        (op,) = [x for x in c.skipped if x.op == "aten::_convolution_mode"]
        assert op.free is (convention == "fvcore")  # macs and flops count what fvcore skipped
    assert c.totals["analytic"]["macs"] == 6_804  # the fvcore convention reproduces fvcore's total


def test_a_dead_end_layer_verifies_fvcore_drops_it_and_the_report_says_why(write_spec, capsys):
    # issue 12.2: fvcore's jit trace drops a layer whose output is never used; the fvcore
    # convention predicts that 0, so this is agreement, not a mismatch
    spec = write_spec("name: deadend\ninput: [16, 8, 8]\nlayers:\n"
                      "  - {name: a, conv: {out: 16, kernel: 3, pad: 1}}\n"
                      "  - {name: side, conv: {out: 4, kernel: 1}}\n"
                      "  - {name: b, relu: , from: a}\n")
    for convention in CONVENTIONS:
        (c,) = verify([spec], convention=convention)
        assert c.ok, [(l.name, l.notes) for l in c.mismatches]
        a, side, b = c.layers
        # a: 16*8*8 outputs * 16*3*3 = 147,456 MACs; side: 4*8*8 * 16 = 4,096 MACs
        assert (a.macs, side.macs) == (147_456, 4_096)
        assert (side.fvcore, side.fvcore_expected, side.flopcounter) == (0, 0, 2 * 4_096)
        assert side.dead and not a.dead
        assert "jit trace drops" in side.notes[0], side.notes
        assert "conv" not in c.silent  # not "ignored as expected": dropped as dead code
        # 147,456 + 4,096 = 151,552 MACs, 303,104 FLOPs; the fvcore convention's total is
        # fvcore's own, 147,456 (side not counted)
        expected = {"macs": 151_552, "flops": 303_104, "fvcore": 147_456}[convention]
        assert c.totals["analytic"]["macs"] == expected
    code, out, _ = run_main(["verify", str(spec)], capsys)
    assert code == 0 and "MISMATCH" not in out


def test_layers_named_like_module_attributes(write_spec):
    # 'train', 'forward' and 'output' are nn.Module attributes; the model renames its submodules
    spec = write_spec("input: [3, 6, 6]\nlayers:\n"
                      "  - {name: train, conv: {out: 4, kernel: 3, pad: 1}}\n"
                      "  - {name: forward, relu: }\n"
                      "  - {name: output, conv: {out: 2, kernel: 1}, repeat: 2}\n")
    (c,) = verify([spec])
    assert c.ok
    # 6*6*4 * 3*9 = 3,888 + two 1x1 convs 6*6*2*4 = 288 and 6*6*2*2 = 144 → 4,320
    assert c.totals["flopcounter"]["raw"] == 2 * 4_320


def test_batch_scales_all_three(capsys):
    graph = build_graph(SPECS / "conv5x5_naive.yaml")
    c = verify_graph(graph, batch=3)
    assert c.ok
    # 3 * 28*28*192*5*5*32 = 3 * 120,422,400 = 361,267,200
    assert c.totals["fvcore"]["raw"] == 361_267_200
    assert c.totals["flopcounter"]["raw"] == 2 * 361_267_200
    assert c.layers[0].real_shape == (3, 32, 28, 28)


def test_fvcore_limit_skips_fvcore_and_says_so():
    graph = build_graph(SPECS / "fc_head.yaml")
    c = verify_graph(graph, fvcore_limit=1000)
    assert c.ok and c.totals["fvcore"]["raw"] is None
    assert "fvcore not run" in c.fvcore_note and "1,000-byte limit" in c.fvcore_note
    # the FlopCounterMode path still checks: 7*7*1024*1024 = 51,380,224 MACs
    assert c.totals["flopcounter"]["raw"] == 2 * 51_380_224


def test_1e10_parameters_verify_on_meta_in_little_memory():
    # 100,000 * 100,000 = 10^10 weights (40 GB at float32), never allocated: peak RSS < 1.5 GB
    probe = ("import resource, subprocess, sys; r = subprocess.run([sys.executable, '-m', 'costcalc', "
             "'verify', sys.argv[1], '-f', 'json'], capture_output=True, text=True); "
             "print(r.returncode); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
             "print(r.stdout)")
    r = subprocess.run([sys.executable, "-c", probe, str(DATA / "huge_1e10.yaml")], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    code, rss_kb, out = r.stdout.split("\n", 2)
    assert code == "0", r.stderr
    assert int(rss_kb) < 1_500_000  # kB (Linux ru_maxrss)
    m = json.loads(out)["models"][0]
    assert m["totals"]["torch"]["params"] == 10**10 and m["fvcore_ran"] is False
    assert m["totals"]["flopcounter"]["raw"] == 2 * 10**10


def test_too_many_layers_is_a_one_line_refusal(monkeypatch, capsys):
    from costcalc.crosscheck import tools as runner

    monkeypatch.setattr(runner, "MAX_LAYERS", 10)
    code, out, err = run_main(["verify", str(SPECS / "reduced.yaml")], capsys)
    assert code == 2 and out == ""
    assert err.startswith("costcalc: error: ") and err.count("\n") == 1
    assert "too large to verify: 14 layers (the limit is 10)" in err


def test_every_kind_has_a_torch_builder_and_a_fvcore_rule_only_where_fvcore_differs():
    from costcalc.counting.conventions import FVCORE_RULES
    from costcalc.crosscheck.builders import BUILDERS

    assert sorted(BUILDERS) == ops.known()
    assert set(FVCORE_RULES) <= set(ops.known())


def test_a_kind_without_torch_equivalent_is_a_one_line_error(monkeypatch, capsys):
    from costcalc.crosscheck.builders import BUILDERS

    monkeypatch.delitem(BUILDERS, "relu")  # a kind registered without a torch builder
    code, out, err = run_main(["verify", str(SPECS / "reduced.yaml")], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "cannot build the torch model: relu has no torch equivalent" in err


def test_cli_exit_codes_and_formats(capsys):
    r = run_cli("verify", SPECS / "naive.yaml", "--format", "json", "--convention", "flops")
    assert r.returncode == 0 and r.stderr == ""  # no DeprecationWarning, no fvcore logging
    d = json.loads(r.stdout)
    assert d["ok"] is True
    m = d["models"][0]
    assert m["convention"] == "flops" and m["unit"] == "FLOPs"
    layer = m["layers"][0]
    assert set(layer) >= {"name", "analytic", "fvcore", "flopcounter", "shape_ok", "match"}
    assert set(m["totals"]) >= {"analytic", "fvcore", "flopcounter"}
    # naive inception: 28*28*192*(64 + 9*128 + 25*32) = 303,464,448 MACs = 606,928,896 FLOPs
    assert m["totals"]["analytic"]["macs"] == m["totals"]["flopcounter"]["macs"] == 606_928_896
    assert m["totals"]["fvcore"]["raw"] == 303_464_448
    code, out, _ = run_main(["verify", str(SPECS / "naive.yaml"), "-f", "markdown"], capsys)
    assert code == 0 and "| inception_3a/b2 | conv | 173,408,256 |" in out  # 784*192*9*128
    code, out, _ = run_main(["verify", str(SPECS / "naive.yaml")], capsys)
    assert code == 0 and "agree exactly" in out and "[ok] MACs = FlopCounterMode ÷ 2" in out
    r = run_cli("verify", ROOT / "no_such.yaml")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_bad_spec_exits_2_before_torch(write_spec):
    bad = write_spec("input: [3, 4, 4]\nlayers:\n  - {name: c, conv: {out: 2, kernel: 9}}\n")
    r = run_cli("verify", bad)
    assert r.returncode == 2 and r.stderr.startswith("costcalc: error: ")
    assert "layer 'c'" in r.stderr and r.stderr.count("\n") == 1


def test_importing_verify_does_not_import_torch():
    code = "import sys, costcalc.crosscheck, costcalc.report.crosscheck; print('torch' in sys.modules, " \
           "'fvcore' in sys.modules, 'rich.table' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.stdout.split() == ["False", "False", "False"], r.stderr


def test_resnet20_option_a_equals_a_hand_written_torch_model():
    """pad_channels in a real model: ResNet-20's option A shortcut, against ResNet-20 written
    here in torch as it is commonly implemented for CIFAR-10."""
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    class Basic(nn.Module):
        def __init__(self, cin, c, s):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(cin, c, 3, s, 1, bias=False), nn.BatchNorm2d(c),
                                      nn.ReLU(), nn.Conv2d(c, c, 3, 1, 1, bias=False),
                                      nn.BatchNorm2d(c))
            self.pad, self.s = (c - cin) // 2, s

        def forward(self, x):
            short = x
            if self.s != 1 or self.pad:
                short = nn.functional.pad(x[:, :, ::self.s, ::self.s], (0, 0, 0, 0, self.pad, self.pad))
            return torch.relu(self.body(x) + short)

    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    for cin, c, s in ((16, 16, 1), (16, 32, 2), (32, 64, 2)):
        layers += [Basic(cin, c, s), Basic(c, c, 1), Basic(c, c, 1)]
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)).eval()
    x = torch.zeros(1, 3, 32, 32)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        out = net(x)
    r = analyze(build_graph(DATA / "resnet20_option_a.yaml"))
    # conv1 432 + BN 32; stage1 6 * 16*16*9 = 13,824 + BN 6*32; stage2 16*32*9 + 5 * 32*32*9 =
    # 50,688 + BN 6*64; stage3 32*64*9 + 5 * 64*64*9 = 202,752 + BN 6*128; fc 650 → 269,722
    assert r.totals["params"] == sum(p.numel() for p in net.parameters()) == 269_722
    # 32*32*16*27 + 6 * 32*32*16*16*9 + (16*16*32*16*9 + 5 * 16*16*32*32*9)
    # + (8*8*64*32*9 + 5 * 8*8*64*64*9) + 640 = 442,368 + 14,155,776 + 12,976,128 * 2 + 640
    assert 2 * r.totals["macs"] == counter.get_total_flops() == 2 * 40_551_040
    assert tuple(out.shape[1:]) == r.layers[-1].output == (10,)
    g, m = measured(DATA / "resnet20_option_a.yaml")
    assert check_model(analyze(g), m).ok


def test_fvcore_failing_on_a_rank_6_layernorm_is_reported_not_a_crash(write_spec, capsys):
    # fvcore 0.1.5's norm_flop_counter asserts 2 <= rank <= 5; with the batch this input is rank 6
    spec = write_spec("input: [2, 3, 4, 5, 6]\nlayers:\n  - {name: n, layernorm: {axis: -1}}\n")
    code, out, err = run_main(["verify", str(spec)], capsys)
    assert code == 0 and err == "", err
    assert "fvcore not run: its analysis fails on this model (AssertionError" in out
    assert "layer 'n' gets rank 6" in out
