"""A traced layer list → a readable spec: scoped names from the module hierarchy, and repeated
identical submodules folded into one parameterised block.

Every called submodule with one input and one output (the value of its last layer) becomes a
block instance; any other is inlined, its layers named ``MODULE_LAYER``. Instances with the same
structure (layers, kinds, wiring and child blocks) share one block; the arguments that differ
between them become the block's parameters (one per distinct column of values, named after the
first layer and argument that holds it). Consecutive instances with equal arguments, each
reading the one before, become one entry with ``repeat:``. Pure: no torch.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from costcalc.spec.schema import NAME_RE

INPUT = "input"
OUTPUT = "<output>"
CONTAINERS = {"Sequential", "ModuleList", "ModuleDict"}
UNCALLED = "#"  # the key suffix of a module that holds called modules but is not called itself


@dataclass(frozen=True)
class Tie:
    """A linear's ``tie:``: the id of the embedding layer whose table is its weight; written as
    that layer's name in the same list, else its full path."""

    layer: str


def base(ref: str) -> str:
    return ref.partition(".")[0]


class Scope:
    """One call of a module: its layers and the calls of its submodules, in order."""

    def __init__(self, key, qual, typename, parent):
        self.key, self.qual, self.typename, self.parent = key, qual, typename, parent
        self.items: list = []

    def layers(self):
        for item in self.items:
            if isinstance(item, Scope):
                yield from item.layers()
            else:
                yield item

    def local_name(self) -> str:
        parent = self.parent.qual if self.parent else ""
        q = self.qual[len(parent) + 1:] if parent and self.qual.startswith(parent + ".") else self.qual
        return clean(q.replace(".", "_"))


def clean(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_\-]", "_", name) or "layer"
    return name if NAME_RE.match(name) and name != INPUT else f"{name}_"


def scope_tree(layers) -> Scope:
    root = Scope("", "", "", None)
    for layer in layers:
        cur = root
        for key, qual, typename in layer.scopes:
            last = cur.items[-1] if cur.items else None
            if isinstance(last, Scope) and last.key == key:
                cur = last
            else:
                child = Scope(key, qual, typename, cur)
                cur.items.append(child)
                cur = child
        cur.items.append(layer)
    return root


class Entry:
    """One entry of a layer list: a layer, or an instance of a block (``body``)."""

    def __init__(self, name, reads, out, kind=None, args=None, body=None):
        self.name, self.reads, self.out = name, reads, out
        self.kind, self.args, self.body = kind, args, body


class Body:
    """The layer list of one block instance (or of the whole model)."""

    def __init__(self, entries, scope):
        self.entries, self.scope = entries, scope
        self.skey = None
        self.args: list = []  # its block's parameter values, once its group is known


class Builder:
    def __init__(self, layers, output):
        self.consumers: dict = {}
        for layer in layers:
            for r in layer.inputs:
                self.consumers.setdefault(base(r), set()).add(layer.id)
        self.consumers.setdefault(base(output), set()).add(OUTPUT)
        self.output = output
        self.skeys: dict = {}
        self.groups: dict = {}  # skey -> [Body], in order of first appearance

    # -- pass 1: bodies with concrete values ----------------------------------------------
    def entries(self, items, prefix="") -> list:
        out = []
        for item in items:
            if not isinstance(item, Scope):
                out.append(Entry(prefix + clean(item.hint), list(item.inputs), item.id,
                                 kind=item.kind, args=item.args))
                continue
            name = prefix + item.local_name()
            reads = self._block_input(item)
            if reads is not None and sum(1 for _ in item.layers()) > 1:
                body = self.body(item)
                out.append(Entry(name, [reads], body.entries[-1].out, body=body))
                continue
            inner = self.entries(item.items, name + "_")
            if len(inner) == 1 and inner[0].body is None:
                inner[0].name = name
            out += inner
        return _unique(out)

    def _block_input(self, scope):
        """The one ref a module call reads, if it can be a block instance: one input, and
        nothing outside reads any of its layers but its last."""
        layers = list(scope.layers())
        ids = {l.id for l in layers}
        ext = {r for l in layers for r in l.inputs if base(r) not in ids}
        if len(ext) != 1:
            return None
        last = layers[-1].id
        for i in ids:
            if i != last and self.consumers.get(i, set()) - ids:
                return None
        return next(iter(ext))

    def body(self, scope) -> Body:
        b = Body(self.entries(scope.items), scope)
        b.skey = self.skeys.setdefault(self._structure(b), len(self.skeys))
        self.groups.setdefault(b.skey, []).append(b)
        return b

    def _structure(self, b):
        return tuple(("L", e.name, e.kind, tuple(e.args)) if e.body is None else
                     ("B", e.name, e.body.skey) for e in b.entries) + (tuple(map(tuple, local_reads(b.entries))),)

    # -- pass 2: blocks and their parameters ----------------------------------------------
    def blocks(self) -> dict:
        """skey -> Block, children before parents."""
        self.block_of = {}
        names = Counter()
        for skey, bodies in self.groups.items():
            first = bodies[0]
            label = first.scope.typename
            local = first.scope.local_name()
            if (label in CONTAINERS or first.scope.key.endswith(UNCALLED)) and len(bodies) == 1 \
                    and not local[0].isdigit():
                label = local  # layer1, downsample, features: a container used once
            label = clean(label)
            names[label] += 1
            name = label if names[label] == 1 else f"{label}_{names[label]}"
            self.block_of[skey] = Block(name, bodies, self)
        return self.block_of

    def slots(self, body):
        """(labels, values) of every argument value in a body, child instances' args included."""
        labels, values = [], []
        for e in body.entries:
            if e.body is None:
                for k, v in e.args.items():
                    # a layer of a Sequential is named '0', '1' ...: its parameter conv0_out
                    labels.append(f"{e.kind}{e.name}_{k}" if e.name[0].isdigit() else f"{e.name}_{k}")
                    values.append(_frozen(v))
            else:
                child = self.block_of[e.body.skey]
                for p, v in zip(child.params, e.body.args):
                    labels.append(p)
                    values.append(v)
        return labels, values


def _frozen(v):
    return tuple(v) if isinstance(v, list) else v


def _thawed(v):
    return list(v) if isinstance(v, tuple) else v


class Block:
    def __init__(self, name, bodies, builder):
        self.name, self.bodies = name, bodies
        rows = [builder.slots(b) for b in bodies]
        labels, first = rows[0]
        self.sub, self.params, seen = {}, [], {}
        for j in range(len(first)):
            column = tuple(r[1][j] for r in rows)
            if len(set(column)) == 1:
                continue
            if column not in seen:
                p = _ident(labels[j], self.params)
                seen[column] = p
                self.params.append(p)
                for b, (_, vals) in zip(bodies, rows):
                    b.args.append(vals[j])
            self.sub[j] = "$" + seen[column]


def _ident(label, taken) -> str:
    p = re.sub(r"\W", "_", label)
    if not p.isidentifier():
        p = "p_" + p
    q, n = p, 1
    while q in taken:
        n += 1
        q = f"{p}_{n}"
    return q


def _unique(entries) -> list:
    seen = Counter()
    taken = {e.name for e in entries}
    for e in entries:
        seen[e.name] += 1
        if seen[e.name] > 1:
            n = seen[e.name]
            while f"{e.name}_{n}" in taken:
                n += 1
            e.name = f"{e.name}_{n}"
            taken.add(e.name)
    return entries


def local_reads(entries) -> list:
    """Each entry's inputs as names in its list ("input" for what the list reads)."""
    owner = {e.out: e.name for e in entries}
    out = []
    for e in entries:
        names = []
        for r in e.reads:
            b, dot, i = r.partition(".")
            names.append(owner[b] + dot + i if b in owner else INPUT)
        out.append(names)
    return out


# -- rendering ------------------------------------------------------------------------------

MULTI_INPUT = {"concat", "add", "mul"}


def render_list(body, builder, sub=None) -> list:
    """The YAML entries of a body; ``sub`` maps slot columns to "$param" (a block definition)."""
    sub = sub or {}
    reads = local_reads(body.entries)
    owner = {e.out: e.name for e in body.entries if e.body is None}
    rendered, col, prev = [], 0, INPUT
    for e, names in zip(body.entries, reads):
        entry = {"name": e.name}
        if e.body is None:
            args = {}
            for k, v in e.args.items():
                args[k] = sub.get(col, _thawed(v))
                if isinstance(args[k], Tie):
                    args[k] = owner.get(args[k].layer) or builder.path_of[args[k].layer]
                col += 1
            args = _compact(e.kind, args)
            if e.kind in MULTI_INPUT and len(names) > 1 and not args:
                entry[e.kind] = names
            else:
                entry[e.kind] = args or None
                if names != [prev]:
                    entry["from"] = names[0] if len(names) == 1 else names
        else:
            block = builder.block_of[e.body.skey]
            entry["block"] = block.name
            if block.params:
                entry["args"] = {}
                for p, v in zip(block.params, e.body.args):
                    entry["args"][p] = sub.get(col, _thawed(v))
                    col += 1
            if names != [prev]:
                entry["from"] = names[0]
        rendered.append(entry)
        prev = e.name
    return fold_repeats(rendered)


#: arguments left out when they equal the kind's default (the spec stays short)
DEFAULTS = {"stride": 1, "pad": 0, "dilation": 1, "groups": 1, "bias": True, "eps": 1e-5,
            "affine": True, "ceil": False, "count_include_pad": True, "axis": 0,
            "approximate": "none", "min_val": -1.0, "max_val": 1.0, "alpha": 1e-4, "beta": 0.75,
            "k": 1.0, "mode": "row", "before": 0, "after": 0, "lookup": "ids", "causal": False}


#: kinds whose default for an argument is not the one above (a pool's stride is its kernel)
KEEP = {"maxpool": {"stride"}, "avgpool": {"stride"}}


def _compact(kind, args):
    keep = KEEP.get(kind, ())
    return {k: v for k, v in args.items() if k in keep
            or not (k in DEFAULTS and v == DEFAULTS[k] and type(v) is type(DEFAULTS[k]))}


def _refs(entry) -> list:
    out = []
    for k, v in entry.items():
        if k == "from" or (k in MULTI_INPUT and isinstance(v, list)):
            out += [v] if isinstance(v, str) else list(v)
    return [r.partition(".")[0] for r in out]


def fold_repeats(entries) -> list:
    """Consecutive instances of one block with equal args, each reading the one before and
    read by nothing else, become one entry with ``repeat: N``."""
    used = Counter(r for e in entries for r in _refs(e))
    out, i = [], 0
    while i < len(entries):
        e = entries[i]
        j = i + 1
        if "block" in e:
            while (j < len(entries) and entries[j].get("block") == e["block"]
                   and entries[j].get("args") == e.get("args") and "from" not in entries[j]
                   and not used[entries[j - 1]["name"]]):
                j += 1
        if j - i > 1:
            names = [x["name"] for x in entries[i:j]]
            folded = dict(e, name=_range_name(names[0], names[-1]), repeat=j - i)
            _rename(entries[j:], names[-1], folded["name"])
            out.append(folded)
        else:
            out.append(e)
        i = j
    return out


def _range_name(a: str, b: str) -> str:
    m, n = re.match(r"^(.*?)(\d+)$", a), re.match(r"^(.*?)(\d+)$", b)
    if m and n and m.group(1) == n.group(1):
        return f"{a}-{n.group(2)}"
    return f"{a}-{b}"


def _rename(entries, old, new):
    def fix(r):
        b, dot, i = r.partition(".")
        return new + dot + i if b == old else r
    for e in entries:
        for k, v in list(e.items()):
            if k == "from" or (k in MULTI_INPUT and isinstance(v, list)):
                e[k] = fix(v) if isinstance(v, str) else [fix(r) for r in v]


def paths(entries, prefix="") -> dict:
    """layer id -> its path in the expanded spec (before repeat folding renames any)."""
    out = {}
    for e in entries:
        path = prefix + e.name
        if e.body is None:
            out[e.out] = path
        else:
            out.update(paths(e.body.entries, path + "/"))
    return out


def build_spec(layers, output, *, name, source, input_shape) -> dict:
    """The spec mapping of a traced model."""
    builder = Builder(layers, output)
    root_scope = scope_tree(layers)
    root = Body(builder.entries(root_scope.items), root_scope)
    blocks = builder.blocks()
    builder.path_of = paths(root.entries)
    spec = {"name": name, "source": source,
            "input": input_shape if isinstance(input_shape, dict) else list(input_shape)}
    if blocks:
        spec["blocks"] = {}
        for skey, block in blocks.items():
            d = {}
            if block.params:
                d["params"] = list(block.params)
            d["layers"] = render_list(block.bodies[0], builder, block.sub)
            spec["blocks"][block.name] = d
    top = render_list(root, builder)
    if root.entries and root.entries[-1].out != base(output) and output != INPUT:
        owner = {e.out: e.name for e in root.entries}
        b, dot, i = output.partition(".")
        top.append({"name": "output", "identity": None, "from": owner.get(b, INPUT) + dot + i})
    spec["layers"] = top
    return spec
