"""Fuzzing (issue 6): whatever a spec file holds, costcalc answers with a result or one clean error.

The property, checked on every example: the run ends with exit 0, 1 or 2; never a traceback
or an internal error (exit 3); exit 2 comes with exactly one line on stderr,
`costcalc: error: FILE...`, naming the file it is about.

Inputs: the shipped specs (specs/*.yaml) mutated as data (keys deleted or renamed, values
swapped for other types, huge, negative, zero or fractional numbers, references broken) and as
text (lines deleted, duplicated or swapped, tokens replaced, truncated), plausible specs generated
from the spec vocabulary, and random YAML, text and bytes.

The runs are in-process (``costcalc.cli.main``), so they are fast; test_errors.py covers the
subprocess path. COSTCALC_FUZZ_EXAMPLES sets the examples per test (default 100; 4 tests):

    COSTCALC_FUZZ_EXAMPLES=2500 python -m pytest tests/test_fuzz.py --hypothesis-show-statistics
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from costcalc import ops
from costcalc.cli import main
from costcalc.spec.expand import ENTRY_KEYS
from costcalc.spec.schema import TOP_KEYS, spec_files
from conftest import run_cli
from hostile import BOMB_SLOTS, alias_bomb_in, aliased_argument_spec, substituted_list_spec
from bench.specgen import one_repeat_spec, repeat_near_limit_spec

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = spec_files(ROOT / "specs")  # every shipped spec, in subfolders too (claims files apart)
TEXTS = {p.relative_to(ROOT / "specs").as_posix(): p.read_text() for p in SHIPPED}
DOCS = {name: yaml.safe_load(text) for name, text in TEXTS.items()}
# seeds: hostile specs that once broke the property (issue 19); each runs through every command
# (test_fuzz_seeds), and text edits start from them as from the shipped specs
SEEDS = {f"alias bomb in {slot}": alias_bomb_in(slot) for slot in BOMB_SLOTS}
SEEDS["aliased argument x 200 instances"] = aliased_argument_spec(200)  # 2,000 in test_hostile.py
SEEDS["substituted list x 2,000 instances"] = substituted_list_spec()
# the largest valid specs (issue 19.4): every command answers, fast enough to run them all
SEEDS["one relu x repeat 100,000"] = one_repeat_spec()
SEEDS["900 entries x repeat 100, just under 10 MiB"] = repeat_near_limit_spec()
EDITED_SEEDS = sorted(s for s in SEEDS if len(SEEDS[s]) < 1_000_000)  # text edits of 10 MiB: slow

EXAMPLES = int(os.environ.get("COSTCALC_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

_DIR = tempfile.mkdtemp(prefix="costcalc-fuzz-")
shutil.copytree(ROOT / "specs", _DIR, dirs_exist_ok=True)  # the files a spec may name beside it
SPEC = os.path.join(_DIR, "fuzzed.yaml")

# -- the property --------------------------------------------------------------------------

COMMAND_LIST = [
    ["analyze", SPEC, "-f", "json"],
    ["analyze", SPEC, "-f", "csv"],
    ["analyze", SPEC, "-f", "markdown"],
    ["analyze", SPEC],  # the rich table
    ["analyze", SPEC, "-f", "json", "--convention", "fvcore", "--batch", "3"],
    ["analyze", SPEC, "--depth", "1", "--convention", "flops"],
    ["compare", str(ROOT / "specs" / "naive.yaml"), SPEC, "-f", "json"],
    ["compare", SPEC, str(ROOT / "specs" / "reduced.yaml")],
    ["table", SPEC],  # the Table-1 report: reads blocks' table: entries and claims
    ["table", SPEC, "-f", "json"],
    ["analyze", SPEC, "--chart"],  # the terminal bar chart
    ["report", SPEC, "-o", os.path.join(_DIR, "fuzzed.html")],  # the HTML report
]
COMMANDS = st.sampled_from(COMMAND_LIST)


def run(args, cwd=None) -> tuple:
    """(exit code, stdout, stderr) of costcalc.cli.main(args), in-process."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    old_cwd, github = os.getcwd(), os.environ.pop("GITHUB_ACTIONS", None)  # no CI annotations
    try:
        os.chdir(cwd or old_cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code
    finally:
        os.chdir(old_cwd)
        if github is not None:
            os.environ["GITHUB_ACTIONS"] = github
    return code, out.getvalue(), err.getvalue()


def check(content, args, path=SPEC, cwd=None):
    """Write content to the fuzzed file (path), run costcalc, and assert the property."""
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(path, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as fh:
        fh.write(content)
    code, out, err = run(args, cwd)
    head = content[:3000] if isinstance(content, str) else content[:300]
    return holds(code, err, path, head)


def holds(code, err, path, head) -> int:
    """Assert the property on a run's exit code and stderr; returns the code."""
    assert code in (0, 1, 2), f"exit {code}\nstderr: {err[-3000:]}\nspec:\n{head}"
    assert "Traceback" not in err, err
    lines = err.splitlines()
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("costcalc: error: "), \
            f"stderr is not one error line:\n{err}\nspec:\n{head}"
        if path == SPEC:
            assert f"error: {SPEC}" in lines[0], f"the error does not name the file: {lines[0]}"
        _event(f"exit 2: {_kind_of_error(lines[0])}")
    else:
        _event(f"exit {code}")
    if code != 2:
        bad = [l for l in lines if not l.startswith("costcalc: warning: ")]
        assert not bad, f"exit {code}, stderr has other lines:\n{err}"
    return code


def _event(text):
    if currently_in_test_context():  # statistics for hypothesis; the seeds run outside it
        event(text)


def _kind_of_error(line: str) -> str:
    """The message's gist for hypothesis statistics: location, layer and values removed."""
    text = line[len("costcalc: error: "):]
    text = text.split(SPEC, 1)[-1] if SPEC in text else text.split(": ", 1)[-1]  # the file goes
    text = re.sub(r"^[:0-9]*\s*(layer '[^']*': )?", "", text)
    return re.sub(r"'[^']*'|\d+", "_", text)[:50]


# -- values that break things -----------------------------------------------------------------

EVIL_VALUES = [0, -1, -64, 1.5, 0.0, 2.0, True, False, None, "", "x", "conv", "input", "same",
               "$c", "$c1", "${c1 * 0}", "${1 // 0}", "${c1 - 1000}", "${" + "9" * 60 + "}",
               "${c1 * c1 * c1 * c1 * c1}", [], {}, [1], [1, 2, 3], [0, 0], {"a": 1}, {"out": 1},
               10**30, -(10**30), 2**40, 2**40 + 1, 10**6, float("inf"), float("-inf"),
               float("nan"), 1e300, "1e999", "1:2:3", "0x10", "0b101", "inception", "b1_relu"]
EVIL = st.one_of(st.sampled_from(EVIL_VALUES), st.integers(-1000, 1000), st.floats(),
                 st.text(max_size=12))

EVIL_TOKENS = ["0", "-1", "1.5", "true", "null", "~", "''", "[]", "{}", "1e999", "0x7f",
               "1099511627777", "1" + "0" * 30, "1" + "0" * 200, "&a", "*a", "*nope", "!!binary aGk=",
               "!!python/object/apply:os.system ['true']", "!!set {a}", "<<: {a: 1}", "'", '"',
               "{", "[", ":", "- ", "\t", "input", "x" * 300, "$nope", "${", "${1 ** 99}", "\\x00"]

KIND_NAMES = ops.known()
ARG_NAMES = sorted({a for k in KIND_NAMES for a in ops.get(k).args})
VOCAB = sorted(set(TOP_KEYS) | set(ENTRY_KEYS) | set(KIND_NAMES) | set(ARG_NAMES)
               | {"params", "input", "b1", "out", "x"})


def _slots(doc) -> list:
    """Every (container, key) in a YAML tree, in a stable order."""
    out, stack = [], [doc]
    while stack:
        node = stack.pop()
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        for key, value in items:
            out.append((node, key))
            if isinstance(value, (dict, list)):
                stack.append(value)
    return out


def _strings(doc) -> list:
    return sorted({v for c, k in _slots(doc) if isinstance(v := c[k], str)}) or ["x"]


def mutate(doc, data):
    """Apply one random structural mutation to doc (in place)."""
    slots = _slots(doc)
    if not slots:
        return
    container, key = slots[data.draw(st.integers(0, len(slots) - 1), label="slot")]
    op = data.draw(st.sampled_from(["delete", "replace", "replace", "rename", "dup", "swap",
                                    "reference", "wrap"]), label="op")
    if op == "delete":
        del container[key]
    elif op == "replace":
        container[key] = copy.deepcopy(data.draw(EVIL, label="value"))  # EVIL_VALUES stay as they are
    elif op == "rename" and isinstance(container, dict):
        new = data.draw(st.one_of(st.sampled_from(VOCAB), st.text(min_size=1, max_size=8)), label="key")
        container[new] = container.pop(key)
    elif op == "dup" and isinstance(container, list):
        container.insert(key, copy.deepcopy(container[key]))
    elif op == "swap" and isinstance(container, list) and len(container) > 1:
        other = data.draw(st.integers(0, len(container) - 1), label="other")
        container[key], container[other] = container[other], container[key]
    elif op == "reference":
        container[key] = data.draw(st.sampled_from(_strings(doc)), label="reference")
    elif op == "wrap":
        container[key] = data.draw(st.sampled_from([[container[key]], {"x": container[key]}]),
                                   label="wrapped")


def dump(doc) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, allow_unicode=True)


# -- the tests ----------------------------------------------------------------------------------

@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(DOCS)), args=COMMANDS)
def test_fuzz_mutated_shipped_specs(data, name, args):
    doc = copy.deepcopy(DOCS[name])
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        mutate(doc, data)
    text = dump(doc)
    if data.draw(st.booleans(), label="truncate"):
        text = text[:data.draw(st.integers(0, len(text)), label="cut")]
    check(text, args)


def edit_text(text: str, data) -> str:
    """One random textual edit of YAML source."""
    lines = text.splitlines(keepends=True) or [""]
    i = data.draw(st.integers(0, len(lines) - 1), label="line")
    op = data.draw(st.sampled_from(["delete", "dup", "swap", "token", "token", "char", "truncate",
                                    "indent"]), label="edit")
    if op == "delete":
        del lines[i]
    elif op == "dup":
        lines.insert(i, lines[i])
    elif op == "swap":
        j = data.draw(st.integers(0, len(lines) - 1), label="other")
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "token":
        tokens = list(re.finditer(r"[A-Za-z0-9_$.{}\[\]-]+", lines[i]))
        if tokens:
            m = tokens[data.draw(st.integers(0, len(tokens) - 1), label="token")]
            new = data.draw(st.one_of(st.sampled_from(EVIL_TOKENS), st.sampled_from(VOCAB),
                                      st.integers(-5, 10**6).map(str)), label="new")
            lines[i] = lines[i][:m.start()] + new + lines[i][m.end():]
    elif op == "char":
        pos = data.draw(st.integers(0, len(lines[i])), label="pos")
        char = data.draw(st.characters(exclude_categories=("Cs",)), label="char")  # a file holds no surrogates
        lines[i] = lines[i][:pos] + char + lines[i][pos:]
    elif op == "truncate":
        return "".join(lines[:i]) + lines[i][:data.draw(st.integers(0, len(lines[i])), label="cut")]
    elif op == "indent":
        lines[i] = data.draw(st.sampled_from(["", " ", "  ", "\t", "      "]), label="ws") + lines[i].lstrip()
    return "".join(lines)


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(TEXTS) + EDITED_SEEDS), args=COMMANDS)
def test_fuzz_text_edits_of_shipped_specs(data, name, args):
    text = TEXTS.get(name) or SEEDS[name]
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        text = edit_text(text, data)
    check(text, args)


# plausible specs: mostly valid values and real kinds, wired in random ways, so that shape and
# cost code runs too; now and then a bad value
BAD = st.sampled_from([0, -1, 2**40, 2**40 + 1, 10**30, 1.5, True, None, "$c", "${c * 2}", "${k - 9}",
                       "same", [2, 3], [1, 2, 3], "x"])
SMALL = st.one_of(st.integers(1, 9), st.integers(1, 4), st.sampled_from([1, 2, 3, [1, 2], [3, 1]]), BAD)
NAMES = ["a", "b", "c", "out", "d"]
RARELY = st.integers(0, 19).map(lambda r: r == 7)  # true about one time in 20 (not 0: hypothesis favours 0)


def _value(draw, params, arg=None):
    """Mostly a valid value for the argument's type, sometimes a block parameter, rarely a bad one."""
    if draw(RARELY):
        return draw(BAD)
    if params and draw(st.integers(0, 3)) == 0:
        return f"${draw(st.sampled_from(params))}"
    kind = type(arg).__name__
    if kind == "Bool":
        return draw(st.booleans())
    if kind == "Real":
        return draw(st.floats(0.01, 0.9))
    if kind in ("NonNegPair", "Padding", "NonNegInt"):
        return draw(st.one_of(st.integers(0, 2), st.sampled_from([[0, 1], "same"] if kind == "Padding" else [[0, 1]])))
    return draw(st.one_of(st.integers(1, 9), st.integers(1, 3), st.sampled_from([[1, 2], [3, 1]])))


@st.composite
def layer_entry(draw, names, block_names, params):
    kind = draw(st.sampled_from(KIND_NAMES + ["conv"] * 4 + ["block"] * 3 + ["convv"]))
    entry = {}
    if draw(st.integers(0, 2)) > 0:
        entry["name"] = draw(st.sampled_from(NAMES + ["input", "x y"] if draw(RARELY) else NAMES))
    if kind == "block":
        entry["block"] = draw(st.sampled_from(block_names + ["nope"] if draw(st.integers(0, 5)) == 0
                                              else block_names or ["nope"]))
        if draw(st.integers(0, 3)) > 0:
            entry["args"] = [_value(draw, params) for _ in range(draw(st.integers(0, 3)))]
        elif draw(RARELY):
            entry["args"] = draw(BAD)
    elif kind in ("concat", "add"):
        entry[kind] = draw(st.lists(st.sampled_from(names + ["input"] + (["zzz"] if draw(RARELY) else [])),
                                    max_size=3))
    else:
        schema = ops.get(kind).args if ops.get(kind) else {"out": None}
        keys = [k for k, a in schema.items() if a is None or a.required or draw(st.booleans())]
        if draw(RARELY):
            keys.append(draw(st.sampled_from(["k", "padding", "out", "bias"])))
        if keys and draw(RARELY):
            keys.pop(0)
        entry[kind] = {k: _value(draw, params, schema.get(k)) for k in keys} or None
    if draw(st.integers(0, 3)) == 0:
        entry["from"] = draw(st.one_of(st.sampled_from(names + ["input"] + (["later"] if draw(RARELY) else [])),
                                       st.lists(st.sampled_from(names + ["input"]), max_size=2)))
    if draw(st.integers(0, 7)) == 0:
        entry["repeat"] = draw(st.sampled_from([2, 3, 4, 2, 3, 0, -1, 1.5, 10**9]))
    if draw(st.integers(0, 9)) == 0:
        entry["when"] = draw(st.sampled_from([True, False, 0, 1, "${c > 1}", "${k == 3 or c < 2}",
                                              "${not s}", "x", [1], "${c < 'a'}"]))
    if entry.get("name"):
        names.append(entry["name"])
    return entry


@st.composite
def spec_doc(draw):
    doc = {"input": draw(st.lists(SMALL, max_size=4)) if draw(RARELY) else
           draw(st.one_of(st.lists(st.integers(1, 40), min_size=3, max_size=3),
                          st.lists(st.integers(1, 64), min_size=1, max_size=1)))}
    block_names = draw(st.lists(st.sampled_from(["b", "c", "d"]), max_size=3, unique=True))
    if block_names:
        doc["blocks"] = {}
        for b in block_names:
            params = draw(st.lists(st.sampled_from(["c", "k", "s"]), max_size=2, unique=True))
            names = []
            doc["blocks"][b] = {
                "params": params,
                "layers": draw(st.lists(layer_entry(names, block_names, params), min_size=1, max_size=4)),
            }
    names = []
    doc["layers"] = draw(st.lists(layer_entry(names, block_names, []), min_size=1, max_size=6))
    if draw(RARELY):
        doc[draw(st.sampled_from(["batch", "dtype", "name", "bogus"]))] = draw(SMALL)
    return doc


@FUZZ
@given(doc=spec_doc(), args=COMMANDS)
def test_fuzz_generated_specs(doc, args):
    check(dump(doc), args)


YAML_TREES = st.recursive(
    st.one_of(st.sampled_from(EVIL_VALUES), st.text(max_size=6), st.integers()),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(VOCAB), inner, max_size=4)),
    max_leaves=20,
)


@FUZZ
@given(content=st.one_of(YAML_TREES.map(dump),
                         st.dictionaries(st.sampled_from(VOCAB), YAML_TREES, max_size=5).map(dump),
                         st.text(max_size=200), st.binary(max_size=200)),
       args=COMMANDS)
def test_fuzz_random_yaml_text_and_bytes(content, args):
    check(content, args)


# the files `costcalc check` and `costcalc lock` read beside the specs: a copy of this
# repository's project (specs, budgets, lock, claims, pyproject) in a temporary directory
PROJECT = os.path.join(_DIR, "project")
PROJECT_FILES = ["costcalc.lock", "costcalc-budgets.yaml", "specs/googlenet.claims.yaml"]
shutil.copytree(ROOT / "specs", os.path.join(PROJECT, "specs"))
for _name in ("costcalc.lock", "costcalc-budgets.yaml", "pyproject.toml"):
    shutil.copy(ROOT / _name, PROJECT)
ORIGINALS = {name: (Path(PROJECT) / name).read_text() for name in PROJECT_FILES}


@FUZZ
@given(data=st.data(), target=st.sampled_from(PROJECT_FILES),
       args=st.sampled_from([["check", "specs/googlenet.yaml", "specs/reduced.yaml", "-f", "json"],
                             ["check", "specs/googlenet.yaml"], ["check", "specs/reduced.yaml", "-f", "junit"],
                             ["lock", "specs/googlenet.yaml", "specs/reduced.yaml", "--update"]]))
def test_fuzz_lock_budget_and_claims_files(data, target, args):
    for name, text in ORIGINALS.items():  # every example starts from the shipped files
        Path(PROJECT, name).write_text(text)
    text = ORIGINALS[target]
    if data.draw(st.booleans(), label="as data"):
        loads, dumps = (json.loads, lambda d: json.dumps(d, indent=1)) if target.endswith(".lock") else \
            (yaml.safe_load, dump)
        doc = loads(text)
        for _ in range(data.draw(st.integers(1, 3), label="mutations")):
            mutate(doc, data)
        text = dumps(doc)
    else:
        for _ in range(data.draw(st.integers(1, 3), label="edits")):
            text = edit_text(text, data)
    before = dict(ORIGINALS, **{target: text})  # as check() leaves them before costcalc runs
    code = check(text, args, path=os.path.join(PROJECT, target), cwd=PROJECT)
    after = {name: Path(PROJECT, name).read_text() for name in PROJECT_FILES}
    if code != 0:  # a failed run changes nothing on disk
        assert after == before
    elif args[0] == "lock":  # a rewritten lock is whole
        assert json.loads(after["costcalc.lock"])["costcalc-lock"] == 1


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_fuzz_seeds(seed):
    for args in COMMAND_LIST:
        check(SEEDS[seed], args)


def test_fuzz_seed_named_pipe(tmp_path):
    """Seed: the spec is a named pipe (issue 19.3). As a real process, with a timeout: opening
    a pipe with no writer would wait forever."""
    pipe = tmp_path / "pipe.yaml"
    os.mkfifo(pipe)
    for args in COMMAND_LIST:
        r = run_cli(*[pipe if a == SPEC else a for a in args], timeout=120)
        assert holds(r.returncode, r.stderr, str(pipe), "(a named pipe)") == 2
        assert "not a regular file (a named pipe)" in r.stderr


def test_the_property_catches_an_internal_error(monkeypatch):
    """The check above fails on exit 3: a crash inside counting is reported, not hidden."""
    import costcalc.counting.graph

    def boom(*a, **k):
        raise ZeroDivisionError("planted bug")

    monkeypatch.setattr(costcalc.counting.graph.Graph, "infer", boom)
    with pytest.raises(AssertionError, match="exit 3"):
        check(TEXTS["naive.yaml"], ["analyze", SPEC, "-f", "json"])


# -- seeds: the red team's findings of issue 20, each run through the same property ----------

def _claim(extra):
    return lambda t: t.replace("claims:\n", "claims:\n  - " + extra + "\n", 1)


def _lock_key(new):
    return lambda t: t.replace('"specs/classic/alexnet_2012.yaml": {', new + ": {", 1)


LOCKED = ["check", "specs/googlenet.yaml", "specs/reduced.yaml", "-f", "json"]
REDUCED_BUDGET = "specs/reduced.yaml:\n  total: {macs: 130M, params: 170K}\n"
# (file edited, the edit, the command, the exit code it must give: None for any of 0, 1, 2)
FILE_SEEDS = [
    # 1. big numbers: exit 3 before
    ("specs/googlenet.claims.yaml", _claim("{metric: macs, value: '1" + "0" * 400 + "'}"),
     ["check", "specs/googlenet.yaml"], 2),
    ("specs/googlenet.claims.yaml", _claim("{metric: macs, value: '1" + "0" * 400 + "'}"),
     ["table", "specs/googlenet.yaml"], 2),
    ("costcalc.lock", lambda t: t.replace('"macs": ', '"macs": ' + "9" * 5000, 1), LOCKED, 2),
    ("costcalc-budgets.yaml", lambda t: t.replace(REDUCED_BUDGET, REDUCED_BUDGET.replace("130M", "'1e3000000'")),
     LOCKED, 2),
    ("costcalc-budgets.yaml", lambda t: t, ["analyze", "specs/reduced.yaml", "--batch", "9" * 400], 2),
    # 2. bad lock text: exit 3 before (lock --update after writing)
    ("costcalc.lock", lambda t: "[" * 100_000 + "]" * 100_000, LOCKED, 2),
    ("costcalc.lock", _lock_key('"x\\ud800.yaml"'), ["check"], 2),
    ("costcalc.lock", _lock_key('"x\\ud800.yaml"'), ["lock", "--update"], 2),
    # 3. hangs before
    ("costcalc-budgets.yaml", lambda t: t.replace(REDUCED_BUDGET, REDUCED_BUDGET.replace("130M", "'1e300000000'")),
     LOCKED, 2),
    ("specs/googlenet.claims.yaml", _claim("{metric: macs, value: 1M, tolerance: 1e300000000}"),
     ["check", "specs/googlenet.yaml"], 2),
    ("costcalc-budgets.yaml", lambda t: t, LOCKED + ["--tolerance", "1e300000000"], 2),
    ("costcalc-budgets.yaml", lambda t: t, LOCKED + ["--tolerance", "1e300000000%"], 2),
    ("pyproject.toml", lambda t: t.replace('lock = "costcalc.lock"', 'lock = "costcalc.lock"\nlock-tolerance = "1e300000000"'),
     LOCKED, 2),
    ("costcalc-budgets.yaml", lambda t: t.replace('"inception_4*"', '"' + "*" * 40 + 'x"'), LOCKED, 1),  # names nothing
    # 4. terminal escapes in names and labels (printed raw before)
    ("specs/googlenet.claims.yaml", _claim('{metric: macs, value: 1M, source: "\\e[2J", note: "\\0"}'),
     ["table", "specs/googlenet.yaml", "-f", "markdown"], 2),
    ("specs/reduced.yaml", lambda t: t.replace("name: inception-reduced", 'name: "\\e[2J\\0"'),
     ["analyze", "specs/reduced.yaml", "-f", "csv"], 2),
    ("specs/reduced.yaml", lambda t: t.replace("label: inception (3a)", 'label: "\\e]0;owned\\a"'),
     ["table", "specs/reduced.yaml", "-f", "markdown"], 2),
    ("costcalc.lock", _lock_key('"specs/\\u001b[2J.yaml"'), ["check"], 2),
    # 6. paths outside the project, '*' taking the lock, version true, duplicate keys
    ("costcalc.lock", _lock_key('"../outside.yaml"'), ["check"], 2),
    ("costcalc-budgets.yaml", lambda t: t + "'*':\n  total: {macs: 10G}\n", ["check"], 1),  # no spec there
    ("costcalc.lock", lambda t: t.replace('"costcalc-lock": 1', '"costcalc-lock": true'), LOCKED, 2),
    ("costcalc.lock", lambda t: t.replace('"costcalc-lock": 1,', '"costcalc-lock": 1, "costcalc-lock": 1,'), LOCKED, 2),
]


@pytest.mark.parametrize("target, edit, args, want", FILE_SEEDS)
def test_fuzz_seeds_of_issue_20(target, edit, args, want, monkeypatch):
    """Each finding of issue 20 (big numbers, bad lock text, hangs, escapes, paths outside the
    project) as a seed: exit 0, 1 or 2 with one clean line, no raw control character in any
    output, and a failed run leaves every file as it was."""
    monkeypatch.setattr(f"{__name__}.event", lambda *a: None)  # hypothesis statistics: none here
    originals = dict(ORIGINALS, **{"pyproject.toml": (ROOT / "pyproject.toml").read_text(),
                                   "specs/reduced.yaml": TEXTS["reduced.yaml"]})
    for name, text in originals.items():
        Path(PROJECT, name).write_text(text)
    Path(_DIR, "outside.yaml").write_text("secret: hunter2\n")
    text = edit(originals[target])
    assert text != originals[target] or "--batch" in args or "--tolerance" in args
    try:
        code = check(text, args, path=os.path.join(PROJECT, target), cwd=PROJECT)
        assert want is None or code == want, code
        _, out, err = run(args, PROJECT)
        assert "secret" not in err + out and "hunter2" not in err + out  # outside.yaml unread
        raw = [c for c in out + err if not c.isprintable() and c not in "\n\t"]
        assert not raw, raw
        if code != 0:
            assert {n: Path(PROJECT, n).read_text() for n in originals} == dict(originals, **{target: text})
    finally:
        for name, text in originals.items():
            Path(PROJECT, name).write_text(text)
