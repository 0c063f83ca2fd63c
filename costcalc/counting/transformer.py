"""Transformer figures beside the exact count: per token (prefill and one decode step), weight
and KV-cache bytes per dtype, and the field's closed-form approximations with their gap.

A model is a transformer here when it has ``attention`` layers, or attention written as
primitives (a ``matmul`` of q [H, T, Dh] by a kᵀ [H, Dh, T]: its KV cache is not counted). Its dimensions are read from
the graph, never declared twice: layers = attention layers, H / KV / Dh / T / S from their
inputs, d_model from the token embedding (else H × Dh), the vocabulary from the embedding
looked up by ids, d_ff = the widest linear that is not the vocabulary projection, and N (the
non-embedding parameters) = every parameter outside ``embedding`` and ``parameter`` layers.

The approximations, each as its source states it (forward FLOPs for one sequence of T tokens,
except PaLM's, which is training FLOPs):

- ``kaplan``: Kaplan et al. 2020, "Scaling Laws for Neural Language Models", Table 1 / eq. 2.2:
  C_forward ≈ 2N + 2·n_layer·n_ctx·d_attn per token.
- ``chinchilla``: Hoffmann et al. 2022, Appendix F: embeddings 2·T·V·d; per layer Q, K, V
  projections 2·3·T·d·(Dh·H), QKᵀ 2·T·T·(Dh·H), softmax 3·H·T·T, AV 2·T·T·(Dh·H), output
  projection 2·T·(Dh·H)·d and the dense block 2·T·(2·d·d_ff); final logits 2·T·d·V.
- ``palm``: Chowdhery et al. 2022, Appendix B (model FLOPs for MFU): 6N + 12·L·H·Q·T per token
  for training (forward + backward); shown beside 3 × costcalc's exact forward FLOPs, the
  backward-is-twice-forward rule the formula itself assumes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from costcalc.spec.schema import DTYPE_BYTES

#: dtypes the weight bytes are shown for, beside the run's own
WEIGHT_DTYPES = ("float32", "bfloat16", "int8")


@dataclass(frozen=True)
class Dims:
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    tokens: int  # T: query positions
    context: int  # S: key positions
    d_model: int
    d_ff: int
    vocab: int  # 0 without a token embedding
    non_embedding_params: int


def dims(result) -> Dims | None:
    """The transformer dimensions of a counted model, or None without attention layers."""
    graph = result.graph
    if not graph.kinds & {"attention", "matmul"}:
        return None
    att = [n for n in graph.nodes if n.kind.name == "attention"]
    if att:
        q, k, _ = graph.in_shapes(att[0])
        h, t, dh = q
        kv, s = k[0], k[1]
    else:  # attention written as primitives: the scores matmul q [H, T, Dh] × kᵀ [H, Dh, S]
        att = [n for n in graph.nodes if n.kind.name == "matmul" and len(graph.in_shapes(n)[0]) == 3
               and graph.in_shapes(n)[1].layout[-1] == "T"]
        if not att:
            return None
        (h, t, dh), kt = graph.in_shapes(att[0])
        kv, s = kt[0], kt[-1]
    embeddings = [n for n in graph.nodes if n.kind.name == "embedding" and n.args["lookup"] == "ids"]
    vocab = embeddings[0].args["vocab"] if embeddings else 0
    d = embeddings[0].args["dim"] if embeddings else h * dh
    linears = [n.args["out"] for n in graph.nodes if n.kind.name == "linear" and n.args["out"] != vocab]
    tables = sum(graph.costs[n.path].params for n in graph.nodes if n.kind.name in ("embedding", "parameter"))
    return Dims(len(att), h, kv, dh, t, s, d, max(linears, default=0), vocab,
                result.totals["params"] - tables)


def kaplan(m: Dims) -> int:
    """forward FLOPs for T tokens: (2N + 2·n_layer·n_ctx·d_attn) × T"""
    return (2 * m.non_embedding_params + 2 * m.layers * m.context * m.heads * m.head_dim) * m.tokens


def chinchilla(m: Dims) -> int:
    """forward FLOPs for T tokens, Appendix F, softmax and embeddings included"""
    t, d, a = m.tokens, m.d_model, m.heads * m.head_dim
    attention = (2 * 3 * t * d * a + 2 * t * m.context * a + 3 * m.heads * t * m.context
                 + 2 * t * m.context * a + 2 * t * a * d)
    dense = 2 * t * (2 * d * m.d_ff)
    return 2 * t * m.vocab * d + m.layers * (attention + dense) + 2 * t * d * m.vocab


def palm(m: Dims) -> int:
    """training FLOPs for T tokens: (6N + 12·L·H·Q·T) × T"""
    return (6 * m.non_embedding_params + 12 * m.layers * m.heads * m.head_dim * m.context) * m.tokens


@dataclass(frozen=True)
class Approximation:
    name: str
    source: str
    flops: int  # what the formula gives
    exact: int  # costcalc's exact count of the same thing
    what: str

    @property
    def gap(self) -> float:
        """(formula − exact) / exact"""
        return (self.flops - self.exact) / self.exact if self.exact else 0.0


def approximations(result, m: Dims) -> list[Approximation]:
    exact = result.totals["flops"]
    return [
        Approximation("kaplan", "Kaplan et al. 2020, Table 1: C_forward ≈ 2N + 2·n_layer·n_ctx·d_attn",
                      kaplan(m), exact, "forward FLOPs per sequence"),
        Approximation("chinchilla", "Hoffmann et al. 2022, Appendix F: softmax and embeddings included",
                      chinchilla(m), exact, "forward FLOPs per sequence"),
        Approximation("palm", "Chowdhery et al. 2022, Appendix B: 6N + 12·L·H·Q·T per token",
                      palm(m), 3 * exact, "training FLOPs per sequence (exact: 3 × forward)"),
    ]


def summary(result) -> dict | None:
    """The transformer section of `analyze`: dims, per-token figures, memory, approximations."""
    m = dims(result)
    if m is None:
        return None
    t = result.totals
    per_seq = result.batch
    flops = t["flops"]
    causal = sum(l.values["flops"] // 2 for l, n in zip(result.layers, result.graph.nodes)
                 if n.kind.name == "attention" and n.args["causal"])
    return {
        "dims": asdict(m),
        "per_sequence": {"tokens": m.tokens, "flops": flops // per_seq,
                         "flops_causal_half": (flops - causal) // per_seq},
        # every query row is one decode step's work at context S, in the full-square count
        "per_token": {"prefill_flops": flops // per_seq // m.tokens,
                      "decode_step_flops": _decode_step(result, m) if m.tokens == m.context else None,
                      "decode_context": m.context},
        "memory": {"dtype": result.dtype, "param_bytes": t["param_bytes"],
                   "kv_cache": t["kv_cache"], "kv_cache_bytes": t["kv_cache_bytes"],
                   "param_bytes_by_dtype": {dt: t["params"] * DTYPE_BYTES[dt] for dt in WEIGHT_DTYPES}},
        "approximations": [{**asdict(a), "gap": a.gap} for a in approximations(result, m)],
    }


def _decode_step(result, m: Dims) -> int:
    """FLOPs of one new token at context S: a layer over the token axis does 1/T of its work
    (attention's one query row against S keys); a layer without it (a pooler) all of it."""
    total = 0
    for layer, node in zip(result.layers, result.graph.nodes):
        f = layer.values["flops"] // result.batch
        out = result.graph.shapes[node.path]
        total += f // m.tokens if "T" in getattr(out, "layout", ()) else f
    return total
