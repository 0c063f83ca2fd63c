"""`costcalc check` reports: JUnit XML, markdown, json, GitHub annotations, --output, and how a
further source of expectations (published claims) plugs in. Figures: checkproject.py."""
import json
import xml.etree.ElementTree as ET
from fractions import Fraction

from checkproject import TINY, TINY_LOCK_EXPECTATIONS, cc, make_project, run  # noqa: F401

BUDGET = TINY + "budget:\n  total: {macs: 25343, params: 408}\n"  # MACs 25,344: one over
BUDGET_MACS_LINE = 13  # the line of "total:" above; "macs" is at column 11


def locked_project(tmp_path, cc):
    p = make_project(tmp_path, {"tiny.yaml": BUDGET})
    assert cc(p, "lock", "tiny.yaml").returncode == 0
    return p


def test_junit_is_xml_with_one_case_per_expectation(tmp_path, cc):
    p = locked_project(tmp_path, cc)
    r = cc(p, "check", "--format", "junit")
    assert r.returncode == 1
    root = ET.fromstring(r.stdout)
    cases = root.findall(".//testcase")
    assert len(cases) == 2 + TINY_LOCK_EXPECTATIONS  # 2 budget limits + 15 locked figures
    assert root.get("tests") == "17" and root.get("failures") == "1"
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == 1
    assert failed[0].get("name") == "budget: total MACs ≤ 25,343"
    assert failed[0].get("file") == "tiny.yaml" and failed[0].get("line") == str(BUDGET_MACS_LINE)
    assert failed[0].find("failure").get("message") == (
        "tiny.yaml: total: MACs 25,344 is over the budget limit 25,343 by +1 (+0.0039%)")


def test_markdown_is_a_table(tmp_path, cc):
    p = locked_project(tmp_path, cc)
    r = cc(p, "check", "--format", "markdown")
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines[0].startswith("### ❌ costcalc check: FAILED: 1 of 17 expectations")
    head = lines.index("| spec | path | metric | kind | limit | actual | overshoot | where |")
    assert lines[head + 1].startswith("|---|")
    row = lines[head + 2]
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    assert cells == ["`tiny.yaml`", "`total`", "MACs", "budget", "≤ 25,343", "25,344",
                     "+1 (+0.0039%)", f"`tiny.yaml:{BUDGET_MACS_LINE}:11`"]
    assert all(l.count("|") == 9 for l in lines[head:head + 3])  # 8 cells on every line


def test_github_annotations_point_at_the_budget_line(tmp_path, cc):
    p = locked_project(tmp_path, cc)
    r = cc(p, "check", env={"GITHUB_ACTIONS": "true"})
    assert r.returncode == 1
    assert r.stdout.splitlines()[0] == (
        f"::error file=tiny.yaml,line={BUDGET_MACS_LINE},col=11,title=costcalc check::tiny.yaml: "
        "total: MACs 25,344 is over the budget limit 25,343 by +1 (+0.0039%25)")
    # a machine format on stdout stays clean: annotations go to stderr
    r = cc(p, "check", "--format", "json", env={"GITHUB_ACTIONS": "true"})
    assert json.loads(r.stdout)["exit_code"] == 1 and r.stderr.startswith("::error file=tiny.yaml")
    assert "::error" not in cc(p, "check").stdout  # not outside GitHub Actions


def test_output_file_keeps_stdout_for_the_summary(tmp_path, cc):
    p = locked_project(tmp_path, cc)
    r = cc(p, "check", "--format", "junit", "--output", "report.xml")
    assert r.returncode == 1
    assert r.stdout.startswith("costcalc check: FAILED: 1 of 17")
    assert len(ET.parse(p / "report.xml").getroot().findall(".//testcase")) == 17


def test_json_report_contract(tmp_path, cc):
    p = locked_project(tmp_path, cc)
    d = json.loads(cc(p, "check", "-f", "json").stdout)
    assert d["passed"] is False and d["exit_code"] == 1 and d["specs"] == ["tiny.yaml"]
    assert d["lock"] == "costcalc.lock" and d["budgets"] is None
    (f,) = d["failures"]
    assert {k: f[k] for k in ("spec", "path", "metric", "kind", "rule", "limit", "actual", "overshoot",
                              "file", "line", "column")} == {
        "spec": "tiny.yaml", "path": "total", "metric": "macs", "kind": "budget", "rule": "max",
        "limit": 25_343, "actual": 25_344, "overshoot": 1, "file": "tiny.yaml",
        "line": BUDGET_MACS_LINE, "column": 11}
    assert len(d["outcomes"]) == 17


def test_the_process_exit_codes(tmp_path):
    """0, 1, 2 from a real process (the in-process tests above go through the same main())."""
    p = make_project(tmp_path, {"tiny.yaml": BUDGET, "ok.yaml": TINY})
    assert run(p, "check", "ok.yaml").returncode == 0
    r = run(p, "check", "tiny.yaml")
    assert r.returncode == 1 and "25,344" in r.stdout
    r = run(p, "check", "missing.yaml")
    assert r.returncode == 2 and r.stderr == "costcalc: error: missing.yaml: no such spec file\n"


def test_help_documents_exit_codes():
    r = run(".", "check", "--help")
    text = " ".join(r.stdout.split())
    assert "0 all expectations hold" in text and "1 an expectation is violated" in text
    assert "2 usage or input error" in text


def test_another_source_of_expectations_plugs_in(tmp_path, cc, monkeypatch):
    """Claims are one more source: check evaluates them with budgets and the lock."""
    from costcalc.expectations import gate as check
    from costcalc.expectations.rules import Expectation

    def claims_for(spec):  # spec: the loaded costcalc.spec.schema.Spec
        spec = spec.file
        # "25K" MACs: 25,344 rounds to 25K (passes); "30K" params: 408 is not (informational)
        return [Expectation("claim", spec, "total", "macs", Fraction(25_000), "25K",
                            precision=Fraction(1000)),
                Expectation("claim", spec, "total", "params", Fraction(30_000), "30K",
                            precision=Fraction(1000), informational=True)]

    p = make_project(tmp_path)
    monkeypatch.chdir(p)
    report = check.run_check(["tiny.yaml"], sources=check.SOURCES + [check.per_spec(claims_for)])
    assert [(o.expectation.text, o.verdict, o.passed) for o in report.outcomes] == [
        ("25K", "rounded", True), ("30K", "mismatch", True)]
    assert report.exit_code == 0


def test_ci_snippets_are_valid(tmp_path):
    """The README's workflow and the pre-commit hook parse, and run commands costcalc accepts."""
    import re
    import shlex

    import yaml

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Budgets and CI"):]
    workflow = next(yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", section, re.S)
                    if "jobs:" in b)
    steps = workflow["jobs"]["costcalc"]["steps"]
    runs = [s["run"] for s in steps if "run" in s and s["run"].startswith("costcalc ")]
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["costcalc-check"] and hooks[0]["pass_filenames"] is False
    p = make_project(tmp_path, {"tiny.yaml": BUDGET}, config='specs = ["*.yaml"]\n')
    for line in runs + [hooks[0]["entry"]]:
        args = shlex.split(line)[1:]
        r = run(p, *args)
        assert r.returncode == 1, (line, r.stdout, r.stderr)  # the budget above is one MAC short
    assert (p / "costcalc.md").read_text().startswith("### ❌ costcalc check: FAILED")
    html = (p / "costcalc-report.html").read_text(encoding="utf-8")  # the uploaded artifact
    assert html.startswith("<!DOCTYPE html>") and "costcalc check: FAILED" in html


def test_github_warnings_point_at_the_layers_that_grew(tmp_path, cc):
    from checkproject import TINY

    p = make_project(tmp_path)
    assert cc(p, "lock", "tiny.yaml").returncode == 0
    # line 12: {name: head, conv: {out: 2, kernel: 1}}: 8*8*2*8 = 1,024 MACs, 2*8 + 2 = 18 params,
    # 2*8*8 = 128 activations
    p.joinpath("tiny.yaml").write_text(TINY + "  - {name: head, conv: {out: 2, kernel: 1}}\n")
    r = cc(p, "check", env={"GITHUB_ACTIONS": "1"})
    assert r.returncode == 1
    assert ("::warning file=tiny.yaml,line=12,col=5,title=costcalc check::tiny.yaml: layer head "
            "added against the lock: +18 params, +1,024 MACs, +128 activations") in r.stdout.splitlines()


def test_check_evaluates_published_claims_with_budgets_and_lock(tmp_path, cc):
    from checkproject import TINY

    # total MACs 25,344: "25K" holds (rounded); "30K" does not, unless informational
    claims = "claims:\n  - {scope: total, metric: macs, value: 25K}\n  - {scope: total, metric: macs, value: 30K%s}\n"
    p = make_project(tmp_path, {"tiny.yaml": TINY + claims % ""})
    assert cc(p, "lock", "tiny.yaml").returncode == 0
    r = cc(p, "check", "-f", "json")
    d = json.loads(r.stdout)
    assert r.returncode == 1 and d["summary"].endswith("(lock 0 of 15, claim 1 of 2) on 1 spec")
    assert [(f["kind"], f["written"], f["actual"], f["verdict"]) for f in d["failures"]] == [
        ("claim", "30K", 25_344, "mismatch")]
    p.joinpath("tiny.yaml").write_text(TINY + claims % ", informational: true")
    assert cc(p, "check").returncode == 0
