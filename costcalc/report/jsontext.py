"""JSON text: one record per line, in the exact bytes json's C encoder writes for each."""
from __future__ import annotations

import json
from itertools import chain, islice, repeat

from costcalc.counting.results import FlatRecord, LayerResult


def to_json(obj) -> str:
    """JSON text with one record per line: mappings and lists that hold mappings are laid out an
    item per line; everything else (a layer, a block's totals, a metric) is one line.

    Each record is written by json's C encoder, which ``indent=`` would bypass for the pure-Python
    one (several times slower on a 10,000-layer spec)."""
    out: list[str] = []
    _json_into(obj, "", out)
    return "".join(out)


_encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder for every record


def _holds_mapping(value) -> bool:
    for v in (value.values() if isinstance(value, dict) else value):  # a plain loop: 100,000s of layers
        if isinstance(v, dict) or (isinstance(v, list) and _holds_mapping(v)):
            return True
    return False


class EncodedRecords(list):
    """A list of records already written as JSON text (one line each): to_json lays them out an
    item per line, as it does any list of mappings."""


_text = json.encoder.encode_basestring  # what _encode writes for a str (ensure_ascii=False)


def layer_records(result) -> EncodedRecords:
    """Each layer's to_dict() as the JSON text _encode writes for it, byte for byte, without
    building the dicts or the LayerResults: equal layers share their values dict
    (counting/results.py), so the text around the name and inputs is written once per distinct
    (values, kind, output)."""
    parts: dict = {}  # id(values) -> (kind, output, values, text before the inputs, after them)
    shapes = result.graph.shapes
    out = EncodedRecords()
    append = out.append
    for node, values in result.facts():
        kind, output = node.kind.name, shapes[node.path]
        known = parts.get(id(values))
        if known is None or known[0] is not kind or known[1] is not output:
            layer = LayerResult(node.path, kind, output, node.inputs, node.scope, values)
            record = _encode(layer.to_dict())
            name, inputs = _encode(layer.name), _encode(layer.inputs)
            head, _, tail = record[len('{"name": ') + len(name):].partition(', "inputs": ' + inputs)
            known = parts[id(values)] = (kind, output, values, head + ', "inputs": [', "]" + tail)
        inputs = node.inputs
        append('{"name": ' + _text(node.path) + known[3]
               + (_text(inputs[0]) if len(inputs) == 1 else ", ".join(map(_text, inputs))) + known[4])
    return out


def _json_into(value, pad: str, out: list):
    if type(value) is EncodedRecords:
        if not value:
            out.append("[]")
            return
        out.append("[\n" + pad + "  ")
        out.append(value[0])
        out.extend(chain.from_iterable(zip(repeat(",\n" + pad + "  "), islice(value, 1, None))))
        out.append("\n" + pad + "]")
        return
    if type(value) is FlatRecord or not (isinstance(value, (dict, list)) and value
                                         and _holds_mapping(value)):
        out.append(_encode(value))
        return
    inner = ",\n" + pad + "  "
    if isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append(inner[i == 0:] + _encode(str(key)) + ": ")
            _json_into(item, pad + "  ", out)
        out.append("\n" + pad + "}")
    else:
        out.append("[")
        for i, item in enumerate(value):
            out.append(inner[i == 0:])
            _json_into(item, pad + "  ", out)
        out.append("\n" + pad + "]")
