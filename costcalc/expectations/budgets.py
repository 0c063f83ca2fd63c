"""Budgets: upper (and lower) limits on a spec's figures, as expectations.

A budget section maps a scope to limits per metric. It sits in a spec's ``budget:`` key, or,
per spec glob, in a project budgets file (see project.py for where that file is found)::

    budget:
      total: {params: 7M, macs: 1.6G}           # a bare figure is an upper limit
      "inception_4*": {macs: {max: 200M, min: 10M}}
      "block:inception": {params: 1.5M}          # every instance of the block
      inception_3a/b3: {activation_bytes: 512Ki}

Scopes are those of expect.py: ``total``, a layer or block-instance path, a glob over paths,
or ``block:NAME``. Figures take human units: K M G T (powers of 1000) and Ki Mi Gi Ti
(powers of 1024). Limits are inclusive: a model exactly at its budget passes.
"""
from __future__ import annotations

import re
from pathlib import Path

from costcalc.errors import CostcalcError, did_you_mean, brief
from costcalc.expectations.rules import METRICS, Expectation
from costcalc.spec.yamlio import load_yaml_file, pos_of
from costcalc.expectations.project import canon, expand_globs
from costcalc.spec.schema import is_spec_file
from costcalc.units import parse_quantity

LIMIT_KEYS = ("max", "min")
SCOPE_RE = re.compile(r"^(total|block:[A-Za-z0-9_][A-Za-z0-9_\-]*|[A-Za-z0-9_*?\[\]!/\-]+)$")


def _err(msg, file, node, key=None):
    pos = pos_of(node, key)
    return CostcalcError(msg, file=file, line=pos[0] if pos else None, column=pos[1] if pos else None)


def _figure(value, file, node, key, what):
    try:
        q = parse_quantity(value)
    except ValueError as exc:
        raise _err(f"{what}: {exc}", file, node, key) from None
    if q < 0:
        raise _err(f"{what}: a limit cannot be negative ({value})", file, node, key)
    if q.denominator != 1:
        raise _err(f"{what}: '{value}' is {float(q):,}, not a whole number of units", file, node, key)
    return q


def parse_section(section, *, spec: str, file: str, source: str, blocks=None) -> list[Expectation]:
    """Expectations (rules max/min) for ``spec`` from one budget section written in ``file``.

    ``blocks``: the spec's block names, to check ``block:NAME`` scopes where they are written
    (a spec's own section); None skips that check (a budgets file may cover many specs)."""
    if not isinstance(section, dict) or not section:
        raise _err("a budget is a mapping of scope (total, a path, a glob or block:NAME) to "
                   "limits, e.g. total: {params: 7M, macs: 1.6G}", file, section)
    out = []
    for scope, limits in section.items():
        where = f"budget '{scope}'"
        if not isinstance(scope, str) or not SCOPE_RE.match(scope):
            raise _err(f"budget scope {brief(scope)} must be total, a layer path, a glob such as "
                       "inception_4*, or block:NAME", file, section, scope)
        if blocks is not None and scope.startswith("block:") and scope[6:] not in blocks:
            name = scope[6:]
            raise _err(f"{where}: the spec has no block '{name}'{did_you_mean(name, blocks)}",
                       file, section, scope)
        if not isinstance(limits, dict) or not limits:
            raise _err(f"{where}: limits must be a mapping of metric to figure, "
                       "e.g. {macs: 200M} or {macs: {max: 200M, min: 10M}}", file, section, scope)
        for metric, limit in limits.items():
            if metric not in METRICS:
                raise _err(f"{where}: unknown metric '{metric}'{did_you_mean(str(metric), METRICS)}; "
                           f"metrics: {', '.join(METRICS)}", file, limits, metric)
            if isinstance(limit, dict):
                if not limit:
                    raise _err(f"{where} {metric}: give max, min or both", file, limits, metric)
                for key in limit:
                    if key not in LIMIT_KEYS:
                        raise _err(f"{where} {metric}: unknown key '{key}'"
                                   f"{did_you_mean(str(key), LIMIT_KEYS)}; a limit has: max, min",
                                   file, limit, key)
                bounds = [(k, limit[k], limit, k) for k in LIMIT_KEYS if k in limit]
            else:
                bounds = [("max", limit, limits, metric)]
            values = {}
            for rule, text, node, key in bounds:
                values[rule] = _figure(text, file, node, key, f"{where} {metric} {rule}")
                pos = pos_of(node, key) or (None, None)
                out.append(Expectation(rule=rule, spec=spec, scope=scope, metric=metric,
                                       value=values[rule], text=str(text), source=source,
                                       origin=(file, pos[0], pos[1])))
            if "min" in values and "max" in values and values["min"] > values["max"]:
                raise _err(f"{where} {metric}: min {limit['min']} is above max {limit['max']}",
                           file, limits, metric)
    return out


def spec_budgets(result) -> list[Expectation]:
    """The expectations of a spec's own ``budget:`` section (none if it has none)."""
    spec = result.graph.spec
    section = spec.raw.get("budget")
    if section is None:
        return []
    return parse_section(section, spec=canon(spec.file), file=spec.file, source="spec budget",
                         blocks=set(spec.blocks))


class BudgetsFile:
    """A project budgets file: spec globs (relative to the file) mapped to budget sections."""

    def __init__(self, path):
        self.path = canon(path)
        self.base = Path(path).resolve().parent
        doc = load_yaml_file(str(path), what="budgets")
        self.entries = []  # (glob, matched spec paths, expectations per matched spec)
        for pattern, section in doc.items():
            if not isinstance(pattern, str) or not pattern.strip():
                raise _err(f"a budgets file maps spec files (globs allowed) to budgets; "
                           f"{brief(pattern)} is not a file name", self.path, doc, pattern)
            # spec files only: '*' must not take in the lock, pyproject.toml or claims files
            hits = [h for h in expand_globs([pattern], self.base) if h != self.path and is_spec_file(h)]
            # parse once, even when nothing matches, so errors show whatever the specs are
            parsed = parse_section(section, spec="", file=self.path, source=self.path)
            self.entries.append((pattern, hits, parsed, pos_of(doc, pattern)))

    def specs(self) -> list[str]:
        return list(dict.fromkeys(s for _, hits, _, _ in self.entries for s in hits))

    def expectations(self, specs, explicit: bool) -> list[Expectation]:
        """Expectations for the given specs. Unless ``explicit`` (the user named the specs), an
        entry that matches no spec file yields expectations on the missing path, which check
        reports as failures ("no spec file matches")."""
        out = []
        for pattern, hits, parsed, pos in self.entries:
            targets = [s for s in hits if s in specs]
            if not hits and not explicit:
                targets = [canon(self.base / pattern)]
            for s in targets:
                out += [_with_spec(e, s) for e in parsed]
        return out


def _with_spec(e: Expectation, spec: str) -> Expectation:
    from dataclasses import replace

    return replace(e, spec=spec)
