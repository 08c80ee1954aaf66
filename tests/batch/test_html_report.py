"""The HTML fleet report: self-contained, escapes what logs say, renders in headless Chromium.

Oracles: the HTML text itself (no <script>, no external reference, the
planted markup present only as entities), Chromium's own parse of it
(--dump-dom: the DOM holds no script/img element), and a screenshot Chromium
takes of it (a PNG of the requested size that is not blank).
"""

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _dumps import finished_dumps  # noqa: E402

TRIAGE = [sys.executable, "-m", "triage"]
PLANT = '<script>alert("pwned")</script><img src=x onerror=alert(2)>'
LOG = f"""[    0.000000] Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3
[    1.250000] acme_storage: test storage driver loaded
[   42.100000] Kernel panic - not syncing: {PLANT}
[   42.100100] CPU: 0 PID: 1 Comm: {PLANT[:20]} Not tainted 6.1.0-57-amd64 #1
[   42.100200] ---[ end Kernel panic - not syncing: {PLANT} ]---
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("html")
    root = tmp / "crash"
    for host in ("evil1", "evil2"):
        d = root / host / "202611201000"
        d.mkdir(parents=True)
        (d / "dmesg.202611201000").write_text(LOG)
    dumps = finished_dumps()
    if dumps:
        d = root / "web1" / "127.0.0.1-2026-11-21-10:00:00"
        d.mkdir(parents=True)
        (d / "vmcore").symlink_to(dumps[0])
    out = tmp / "out"
    r = subprocess.run(TRIAGE + ["batch", str(root), "-o", str(out), "--format", "html", "-j", "2"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert (out / "fleet.html").read_text() == r.stdout
    return tmp, out / "fleet.html", r.stdout


def test_planted_markup_is_escaped(report):
    _, _, html = report
    assert not re.search(r"<\s*script", html, re.I)
    assert not re.search(r"<\s*img", html, re.I)
    assert "&lt;script&gt;" in html                  # shown, as text
    # self-contained: nothing fetched from anywhere
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:|//)""", html, re.I)
    assert "default-src 'none'" in html
    assert "<svg" in html                             # the charts are inline


def test_links_reach_the_per_dump_reports(report):
    _, path, html = report
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert len(hrefs) >= 2
    for h in hrefs:
        assert not h.startswith(("/", "http")) and (path.parent / h).is_file(), h


def test_per_dump_html_reports_escape_too(report):
    tmp, path, _ = report
    batch = json.loads((path.parent / "batch.json").read_text())
    evil = [d for d in batch["dumps"] if "evil1" in d["id"]][0]
    page = (path.parent / evil["report"] / "report.html").read_text()
    assert not re.search(r"<\s*script", page, re.I)


def test_renders_in_headless_chromium(report, tmp_path, chromium_cmd):
    tmp, path, _ = report
    dom = subprocess.run(chromium_cmd + ["--dump-dom", path.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "triage batch report" in dom.stdout
    assert not re.search(r"<\s*(script|img)\b", dom.stdout, re.I)
    assert "<svg" in dom.stdout and "<table>" in dom.stdout
    png = tmp_path / "fleet.png"
    r = subprocess.run(chromium_cmd + ["--window-size=1000,1200", f"--screenshot={png}",
                                                  path.as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and png.exists(), r.stderr[-2000:]
    width, height, distinct = png_stats(png.read_bytes())
    assert (width, height) == (1000, 1200)
    assert distinct > 20          # charts and tables, not a blank page
    keep = os.environ.get("BATCH_SCREENSHOT")
    if keep:
        shutil.copy(png, keep)


def png_stats(data: bytes):
    """(width, height, distinct colours in a sample of rows) of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    width, height, depth, ctype = ihdr[:4]
    assert depth == 8 and ctype in (2, 6)
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    colours, prev = set(), bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        if y % 10 == 0:
            colours.update(bytes(line[i:i + 3]) for i in range(0, stride, bpp * 4))
    return width, height, len(colours)
