"""Expand a spec's layer list and its blocks into a flat, ordered list of layer nodes.

Every node gets a unique scoped path such as ``inception_3a/b2_3x3``. ``from:`` may only
name earlier layers, so the result is a DAG in topological order by construction.
"""
from __future__ import annotations

from dataclasses import dataclass

from costcalc import ops
from costcalc.ops.args import validate_args
from costcalc.ops.base import Outputs, Shape, ShapeError, as_shape
from costcalc.errors import CostcalcError, brief, describe, did_you_mean
from costcalc.spec.yamlio import Map, pos_of
from costcalc.spec.substitute import Substitution, substitute
from costcalc.spec.schema import NAME_RE, Spec

MAX_NESTING = 16  # block instances inside block instances
MAX_LAYERS = 100_000  # layers after expansion (their table prints in under a second: bench target 6)
ENTRY_KEYS = ("name", "from", "repeat", "when", "label", "block", "args")
INPUT = "input"


class Node:
    """One layer after expansion: a kind with checked arguments, reading earlier nodes."""

    __slots__ = ("path", "kind", "args", "inputs", "pos", "scope", "label", "key")

    def __init__(self, path, kind, args, inputs, pos, scope, label=None):
        self.path = path  # "inception_3a/b2"
        self.kind = kind  # a ops.LayerKind
        self.args = args  # validated, normalised
        self.inputs = inputs  # paths of the nodes it reads ("input" for the model input)
        self.pos = pos  # (line, column) of its entry in the spec, or None
        self.scope = scope  # path of the innermost block instance or repeat group ("" at top)
        self.label = label
        #: what its shape and cost rules read: equal for two nodes of the same kind, equal
        #: args and equal input shapes (set by the expansion, which interns args and shapes)
        self.key = None


@dataclass
class Instance:
    """A block instance or a repeat group: a scope of layers with its own subtotal."""

    path: str
    block: str | None  # block name, None for a repeat group of plain layers
    args: dict  # block parameter values
    pos: tuple | None
    parent: str  # enclosing scope path ("" at the top)
    label: str | None = None


class Expansion:
    def __init__(self, spec: Spec):
        self.spec = spec
        self.nodes: list[Node] = []
        self.instances: dict[str, Instance] = {}
        self.output: str | None = None
        #: every output the model returns: the spec's ``outputs:``, else its last layer's
        self.outputs: list = []
        # every output's shape, inferred as the nodes are made, so that a block can read its
        # input's shape (${in.C}); a node with several outputs also has "path.0", "path.1" ...
        self.substitute = Substitution()  # one for all instances: its work is counted in all
        # repeated layers (repeat:, block instances) are the norm: equal args and equal shapes
        # are one object each, so that a shape rule runs once per (kind, args, input shapes)
        self.interned: dict = {}  # frozen value -> its one object
        self.checked: dict = {}  # (kind, frozen value as written) -> its checked, interned args
        self.shape_of: dict = {}  # Node.key -> output shape(s)
        self.shapes: dict[str, Shape | Outputs] = {INPUT: self._intern_shape(spec.input)}

    # -- errors ------------------------------------------------------------------------
    def err(self, msg, pos=None, layer=None):
        return CostcalcError(msg, file=self.spec.file, line=pos[0] if pos else None,
                             column=pos[1] if pos else None, layer=layer or None)

    # -- the walk ----------------------------------------------------------------------
    def run(self):
        out = self.expand_list(self.spec.layers, "", INPUT, self.spec.params, ())
        self.outputs = self._outputs(self.spec.raw.get("outputs")) if "outputs" in self.spec.raw else [out]
        self.output = self.outputs[0]
        return self

    def _outputs(self, listed) -> list:
        """The paths of the spec's ``outputs:``, top-level layer or block names (a split's
        part as ``name.i``), each once."""
        names = self._top_names
        where = pos_of(self.spec.raw, "outputs")
        if not isinstance(listed, list) or not listed:
            raise self.err("'outputs' must be a non-empty list of top-level layer names", where)
        out = []
        for j, src in enumerate(listed):
            at = pos_of(listed, j) or where
            base, dot, index = str(src).rpartition(".")
            if not isinstance(src, str) or (src not in names and not (dot and base in names and index.isdigit())):
                raise self.err(f"'outputs' names {brief(src)}, which is not a top-level layer"
                               f"{did_you_mean(str(src), names)}", at)
            path = names[src] if src in names else f"{names[base]}.{int(index)}"
            if path in out:
                raise self.err(f"'outputs' names '{src}' twice", at)
            out.append(path)
        return out

    def expand_list(self, entries, scope, input_path, env, stack) -> str:
        """Expand one layer list in a scope; returns the path of its last layer's output."""
        names = {INPUT: input_path}
        order = {INPUT: -1}
        counters: dict[str, int] = {}
        prev = input_path
        for i, entry in enumerate(entries):
            pos = pos_of(entries, i)
            if isinstance(entry, str):
                entry = Map({entry: None})
                entry.pos, entry.key_pos = pos, {}
            if not isinstance(entry, dict):
                raise self.err(f"a layer must be a mapping such as {{name: c1, conv: {{...}}}} or a "
                               f"kind name, not {describe(entry)}", pos, scope)
            pos = pos_of(entry) or pos
            if env:
                try:
                    entry = self.substitute(entry, env)
                except CostcalcError as exc:
                    raise exc.located(file=self.spec.file, line=pos and pos[0],
                                      column=pos and pos[1], layer=scope)
            kind, kind_value, block = self._what(entry, pos, scope)
            name = entry.get("name")
            if name is None:
                base = block or kind.name
                counters[base] = counters.get(base, 0) + 1
                name = f"{base}_{counters[base]}"
            elif not isinstance(name, str) or not NAME_RE.match(name) or name == INPUT:
                raise self.err(f"layer name {brief(name)} must be letters, digits, _ or - "
                               f"(and not '{INPUT}')", pos_of(entry, "name"), scope)
            path = f"{scope}/{name}" if scope else name
            if name in names:
                raise self.err(f"duplicate layer name '{name}' in this scope", pos_of(entry, "name"), path)

            sources = entry.get("from")
            if kind is not None and kind.arity[1] != 1 and isinstance(kind_value, list):
                if sources is not None:
                    raise self.err(f"{kind.name} lists its inputs; give them once, not also in 'from'",
                                   pos_of(entry, "from"), path)
                sources, kind_value = kind_value, None
            inputs = self._resolve(sources, names, order, prev, entry, path)
            label = entry.get("label")
            if label is not None and not isinstance(label, str):
                raise self.err("'label' must be text", pos_of(entry, "label"), path)
            if label is not None and len(label.splitlines()) > 1:  # a row of every table
                raise self.err("'label' must be one line of text", pos_of(entry, "label"), path)
            repeat = entry.get("repeat", 1)
            if isinstance(repeat, bool) or not isinstance(repeat, int) or not 0 <= repeat <= MAX_LAYERS:
                raise self.err(f"'repeat' must be a whole number from 0 to {MAX_LAYERS:,}, not {brief(repeat)}",
                               pos_of(entry, "repeat"), path)
            when = entry.get("when", True)
            if not isinstance(when, int):  # bools are ints; a comparison gives 1 or 0
                raise self.err(f"'when' must be true, false or a whole number (0 is false), not {brief(when)}",
                               pos_of(entry, "when"), path)

            if not when or repeat == 0:
                # left out: like an identity, its name stands for the (first) layer it reads
                out = inputs[0]
            elif repeat == 1:
                out = self._one(entry, kind, kind_value, block, path, scope, inputs, pos, env, stack, label)
            else:
                self._count_scope(pos, path)
                self.instances[path] = Instance(path, None, {}, pos, scope, label)
                out = self._one(entry, kind, kind_value, block, f"{path}/0", path, inputs, pos, env,
                                stack, None)
                args = self.nodes[-1].args if block is None else None  # checked once, shared
                for r in range(1, min(repeat, 2) if block is None else repeat):
                    out = self._one(entry, kind, kind_value, block, f"{path}/{r}", path, [out], pos,
                                    env, stack, None, args)
                if block is None and repeat > 2:
                    out = self._repeat_layer(kind, args, path, out, 2, repeat, pos)
            names[name] = out
            order[name] = i
            prev = out
        if not scope:
            self._top_names = {k: v for k, v in names.items() if k != INPUT}
        return prev

    def _one(self, entry, kind, kind_value, block, path, scope, inputs, pos, env, stack, label,
             args=None):
        """One layer (or block instance) of an entry; ``args``: the entry's checked arguments,
        when an earlier repetition of it checked them."""
        if block is not None:
            return self._instance(entry, block, path, scope, inputs, pos, stack, label)
        fewest, most = kind.arity
        if len(inputs) != 1 and most == 1:
            raise self.err(f"{kind.name} reads one input, but 'from' names {len(inputs)}", pos, path)
        if len(inputs) < fewest or (most is not None and len(inputs) > most):
            count = {1: "one", 2: "two", 3: "three"}.get(fewest, str(fewest))
            need = f"{count} or more" if most is None else (
                f"exactly {count}" if fewest == most else f"{count} to {most}")
            example = ", ".join("abc"[i] for i in range(min(max(fewest, 2), 3)))
            raise self.err(f"{kind.name} needs {need} inputs, e.g. {kind.name}: [{example}]", pos, path)
        if args is None:
            args = self._args(entry, kind, kind_value, pos, path)
        if len(self.nodes) >= MAX_LAYERS:
            raise self.err(f"the spec expands to more than {MAX_LAYERS:,} layers", pos, path)
        node = Node(path, kind, args, inputs, pos, scope, label)
        self._infer(node)
        self.nodes.append(node)
        return path

    def _repeat_layer(self, kind, args, scope, out, start, stop, pos) -> str:
        """Repetitions ``start`` to ``stop - 1`` of a layer whose repetitions 0 and 1 passed every
        check (each later one reads one input, as 1 does, with the same args); returns the last
        path. A repetition whose input shape came before gets its output shape without a call."""
        nodes, shapes, shape_of = self.nodes, self.shapes, self.shape_of
        room = MAX_LAYERS - len(nodes)
        if stop - start > room:  # the same error, at the same layer, as _one gives
            self._repeat_layer(kind, args, scope, out, start, start + room, pos)
            raise self.err(f"the spec expands to more than {MAX_LAYERS:,} layers", pos,
                           f"{scope}/{start + room}")
        for r in range(start, stop):
            path = f"{scope}/{r}"
            node = Node(path, kind, args, [out], pos, scope)
            key = (kind, id(args), id(shapes[out]))
            known = shape_of.get(key)
            if known is not None and known[0] is shapes[out]:  # its output is its input's shape:
                return self._same_layers(kind, args, scope, out, r, stop, pos, key, known[0])
            if known is not None and not isinstance(known[0], Outputs):
                node.key = key
                shapes[path] = known[0]
            else:
                self._infer(node)
            nodes.append(node)
            out = path
        return out

    def _same_layers(self, kind, args, scope, out, start, stop, pos, key, shape) -> str:
        """Repetitions ``start`` to ``stop - 1`` that all read ``shape`` and give it again: one
        key and one shape for all (relu, or a conv that keeps its size); returns the last path."""
        nodes, shapes = self.nodes, self.shapes
        for r in range(start, stop):
            path = f"{scope}/{r}"
            node = Node(path, kind, args, [out], pos, scope)
            node.key = key
            shapes[path] = shape
            nodes.append(node)
            out = path
        return out

    def _args(self, entry, kind, kind_value, pos, path) -> dict:
        """The layer's checked arguments: one object for all equal ones. Checking is a pure
        function of the value as written, so a value written before is not checked again."""
        try:
            written = (kind, frozen(kind_value))
            args = self.checked.get(written)
        except TypeError:  # an unhashable scalar: checked, and refused there
            written, args = None, None
        if args is not None:
            return args

        def where(key):
            if key is None or not isinstance(kind_value, dict):
                return pos_of(entry, kind.name) or pos
            return pos_of(kind_value, key)

        try:
            args = validate_args(kind.name, kind.args, kind_value, where)
        except CostcalcError as exc:
            raise exc.located(file=self.spec.file, layer=path)
        args = self._intern((kind.name, frozen(args)), args)
        if written is not None:
            self.checked[written] = args
        return args

    def _intern(self, key, value):
        """The one object for ``key`` (``value`` the first time); ``value`` itself when the key
        cannot be hashed."""
        try:
            return self.interned.setdefault(key, value)
        except TypeError:
            return value

    def _intern_shape(self, shape):
        if isinstance(shape, Outputs):
            parts = Outputs(self._intern_shape(o) for o in shape)
            return self._intern((Outputs, tuple(map(id, parts))), parts)
        return self._intern((type(shape), tuple(shape), getattr(shape, "layout", None)), shape)

    def _infer(self, node):
        """The node's output shape(s), or one located error naming the layer. Its shape rule
        runs once per key (kind, args, input shapes), since args and shapes are interned."""
        ins = [self.shapes[p] for p in node.inputs]
        node.key = key = (node.kind, id(node.args), *map(id, ins))
        known = self.shape_of.get(key)
        if known is not None:
            self._set_shape(node.path, known[0])
            return
        try:
            for p, shape in zip(node.inputs, ins):
                if isinstance(shape, Outputs):
                    raise ShapeError(f"'{p}' has {len(shape)} outputs; read one of them, e.g. "
                                     f"from: {p.rsplit('/', 1)[-1]}.0")
            out = as_shape(node.kind.shape(node.args, ins), ins[0])
            for o in (out if isinstance(out, Outputs) else (out,)):
                if any(d <= 0 for d in o):
                    raise ShapeError(f"{node.kind.name} output size {list(o)} is zero or less "
                                     f"(input {list(ins[0])})")
        except ShapeError as exc:
            line, col = node.pos if node.pos else (None, None)
            raise CostcalcError(exc.named(node.inputs), file=self.spec.file, line=line, column=col,
                                layer=node.path) from None
        out = self._intern_shape(out)
        self.shape_of[key] = (out, node.args, ins)  # the objects whose ids the key holds stay alive
        self._set_shape(node.path, out)

    def _set_shape(self, path, out):
        self.shapes[path] = out
        if isinstance(out, Outputs):
            for i, o in enumerate(out):
                self.shapes[f"{path}.{i}"] = o

    def _instance(self, entry, block_name, path, scope, inputs, pos, stack, label):
        blocks = self.spec.blocks
        if block_name not in blocks:
            known = ", ".join(sorted(blocks)) or "none are defined"
            raise self.err(f"undefined block '{block_name}'{did_you_mean(block_name, blocks)}; "
                           f"blocks: {known}", pos_of(entry, "block"), path)
        if block_name in stack:
            chain = " → ".join(stack + (block_name,))
            raise self.err(f"block '{block_name}' uses itself ({chain})", pos_of(entry, "block"), path)
        if len(stack) >= MAX_NESTING:
            raise self.err(f"blocks are nested more than {MAX_NESTING} deep", pos, path)
        if len(inputs) != 1:
            raise self.err(f"a block instance reads one input, but 'from' names {len(inputs)}", pos, path)
        bdef = blocks[block_name]
        env = self._bind(bdef, entry.get("args"), entry, path)
        shape = self.shapes[inputs[0]]
        if not isinstance(shape, Outputs):  # ${in.C}, ${in.0}: the instance's input sizes
            env.update(input_sizes(shape))
        self._count_scope(pos, path)
        self.instances[path] = Instance(path, block_name, env, pos, scope, label)
        # inside a block, the spec's top-level params are visible unless a block parameter
        # of the same name shadows them
        scope_env = {**self.spec.params, **env} if self.spec.params else env
        return self.expand_list(bdef.layers, path, inputs[0], scope_env, stack + (block_name,))

    def _count_scope(self, pos, path):
        """Block instances and repeat groups count toward MAX_LAYERS too, so that blocks which
        expand to no layers (when: false, repeat: 0) cannot multiply without bound."""
        if len(self.nodes) + len(self.instances) >= MAX_LAYERS:
            raise self.err(f"the spec expands to more than {MAX_LAYERS:,} layers and block instances",
                           pos, path)

    def _bind(self, bdef, given, entry, path) -> dict:
        """Block parameters from positional (list) or keyword (mapping) args."""
        where = pos_of(entry, "args") or pos_of(entry)
        if given is None:
            given = []
        if isinstance(given, list):
            if len(given) > len(bdef.params):
                raise self.err(f"block '{bdef.name}' takes {len(bdef.params)} args "
                               f"({', '.join(bdef.params)}), but {len(given)} are given", where, path)
            env = dict(zip(bdef.params, given))
        elif isinstance(given, dict):
            for k in given:
                if k not in bdef.params:
                    raise self.err(f"block '{bdef.name}' has no parameter '{k}'"
                                   f"{did_you_mean(str(k), bdef.params)}; its parameters: "
                                   f"{', '.join(bdef.params)}", pos_of(given, k), path)
            env = dict(given)
        else:
            raise self.err("'args' must be a list (in parameter order) or a mapping", where, path)
        for p in bdef.params:
            if p not in env:
                if p not in bdef.defaults:
                    raise self.err(f"block '{bdef.name}' is missing argument '{p}' "
                                   f"(parameters: {', '.join(bdef.params)})", where, path)
                default = bdef.defaults[p]
                env[p] = substitute(default, self.spec.params) if self.spec.params else default
        return env

    def _what(self, entry, pos, scope):
        """(kind, its argument value, block name) of an entry; exactly one of kind/block."""
        known, unknown = [], []
        for k in entry:
            if k not in ENTRY_KEYS:
                (known if ops.get(k) is not None else unknown).append(k)
        name = entry.get("name")
        layer = f"{scope}/{name}" if scope and isinstance(name, str) else (name if isinstance(name, str) else scope)
        if unknown:
            key = unknown[0]
            if not known and "block" not in entry:
                raise self.err(f"unknown layer kind '{key}'{did_you_mean(str(key), ops.known())}; "
                               f"known kinds: {', '.join(ops.known())}", pos_of(entry, key), layer)
            raise self.err(f"unknown key '{key}'{did_you_mean(str(key), ENTRY_KEYS)} (a layer has "
                           f"{', '.join(ENTRY_KEYS)} and one kind; arguments go inside the kind's mapping)",
                           pos_of(entry, key), layer)
        if "block" in entry:
            if known:
                raise self.err(f"a layer is either a block instance or a '{known[0]}', not both",
                               pos_of(entry, known[0]), layer)
            block = entry["block"]
            if not isinstance(block, str):
                raise self.err("'block' must be a block name", pos_of(entry, "block"), layer)
            return None, None, block
        if "args" in entry:
            raise self.err("'args' belongs to block instances; a layer's arguments go inside its kind, "
                           "e.g. conv: {out: 64, kernel: 3}", pos_of(entry, "args"), layer)
        if not known:
            raise self.err(f"the layer names no kind; known kinds: {', '.join(ops.known())}", pos, layer)
        if len(known) > 1:
            raise self.err(f"the layer names two kinds, '{known[0]}' and '{known[1]}'; give one",
                           pos_of(entry, known[1]), layer)
        return ops.get(known[0]), entry[known[0]], None

    def _resolve(self, sources, names, order, prev, entry, path) -> list:
        if sources is None:
            return [prev]
        single = isinstance(sources, str)
        if single:
            sources = [sources]
        if not isinstance(sources, list) or not sources:
            raise self.err("'from' must be a layer name or a list of names", pos_of(entry, "from"), path)
        out = []
        for j, src in enumerate(sources):
            where = pos_of(entry, "from") if single else (pos_of(sources, j) or pos_of(entry, "from"))
            if not isinstance(src, str):
                raise self.err(f"'from' must name layers, not {describe(src)}", where, path)
            base, dot, index = src.rpartition(".")
            if dot and base in names and index.isdigit():  # one output of a split: 'parts.1'
                outs = self.shapes.get(names[base])
                if not isinstance(outs, Outputs) or int(index) >= len(outs):
                    have = f"has {len(outs)} outputs (0 to {len(outs) - 1})" if isinstance(
                        outs, Outputs) else "has one output; name it without an index"
                    raise self.err(f"'from' names '{src}', but '{base}' {have}", where, path)
                out.append(f"{names[base]}.{int(index)}")
                continue
                raise self.err(f"'from' must name layers, not {brief(src)}", where, path)
            if src not in names:
                raise self.err(f"'from' names '{src}', which is not an earlier layer in this scope"
                               f"{did_you_mean(src, names)} (a layer may only read layers above it, "
                               "so there are no cycles)", where, path)
            out.append(names[src])
        return out


_SCALARS = frozenset((int, str, float, bool, type(None)))


def frozen(value):
    """A hashable key equal only for equal values of the same types (1, 1.0 and True differ)."""
    t = type(value)
    if t in _SCALARS:
        return t, value
    if isinstance(value, dict):
        return dict, tuple((k, (type(v), v) if type(v) in _SCALARS else frozen(v))
                           for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return t, tuple(frozen(v) for v in value)
    return t, value


IN = "in__"  # ${in.C} is read as the name in__C (``in`` is a Python keyword)


def input_sizes(shape: Shape) -> dict:
    """A block instance's ``in.NAME`` and ``in.INDEX`` values: each axis of its input."""
    out = {f"{IN}{i}": d for i, d in enumerate(shape)}
    out.update({f"{IN}{name}": d for name, d in zip(shape.layout, shape)})
    return out


def expand(spec: Spec) -> Expansion:
    return Expansion(spec).run()
