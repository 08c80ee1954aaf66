"""Text, JSON, Markdown and HTML renderings of a Diagnosis, including hostile logs.

Oracles: the Diagnosis itself (every renderer must show the verdict title,
culprit and hypotheses first-to-last in the documented order), json.loads
round trip against Diagnosis.to_dict(), Python's html.parser (no element or
attribute comes from log text), and the absence of raw control bytes.
"""

import json
import re

import pytest
from html.parser import HTMLParser

from _diag_helpers import GPU_ALLOC_ROWS, gpu_alloc_null_log, lines_of
from triage.diagnosis.diagnose import SourceInfo, diagnose
from triage.findings import SCHEMA_VERSION
from triage.report.render import render

EVIL = "\x1b[2J\x1b]8;;http://evil\x07<script>alert('x')</script><img src=x onerror=alert(1)>\x00\x9b6n\u202e\udcfe|**md**|```"


def _diag(evil_title=False, partial=False):
    log, matches = gpu_alloc_null_log()
    # hostile text in the crash line itself, in a module name, and in the title
    rows = list(GPU_ALLOC_ROWS)
    rows[11] = (3.31, "BUG: kernel NULL pointer dereference, address: 0000000000000008 " + EVIL)
    log.lines = lines_of(rows)
    log.events[1].text = rows[11][1]
    if evil_title:
        matches[0].title = "BUG: " + EVIL
        matches[0].culprit.function = "f" + EVIL
    return diagnose(log, matches, SourceInfo(path="/tmp/x" + EVIL, partial=partial, problems=["cut " + EVIL]))


_RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e\ud800-\udfff]")


def test_text_layout_order():
    out = render(_diag(), "text")
    first = out.splitlines()[0]
    assert first == "BUG: kernel NULL pointer dereference in nv_gpu_init_channel [nvidia]"
    assert "confidence 90%" in out.splitlines()[1]
    assert out.index("Culprit") < out.index("Why (evidence)") < out.index("Hypotheses") \
        < out.index("Timeline") < out.index("System") < out.index("Next steps")
    assert "nvidia (GPU driver; proprietary, out of tree, unsigned; taint POE)" in out
    assert "ruled out" in out and "above the high watermark" in " ".join(out.split())
    assert "0.20 s later" in out


def test_text_escapes_hostile_log():
    for evil_title in (False, True):
        out = render(_diag(evil_title, partial=True), "text")
        assert not _RAW.search(out), repr(_RAW.search(out))
        assert "\\x1b[2J" in out
        out.encode("utf-8")


def test_json_roundtrip_and_schema():
    d = _diag(evil_title=True)
    out = render(d, "json")
    assert out.isascii()
    data = json.loads(out)
    assert data["schema_version"] == SCHEMA_VERSION
    v = data["verdict"]
    assert v["category"] == "gpu_alloc_fail_null_deref" and v["culprit"]["module"] == "nvidia"
    for key in ("title", "signature", "confidence"):
        assert key in v
    assert data["system"]["kernel_release"] == "6.1.0-57-amd64"
    assert data["system"]["taint"] == "P           OE"
    assert {"line", "ts", "text"} <= set(data["evidence"][0])
    assert data["contributing"][0]["kind"] == "vmalloc_failure"
    assert [h["name"] for h in data["hypotheses"]] == ["memory_exhaustion", "gpu_driver_fault", "hardware", "intentional"]
    assert "\x1b" in v["title"]          # JSON carries the raw text, escaped by JSON itself
    assert "\\xfe" in v["title"]         # the undecodable byte, as text


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)


def test_html_escapes_everything():
    out = render(_diag(evil_title=True, partial=True), "html")
    p = _Collect()
    p.feed(out)
    assert "script" not in p.tags and "img" not in p.tags
    assert not any(k.startswith("on") for k, _ in p.attrs)
    assert not any(k in ("src", "href") for k, _ in p.attrs)   # no external resources
    assert set(p.tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "code", "b",
                           "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "span", "pre", "br"}
    assert "&lt;script&gt;" in out
    assert not _RAW.search(out)
    assert "default-src 'none'" in out


def test_markdown_escapes_and_fences():
    out = render(_diag(evil_title=True), "markdown")
    # outside code blocks no HTML survives (inside, Markdown shows it literally)
    prose = re.sub(r"^(`{3,})text\n.*?^\1$", "", out, flags=re.M | re.S)
    assert "<script>" in out and "<script>" not in prose and "<img" not in prose
    assert not _RAW.search(out)
    # the evidence block is fenced by more backticks than the log text holds
    fences = re.findall(r"^(`{3,})text$", out, re.M)
    assert fences and len(fences[0]) >= 4
    assert out.startswith("# BUG: ")


@pytest.mark.parametrize("width", [40, 80, 97, 160])
def test_text_fits_the_width(width):
    """No line is wider than the width asked for (never narrower than 80), whatever the
    log holds: a hostile title, a 5000-character unbreakable token, a long path."""
    d = _diag(evil_title=True, partial=True)
    d.evidence[0].text = "x" * 5000
    d.source.path = "/" + "very-long-directory-name" * 20 + "/vmcore"
    out = render(d, "text", width=width)
    assert max(len(ln) for ln in out.splitlines()) <= max(80, width)
    assert "x" * 60 in out                  # wrapped, not dropped


def test_empty_table_renders_with_every_supported_tabulate():
    # tabulate 0.9.0 (the newest for Python 3.9) raised IndexError on maxcolwidths with no rows:
    # a log with no system facts crashed the text report there
    from triage.report.text import _fit_table
    assert _fit_table([], [], 1, 80) == ""
