"""Project configuration: where the budgets file and the lock live, and which specs to check.

Lookup order, for each setting (first hit wins):

1. the command-line flag (``--budget FILE``, ``--lock FILE``, ``--tolerance``), relative to
   the current directory;
2. ``[tool.costcalc]`` in the nearest ``pyproject.toml`` from the current directory upwards,
   relative to that file's directory;
3. the default, in that directory (or the current one, without a pyproject.toml):
   ``costcalc-budgets.yaml`` (used only if it exists) and ``costcalc.lock``.

``[tool.costcalc]`` keys: ``budgets`` (path), ``lock`` (path), ``specs`` (list of globs: the
specs ``check`` and ``lock`` use when given none), ``exclude`` (globs taken out of ``specs``,
e.g. claims files beside the specs), ``lock-tolerance`` ("0", "0.5%", "0.01").
"""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from costcalc.errors import CostcalcError, did_you_mean, unprintable, brief
from costcalc.units import exact_number

DEFAULT_BUDGETS = "costcalc-budgets.yaml"
DEFAULT_LOCK = "costcalc.lock"
CONFIG_KEYS = ("budgets", "lock", "specs", "exclude", "lock-tolerance")


@dataclass
class Project:
    root: Path  # the pyproject.toml's directory, else the current directory
    pyproject: Path | None  # the pyproject.toml read, if any
    budgets: Path | None  # the budgets file, None if there is none
    lock: Path  # the lock file (it may not exist yet)
    lock_given: bool  # named by a flag or the config (so it must exist for `check`)
    specs: list = field(default_factory=list)  # globs, relative to root
    exclude: list = field(default_factory=list)  # globs, relative to root
    tolerance: Fraction = Fraction(0)


def canon(path) -> str:
    """The display and identity form of a spec path: relative to the current directory when
    inside it, with forward slashes; absolute otherwise."""
    absolute = os.path.abspath(os.fspath(path))
    rel = os.path.relpath(absolute, os.getcwd())
    if rel.startswith(".."):
        return Path(absolute).as_posix()
    return Path(rel).as_posix()


def find_pyproject(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        candidate = d / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _read_config(pyproject: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CostcalcError(f"cannot read: {exc}", file=canon(pyproject)) from None
    except tomllib.TOMLDecodeError as exc:
        raise CostcalcError(f"TOML: {exc}", file=canon(pyproject)) from None
    tool = data.get("tool", {})
    config = tool.get("costcalc", {}) if isinstance(tool, dict) else {}
    if not isinstance(config, dict):
        raise CostcalcError("[tool.costcalc] must be a table", file=canon(pyproject))
    for key in config:
        if key not in CONFIG_KEYS:
            raise CostcalcError(f"[tool.costcalc]: unknown key '{key}'{did_you_mean(key, CONFIG_KEYS)}; "
                                f"keys: {', '.join(CONFIG_KEYS)}", file=canon(pyproject))
        values = config[key] if isinstance(config[key], list) else [config[key]]
        if any(isinstance(v, str) and unprintable(v, breaks=False) is not None for v in values):
            raise CostcalcError(f"[tool.costcalc]: '{key}' holds a control character (paths and "
                                "globs are plain text)", file=canon(pyproject))
    return config


def parse_tolerance(text, where: str = "tolerance") -> Fraction:
    """'0' → 0, '0.5%' → 1/200, '0.01' → 1/100 (relative); never negative."""
    s = str(text).strip()
    try:
        value = exact_number(s[:-1]) / 100 if s.endswith("%") else exact_number(s)
    except (ValueError, ZeroDivisionError) as exc:
        why = f" ({exc})" if str(exc) and not isinstance(exc, ZeroDivisionError) else ""
        raise CostcalcError(f"{where} {brief(text)} is not a relative tolerance such as 0, 0.5% or 0.01"
                            f"{why}") from None
    if value < 0:
        raise CostcalcError(f"{where} {brief(text)} is negative")
    return value


def load_project(*, budget: str | None = None, lock: str | None = None,
                 tolerance: str | None = None, start: Path | None = None) -> Project:
    """The project settings, by the lookup order in this module's docstring."""
    pyproject = find_pyproject(start)
    config = _read_config(pyproject) if pyproject else {}
    root = pyproject.parent if pyproject else (start or Path.cwd()).resolve()
    where = f"{canon(pyproject)} [tool.costcalc]" if pyproject else ""

    def setting(flag, key, default):
        if flag is not None:
            return Path(flag), True
        if key in config:
            value = config[key]
            if not isinstance(value, str) or not value:
                raise CostcalcError(f"{where}: '{key}' must be a path")
            return root / value, True
        return root / default, False

    budgets_path, budgets_given = setting(budget, "budgets", DEFAULT_BUDGETS)
    if budgets_given and not budgets_path.is_file():
        raise CostcalcError("no such budgets file", file=canon(budgets_path))
    lock_path, lock_given = setting(lock, "lock", DEFAULT_LOCK)
    globs = {}
    for key in ("specs", "exclude"):
        value = config.get(key, [])
        globs[key] = [value] if isinstance(value, str) else value
        if not isinstance(globs[key], list) or not all(isinstance(s, str) for s in globs[key]):
            raise CostcalcError(f"{where}: '{key}' must be a list of globs such as [\"specs/*.yaml\"]")
    tol = parse_tolerance(tolerance if tolerance is not None else config.get("lock-tolerance", "0"),
                          "--tolerance" if tolerance is not None else f"{where}: lock-tolerance")
    return Project(root=root, pyproject=pyproject,
                   budgets=budgets_path if budgets_path.is_file() else None,
                   lock=lock_path, lock_given=lock_given, specs=globs["specs"], exclude=globs["exclude"],
                   tolerance=tol)


def expand_globs(patterns, base: Path) -> list[str]:
    """Canonical paths of the files the globs (relative to ``base``; ``**`` recurses) name."""
    out = []
    for pattern in patterns:
        for hit in sorted(glob.glob(pattern, root_dir=base, recursive=True)):
            if (base / hit).is_file():
                out.append(canon(base / hit))
    return list(dict.fromkeys(out))


def config_specs(project: Project) -> list[str]:
    """The specs ``[tool.costcalc] specs`` names, less those ``exclude`` names."""
    excluded = set(expand_globs(project.exclude, project.root))
    return [s for s in expand_globs(project.specs, project.root) if s not in excluded]
