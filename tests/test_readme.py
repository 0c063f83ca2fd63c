"""The README's generated sections are up to date with what costcalc produces."""
import subprocess
import sys

from conftest import ROOT


def test_readme_generated_sections_are_current():
    r = subprocess.run([sys.executable, "tools/readme_sections.py", "--check"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
