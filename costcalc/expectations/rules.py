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
import functools
import re
from dataclasses import dataclass, field
from fractions import Fraction

from costcalc.errors import CostcalcError, brief
from costcalc.units import PREFIX, exact_number

from costcalc.counting import metrics

# every figure a result carries, except "ops", whose meaning depends on the convention
METRICS = metrics.BUDGETED  # every metric but the convention-dependent ops
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
    published: bool = False  # from a claims source: a published figure, even with a max/min rule
    inverse: bool = False  # the claim was written "1/N": compare N with B / A
    k: int = 1000  # what K/M/G meant where the claim was written (1000 or 1024)


@dataclass
class Outcome:
    expectation: Expectation
    path: str  # the scope it was checked on ("total", a path, or "A / B")
    computed: int | Fraction | None
    verdict: str  # exact rounded truncated mismatch | ok over under | same decreased increased removed | missing
    passed: bool
    detail: str = ""  # one line for humans
    extra: dict = field(default_factory=dict)


# -- reading a written figure --------------------------------------------------------------

@dataclass(frozen=True)
class Written:
    """A figure as written, read exactly: '54M' is 54,000,000 to the nearest million."""

    value: Fraction  # what it says ('1/10' says 10: see ``inverse``)
    precision: Fraction  # one unit of its last written digit
    inverse: bool  # written '1/N'
    suffix: str  # 'M', 'K', 'Ki', '' ...
    scale: int  # what the suffix is worth under the claim's K
    decimals: int  # digits written after the point
    times: bool  # written with '×' ('12×')

    def like(self, x) -> str:
        """x written in this figure's style, two digits finer: 359,661,568 → '359.66M'."""
        v = Fraction(x) / self.scale
        if v.denominator == 1 and not self.suffix:
            text = f"{int(v):,}"
        else:
            text = f"{float(v):,.{self.decimals + 2}f}{self.suffix}"
        return ("1/" if self.inverse else "") + text + ("×" if self.times else "")

    def nearest(self, x, *, truncate: bool = False) -> str:
        """x rounded (half up) or truncated to this figure's precision, written in its style."""
        steps = Fraction(x) / self.precision
        n = int(steps) if truncate else int(steps + Fraction(1, 2))  # x > 0: floor
        v = n * self.precision / self.scale
        text = f"{float(v):.{self.decimals}f}{self.suffix}"
        return ("1/" if self.inverse else "") + text + ("×" if self.times else "")


def parse_written(text, k: int = 1000) -> Written:
    """Read a figure as written: '54M', '1.2B', '159K' (K = k), '1/10', '12×', 0, 2.4."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError(f"expected a figure such as 54M, not {brief(text)}")
    if isinstance(text, int):
        return Written(Fraction(text), Fraction(1), False, "", 1, 0, False)
    s = str(text).strip().replace(",", "").replace("_", "")
    inverse = s.startswith("1/")
    if inverse:
        s = s[2:].strip()
    times = s.endswith(("×", "x"))
    s = s.rstrip("×x").strip()
    suffix, scale = "", 1
    for cand in sorted(PREFIX, key=len, reverse=True):
        if s.endswith(cand):
            s, suffix, scale = s[: -len(cand)].strip(), cand, PREFIX[cand]
            if k == 1024 and cand in ("K", "M", "G", "T"):
                scale = 1024 ** ("KMGT".index(cand) + 1)
            break
    if not s or not all(c.isdigit() or c == "." for c in s) or s.count(".") > 1:
        raise ValueError(f"{brief(text)} is not a figure such as 54M, 1.2B, 159K, 12× or 1/10")
    decimals = len(s.split(".", 1)[1]) if "." in s else 0
    try:  # bounded: a figure of 400 digits would overflow every float it is shown as
        number = exact_number(s)
    except ValueError as exc:
        raise ValueError(f"is a figure {exc}") from None
    if inverse and number == 0:
        raise ValueError(f"{brief(text)} divides by zero")
    return Written(number * scale, Fraction(scale, 10**decimals), inverse, suffix, scale, decimals, times)


def read_written(text, k: int = 1000) -> tuple[Fraction, Fraction, bool]:
    """(value, precision, inverse) of a figure as written: '54M' → (54e6, 1e6, False),
    '1.2B' → (1.2e9, 1e8), '2.7K' with k=1024 → (2764.8, 102.4), '1/10' → (10, 1, True),
    '12×' → (12, 1)."""
    w = parse_written(text, k)
    return w.value, w.precision, w.inverse


def _exact(c: Fraction) -> str:
    return f"{int(c):,}" if c.denominator == 1 else f"{c.numerator:,}/{c.denominator:,}"


def _pct(x: float) -> str:
    """'−5.4%', '+0.3%' (a true minus sign, as in the reports)."""
    return f"{x:+.1%}".replace("-", "−")


def verdict(computed, value: Fraction, precision: Fraction, written: Written | None = None,
            tolerance: Fraction = Fraction(0)) -> tuple[str, str]:
    """(verdict, one-line detail) of a claimed value against the exact computed figure.

    exact      the claim is the computed figure
    rounded    the computed figure rounded (half up) to the claim's last digit is the claim
    truncated  the computed figure cut off after the claim's last digit is the claim
    mismatch   neither; the detail gives the error of the computed figure against the claim and
               the factor by which the claim is off: 'computed −5.4% vs the claim, which is
               1.06× too high' (within a tolerance, it says so)
    """
    c = Fraction(computed)
    binary = ""
    if written is not None:
        shown = written.like(c)
        if written.suffix in ("K", "M", "G", "T") and written.scale % 1024 == 0:
            binary = " (K = 1024)"
            shown += binary
    else:
        shown = f"{float(c):,.6g}"
    if c == value:
        if written is not None and (written.suffix or written.inverse or written.times):
            return "exact", f"{written.nearest(c)}{binary} is exactly {_exact(c)}"
        return "exact", "exactly the computed figure"
    if -precision <= 2 * (c - value) < precision:
        return "rounded", f"{shown} rounds to {written.nearest(c) if written else 'the claim'}"
    if value <= c < value + precision:
        if written is None:
            return "truncated", f"{shown} truncated is the claim"
        return "truncated", (f"{shown} truncates to {written.nearest(c, truncate=True)} "
                             f"(rounding gives {written.nearest(c)})")
    if c == 0:
        return "mismatch", "the computed figure is 0"
    if value == 0:
        return "mismatch", f"the claim is 0, the computed figure {shown}"
    rel = float((c - value) / value)
    factor = value / c
    high = factor >= 1
    f = float(factor if high else 1 / factor)
    f_text = f"{f:.1f}" if f >= 2 else f"{f:.2f}" if f >= 1.01 else f"{f:.3f}"
    text = f"computed {_pct(rel)} vs the claim, which is {f_text}× too {'high' if high else 'low'}"
    if tolerance and abs(c - value) <= tolerance * abs(value):
        text += f", within its ±{float(tolerance):.1%} tolerance"
    return "mismatch", text


# -- scopes --------------------------------------------------------------------------------

def resolve(result, scope: str) -> list[tuple[str, dict]]:
    """The (path, totals) pairs a scope names in a ModelResult; [] when it names nothing."""
    if scope == "total":
        return [("total", result.totals)]
    scoped, layers = _index(result)
    if scope.startswith("block:"):
        name = scope[len("block:"):]
        return [(p, scoped[p]) for p, inst in result.instances.items() if inst.block == name]
    paths = list(scoped) + list(layers)
    hits = [p for p in paths if glob_match(scope, p)] if any(c in scope for c in "*?[") else \
        [scope] if scope in scoped or scope in layers else []
    out = []
    for p in hits:
        if p in scoped:
            out.append((p, scoped[p]))
        else:
            l = layers[p]
            out.append((p, {m: l.get(m) for m in METRICS}))
    return out


def _index(result) -> tuple[dict, dict]:
    """(scope totals by path, layers by path) of a result, computed once per result: a lock
    has an expectation for every figure of every path."""
    index = getattr(result, "_expect_index", None)
    if index is None:
        index = (result.scope_totals(), {l.name: l for l in result.layers})
        result._expect_index = index
    return index


def glob_match(pattern: str, path: str) -> bool:
    """Path globs: ``*`` and ``?`` stay within one path level, ``**`` spans levels, ``[...]``
    as in fnmatch. ``inception_4*`` names the instances inception_4a..e, not their layers;
    ``inception_4*/b3`` a layer in each, ``inception_4a/**`` everything inside one.

    Matched as a set of pattern positions stepped once per character of the path (time
    len(path) × len(pattern)), never by backtracking: a regex of many stars ending in a
    literal tries every split of the path (24 stars took 46 s)."""
    tokens = _glob_tokens(pattern)
    end = len(tokens)
    states = _skip_stars({0}, tokens)
    for ch in path:
        nxt = set()
        for i in states:
            if i == end:
                continue
            t = tokens[i]
            if t is _ANY or t is _STAR:
                if t is _ANY or ch != "/":
                    nxt.add(i)  # a star takes this character and may take more
            elif t is _ONE:
                if ch != "/":
                    nxt.add(i + 1)
            elif isinstance(t, str):
                if t == ch:
                    nxt.add(i + 1)
            elif t.fullmatch(ch):
                nxt.add(i + 1)
        if not nxt:
            return False
        states = _skip_stars(nxt, tokens)
    return end in states


_ANY, _STAR, _ONE = object(), object(), object()  # **, *, ?


def _skip_stars(states: set, tokens: tuple) -> set:
    """The states plus those reached by letting stars match nothing."""
    out = set(states)
    for i in sorted(states):
        while i < len(tokens) and (tokens[i] is _ANY or tokens[i] is _STAR):
            i += 1
            out.add(i)
    return out


@functools.lru_cache(maxsize=256)
def _glob_tokens(pattern: str) -> tuple:
    """One token per character to match: a literal character, _ONE, a compiled one-character
    class, or a star (_STAR, _ANY; a run of stars is one token, as it matches the same)."""
    out: list = []
    for part in re.split(r"(\*\*|\*|\?|\[[^\]]*\])", pattern):
        if part in ("**", "*"):
            star = _ANY if part == "**" else _STAR
            if out and (out[-1] is _ANY or out[-1] is _STAR):
                out[-1] = _ANY if _ANY in (out[-1], star) else _STAR
            else:
                out.append(star)
        elif part == "?":
            out.append(_ONE)
        elif part.startswith("[") and part.endswith("]") and len(part) > 2:
            out.append(re.compile(fnmatch.translate(part)[4:-3]))  # fnmatch's class syntax, e.g. [!a-c]
        else:
            out.extend(part)
    return tuple(out)


# -- evaluation ------------------------------------------------------------------------------

def evaluate(expectations, results) -> list[Outcome]:
    """Outcomes for expectations; ``results(spec_path)`` returns that spec's ModelResult."""
    out = []
    for e in expectations:
        if e.ratio is not None:
            out.append(_ratio(e, results))
            continue
        hits = resolve(results(e.spec), e.scope)
        if not hits and e.rule == "lock":  # a locked layer or block that is gone: a decrease
            out.append(Outcome(e, e.scope, 0, "removed", True,
                               f"'{e.scope}' is no longer in {e.spec}; re-lock to drop it"))
            continue
        if not hits:
            out.append(Outcome(e, e.scope, None, "missing", e.rule == "claim" and e.informational,
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


def _written(e: Expectation) -> Written | None:
    try:
        return parse_written(e.text, e.k) if e.text != "" else None
    except ValueError:
        return None


def _judge(e: Expectation, computed) -> tuple[str, str, bool]:
    """(verdict, detail, passed) of a claim; a mismatch passes within its tolerance or if it is
    informational."""
    precision = e.precision if e.precision is not None else Fraction(1)
    v, detail = verdict(computed, e.value, precision, _written(e), e.tolerance)
    within = v != "mismatch" or abs(Fraction(computed) - e.value) <= e.tolerance * abs(e.value)
    return v, detail, within or e.informational


def _claim(e: Expectation, path, computed) -> Outcome:
    v, detail, ok = _judge(e, computed)
    return Outcome(e, path, computed, v, ok, detail)


def _ratio(e: Expectation, results) -> Outcome:
    a, b = e.ratio
    ra, rb = results(a), results(b)
    num, den = ra.totals[e.metric], rb.totals[e.metric]
    label = f"{ra.name} / {rb.name}"
    extra = {"numerator": num, "denominator": den, "specs": [a, b]}
    if den == 0 or num == 0:
        return Outcome(e, label, None, "missing", e.informational,
                       "a ratio with a zero figure is undefined", extra)
    computed = Fraction(num, den)
    # written "1/N": judge N against den/num
    judged = 1 / computed if e.inverse else computed
    v, detail, ok = _judge(e, judged)
    extra["ratio"] = judged  # the ratio in the claim's own terms: 8.71 for "1/12" (12× fewer)
    extra["ratio_text"] = ratio_text(e, judged)
    return Outcome(e, label, computed, v, ok, f"{extra['ratio_text']}; {detail}", extra)


def ratio_text(e: Expectation, judged: Fraction) -> str:
    """A ratio claim's computed figure in its own terms: '8.71× fewer params (claimed 12×)' for
    a claim written '1/12', '2.37× more macs (claimed 2×)' for one written '2×'."""
    claimed = e.text[2:].strip() if e.inverse else e.text
    claimed = claimed if claimed.endswith(("×", "x")) else claimed + "×"
    how = "fewer" if e.inverse else "more" if e.value >= 1 else "as many"
    return f"{float(judged):.3g}× {how} {e.metric} (claimed {claimed.rstrip('x').rstrip('×')}×)"


def _over_text(computed: int, limit: Fraction) -> str:
    diff = Fraction(computed) - limit
    pct = f" ({float(diff / limit):+.2%})" if limit else ""
    sign = "+" if diff >= 0 else "−"
    d = abs(diff)
    d_text = f"{int(d):,}" if d.denominator == 1 else f"{float(d):,.1f}"
    return f"{computed:,} vs {_num(limit)}: {sign}{d_text}{pct}"


def _num(v: Fraction) -> str:
    return f"{int(v):,}" if v.denominator == 1 else f"{float(v):,.2f}"
