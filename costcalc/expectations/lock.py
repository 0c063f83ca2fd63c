"""The baseline lock: exact figures per spec, per block instance and per layer.

The lock is JSON laid out for diffs: one line per layer or block instance, every mapping
sorted by path, a format version first. ``costcalc lock`` writes it; ``costcalc check``
turns every figure in it into a ``lock`` expectation (no increase beyond a tolerance).

    {
      "costcalc-lock": 1,
      "about": "...",
      "metrics": ["params", "macs", "activations"],
      "specs": {
        "specs/reduced.yaml": {
          "name": "inception-reduced",
          "total": {"params": 163696, "macs": 128049152, "activations": 928256},
          "blocks": {
            "inception_3a": {"params": 163696, "macs": 128049152, "activations": 928256}
          },
          "layers": {
            "inception_3a/b1": {"params": 12352, "macs": 9633792, "activations": 50176},
            ...

Spec paths are relative to the lock's directory, with forward slashes. FLOPs (2 × MACs) and
activation bytes (activations × dtype size) follow from the locked figures and are not stored.
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from costcalc.counting import metrics
from costcalc.atomic import exclusive, remove_stale_temps, write_text_atomic
from costcalc.errors import CostcalcError, unprintable, brief
from costcalc.expectations.rules import Expectation
from costcalc.spec.yamlio import read_text
from costcalc.expectations.project import canon
from costcalc.units import MAX_FIGURE_CHARS

FORMAT_KEY = "costcalc-lock"
FORMAT_VERSION = 1
LOCK_METRICS = metrics.LOCKED  # params, macs, activations
ABOUT = ("exact figures per spec, block instance and layer, written by `costcalc lock`; "
         "`costcalc check` fails on any increase. Accept new figures with `costcalc lock --update`.")
SECTIONS = ("blocks", "layers")


def entry_for(result) -> dict:
    """The lock entry of one ModelResult: its name, totals, block instances and layers."""
    scoped = result.scope_totals()
    shared: dict = {}  # id(values) -> its figures: equal layers share one values dict, and these

    def figures(values):
        known = shared.get(id(values))
        if known is None:
            known = shared[id(values)] = {m: values[m] for m in LOCK_METRICS}
        return known

    return {
        "name": result.name,
        "total": {m: result.totals[m] for m in LOCK_METRICS},
        "blocks": {p: {m: scoped[p][m] for m in LOCK_METRICS} for p in sorted(scoped)},
        "layers": dict(sorted((node.path, figures(values)) for node, values in result.facts())),
    }


@dataclass
class Lock:
    path: str  # canonical path of the lock file
    specs: dict  # canonical spec path -> entry (see entry_for)
    metrics: tuple = LOCK_METRICS

    # -- expectations ---------------------------------------------------------------------
    def expectations(self, specs, explicit: bool, tolerance: Fraction) -> list[Expectation]:
        """``lock`` expectations for every locked figure of the given specs. Unless ``explicit``,
        a locked spec whose file no longer exists yields one expectation on its missing file,
        which check reports as a failure."""
        out = []
        for spec, entry in self.specs.items():
            if spec not in specs:
                if not explicit and not os.path.isfile(spec):
                    out.append(self._one(spec, "total", self.metrics[0], entry["total"], tolerance))
                continue
            for m in self.metrics:
                out.append(self._one(spec, "total", m, entry["total"], tolerance))
            for section in SECTIONS:
                for path, figures in entry[section].items():
                    out += [self._one(spec, path, m, figures, tolerance) for m in self.metrics]
        return out

    def _one(self, spec, scope, metric, figures, tolerance) -> Expectation:
        return Expectation(rule="lock", spec=spec, scope=scope, metric=metric,
                           value=Fraction(figures[metric]), text=f"{figures[metric]:,}",
                           tolerance=tolerance, source=self.path, origin=(self.path, None, None))

    # -- diff -----------------------------------------------------------------------------
    def layer_changes(self, spec: str, result) -> list[dict]:
        """Layers added, removed or changed since the lock, with before/after figures and
        deltas; [] if the spec is not locked."""
        entry = self.specs.get(spec)
        if entry is None:
            return []
        before = entry["layers"]
        after = {l.name: {m: l.get(m) for m in self.metrics} for l in result.layers}
        out = []
        for path in sorted(set(before) | set(after)):
            b, a = before.get(path), after.get(path)
            if b == a:
                continue
            status = "added" if b is None else "removed" if a is None else "changed"
            delta = {m: (a or {}).get(m, 0) - (b or {}).get(m, 0) for m in self.metrics}
            out.append({"spec": spec, "path": path, "status": status, "before": b, "after": a,
                        "delta": delta})
        return out


# -- reading --------------------------------------------------------------------------------

def _corrupt(path, message, **pos):
    return CostcalcError(f"corrupt lock: {message}; restore it from version control or rewrite it "
                         "with `costcalc lock --update`", file=path, **pos)


def read_lock(path, root=None) -> Lock:
    """A Lock from a file; any damage, or another format version, is a CostcalcError. With
    ``root`` (the project's directory), a spec path that leads outside it is one too: check
    would read, and show in its errors, whatever file the lock names."""
    name = canon(path)
    text = read_text(str(path), what="lock")
    if not text.strip():
        raise _corrupt(name, "the file is empty")
    try:
        doc = json.loads(text, parse_int=_whole, object_pairs_hook=_unique)
    except _Duplicate as exc:
        raise _corrupt(name, f"the key {_shown(exc.args[0])} is given twice in one mapping") from None
    except RecursionError:  # the lock is 5 levels deep; JSON's reader recurses per level
        raise _corrupt(name, "JSON nested too deep") from None
    except json.JSONDecodeError as exc:
        raise _corrupt(name, f"JSON: {exc.msg}", line=exc.lineno, column=exc.colno) from None
    except _TooLong as exc:  # locate the number: the JSON reader gives no position
        at = re.search(rf"\d{{{MAX_FIGURE_CHARS + 1},}}", text)
        line = text.count("\n", 0, at.start()) + 1 if at else None
        column = at.start() - text.rfind("\n", 0, at.start()) if at else None
        raise _corrupt(name, f"a number of {exc.args[0]:,} digits; the limit is {MAX_FIGURE_CHARS}",
                       line=line, column=column) from None
    if not isinstance(doc, dict) or FORMAT_KEY not in doc:
        raise CostcalcError(f"not a costcalc lock (no '{FORMAT_KEY}' format version)", file=name)
    version = doc[FORMAT_KEY]
    if isinstance(version, bool) or version != FORMAT_VERSION:  # true == 1 in Python
        newer = isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION
        raise CostcalcError(
            f"lock format version {brief(version)} is {'newer than' if newer else 'not'} the version this "
            f"costcalc reads ({FORMAT_VERSION}); " + ("upgrade costcalc" if newer else
                                                      "rewrite it with `costcalc lock --update`"),
            file=name)
    metrics = doc.get("metrics")
    # version 1 locks exactly these (the change reports show each of them)
    if metrics != list(LOCK_METRICS):
        raise _corrupt(name, f"'metrics' must be {', '.join(LOCK_METRICS)}")
    specs = doc.get("specs")
    if not isinstance(specs, dict):
        raise _corrupt(name, "'specs' must be a mapping of spec file to figures")
    base = Path(path).resolve().parent
    out = {}
    for rel, entry in specs.items():
        where = f"spec {_shown(rel)}"
        _text(name, "a spec path", rel)
        spec = os.path.normpath(os.path.join(base, rel))
        if root is not None and not _inside(spec, root):
            raise CostcalcError(f"{where} is outside the project ({Path(root).as_posix()}); a lock names only "
                                "spec files inside it", file=name)
        if not isinstance(entry, dict) or not isinstance(entry.get("total"), dict):
            raise _corrupt(name, f"{where} has no 'total'")
        if not isinstance(entry.get("name"), str):  # lock --update writes it back
            raise _corrupt(name, f"{where} has no 'name' (the model's name, as text)")
        _text(name, f"{where}: the name", entry["name"])
        _figures(name, f"{where} total", entry["total"], metrics)
        for section in SECTIONS:
            group = entry.get(section)
            if not isinstance(group, dict):
                raise _corrupt(name, f"{where}: '{section}' must be a mapping of path to figures")
            for p, figures in group.items():
                _text(name, f"{where}: a {section[:-1]} path", p)
                _figures(name, f"{where} {section[:-1]} '{p}'", figures, metrics)
        out[canon(base / rel)] = entry
    return Lock(name, out, tuple(metrics))


class _TooLong(Exception):
    pass


class _Duplicate(Exception):
    pass


def _unique(pairs) -> dict:
    """A JSON object, refusing a key given twice (json keeps the last one, silently)."""
    out = {}
    for k, v in pairs:
        if k in out:
            raise _Duplicate(k)
        out[k] = v
    return out


def _shown(text: str) -> str:
    """A key as an error shows it: quoted, cut to 60 characters (CostcalcError escapes it)."""
    return f"'{text[:60]}'" + ("..." if len(text) > 60 else "")


def _text(name, what, text):
    """Refuse control characters, lone surrogates and bidi overrides (JSON's \\u escapes write
    them all): they
    would reach the terminal in every report, or fail to print at all."""
    if unprintable(text, breaks=False) is not None:
        raise _corrupt(name, f"{what} {_shown(text)} holds a control character or a lone surrogate")


def _inside(path: str, root) -> bool:
    root = os.path.normpath(os.path.abspath(root))
    return os.path.commonpath([root, os.path.abspath(path)]) == root


def _whole(text: str) -> int:
    """A JSON integer, bounded: Python refuses to read one of over 4,300 digits, and a lock
    figure is a count, far shorter."""
    if len(text.lstrip("-")) > MAX_FIGURE_CHARS:
        raise _TooLong(len(text.lstrip("-")))
    return int(text)


def _figures(name, where, figures, metrics):
    if not isinstance(figures, dict):
        raise _corrupt(name, f"{where} must map metric to figure")
    for m in metrics:
        v = figures.get(m)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise _corrupt(name, f"{where}: '{m}' must be a whole number ≥ 0, not {brief(v)}")


# -- writing --------------------------------------------------------------------------------

def lock_text(entries: dict, lock_path) -> str:
    """The lock file's text for entries keyed by canonical spec path (sorted, one line per path)."""
    base = Path(lock_path).resolve().parent
    keyed = {Path(os.path.relpath(os.path.abspath(s), base)).as_posix(): e for s, e in entries.items()}
    d = json.dumps
    lines = ["{", f'  {d(FORMAT_KEY)}: {FORMAT_VERSION},', f'  "about": {d(ABOUT, ensure_ascii=False)},',
             f'  "metrics": {d(list(LOCK_METRICS))},', '  "specs": {']
    specs = sorted(keyed)
    encoded: dict = {}  # id(figures) -> their JSON (entry_for shares equal layers' figures)

    def row(path, figures):
        text = encoded.get(id(figures))
        if text is None or text[0] is not figures:
            text = encoded[id(figures)] = (figures, d(figures))
        return f"        {d(path)}: {text[1]}"

    for i, rel in enumerate(specs):
        e = keyed[rel]
        lines += [f"    {d(rel)}: {{", f'      "name": {d(e["name"], ensure_ascii=False)},',
                  f'      "total": {d(e["total"])},']
        for section in SECTIONS:
            group = e[section]
            rows = [row(p, group[p]) for p in sorted(group)]
            tail = "," if section != SECTIONS[-1] else ""
            lines += [f'      "{section}": {{' + ("" if rows else "}" + tail)]
            if rows:
                lines += [",\n".join(rows), "      }" + tail]
        lines.append("    }" + ("," if i < len(specs) - 1 else ""))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"  # plain JSON (tests/test_lock.py reads it back)


def write_lock(path, entries: dict) -> None:
    write_text_atomic(path, lock_text(entries, path), what="lock")


def update(path, results: dict, *, update: bool, root=None) -> dict:
    """Write the lock at ``path`` with the entries of ``results`` (canonical spec → ModelResult).

    Without ``update`` an existing lock is an error. With it, the old lock is read first (a
    damaged or newer one is an error), entries of other specs are kept, and those whose spec
    file no longer exists are dropped. Returns what changed."""
    started = time.time()
    new = {s: entry_for(r) for s, r in results.items()}
    # read, merge and write under one lock: another `lock --update` (of other specs) in between
    # would otherwise be overwritten with the figures read before it
    with exclusive(path):
        exists = Path(path).exists()
        if exists and not update:
            raise CostcalcError("the lock already exists; use --update to rewrite it", file=canon(path))
        old = read_lock(path, root).specs if exists else {}
        entries = {s: e for s, e in old.items() if os.path.isfile(s)}
        dropped = sorted(s for s in old if not os.path.isfile(s))
        changed = sorted(s for s in new if s in old and old[s] != new[s])
        added = sorted(s for s in new if s not in old)
        entries.update(new)
        write_lock(path, entries)
        remove_stale_temps(path, started)  # left by a writer killed mid-write (kill -9)
    return {"lock": canon(path), "specs": sorted(entries), "added": added, "changed": changed,
            "dropped": dropped,
            "layers": sum(len(e["layers"]) for e in entries.values()),
            "blocks": sum(len(e["blocks"]) for e in entries.values())}
