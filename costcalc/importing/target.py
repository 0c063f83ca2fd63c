"""What `costcalc import` is given: TARGET (``path/to/file.py:FACTORY`` or
``package.module:FACTORY``) and ``--input SHAPE[:DTYPE]``; the model is built on the meta device."""
from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys

from costcalc.errors import CostcalcError

#: dtypes an example input may have (token ids are int64)
DTYPES = ("float32", "float16", "bfloat16", "float64", "int64", "int32")
_MODULE_RE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")


def is_target(text: str) -> bool:
    """``x.py:Name`` or ``pkg.mod:Name``, as opposed to a spec file path."""
    where, colon, name = str(text).rpartition(":")
    if not colon or not name.isidentifier():
        return False
    return where.endswith(".py") or bool(_MODULE_RE.match(where))


def parse_input(text: str) -> tuple[tuple, str]:
    """``3,224,224`` → ((3, 224, 224), 'float32'); ``1024:int64`` → ((1024,), 'int64')."""
    dims, colon, dtype = str(text).partition(":")
    dtype = dtype.strip() if colon else "float32"
    if dtype not in DTYPES:
        raise CostcalcError(f"--input {text!r}: the dtype must be one of {', '.join(DTYPES)}, "
                            f"not {dtype!r}")
    try:
        shape = tuple(int(d) for d in dims.split(","))
    except ValueError:
        shape = ()
    if not shape or any(d <= 0 for d in shape) or len(shape) > 8:
        raise CostcalcError(f"--input {text!r}: expected 1 to 8 positive sizes without the batch, "
                            "e.g. 3,224,224 or 1024:int64")
    return shape, dtype


def _load_module(where: str):
    if where.endswith(".py"):
        if not os.path.isfile(where):
            raise CostcalcError("no such file", file=where)
        name = "costcalc_import_" + re.sub(r"\W", "_", os.path.splitext(os.path.basename(where))[0])
        spec = importlib.util.spec_from_file_location(name, where)
        module = importlib.util.module_from_spec(spec)
        folder = os.path.dirname(os.path.abspath(where))
        sys.path.insert(0, folder)  # the model file may import its neighbours
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(folder)
        return module
    try:
        return importlib.import_module(where)
    except ImportError as exc:
        raise CostcalcError(f"cannot import module {where!r}: {exc}") from None


def load_model(target: str):
    """The eval-mode nn.Module the target's factory returns, built on the meta device (no
    weights are allocated, whatever the size)."""
    import torch

    if not is_target(target):
        raise CostcalcError(f"{target!r} is not a model target: expected path/to/file.py:FACTORY "
                            "or package.module:FACTORY")
    where, _, name = str(target).rpartition(":")
    try:
        module = _load_module(where)
    except CostcalcError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's file failed to run: one line
        raise CostcalcError(f"loading the model file failed: {type(exc).__name__}: {exc}",
                            file=where) from None
    factory = getattr(module, name, None)
    if not callable(factory):
        raise CostcalcError(f"{where} has no class or function {name!r}", file=where)
    try:
        with torch.device("meta"):
            model = factory()
    except Exception as exc:  # noqa: BLE001
        raise CostcalcError(f"{name}() failed on the meta device: {type(exc).__name__}: {exc}",
                            file=where) from None
    if not isinstance(model, torch.nn.Module):
        raise CostcalcError(f"{name}() returned {type(model).__name__}, not a torch.nn.Module",
                            file=where)
    return model.eval()
