"""Counting conventions: which operations a tool's headline number includes, and in what unit.

A convention's figure for a layer is ``per_mac`` × the layer's MACs, unless the convention has
a rule of its own for the layer's kind. Tool quirks live here, as rules keyed by kind, never in
the ops' formulas: fvcore's batchnorm count, its skipped ``pad: same`` conv and its dropped dead
code are fvcore's, not conv's or batchnorm's.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping

from costcalc.errors import CostcalcError, did_you_mean
from costcalc.ops.base import Cost, numel

#: a kind's rule under a convention: (args, input shapes, output shape, Cost) → the layer's
#: figure for one sample, in the convention's unit
Rule = Callable[[dict, list, tuple, Cost], int]


@dataclass(frozen=True)
class Convention:
    name: str
    unit: str  # what the figure is called wherever it is printed
    summary: str
    per_mac: int = 1  # units per multiply-accumulate (FlopCounterMode counts 2, fvcore 1)
    rules: Mapping[str, Rule] = field(default_factory=dict)
    #: False for a tool that traces the model and drops layers whose output is never used
    counts_dead_code: bool = True

    def layer_figure(self, kind: str, a: dict, inputs: list, out: tuple, cost: Cost,
                     dead: bool = False) -> int:
        """The figure for one layer and one sample; ``dead``: its output never reaches the
        model output."""
        if dead and not self.counts_dead_code:
            return 0
        rule = self.rules.get(kind)
        return rule(a, inputs, out, cost) if rule else self.per_mac * cost.macs

    def override(self, kind: str, rule: Rule) -> "Convention":
        """This convention with ``kind`` counted by ``rule``, for one run (the registry's own
        entry is unchanged)."""
        from costcalc import ops

        if kind not in ops.REGISTRY:
            raise CostcalcError(f"unknown layer kind '{kind}'{did_you_mean(kind, ops.REGISTRY)}")
        return dataclasses.replace(self, rules=MappingProxyType({**self.rules, kind: rule}))


def _fvcore_conv(a, inputs, out, cost):
    """its MACs, but 0 for pad 'same' (aten::_convolution_mode has no fvcore handle)"""
    # fvcore 0.1.5 has no handle for aten::_convolution_mode, the op torch records for string
    # padding (padding="same"): it skips such a conv and counts 0
    return 0 if a["pad"] == "same" else cost.macs


def _fvcore_batchnorm(a, inputs, out, cost):
    """2 per element with affine, 1 without (aten::batch_norm, eval)"""
    return numel(out) * (2 if a["affine"] else 1)


def _fvcore_adaptive_pool(a, inputs, out, cost):
    """1 per input element (aten::adaptive_avg_pool2d)"""
    return numel(inputs[0])


def _fvcore_layernorm(a, inputs, out, cost):
    """5 per element with affine, 4 without (aten::layer_norm, whatever the axis)"""
    # fvcore's norm_flop_counter: over the whole input tensor
    return numel(inputs[0]) * (5 if a["affine"] else 4)


def _fvcore_attention(a, inputs, out, cost):
    """0: fvcore 0.1.5 has no handle for aten::scaled_dot_product_attention and skips it"""
    return 0


FVCORE_RULES = MappingProxyType({
    "attention": _fvcore_attention,
    "conv": _fvcore_conv,
    "batchnorm": _fvcore_batchnorm,
    "adaptive_avgpool": _fvcore_adaptive_pool,
    "global_avgpool": _fvcore_adaptive_pool,
    "layernorm": _fvcore_layernorm,
})

def _causal_attention(a, inputs, out, cost):
    """2 × MACs, halved for a causal attention (maxtext: noncausal / 2)"""
    # maxtext's calculate_tflops_training_per_device: noncausal_attention_flops =
    # 4 * B * S**2 * num_query_heads * head_dim; causal_attention_flops = that / 2
    return cost.macs if a["causal"] else 2 * cost.macs


CAUSAL_RULES = MappingProxyType({"attention": _causal_attention})

CONVENTIONS = {
    c.name: c
    for c in (
        Convention("macs", "MACs",
                   "multiply-accumulates of conv, linear, matmul and attention layers, bias adds "
                   "excluded: the paper's "
                   "'ops', torchvision's _ops and FlopCounterMode ÷ 2"),
        Convention("flops", "FLOPs",
                   "2 × MACs of conv, linear, matmul and attention layers: torch FlopCounterMode's "
                   "figure", per_mac=2),
        Convention("fvcore", "fvcore flops",
                   "what fvcore's default handles count (1 per multiply-add): conv, linear and matmul MACs "
                   "plus batchnorm (2 per element), layernorm (5 per element with affine, 4 "
                   "without) and adaptive_avg_pool (1 per input element); max_pool, avg_pool, "
                   "activations, add and mul (squeeze-excitation, layer scale) and attention (SDPA: "
                   "no handle) are skipped, and so is a conv with pad 'same' "
                   "(aten::_convolution_mode has no fvcore handle); a layer whose output never "
                   "reaches the model output counts 0, because fvcore's jit trace drops dead code",
                   rules=FVCORE_RULES, counts_dead_code=False),
        Convention("causal", "FLOPs (causal half)",
                   "2 × MACs, but a causal attention's QKᵀ and AV counted in half, as MaxText "
                   "counts them for MFU (maxtext_utils.calculate_tflops_training_per_device: "
                   "causal_attention_flops = noncausal_attention_flops / 2): the work a kernel "
                   "that skips the masked upper triangle does, where torch's SDPA math path and "
                   "FlopCounterMode count the full square", per_mac=2, rules=CAUSAL_RULES),
    )
}
DEFAULT = "macs"


def tool_counts(kind) -> dict:
    """What each tool counts for a kind (a LayerKind), as text: {tool: rule}. FlopCounterMode
    counts matrix products and convolutions only (2 per MAC); fvcore its default handles."""
    macs = kind.macs_rule != "0"
    fv = FVCORE_RULES.get(kind.name)
    return {
        "MACs": kind.macs_rule,
        "FlopCounterMode": "2 × MACs" if macs else "0",
        "fvcore": fv.__doc__ if fv else "its MACs" if macs else "0 (no fvcore handle: skipped or ignored)",
    }


def get(name) -> Convention:
    """A convention by name (a Convention passes through: an overridden one, for one run)."""
    if isinstance(name, Convention):
        return name
    if name not in CONVENTIONS:
        raise CostcalcError(f"unknown convention '{name}'{did_you_mean(name, CONVENTIONS)}; "
                            f"conventions: {', '.join(CONVENTIONS)}")
    return CONVENTIONS[name]
