"""Models with ops that have no layer kind, and a model too big to hold in memory, for the
import tests."""
import torch
from torch import nn


class Wavy(nn.Module):
    """A conv, then torch.sin (no kind) in two submodules, then nn.Softplus (no kind)."""

    class Sine(nn.Module):
        def forward(self, x):
            return torch.sin(x)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.act = nn.ModuleList([self.Sine(), self.Sine()])
        self.soft = nn.Softplus()
        self.fc = nn.Linear(8 * 6 * 6, 10)

    def forward(self, x):
        x = self.soft(self.act[1](self.act[0](self.conv(x))))
        return self.fc(torch.flatten(x, 1))


class Sines(nn.Module):
    """A conv, torch.sin twice (no kind, one output each), a linear head."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8 * 6 * 6, 10)

    def forward(self, x):
        x = torch.sin(torch.sin(self.conv(x)))
        return self.fc(torch.flatten(x, 1))


def huge():
    """Four 131,072 × 131,072 linear layers: 68.7 billion parameters (275 GB in float32)."""
    n = 1 << 17
    return nn.Sequential(*[nn.Linear(n, n) for _ in range(4)])
