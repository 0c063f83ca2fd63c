"""Block parameters: ``$name`` and ``${expression}`` substitution in block layers.

Expressions are integer arithmetic over the block's parameters: + - * // % and parentheses, plus
comparisons (== != < <= > >=) and and/or/not, which give 1 or 0 (for ``when:``); they are
evaluated by walking Python's AST (never ``eval``).
"""
from __future__ import annotations

import ast
import functools
import operator
import re

from costcalc.errors import CostcalcError, describe
from costcalc.spec.yamlio import Map, Seq

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge}
MAX_EXPR_LEN = 200  # characters in one ${...}
MAX_EXPR_VALUE = 2**128  # the largest operand of expression arithmetic
MAX_SUBSTITUTED = 1_000_000  # list items and mapping values rebuilt, over every block instance


def _operand(value, text):
    """A whole number of at most MAX_EXPR_VALUE in size: arithmetic refuses anything else, so
    a chain of products stays small (the argument checks then apply MAX_INT)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise CostcalcError(f"'${{{text}}}': arithmetic needs whole numbers, not {describe(value)}")
    if abs(value) > MAX_EXPR_VALUE:
        raise CostcalcError(f"'${{{text}}}': {describe(value)} is too large for arithmetic "
                            f"(limit 2**128)")
    return value


def _params(env: dict) -> str:
    return ", ".join(k for k in env if not k.startswith(IN)) or "none"


def _no_axis(name: str, env: dict) -> str:
    axes = [k[len(IN):] for k in env if k.startswith(IN) and not k[len(IN):].isdigit()]
    if not axes:
        return f"'in.{name[len(IN):]}' reads a block's input shape, and only a block's layers can"
    return f"the block's input has no axis '{name[len(IN):]}' (its axes: {', '.join(axes)})"


def _eval(node, env, text):
    if isinstance(node, ast.Expression):
        return _eval(node.body, env, text)
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name):
        if node.id.startswith(IN) and node.id not in env:
            raise CostcalcError(f"'${{{text.replace(IN, 'in.')}}}': " + _no_axis(node.id, env))
        if node.id not in env:
            raise CostcalcError(f"'${{{text}}}' uses '{node.id}', which is not a parameter of this block "
                                f"(parameters: {_params(env)})")
        return env[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_operand(_eval(node.operand, env, text), text)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left = _operand(_eval(node.left, env, text), text)
        right = _operand(_eval(node.right, env, text), text)
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and right == 0:
            raise CostcalcError(f"'${{{text}}}' divides by zero")
        return _OPS[type(node.op)](left, right)
    if isinstance(node, ast.Compare) and all(type(op) in _CMP for op in node.ops):
        left = _eval(node.left, env, text)
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, env, text)
            if type(op) not in (ast.Eq, ast.NotEq):  # ordering needs numbers: 'same' < 3 is an error
                left, right = _operand(left, text), _operand(right, text)
            if not _CMP[type(op)](left, right):
                return 0
            left = right
        return 1
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, env, text) for v in node.values]
        return int(all(values) if isinstance(node.op, ast.And) else any(values))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return int(not _eval(node.operand, env, text))
    raise CostcalcError(f"'${{{text}}}' is not allowed: expressions use parameters, whole numbers, "
                        "+ - * // %, comparisons (== != < <= > >=, giving 1 or 0), and, or, not "
                        "and parentheses")


#: ``in.C`` (a block's input size on axis C; ``in`` is a Python keyword) is read as ``in__C``
IN_RE = re.compile(r"\bin\.(\w+)")
IN = "in__"


@functools.lru_cache(maxsize=4096)  # a block's expressions, parsed once, not once per instance
def _parse(expr: str):
    return ast.parse(expr, mode="eval")


@functools.lru_cache(maxsize=4096)  # a block's texts, read once, not once per instance
def _plan(text: str) -> tuple:
    """How a '$...' text is evaluated: ("name", name), ("expr", tree, expr), or ("error", msg)."""
    if text.startswith("${") and text.endswith("}"):
        expr = text[2:-1].strip()
        if len(expr) > MAX_EXPR_LEN:
            return "error", f"expression longer than {MAX_EXPR_LEN} characters"
        expr = IN_RE.sub(lambda m: IN + m.group(1), expr)
        try:
            return "expr", _parse(expr), expr
        except SyntaxError:
            return "error", f"'{text}' is not a valid expression"
    return "name", IN_RE.sub(lambda m: IN + m.group(1), text[1:])


def evaluate(text: str, env: dict):
    """Value of '$name' or '${expr}'; other strings are returned unchanged."""
    if not isinstance(text, str) or not text.startswith("$"):
        return text
    plan = _plan(text)
    if plan[0] == "name":
        name = plan[1]
        if name in env:
            return env[name]
        if name.startswith(IN):
            raise CostcalcError(_no_axis(name, env))
        raise CostcalcError(f"'{text}' is not a parameter of this block "
                            f"(parameters: {_params(env)})")
    if plan[0] == "error":
        raise CostcalcError(plan[1])
    return _eval(plan[1], env, plan[2])


_PLAIN = frozenset((int, float, bool, type(None)))  # values no '$' can be in


class Substitution:
    """'$...' substitution into block layers over a whole expansion, in bounded work.

    A list or mapping that holds no '$' text is used as it is, found once per object rather than
    once per block instance; an aliased subtree is rebuilt once per call, not once per reference.
    Every list or mapping rebuilt counts 1 + its items toward MAX_SUBSTITUTED, over all the
    calls: the work actually done, nodes × block instances, which a few hundred bytes of
    aliases and nested blocks could otherwise make hours long."""

    def __init__(self):
        self._plain: dict[int, tuple] = {}  # id -> (the object, so its id stays its own; no '$' in it)
        self._env, self._done = None, {}  # the last env, and id -> (object, its substitution) in it
        self.built = 0

    def __call__(self, value, env: dict):
        """value with every '$...' string inside replaced; untouched subtrees are value's own."""
        if env is not self._env:  # a block instance's layers share one env: reuse what is done
            self._env, self._done = env, {}
        return self._sub(value, env, self._done)

    def _holds_no_param(self, value) -> bool:
        if isinstance(value, str):
            return not value.startswith("$")
        if not isinstance(value, (dict, list)):
            return True
        known = self._plain.get(id(value))
        if known is None:  # recursion is at most loader.MAX_DEPTH deep
            items = value.values() if isinstance(value, dict) else value
            known = self._plain[id(value)] = (value, all(self._holds_no_param(v) for v in items))
        return known[1]

    def _sub(self, value, env, done):
        if isinstance(value, str):
            return evaluate(value, env) if value.startswith("$") else value
        if self._holds_no_param(value):
            return value
        if id(value) in done:
            return done[id(value)][1]
        self.built += 1 + len(value)
        if self.built > MAX_SUBSTITUTED:
            raise CostcalcError(f"block parameters are substituted into more than {MAX_SUBSTITUTED:,} "
                                "list items and mapping values (each counted once per block instance)")
        if isinstance(value, dict):
            out = Map()
            out.pos, out.key_pos = getattr(value, "pos", None), getattr(value, "key_pos", {})
            done[id(value)] = (value, out)
            for k, v in value.items():
                out[k] = v if type(v) in _PLAIN else self._sub(v, env, done)
        else:
            out = Seq()
            out.pos, out.item_pos = getattr(value, "pos", None), getattr(value, "item_pos", [])
            done[id(value)] = (value, out)
            sub = self._sub
            out.extend(v if type(v) in _PLAIN else sub(v, env, done) for v in value)
        return out


def substitute(value, env: dict):
    """Replace every '$...' string inside value; untouched subtrees are returned as-is (no copies)."""
    return Substitution()(value, env)
