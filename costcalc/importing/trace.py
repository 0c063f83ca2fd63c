"""Trace a model with torch.fx and propagate shapes on the meta device: the flat list of layers
it becomes, each with its module scopes, and every op that has no kind.

torch.fx's symbolic trace, rather than torch.export: it keeps the module hierarchy (a
``call_module`` node per leaf module, and each node's stack of enclosing modules), which is
what a readable spec's names and blocks come from; and it runs no kernels: the shapes come
from one pass on meta tensors (``ShapeProp``), so a 70B model traces without weights.
"""
from __future__ import annotations

import contextlib
import functools
import io
import operator
from collections import Counter
from dataclasses import dataclass, field

import torch
import torch.fx
from torch.fx.passes.shape_prop import ShapeProp

from costcalc.errors import CostcalcError
from costcalc.importing import layers, mapping, transformer  # noqa: F401 - they register
from costcalc.importing.mapping import ALIAS, FROM_INPUT, Call, Unsupported
from costcalc.importing.structure import UNCALLED

INPUT = "input"


@dataclass
class Layer:
    """One layer of the spec to be: a kind with its arguments, reading earlier layers."""

    id: str  # the fx node's name, unique
    kind: str
    args: dict
    inputs: list  # ids of the layers it reads, "ID.i" for one output of a split, or INPUT
    scopes: tuple  # ((call key, qualified module name, class name), ...) outermost first
    hint: str  # its name within its scope
    shape: tuple = ()  # torch's output shape without the batch


@dataclass
class Traced:
    layers: list
    output: str  # the ref of the model output
    unknown: Counter = field(default_factory=Counter)  # (op, module path, why) -> count
    unplaceable: int = 0  # unknown ops with several outputs: no opaque layer can stand for them


LEAF_CLASSES = mapping.leaf_classes()


class _Shapes(ShapeProp):
    """ShapeProp that remembers the node it runs (to name the one that fails)."""

    current = None

    def run_node(self, n):
        self.current = n
        value = super().run_node(n)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            n.meta["value"] = value  # a number computed from shapes (d // heads, math.sqrt(64))
        return value


class _Tracer(torch.fx.Tracer):
    def is_leaf_module(self, m, qualname):
        return isinstance(m, LEAF_CLASSES) or super().is_leaf_module(m, qualname)


def _shape(meta):
    return tuple(meta.shape)[1:] if hasattr(meta, "shape") else ()


def _tensor_refs(value, out):
    """fx nodes among an op's arguments, in order (duplicates kept: x + x reads x twice)."""
    if isinstance(value, torch.fx.Node):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _tensor_refs(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _tensor_refs(v, out)
    return out


def trace(model, shape: tuple, dtype: str, allow_unknown: bool = False, label: str = "") -> Traced:
    try:
        graph = _Tracer().trace(model, concrete_args=_defaults(model))
    except Exception as exc:  # noqa: BLE001 - data-dependent control flow, proxies iterated ...
        raise CostcalcError(f"torch.fx cannot trace {label or 'the model'}: {type(exc).__name__}: "
                            f"{' '.join(str(exc).split())[:300]}") from None
    gm = torch.fx.GraphModule(model, graph)
    x = torch.zeros((1,) + tuple(shape), dtype=getattr(torch, dtype), device="meta")
    prop = _Shapes(gm)
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # ShapeProp prints the traceback itself
            prop.propagate(x)
    except Exception as exc:  # noqa: BLE001
        cause = exc.__context__ or exc
        node = prop.current
        at = f" at {node.target if node.op == 'call_module' else node.name}" if node is not None else ""
        raise CostcalcError(f"{label or 'the model'} fails on an input of shape {list(shape)} "
                            f"({dtype}){at}: {type(cause).__name__}: "
                            f"{' '.join(str(cause).split())[:300]}") from None
    return _layers(gm, dict(model.named_modules()), allow_unknown)


def _defaults(model) -> dict | None:
    """forward's arguments after the input, fixed at their defaults (the model gets one input)."""
    import inspect

    params = list(inspect.signature(model.forward).parameters.values())[1:]
    fixed = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
    return fixed or None


def _stack(node, modules):
    """The node's enclosing module calls, outermost first, with each module that holds them
    without being called itself (a ModuleList, or the qualified names' prefixes) put in."""
    called = [(k, q, t.__name__) for k, (q, t) in node.meta.get("nn_module_stack", {}).items()]
    if node.op == "call_module" and not any(q == node.target for _, q, _ in called):
        called.append((node.target, node.target, type(modules[node.target]).__name__))
    out, seen = [], {""}
    for key, qual, typename in called:
        parts = qual.split(".")
        for i in range(1, len(parts)):
            prefix = ".".join(parts[:i])
            if prefix not in seen and prefix in modules:
                out.append((prefix + UNCALLED, prefix, type(modules[prefix]).__name__))
                seen.add(prefix)
        out.append((key, qual, typename))
        seen.add(qual)
    return tuple(out)


def _layers(gm, modules, allow_unknown) -> Traced:
    """``modules`` are the model's own (a GraphModule holds plain nn.Modules for containers)."""
    refs: dict = {}  # fx node -> the ref its value is (a layer id, "id.i" or INPUT)
    layers, unknown, unplaceable = [], Counter(), 0
    tables: dict = {}  # id of an embedding's table -> the embedding's qualified name
    for q, m in modules.items():
        if isinstance(m, transformer.EMBEDDINGS):
            tables.setdefault(id(m.weight), q)  # the outer module first: a leaf holding a table
    multi_ids: set = set()  # layers with several outputs
    embedding_layer: dict = {}  # qualified name of an embedding -> the id of its layer
    called: dict = {}  # qualified name of a module with parameters -> times called
    output = INPUT
    for node in gm.graph.nodes:
        meta = node.meta.get("tensor_meta")
        if node.op == "placeholder":
            refs[node] = INPUT
            continue
        if node.op == "output":
            outs = [n for n in _tensor_refs(node.args[0], []) if n in refs]
            output = refs[outs[0]] if outs else INPUT
            continue
        if meta is None:
            continue  # not a tensor (x.size(0), x.shape): a constant to the ops that read it
        stack = _stack(node, modules)
        module = modules.get(node.target) if node.op == "call_module" else None
        if node.op == "call_module":
            stack = stack[:-1] if stack and stack[-1][1] == node.target else stack
        path = stack[-1][1] if stack else ""
        inputs = [n for n in _tensor_refs((node.args, node.kwargs), []) if n in refs]
        if node.op == "call_function" and node.target is operator.getitem and inputs:
            src, index = refs[inputs[0]], node.args[1]
            if isinstance(index, int) and src != INPUT and not hasattr(inputs[0].meta.get("tensor_meta"), "shape"):
                n = len(inputs[0].meta["tensor_meta"])
                if src in multi_ids:
                    refs[node] = f"{src}.{index % n}"
                    continue
                if index % n == 0:  # a module mapped to one output (attention's (out, None))
                    refs[node] = src
                    continue
        key = mapping.key_of(node, module)
        ins = [_shape(n.meta["tensor_meta"]) for n in inputs]
        multi = not hasattr(meta, "shape")  # TensorMetadata is itself a named tuple
        out = tuple(_shape(m) for m in meta) if multi else _shape(meta)
        fn = mapping.MAPPINGS.get(key) if _hashable(key) else None
        why = ""
        result = None
        tie = None
        if module is not None:
            weight = getattr(module, "weight", None)
            if not isinstance(module, transformer.EMBEDDINGS) and id(weight) in tables:
                tie = embedding_layer.get(tables[id(weight)])
            if any(True for _ in module.parameters(recurse=False)):
                called[node.target] = called.get(node.target, 0) + 1
        if fn is not None:
            try:
                if module is not None and called.get(node.target, 0) > 1:
                    raise Unsupported("called again: its weights are shared, and each layer of a "
                                      "spec counts its own")
                if (module is not None and id(getattr(module, "weight", None)) in tables
                        and not isinstance(module, transformer.EMBEDDINGS) and tie is None):
                    raise Unsupported("its weight is an embedding's that is not used before it")
                held = functools.reduce(getattr, node.target.split("."), modules[""]) \
                    if node.op == "get_attr" else module  # the parameter itself
                result = fn(Call(node, held, ins, out, tie))
            except Unsupported as exc:
                why = str(exc)
        if result == FROM_INPUT:
            refs[node] = INPUT
            continue
        if result == ALIAS and inputs:
            refs[node] = refs[inputs[0]]
            continue
        if result is None or result == ALIAS:
            op = mapping.describe_key(key) if _hashable(key) else str(key)
            where = node.target if node.op == "call_module" else path
            unknown[(op, where, why)] += 1
            if not allow_unknown or multi:
                unplaceable += multi
                refs[node] = INPUT
                continue
            result = [("opaque", {"op": op, "shape": list(out)})]
        hint = _hint(node, path, result[0][0])
        ids = [node.name] + [f"{node.name}_{i}" for i in range(1, len(result))]
        reads = [refs[n] for n in inputs] or [INPUT]
        prev = None
        for i, (kind, args, *more) in enumerate(result):
            # more: {"pick": k} (the output of a split the next one reads), {"reads": [...]}
            # (other layers of this chain by index, "j.k" for output k of layer j, "inN" for
            # the node's N-th tensor input) and {"name": ...} (its name after the node's)
            o = more[0] if more else {}
            mine = [_chain_ref(r, ids, reads) for r in o["reads"]] if "reads" in o else (
                reads if i == 0 else [prev])
            name = f"{hint}_{o['name']}" if "name" in o else (hint if i == 0 else f"{hint}_{kind}")
            layers.append(Layer(ids[i], kind, args, mine, stack, name,
                                out if i == len(result) - 1 else ()))
            prev = f"{ids[i]}.{o['pick']}" if "pick" in o else ids[i]
            if kind in MULTI_OUTPUT:
                multi_ids.add(ids[i])
        refs[node] = ids[-1]
        if isinstance(module, transformer.EMBEDDINGS):
            embedding_layer.setdefault(node.target, ids[0])
    return Traced(_sums(layers, output), output, unknown, unplaceable)


def _sums(layers, output) -> list:
    """``a + b + c`` is one add of three inputs, as the add kind is n-ary: an add whose first
    input is an add of the same scope that nothing else reads takes that add's inputs."""
    readers: dict = {}
    for layer in layers:
        for r in layer.inputs:
            readers[r] = readers.get(r, 0) + 1
    readers[output] = readers.get(output, 0) + 1
    by_id = {layer.id: layer for layer in layers}
    gone = set()
    for layer in layers:
        first = by_id.get(layer.inputs[0]) if layer.kind == "add" else None
        if first is not None and first.kind == "add" and readers[first.id] == 1 \
                and first.scopes == layer.scopes:
            layer.inputs = first.inputs + layer.inputs[1:]
            gone.add(first.id)
    return [layer for layer in layers if layer.id not in gone]


#: kinds with several outputs, read as ID.0, ID.1 ...
MULTI_OUTPUT = {"split", "chunk"}


def _chain_ref(r, ids, reads) -> str:
    if isinstance(r, int):
        return ids[r]
    if r.startswith("in"):
        return reads[int(r[2:])]
    j, _, k = r.partition(".")
    return f"{ids[int(j)]}.{k}"


def _hashable(key) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True


def _hint(node, scope_path, kind) -> str:
    """A layer's name in its scope: the module's attribute name (``conv1``), else its kind."""
    if node.op == "call_module":
        target = str(node.target)
        if scope_path and target.startswith(scope_path + "."):
            target = target[len(scope_path) + 1:]
        return target.replace(".", "_")
    if node.op == "call_method":
        return str(node.target)
    if node.op == "get_attr":
        return str(node.target).rpartition(".")[2]
    return getattr(node.target, "__name__", kind).strip("_") or kind
