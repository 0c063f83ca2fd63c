"""Mappings of transformer ops to kinds: embeddings (by ids, positions or zeros), RMSNorm,
scaled dot-product attention, matmul, reshapes and permutes, scaling by a constant, x[:, k]."""
from __future__ import annotations

import operator

import torch
import torch.nn.functional as F
from torch import nn

from costcalc.crosscheck import modules as cc
from costcalc.importing.mapping import ALIAS, FROM_INPUT, Unsupported, is_tensor, maps, need_kind, scale


@maps(torch.arange, torch.zeros_like)
def _from_input(c):
    return FROM_INPUT


#: modules that hold an embedding table (a linear whose weight is one is tied to it)
EMBEDDINGS = (nn.Embedding, cc.Embedding)


@maps(nn.Embedding)
def _embedding(c):
    src = c.node.args[0]
    lookup = {torch.arange: "positions", torch.zeros_like: "zeros"}.get(
        getattr(src, "target", None), "ids")
    m = c.module
    return [(need_kind("embedding"), {"vocab": m.num_embeddings, "dim": m.embedding_dim,
                                  "lookup": lookup})]


@maps(cc.Embedding)
def _cc_embedding(c):
    t = c.module.table
    return [("embedding", {"vocab": t.num_embeddings, "dim": t.embedding_dim,
                           "lookup": c.module.lookup})]


@maps(cc.Parameter)
def _cc_parameter(c):
    return [("parameter", {"shape": list(c.module.value.shape)})]


@maps(cc.Rope)
def _cc_rope(c):
    return [("rope", {})]  # its base is folded into cos and sin; no count depends on it


@maps(nn.RMSNorm)
def _rmsnorm(c):
    m = c.module
    if len(m.normalized_shape) != 1 or not m.elementwise_affine:
        raise Unsupported("only a one-axis RMSNorm with its weight has a kind")
    return [(need_kind("rmsnorm"), {"axis": -1, **({"eps": float(m.eps)} if m.eps is not None else {})})]


@maps(F.scaled_dot_product_attention)
def _sdpa(c):
    if isinstance(c.arg(3, "attn_mask", None), torch.fx.Node):
        raise Unsupported("it has an attention mask")
    return [(need_kind("attention"), {"causal": bool(c.arg(5, "is_causal", False))})]


@maps(torch.matmul, operator.matmul, "Tensor.matmul", torch.bmm)
def _matmul(c):
    x, y = c.ins
    if len(x) != len(y) or len(x) < 2 or tuple(x[:-2]) != tuple(y[:-2]):
        raise Unsupported("only a product with equal leading axes (no broadcasting) has a kind")
    return [(need_kind("matmul"), {})]


@maps("Tensor.transpose", torch.transpose)
def _transpose(c):
    order = list(range(len(c.ins[0])))
    a, b = c.axis(c.arg(1, "dim0")), c.axis(c.arg(2, "dim1"))
    order[a], order[b] = order[b], order[a]
    return _permute_to(order)


@maps("Tensor.permute", torch.permute)
def _permute(c):
    dims = c.node.args[1:] if c.node.op == "call_method" else c.arg(1, "dims")
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    dims = list(dims) or list(c.node.kwargs.get("dims", ()))
    rank = len(c.ins[0]) + 1
    if not dims or dims[0] % rank:
        raise Unsupported("it moves the batch axis")
    return _permute_to([c.axis(d) for d in dims[1:]])


def _permute_to(order):
    if order == sorted(order):
        return ALIAS
    return [(need_kind("permute"), {"order": order})]


@maps(operator.truediv, torch.div, "Tensor.div")
def _div(c):
    if len(c.ins) == 1 and is_tensor(c.node.args[0]) and c.number(c.node.args[1]) is not None:
        return scale(c, divide=True)
    raise Unsupported("a division by a tensor has no kind")


@maps(operator.getitem)
def _select(c):
    """``x[:, k]``: one token of a sequence (BERT's pooler reads x[:, 0]), as a split and a
    reshape that drops the axis."""
    index = c.node.args[1]
    x = c.ins[0] if c.ins else ()
    if not (isinstance(index, tuple) and len(index) == 2 and index[0] == slice(None)
            and isinstance(index[1], int) and len(x) >= 2):
        raise Unsupported("only x[:, k] (one index of the first axis after the batch) has a kind")
    n, k = x[0], index[1] % x[0]
    sizes = [s for s in (k, 1, n - k - 1) if s]
    return [(need_kind("split"), {"sizes": sizes, "axis": 0}, {"pick": 1 if k else 0}),
            (need_kind("reshape"), {"shape": list(c.out)})]


@maps(cc.Reshape)
def _cc_reshape(c):
    return [("reshape", {"shape": list(c.module.shape)})]


#: module classes the tracer keeps whole (their forward is not traced through)


@maps("get_attr")
def _parameter(c):
    """A parameter read in forward with a leading 1 for the batch (ViT's class token, its
    position embedding): the parameter kind, which reads the input for the batch only."""
    if not isinstance(c.module, torch.nn.Parameter) or c.module.shape[:1] != (1,):
        raise Unsupported("only a parameter of shape [1, ...] (broadcast over the batch) has a kind")
    return [(need_kind("parameter"), {"shape": list(c.out)})]


@maps("Tensor.expand")
def _expand(c):
    if tuple(c.out) != tuple(c.ins[0]):
        raise Unsupported("only an expand over the batch has a kind")
    return ALIAS


@maps(nn.MultiheadAttention)
def _multihead(c):
    """Self-attention (q, k and v one tensor, batch first, no mask, need_weights=False): the
    in-projection, split and heads, SDPA, merged heads and the out-projection."""
    m, node = c.module, c.node
    args = list(node.args[1:4])
    given = {k: v for k, v in node.kwargs.items() if v is not None}
    if not (m.batch_first and m._qkv_same_embed_dim and len(set(map(id, args))) == 1
            and given.get("need_weights", True) is False and len(c.ins) == 3
            and not any(k in given for k in ("key_padding_mask", "attn_mask"))):
        raise Unsupported("only batch-first self-attention without masks and with "
                          "need_weights=False has kinds")
    t, d, h = c.ins[0][0], m.embed_dim, m.num_heads
    heads = []
    for part in range(3):
        heads += [(need_kind("reshape"), {"shape": [t, h, d // h]}, {"reads": [f"1.{part}"],
                                                                      "name": "qkv"[part]}),
                  (need_kind("permute"), {"order": [1, 0, 2]}, {"name": f"{'qkv'[part]}_heads"})]
    return ([("linear", {"out": 3 * d, "bias": m.in_proj_bias is not None},
              {"reads": ["in0"], "name": "in_proj"}),
             ("split", {"sizes": [d, d, d], "axis": 1}, {"name": "qkv"})] + heads
            + [(need_kind("attention"), {}, {"reads": [3, 5, 7], "name": "sdpa"}),
               ("permute", {"order": [1, 0, 2]}, {"name": "merge"}),
               ("reshape", {"shape": [t, d]}, {"name": "merged"}),
               ("linear", {"out": d, "bias": m.out_proj.bias is not None}, {"name": "out_proj"})])
