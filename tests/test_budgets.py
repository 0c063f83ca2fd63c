"""Budgets in a spec's budget: section and in a project budgets file (figures: checkproject.py)."""
import pytest

from checkproject import TINY, cc, make_project, run  # noqa: F401 (cc is a fixture)


def with_budget(section: str) -> str:
    return TINY + "budget:\n" + section


def test_exactly_at_budget_passes(tmp_path):
    # total MACs 6,912 + 18,432 = 25,344; params 112 + 296 = 408; u1/conv MACs 18,432
    p = make_project(tmp_path, {"tiny.yaml": with_budget(
        "  total: {macs: 25344, params: 408}\n  u1/conv: {macs: 18432}\n")})
    r = run(p, "check", "tiny.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "all 3 expectations hold" in r.stdout


def test_one_mac_over_fails_naming_spec_path_limit_actual(tmp_path):
    p = make_project(tmp_path, {"tiny.yaml": with_budget("  u1/conv: {macs: 18431}\n")})
    r = run(p, "check", "tiny.yaml")
    assert r.returncode == 1, r.stdout + r.stderr
    row = next(l for l in r.stdout.splitlines() if "u1/conv" in l)
    # u1/conv computes 8*8*8*4*3*3 = 18,432 MACs: one over the limit of 18,431
    for text in ("tiny.yaml", "MACs", "budget", "≤ 18,431", "18,432", "+1 (+0.0054%)",
                 "tiny.yaml:13:"):
        assert text in row, (text, row)


def test_human_units_and_binary_bytes(tmp_path, cc):
    # activation bytes at float32: 1,280 * 4 = 5,120 = 5Ki exactly; params 408 ≤ 0.408K
    p = make_project(tmp_path, {"tiny.yaml": with_budget(
        "  total: {activation_bytes: 5Ki, params: 0.408K, macs: 25.344K}\n")})
    assert cc(p, "check", "tiny.yaml").returncode == 0
    p.joinpath("tiny.yaml").write_text(with_budget("  total: {activation_bytes: 5119}\n"))
    r = cc(p, "check", "tiny.yaml")
    assert r.returncode == 1 and "5,120" in r.stdout and "+1 " in r.stdout


def test_budgets_file_globs_block_scopes_and_minimums(tmp_path, cc):
    budgets = (
        '"*.yaml":\n'
        '  "block:unit": {macs: {max: 18432, min: 18432}}\n'  # u1: 18,432 MACs
        '  "u1/*": {params: 296}\n'  # u1/conv 296, u1/relu 0
        '  "u*": {macs: 18432}\n'  # the instance u1 only: * stays within one path level
        'tiny.yaml:\n'
        '  stem: {activations: {min: 257}}\n')  # stem: 4*8*8 = 256 activations, one under
    p = make_project(tmp_path, budgets=budgets)
    r = cc(p, "check", "--format", "json")
    import json

    d = json.loads(r.stdout)
    assert r.returncode == 1
    fails = d["failures"]
    assert [(f["path"], f["metric"], f["rule"], f["limit"], f["actual"], f["overshoot"]) for f in fails] \
        == [("stem", "activations", "min", 257, 256, -1)]
    assert fails[0]["file"] == "costcalc-budgets.yaml" and fails[0]["line"] == 6
    glob_paths = sorted(o["path"] for o in d["outcomes"] if o["scope"] == "u1/*")
    assert glob_paths == ["u1/conv", "u1/relu"]
    assert [o["path"] for o in d["outcomes"] if o["scope"] == "u*"] == ["u1"]
    row = next(l for l in cc(p, "check").stdout.splitlines() if " stem " in l)
    assert "≥ 257" in row and " 256 " in row and "−1 (−0.39%)" in row  # 1/257 = 0.389%


def test_a_scope_that_names_nothing_fails(tmp_path, cc):
    p = make_project(tmp_path, {"tiny.yaml": with_budget("  u2: {macs: 1M}\n")})
    r = cc(p, "check", "tiny.yaml")
    assert r.returncode == 1 and "'u2' names no layer or block" in r.stdout


def test_budget_entry_matching_no_spec_fails(tmp_path, cc):
    p = make_project(tmp_path, budgets="gone.yaml:\n  total: {macs: 1M}\n")
    r = cc(p, "check")
    assert r.returncode == 1 and "no spec file matches 'gone.yaml'" in r.stdout


@pytest.mark.parametrize("section, where, message", [
    ("  total: {mac: 1M}\n", "tiny.yaml:13:11", "budget 'total': unknown metric 'mac' (did you mean 'macs'?)"),
    ("  total: {macs: 1.6Q}\n", "tiny.yaml:13:11", "'1.6Q' is not a quantity"),
    ("  total: {macs: {max: 1M, mni: 1K}}\n", "tiny.yaml:13:27", "unknown key 'mni' (did you mean 'min'?)"),
    ("  total: {macs: {max: 1K, min: 2K}}\n", "tiny.yaml:13:11", "min 2K is above max 1K"),
    ("  total: {macs: -5}\n", "tiny.yaml:13:11", "cannot be negative"),
    ("  total: {macs: 1.5}\n", "tiny.yaml:13:11", "not a whole number"),
    ("  block:unt: {macs: 1M}\n", "tiny.yaml:13:3", "no block 'unt' (did you mean 'unit'?)"),
    ("  total: 5M\n", "tiny.yaml:13:3", "limits must be a mapping of metric to figure"),
    # issue 20: figures read without building huge numbers (10**3000000 printed: exit 3 before;
    # 10**300000000 took forever to build)
    ("  total: {macs: '1e3000000'}\n", "tiny.yaml:13:11",
     "'1e3000000' is not a quantity such as 7M, 1.6G or 512Ki (its power of ten is beyond ±100)"),
    ("  total: {macs: '1e300000000'}\n", "tiny.yaml:13:11", "(its power of ten is beyond ±100)"),
    ("  total: {macs: '" + "9" * 101 + "'}\n", "tiny.yaml:13:11",
     "(written with 101 characters; the limit is 100)"),
])
def test_bad_budgets_are_one_line_errors_with_position(tmp_path, cc, section, where, message):
    p = make_project(tmp_path, {"tiny.yaml": with_budget(section)})
    r = cc(p, "check", "tiny.yaml")
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"costcalc: error: {where}: "), r.stderr
    assert message in r.stderr, r.stderr


def test_bad_budgets_file_names_its_line(tmp_path, cc):
    p = make_project(tmp_path, budgets="tiny.yaml:\n  total:\n    flop: 1G\n")
    r = cc(p, "check")
    assert r.returncode == 2
    assert r.stderr.startswith("costcalc: error: costcalc-budgets.yaml:3:5: budget 'total': "
                               "unknown metric 'flop' (did you mean 'flops'?)"), r.stderr


def test_readme_spec_budget_example_holds_on_googlenet(tmp_path, cc):
    import re

    from conftest import ROOT, SPECS

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Budgets and CI"):]
    example = next(b for b in re.findall(r"```yaml\n(.*?)```", section, re.S) if b.startswith("budget:"))
    p = make_project(tmp_path, {"googlenet.yaml": (SPECS / "googlenet.yaml").read_text() + example})
    r = cc(p, "check", "googlenet.yaml")
    # 6,998,552 params ≤ 7M; 1,582,671,872 MACs ≤ 1.6G; conv1 64*112*112*4 = 3,211,264 B ≤ 3.5Mi
    assert r.returncode == 0, r.stdout
    assert "(budget 6" in r.stdout  # and the spec's own published claims, if any


# -- scope globs (issue 20) ------------------------------------------------------------------

@pytest.mark.parametrize("pattern, path, hit", [
    ("inception_4*", "inception_4a", True),
    ("inception_4*", "inception_4a/b1", False),  # * stays within one path level
    ("inception_4*/b3", "inception_4a/b3", True),
    ("inception_4a/**", "inception_4a/b3/relu", True),  # ** spans levels
    ("**/relu", "a/b/relu", True),
    ("**", "", True),
    ("u?", "u1", True),
    ("u?", "u/", False),
    ("[!a-c]1", "d1", True),
    ("[!a-c]1", "a1", False),
    ("u[]", "u[]", True),  # not a class: literal text
    ("a[b", "a[b", True),
    ("*x", "aaax", True),
    ("*x", "aaay", False),
    ("a*b*c", "a/b/c", False),
])
def test_glob_semantics(pattern, path, hit):
    from costcalc.expectations.rules import glob_match

    assert glob_match(pattern, path) is hit


def test_a_glob_of_many_stars_is_matched_without_backtracking():
    """Issue 20: '*' * 24 + 'x' took 46.5 s as a regex (each star tries every split); the
    matcher now steps through the path once. A subprocess: a hang fails on its timeout."""
    import subprocess
    import sys

    from conftest import ROOT

    code = ("from costcalc.expectations.rules import glob_match; "
            "print(glob_match('*' * 40 + 'x', 'a' * 80), glob_match('**' * 30 + 'y', 'a/' * 40 + 'y'), "
            "glob_match('*' * 40 + 'a', 'a' * 80))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["False", "True", "True"], r.stderr


def _glob_as_regex(pattern):
    """The regex the matcher replaced (fine on short patterns): the reference semantics."""
    import fnmatch
    import re

    out = []
    for part in re.split(r"(\*\*|\*|\?|\[[^\]]*\])", pattern):
        if part == "**":
            out.append(".*")
        elif part == "*":
            out.append("[^/]*")
        elif part == "?":
            out.append("[^/]")
        elif part.startswith("[") and part.endswith("]") and len(part) > 2:
            out.append(fnmatch.translate(part)[4:-3])
        else:
            out.append(re.escape(part))
    return re.compile("".join(out), re.S)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(pattern=st.lists(st.sampled_from(["*", "**", "?", "a", "b", "/", "[ab]", "[!a]", "[", "]"]),
                        max_size=7).map("".join),
       path=st.lists(st.sampled_from(["a", "b", "/", "c"]), max_size=8).map("".join))
def test_glob_matcher_agrees_with_the_regex_it_replaced(pattern, path):
    from costcalc.expectations.rules import glob_match

    assert glob_match(pattern, path) == (_glob_as_regex(pattern).fullmatch(path) is not None)



def test_a_budgets_glob_of_everything_takes_spec_files_only(tmp_path, cc):
    """Issue 20: a budgets key '*' took in costcalc.lock (and pyproject.toml, claims files) as
    specs, and check failed reading the lock as YAML."""
    import json

    p = make_project(tmp_path, {"tiny.yaml": TINY, "tiny.claims.yaml": "claims: []\n"},
                     budgets="'*':\n  total: {macs: 25344}\n")  # tiny: 6,912 + 18,432 = 25,344 MACs
    assert cc(p, "lock", "tiny.yaml").returncode == 0
    r = cc(p, "check", "-f", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    d = json.loads(r.stdout)
    assert d["specs"] == ["tiny.yaml"]
    assert [(o["spec"], o["rule"], o["limit"]) for o in d["outcomes"] if o["rule"] == "max"] == \
        [("tiny.yaml", "max", 25_344)]
