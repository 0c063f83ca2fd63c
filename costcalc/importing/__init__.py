"""`costcalc import`: trace a PyTorch model (torch.fx, meta device) into a readable spec.

``target.py`` loads the model, ``trace.py`` traces it and maps each op to a kind through
``mapping.py`` (the registry keyed by torch target), ``structure.py`` turns the layers into
named, folded blocks, ``writer.py`` writes the YAML. Importing this package imports no torch;
``import_model`` does.
"""
from __future__ import annotations

from costcalc.errors import CostcalcError


def import_model(target: str, input: str, *, allow_unknown: bool = False) -> tuple[dict, str]:
    """(spec mapping, its YAML text) of the model a target's factory returns; an op with no
    kind is an error listing each (op, module path, count), unless ``allow_unknown`` records
    them as zero-cost ``opaque`` layers."""
    from costcalc.importing.target import load_model, parse_input

    shape, dtype = parse_input(input)
    header = f"imported by `costcalc import {target} --input {input}` (torch.fx trace, meta device)"
    return spec_of_model(load_model(target), shape, dtype, name=str(target).rpartition(":")[2],
                         source=str(target), allow_unknown=allow_unknown, header=header)


def spec_of_model(model, shape: tuple, dtype: str = "float32", *, name: str, source: str,
                  allow_unknown: bool = False, header: str = "") -> tuple[dict, str]:
    """(spec mapping, YAML text) of an nn.Module (best built on the meta device)."""
    from costcalc.importing.structure import build_spec
    from costcalc.importing.trace import trace
    from costcalc.importing.writer import spec_text

    traced = trace(model, shape, dtype, allow_unknown=allow_unknown, label=source)
    if traced.unknown and (not allow_unknown or traced.unplaceable):
        raise CostcalcError(unknown_message(source, traced.unknown, allow_unknown))
    # token ids are a sequence: {T: 1024}, as the shipped transformer specs write them
    given = {"T": shape[0]} if dtype.startswith("int") and len(shape) == 1 else list(shape)
    spec = build_spec(traced.layers, traced.output, name=name, source=source, input_shape=given)
    return spec, spec_text(spec, header)


#: module paths named per op in the error; the rest are counted
PATHS_SHOWN = 3


def unknown_message(target, unknown, allow_unknown) -> str:
    """One line: each op with no kind, its count and the module paths it is at (count each)."""
    by_op: dict = {}
    for (op, where, why), n in unknown.items():
        by_op.setdefault((op, why), []).append((where or "(top level)", n))
    items = []
    for (op, why), places in by_op.items():
        shown = ", ".join(f"'{w}'" + (f" {n}×" if len(places) > 1 else "")
                          for w, n in places[:PATHS_SHOWN])
        more = f" and {len(places) - PATHS_SHOWN} more paths" if len(places) > PATHS_SHOWN else ""
        total = sum(n for _, n in places)
        items.append(f"{op} ({total}× at {shown}{more}{': ' + why if why else ''})")
    total = sum(unknown.values())
    hint = ("; an op with several outputs has no placeholder" if allow_unknown else
            "; --allow-unknown records them as zero-cost 'opaque' layers")
    return (f"{target}: {total} op{'s' if total != 1 else ''} with no layer kind: "
            f"{'; '.join(items)}{hint}")


def write_import(target: str, input: str, output, *, allow_unknown: bool = False) -> str:
    """Import a model and write its spec (atomically); returns a one-line summary."""
    from costcalc.atomic import write_text_atomic

    spec, text = import_model(target, input, allow_unknown=allow_unknown)
    write_text_atomic(output, text, what="spec")
    return f"wrote {output}: {len(spec['layers'])} top-level entries, {len(spec.get('blocks', {}))} blocks"


def analyze_target(target: str, input: str, *, allow_unknown: bool = False, **options):
    """What `costcalc analyze TARGET --input SHAPE` prints: the imported spec's analysis."""
    from costcalc import analyze
    from costcalc.spec.schema import parse_spec_text

    _, text = import_model(target, input, allow_unknown=allow_unknown)
    spec = parse_spec_text(text, file=f"{target} (imported)")
    return analyze(spec, **options)


__all__ = ["import_model", "spec_of_model", "write_import", "analyze_target"]
