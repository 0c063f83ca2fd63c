"""Products of two activations and attention: matmul (batched over leading axes), scaled
dot-product attention (heads, GQA/MQA, causal) and rotary position embedding."""
from __future__ import annotations

from costcalc.ops.args import Bool, PosInt
from costcalc.ops.registry import register
from costcalc.ops.base import Cost, LayerKind, ShapeError, numel


@register
class Matmul(LayerKind):
    name = "matmul"
    summary = ("product of two activations [..., M, K] × [..., K, N], batched over equal leading "
               "axes (torch.matmul): attention's QKᵀ and AV")
    args = {}
    arity = (2, 2)
    macs_rule = "leading axes × M × K × N"

    def shape(self, a, inputs):
        x, y = inputs
        if len(x) < 2 or len(x) != len(y) or tuple(x[:-2]) != tuple(y[:-2]) or x[-1] != y[-2]:
            raise ShapeError("matmul needs [..., M, K] and [..., K, N] with equal leading axes",
                             sides=((0, x), (1, y)))
        return tuple(x[:-1]) + (y[-1],)

    def cost(self, a, inputs, out):
        x, y = inputs
        return Cost(macs=numel(x) * y[-1])  # (leading * M * K) * N


@register
class Attention(LayerKind):
    name = "attention"
    summary = ("scaled dot-product attention softmax(QKᵀ/√Dh)·V over inputs q [H, T, Dh], k and v "
               "[KV, S, Dh] (torch scaled_dot_product_attention); KV < H is grouped-query "
               "(KV = 1: multi-query) attention. With causal the full T × S square is counted, as "
               "FlopCounterMode and torch count it")
    args = {"heads": PosInt(default=None, doc="optional: query heads (checked against q)"),
            "kv_heads": PosInt(default=None, doc="optional: key/value heads (checked against k)"),
            "causal": Bool(default=False, doc="mask future positions (no effect on the counts)")}
    arity = (3, 3)
    macs_rule = "2 × H × T × S × Dh (QKᵀ and AV, causal or not)"
    elementops_rule = "4 per score H × T × S (scale, exp, sum, divide)"

    def shape(self, a, inputs):
        q, k, v = inputs
        if len(q) != 3 or len(k) != 3 or len(v) != 3:
            raise ShapeError("attention needs q, k and v of rank 3, [heads, tokens, head dim]",
                             sides=((0, q), (1, k)))
        if k != v or q[2] != k[2] or q[0] % k[0]:
            raise ShapeError("attention needs k and v equal, the head dims equal and the key/value "
                             "heads dividing the query heads", sides=((1, k), (2, v)) if k != v
                             else ((0, q), (1, k)))
        for key, got in (("heads", q[0]), ("kv_heads", k[0])):
            if a[key] is not None and a[key] != got:
                raise ShapeError(f"attention {key} {a[key]} but its input has {got}")
        return q

    def cost(self, a, inputs, out):
        q, k, _ = inputs
        h, t, dh = q
        s = k[1]
        # QKᵀ: h*t*s*dh; AV: h*t*s*dh (a key/value head is shared by h/kv query heads)
        return Cost(macs=2 * h * t * s * dh, elementops=4 * h * t * s)


@register
class Rope(LayerKind):
    name = "rope"
    summary = ("rotary position embedding on [H, T, Dh] (or [T, H, Dh] with axes named): "
               "x·cos + rotate_half(x)·sin, as Llama's apply_rotary_pos_emb")
    args = {"base": PosInt(default=10000, doc="the frequency base θ (no effect on the counts)")}
    elementops_rule = "3 per element (two multiplies and an add)"

    def shape(self, a, inputs):
        x = inputs[0]
        if len(x) != 3 or x[2] % 2:
            raise ShapeError(f"rope needs [heads, tokens, head dim] with an even head dim, not {list(x)}")
        return x

    def cost(self, a, inputs, out):
        return Cost(elementops=3 * numel(out))
