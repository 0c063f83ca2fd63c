"""Counting conventions: which operations a tool's headline number includes, and in what unit.

Every kind's Cost carries the raw figures; a convention only picks and scales them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .errors import CostcalcError, did_you_mean
from .kinds.base import Cost


@dataclass(frozen=True)
class Convention:
    name: str
    unit: str  # what the figure is called wherever it is printed
    summary: str
    figure: Callable[[Cost], int]
    #: False for a tool that traces the model and drops layers whose output is never used
    counts_dead_code: bool = True

    def layer_figure(self, cost: Cost, dead: bool) -> int:
        """The figure for one layer; ``dead``: its output never reaches the model output."""
        return 0 if dead and not self.counts_dead_code else self.figure(cost)


CONVENTIONS = {
    c.name: c
    for c in (
        Convention("macs", "MACs",
                   "multiply-accumulates of conv and linear layers, bias adds excluded: the paper's "
                   "'ops', torchvision's _ops and FlopCounterMode ÷ 2",
                   lambda c: c.macs),
        Convention("flops", "FLOPs",
                   "2 × MACs of conv and linear layers: torch FlopCounterMode's figure",
                   lambda c: 2 * c.macs),
        Convention("fvcore", "fvcore flops",
                   "what fvcore's default handles count (1 per multiply-add): conv and linear MACs "
                   "plus batchnorm (2 per element) and adaptive_avg_pool (1 per input element); "
                   "max_pool, avg_pool, relu and add are skipped, and so is a conv with pad 'same' "
                   "(aten::_convolution_mode has no fvcore handle); a layer whose output never "
                   "reaches the model output counts 0, because fvcore's jit trace drops dead code",
                   lambda c: c.fvcore_count, counts_dead_code=False),
    )
}
DEFAULT = "macs"


def get(name: str) -> Convention:
    if name not in CONVENTIONS:
        raise CostcalcError(f"unknown convention '{name}'{did_you_mean(name, CONVENTIONS)}; "
                            f"conventions: {', '.join(CONVENTIONS)}")
    return CONVENTIONS[name]
