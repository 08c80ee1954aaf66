"""Escaping of untrusted log text for terminals, Markdown and HTML.

Oracle: the properties each output must have (no ESC/C0/C1 byte reaches a
terminal, no raw '<' reaches HTML, fences cannot be closed by log text),
checked on hostile strings and on arbitrary text with hypothesis.
"""

import re

from hypothesis import given, strategies as st

from triage.report.escape import (clean_json_value, markdown_fence, safe_html, safe_markdown,
                                  safe_text)

HOSTILE = "\x1b[2J\x1b]0;pwned\x07<script>alert(1)</script>\x00\x9b31m\u202eevil\r\nnext\udcff"
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def test_terminal_escapes_visible():
    out = safe_text(HOSTILE)
    assert "\x1b" not in out and "\x07" not in out and "\x00" not in out and "\x9b" not in out
    assert "\\x1b[2J" in out and "\\x9b" in out and "\\u202e" in out
    assert "\\xff" in out          # the undecodable byte, shown as the byte it was
    assert "\\r\\n" in out          # a record cannot fake a new line
    out.encode("utf-8")             # always printable


def test_html_has_no_markup():
    out = safe_html(HOSTILE)
    assert "<" not in out and ">" not in out
    assert "&lt;script&gt;" in out


def test_markdown_escapes_markup_and_html():
    out = safe_markdown("**bold** [x](http://e) <img src=x onerror=1> | pipe `code`")
    assert "<" not in out
    assert "\\*\\*bold\\*\\*" in out and "\\|" in out and "\\`code\\`" in out


def test_fence_longer_than_content():
    assert markdown_fence("a ```` b") == "`````"
    assert markdown_fence("plain") == "```"


def test_clip_bounds_length():
    out = safe_text("A" * 100_000_000, limit=100)
    assert len(out) < 200 and out.endswith("more chars]")


def test_json_values_lose_surrogates():
    v = clean_json_value({"a": ["x\udcfe"], "b": 1})
    assert v == {"a": ["x\\xfe"], "b": 1}


@given(st.text())
def test_safe_text_property(s):
    out = safe_text(s, limit=10_000)
    assert not _TERMINAL_UNSAFE.search(out)
    out.encode("utf-8")


@given(st.text())
def test_safe_html_property(s):
    out = safe_html(s, limit=10_000)
    assert "<" not in out and ">" not in out and '"' not in out
