"""Regenerate the README's pictures of the HTML report, rendered by headless chromium (Debian's
`chromium` package): docs/report.png, the top of `costcalc report specs/googlenet.yaml`, and
docs/report-graph.png, the start of its graph drawing (the report's own SVG and style).

    python tools/report_screenshot.py
"""
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "report.png"
GRAPH = ROOT / "docs" / "report-graph.png"
SIZE, GRAPH_SIZE = "1200,1500", "700,1100"


def shoot(browser, page: Path, out: Path, size: str, tmp: str):
    subprocess.run([browser, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                    f"--user-data-dir={tmp}/profile", f"--window-size={size}", f"--screenshot={out}",
                    page.as_uri()], check=True, capture_output=True, cwd=tmp)
    print(f"wrote {out.relative_to(ROOT)}")


def main() -> int:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("report_screenshot: chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "googlenet.html"
        subprocess.run([sys.executable, "-m", "costcalc", "report", "specs/googlenet.yaml", "-o", str(page)],
                       cwd=ROOT, check=True)
        OUT.parent.mkdir(exist_ok=True)
        shoot(browser, page, OUT, SIZE, tmp)
        sys.path.insert(0, str(ROOT))
        import costcalc
        from costcalc.report.html import STYLE
        from costcalc.report.layout import graph_svg

        svg, _ = graph_svg(costcalc.analyze(str(ROOT / "specs" / "googlenet.yaml")))
        graph = Path(tmp) / "graph.html"
        graph.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{STYLE}</style></head>"
                         f"<body style='margin:8px'>{svg}</body></html>", encoding="utf-8")
        shoot(browser, graph, GRAPH, GRAPH_SIZE, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
