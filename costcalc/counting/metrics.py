"""The metric table: every figure costcalc counts per layer, in one place.

Results, their JSON and csv, the lock, budgets, claims and every renderer read this table. A
new metric (``kv_cache_bytes``, ``train_flops``) is one ``Metric`` here plus its formula.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from costcalc.ops.base import numel
from costcalc.registry import Registry


@dataclass(frozen=True)
class LayerFacts:
    """What a metric's formula may read about one layer."""

    cost: object  # the kind's Cost, per sample
    output: tuple  # output shape (or Outputs), no batch
    batch: int
    dtype_bytes: int
    convention_figure: int  # the convention's figure for one sample


@dataclass(frozen=True)
class Metric:
    name: str  # the key in JSON, csv, the lock, budgets and claims
    label: str  # how reports name it
    unit: str  # what it counts
    formula: Callable[[LayerFacts], int]  # exact int, batch included
    locked: bool = False  # part of the baseline lock
    budgeted: bool = True  # budgets and claims may name it
    compared: int = 0  # its row in `compare`'s totals (1 first); 0: not compared


METRICS: Registry = Registry("metric")


def metric(m: Metric) -> Metric:
    return METRICS.add(m.name, m)


for _m in (
    Metric("params", "Params (weights + biases)", "parameters",
           lambda f: f.cost.weights + f.cost.biases, locked=True, compared=1),
    Metric("weights", "Weights", "parameters", lambda f: f.cost.weights),
    Metric("biases", "Biases", "parameters", lambda f: f.cost.biases),
    Metric("macs", "MACs", "multiply-accumulates", lambda f: f.cost.macs * f.batch, locked=True),
    Metric("flops", "FLOPs (2 × MACs)", "FLOPs", lambda f: 2 * f.cost.macs * f.batch, compared=3),
    # the convention's figure (MACs, FLOPs or fvcore flops): its unit is the convention's
    Metric("ops", "ops (the convention's figure)", "the convention's unit",
           lambda f: f.convention_figure * f.batch, budgeted=False, compared=2),
    Metric("elementops", "Element ops (not in MACs)", "element ops",
           lambda f: f.cost.elementops * f.batch, compared=4),
    Metric("activations", "Activations (elements)", "elements",
           lambda f: numel(f.output) * f.batch, locked=True, compared=5),
    Metric("activation_bytes", "Activation bytes", "bytes",
           lambda f: numel(f.output) * f.batch * f.dtype_bytes),
    Metric("param_bytes", "Parameter bytes", "bytes",
           lambda f: (f.cost.weights + f.cost.biases) * f.dtype_bytes),
    Metric("kv_cache", "KV cache (elements)", "elements", lambda f: f.cost.cached * f.batch),
    Metric("kv_cache_bytes", "KV cache bytes", "bytes",
           lambda f: f.cost.cached * f.batch * f.dtype_bytes),
):
    metric(_m)

NAMES = tuple(METRICS)  # in table order
LOCKED = tuple(m.name for m in METRICS.values() if m.locked)
BUDGETED = tuple(m.name for m in METRICS.values() if m.budgeted)
COMPARED = tuple(sorted((m for m in METRICS.values() if m.compared), key=lambda m: m.compared))


def layer_values(facts: LayerFacts) -> dict:
    """Every metric of one layer, in table order."""
    return {name: m.formula(facts) for name, m in METRICS.items()}
