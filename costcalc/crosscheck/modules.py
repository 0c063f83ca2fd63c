"""The small nn.Modules that torch.nn lacks, for kinds that join or split branches (imports torch)."""
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
