"""Expectations: one mechanism for published claims, budgets and the baseline lock.

An expectation names a metric of a scope and a rule:

    claim   the value as written, read at the precision it was written with
            ("54M" means 54,000,000 to the nearest million): exact, rounded, truncated or mismatch
    max     a budget's upper limit (computed <= value, plus an optional relative tolerance)
    min     a budget's lower limit
    lock    no increase over the locked figure beyond a relative tolerance (default 0)

A scope is ``total``, a layer or block-instance path (``inception_4a``), a glob over paths
(``inception_4*``), or ``block:NAME`` (every instance of a block). A claim may instead relate
two specs: ``ratio: [A, B]`` compares metric(A) / metric(B).

Sources (spec ``claims:``/``budget:`` sections, budget files, lock files) build Expectation
objects; ``evaluate`` turns them into Outcomes; reports format the outcomes.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from fractions import Fraction

from .errors import CostcalcError
from .units import PREFIX

METRICS = ("params", "weights", "biases", "macs", "flops", "elementops", "activations",
           "activation_bytes")
RULES = ("claim", "max", "min", "lock")


@dataclass
class Expectation:
    rule: str  # one of RULES
    spec: str  # the spec file it applies to
    scope: str  # "total", a path, a glob, or "block:NAME"
    metric: str  # one of METRICS
    value: Fraction  # exact: the limit, the locked figure, or the claim as read
    text: str = ""  # as written: "54M", "7M", "1/10"
    tolerance: Fraction = Fraction(0)  # relative
    precision: Fraction | None = None  # claims: one unit of the last written digit
    source: str = ""
    note: str = ""  # a known explanation, shown beside the verdict
    informational: bool = False  # a claim (any rule) whose failure is shown but never fails check
    origin: tuple = (None, None, None)  # (file, line, column) where it was written
    ratio: tuple | None = None  # (spec A, spec B) for a claim on metric(A) / metric(B)
    inverse: bool = False  # the claim was written "1/N": compare N with B / A


@dataclass
class Outcome:
    expectation: Expectation
    path: str  # the scope it was checked on ("total", a path, or "A / B")
    computed: int | Fraction | None
    verdict: str  # exact rounded truncated mismatch | ok over under | same decreased increased | missing
    passed: bool
    detail: str = ""  # one line for humans
    extra: dict = field(default_factory=dict)


# -- reading a written figure --------------------------------------------------------------

def read_written(text, k: int = 1000) -> tuple[Fraction, Fraction, bool]:
    """(value, precision, inverse) of a figure as written: '54M' → (54e6, 1e6, False),
    '1.2B' → (1.2e9, 1e8), '2.7K' with k=1024 → (2764.8, 102.4), '1/10' → (10, 1, True),
    '12×' → (12, 1)."""
    if isinstance(text, bool):
        raise ValueError(f"expected a figure such as 54M, not {text!r}")
    if isinstance(text, int):
        return Fraction(text), Fraction(1), False
    s = str(text).strip().replace(",", "").replace("_", "")
    inverse = False
    if s.startswith("1/"):
        s, inverse = s[2:].strip(), True
    s = s.rstrip("×x").strip()
    scale = 1
    for suffix in sorted(PREFIX, key=len, reverse=True):
        if s.endswith(suffix):
            s, scale = s[: -len(suffix)].strip(), PREFIX[suffix]
            if k == 1024 and suffix in ("K", "M", "G", "T"):
                scale = 1024 ** ("KMGT".index(suffix) + 1)
            break
    try:
        number = Fraction(s)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"'{text}' is not a figure such as 54M, 1.2B, 159K, 12× or 1/10") from None
    decimals = len(s.split(".", 1)[1]) if "." in s else 0
    return number * scale, Fraction(scale, 10**decimals), inverse


def verdict(computed, value: Fraction, precision: Fraction) -> tuple[str, str]:
    """(verdict, one-line detail) of a claimed value against the exact computed figure."""
    computed = Fraction(computed)
    if computed == value:
        return "exact", "exact"
    if abs(computed - value) * 2 <= precision:
        return "rounded", "equals the computed figure rounded"
    if value <= computed < value + precision:
        return "truncated", "equals the computed figure truncated"
    if computed == 0:
        return "mismatch", "the computed figure is 0"
    # relative error of the claim against the truth, and the factor it is off by
    rel = float((computed - value) / value) if value else float("inf")
    factor = value / computed
    high = factor >= 1
    f = float(factor if high else 1 / factor)
    f_text = f"{f:.1f}" if f >= 2 else f"{f:.2f}"
    return "mismatch", f"computed is {rel:+.1%} of the claim ({f_text}× too {'high' if high else 'low'})"


# -- scopes --------------------------------------------------------------------------------

def resolve(result, scope: str) -> list[tuple[str, dict]]:
    """The (path, totals) pairs a scope names in a ModelResult; [] when it names nothing."""
    if scope == "total":
        return [("total", result.totals)]
    scoped = result.scope_totals()
    if scope.startswith("block:"):
        name = scope[len("block:"):]
        return [(p, scoped[p]) for p, inst in result.instances.items() if inst.block == name]
    layers = {l.name: l for l in result.layers}
    paths = list(scoped) + list(layers)
    hits = fnmatch.filter(paths, scope) if any(c in scope for c in "*?[") else \
        [scope] if scope in scoped or scope in layers else []
    out = []
    for p in hits:
        if p in scoped:
            out.append((p, scoped[p]))
        else:
            l = layers[p]
            out.append((p, {m: l.get(m) for m in METRICS}))
    return out


# -- evaluation ------------------------------------------------------------------------------

def evaluate(expectations, results) -> list[Outcome]:
    """Outcomes for expectations; ``results(spec_path)`` returns that spec's ModelResult."""
    out = []
    for e in expectations:
        if e.ratio is not None:
            out.append(_ratio(e, results))
            continue
        hits = resolve(results(e.spec), e.scope)
        if not hits:
            out.append(Outcome(e, e.scope, None, "missing", False,
                               f"'{e.scope}' names no layer or block in {e.spec}"))
            continue
        for path, totals in hits:
            out.append(_one(e, path, totals[e.metric]))
    return out


def _one(e: Expectation, path: str, computed: int) -> Outcome:
    limit = e.value * (1 + e.tolerance)
    if e.rule == "max":
        ok = computed <= limit
        return Outcome(e, path, computed, "ok" if ok else "over", ok or e.informational,
                       _over_text(computed, e.value))
    if e.rule == "min":
        ok = computed >= e.value * (1 - e.tolerance)
        return Outcome(e, path, computed, "ok" if ok else "under", ok or e.informational,
                       _over_text(computed, e.value))
    if e.rule == "lock":
        if computed == e.value:
            return Outcome(e, path, computed, "same", True, "unchanged")
        if computed < e.value:
            return Outcome(e, path, computed, "decreased", True,
                           _over_text(computed, e.value) + "; re-lock to keep the gain")
        return Outcome(e, path, computed, "increased", computed <= limit, _over_text(computed, e.value))
    if e.rule == "claim":
        return _claim(e, path, computed)
    raise CostcalcError(f"unknown rule '{e.rule}'")


def _claim(e: Expectation, path, computed) -> Outcome:
    value, precision = e.value, e.precision if e.precision is not None else Fraction(1)
    v, detail = verdict(computed, value, precision)
    within = v != "mismatch" or abs(Fraction(computed) - value) <= e.tolerance * Fraction(computed)
    return Outcome(e, path, computed, v, within or e.informational, detail)


def _ratio(e: Expectation, results) -> Outcome:
    a, b = e.ratio
    num, den = results(a).totals[e.metric], results(b).totals[e.metric]
    label = f"{a} / {b}"
    if den == 0 or num == 0:
        return Outcome(e, label, None, "missing", False, "a ratio with a zero figure is undefined")
    computed = Fraction(num, den)
    if e.inverse:  # written "1/N": judge N against den/num
        v, detail = verdict(1 / computed, e.value, e.precision or Fraction(1))
    else:
        v, detail = verdict(computed, e.value, e.precision or Fraction(1))
    ok = v != "mismatch" or e.informational
    return Outcome(e, label, computed, v, ok, detail, {"numerator": num, "denominator": den})


def _over_text(computed: int, limit: Fraction) -> str:
    diff = Fraction(computed) - limit
    pct = f" ({float(diff / limit):+.2%})" if limit else ""
    sign = "+" if diff >= 0 else "−"
    d = abs(diff)
    d_text = f"{int(d):,}" if d.denominator == 1 else f"{float(d):,.1f}"
    return f"{computed:,} vs {_num(limit)}: {sign}{d_text}{pct}"


def _num(v: Fraction) -> str:
    return f"{int(v):,}" if v.denominator == 1 else f"{float(v):,.2f}"
