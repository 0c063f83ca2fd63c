"""Result objects: one row per layer, totals, and subtotals per block instance.

Reports format these; nothing here knows about rich, json or the terminal.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter

from costcalc.counting import conventions, metrics
from costcalc.gcpause import without_gc
from costcalc.counting.graph import Graph, build_graph
from costcalc.ops.base import Outputs
from costcalc.spec.schema import DTYPE_BYTES

METRICS = metrics.NAMES  # in table order


class FlatRecord(dict):
    """A JSON record that holds no mapping, so a report writes it on one line without looking
    inside (100,000 layers of a big spec)."""


class LayerResult:
    """One layer's figures: every metric of the table (counting/metrics.py), batch included,
    read as attributes (``layer.macs``) or by name (``layer.get("macs")``)."""

    __slots__ = ("name", "kind", "output", "inputs", "scope", "label", "values")

    def __init__(self, name, kind, output, inputs, scope, values: dict, label=None):
        self.name = name  # full scoped path
        self.kind = kind
        self.output = output
        self.inputs = inputs
        self.scope = scope
        self.values = values  # metric name -> exact int
        self.label = label

    def __getattr__(self, metric: str) -> int:
        try:
            return self.values[metric]
        except (KeyError, AttributeError):
            raise AttributeError(metric) from None

    def get(self, metric: str) -> int:
        return self.values[metric]

    def to_dict(self) -> dict:
        """The layer's JSON: its place in the graph, then every metric in table order."""
        return FlatRecord(name=self.name, kind=self.kind, output=_listed(self.output),
                          inputs=self.inputs, **self.values)


def _listed(shape) -> list:
    return [list(s) for s in shape] if isinstance(shape, Outputs) else list(shape)


def _zero() -> dict:
    return dict.fromkeys(METRICS, 0)


@dataclass
class ModelResult:
    name: str
    file: str | None
    input: tuple
    batch: int
    dtype: str
    convention: conventions.Convention
    #: each layer's values dict, in the order of graph.nodes: equal layers share one (read-only)
    values: list
    totals: dict
    graph: Graph
    warnings: list = field(default_factory=list)
    #: the outcomes of the spec's published claims, when the caller judged them
    #: (costcalc.analyze does; counting alone knows nothing of claims)
    claims: list | None = None
    #: one training step's figures (counting/training.py), when asked for (analyze --train)
    training: object | None = None
    _scopes: dict | None = field(default=None, init=False, repr=False, compare=False)
    #: _tally of the layers, once: the totals and every scope's subtotal are read from it
    _counts: list | None = field(default=None, repr=False, compare=False)
    _layers: list | None = field(default=None, init=False, repr=False, compare=False)
    _by_name: dict | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def layers(self) -> list[LayerResult]:
        """One LayerResult per layer, in spec order (made when first read: a report of a big
        spec reads graph.nodes and values, see facts())."""
        if self._layers is None:
            shapes = self.graph.shapes
            self._layers = [LayerResult(n.path, n.kind.name, shapes[n.path], n.inputs, n.scope, v,
                                        n.label) for n, v in zip(self.graph.nodes, self.values)]
        return self._layers

    def facts(self):
        """(node, values) per layer, in spec order: what a LayerResult holds, without making one
        (node.path is its name, node.scope its scope, graph.shapes[node.path] its output)."""
        return zip(self.graph.nodes, self.values)

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
            if self._counts is None:
                self._counts = _tally(self.graph.nodes, self.values)
            for scope, values, count in self._counts:
                if scope:
                    mine = out[scope]
                    for m, v in values.items():
                        mine[m] += v * count
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

    def transformer(self) -> dict | None:
        """Per-token figures, memory and the closed-form approximations of a model with
        attention layers (None without); see counting/transformer.py."""
        from costcalc.counting.transformer import summary

        return summary(self)

    def to_dict(self, layer_records=None) -> dict:
        """The JSON contract of `costcalc analyze --format json`. ``layer_records(result)``, when
        given, makes its "layers" (a JSON writer's own form of each layer's to_dict())."""
        scopes = self.scope_totals()
        extra = {}
        tf = self.transformer()
        if tf is not None:
            extra["transformer"] = tf
        return {
            "name": self.name,
            "file": self.file,
            "input": list(self.input),
            "batch": self.batch,
            "dtype": self.dtype,
            "convention": self.convention.name,
            "ops_unit": self.convention.unit,
            "totals": dict(self.totals),
            "layers": (layer_records(self) if layer_records
                       else [l.to_dict() for l in self.layers]),
            "blocks": {path: {"block": inst.block, **scopes[path]}
                       for path, inst in self.graph.instances.items()},
            **extra,
            "warnings": list(self.warnings),
            **({"training": self.training.to_dict()} if self.training is not None else {}),
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
    costs, shapes, dead = graph.costs, graph.shapes, graph.dead
    known: dict = {}  # (Node.key, dead) -> the values dict its layers share (read-only)
    per_layer = []  # each node's values dict
    append = per_layer.append
    for node in graph.nodes:
        path = node.path
        key = node.key
        if dead and key is not None and path in dead:
            key = (key, "dead")  # its convention figure may differ from a live twin's
        values = known.get(key) if key is not None else None
        if values is None:
            c, out = costs[path], shapes[path]
            figure = conv.layer_figure(node.kind.name, node.args, graph.in_shapes(node), out, c,
                                       path in dead)
            values = metrics.layer_values(metrics.LayerFacts(c, out, n, nbytes, figure))
            if key is not None:
                known[key] = values
        append(values)
    totals = _zero()
    counts = _tally(graph.nodes, per_layer)
    for _, values, count in counts:
        for m, v in values.items():
            totals[m] += v * count
    return ModelResult(spec.name, spec.file, spec.input, n, dt, conv, per_layer, totals, graph,
                       list(graph.warnings), _counts=counts)


_SCOPE = attrgetter("scope")


def _tally(nodes, values) -> list:
    """(scope, values dict, how many of the layers in that scope share that dict): equal layers
    share one dict (analyze), so a total adds each distinct one times its count."""
    by_id = dict(zip(map(id, values), values))
    counts = Counter(zip(map(_SCOPE, nodes), map(id, values)))
    return [(scope, by_id[i], n) for (scope, i), n in counts.items()]
