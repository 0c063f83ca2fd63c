"""Torch targets → layer kinds: one registry keyed by the torch target (a module class, a
function such as ``torch.cat`` or ``operator.add``, or a tensor method's name such as
``"Tensor.view"``), refusing duplicates like costcalc/registry.py.

A mapping gets a ``Call`` (the fx node, its module, the shapes of its tensor inputs and output
without the batch) and returns the layers it becomes, ``[(kind, args), ...]`` in a chain, or
``ALIAS`` when its output is its first input (``x.contiguous()``); it raises ``Unsupported``
when this use of the target has no kind. Arguments come from the module's attributes and from
torch's own output shapes, so ``x.view(x.size(0), -1)`` is a flatten because its output is.

The entries live in ``layers.py`` (CNN-family modules, functions and methods) and
``transformer.py`` (embeddings, attention, reshapes ...); importing ``trace`` registers both.
"""
from __future__ import annotations

import torch

from costcalc.registry import Registry

MAPPINGS = Registry("torch op mapping")
ALIAS = "alias"
_MISSING = object()


class Unsupported(Exception):
    """This use of a known target has no kind (the message says why)."""


def maps(*targets):
    def deco(fn):
        for t in targets:
            MAPPINGS.add(t, fn)
        return fn
    return deco


def key_of(node, module=None):
    """The registry key of an fx node: its module's class, its function, or "Tensor.NAME"."""
    if node.op == "call_module":
        return type(module)
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    if node.op == "get_attr":
        return "get_attr"
    return node.target


def describe_key(key) -> str:
    """``torch.nn.LSTM``, ``torch.sin``, ``operator.sub``, ``Tensor.unfold``."""
    if key == "get_attr":
        return "a parameter or buffer read in forward"
    if isinstance(key, str):
        return key
    module = getattr(key, "__module__", None) or ""
    name = getattr(key, "__qualname__", None) or getattr(key, "__name__", None) or repr(key)
    if module.startswith("torch.nn.modules") or (module.startswith("torch.nn.") and isinstance(key, type)):
        module = "torch.nn"
    elif module in ("_operator", "operator"):
        module = "operator"
    elif module.startswith("torch._C") or module == "" or name.startswith("_VariableFunctions"):
        module, name = "torch", getattr(key, "__name__", name)
    return f"{module}.{name}" if module else name


class Call:
    """One fx node as a mapping sees it."""

    def __init__(self, node, module, ins, out, tie=None):
        self.node, self.module, self.ins, self.out = node, module, ins, out
        self.tie = tie  # the id of the embedding layer whose weight is this module's

    def arg(self, i, name, default=_MISSING):
        """Argument ``i`` (the tensor itself is 0, for methods too) or keyword ``name``."""
        args = self.node.args
        if i < len(args):
            return args[i]
        if name in self.node.kwargs:
            return self.node.kwargs[name]
        if default is _MISSING:
            raise Unsupported(f"needs its argument '{name}'")
        return default

    def number(self, value):
        """A constant number among the arguments (one computed from shapes too), else None."""
        if isinstance(value, torch.fx.Node):
            value = value.meta.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return value

    def axis(self, dim, shape=None) -> int:
        """A torch dim (the batch is 0) as costcalc's axis index (the batch excluded)."""
        rank = len(shape if shape is not None else self.ins[0]) + 1
        if not isinstance(dim, int) or not -rank <= dim < rank:
            raise Unsupported(f"its dim {dim!r} is not a constant dim")
        d = dim % rank
        if d == 0:
            raise Unsupported("it works along the batch axis")
        return d - 1


def pair(v):
    v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    return v[0] if v[0] == v[1] else [v[0], v[1]]


def plain(name, **args):
    return [(name, args)]


#: a node computed from the input's shape alone (torch.arange(T), zeros_like(ids)): a layer that
#: reads it reads the model input, as costcalc's position and zeros lookups do
FROM_INPUT = "from-input"


def need_kind(name: str) -> str:
    from costcalc import ops

    if ops.get(name) is None:
        raise Unsupported(f"costcalc has no '{name}' kind")
    return name


def scale(c, divide: bool):
    """x * c or x / c with a constant c: the scale kind."""
    sides = c.node.args[:2]
    const = [c.number(a) for a in sides if not is_tensor(a)]
    if len(sides) != 2 or len(const) != 1 or const[0] is None:
        raise Unsupported("one side is not a number")
    by = 1.0 / const[0] if divide else float(const[0])
    return [(need_kind("scale"), {"by": by})]


def is_tensor(a) -> bool:
    return isinstance(a, torch.fx.Node) and "tensor_meta" in a.meta


def leaf_classes() -> tuple:
    """Module classes the tracer keeps whole (their forward is not traced through)."""
    return tuple(k for k in MAPPINGS if isinstance(k, type))
