"""Renderers of the fleet report: text, Markdown, CSV and JSON keep log text inert.

Oracle: hand-built records carrying terminal escapes, Markdown/HTML markup
and spreadsheet formulas, as a hostile kernel log could plant them.
"""

import csv
import io
import json
import re

from triage.batch import fleet, html, render

EVIL = "=HYPERLINK(\"x\")|<script>alert(1)</script>\x1b[31m*bold*"


def records():
    return [{"id": "/c/h1/vmcore", "host": "h1", "status": "ok", "kernel_release": "6.1.0-57-amd64",
             "crash_time": "2026-11-20T10:00:00+00:00", "uptime_s": 30.0, "error": None,
             "verdict": {"title": EVIL, "category": "null_deref", "culprit": {"module": "acme", "version": "1.0"}}},
            {"id": "/c/h2/vmcore", "host": "h2", "status": "error", "error": EVIL, "verdict": None}]


def test_text_has_no_terminal_escapes():
    rs = records()
    out = render.render_text(rs, fleet.fleet(rs))
    assert "\x1b" not in out and "\\x1b" in out
    assert "2 dumps: 1 ok, 0 partial, 1 error" in out


def test_markdown_cells_cannot_break_the_table_or_inject_html():
    rs = records()
    out = render.render_markdown(rs, fleet.fleet(rs))
    assert "<script>" not in out and "&lt;script&gt;" in out
    row = [ln for ln in out.splitlines() if ln.startswith("| /c/h1/vmcore")][0]
    cells = re.split(r"(?<!\\)\|", row)[1:-1]      # unescaped pipes only
    assert len(cells) == len(render.DUMP_COLUMNS)
    assert "\\*bold\\*" in row


def test_csv_quotes_formulas():
    out = render.render_csv(records())
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["title"].startswith("'=HYPERLINK")
    assert rows[1]["note"].startswith("'=HYPERLINK")


def test_json_document_shape():
    rs = records()
    doc = json.loads(render.render_json(rs, fleet.fleet(rs), [("/c/x", "not a dump or kernel log")]))
    assert [d["status"] for d in doc["dumps"]] == ["ok", "error"]
    assert doc["dumps"][0]["verdict"]["title"] == EVIL            # data stays data in JSON
    assert doc["skipped"] == [{"path": "/c/x", "reason": "not a dump or kernel log"}]
    assert set(doc["fleet"]) >= {"by_title", "by_host", "by_kernel", "by_culprit", "early_boot",
                                 "repeat_hosts", "errors"}


def test_html_escapes_titles_in_tables_and_charts():
    rs = records()
    page = html.render_html(rs, fleet.fleet(rs))
    assert "<script>" not in page and page.count("&lt;script&gt;") >= 3
