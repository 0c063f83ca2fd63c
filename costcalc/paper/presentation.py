"""Each kind's row text in a Table-1 style report, keyed by kind: the row type, the label, the
patch size/stride column, whether it counts toward depth, and whether it folds into the row
above (activations, norms, flatten, as the paper prints them)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from costcalc.registry import Registry


@dataclass(frozen=True)
class Presentation:
    table_type: str = ""  # the row type; the kind's name if empty
    folds_into_previous: bool = False
    depth: int = 0  # 1 for layers with weights: the paper's depth column
    patch: Callable[[dict], str] = lambda a: ""  # kernel/stride text, e.g. '7×7/2'
    label: Callable[[dict], str] | None = None  # the row label; the row type if None


PRESENTATION = Registry("Table-1 presentation")
FOLDS = Presentation(folds_into_previous=True)
PLAIN = Presentation()


def of(kind: str) -> Presentation:
    """A kind's presentation; a kind with none is a plain row named by its kind."""
    return PRESENTATION.get(kind, PLAIN)


def row_type(kind: str) -> str:
    return of(kind).table_type or kind


def label(kind: str, a: dict) -> str:
    p = of(kind)
    return p.label(a) if p.label else row_type(kind)


def patch_text(kernel, stride) -> str:
    """Table 1's "patch size/stride" text: '7×7/2', or '1×7/1×2' for unequal strides."""
    ks = f"{kernel[0]}×{kernel[1]}"
    return f"{ks}/{stride[0]}" if stride[0] == stride[1] else f"{ks}/{stride[0]}×{stride[1]}"


def _window(a):
    return patch_text(a["kernel"], a["stride"] or a["kernel"])


for _kind, _p in {
    "conv": Presentation("convolution", depth=1, patch=lambda a: patch_text(a["kernel"], a["stride"])),
    "linear": Presentation("linear", depth=1),
    "maxpool": Presentation("max pool", patch=_window),
    "avgpool": Presentation("avg pool", patch=_window),
    "adaptive_avgpool": Presentation("avg pool", patch=lambda a: f"→{a['out'][0]}×{a['out'][1]}"),
    "global_avgpool": Presentation("avg pool", patch=lambda a: "global"),
    "softmax": Presentation("softmax"),
    "dropout": Presentation("dropout", label=lambda a: f"dropout ({a['p'] * 100:g}%)"),
    **{k: FOLDS for k in ("relu", "relu6", "hardtanh", "sigmoid", "tanh", "hardswish",
                          "hardsigmoid", "silu", "gelu", "batchnorm", "lrn", "layernorm",
                          "layer_scale", "stochastic_depth", "flatten", "identity")},
}.items():
    PRESENTATION.add(_kind, _p)
