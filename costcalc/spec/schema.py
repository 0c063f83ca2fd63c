"""Load and check a spec's top level: name, input shape, batch, dtype, blocks, layers.

Layer entries are checked where they are expanded (expand.py), because a block's layers
can only be checked once its parameters are known.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from costcalc.ops.args import Choice, PosInt
from costcalc.ops.base import Shape
from costcalc.errors import CostcalcError, brief, describe, did_you_mean
from costcalc.spec.substitute import substitute
from costcalc.spec.yamlio import Map, Seq, load_yaml_file, parse_yaml, pos_of

#: top-level keys a spec may have; features that read their own key add it here
TOP_KEYS = {"name", "description", "source", "input", "batch", "dtype", "params", "blocks",
            "layers", "claims", "budget", "outputs", "frozen"}
BLOCK_KEYS = {"params", "layers", "description", "table"}
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1}
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")


@dataclass
class BlockDef:
    name: str
    params: list  # parameter names, in order
    defaults: dict  # name -> default value
    layers: Seq
    table: dict
    pos: tuple | None


@dataclass
class Spec:
    name: str
    file: str | None
    input: tuple
    batch: int
    dtype: str
    blocks: dict
    layers: Seq
    raw: Map
    description: str = ""
    params: dict = field(default_factory=dict)  # top-level parameters, after --set
    extra: dict = field(default_factory=dict)


def _err(msg, file, node, key=None):
    pos = pos_of(node, key)
    return CostcalcError(msg, file=file, line=pos[0] if pos else None, column=pos[1] if pos else None)


def _positive(value, what, file, node, key):
    try:
        return PosInt().check(value)
    except ValueError as exc:
        raise _err(f"{what} {exc}", file, node, key) from None


CLAIMS_SUFFIX = ".claims.yaml"


def is_spec_file(path) -> bool:
    """A YAML file that is a spec (not a claims file read beside its spec)."""
    name = os.path.basename(str(path))
    return name.endswith((".yaml", ".yml")) and not name.endswith(CLAIMS_SUFFIX)


def split_claims_files(paths) -> tuple[list, list]:
    """(spec paths, claims-file paths) of paths named on a command line, so that a shell glob
    such as ``specs/*.yaml`` works: a claims file is read beside its spec, not on its own."""
    specs, claims = [], []
    for p in paths:
        (claims if str(p).endswith(CLAIMS_SUFFIX) else specs).append(p)
    if claims and not specs:
        specs = claims  # alone, a claims file gets the clear "not a spec" error
        claims = []
    return specs, claims


def spec_files(folder) -> list:
    """Every spec file under a folder, recursively, sorted (claims files left out)."""
    from pathlib import Path

    return sorted(p for p in Path(folder).rglob("*.y*ml") if is_spec_file(p))


def load_spec(source, *, file: str | None = None, overrides: dict | None = None) -> Spec:
    """A Spec from a path, YAML text already parsed into a mapping, or a plain dict.

    ``overrides`` replace values of the spec's top-level ``params`` (``--set NAME=VALUE``)."""
    if isinstance(source, (str, os.PathLike)):
        file = str(source)
        if file.endswith(CLAIMS_SUFFIX):  # costcalc.expectations.claims reads these beside their spec
            raise CostcalcError("this is a claims file, read with the spec beside it "
                                f"({file[: -len('.claims.yaml')]}.yaml), not a spec", file=file)
        doc = load_yaml_file(file)
    elif isinstance(source, dict):
        doc = source
    else:
        raise CostcalcError(f"a spec is a file path or a mapping, not {type(source).__name__}")
    return parse_spec(doc, file, overrides)


def parse_spec_text(text: str, file: str | None = None) -> Spec:
    return parse_spec(parse_yaml(text, file), file)


def parse_spec(doc: dict, file: str | None, overrides: dict | None = None) -> Spec:
    for key in doc:
        if key not in TOP_KEYS:
            raise _err(f"unknown top-level key '{key}'{did_you_mean(str(key), TOP_KEYS)}; "
                       f"a spec has: {', '.join(sorted(TOP_KEYS))}", file, doc, key)
    for key in ("input", "layers"):
        if key not in doc:
            raise _err(f"missing required key '{key}'", file, doc)
    name = doc.get("name")
    if name is None:
        name = os.path.splitext(os.path.basename(file))[0] if file else "model"
    if not isinstance(name, str) or not name.strip():
        raise _err("'name' must be text", file, doc, "name")
    if len(name.splitlines()) != 1:
        raise _err("'name' must be one line of text", file, doc, "name")

    params = parse_params(doc, file, overrides)
    shape = _input_shape(_substituted(doc, "input", params, file), file, doc)

    batch = _positive(_substituted(doc, "batch", params, file, 1), "'batch'", file, doc, "batch")
    dtype = doc.get("dtype", "float32")
    try:
        Choice(DTYPE_BYTES).check(dtype)
    except ValueError as exc:
        raise _err(f"'dtype' {exc}", file, doc, "dtype") from None

    layers = doc["layers"]
    if not isinstance(layers, list) or not layers:
        raise _err("'layers' must be a non-empty list", file, doc, "layers")
    blocks = _parse_blocks(doc.get("blocks"), file, doc)
    desc = doc.get("description", "")
    if not isinstance(desc, str):
        raise _err("'description' must be text", file, doc, "description")
    return Spec(name=name, file=file, input=shape, batch=batch, dtype=dtype, blocks=blocks,
                layers=layers, raw=doc, description=desc, params=params)


def _substituted(doc, key, params, file, default=None):
    """A top-level value with ``$name`` of the spec's params replaced."""
    value = doc.get(key, default)
    if not params:
        return value
    try:
        return substitute(value, params)
    except CostcalcError as exc:
        pos = pos_of(doc, key)
        raise exc.located(file=file, line=pos and pos[0], column=pos and pos[1]) from None


def parse_params(doc, file, overrides=None) -> dict:
    """The spec's top-level ``params: {seq: 1024}``, with ``overrides`` applied; an override
    of a name the spec does not declare is an error listing the names it does."""
    raw = doc.get("params", {})
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _err("'params' must be a mapping of name to value, e.g. params: {seq: 1024}",
                   file, doc, "params")
    for name in raw:
        if not isinstance(name, str) or not name.isidentifier():
            raise _err(f"parameter {describe(name)} must be a plain name", file, raw, name)
    params = dict(raw)
    for name, value in (overrides or {}).items():
        if name not in params:
            known = ", ".join(params) or "none (add a top-level 'params:' mapping)"
            raise CostcalcError(f"--set {name}: the spec has no parameter '{name}'"
                                f"{did_you_mean(str(name), params)}; its params: {known}", file=file)
        params[name] = value
    return params


def parse_set(items) -> dict:
    """``--set NAME=VALUE`` options as a mapping; each VALUE is read as a YAML scalar
    (``2048`` is an int, ``same`` text, ``true`` a boolean)."""
    import yaml

    out = {}
    for item in items or ():
        name, eq, text = str(item).partition("=")
        name = name.strip()
        if not eq or not name.isidentifier():
            raise CostcalcError(f"--set {item!r}: expected NAME=VALUE, e.g. --set seq=2048")
        try:
            value = yaml.safe_load(text) if text.strip() else text
        except yaml.YAMLError:
            value = text
        if isinstance(value, (list, dict)):
            raise CostcalcError(f"--set {name}: the value must be a single number or word, not {describe(value)}")
        out[name] = value
    return out


MAX_RANK = 8
INPUT_FORMS = ("'input' is a list of sizes, [channels, height, width] or [features], or a "
               "mapping that names each axis, e.g. {T: 1024, D: 768}")


def _input_shape(raw, file, doc) -> Shape:
    """The model input without the batch: [3, 224, 224] (layout C, H, W), [4096] (F), or a
    mapping naming every axis in order, {T: 1024, D: 768}."""
    names = None
    if isinstance(raw, dict):
        names = list(raw)
        for name in names:
            if not isinstance(name, str) or not name.isidentifier():
                raise _err(f"input axis name {name!r} must be a plain name such as T or D", file,
                           raw, name)
        sizes = [raw[n] for n in names]
        at = lambda i: (raw, names[i])  # noqa: E731
    elif isinstance(raw, list):
        sizes = raw
        at = lambda i: (raw, i)  # noqa: E731
    else:
        raise _err(INPUT_FORMS, file, doc, "input")
    if not 1 <= len(sizes) <= MAX_RANK:
        raise _err(f"{INPUT_FORMS}; of 1 to {MAX_RANK} axes, not {len(sizes)}", file, doc, "input")
    dims = tuple(_positive(v, "each input size", file, *at(i)) for i, v in enumerate(sizes))
    return Shape(dims, names)


def _parse_blocks(blocks, file, doc) -> dict:
    if blocks is None:
        return {}
    if not isinstance(blocks, dict):
        raise _err("'blocks' must be a mapping of block name to definition", file, doc, "blocks")
    out = {}
    for bname, bdef in blocks.items():
        if not isinstance(bname, str) or not NAME_RE.match(bname):
            raise _err(f"block name {brief(bname)} must be letters, digits, _ or -", file, blocks, bname)
        if not isinstance(bdef, dict):
            raise _err(f"block '{bname}' must be a mapping with 'params' and 'layers'", file, blocks, bname)
        for key in bdef:
            if key not in BLOCK_KEYS:
                raise _err(f"block '{bname}': unknown key '{key}'{did_you_mean(str(key), BLOCK_KEYS)}; "
                           f"a block has: {', '.join(sorted(BLOCK_KEYS))}", file, bdef, key)
        layers = bdef.get("layers")
        if not isinstance(layers, list) or not layers:
            raise _err(f"block '{bname}' needs a non-empty 'layers' list", file, bdef,
                       "layers" if "layers" in bdef else None)
        params, defaults = [], {}
        raw = bdef.get("params", [])
        if not isinstance(raw, list):
            raise _err(f"block '{bname}': 'params' must be a list of names (or {{name: default}})",
                       file, bdef, "params")
        for i, p in enumerate(raw):
            if isinstance(p, dict) and len(p) == 1:
                (p, default), = p.items()
                defaults[p] = default
            if not isinstance(p, str) or not p.isidentifier():
                raise _err(f"block '{bname}': parameter {brief(p)} must be a plain name", file, raw, i)
            if p in params:
                raise _err(f"block '{bname}': parameter '{p}' is listed twice", file, raw, i)
            params.append(p)
        table = bdef.get("table", {}) or {}
        out[bname] = BlockDef(bname, params, defaults, layers, table, pos_of(blocks, bname))
    return out
