"""The small nn.Modules that torch.nn lacks, for kinds that join, split, scale, shuffle or pad
(imports torch)."""
from __future__ import annotations

import torch
from torch import nn


class Concat(nn.Module):
    """torch.cat along one dim (1, channels, by default)."""

    def __init__(self, dim: int = 1):
        super().__init__()
        self.dim = dim

    def forward(self, *xs):
        return torch.cat(xs, dim=self.dim)


class Split(nn.Module):
    """torch.split into parts of the given sizes: a tuple of outputs."""

    def __init__(self, sizes, dim: int):
        super().__init__()
        self.sizes, self.dim = sizes, dim

    def forward(self, x):
        return torch.split(x, self.sizes, dim=self.dim)


class Chunk(nn.Module):
    """torch.chunk into equal parts: a tuple of outputs."""

    def __init__(self, chunks: int, dim: int):
        super().__init__()
        self.chunks, self.dim = chunks, dim

    def forward(self, x):
        return torch.chunk(x, self.chunks, dim=self.dim)


class Add(nn.Module):
    """Element-wise sum of its inputs."""

    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Mul(nn.Module):
    """The broadcast product of two inputs (squeeze-excitation's x * scale)."""

    def forward(self, x, y):
        return x * y


class LayerNormAxis(nn.Module):
    """nn.LayerNorm over one dim: that dim is permuted last and back, as torchvision's
    ConvNeXt LayerNorm2d does for channels (permute is free in fvcore and FlopCounterMode)."""

    def __init__(self, size: int, dim: int, rank: int, eps: float, affine: bool):
        super().__init__()
        self.norm = nn.LayerNorm(size, eps=eps, elementwise_affine=affine)
        last = rank - 1
        order = [d for d in range(rank) if d != dim] + [dim]
        self.to_last = None if dim == last else order
        self.back = None if dim == last else [order.index(d) for d in range(rank)]

    def forward(self, x):
        if self.to_last is None:
            return self.norm(x)
        return self.norm(x.permute(self.to_last)).permute(self.back)


class LayerScale(nn.Module):
    """A learnable multiplier per index of one dim: ConvNeXt's layer_scale (C, 1, 1)."""

    def __init__(self, size: int, dim: int, rank: int, init: float):
        super().__init__()
        shape = [1] * rank
        shape[dim] = size
        self.scale = nn.Parameter(torch.full(shape[1:], init))  # without the batch

    def forward(self, x):
        return self.scale * x


class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth: the identity in eval mode (the only mode verified)."""

    def __init__(self, p: float, mode: str):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        keep = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(1.0 - self.p)
        return x * keep / (1.0 - self.p)


class ChannelShuffle(nn.Module):
    """torchvision's shufflenetv2.channel_shuffle: view, transpose, view."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        n, c, h, w = x.size()
        x = x.view(n, self.groups, c // self.groups, h, w)
        return torch.transpose(x, 1, 2).contiguous().view(n, c, h, w)


class PadChannels(nn.Module):
    """ResNet option A's shortcut: every stride-th pixel, zero channels before and after."""

    def __init__(self, before: int, after: int, stride: int):
        super().__init__()
        self.before, self.after, self.stride = before, after, stride

    def forward(self, x):
        s = self.stride
        return nn.functional.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, self.before, self.after))


class Embedding(nn.Module):
    """nn.Embedding looked up by its input's ids (any float input is cast), by position 0..T-1,
    or at row 0 for each token."""

    def __init__(self, vocab: int, dim: int, lookup: str):
        super().__init__()
        self.table, self.lookup = nn.Embedding(vocab, dim), lookup

    @property
    def weight(self):
        return self.table.weight

    def forward(self, x):
        if self.lookup == "ids":
            return self.table(x.long())
        ids = torch.arange(x.shape[1], device=x.device) if self.lookup == "positions" else \
            torch.zeros(x.shape[1], dtype=torch.long, device=x.device)
        return self.table(ids).expand(x.shape[0], -1, -1)


class Parameter(nn.Module):
    """A learnable tensor, expanded over its input's batch (ViT's class_token.expand(n, -1, -1))."""

    def __init__(self, shape):
        super().__init__()
        self.value = nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        # repeat, not expand: a view of a parameter made under no_grad breaks torch's module tracker
        return self.value.unsqueeze(0).repeat(x.shape[0], *[1] * self.value.dim())


class Reshape(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape((x.shape[0],) + self.shape)


class Permute(nn.Module):
    def __init__(self, order):
        super().__init__()
        self.order = [0] + [k + 1 for k in order]

    def forward(self, x):
        return x.permute(self.order)


class Scale(nn.Module):
    def __init__(self, by: float):
        super().__init__()
        self.by = by

    def forward(self, x):
        return x * self.by


class Matmul(nn.Module):
    def forward(self, x, y):
        return torch.matmul(x, y)


class Attention(nn.Module):
    """torch's scaled_dot_product_attention, grouped-query when k has fewer heads than q."""

    def __init__(self, causal: bool, grouped: bool):
        super().__init__()
        self.causal, self.grouped = causal, grouped

    def forward(self, q, k, v):
        return nn.functional.scaled_dot_product_attention(q, k, v, is_causal=self.causal,
                                                          enable_gqa=self.grouped)


class Rope(nn.Module):
    """Llama's apply_rotary_pos_emb on [N, H, T, Dh]: x·cos + rotate_half(x)·sin."""

    def __init__(self, tokens: int, dim: int, base: int):
        super().__init__()
        inv = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))
        freqs = torch.outer(torch.arange(tokens).float(), inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos", emb.cos(), persistent=False)
        self.register_buffer("sin", emb.sin(), persistent=False)

    def forward(self, x):
        half = x.shape[-1] // 2
        rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
        return x * self.cos + rotated * self.sin


class Opaque(nn.Module):
    """The opaque placeholder: zeros of the recorded shape (no arithmetic), from its first input."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x, *rest):
        # + 0 × sum(x): the gradient reaches the layers before it, as costcalc's training step
        # assumes of a placeholder (sum and a scalar multiply: no MACs, nothing saved)
        return x.new_zeros((x.shape[0],) + self.shape) + x.sum() * 0
