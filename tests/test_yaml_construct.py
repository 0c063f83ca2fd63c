"""The one-walk YAML construction (construct.Loader) gives what PyYAML's own constructor with
costcalc's constructors (construct.ReferenceLoader) gives: the same value (types, values,
positions of every mapping, key and item, aliases shared) or the same error (text, file, line,
column), on every YAML file of the repository, generated specs, hostile texts and random YAML.
"""
from __future__ import annotations

import datetime
import math
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.specgen import chain_spec, nested_spec, one_repeat_spec, repeat_near_limit_spec
from costcalc.errors import CostcalcError
from costcalc.spec import construct, yamlio
from costcalc.spec.construct import MAX_EXPANDED_NODES, Map, Seq
from hostile import BOMB_SLOTS, alias_bomb_in, aliased_argument_spec

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(p for d in ("specs", "tests", "examples") for ext in ("yaml", "yml")
               for p in (ROOT / d).rglob(f"*.{ext}")) + [ROOT / "costcalc-budgets.yaml",
                                                         ROOT / "costcalc.lock"]  # JSON is YAML


def outcome(text: str, loader):
    """parse_yaml's value with ``loader``, or the error it raises (any exception: its type and
    text, and for costcalc's error its position too)."""
    with mock.patch.object(yamlio, "_Loader", loader):
        try:
            return "value", yamlio.parse_yaml(text, file="F")
        except CostcalcError as exc:
            return "error", str(exc), exc.file, exc.line, exc.column, exc.layer
        except Exception as exc:  # noqa: BLE001 - what the reference raises, the walk must too
            return "exception", type(exc), str(exc)


def assert_same(new, ref, seen=None, where="doc"):
    """Equal values of equal types with equal positions, and the same sharing: an object met
    twice in one is met twice, at the same places, in the other (cycles included)."""
    seen = {} if seen is None else seen
    assert type(new) is type(ref), where
    if isinstance(ref, (dict, list)):
        if id(ref) in seen:
            assert seen[id(ref)] is new, f"{where}: sharing differs"
            return
        assert all(v is not new for v in seen.values()), f"{where}: shared in one only"
        seen[id(ref)] = new
        for attr in ("pos", "key_pos", "item_pos"):
            assert getattr(new, attr, None) == getattr(ref, attr, None), f"{where}.{attr}"
        assert len(new) == len(ref), where
        if isinstance(ref, dict):
            assert list(new) == list(ref), where  # keys: scalars, in the same order
            for (k, v), (rk, rv) in zip(new.items(), ref.items()):
                assert_same(k, rk, seen, f"{where} key {rk!r}")
                assert_same(v, rv, seen, f"{where}[{rk!r}]")
        else:
            for i, (v, rv) in enumerate(zip(new, ref)):
                assert_same(v, rv, seen, f"{where}[{i}]")
    elif isinstance(ref, tuple):  # a !!omap or !!pairs entry
        assert len(new) == len(ref), where
        for i, (v, rv) in enumerate(zip(new, ref)):
            assert_same(v, rv, seen, f"{where}[{i}]")
    elif isinstance(ref, float) and math.isnan(ref):
        assert math.isnan(new), where
    else:
        assert new == ref and repr(new) == repr(ref), where


def assert_equivalent(text: str):
    """Both constructions agree on ``text``; returns the outcome."""
    new, ref = outcome(text, construct.Loader), outcome(text, construct.ReferenceLoader)
    assert new[0] == ref[0], (new, ref)
    if new[0] == "value":
        assert_same(new[1], ref[1])
    else:
        assert new == ref
    return new


def test_the_walk_is_what_parse_yaml_uses():
    assert yamlio._Loader is construct.Loader


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_yaml_file_of_the_repository(path):
    assert assert_equivalent(path.read_text())[0] == "value"


GENERATED = {
    "chain_spec(2000)": chain_spec(2000),
    "nested_spec(1000)": nested_spec(1000),
    "one_repeat_spec()": one_repeat_spec(),
    "repeat_near_limit_spec(50, 3, 100 kB)": repeat_near_limit_spec(50, 3, 100_000),
    "aliased_argument_spec(20)": aliased_argument_spec(20),
    **{f"alias_bomb_in({slot})": alias_bomb_in(slot) for slot in BOMB_SLOTS},
}


@pytest.mark.parametrize("name", GENERATED)
def test_generated_specs(name):
    assert assert_equivalent(GENERATED[name])[0] == "value"


def _nest(levels: int, leaf: str = "1") -> str:
    return "[" * levels + leaf + "]" * levels


def _bomb(levels: int, width: int = 10) -> str:
    return "".join([f"a0: &a0 [{', '.join(['x'] * width)}]\n"] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]\n" for i in range(1, levels + 1)])


HOSTILE = [
    # duplicate and odd keys
    "a: 1\na: 2\n", "{1: a, 1: b}\n", "1: a\nTrue: b\n", "1: a\n1.0: b\n", "1: a\n'1': b\n",
    "~: a\nnull: b\n", "? [a]\n: 1\n", "? {a: 1}\n: 1\n", "x: {? [a]: 1}\n", "=: 1\n",
    "x: {=: 1, y: 2}\n", "2001-01-01: a\n2001-01-01 00:00:00: b\n", "2001-01-01: a\n2001-01-01: b\n",
    ".nan: a\n.nan: b\n", "? !!binary aGk=\n: 1\n? !!binary aGk=\n: 2\n",
    # merge keys: refused at the mapping, before anything in it
    "x: &x {a: 1}\ny: {<<: *x}\n", "<<: {a: 1}\n", "a: !!binary '!'\n<<: {}\n",
    "x: {a: [1, 2, 3, 1 2 3], <<: []}\n",
    # recursive aliases; the root's own alias inside it is the root itself, as in PyYAML
    "a: &a [*a]\n", "a: &a {b: *a}\n", "a: &a {b: [{c: *a}]}\n", "a: &a [[[*a]]]\n",
    "&r {a: *r}\n", "&r {a: [*r, *r], b: 1}\n", "&r [*r]\n", "&r {? *r : 1}\n",
    "a: &a !!set {? *a }\n", "a: &a !!omap [{b: *a}]\n", "&r {a: !!omap [{b: *r}]}\n",
    # tags: Python objects refused, the safe ones as PyYAML builds them
    "x: !!python/object:os.system {}\n", "x: !!python/name:os.system ''\n",
    "!!python/object/apply:os.system [ls]\n", "x: !!python/tuple [1, 2]\n", "x: !foo bar\n",
    "x: !<tag:example.com,2000:x> 1\n", "x: !!omap [{a: 1}, {b: [2, {c: 3}]}]\n",
    "x: !!pairs [{a: 1}, {a: 2}]\n", "x: !!set {a, b}\n", "x: !!omap [a]\n", "x: !!omap {a: 1}\n",
    "x: !!set [a]\n", "x: !!binary aGVsbG8=\n", "x: !!binary 'not base64!'\n", "x: !!binary [1]\n",
    "x: !!str 123\n", "x: !!str [a]\n", "x: !!str {=: abc}\n", "x: !!binary {=: aGVsbG8=}\n",
    "? !!str {=: abc}\n: 1\n", "x: !!map []\n", "x: !!map abc\n", "x: !!map ''\n",
    "x: !!seq abc\n", "x: !!seq {a: 1}\n", "x: !!seq []\n", "x: !!map {a: 1}\n", "!!map {a: 1}\n",
    "!!seq [a]\n", "!!set {a}\n", "!!omap [{a: 1}]\n", "!!str {=: abc}\n", "!!map ''\n",
    "x: !!null ''\n", "x: !!null abc\n", "x: !!bool yes\n", "x: !!bool maybe\n", "x: !!float 1\n",
    "x: !!float abc\n", "x: !!int '٣'\n", "x: !!int abc\n", "x: !!int ''\n", "x: !!int 0x1F\n",
    "x: ! 12\n", "x: !!merge a\n", "x: !!value a\n", "x: !!timestamp 2002-12-14\n",
    # timestamps
    "x: 2001-12-14t21:59:43.10-05:00\n", "x: 2001-12-14 21:59:43.10\n", "x: 2002-12-14\n",
    "x: 2002-13-14\n", "x: !!timestamp foo\n", "x: [2001-12-14t21:59:43.1234567Z]\n",
    # nesting: 100 levels is the limit, level 101 refused at its first node in document order
    "x: " + _nest(99) + "\n", "x: " + _nest(100) + "\n", "x: " + _nest(1500) + "\n",
    "x: " + "{a: " * 99 + "1" + "}" * 99 + "\n", "x: " + "{a: " * 100 + "1" + "}" * 100 + "\n",
    "input: " + "[" * 1_000_000 + "]" * 1_000_000 + "\n", "x: " + _nest(98) + "\ny: " + _nest(100) + "\n",
    "a0: &a0 " + _nest(60) + "\n" + "".join(
        f"a{i}: &a{i} " + _nest(60, f"*a{i - 1}") + "\n" for i in range(1, 4)),
    "a0: &a0 " + _nest(50) + "\nb: " + _nest(50, "*a0") + "\n",  # 1 + 50 + 50 = 101 levels
    "a0: &a0 " + _nest(50) + "\nb: " + _nest(49, "*a0") + "\n",  # 1 + 49 + 50 = 100 levels
    "a0: &a0 " + _nest(50) + "\nb: " + _nest(50, "*a0") + "\nc: !!map ''\n",  # and PyYAML's Map
    "a0: &a0 " + _nest(50) + "\nb: " + _nest(50, "*a0") + "\nc: !!set {a}\n",
    "a: " + _nest(150) + "\nb: !!binary '!'\n", "a: !!binary '!'\nb: " + _nest(150) + "\n",
    "a: &a [*a]\nb: " + _nest(150) + "\n", "a: 1\na: " + _nest(120) + "\n",
    "x: !!omap [" + _nest(120) + "]\n", "x: !!set {? " + _nest(120) + "}\n",
    "&r {a: " + _nest(99, "*r") + "}\n", "&r {a: " + _nest(98, "*r") + "}\n",
    # alias bombs: refused after the document is built, whatever else it holds
    _bomb(5), _bomb(6), _bomb(6) + "dup: 1\ndup: 2\n", _bomb(6) + "b: " + _nest(120) + "\n",
    _bomb(6) + "c: !!omap [{a: *a6}]\n", _bomb(5) + "c: !!omap [{a: *a5}]\n",
    _bomb(6).replace("a0: &a0 [", "a0: &a0 !!omap [{k: ").replace("x]", "x}]", 1),
    # control characters, lone surrogates, bidi overrides; tab and line breaks are text
    'x: "\\e[2J"\n', 'x: "a\\tb\\nc"\n', '"\\0": 1\n', 'x: "\\ud800"\n', 'x: "a\\u202eb"\n',
    'x: [ok, "\\x07"]\n', "x: \x07\n", "x: \x85\n", 'x: !!str "\\e"\n', 'x: {"\\e": 1}\n',
    # numbers: at most 100 characters; YAML 1.1's int, float and bool spellings
    "x: " + "1" * 100 + "\n", "x: " + "1" * 101 + "\n", "x: " + "1_" * 60 + "\n",
    "x: -" + "1" * 100 + "\n", "? " + "1" * 101 + "\n: a\n", "x: [0, 7, 010, 0o17, 0x1F, 0b101]\n",
    "x: [1_000, 1:20:30, -0, +5, -12, 00, 09, 0_0, 190:20:30.15]\n", "x: 1:20:" + "30:" * 40 + "1\n",
    "x: [.inf, -.inf, +.inf, .Inf, .nan, .NaN, 1e3, 1.5e3, 1.0e+3, 6.8523015e+5, 1., .5, -.5e-3]\n",
    "x: [yes, no, on, off, y, n, True, FALSE, Yes, oN]\n", "x: [~, null, Null, NULL, '', ]\n",
    "x:\n", "x: ~\n", "? a\n", "x: 12\ny: &n 300\nz: *n\n", "x: &s text\ny: *s\n",
    # empty, several or not-mapping documents
    "", "   \n", "---\n", "--- ~\n", "# a comment\n", "---\n...\n", "a: 1\n---\nb: 2\n",
    "- a\n- b\n", "just text\n", "1\n", "[]\n", "{}\n", "--- !!str\n", "&a [*a]\n",
    # syntax errors, tabs, bad indentation
    "x: [1, 2\n", "x: {a: 1\n", "x:\n\t- 1\n", "a: 1\n b: 2\n", "x: *nope\n", "x: &a\ny: *a\n",
    "x: 'unclosed\n", "%YAML 1.1\n---\nx: 1\n", "%FOO bar\n---\nx: 1\n", "x: @a\n",
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:40]) + f"...{len(t)}")
def test_hostile_and_bad_yaml(text):
    assert_equivalent(text)


def test_the_hostile_texts_reach_each_error():
    """The list is worth running: it reaches each of construct's errors (a walk that dropped a
    check would pass test_hostile_and_bad_yaml on the texts it did not reach)."""
    messages = {str(o[1]).split(": ", 1)[-1][:40] for o in map(
        lambda t: outcome(t, construct.Loader), HOSTILE) if o[0] == "error"}
    for expected in ("duplicate key '1' (first at line 1)", "a mapping key must be a plain value",
                     "YAML merge keys ('<<') are not supported", "YAML nesting is deeper than 100 levels",
                     "YAML aliases expand to more than 1,000,0", "text holds the control character U+001B",
                     "a number written with 101 characters; t", "YAML: found unconstructable recursive n",
                     "YAML: tag 'tag:yaml.org,2002:python/obj", "the top level must be a mapping of keys",
                     "empty spec file"):
        assert any(m.startswith(expected[:40]) for m in messages), expected


def _expanded(extra: str) -> str:
    # a is a list of 253 scalars: 254 nodes; b lists a 3,936 times: 1 + 3,936 * 254 nodes; the
    # top mapping is 1 more (its keys not counted): 1 + 254 + 1 + 999,744 = 1,000,000 nodes
    return "a: &a [" + ", ".join(["0"] * 253) + "]\nb: [" + ", ".join(["*a"] * 3936) + "]\n" + extra


def test_alias_expansion_limit_is_exact():
    doc = assert_equivalent(_expanded(""))[1]  # exactly MAX_EXPANDED_NODES: allowed
    assert MAX_EXPANDED_NODES == 1_000_000 and len(doc["b"]) == 3936 and doc["b"][0] is doc["a"]
    assert assert_equivalent(_expanded("c: 0\n"))[1:] == (  # one node more
        "F: YAML aliases expand to more than 1,000,000 nodes", "F", None, None, None)


def test_aliases_share_one_object():
    doc = assert_equivalent("a: &m {k: [1, 2]}\nb: *m\nc: [*m, &s [x]]\nd: *s\n")[1]
    assert doc["b"] is doc["a"] and doc["c"][0] is doc["a"] and doc["d"] is doc["c"][1]
    assert type(doc["a"]) is Map and type(doc["d"]) is Seq
    # a node starts at its anchor (column 4 of "a: &m"), and an alias stands where its node does
    assert (doc.pos, doc.key_pos["b"], doc["a"].pos, doc["c"].item_pos) == ((1, 1), (2, 1), (1, 4),
                                                                           [(1, 4), (3, 9)])


def test_the_roots_own_alias_is_the_root():
    doc = assert_equivalent("&r {a: [*r], b: 1}\n")[1]
    assert doc["a"][0] is doc


def test_values_are_pyyamls():
    doc = assert_equivalent("a: [1_000, 010, 0x1F, 1e3, .inf, yes, off, ~, 2002-12-14, !!binary aGk=, 7]\n")[1]
    assert doc["a"] == [1000, 8, 31, "1e3", math.inf, True, False, None, datetime.date(2002, 12, 14), b"hi", 7]


# random YAML from the tokens the constructions treat differently
_SCALARS = st.sampled_from(["a", "relu", "1", "0", "010", "1_0", "0x1F", "-3", "1.5", ".inf", "1e3",
                            "yes", "off", "~", "null", "''", "'1'", '"\\e"', '"a\\tb"', "2002-12-14",
                            "!!binary aGk=", "!!str 5", "!!int '7'", "!!float 1", "!foo x", "=", "<<",
                            "1" * 101, "!!python/none ''"])


@st.composite
def _yaml_text(draw):
    anchors = []

    def node(depth):
        choice = draw(st.integers(0, 9 if depth < 6 else 3))
        if choice <= 3 or (choice == 4 and not anchors):
            return draw(_SCALARS)
        if choice == 4:
            return "*" + draw(st.sampled_from(anchors))
        tag = draw(st.sampled_from(["", "", "", "", "!!set ", "!!omap ", "!!map ", "!!seq "]))
        if draw(st.booleans()):  # an anchor, which what is inside may name (a recursive alias)
            anchors.append(f"a{len(anchors)}")
            tag = f"&{anchors[-1]} {tag}"
        if choice in (5, 6):
            kids = [node(depth + 1) for _ in range(draw(st.integers(0, 3)))]
            text = "[" + ", ".join(kids) + "]"
        else:
            pairs = [(node(depth + 1), node(depth + 1)) for _ in range(draw(st.integers(0, 3)))]
            text = "{" + ", ".join(f"? {k} : {v}" for k, v in pairs) + "}"
        return tag + text

    return "\n".join(f"k{i}: {node(1)}" for i in range(draw(st.integers(1, 4)))) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_yaml_text())
def test_random_yaml(text):
    assert_equivalent(text)
