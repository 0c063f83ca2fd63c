"""`analyze --format json` writes each layer's record from text its equal layers share
(report/jsontext.py: layer_records); the bytes must be what json's encoder writes for the
layer's own to_dict(), on every shipped spec and on layers that share their figures."""
import json

import pytest

import costcalc
from conftest import ROOT, SPECS
from costcalc.report.jsontext import layer_records, to_json
from costcalc.report.verdicts import analyze_json, claims_json
from costcalc.spec.schema import parse_spec_text, spec_files

SHIPPED = spec_files(SPECS) + [ROOT / "tests" / "data" / "every_kind.yaml"]


def by_dicts(r) -> str:
    """The JSON of analyze_json, with each layer a dict (the writer's general path)."""
    return to_json(dict(r.to_dict(), claims=claims_json(r.claims or [])))


@pytest.mark.parametrize("spec", SHIPPED, ids=lambda p: p.name)
def test_layer_records_are_the_encoders_bytes(spec):
    r = costcalc.analyze(spec)
    assert to_json(analyze_json([r])) == by_dicts(r)


def test_shared_figures_keep_each_layers_own_name_inputs_and_output():
    # repeated and equal layers share values dicts; a dead layer (never read) is counted apart;
    # a split has two outputs; an add reads two inputs
    r = costcalc.analyze(parse_spec_text("""
input: [8, 4, 4]
layers:
  - {name: c, conv: {out: 8, kernel: 1}, repeat: 3}
  - {name: unused, relu: }
  - {name: parts, split: {sizes: [4, 4], axis: C}, from: c}
  - {name: a, relu: , from: parts.0}
  - {name: b, relu: , from: parts.1}
  - {name: sum, add: [a, b]}
""", "t.yaml"))
    assert to_json(analyze_json([r])) == by_dicts(r)
    records = [json.loads(line) for line in layer_records(r)]
    assert [x["name"] for x in records] == ["c/0", "c/1", "c/2", "unused", "parts", "a", "b", "sum"]
    assert records[5]["inputs"] == ["parts.0"] and records[7]["inputs"] == ["a", "b"]
    assert records[4]["output"] == [[4, 4, 4], [4, 4, 4]]
    assert records[0]["macs"] == 1_024  # 4*4 outputs * 8 out * 8 in * 1*1 = 1,024
    assert records[3]["elementops"] == 128  # relu on 8*4*4 = 128 elements
