"""The streamed renderers write what the whole-list ones wrote.

Oracle: tabulate over every row at once (what render._table did before tables
were laid out in chunks) and json.dumps(..., indent=2) of the whole document
(what render_json did before it streamed the dumps and the views), on random
records with wide, non-ASCII, escaped and surrogate strings; the views come
from both triage.batch.fleet (lists) and triage.batch.fleetdb (rows read from
SQLite).
"""

import json
import random

import pytest
from tabulate import tabulate

from triage.batch import fleet, html, render
from triage.batch.fleetdb import FleetDB
from triage.report.escape import clean_json_value, safe_text

from tests.batch.test_fleetdb import random_record


def _records(n, seed=3):
    rnd = random.Random(seed)
    recs = [random_record(rnd, i) for i in range(n)]
    for i, r in enumerate(recs):
        if i % 7 == 0:
            r["id"] = "/d/" + "漢" * (i % 13) + "\x1b[31m" + "w" * (i % 40)
        if i % 11 == 0:
            r["problems"] = ["a | b", "*c*"]
    return recs


@pytest.mark.parametrize("fmt,esc,limit", [("simple", safe_text, 90), ("pipe", render.md_cell, 300)])
@pytest.mark.parametrize("n,chunk", [(0, 3), (1, 3), (3, 3), (4, 3), (50, 7), (400, 64)])
@pytest.mark.parametrize("ascii_only", [False, True])
def test_chunked_table_equals_one_tabulate(fmt, esc, limit, n, chunk, ascii_only):
    recs = _records(n)
    if ascii_only:      # the widths are counted, not asked of tabulate
        recs = json.loads(json.dumps(recs, ensure_ascii=True).replace("\\u", "u"))
    rows = render.dump_rows(recs)
    body = [[render.format_cell(r.get(c), esc, limit) for c in render.DUMP_COLUMNS] for r in rows]
    want = tabulate(body, headers=render.DUMP_COLUMNS, tablefmt=fmt, disable_numparse=True)
    got = "\n".join(render.table_lines(rows, render.DUMP_COLUMNS, fmt, esc, limit, chunk_rows=chunk))
    assert got == want


def _whole_json(records, views, skipped, stats):
    """render_json before it streamed: the whole document, dumped at once."""
    doc = {"schema_version": render.BATCH_SCHEMA_VERSION, "summary": views["summary"],
           "dumps": [render.dump_entry(r) for r in records],
           "fleet": {k: v for k, v in views.items() if k != "summary"},
           "skipped": [{"path": p, "reason": why} for p, why in skipped], "stats": stats}
    return json.dumps(clean_json_value(doc), indent=2, default=str) + "\n"


@pytest.mark.parametrize("n", [0, 1, 30, 500])
def test_streamed_reports_equal_the_whole_ones(n, tmp_path):
    recs = _records(n, seed=n)
    views = fleet.fleet(recs)
    skipped = [("/x/\udcff", "not a dump"), ("/y", "z")]
    stats = {"wall_s": 1.5}
    fdb = FleetDB(str(tmp_path / "s.sqlite"))
    try:
        for r in recs:
            fdb.add(r)
        sql_views = fdb.finish()
        sql_records = fdb.records()
        want_json = _whole_json(recs, views, skipped, stats)
        assert render.render_json(recs, views, skipped, stats) == want_json
        assert render.render_json(sql_records, sql_views, skipped, stats) == want_json
        for name in ("render_text", "render_markdown"):
            fn = getattr(render, name)
            assert fn(sql_records, sql_views, "/d") == fn(recs, views, "/d")
        assert html.render_html(sql_records, sql_views, "/d") == html.render_html(recs, views, "/d")
        assert render.render_csv(sql_records) == render.render_csv(recs)
    finally:
        fdb.close()
