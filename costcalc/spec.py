"""Load and check a spec's top level: name, input shape, batch, dtype, blocks, layers.

Layer entries are checked where they are expanded (expand.py), because a block's layers
can only be checked once its parameters are known.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .args import Choice, PosInt
from .errors import CostcalcError, brief, did_you_mean
from .loader import Map, Seq, load_yaml_file, parse_yaml, pos_of

#: top-level keys a spec may have; features that read their own key add it here
TOP_KEYS = {"name", "description", "source", "input", "batch", "dtype", "blocks", "layers",
            "claims", "budget"}
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


def load_spec(source, *, file: str | None = None) -> Spec:
    """A Spec from a path, YAML text already parsed into a mapping, or a plain dict."""
    if isinstance(source, (str, os.PathLike)):
        file = str(source)
        if file.endswith(CLAIMS_SUFFIX):  # costcalc.claims reads these beside their spec
            raise CostcalcError("this is a claims file, read with the spec beside it "
                                f"({file[: -len('.claims.yaml')]}.yaml), not a spec", file=file)
        doc = load_yaml_file(file)
    elif isinstance(source, dict):
        doc = source
    else:
        raise CostcalcError(f"a spec is a file path or a mapping, not {type(source).__name__}")
    return parse_spec(doc, file)


def parse_spec_text(text: str, file: str | None = None) -> Spec:
    return parse_spec(parse_yaml(text, file), file)


def parse_spec(doc: dict, file: str | None) -> Spec:
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

    shape = doc["input"]
    if not isinstance(shape, list) or len(shape) not in (1, 3):
        raise _err("'input' must be [channels, height, width] (or [features])", file, doc, "input")
    shape = tuple(_positive(v, "each input size", file, shape, i) for i, v in enumerate(shape))

    batch = _positive(doc.get("batch", 1), "'batch'", file, doc, "batch")
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
                layers=layers, raw=doc, description=desc)


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
