"""The layer graph: expanded nodes with every shape inferred and every cost counted.

One linear pass in topological order; no torch.
"""
from __future__ import annotations

from costcalc.errors import CostcalcError, SpecWarning
from costcalc.spec.expand import INPUT, Expansion, expand
from costcalc.gcpause import without_gc
from costcalc.ops.base import Cost, ShapeError
from costcalc.spec.schema import Spec, load_spec


class Graph:
    def __init__(self, spec: Spec, expansion: Expansion):
        self.spec = spec
        self.nodes = expansion.nodes
        self.instances = expansion.instances
        self.output = expansion.output  # the first (main) output
        self.outputs = expansion.outputs  # every output: a training graph's auxiliary heads too
        self.shapes = expansion.shapes  # path (and path.i of a split) -> Shape or Outputs
        self.costs: dict[str, Cost] = {}
        self.warnings: list[str] = []
        self.dead: frozenset = frozenset()  # paths of layers with no path to the model output
        self.kinds: frozenset = frozenset()  # names of the kinds of its layers (set by infer)

    @property
    def name(self) -> str:
        return self.spec.name

    def in_shapes(self, node) -> list:
        return [self.shapes[p] for p in node.inputs]

    def infer(self) -> "Graph":
        """Every node's cost (expansion inferred the shapes as it made the nodes). The cost rule
        runs once per Node.key: nodes of equal kind, args and input shapes share one Cost."""
        shapes, costs, file = self.shapes, self.costs, self.spec.file
        known: dict = {}
        firsts = []  # a node of each key: what a check of kind and args need look at
        for node in self.nodes:
            key = node.key
            cost = known.get(key) if key is not None else None
            if cost is not None:
                costs[node.path] = cost
                continue
            firsts.append(node)
            try:
                cost = node.kind.cost(node.args, [shapes[p] for p in node.inputs], shapes[node.path])
            except ShapeError as exc:
                line, col = node.pos if node.pos else (None, None)
                raise CostcalcError(exc.named(node.inputs), file=file, line=line, column=col,
                                    layer=node.path) from None
            costs[node.path] = cost
            if key is not None:
                known[key] = cost
        self.kinds = frozenset(node.kind.name for node in firsts)  # every kind the graph holds
        self._check_ties(firsts)
        self._check_reachable()
        self._name_placeholders(firsts)
        return self

    def _name_placeholders(self, firsts):
        """A warning for every placeholder layer (opaque): its zero is never silent."""
        if not any(node.kind.placeholder_for(node.args) for node in firsts):
            return
        for node in self.nodes:
            op = node.kind.placeholder_for(node.args)
            if op:
                where = f"{self.spec.file}: " if self.spec.file else ""
                self.warnings.append(SpecWarning(
                    f"{where}layer '{node.path}' is a placeholder for {op}, which has no kind: "
                    "counted as 0", group="placeholder layers for ops with no kind, counted as 0",
                    item=f"'{node.path}' ({op})", file=self.spec.file))

    def _check_ties(self, firsts):
        """A linear's ``tie`` names an earlier embedding (in its scope, or by full path) whose
        table has the linear's weight shape; ``self.ties`` maps the linear to its path."""
        self.ties = {}
        if not any(node.kind.name == "linear" and node.args.get("tie") for node in firsts):
            return  # nodes of one key share their kind and args
        by_path = {n.path: n for n in self.nodes}
        for node in self.nodes:
            tie = node.args.get("tie") if node.kind.name == "linear" else None
            if not tie:
                continue
            scoped = f"{node.scope}/{tie}" if node.scope else tie
            target = by_path.get(scoped) or by_path.get(tie)
            line, col = node.pos if node.pos else (None, None)
            where = dict(file=self.spec.file, line=line, column=col, layer=node.path)
            if target is None or target.kind.name != "embedding":
                raise CostcalcError(f"linear: 'tie' names '{tie}', which is not an embedding layer "
                                    "of this spec", **where)
            fin, out = self.shapes[node.inputs[0]][-1], node.args["out"]
            vocab, dim = target.args["vocab"], target.args["dim"]
            if (out, fin) != (vocab, dim):
                raise CostcalcError(f"linear: its weight [{out}, {fin}] cannot be tied to "
                                    f"'{target.path}' [{vocab}, {dim}]", **where)
            self.ties[node.path] = target.path

    def _check_reachable(self):
        """Warn (not fail) about layers whose output never reaches the model output."""
        used = {node_of(o) for o in self.outputs}
        add = used.add
        for node in reversed(self.nodes):
            if node.path in used:
                for p in node.inputs:
                    add(p if "." not in p else node_of(p))
        where = self.spec.file + ":" if self.spec.file else ""
        if len(used) - (INPUT in used) == len(self.nodes):  # only layers and the input are used
            return
        self.dead = frozenset(node.path for node in self.nodes if node.path not in used)
        if not self.dead:
            return
        for node in self.nodes:
            if node.path in self.dead:
                loc = f"{where}{node.pos[0]}:{node.pos[1]}: " if node.pos and where else where and where + " "
                at = f" ({node.pos[0]}:{node.pos[1]})" if node.pos else ""
                self.warnings.append(SpecWarning(
                    f"{loc}layer '{node.path}': its output is never used (no path to the model "
                    "output); it is still counted",
                    group="layers whose output is never used (no path to the model output); they "
                          "are still counted", item=f"'{node.path}'{at}", file=self.spec.file))


def node_of(path: str) -> str:
    """The node an output path belongs to: 'parts.1' (a split's second output) is 'parts'."""
    return path.rpartition(".")[0] if "." in path else path


@without_gc
def build_graph(source, params: dict | None = None) -> Graph:
    """Spec (path, dict or Spec) → Graph with shapes and costs; ``params`` override the spec's
    top-level params (``--set``)."""
    spec = source if isinstance(source, Spec) else load_spec(source, overrides=params)
    return Graph(spec, expand(spec)).infer()
