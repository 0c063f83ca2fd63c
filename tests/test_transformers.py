"""Issue 14: the shipped transformers (GPT-2 small, BERT-base, ViT-B/16, Llama 2 7B, Llama 3
8B) against their published parameter counts and against FlopCounterMode on models written by
hand after the reference code (tests/models/transformers.py), all on the meta device."""
import json

import pytest
import torch

from conftest import ROOT, SPECS, measured, run_cli
from models import transformers as hand

from costcalc.counting.results import analyze
from costcalc.crosscheck import check_model

# (spec, published params, hand-written model, its input (no batch), dtype)
MODELS = {
    # Hugging Face openai-community/gpt2 (GPT2LMHeadModel, lm_head tied to wte)
    "llm/gpt2.yaml": (124_439_808, hand.GPT2LMHead, (1024,), torch.long),
    # Hugging Face google-bert/bert-base-uncased (BertModel with pooler)
    "llm/bert_base.yaml": (109_482_240, hand.BertWithPooler, (512,), torch.long),
    # torchvision ViT_B_16_Weights.IMAGENET1K_V1 num_params
    "zoo/vit_b_16.yaml": (86_567_656, hand.ViTB16, (3, 224, 224), torch.float32),
    # Hugging Face meta-llama/Llama-2-7b-hf
    "llm/llama2_7b.yaml": (6_738_415_616, hand.llama2_7b, (4096,), torch.long),
    # Hugging Face meta-llama/Meta-Llama-3-8B
    "llm/llama3_8b.yaml": (8_030_261_248, hand.llama3_8b, (8192,), torch.long),
}


def cli(*args):
    r = run_cli(*args)
    return r.returncode, r.stdout, r.stderr


def totals(spec, *extra):
    code, out, err = cli("analyze", str(SPECS / spec), "--format", "json", *extra)
    assert code == 0, err
    return json.loads(out)["totals"]


@pytest.mark.parametrize("spec", MODELS)
def test_published_params_and_flopcountermode_on_a_hand_written_model(spec):
    published, model, shape, dtype = MODELS[spec]
    numel, flops = hand.measure(model, shape, dtype)
    assert numel == published  # the hand model is the published architecture
    t = totals(spec)
    assert t["params"] == published
    assert t["flops"] == flops == 2 * t["macs"]


def test_gpt2_by_hand():
    t = totals("llm/gpt2.yaml")
    # params: wte 50257*768 = 38,597,376 + wpe 1024*768 = 786,432 → 39,383,808 (the issue's
    # missing embedding weights); per block ln 2*1536 + c_attn 768*2304+2304 + c_proj 768*768+768
    # + c_fc 768*3072+3072 + c_proj 3072*768+768 = 7,087,872, * 12 = 85,054,464; ln_f 1,536;
    # lm_head tied: 0 → 124,439,808
    assert t["params"] == 39_383_808 + 85_054_464 + 1_536
    # MACs: linears per block 1024*(768*2304 + 768*768 + 2*768*3072) = 7,247,757,312, * 12 =
    # 86,973,087,744; attention QKᵀ and AV in full, 2*12*1024*1024*64 = 1,610,612,736, * 12 =
    # 19,327,352,832; lm_head 1024*768*50257 = 39,523,713,024 → 145,824,153,600 MACs
    assert t["macs"] == 145_824_153_600
    assert t["flops"] == 291_648_307_200


def test_doubling_the_sequence_more_than_doubles_the_flops():
    """calflops#48: FLOPs that scale exactly 2.0x with the sequence mean attention was not counted."""
    short, long = totals("llm/gpt2.yaml", "--set", "seq=256"), totals("llm/gpt2.yaml", "--set", "seq=512")
    # only attention is quadratic: 12 layers * 2*12*64 * (512² - 2*256²) = 18,432 * 131,072
    # = 2,415,919,104 MACs more than twice the short sequence's
    assert long["macs"] - 2 * short["macs"] == 2_415_919_104


def test_a_sequence_longer_than_the_position_table_is_one_clear_error():
    code, out, err = cli("analyze", str(SPECS / "llm/gpt2.yaml"), "--set", "seq=2048")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "wpe" in err and "1024 positions cannot cover 2048 tokens" in err


def test_llama3_grouped_query_attention_by_hand():
    t = totals("llm/llama3_8b.yaml", "--set", "seq=1024")
    # k_proj and v_proj are 4096 -> 8*128 = 1024: 2*4096*1024 = 8,388,608 params a layer, where
    # multi-head attention would have 2*4096*4096 = 33,554,432
    # per layer 4*... : q 16,777,216 + k, v 8,388,608 + o 16,777,216 + mlp 3*4096*14336 =
    # 176,160,768 + norms 8,192 = 218,112,000; * 32 = 6,979,584,000; embed and lm_head
    # 2*128256*4096 = 1,050,673,152; norm 4,096 → 8,030,261,248
    assert t["params"] == 6_979_584_000 + 1_050_673_152 + 4_096
    # attention at T = 1024: a key/value head serves 4 query heads, so the MACs are the query
    # heads': 32 layers * 2*32*1024*1024*128 = 274,877,906,944
    code, out, err = cli("analyze", str(SPECS / "llm/llama3_8b.yaml"), "--set", "seq=1024",
                         "--format", "json")
    layers = json.loads(out)["layers"]
    assert sum(l["macs"] for l in layers if l["kind"] == "attention") == 274_877_906_944


@pytest.mark.parametrize("spec", ["llm/gpt2.yaml", "llm/bert_base.yaml"])
def test_fvcore_has_no_attention_handle_and_the_report_says_so(spec, tmp_path):
    """At 64 tokens fvcore runs (the full contexts need more than its 1 GiB of CPU tensors):
    it counts every linear as costcalc does, 0 for SDPA, and verify still agrees exactly."""
    graph, m = measured_at(spec, 64)
    c = check_model(analyze(graph, convention="macs"), m)
    assert m.fvcore_total is not None and c.ok
    attention = [l for l in graph.nodes if l.kind.name in ("attention", "matmul")]
    assert attention
    for node in attention:
        lm = m.layers[node.path]
        assert lm.flopcounter == 2 * graph.costs[node.path].macs  # counted in full
        if node.kind.name == "attention":
            assert lm.fvcore == 0  # no handle for aten::scaled_dot_product_attention


_AT = {}


def measured_at(spec, seq):
    from costcalc.counting.graph import build_graph
    from costcalc.crosscheck import measure

    if (spec, seq) not in _AT:
        graph = build_graph(str(SPECS / spec), params={"seq": seq})
        _AT[spec, seq] = graph, measure(graph, 1)
    return _AT[spec, seq]


def test_kv_cache_of_llama3_8b_at_1024_tokens_in_bfloat16():
    t = totals("llm/llama3_8b.yaml", "--set", "seq=1024", "--dtype", "bfloat16")
    # k and v, 32 layers, 8 key/value heads, 1,024 positions of 128: 2*32*8*128*1024
    assert t["kv_cache"] == 67_108_864
    assert t["kv_cache_bytes"] == 134_217_728  # 2 bytes each
    assert t["param_bytes"] == 2 * 8_030_261_248


def test_the_causal_convention_halves_causal_attention_as_maxtext():
    """maxtext: noncausal_attention_flops = 4*B*S**2*num_query_heads*head_dim, causal = that / 2."""
    full = totals("llm/gpt2.yaml")
    causal = totals("llm/gpt2.yaml", "--convention", "causal")
    # 12 layers * 4*1*1024**2*12*64 / 2 = 12 * 1,610,612,736 = 19,327,352,832 FLOPs fewer
    assert full["flops"] - causal["ops"] == 19_327_352_832
    # BERT's attention is not causal: the convention leaves it whole
    assert totals("llm/bert_base.yaml", "--convention", "causal")["ops"] == totals("llm/bert_base.yaml")["flops"]


def transformer_section(spec, *extra):
    code, out, err = cli("analyze", str(SPECS / spec), "--format", "json", *extra)
    assert code == 0, err
    return json.loads(out)["transformer"]


def test_gpt2_dimensions_per_token_figures_and_approximations_by_hand():
    tf = transformer_section("llm/gpt2.yaml")
    d = tf["dims"]
    assert (d["layers"], d["heads"], d["kv_heads"], d["head_dim"], d["tokens"], d["d_model"],
            d["d_ff"], d["vocab"]) == (12, 12, 12, 64, 1024, 768, 3072, 50257)
    # N without wte (38,597,376) and wpe (786,432): 124,439,808 - 39,383,808 = 85,056,000
    # (Kaplan's N ≈ 12 * n_layer * d_model² = 84,934,656, biases and norms aside)
    assert d["non_embedding_params"] == 85_056_000
    # prefill per token: 291,648,307,200 / 1024 = 284,812,800 FLOPs; a decode step at context
    # 1024 does the same: 2*(7,077,888 linear MACs * 12 + 12 layers * 2*12*1024*64 attention
    # + 768*50257 lm_head) = 2*(84,934,656 + 18,874,368 + 38,597,376) = 284,812,800
    assert tf["per_token"]["prefill_flops"] == tf["per_token"]["decode_step_flops"] == 284_812_800
    gaps = {a["name"]: a for a in tf["approximations"]}
    # Kaplan: (2*85,056,000 + 2*12*1024*768) * 1024 = 188,986,368 * 1024 = 193,522,040,832
    assert gaps["kaplan"]["flops"] == 193_522_040_832
    # Chinchilla, per layer: QKV 2*3*1024*768*768 = 3,623,878,656; QKᵀ 2*1024²*768 =
    # 1,610,612,736; softmax 3*12*1024² = 37,748,736; AV 1,610,612,736; output 2*1024*768*768
    # = 1,207,959,552; dense 2*1024*2*768*3072 = 9,663,676,416 → 17,754,488,832 * 12 =
    # 213,053,865,984; embeddings and logits 2 * 2*1024*50257*768 = 158,094,852,096
    assert gaps["chinchilla"]["flops"] == 213_053_865_984 + 158_094_852_096
    # PaLM: (6*85,056,000 + 12*12*12*64*1024) * 1024 = (510,336,000 + 113,246,208) * 1024
    assert gaps["palm"]["flops"] == 638_548_180_992
    # against 3 × the exact forward: 3 * 291,648,307,200 = 874,944,921,600, which is also
    # FlopCounterMode's forward + backward of GPT-2 at T = 1024 (issue 18's anchor)
    assert gaps["palm"]["exact"] == 874_944_921_600


def test_a_cnn_has_no_transformer_section():
    code, out, err = cli("analyze", str(SPECS / "zoo/resnet18.yaml"), "--format", "json")
    d = json.loads(out)
    assert "transformer" not in d and d["totals"]["kv_cache"] == 0


def test_verify_under_the_causal_convention_checks_the_full_count():
    r = run_cli("verify", str(SPECS / "llm/gpt2.yaml"), "--set", "seq=64", "--convention", "causal")
    assert r.returncode == 0, r.stderr
    # the ops column is halved on attention: 12 layers * 2*12*64*64*64 = 75,497,472 FLOPs fewer
    # than FlopCounterMode's full square; the check is made on 2 × MACs, which equal it
    assert "2 × MACs = FlopCounterMode" in r.stdout and "OK, exact agreement" in r.stdout
