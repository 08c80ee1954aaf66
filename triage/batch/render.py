"""Render a batch (records + fleet views) as text tables, JSON, CSV or Markdown.

Every string that came from a dump or a log is escaped for its target
(terminal, Markdown) through triage.report.escape; the HTML form lives in
triage.batch.html.
"""

import csv
import io
import json
import re
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional

from tabulate import tabulate

from triage.batch.facts import memory_cell, summary_text
from triage.report.escape import clean_json_value, safe_text

BATCH_SCHEMA_VERSION = 1

# (view key, heading, columns)
VIEW_TABLES = [
    ("by_title", "Same bug across hosts (by verdict title)",
     ["title", "category", "dumps", "hosts", "early_boot", "first_seen", "last_seen", "kernels"]),
    ("by_host", "Per host", ["host", "dumps", "errors", "titles", "top_title", "first_seen", "last_seen"]),
    ("by_kernel", "Per kernel release", ["kernel_release", "dumps", "hosts", "titles", "top_title",
                                          "first_seen", "last_seen"]),
    ("by_culprit", "Per culprit module and version", ["module", "version", "dumps", "hosts", "taint",
                                                      "titles", "first_seen", "last_seen"]),
    ("early_boot", "Crashes within 10 minutes of boot", ["title", "dumps", "hosts", "min_uptime_s",
                                                          "max_uptime_s", "cluster"]),
    ("repeat_hosts", "Hosts with repeated crashes", ["host", "dumps", "titles", "same_bug",
                                                      "first_seen", "last_seen"]),
    ("errors", "Dumps that could not be analysed", ["dump", "host", "error"]),
]
DUMP_COLUMNS = ["dump", "host", "status", "kernel", "crash_time", "uptime_s", "title", "culprit", "memory", "note"]


_MD_CELL = re.compile(r"([\\`*_\[\]|~#])")


def md_cell(text: Optional[str], limit: int) -> str:
    """Text for a Markdown table cell: no markup, no raw HTML, no column break.

    Lighter than triage.report.escape.safe_markdown (which also escapes '.',
    '-', '(' ...), so versions and paths stay readable in a table."""
    s = safe_text(text, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_CELL.sub(r"\\\1", s)


def short_id(item_id: str, base: Optional[str]) -> str:
    """An item id relative to the batch's common root, for tables (JSON keeps it whole)."""
    if base and item_id.startswith(base.rstrip("/") + "/"):
        return item_id[len(base.rstrip("/")) + 1:]
    return item_id


def dump_rows(records: List[Dict[str, Any]], base: Optional[str] = None) -> List[Dict[str, Any]]:
    """One flat row per dump, for the tables."""
    rows = []
    for r in records:
        v = r.get("verdict") or {}
        c = v.get("culprit") or {}
        culprit = c.get("module") or ("(kernel)" if v else None)
        if culprit and c.get("version"):
            culprit += f" {c['version']}"
        note = r.get("error") or "; ".join(r.get("disagreements") or r.get("problems") or [])
        rows.append({"dump": short_id(r["id"], base), "host": r.get("host"), "status": r.get("status"),
                     "kernel": r.get("kernel_release"), "crash_time": r.get("crash_time"),
                     "uptime_s": None if r.get("uptime_s") is None else round(r["uptime_s"], 1),
                     "title": v.get("title"), "culprit": culprit, "memory": memory_cell(r), "note": note or None})
    return rows


def format_cell(v: Any, esc: Callable[[Optional[str]], str], limit: int) -> str:
    """One table cell as text: None empty, booleans yes/no, lists joined, then `esc` applied."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (list, tuple)):
        v = ", ".join(str(x) for x in v)
    return esc(str(v), limit)


def _table(rows: List[Dict[str, Any]], cols: List[str], fmt: str,
           esc: Callable[..., str], limit: int) -> str:
    body = [[format_cell(r.get(c), esc, limit) for c in cols] for r in rows]
    return tabulate(body, headers=cols, tablefmt=fmt, disable_numparse=True)


def facts_lines(views: Dict[str, Any]) -> List[str]:
    """The summary's line on the dump facts, when the batch read any."""
    line = summary_text(views["summary"].get("dump_facts"))
    return [line] if line else []


def render_text(records: List[Dict[str, Any]], views: Dict[str, Any], base: Optional[str] = None) -> str:
    s = views["summary"]
    out = [f"{s['dumps']} dumps: {s['ok']} ok, {s['partial']} partial, {s['error']} error; "
           f"{s['hosts']} hosts, {s['titles']} distinct crashes" + (f" (paths under {safe_text(base)})" if base else ""),
           *facts_lines(views),
           "",
           _table(dump_rows(records, base), DUMP_COLUMNS, "simple", safe_text, 90)]
    for key, heading, cols in VIEW_TABLES:
        if views.get(key):
            out += ["", heading, _table(views[key], cols, "simple", safe_text, 90)]
    return "\n".join(out) + "\n"


def render_markdown(records: List[Dict[str, Any]], views: Dict[str, Any], base: Optional[str] = None) -> str:
    s = views["summary"]
    out = ["# triage batch", "",
           f"{s['dumps']} dumps: {s['ok']} ok, {s['partial']} partial, {s['error']} error; "
           f"{s['hosts']} hosts, {s['titles']} distinct crashes.", *[x + "." for x in facts_lines(views)],
           "", "## Dumps", "",
           _table(dump_rows(records, base), DUMP_COLUMNS, "pipe", md_cell, 300)]
    for key, heading, cols in VIEW_TABLES:
        if views.get(key):
            out += ["", f"## {heading}", "", _table(views[key], cols, "pipe", md_cell, 300)]
    return "\n".join(out) + "\n"


_KEEP = ("id", "paths", "layout", "vmcore", "log", "extras", "host", "host_source", "origin",
         "status", "error", "error_kind", "verdict", "kernel_release", "crash_time",
         "crash_time_source", "uptime_s", "analyzed", "problems", "disagreements", "report", "report_files",
         "duration_s", "same_crash_as", "worker", "dump_facts")


def dump_entry(r: Dict[str, Any]) -> Dict[str, Any]:
    """One record as its entry in the --format json document's "dumps" list."""
    return clean_json_value({k: r.get(k) for k in _KEEP})


_DUMPS_SLOT = '\n  "dumps": "@dumps@"'    # unescaped only where the top-level key is


def iter_json(records: Iterable[Dict[str, Any]], views: Dict[str, Any], skipped: List[Any],
              stats: Optional[Dict[str, Any]] = None) -> Iterator[str]:
    """The --format json document (one entry per dump, the fleet views, what was
    skipped) in pieces, one dump entry at a time: a batch of many thousand dumps is
    written without a second copy of every record plus the whole text in memory
    (a whole document and json.dumps of it peaked near 8 KiB per dump)."""
    doc = {"schema_version": BATCH_SCHEMA_VERSION, "summary": views["summary"], "dumps": "@dumps@",
           "fleet": {k: v for k, v in views.items() if k != "summary"},
           "skipped": [{"path": p, "reason": why} for p, why in skipped]}
    if stats:
        doc["stats"] = stats
    head, slot, tail = json.dumps(clean_json_value(doc), indent=2, default=str).partition(_DUMPS_SLOT)
    assert slot, "the dumps slot is missing"
    yield head + '\n  "dumps": ['
    sep = "\n"
    for r in records:
        # an entry at depth 2 is the same JSON indented 4 more spaces: strings hold no raw newline
        text = json.dumps(dump_entry(r), indent=2, default=str)
        yield sep + "    " + text.replace("\n", "\n    ")
        sep = ",\n"
    yield ("]" if sep == "\n" else "\n  ]") + tail + "\n"


def render_json(records, views, skipped, stats=None) -> str:
    return "".join(iter_json(records, views, skipped, stats))


def _csv_safe(v: Any) -> Any:
    # A cell a spreadsheet would run as a formula is quoted as text.
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    if isinstance(v, (list, tuple)):
        return _csv_safe("; ".join(str(x) for x in v))
    return v


def render_csv_rows(rows: List[Dict[str, Any]], cols: List[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([_csv_safe(r.get(c)) for c in cols])
    return buf.getvalue()


def render_csv(records: List[Dict[str, Any]]) -> str:
    """The per-dump table as CSV (the fleet views go to separate files, see cli)."""
    return render_csv_rows(dump_rows(records), DUMP_COLUMNS)
