"""Transformers written by hand after their reference code (Hugging Face transformers'
modeling_gpt2.py, modeling_bert.py, modeling_llama.py; torchvision's vision_transformer.py),
not built by costcalc: the independent oracle for the shipped specs. Each is built on the meta
device (no weights allocated) and measured with sum of numel and FlopCounterMode."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class GPT2Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.c_attn, self.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)  # Conv1D is a Linear
        self.c_fc, self.mlp_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        n, t, d = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q, k, v = (z.view(n, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        # GPT2Attention's eager path: matmul, scale, causal mask, softmax, matmul
        w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d // self.heads)
        mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        w = w.masked_fill(~mask, torch.finfo(w.dtype).min).softmax(dim=-1)
        a = torch.matmul(w, v).transpose(1, 2).reshape(n, t, d)
        x = x + self.c_proj(a)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT2LMHead(nn.Module):
    def __init__(self, vocab=50257, positions=1024, d=768, layers=12, heads=12):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(positions, d)
        self.h = nn.ModuleList(GPT2Block(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # tied

    def forward(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1], device=ids.device))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


class BertLayer(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.dense, self.norm_1 = nn.Linear(d, d), nn.LayerNorm(d, eps=1e-12)
        self.intermediate, self.output = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.norm_2 = nn.LayerNorm(d, eps=1e-12)

    def forward(self, x):
        n, t, d = x.shape
        q, k, v = (f(x).view(n, t, self.heads, -1).transpose(1, 2) for f in (self.query, self.key, self.value))
        probs = (torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d // self.heads)).softmax(-1)
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(n, t, d)
        x = self.norm_1(self.dense(ctx) + x)
        return self.norm_2(self.output(F.gelu(self.intermediate(x))) + x)


class BertWithPooler(nn.Module):
    def __init__(self, vocab=30522, positions=512, types=2, d=768, layers=12, heads=12):
        super().__init__()
        self.word, self.position = nn.Embedding(vocab, d), nn.Embedding(positions, d)
        self.token_type, self.norm = nn.Embedding(types, d), nn.LayerNorm(d, eps=1e-12)
        self.layers = nn.ModuleList(BertLayer(d, heads) for _ in range(layers))
        self.pooler = nn.Linear(d, d)

    def forward(self, ids):
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.norm(self.word(ids) + self.position(pos) + self.token_type(torch.zeros_like(ids)))
        for layer in self.layers:
            x = layer(x)
        return torch.tanh(self.pooler(x[:, 0]))


class ViTBlock(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(d, eps=1e-6), nn.LayerNorm(d, eps=1e-6)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class ViTB16(nn.Module):
    def __init__(self, image=224, patch=16, d=768, layers=12, heads=12, classes=1000):
        super().__init__()
        self.conv_proj = nn.Conv2d(3, d, patch, patch)
        tokens = (image // patch) ** 2 + 1
        self.class_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embedding = nn.Parameter(torch.zeros(1, tokens, d))
        self.layers = nn.ModuleList(ViTBlock(d, heads) for _ in range(layers))
        self.ln, self.head = nn.LayerNorm(d, eps=1e-6), nn.Linear(d, classes)

    def forward(self, img):
        x = self.conv_proj(img).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embedding
        for layer in self.layers:
            x = layer(x)
        return self.head(self.ln(x)[:, 0])


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class LlamaLayer(nn.Module):
    def __init__(self, d, heads, kv_heads, ffn, eps):
        super().__init__()
        self.heads, self.kv, self.dh = heads, kv_heads, d // heads
        self.input_layernorm, self.post_attention_layernorm = nn.RMSNorm(d, eps=eps), nn.RMSNorm(d, eps=eps)
        self.q_proj = nn.Linear(d, heads * self.dh, bias=False)
        self.k_proj = nn.Linear(d, kv_heads * self.dh, bias=False)
        self.v_proj = nn.Linear(d, kv_heads * self.dh, bias=False)
        self.o_proj = nn.Linear(heads * self.dh, d, bias=False)
        self.gate_proj, self.up_proj = nn.Linear(d, ffn, bias=False), nn.Linear(d, ffn, bias=False)
        self.down_proj = nn.Linear(ffn, d, bias=False)

    def forward(self, x, cos, sin):
        n, t, d = x.shape
        y = self.input_layernorm(x)
        q = self.q_proj(y).view(n, t, self.heads, self.dh).transpose(1, 2)
        k = self.k_proj(y).view(n, t, self.kv, self.dh).transpose(1, 2)
        v = self.v_proj(y).view(n, t, self.kv, self.dh).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        # repeat_kv, as modeling_llama.py does before SDPA
        k, v = (z.repeat_interleave(self.heads // self.kv, dim=1) for z in (k, v))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(n, t, d)
        x = x + self.o_proj(a)
        y = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(y)) * self.up_proj(y))


class LlamaForCausalLM(nn.Module):
    def __init__(self, vocab, d, layers, heads, kv_heads, ffn, theta, eps=1e-5):
        super().__init__()
        self.theta, self.dh = theta, d // heads
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(LlamaLayer(d, heads, kv_heads, ffn, eps) for _ in range(layers))
        self.norm, self.lm_head = nn.RMSNorm(d, eps=eps), nn.Linear(d, vocab, bias=False)

    def forward(self, ids):
        t = ids.shape[1]
        inv = 1.0 / (self.theta ** (torch.arange(0, self.dh, 2, device=ids.device).float() / self.dh))
        freqs = torch.outer(torch.arange(t, device=ids.device).float(), inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, emb.cos(), emb.sin())
        return self.lm_head(self.norm(x))


def llama2_7b():
    return LlamaForCausalLM(32000, 4096, 32, 32, 32, 11008, 10000.0)


def llama3_8b():
    return LlamaForCausalLM(128256, 4096, 32, 32, 8, 14336, 500000.0)


def measure(model_fn, input_shape, dtype=torch.float32):
    """(sum of numel of the parameters, FlopCounterMode's total) of the model on the meta device."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        model = model_fn().eval()
        x = torch.zeros((1,) + tuple(input_shape), dtype=dtype)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops()
