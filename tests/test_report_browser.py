"""The HTML report in a real browser: Debian's chromium, headless (.ci/run installs it).

Each page is loaded from file:// with no host name resolving (offline); the checks are: no script error and no
console error (the report's first script records both on <html data-errors>, and chromium's
own log is read too), one bar per layer in each chart of the rendered DOM, and a screenshot that
is not blank (its pixels vary; the PNG is decoded here with zlib).
"""
import re
import shutil
import struct
import subprocess
import zlib

import pytest

from conftest import SPECS, run_cli
from costcalc.report.html import RECORDER, SCRIPT
from test_report import GOOGLENET_BLOCKS, GOOGLENET_LAYERS, bars

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(tmp_path, url, *args):
    """Run headless chromium on ``url``; returns (stdout, stderr)."""
    assert CHROMIUM, "chromium is not installed: apt-get install -y chromium (.ci/run does)"
    cmd = [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
           "--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
           "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: no host name resolves
           f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", *args, url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout, r.stderr


def console_lines(stderr):
    """chromium's log lines for the page's console messages and uncaught errors."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def dom(tmp_path, page):
    out, err = chromium(tmp_path, page.as_uri(), "--dump-dom", "--virtual-time-budget=5000")
    return out, err


def png_pixels(data: bytes):
    """(width, height, channels, pixel bytes) of an 8-bit RGB or RGBA PNG (chromium's)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    out = bytearray()
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = prev[i]
                c = prev[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return width, height, channels, bytes(out)


def grey_variance(tmp_path, page, size="800,600"):
    """Variance of the screenshot's grey levels (0 for a blank page), and its share of pixels
    that are not white."""
    shot = tmp_path / "shot.png"
    chromium(tmp_path, page.as_uri(), f"--screenshot={shot}", f"--window-size={size}")
    w, h, ch, px = png_pixels(shot.read_bytes())
    greys = [(px[i] + px[i + 1] + px[i + 2]) // 3 for i in range(0, len(px), ch)]
    assert len(greys) == w * h
    mean = sum(greys) / len(greys)
    return sum((g - mean) ** 2 for g in greys) / len(greys), sum(g < 250 for g in greys) / len(greys)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    d = tmp_path_factory.mktemp("browser")
    g, c = d / "g.html", d / "c.html"
    for out, specs in ((g, ["googlenet.yaml"]), (c, ["naive.yaml", "reduced.yaml"])):
        r = run_cli("report", *[SPECS / s for s in specs], "-o", out)
        assert r.returncode == 0, r.stderr
    return {"googlenet": g, "compare": c}


@pytest.mark.parametrize("name", ["googlenet", "compare"])
def test_report_loads_without_errors(reports, tmp_path, name):
    page, err = dom(tmp_path, reports[name])
    html = re.search(r"<html[^>]*>", page).group(0)
    assert 'data-ready="1"' in html  # the last script ran
    assert 'data-resources="0"' in html  # self-contained: nothing fetched
    assert "data-errors" not in html
    assert console_lines(err) == []


def test_browser_sees_a_bar_per_layer(reports, tmp_path):
    page, _ = dom(tmp_path, reports["googlenet"])
    for metric in ("ops", "params", "acts"):
        assert bars(page, f"bar {metric}") == GOOGLENET_LAYERS  # 143 (tests/test_report.py)
        assert bars(page, f"sub {metric}") == GOOGLENET_BLOCKS
    assert "1,582,671,872" in page and "6,998,552" in page
    for name in ("conv1", "pool1", "conv2", "inception_3a", "inception_5b", "fc", "softmax"):
        assert f">{name}</text>" in page


def test_browser_sees_the_compare_view(reports, tmp_path):
    page, _ = dom(tmp_path, reports["compare"])
    diff = page[page.index('id="diff"'):]
    diff = diff[:diff.index("</section>")]
    # 4 differing paths (inception_3a/b2, b3, b4 and the block; tests/test_report.py), a bar per
    # model in the MACs and the params column
    assert bars(diff, "dbar m0") == 8 and bars(diff, "dbar m1") == 8
    # inception (3a) has 14 layers in reduced and 8 in naive (b1 b2 b3 with their relus, the
    # pool, the concat; no 1x1 reductions): 22 layers
    assert bars(page, "bar ops") == 22


def test_errors_would_be_caught(tmp_path):
    """The probe can fail: a page with a script error and a console.error is reported."""
    page = tmp_path / "broken.html"
    page.write_text(f"<!DOCTYPE html><html><head>{RECORDER}</head><body><p>x</p>"
                    "<script>console.error('bad');</script><script>null.x;</script></body></html>")
    out, err = dom(tmp_path, page)
    html = re.search(r"<html[^>]*>", out).group(0)
    assert "data-errors" in html and "console: bad" in html and "error: " in html
    assert len(console_lines(err)) >= 1


def test_a_fetch_would_be_caught(tmp_path):
    """The probe can fail: a page that loads an image from the network (which cannot resolve
    here) records the failed load and counts the resource."""
    page = tmp_path / "fetching.html"
    page.write_text(f"<!DOCTYPE html><html><head>{RECORDER}</head><body>"
                    f'<img src="https://example.com/a.png">{SCRIPT}</body></html>')
    out, _ = dom(tmp_path, page)
    html = re.search(r"<html[^>]*>", out).group(0)
    assert 'data-resources="1"' in html and "data-errors" in html


def test_screenshot_is_not_blank(reports, tmp_path):
    variance, inked = grey_variance(tmp_path, reports["googlenet"])
    # a dark header, text and bars on white: far from a blank page (the control below is 0)
    assert variance > 500 and inked > 0.05


def test_blank_screenshot_would_be_caught(tmp_path):
    page = tmp_path / "blank.html"
    page.write_text("<!DOCTYPE html><html><body></body></html>")
    variance, inked = grey_variance(tmp_path, page, size="200,150")
    assert variance == 0 and inked == 0


def test_browser_renders_10000_layers(tmp_path):
    """10,000 layers in 6,100 nested block instances (bench/specgen.py: 100 stages of 10 groups
    of 5 units of conv + relu): the page loads, every layer has its bars, no error."""
    from bench.specgen import nested_spec

    spec, out = tmp_path / "nested.yaml", tmp_path / "nested.html"
    spec.write_text(nested_spec(10_000))
    r = run_cli("report", spec, "-o", out)
    assert r.returncode == 0, r.stderr
    page, err = dom(tmp_path, out)
    assert 'data-ready="1"' in re.search(r"<html[^>]*>", page).group(0)
    assert "data-errors" not in re.search(r"<html[^>]*>", page).group(0) and console_lines(err) == []
    assert bars(page, "bar ops") == 10_000 and bars(page, "bar acts") == 10_000
    assert bars(page, "sub ops") == 100 + 100 * 10 + 100 * 10 * 5  # 6,100 block subtotals
