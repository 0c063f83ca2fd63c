"""`costcalc check` and `costcalc lock`: gather expectations from every source, evaluate them
with expect.evaluate, and diff layers against the lock. Renderers live in report/check.py.

A source is a function of the check Context returning Expectations. Check evaluates them all
together; a new kind of expectation plugs in with one line in SOURCES, e.g. published claims:
``per_spec(claims_for)`` (claims.claims_for(spec) -> list[Expectation]).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

from costcalc.expectations import lock as lockfile
from costcalc.expectations.budgets import BudgetsFile, spec_budgets
from costcalc.errors import CostcalcError
from costcalc.expectations.rules import Expectation, Outcome, evaluate
from costcalc.expectations.project import Project, canon, config_specs, load_project

from costcalc.errors import EXIT_FAIL, EXIT_OK  # noqa: E402
KIND = {"max": "budget", "min": "budget", "lock": "lock", "claim": "claim"}
SYMBOL = {"max": "≤", "min": "≥", "lock": "≤ locked", "claim": "≈"}


@dataclass
class Context:
    project: Project
    specs: list  # canonical spec paths to check
    explicit: bool  # named on the command line (stale project entries are then not reported)
    budgets: BudgetsFile | None
    lock: lockfile.Lock | None
    results: Callable  # canonical spec path -> ModelResult (cached)


def per_spec(fn) -> Callable:
    """A source from a function of one loaded spec (costcalc.spec.schema.Spec, as analysed: its
    ``file`` is the spec's canonical path) that returns its expectations."""
    return lambda ctx: [e for s in ctx.specs for e in fn(ctx.results(s).graph.spec)]


def spec_budget_source(ctx: Context):
    return [e for s in ctx.specs for e in spec_budgets(ctx.results(s))]


def budgets_file_source(ctx: Context):
    return ctx.budgets.expectations(ctx.specs, ctx.explicit) if ctx.budgets else []


def lock_source(ctx: Context):
    return ctx.lock.expectations(ctx.specs, ctx.explicit, ctx.project.tolerance) if ctx.lock else []


def claims_source(ctx: Context):
    from costcalc.expectations.claims import claims_for

    return per_spec(claims_for)(ctx)


SOURCES: list = [spec_budget_source, budgets_file_source, lock_source, claims_source]


@dataclass
class CheckReport:
    specs: list
    outcomes: list  # Outcome, each with extra["where"] = (file, line, column)
    changes: list  # layer changes against the lock (lockfile.Lock.layer_changes), all specs
    notes: list = field(default_factory=list)
    lock: str | None = None
    budgets: str | None = None
    tolerance: Fraction = Fraction(0)
    results: dict = field(default_factory=dict)  # spec path -> ModelResult, for reports

    @property
    def failures(self) -> list:
        return [o for o in self.outcomes if not o.passed]

    @property
    def decreases(self) -> list:
        return [o for o in self.outcomes if o.verdict in ("decreased", "removed")]

    @property
    def exit_code(self) -> int:
        return EXIT_FAIL if self.failures else EXIT_OK

    def expectations(self) -> list:
        """(Expectation, its outcomes) in order, one pair per expectation."""
        groups: dict[int, tuple] = {}
        for o in self.outcomes:
            groups.setdefault(id(o.expectation), (o.expectation, []))[1].append(o)
        return list(groups.values())


# -- the specs to work on ---------------------------------------------------------------------

def _context(spec_args, project: Project, *, need_lock: bool, params=None) -> Context:
    budgets = BudgetsFile(project.budgets) if project.budgets else None
    lock = None
    if project.lock.exists():
        lock = lockfile.read_lock(project.lock, project.root)
    elif project.lock_given and need_lock:
        raise CostcalcError("no such lock file; create it with `costcalc lock`", file=canon(project.lock))
    if spec_args:
        specs, explicit = [canon(s) for s in spec_args], True
    else:
        found = config_specs(project) + (budgets.specs() if budgets else [])
        found += [s for s in (lock.specs if lock else {}) if os.path.isfile(s)]
        specs, explicit = sorted(dict.fromkeys(found)), False
    if not specs and not (lock and lock.specs) and not (budgets and budgets.entries):
        raise CostcalcError("no specs: name SPEC files, or list them in [tool.costcalc] specs, "
                            "a budgets file or the lock")
    cache: dict = {}

    def results(spec):
        key = canon(spec)
        if key not in cache:
            from costcalc.counting.results import analyze

            cache[key] = analyze(key, params=params)
        return cache[key]

    return Context(project, list(dict.fromkeys(specs)), explicit, budgets, lock, results)


# -- check --------------------------------------------------------------------------------------

def run_check(spec_args=(), *, budget=None, lock=None, tolerance=None, sources=None,
              params=None) -> CheckReport:
    """Evaluate every source's expectations on the specs; see CheckReport. ``params`` override
    the specs' top-level params (every spec checked must declare them)."""
    project = load_project(budget=budget, lock=lock, tolerance=tolerance)
    ctx = _context(spec_args, project, need_lock=True, params=params)
    expectations = [e for source in (sources or SOURCES) for e in source(ctx)]
    present = [e for e in expectations if e.ratio is not None or os.path.isfile(e.spec)]
    outcomes = [_vanished(e) for e in expectations if e.ratio is None and not os.path.isfile(e.spec)]
    outcomes = evaluate(present, ctx.results) + outcomes
    for o in outcomes:
        o.extra["where"] = _where(o, ctx)
    changes = []
    notes = []
    if ctx.lock is None:
        notes.append(f"no lock ({canon(project.lock)}): nothing to compare against; "
                     "create one with `costcalc lock`")
    else:
        for s in ctx.specs:
            if s in ctx.lock.specs:
                positions = _positions(ctx.results(s).graph)
                for c in ctx.lock.layer_changes(s, ctx.results(s)):
                    c["line"], c["column"] = positions.get(c["path"]) or (None, None)
                    changes.append(c)
            else:
                notes.append(f"{s} has no baseline in {ctx.lock.path}; add it with `costcalc lock --update`")
    return CheckReport(ctx.specs, outcomes, changes, notes,
                       lock=ctx.lock.path if ctx.lock else None,
                       budgets=ctx.budgets.path if ctx.budgets else None, tolerance=project.tolerance,
                       results={s: ctx.results(s) for s in ctx.specs if os.path.isfile(s)})


def _vanished(e: Expectation) -> Outcome:
    if e.rule == "lock":
        detail = (f"{e.spec} is in the lock but no longer exists: restore it, or drop it with "
                  "`costcalc lock --update`")
    else:
        detail = f"no spec file matches '{e.spec}' ({e.source})"
    return Outcome(e, e.scope, None, "missing", False, detail)


def _where(o: Outcome, ctx: Context) -> tuple:
    """(file, line, column) to point a reader (or a GitHub annotation) at."""
    e = o.expectation
    if e.rule != "lock" and e.origin[0]:
        return tuple(e.origin)
    if not os.path.isfile(e.spec):
        return (e.origin[0] or e.source, None, None)
    pos = _positions(ctx.results(e.spec).graph).get(o.path)
    return (e.spec, *(pos or (1, 1)))


def _positions(graph) -> dict:
    """(line, column) in the spec of every layer and block instance, by path (cached)."""
    cached = getattr(graph, "_positions", None)
    if cached is None:
        cached = {n.path: n.pos for n in graph.nodes}
        cached.update({p: inst.pos for p, inst in graph.instances.items()})
        graph._positions = cached
    return cached


# -- records: one dict per outcome, shared by every renderer ------------------------------------

def _plain(v):
    if isinstance(v, Fraction):
        return int(v) if v.denominator == 1 else float(v)
    return v


def record(o: Outcome) -> dict:
    """A flat, JSON-ready description of one outcome."""
    e = o.expectation
    limit = _plain(e.value)
    # a ratio claim's actual figure is in the claim's own terms (8.71 against "1/12", i.e. 12)
    actual = _plain(o.extra["ratio"] if "ratio" in o.extra else o.computed)
    over = pct = None
    if o.computed is not None and e.ratio is None:
        diff = Fraction(o.computed) - e.value
        over = _plain(diff)
        pct = float(diff / e.value * 100) if e.value else None
    file, line, col = o.extra.get("where", (None, None, None))
    return {"spec": e.spec if e.ratio is None else " / ".join(e.ratio), "path": o.path,
            "scope": e.scope, "metric": e.metric, "kind": "claim" if e.published else KIND.get(e.rule, e.rule),
            "rule": e.rule,
            "limit": limit, "written": e.text, "tolerance": float(e.tolerance), "actual": actual,
            "overshoot": over, "overshoot_pct": pct, "verdict": o.verdict, "passed": o.passed,
            "informational": e.informational, "detail": o.detail, "source": e.source,
            "file": file, "line": line, "column": col,
            **({"ratio": o.extra["ratio_text"]} if "ratio_text" in o.extra else {})}


def ranked_changes(changes: list, metrics=("macs", "params", "activations")) -> list:
    """Layer changes, largest first: by |Δ MACs|, then |Δ params|, then |Δ activations|."""
    return sorted(changes, key=lambda c: tuple(-abs(c["delta"][m]) for m in metrics))


# -- lock -----------------------------------------------------------------------------------------

def run_lock(spec_args=(), *, lock=None, update=False, params=None) -> dict:
    """Write (or with ``update`` rewrite) the lock for the specs; see lockfile.update.
    ``params`` override the specs' top-level params: the lock then holds those figures."""
    project = load_project(lock=lock)
    if project.lock.exists() and not update:
        raise CostcalcError("the lock already exists; use --update to rewrite it", file=canon(project.lock))
    ctx = _context(spec_args, project, need_lock=False, params=params)
    if not ctx.specs:
        raise CostcalcError("no specs to lock: name SPEC files, or list them in [tool.costcalc] specs")
    return lockfile.update(project.lock, {s: ctx.results(s) for s in ctx.specs}, update=update,
                           root=project.root)
