"""Published claims: figures that papers and reviews state about a model, read as Expectations.

A spec states claims in its ``claims:`` list, in a claims file beside it (``<stem>.claims.yaml``,
read automatically), or in a claims file that a ``claims:`` item includes::

    claims:
      - scope: inception_5a        # total (default) | a layer/block path | a glob | block:NAME
        metric: macs               # params | weights | biases | macs | flops | elementops | ...
        value: 54M                 # as written: 54M, 1.2B, 159K, 2.7K, 12×, 1/10, 0
        k: 1000                    # how K/M/G are read: 1000 (default) or 1024
        tolerance: 0               # relative ("5%" or 0.05), optional
        source: "Szegedy et al. 2014, Table 1"
        note: "..."                # a known rule that explains a difference, one line
        informational: true        # shown with its verdict, but never fails `check`
        rule: claim                # claim (default): the figure as written; max | min: a limit
      - metric: params
        ratio: [self, ../classic/alexnet_2012.yaml]   # metric(A) / metric(B), paths relative
        value: 1/12                                   # to the claiming spec's folder
      - include: googlenet.claims.yaml                # every claim of that file

A claims file is a mapping with ``claims:`` (a list as above) and optionally ``defaults:``
(keys every claim of the file takes unless it gives its own) and ``description:``.

``claims_for(spec)`` returns the Expectations; ``claim_outcomes(result)`` evaluates them.
"""
from __future__ import annotations

import os
from fractions import Fraction

from costcalc.errors import CostcalcError, did_you_mean, brief
from costcalc.expectations.rules import METRICS, Expectation, Outcome, evaluate, parse_written
from costcalc.spec.yamlio import load_yaml_file, pos_of
from costcalc.units import exact_number

CLAIM_KEYS = ("scope", "metric", "value", "k", "tolerance", "source", "note", "informational", "ratio",
              "rule")
#: how a claim is read: the figure as written (claim), or a published limit (max, min: "within a
#: budget of 1.5 billion multiply-adds" is an upper bound, not an estimate)
CLAIM_RULES = ("claim", "max", "min")
FILE_KEYS = ("claims", "defaults", "description")
SELF = "self"
MAX_INCLUDES = 8


def claims_file_of(spec_file: str) -> str:
    """The claims file read automatically beside a spec: specs/googlenet.yaml →
    specs/googlenet.claims.yaml."""
    stem, _ = os.path.splitext(spec_file)
    return stem + ".claims.yaml"


def claims_for(spec) -> list[Expectation]:
    """The claims a spec states: its ``claims:`` list, then its claims file, if present."""
    reader = _Reader(spec)
    items = spec.raw.get("claims")
    out: list[Expectation] = []
    if items is not None:
        out += reader.read_list(items, spec.file, spec.raw, "claims", {}, ())
    if spec.file:
        beside = claims_file_of(spec.file)
        if os.path.exists(beside):  # read_text refuses a pipe or device by this name
            out += reader.read_file(beside, spec.raw, None, ())
    return out


def claim_outcomes(result) -> list[Outcome]:
    """The claims of a ModelResult's spec, judged at the spec's own batch (a claim is about the
    model as published, not about ``--batch``)."""
    from costcalc.counting.results import analyze

    spec = result.graph.spec
    expectations = claims_for(spec)
    if not expectations:
        return []
    own = result if (result.batch, result.dtype) == (spec.batch, spec.dtype) else analyze(result.graph)
    cache = {_key(spec.file): own}

    def results(path):
        key = _key(path)
        if key not in cache:
            cache[key] = analyze(path)
        return cache[key]

    return evaluate(expectations, results)


def outcome_dict(o: Outcome) -> dict:
    """One claim's outcome as JSON: exact integers (a ratio as a float plus its two totals)."""
    e = o.expectation
    computed = o.computed
    if computed is not None and not isinstance(computed, int):
        computed = int(computed) if computed.denominator == 1 else float(computed)
    d = {"scope": o.path if e.ratio is None else "ratio", "metric": e.metric, "claimed": e.text,
         "computed": computed, "verdict": o.verdict, "passed": o.passed, "detail": o.detail,
         "note": e.note, "source": e.source, "informational": e.informational, "k": e.k,
         "rule": e.rule}
    if e.tolerance:
        d["tolerance"] = float(e.tolerance)
    if e.ratio is not None:
        d["ratio"] = o.path
        d.update({k: v for k, v in o.extra.items() if k in ("numerator", "denominator")})
        if "ratio_text" in o.extra:  # the claim's own terms: 8.71 (× fewer) against "1/12"
            d["ratio_computed"] = float(o.extra["ratio"])
            d["ratio_text"] = o.extra["ratio_text"]
    if e.origin[0]:
        d["origin"] = ":".join(str(p) for p in e.origin if p is not None)
    return d


def _key(path) -> str:
    return os.path.normpath(os.path.abspath(path)) if path else ""


class _Reader:
    def __init__(self, spec):
        self.spec = spec
        self.folder = os.path.dirname(spec.file) if spec.file else "."

    def err(self, msg, file, node, key=None):
        pos = pos_of(node, key)
        return CostcalcError(f"claims: {msg}", file=file, line=pos[0] if pos else None,
                             column=pos[1] if pos else None)

    def read_file(self, path, parent, parent_key, seen) -> list[Expectation]:
        key = _key(path)
        if key in seen:
            raise self.err(f"'{path}' includes itself", path, parent, parent_key)
        if len(seen) >= MAX_INCLUDES:
            raise self.err(f"claims files include each other more than {MAX_INCLUDES} deep", path,
                           parent, parent_key)
        doc = load_yaml_file(path, what="claims")
        for k in doc:
            if k not in FILE_KEYS:
                raise self.err(f"unknown key '{k}'{did_you_mean(str(k), FILE_KEYS)}; a claims file "
                               f"has: {', '.join(FILE_KEYS)}", path, doc, k)
        if "claims" not in doc:
            raise self.err("a claims file needs a 'claims:' list", path, doc)
        defaults = doc.get("defaults") or {}
        if not isinstance(defaults, dict):
            raise self.err("'defaults' must be a mapping of claim keys", path, doc, "defaults")
        for k in defaults:
            if k not in CLAIM_KEYS or k in ("value", "ratio"):
                raise self.err(f"'defaults' cannot set '{k}'; it may set: "
                               f"{', '.join(c for c in CLAIM_KEYS if c not in ('value', 'ratio'))}",
                               path, defaults, k)
        return self.read_list(doc["claims"], path, doc, "claims", defaults, seen + (key,))

    def read_list(self, items, file, parent, parent_key, defaults, seen) -> list[Expectation]:
        if not isinstance(items, list):
            raise self.err("'claims' must be a list of claims", file, parent, parent_key)
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.err("a claim is a mapping such as {metric: macs, value: 54M}", file, items, i)
            if "include" in item:
                if len(item) != 1:
                    other = next(k for k in item if k != "include")
                    raise self.err("an 'include' item includes a claims file and has no other keys",
                                   file, item, other)
                target = item["include"]
                if not isinstance(target, str) or not target.strip():
                    raise self.err("'include' names a claims file", file, item, "include")
                path = os.path.normpath(os.path.join(os.path.dirname(file) if file else ".", target))
                if not os.path.isfile(path):
                    raise self.err(f"'include' names '{target}', which is not a file ({path})",
                                   file, item, "include")
                out += self.read_file(path, item, "include", seen)
                continue
            out.append(self.read_one(item, file, {**defaults, **item}))
        return out

    def read_one(self, item, file, c) -> Expectation:
        for k in item:
            if k not in CLAIM_KEYS:
                raise self.err(f"unknown key '{k}'{did_you_mean(str(k), CLAIM_KEYS)}; a claim has: "
                               f"{', '.join(CLAIM_KEYS)} (or is {{include: FILE}})", file, item, k)

        metric = c.get("metric")
        if metric not in METRICS:
            raise self.err(f"unknown metric {brief(metric)}{did_you_mean(metric, METRICS) if isinstance(metric, str) else ''}; metrics: "
                           f"{', '.join(METRICS)}", file, item, "metric" if "metric" in item else None)
        k = c.get("k", 1000)
        if k not in (1000, 1024) or isinstance(k, bool):
            raise self.err(f"'k' is 1000 or 1024, not {brief(k)}", file, item, "k" if "k" in item else None)
        if "value" not in c:
            raise self.err("a claim needs a 'value' (as written: 54M, 1.2B, 159K, 1/10)", file, item)
        try:
            written = parse_written(c["value"], k)
        except ValueError as exc:
            raise self.err(f"'value' {exc}", file, item, "value") from None
        if written.inverse and "ratio" not in c:
            raise self.err("a '1/N' value belongs to a ratio claim (ratio: [A, B])", file, item, "value")
        tolerance = self._tolerance(c.get("tolerance", 0), file, item)
        texts = {}
        for key in ("source", "note"):
            v = c.get(key, "")
            if not isinstance(v, str) or "\n" in v.strip():
                raise self.err(f"'{key}' is one line of text", file, item, key if key in item else None)
            texts[key] = v.strip()
        info = c.get("informational", False)
        if not isinstance(info, bool):
            raise self.err(f"'informational' is true or false, not {brief(info)}", file, item, "informational")
        scope = c.get("scope", "total")
        if not isinstance(scope, str) or not scope.strip():
            raise self.err("'scope' is total, a layer or block path, a glob, or block:NAME", file,
                           item, "scope")
        ratio = None
        if "ratio" in c:
            if "scope" in item:
                raise self.err("a ratio claim compares two models' totals; it takes no 'scope'",
                               file, item, "scope")
            ratio = self._ratio(c["ratio"], file, item)
        rule = c.get("rule", "claim")
        if rule not in CLAIM_RULES:
            raise self.err(f"'rule' is {', '.join(CLAIM_RULES)}, not {brief(rule)}", file, item,
                           "rule" if "rule" in item else None)
        if rule != "claim" and (ratio is not None or written.inverse):
            raise self.err(f"a '{rule}' claim is a limit on one model's figure; it takes no ratio",
                           file, item, "rule")
        pos = pos_of(item) or (None, None)
        return Expectation(
            rule=rule, spec=self.spec.file or "", scope=scope.strip(), metric=metric,
            value=written.value, text=str(c["value"]).strip(), tolerance=tolerance,
            precision=written.precision, source=texts["source"], note=texts["note"],
            informational=info, origin=(file, pos[0], pos[1]), ratio=ratio,
            inverse=written.inverse, k=k, published=True)

    def _tolerance(self, value, file, item) -> Fraction:
        try:
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise ValueError  # never str() of a list: aliases make it gigabytes long
            if isinstance(value, str) and value.strip().endswith("%"):
                t = exact_number(value.strip()[:-1]) / 100
            else:
                t = exact_number(str(value))
        except (ValueError, ZeroDivisionError) as exc:
            why = f" ({exc})" if str(exc) and not isinstance(exc, ZeroDivisionError) else ""
            raise self.err(f"'tolerance' is a relative figure such as 0.05 or '5%', not {brief(value)}{why}",
                           file, item, "tolerance") from None
        if t < 0:
            raise self.err(f"'tolerance' must be 0 or more, not {brief(value)}", file, item, "tolerance")
        return t

    def _ratio(self, pair, file, item) -> tuple[str, str]:
        if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(p, str) for p in pair):
            raise self.err("'ratio' is [A, B]: two spec paths (or self), for metric(A) / metric(B)",
                           file, item, "ratio")
        out = []
        for i, p in enumerate(pair):
            if p == SELF:
                if not self.spec.file:
                    raise self.err("'self' in a ratio needs a spec read from a file", file, pair, i)
                out.append(self.spec.file)
                continue
            path = os.path.normpath(os.path.join(self.folder, p))
            if not os.path.isfile(path):
                raise self.err(f"ratio spec '{p}' not found ({path}; paths are relative to the "
                               "claiming spec's folder)", file, pair, i)
            out.append(path)
        return out[0], out[1]
