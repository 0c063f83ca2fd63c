"""Result objects: one row per layer, totals, and subtotals per block instance.

Reports format these; nothing here knows about rich, json or the terminal.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from costcalc.counting import conventions
from costcalc.gcpause import without_gc
from costcalc.counting.graph import Graph, build_graph
from costcalc.ops.base import numel
from costcalc.spec.schema import DTYPE_BYTES

METRICS = ("params", "weights", "biases", "macs", "flops", "ops", "elementops", "activations",
           "activation_bytes")


@dataclass
class LayerResult:
    name: str  # full scoped path
    kind: str
    output: tuple
    inputs: list
    scope: str
    weights: int
    biases: int
    macs: int
    elementops: int
    ops: int  # the convention's figure
    activations: int  # output elements, times batch
    activation_bytes: int
    label: str | None = None

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def flops(self) -> int:
        return 2 * self.macs

    def get(self, metric: str) -> int:
        return getattr(self, metric)


def _zero() -> dict:
    return dict.fromkeys(METRICS, 0)


def _add(totals: dict, layer: LayerResult):
    for m in METRICS:
        totals[m] += layer.get(m)


@dataclass
class ModelResult:
    name: str
    file: str | None
    input: tuple
    batch: int
    dtype: str
    convention: conventions.Convention
    layers: list
    totals: dict
    graph: Graph
    warnings: list = field(default_factory=list)
    #: the outcomes of the spec's published claims, when the caller judged them
    #: (costcalc.analyze does; counting alone knows nothing of claims)
    claims: list | None = None
    _scopes: dict | None = field(default=None, init=False, repr=False, compare=False)
    _by_name: dict | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def instances(self):
        return self.graph.instances

    def scope_totals(self) -> dict:
        """Totals for every block instance and repeat group, by path (computed once; read-only).

        Linear: each layer adds into its own scope, then each scope into its parent, children
        first (an instance is recorded before the instances inside it)."""
        if self._scopes is None:
            instances = self.graph.instances
            out = {path: _zero() for path in instances}
            for layer in self.layers:
                if layer.scope:
                    _add(out[layer.scope], layer)
            for path in reversed(instances):
                parent = instances[path].parent
                if parent:
                    mine, theirs = out[path], out[parent]
                    for m in METRICS:
                        theirs[m] += mine[m]
            self._scopes = out
        return self._scopes

    def layer(self, path: str) -> LayerResult | None:
        if self._by_name is None:
            self._by_name = {layer.name: layer for layer in self.layers}
        return self._by_name.get(path)

    def to_dict(self) -> dict:
        """The JSON contract of `costcalc analyze --format json`."""
        scopes = self.scope_totals()
        return {
            "name": self.name,
            "file": self.file,
            "input": list(self.input),
            "batch": self.batch,
            "dtype": self.dtype,
            "convention": self.convention.name,
            "ops_unit": self.convention.unit,
            "totals": dict(self.totals),
            "layers": [
                {"name": l.name, "kind": l.kind, "output": list(l.output), "inputs": l.inputs,
                 "params": l.params, "weights": l.weights, "biases": l.biases, "macs": l.macs,
                 "flops": l.flops, "ops": l.ops, "elementops": l.elementops,
                 "activations": l.activations, "activation_bytes": l.activation_bytes}
                for l in self.layers
            ],
            "blocks": {path: {"block": inst.block, **scopes[path]}
                       for path, inst in self.graph.instances.items()},
            "warnings": list(self.warnings),
        }


@without_gc
def analyze(source, *, convention: str = conventions.DEFAULT, batch: int | None = None,
            dtype: str | None = None, params: dict | None = None) -> ModelResult:
    """Count a spec (a path, a mapping, or a Graph) and return a ModelResult.

    ``batch`` and ``dtype`` override the spec's own, ``params`` its top-level params.
    """
    conv = conventions.get(convention)
    graph = source if isinstance(source, Graph) else build_graph(source, params)
    spec = graph.spec
    n = batch or spec.batch
    dt = dtype or spec.dtype
    if dt not in DTYPE_BYTES:
        from costcalc.errors import CostcalcError

        raise CostcalcError(f"unknown dtype '{dt}'; dtypes: {', '.join(DTYPE_BYTES)}")
    nbytes = DTYPE_BYTES[dt]
    layers, totals = [], _zero()
    for node in graph.nodes:
        c = graph.costs[node.path]
        out = graph.shapes[node.path]
        act = numel(out) * n
        layer = LayerResult(node.path, node.kind.name, out, list(node.inputs), node.scope,
                            c.weights, c.biases, c.macs * n, c.elementops * n,
                            conv.layer_figure(node.kind.name, node.args, graph.in_shapes(node), out,
                                              c, node.path in graph.dead) * n,
                            act, act * nbytes, node.label)
        layers.append(layer)
        _add(totals, layer)
    return ModelResult(spec.name, spec.file, spec.input, n, dt, conv, layers, totals, graph,
                       list(graph.warnings))
