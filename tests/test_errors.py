"""Bad input (issue 6): every case gets one clear line, `costcalc: error: FILE:LINE:COL: layer
'path': message`, exit 2 and no traceback; the limits hold; nothing is executed or exhausted.

Most cases run in-process through costcalc.cli.main (fast); a few run as real processes.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import costcalc.cli
import costcalc.counting.graph
from costcalc.spec import expand, yamlio
from costcalc import ops
from costcalc.cli import main
from conftest import ROOT, run_cli

C3 = "input: [3, 8, 8]\n"  # a 3x8x8 input, the start of most specs below


def run(*args):
    """(exit code, stdout, stderr) of an in-process run."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def error(tmp_path):
    """error(content) -> the one error line for a spec file holding content, with the file's
    path written as F; asserts exit 2, a single stderr line and no traceback."""
    def check(content, *extra, name="s.yaml"):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        code, out, err = run("analyze", path, "-f", "json", *extra)
        lines = err.splitlines()
        assert code == 2, (code, err, out[:500])
        assert len(lines) == 1 and lines[0].startswith("costcalc: error: "), err
        return lines[0][len("costcalc: error: "):].replace(str(path), "F")
    return check


def at(text: str, needle: str, n: int = 1) -> str:
    """'F:LINE:COL' of the n-th occurrence of needle in text (1-based, as the errors give it)."""
    i = -1
    for _ in range(n):
        i = text.index(needle, i + 1)
    line = text.count("\n", 0, i) + 1
    return f"F:{line}:{i - (text.rfind(chr(10), 0, i) + 1) + 1}"


def analyze_ok(tmp_path, text):
    path = tmp_path / "ok.yaml"
    path.write_text(text)
    code, out, err = run("analyze", path, "-f", "json")
    assert code == 0, err
    return json.loads(out), err.replace(str(path), "F")


# -- files ------------------------------------------------------------------------------------

def test_missing_file(tmp_path):
    code, _, err = run("analyze", tmp_path / "nope.yaml")
    assert code == 2 and err == f"costcalc: error: {tmp_path / 'nope.yaml'}: no such spec file\n"


def test_directory(tmp_path):
    code, _, err = run("analyze", tmp_path)
    assert code == 2 and err == f"costcalc: error: {tmp_path}: is a directory, not a spec file\n"


def test_permission_denied_is_a_real_os_refusal(tmp_path):
    """A file its reader may not open. Root may open anything, so as root a child process
    imports costcalc, then drops to the 'nobody' user (65534) before reading the file."""
    import tempfile

    folder = Path(tempfile.mkdtemp(dir="/tmp"))  # /tmp is open to everyone; pytest's tmp_path is not
    folder.chmod(0o755)  # so the only refusal is the file's own mode
    spec = folder / "locked.yaml"
    spec.write_text(C3 + "layers: [relu]\n")
    spec.chmod(0)
    code = ("import os, sys, costcalc, costcalc.cli, costcalc.counting.results\n"
            "if os.geteuid() == 0:\n"
            "    try:  # a first run imports every module while they can still be read\n"
            "        costcalc.cli.main(['analyze', 'specs/gap_head.yaml', '-f', 'json'])\n"
            "    except SystemExit:\n        pass\n"
            "    os.setgid(65534); os.setuid(65534)\n"
            "sys.stdout.flush(); sys.stdout = open(os.devnull, 'w')\n"
            "try:  # the library\n"
            "    costcalc.analyze(sys.argv[1])\n"
            "except costcalc.errors.CostcalcError as exc:\n"
            "    print('library:', exc, file=sys.stderr)\n"
            "costcalc.cli.main(['analyze', sys.argv[1]])  # the command line\n")
    r = subprocess.run([sys.executable, "-c", code, str(spec)], cwd=ROOT, capture_output=True,
                       text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    spec.unlink()
    folder.rmdir()
    library, cli = r.stderr.splitlines()
    assert library == f"library: {spec}: permission denied"
    # the command line's argument parser (click) sees it first: one line, exit 2 all the same
    assert r.returncode == 2, r.stderr
    assert cli == (f"costcalc: error: Invalid value for 'SPEC': path '{spec}' is not readable. "
                   "(see 'costcalc analyze --help')")


def test_empty_and_comment_only(error):
    assert error("") == "F: empty spec file"
    assert error("# nothing here\n\n") == "F: empty spec file"


def test_not_utf8(error):
    assert error(b"input: [3]\nname: caf\xe9\n") == "F: not UTF-8 text (bad byte at offset 20)"  # 11 + 9 bytes before it


def test_binary(error):
    assert error(b"\x89PNG\r\n\x1a\n\x00\x00") == "F: binary file (contains NUL bytes), not a spec file"
    # UTF-16 text is binary to a UTF-8 reader: it holds NUL bytes
    assert error((C3 + "layers: [relu]\n").encode("utf-16")) == "F: binary file (contains NUL bytes), not a spec file"


def test_file_over_the_size_limit(error, tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as fh:  # a sparse file: nothing is written or read
        fh.truncate(yamlio.MAX_FILE_BYTES + 1)
    code, _, err = run("analyze", path)
    assert code == 2
    assert err == (f"costcalc: error: {path}: file is 10,485,761 bytes; "
                   "the limit is 10,485,760 (10 MiB)\n")


def test_size_limit_boundary(tmp_path, monkeypatch):
    text = C3 + "layers: [relu]\n"
    monkeypatch.setattr(yamlio, "MAX_FILE_BYTES", len(text))
    assert analyze_ok(tmp_path, text)[0]["totals"]["activations"] == 3 * 8 * 8  # 192
    path = tmp_path / "over.yaml"
    path.write_text(text + " ")
    code, _, err = run("analyze", path)
    assert code == 2 and f"file is {len(text) + 1} bytes" in err


# -- YAML -------------------------------------------------------------------------------------

def test_yaml_syntax_error_has_line_and_column(error):
    assert error("input: [3, 8, 8\nlayers: [relu]\n") == "F:2:7: YAML: did not find expected ',' or ']'"


def test_tab_indentation(error):
    assert error(C3 + "layers:\n\t- relu\n") == "F:3:1: YAML: found character that cannot start any token"


def test_control_character_has_a_position(error):
    assert error(C3 + "layers: [relu]\x07\n") == \
        "F:2:15: YAML: character U+0007 is not allowed (control characters are not allowed)"


@pytest.mark.parametrize("text,what", [("- relu\n- relu\n", "a list of 2 items"), ("hello\n", "the text 'hello'"),
                                       ("42\n", "42")])
def test_top_level_not_a_mapping(error, text, what):
    assert error(text) == f"F:1:1: the top level must be a mapping of keys, not {what}"


def test_duplicate_keys_are_refused(error):
    assert error(C3 + "layers: [relu]\ninput: [3, 4, 4]\n") == "F:3:1: duplicate key 'input' (first at line 1)"
    # inside a layer's arguments too: PyYAML alone would keep out: 8 silently
    text = C3 + "layers:\n  - conv:\n      out: 4\n      kernel: 3\n      out: 8\n"
    assert error(text) == f"{at(text, 'out: 8')}: duplicate key 'out' (first at line 4)"


def test_several_documents(error):
    assert error(C3 + "layers: [relu]\n---\nx: 1\n") == "F:3:1: YAML: but found another document"


# -- safe loading ---------------------------------------------------------------------------------

@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/object/new:os.system",
                                 "!!python/name:os.system", "!!python/module:os"])
def test_python_tags_are_refused_and_never_run(error, tmp_path, tag):
    marker = tmp_path / "pwned"
    line = error(f"input: {tag} ['touch {marker}']\nlayers: [relu]\n")
    assert line.startswith("F:1:8: YAML: tag 'tag:yaml.org,2002:python/")
    assert line.endswith("is not allowed: costcalc reads plain YAML only")
    assert not marker.exists()


def test_other_tags_are_refused(error):
    assert error("input: !custom [3]\nlayers: [relu]\n") == \
        "F:1:8: YAML: tag '!custom' is not allowed: costcalc reads plain YAML only"


def billion_laughs(levels=9):
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n" + C3 + "layers: [relu]\n"


def test_billion_laughs_is_refused(error):
    # 10^10 'lol's if expanded; refused by counting nodes through the alias graph, which takes
    # linear time and memory in the file (a few hundred bytes here)
    assert error(billion_laughs()) == "F: YAML aliases expand to more than 1,000,000 nodes"


def test_aliases_within_the_bound_are_fine(tmp_path):
    text = "input: &shape [3, 8, 8]\nname: aliased\nlayers:\n  - &r {relu: }\n"
    assert analyze_ok(tmp_path, text)[0]["input"] == [3, 8, 8]


def test_merge_keys_are_refused(error):
    # '<<' merges copy aliased mappings before anything can be counted (exponential growth)
    assert error(C3 + "x: &x {relu: }\nlayers:\n  - {<<: *x, name: a}\n") == \
        "F:4:6: YAML merge keys ('<<') are not supported; use a block for repeated layers"


def test_merge_key_bomb_is_refused_at_once(error):
    lines = ["m0: &m0 {k: 0}"]
    for i in range(1, 10):  # 10^9 merged pairs if flattened
        lines.append(f"m{i}: &m{i} {{<<: [" + ", ".join([f"*m{i - 1}"] * 10) + "]}")
    assert error("\n".join(lines) + "\n<<: *m9\n") == \
        "F:11:1: YAML merge keys ('<<') are not supported; use a block for repeated layers"


def test_recursive_alias(error):
    assert error("a: &a [*a]\n") == "F:1:4: YAML: found unconstructable recursive node"


@pytest.fixture(params=["libyaml's own limit", "the event scan first"])
def nesting_guard(request, monkeypatch):
    """Both ways deep nesting is refused: libyaml 0.2.6's own limit (the node tree is measured
    after it), and the scan of the parser's events an older libyaml needs first."""
    if request.param == "the event scan first":
        monkeypatch.setattr(yamlio, "_LIBYAML_LIMITS_NESTING", False)
    return request.param


def test_deep_nesting(error, tmp_path, nesting_guard):
    # the top-level mapping is level 1, so 99 brackets inside it are level 100: the limit
    deepest = yamlio.parse_yaml("x: " + "[" * 99 + "1" + "]" * 99 + "\n")["x"]
    for _ in range(98):
        deepest = deepest[0]
    assert deepest == [1]
    with pytest.raises(yamlio.CostcalcError, match="^YAML nesting is deeper than 100 levels$") as info:
        yamlio.parse_yaml("x: " + "[" * 100 + "1" + "]" * 100 + "\n")
    assert (info.value.line, info.value.column) == (1, 103)  # the 100th bracket: column 4 + 99
    text = "input: " + "[" * 1_000_000 + "]" * 1_000_000 + "\n"  # libyaml alone crashes (SIGSEGV)
    # level 101 is the 100th bracket: column 8 + 99
    assert error(text) == "F:1:107: YAML nesting is deeper than 100 levels"


def test_deep_nesting_past_libyamls_own_limit(nesting_guard):
    # libyaml 0.2.6 (PyYAML 6.0.4) stops at its own 1,000 levels, reading ahead of the parser;
    # the error must still be costcalc's, at the bracket that is level 101, on every PyYAML
    with pytest.raises(yamlio.CostcalcError, match="^YAML nesting is deeper than 100 levels$") as info:
        yamlio.parse_yaml("x: " + "{a: " * 1500 + "1" + "}" * 1500 + "\n")
    assert (info.value.line, info.value.column) == (1, 400)  # the 100th '{': column 4 + 99*4
    with pytest.raises(yamlio.CostcalcError, match="^YAML nesting is deeper than 100 levels$") as info:
        yamlio.parse_yaml("x: " + "[" * 1500 + "]" * 1500 + "\n")
    assert (info.value.line, info.value.column) == (1, 103)  # the 100th '[': column 4 + 99


def test_nesting_through_aliases(error):
    # each anchor nests 60 levels around the previous one: 4 * 60 levels once built
    text = "a0: &a0 " + "[" * 60 + "]" * 60 + "\n" + "".join(
        f"a{i}: &a{i} " + "[" * 60 + f"*a{i - 1}" + "]" * 60 + "\n" for i in range(1, 4)) + C3 + "layers: [relu]\n"
    # the first node at level 101 in document order: a1 (line 2) is the first entry deeper than
    # 100 levels, through its 60 brackets and then *a0's 40th, on line 1 after "a0: &a0 ":
    # column 9 + 39
    assert error(text) == "F:1:48: YAML nesting is deeper than 100 levels"


def test_nesting_is_reported_at_the_first_branch_too_deep(error, nesting_guard):
    # two branches past the limit: the error is at the first one's level 101, as the parser's
    # events reach it (the second, deeper one is not the first the parser would refuse)
    text = "x: [" + "[" * 100 + "]" * 100 + ", " + "[" * 150 + "]" * 150 + "]\n"
    # level 1 the mapping, 2 the outer list: level 101 is the first branch's 99th bracket,
    # column 5 + 98
    assert error(text) == "F:1:103: YAML nesting is deeper than 100 levels"


@pytest.mark.parametrize("number", ["1" * 101, "1:" * 60 + "1"])
def test_over_long_integers_are_refused(error, number):
    # Python reads at most 4,300 digits, and YAML 1.1 base-60 ints (1:2:3) are quadratic
    text = C3 + f"layers:\n  - {{conv: {{out: {number}, kernel: 1}}}}\n"
    assert error(text) == f"{at(text, number)}: a number written with {len(number)} characters; the limit is 100"


# -- schema -----------------------------------------------------------------------------------------

def test_unknown_top_level_key_suggests(error):
    assert error(C3 + "layer: [relu]\n").startswith(
        "F:2:1: unknown top-level key 'layer' (did you mean 'layers'?); a spec has: batch, blocks,")


def test_unknown_argument_suggests(error):
    assert error(C3 + "layers:\n  - {name: c1, conv: {out: 4, kernal: 3}}\n") == (
        "F:3:31: layer 'c1': conv: unknown argument 'kernal' (did you mean 'kernel'?); its arguments "
        "are: out, kernel, stride, pad, dilation, groups, bias")
    # names from PyTorch map to costcalc's
    assert "(did you mean 'pad'?)" in error(C3 + "layers:\n  - {conv: {out: 4, kernel: 3, padding: 1}}\n")


def test_unknown_layer_and_block_keys(error):
    text = C3 + "layers:\n  - {name: a, relu: , form: input}\n"
    assert error(text) == (f"{at(text, 'form')}: layer 'a': unknown key 'form' (did you mean 'from'?) (a layer "
                           "has name, from, repeat, when, label, block, args and one kind; arguments go inside the "
                           "kind's mapping)")
    assert error(C3 + "blocks:\n  b: {layer: [relu]}\nlayers: [relu]\n").startswith(
        "F:3:7: block 'b': unknown key 'layer' (did you mean 'layers'?)")


def test_missing_required_keys(error):
    assert error("layers: [relu]\n") == "F:1:1: missing required key 'input'"
    assert error(C3) == "F:1:1: missing required key 'layers'"
    text = C3 + "layers:\n  - {name: c, conv: {out: 4}}\n"
    assert error(text) == \
        f"{at(text, 'conv')}: layer 'c': conv: missing required argument 'kernel' (a positive whole number or [h, w])"


@pytest.mark.parametrize("text,needle,message", [
    ("input: 3\nlayers: [relu]\n", "input", "'input' is a list of sizes, [channels, height, width] or [features], or a mapping that names each axis, e.g. {T: 1024, D: 768}"),
    ("input: []\nlayers: [relu]\n", "input", "'input' is a list of sizes, [channels, height, width] or [features], or a mapping that names each axis, e.g. {T: 1024, D: 768}; of 1 to 8 axes, not 0"),
    ("input: {T: 8, 2: 4}\nlayers: [relu]\n", "2", "input axis name 2 must be a plain name such as T or D"),
    (C3 + "layers: relu\n", "layers", "'layers' must be a non-empty list"),
    (C3 + "layers: []\n", "layers", "'layers' must be a non-empty list"),
    (C3 + "name: [a]\nlayers: [relu]\n", "name", "'name' must be text"),
    (C3 + "description: 3\nlayers: [relu]\n", "description", "'description' must be text"),
    (C3 + "dtype: 4\nlayers: [relu]\n", "dtype",
     "'dtype' must be one of 'float32', 'float16', 'bfloat16', 'float64', 'int8', not 4"),
    (C3 + "layers:\n  - {conv: {out: 4, kernel: three}}\n", "kernel",
     "layer 'conv_1': conv: 'kernel' must be a whole number, not the text 'three'"),
    (C3 + "layers:\n  - {conv: {out: 4, kernel: 3, bias: 1}}\n", "bias",
     "layer 'conv_1': conv: 'bias' must be true or false, not 1"),
    (C3 + "layers:\n  - {conv: [4, 3]}\n", "conv",
     "layer 'conv_1': conv: arguments must be a mapping such as {out: ..., kernel: ...}, not a list of 2 items"),
    (C3 + "layers:\n  - [relu]\n", "[relu]",
     "a layer must be a mapping such as {name: c1, conv: {...}} or a kind name, not a list of 1 item"),
    (C3 + "layers:\n  - {name: 7, relu: }\n", "name",
     "layer name 7 must be letters, digits, _ or - (and not 'input')"),
    (C3 + "layers:\n  - {relu: , from: {a: 1}}\n", "from",
     "layer 'relu_1': 'from' must be a layer name or a list of names"),
])
def test_wrong_types(error, text, needle, message):
    assert error(text) == f"{at(text, needle)}: {message}"


@pytest.mark.parametrize("value,reason", [
    ("0", "must be positive, not 0"),
    ("-3", "must be positive, not -3"),
    ("2.5", "must be a whole number, not 2.5"),
    ("4.0", "must be a whole number written without a decimal point, not 4.0"),
    ("true", "must be a whole number, not the boolean true"),
    ("null", "must be a whole number, not nothing (null)"),
    ("'4'", "must be a whole number, not the text '4'"),
    ("1099511627777", "1099511627777 is too large (limit 1,099,511,627,776)"),  # 2**40 + 1
    ("1" + "0" * 30, "1000000000000000000000000000000 is too large (limit 1,099,511,627,776)"),
    ("1" + "0" * 60, "a 61-digit number is too large (limit 1,099,511,627,776)"),
    (".inf", "must be a whole number, not inf"),
    (".nan", "must be a whole number, not nan"),
])
def test_positive_int_arguments(error, value, reason):
    text = C3 + f"layers:\n  - {{name: c, conv: {{out: {value}, kernel: 1}}}}\n"
    assert error(text) == f"{at(text, 'out')}: layer 'c': conv: 'out' {reason}"


@pytest.mark.parametrize("key,value,reason", [
    ("batch", "0", "'batch' must be positive, not 0"),
    ("batch", "1.5", "'batch' must be a whole number, not 1.5"),
    ("batch", "false", "'batch' must be a whole number, not the boolean false"),
    ("batch", "1" + "0" * 30, "'batch' 1000000000000000000000000000000 is too large (limit 1,099,511,627,776)"),
])
def test_top_level_numbers(error, key, value, reason):
    assert error(C3 + f"{key}: {value}\nlayers: [relu]\n") == f"F:2:1: {reason}"


@pytest.mark.parametrize("value,reason", [("0", "must be positive, not 0"), ("-8", "must be positive, not -8"),
                                          ("8.5", "must be a whole number, not 8.5")])
def test_input_sizes(error, value, reason):
    assert error(f"input: [3, {value}, 8]\nlayers: [relu]\n") == f"F:1:12: each input size {reason}"


def test_real_arguments(error):
    # torch.nn.Dropout accepts p = 1 (it zeroes everything in training); above 1 it refuses
    text = C3 + "layers:\n  - {dropout: {p: 1.5}}\n"
    assert error(text) == f"{at(text, 'p:')}: layer 'dropout_1': dropout: 'p' must be a number in [0.0, 1.0], not 1.5"
    text = C3 + "layers:\n  - {hardtanh: {min_val: .nan}}\n"
    assert error(text) == \
        f"{at(text, 'min_val')}: layer 'hardtanh_1': hardtanh: 'min_val' must be a number in [-inf, inf], not nan"


# -- graph --------------------------------------------------------------------------------------------

def test_unknown_kind_lists_every_known_kind(error):
    text = C3 + "layers:\n  - {name: c1, cnv: {out: 4, kernel: 3}}\n"
    assert error(text) == (f"{at(text, 'cnv')}: layer 'c1': unknown layer kind 'cnv' (did you mean 'conv'?); known kinds: "
                    + ", ".join(ops.known()))


def test_from_undefined_and_from_later(error):
    text = C3 + "layers:\n  - {name: a, relu: , from: nope}\n"
    assert error(text) == (
        f"{at(text, 'from')}: layer 'a': 'from' names 'nope', which is not an earlier layer in this scope "
        "(a layer may only read layers above it, so there are no cycles)")
    text = C3 + "layers:\n  - {name: a, relu: , from: [input, b]}\n  - {name: b, relu: }\n"
    assert error(text).startswith(
        f"{at(text, 'b]')}: layer 'a': 'from' names 'b', which is not an earlier layer in this scope")


def test_cycles_cannot_be_written(error):
    # a reads b and b reads a: the first forward reference is refused, so every graph is a DAG
    text = C3 + "layers:\n  - {name: a, relu: , from: b}\n  - {name: b, relu: , from: a}\n"
    line = error(text)
    assert line.startswith(f"{at(text, 'from')}: layer 'a': 'from' names 'b'") and "no cycles" in line
    text = C3 + "layers:\n  - {name: a, relu: , from: a}\n"
    assert error(text).startswith(f"{at(text, 'from')}: layer 'a': 'from' names 'a'")


def test_duplicate_layer_names(error):
    text = C3 + "layers:\n  - {name: a, relu: }\n  - {name: a, tanh: }\n"
    assert error(text) == f"{at(text, 'name', 2)}: layer 'a': duplicate layer name 'a' in this scope"


def test_unreachable_layer_is_a_warning_and_still_counted(tmp_path):
    d, err = analyze_ok(tmp_path, C3 + "layers:\n  - {name: side, relu: }\n  - {name: main, tanh: , from: input}\n")
    assert err == ("costcalc: warning: F:3:5: layer 'side': its output is never used "
                   "(no path to the model output); it is still counted\n")
    assert d["totals"]["elementops"] == 2 * 3 * 8 * 8  # relu and tanh, one op per element each: 384


def test_warnings_of_one_kind_are_one_line_with_a_count_and_quiet_silences_them(tmp_path):
    # issue 12.5: a model with 7 dead-end side branches (squeeze-excitation written as side
    # branches) gives one warning line naming the count and the first five, not 7 lines
    sides = "".join(f"  - {{name: se{i}, relu: , from: input}}\n" for i in range(7))
    d, err = analyze_ok(tmp_path, C3 + "layers:\n" + sides + "  - {name: main, tanh: , from: input}\n")
    assert err == ("costcalc: warning: F: 7 layers whose output is never used (no path to the "
                   "model output); they are still counted: 'se0' (3:5), 'se1' (4:5), 'se2' (5:5), "
                   "'se3' (6:5), 'se4' (7:5) and 2 more\n")
    assert len(d["warnings"]) == 7  # json keeps every warning whole
    path = tmp_path / "ok.yaml"
    for argv in (["--quiet", "analyze", path], ["-q", "analyze", path, "-f", "json"]):
        code, out, err = run(*argv)
        assert (code, err) == (0, "") and out


# -- blocks ------------------------------------------------------------------------------------------

BLOCK = C3 + "blocks:\n  unit:\n    params: [c]\n    layers:\n      - {name: conv, conv: {out: $c, kernel: 1}}\n"


def test_undefined_block(error):
    text = BLOCK + "layers:\n  - {name: u, block: unti, args: [4]}\n"
    assert error(text) == f"{at(text, 'block: unti')}: layer 'u': undefined block 'unti' (did you mean 'unit'?); blocks: unit"


def test_block_arguments(error):
    text = BLOCK + "layers:\n  - {name: u, block: unit}\n"
    assert error(text) == f"{at(text, '{name: u')}: layer 'u': block 'unit' is missing argument 'c' (parameters: c)"
    text = BLOCK + "layers:\n  - {name: u, block: unit, args: [4, 5]}\n"
    assert error(text) == f"{at(text, 'args')}: layer 'u': block 'unit' takes 1 args (c), but 2 are given"
    text = BLOCK + "layers:\n  - {name: u, block: unit, args: {c: 4, d: 5}}\n"
    assert error(text) == f"{at(text, 'd: 5')}: layer 'u': block 'unit' has no parameter 'd'; its parameters: c"
    text = BLOCK + "layers:\n  - {name: u, block: unit, args: {cc: 4}}\n"
    assert error(text) == \
        f"{at(text, 'cc')}: layer 'u': block 'unit' has no parameter 'cc' (did you mean 'c'?); its parameters: c"


def test_recursive_blocks(error):
    text = C3 + "blocks:\n  a: {layers: [{name: x, block: a}]}\nlayers:\n  - {name: top, block: a}\n"
    assert error(text) == f"{at(text, 'block: a')}: layer 'top/x': block 'a' uses itself (a → a)"
    text = (C3 + "blocks:\n  a: {layers: [{name: x, block: b}]}\n  b: {layers: [{name: y, block: a}]}\n"
            "layers:\n  - {name: top, block: a}\n")
    assert error(text) == f"{at(text, 'block: a')}: layer 'top/x/y': block 'a' uses itself (a → b → a)"


def nested(depth):
    """A chain of `depth` block instances, each inside the one before."""
    blocks = "".join(f"  b{i}: {{layers: [{{name: n, block: b{i + 1}}}]}}\n" for i in range(1, depth))
    return C3 + "blocks:\n" + blocks + f"  b{depth}: {{layers: [relu]}}\nlayers:\n  - {{name: n, block: b1}}\n"


def test_nesting_limit(error, tmp_path):
    assert expand.MAX_NESTING == 16
    d, _ = analyze_ok(tmp_path, nested(16))
    assert d["layers"][0]["name"] == "n/" * 16 + "relu_1"
    line = error(nested(17))
    assert line.endswith(f"layer '{'n/' * 16}n': blocks are nested more than 16 deep")


# -- shapes --------------------------------------------------------------------------------------------

def test_kernel_larger_than_input_inside_a_block(error):
    text = ("input: [3, 3, 3]\nblocks:\n  inception:\n    params: [k]\n    layers:\n"
            "      - {name: b2, conv: {out: 4, kernel: $k}}\nlayers:\n  - {name: inception_4a, block: inception, args: [5]}\n")
    assert error(text) == ("F:6:9: layer 'inception_4a/b2': conv kernel 5 is larger than its padded input 3x3 "
                           "(output size -1x-1)")


def test_concat_and_add_name_both_sides(error):
    two = C3 + "layers:\n  - {name: a, conv: {out: 4, kernel: 3}}\n  - {name: b, conv: {out: 4, kernel: 1}, from: input}\n"
    assert error(two + "  - {name: cat, concat: [a, b]}\n") == \
        "F:5:5: layer 'cat': concat needs equal sizes apart from channels, but 'a' gives [4, 6, 6] and 'b' gives [4, 8, 8]"
    assert error(two + "  - {name: sum, add: [b, input]}\n") == \
        "F:5:5: layer 'sum': add needs equal shapes, but 'b' gives [4, 8, 8] and 'input' gives [3, 8, 8]"


def test_groups_must_divide(error):
    assert error(C3 + "layers:\n  - {name: dw, conv: {out: 4, kernel: 3, groups: 2}}\n") == \
        "F:3:5: layer 'dw': conv groups 2 must divide both its input channels 3 and its output channels 4"


def test_linear_input_size(error):
    assert error("input: [10]\nlayers:\n  - {name: fc, linear: {out: 4, in: 12}}\n") == \
        "F:3:5: layer 'fc': linear expects 12 input features but receives 10"
    assert error(C3 + "layers:\n  - {name: fc, linear: {out: 4}}\n") == \
        "F:3:5: layer 'fc': linear needs flat features, but its input is [3, 8, 8]; put a flatten layer before it"


def test_output_size_zero(error):
    assert error("input: [3, 2, 2]\nlayers:\n  - {name: p, maxpool: {kernel: 3}}\n") == \
        "F:3:5: layer 'p': maxpool kernel 3 is larger than its padded input 2x2 (output size 0x0)"


# -- huge figures and limits ---------------------------------------------------------------------------

def test_ten_to_the_thirty_channels_is_refused_by_max_int(error):
    assert error("input: [1000000000000000000000000000000, 8, 8]\nlayers: [relu]\n") == \
        "F:1:9: each input size 1000000000000000000000000000000 is too large (limit 1,099,511,627,776)"


def test_figures_at_max_int_are_counted_exactly(tmp_path):
    n = 2**40  # MAX_INT, 1,099,511,627,776
    d, _ = analyze_ok(tmp_path, f"input: [{n}, 1, 1]\nbatch: {n}\n"
                                f"layers:\n  - {{conv: {{out: {n}, kernel: 1, bias: false}}}}\n")
    assert d["totals"]["params"] == 1_208_925_819_614_629_174_706_176  # 2**40 * 2**40 = 2**80
    assert d["totals"]["macs"] == 2**120  # 2**80 MACs per sample, times batch 2**40
    assert d["totals"]["macs"] == 1_329_227_995_784_915_872_903_807_060_280_344_576


def test_verify_refuses_tensors_torch_cannot_hold(tmp_path):
    n = 2**40
    path = tmp_path / "v.yaml"
    path.write_text(f"input: [{n}, 1, 1]\nlayers:\n  - {{name: c, conv: {{out: {n}, kernel: 1, bias: false}}}}\n")
    code, _, err = run("verify", path)
    # the weight has 2**40 * 2**40 = 2**80 elements: torch counts a tensor's bytes in an int64
    assert code == 2 and err == (
        f"costcalc: error: {path}:3:5: layer 'c': too large to verify: its weight has "
        "1,208,925,819,614,629,174,706,176 elements, over torch's limit of 2**60 per tensor; "
        "the analytic counts are exact\n")


def test_verify_of_a_model_larger_than_memory_runs_on_the_meta_device(tmp_path):
    path = tmp_path / "big.yaml"
    # 3*100000*100000 float32 inputs alone would be 120 GB
    path.write_text("input: [3, 100000, 100000]\nlayers:\n  - {conv: {out: 64, kernel: 3}}\n")
    code, out, err = run("verify", path)
    assert code == 0, err
    assert "fvcore not run" in out and "agree exactly with FlopCounterMode" in out


def test_layer_limit(error, tmp_path, monkeypatch):
    assert expand.MAX_LAYERS == 100_000
    assert error(C3 + "layers:\n  - {name: r, relu: , repeat: 100001}\n") == \
        "F:3:23: layer 'r': 'repeat' must be a whole number from 0 to 100,000, not 100001"
    monkeypatch.setattr(expand, "MAX_LAYERS", 10)  # the same check at a size a test can afford
    assert error(BLOCK + "layers:\n  - {name: s, block: unit, args: [2], repeat: 5}\n"
                         "  - {name: t, block: unit, args: [2], repeat: 6}\n") == \
        "F:9:5: layer 't': the spec expands to more than 10 layers and block instances"
    # block instances count too: s is 1 repeat group + 5 instances + 5 layers = 11 >= 10, so the
    # next scope, t, is refused


def test_blocks_that_expand_to_nothing_cannot_multiply_without_bound(error, monkeypatch):
    # repeat of repeat of a block whose only layer is left out (when: 0): no layers at all, but
    # 1,000 x 1,000 instances; they count toward the limit, so this is refused, never a hang
    monkeypatch.setattr(expand, "MAX_LAYERS", 1000)
    text = (C3 + "blocks:\n  empty:\n    layers:\n      - {name: r, relu: , when: 0}\n"
            "  many:\n    layers:\n      - {name: e, block: empty, repeat: 1000}\n"
            "layers:\n  - {name: m, block: many, repeat: 1000}\n")
    assert "the spec expands to more than 1,000 layers and block instances" in error(text)


def test_expression_limits(error):
    def block(expr, arg="3"):
        return (C3 + f"blocks:\n  u:\n    params: [c]\n    layers:\n      - {{name: k, conv: {{out: '{expr}', kernel: 1}}}}\n"
                f"layers:\n  - {{name: x, block: u, args: [{arg}]}}\n")
    assert error(block("${" + "c + " * 60 + "c}")) == "F:6:9: layer 'x': expression longer than 200 characters"
    assert error(block("${c ** 99}")).startswith("F:6:9: layer 'x': '${c ** 99}' is not allowed")
    assert error(block("${c // 0}")) == "F:6:9: layer 'x': '${c // 0}' divides by zero"
    assert error(block("${-c}", "abc")) == "F:6:9: layer 'x': '${-c}': arithmetic needs whole numbers, not the text 'abc'"
    big = "${" + " * ".join(["c"] * 5) + "}"  # (2**40)**5 = 2**200 > 2**128
    assert error(block(big, str(2**40))) == \
        f"F:6:9: layer 'x': '{big}': a 49-digit number is too large for arithmetic (limit 2**128)"


def test_adaptive_pool_of_a_huge_output_answers_at_once(tmp_path):
    """The window sum has a closed form (size + out - gcd): no loop over 10^12 windows."""
    from costcalc.ops.pool import _adaptive_window_total

    def by_windows(size, out):  # the definition: PyTorch's start and end of each window
        return sum(-(-((i + 1) * size) // out) - (i * size) // out for i in range(out))

    assert all(_adaptive_window_total(s, o) == by_windows(s, o) for s in range(1, 40) for o in range(1, 40))
    n = 2**40
    d, _ = analyze_ok(tmp_path, f"input: [1, 7, 7]\nlayers:\n  - {{adaptive_avgpool: {{out: {n}}}}}\n")
    # per axis: 7 + 2**40 - gcd(2**40, 7) = 2**40 + 6; one op per window element
    assert d["totals"]["elementops"] == (n + 6) ** 2


# -- lock and budgets files (tests/test_lock.py and tests/test_budgets.py hold the rest) ---------

def test_truncated_budgets_and_binary_lock(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text(C3 + "layers: [relu]\n")
    Path("b.yaml").write_text("s.yaml:\n  total: {params: 7M, ma")  # cut off mid-entry
    code, _, err = run("check", "s.yaml", "--budget", "b.yaml")
    assert code == 2 and err == "costcalc: error: b.yaml:3:1: YAML: did not find expected ',' or '}'\n"
    Path("l.lock").write_bytes(b"\x00\x01")
    code, _, err = run("check", "s.yaml", "--lock", "l.lock")
    assert code == 2 and err == "costcalc: error: l.lock: binary file (contains NUL bytes), not a lock file\n"


@pytest.mark.parametrize("metrics", [["macs", "activations"], ["params", "macs", "activations", "flops"],
                                     [["params"], "macs", "activations"], "params"])
def test_lock_with_other_metrics_is_corrupt(tmp_path, monkeypatch, metrics):
    """Found by fuzzing: a lock listing fewer metrics passed, then check crashed (KeyError)."""
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text(C3 + "layers: [relu]\n")
    assert run("lock", "s.yaml")[0] == 0
    lock = json.loads(Path("costcalc.lock").read_text())
    lock["metrics"] = metrics
    Path("costcalc.lock").write_text(json.dumps(lock))
    code, _, err = run("check", "-f", "json")
    assert code == 2 and err == ("costcalc: error: costcalc.lock: corrupt lock: 'metrics' must be params, "
                                 "macs, activations; restore it from version control or rewrite it with "
                                 "`costcalc lock --update`\n")


def test_lock_entry_without_a_name_is_corrupt(tmp_path, monkeypatch):
    """Found by fuzzing: `lock --update` of another spec crashed writing back a nameless entry."""
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text(C3 + "layers: [relu]\n")
    Path("t.yaml").write_text(C3 + "layers: [tanh]\n")
    assert run("lock", "s.yaml", "t.yaml")[0] == 0
    lock = json.loads(Path("costcalc.lock").read_text())
    del lock["specs"]["s.yaml"]["name"]
    Path("costcalc.lock").write_text(json.dumps(lock))
    before = Path("costcalc.lock").read_text()
    code, _, err = run("lock", "t.yaml", "--update")
    assert code == 2 and err.startswith("costcalc: error: costcalc.lock: corrupt lock: spec 's.yaml' has no 'name'")
    assert Path("costcalc.lock").read_text() == before


# -- text from the spec stays text -------------------------------------------------------------

@pytest.mark.parametrize("key", ["\\r", "\\u2028", "\\x0b", "a\\nb"])
def test_line_breaks_in_names_never_split_the_error_line(error, key):
    # the key is written as a YAML escape; the error shows it with the break as a space
    line = error(C3 + f'"{key}": 1\nlayers: [relu]\n')
    assert line.startswith("F:2:1: unknown top-level key '")


# issue 20: YAML's escapes ("\\e", "\\0", "\\a", "\\u202e") put terminal control codes into a
# name or label, and table, markdown, csv and error lines printed them raw (\e[2J clears the screen)
ESCAPED = [
    ('name: "m\\e[2J"\n' + C3 + "layers: [relu]\n", "F:1:7"),
    (C3 + 'layers:\n  - {relu: , label: "r\\e[31m"}\n', "F:3:21"),  # the opening quote
    (C3 + 'layers:\n  - {relu: , label: "r\\0"}\n', "F:3:21"),
    (C3 + 'description: "d\\a"\nlayers: [relu]\n', "F:2:14"),
    (C3 + 'layers: [relu]\nclaims:\n  - {metric: macs, value: 0, source: "s\\x9b2J"}\n', "F:4:38"),  # C1 CSI
    (C3 + 'layers: [relu]\nclaims:\n  - {metric: macs, value: 0, note: "\\u202egnp.exe"}\n', "F:4:36"),  # bidi override
    (C3 + 'layers: [relu]\n"k\\e[2J": 1\n', "F:3:1"),  # a key, echoed by the unknown-key error
]


@pytest.mark.parametrize("content, where", ESCAPED)
@pytest.mark.parametrize("command", [("analyze",), ("analyze", "-f", "markdown"), ("analyze", "-f", "csv"),
                                     ("table",), ("table", "-f", "markdown"), ("table", "-f", "csv")])
def test_control_characters_in_spec_text_are_refused(tmp_path, content, where, command):
    path = tmp_path / "s.yaml"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(command[0], path, *command[1:])
    assert code == 2 and out == "", out
    assert err.replace(str(path), "F").startswith(f"costcalc: error: {where}: text holds the control "
                                                  "character U+"), err
    assert err.count("\n") == 1 and err[:-1].isprintable(), repr(err)


def test_error_lines_escape_what_they_echo():
    from costcalc.errors import CostcalcError

    e = CostcalcError("unknown key 'k\x1b[2J\x00\ud800\u202e'", file="f\x07.yaml", line=3)
    assert str(e) == "f\\x07.yaml:3: unknown key 'k\\x1b[2J\\x00\\ud800\\u202e'"


def test_control_characters_in_pyproject_paths_are_refused(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.costcalc]\nlock = "a\\u001b[2J.lock"\n')
    monkeypatch.chdir(tmp_path)
    code, _, err = run("check")
    assert code == 2 and err == ("costcalc: error: pyproject.toml: [tool.costcalc]: 'lock' holds a "
                                 "control character (paths and globs are plain text)\n")


def test_a_label_is_one_line(error):
    assert error(C3 + 'layers:\n  - {relu: , label: "a\\nb"}\n') == \
        "F:3:14: layer 'relu_1': 'label' must be one line of text"


def test_spec_name_is_one_line(error):
    assert error('name: "a\\nb"\n' + C3 + "layers: [relu]\n") == "F:1:1: 'name' must be one line of text"


@pytest.mark.parametrize("name", ["[/x]", "[bold]x[/bold]", "[link=http://e.org]x"])
def test_spec_names_are_not_rich_markup(tmp_path, name):
    path = tmp_path / "m.yaml"
    path.write_text(f'name: "{name}"\n' + C3 + "layers: [relu]\n")
    code, out, err = run("analyze", path)
    assert code == 0 and err == "" and f"{name}: input 3×8×8" in out
    code, out, err = run("compare", path, path)
    assert code == 0 and err == "" and name in out


@pytest.mark.parametrize("toml,message", [
    ("tool = 5\n", "no specs: name SPEC files"),  # not a table: no [tool.costcalc] config
    ("[tool]\ncostcalc = 5\n", "pyproject.toml: [tool.costcalc] must be a table"),
    ("[tool.costcalc\n", "pyproject.toml: TOML: "),
])
def test_bad_pyproject_config(tmp_path, monkeypatch, toml, message):
    (tmp_path / "pyproject.toml").write_text(toml)
    monkeypatch.chdir(tmp_path)
    code, _, err = run("check")
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"costcalc: error: {message}"), err


# -- the command line ---------------------------------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    (["analyze", "specs/naive.yaml", "--format", "xml"],
     "costcalc: error: Invalid value for '--format' / '-f': "),
    (["analyze"], "costcalc: error: Missing argument 'SPEC'. (see 'costcalc analyze --help')"),
    (["analyse", "specs/naive.yaml"], "costcalc: error: No such command 'analyse'."),
    (["analyze", "specs/naive.yaml", "--batch", "0"], "costcalc: error: Invalid value for '--batch' / '-b': "),
    (["compare", "specs/naive.yaml"], "costcalc: error: compare needs two or more spec files"),
])
def test_usage_errors_are_one_line(args, message):
    code, _, err = run(*args)
    assert code == 2 and err.count("\n") == 1 and err.startswith(message), err


def test_internal_error_is_one_line_exit_3(monkeypatch):
    def boom(*a, **k):
        raise ZeroDivisionError("planted\nbug")

    monkeypatch.setattr(costcalc.counting.graph.Graph, "infer", boom)
    code, _, err = run("analyze", ROOT / "specs" / "naive.yaml")
    assert code == 3
    assert err == ("costcalc: error: internal error: ZeroDivisionError: planted bug "
                   "(a bug in costcalc; rerun with --debug for the traceback)\n")


def test_debug_shows_the_traceback_of_bad_input(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(C3 + "layers:\n  - {conv: {out: 0, kernel: 1}}\n")
    r = run_cli("--debug", "analyze", p)
    assert r.returncode == 1 and "Traceback" in r.stderr and "CostcalcError" in r.stderr


@pytest.mark.parametrize("content,needle", [
    (billion_laughs(), "YAML aliases expand to more than 1,000,000 nodes"),
    ("input: !!python/object/apply:os.system ['true']\nlayers: [relu]\n", "is not allowed"),
    (C3 + "layers:\n  - {name: a, relu: }\n  - {name: a, relu: }\n", "duplicate layer name 'a'"),
])
def test_as_a_real_process(tmp_path, content, needle):
    p = tmp_path / "s.yaml"
    p.write_text(content)
    r = run_cli("analyze", p)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"costcalc: error: {p}") and needle in r.stderr


def test_mul_takes_exactly_two_inputs_and_names_both_when_they_do_not_broadcast(error):
    three = C3 + ("layers:\n  - {name: a, conv: {out: 4, kernel: 1}}\n"
                  "  - {name: b, global_avgpool: }\n  - {name: m, mul: [a, b, a]}\n")
    assert error(three).endswith("layer 'm': mul needs exactly two inputs, e.g. mul: [a, b]")
    bad = C3 + ("layers:\n  - {name: a, conv: {out: 4, kernel: 1}}\n"
                "  - {name: b, conv: {out: 2, kernel: 8}}\n  - {name: m, mul: [a, b]}\n")
    msg = error(bad)
    assert "layer 'm': mul needs two shapes of one rank whose sizes are equal or 1 on each axis" in msg
    assert "but 'a' gives [4, 8, 8] and 'b' gives [2, 1, 1]" in msg


def test_layernorm_on_an_axis_the_input_lacks_is_one_line(error):
    text = C3 + "layers:\n  - {name: n, layernorm: {axis: D}}\n"
    assert error(text) == f"{at(text, '{name: n')}: layer 'n': the input has no axis 'D' (its layout is [C, H, W])"
