"""Ops: what each layer kind is, and nothing else: its argument schema, its shape rule and its
cost rule (pure formulas over shapes, in the style of torch/utils/flop_counter.py).

To add a kind: write a ``LayerKind`` subclass in one of this package's modules, decorate it
with ``@register``, and add one test. Its torch builder (crosscheck/builders.py), tool rules
(counting/conventions.py) and Table-1 row text (paper/presentation.py) are registries of their
own, keyed by the kind's name.
"""
from __future__ import annotations

from costcalc.ops.base import Cost, LayerKind, ShapeError
from costcalc.ops.registry import REGISTRY, get, known, register

# importing the modules registers their kinds
from costcalc.ops import (activation, attention, conv, embedding, linear, merge, norm,  # noqa: E402,F401
                         opaque, pool, reshape)

__all__ = ["REGISTRY", "register", "get", "known", "Cost", "LayerKind", "ShapeError"]
