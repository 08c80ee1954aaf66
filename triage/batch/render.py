"""Render a batch (records + fleet views) as text tables, JSON, CSV or Markdown.

Every string that came from a dump or a log is escaped for its target
(terminal, Markdown) through triage.report.escape; the HTML form lives in
triage.batch.html.
"""

import csv
import io
import itertools
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


def dump_row(r: Dict[str, Any], base: Optional[str] = None) -> Dict[str, Any]:
    """One record as a flat row of the dump table."""
    v = r.get("verdict") or {}
    c = v.get("culprit") or {}
    culprit = c.get("module") or ("(kernel)" if v else None)
    if culprit and c.get("version"):
        culprit += f" {c['version']}"
    note = r.get("error") or "; ".join(r.get("disagreements") or r.get("problems") or [])
    return {"dump": short_id(r["id"], base), "host": r.get("host"), "status": r.get("status"),
            "kernel": r.get("kernel_release"), "crash_time": r.get("crash_time"),
            "uptime_s": None if r.get("uptime_s") is None else round(r["uptime_s"], 1),
            "title": v.get("title"), "culprit": culprit, "memory": memory_cell(r), "note": note or None}


def dump_rows(records: Iterable[Dict[str, Any]], base: Optional[str] = None) -> List[Dict[str, Any]]:
    """One flat row per dump, for the tables."""
    return [dump_row(r, base) for r in records]


class DumpRows:
    """The dump table's rows, made from `records` each time they are iterated
    (records read from a batch's scratch database: never all in memory)."""

    def __init__(self, records: Iterable[Dict[str, Any]], base: Optional[str] = None):
        self.records, self.base = records, base

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        return (dump_row(r, self.base) for r in self.records)


def format_cell(v: Any, esc: Callable[[Optional[str]], str], limit: int) -> str:
    """One table cell as text: None empty, booleans yes/no, lists joined, then `esc` applied."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (list, tuple)):
        v = ", ".join(str(x) for x in v)
    return esc(str(v), limit)


# A table of more rows than this is laid out in two passes over its rows, this
# many at a time: the column widths first, then the lines (tabulate wants every
# row at once, ~2 KiB per row of a 100,000-row table).
TABLE_CHUNK = 2000


def _tabulate(body: List[List[str]], cols: List[str], fmt: str) -> str:
    return tabulate(body, headers=cols, tablefmt=fmt, disable_numparse=True)


def _body(rows: Iterable[Dict[str, Any]], cols: List[str], esc: Callable[..., str],
          limit: int, size: int) -> Iterator[List[List[str]]]:
    """The rows as cells, `size` rows at a time."""
    chunk: List[List[str]] = []
    for r in rows:
        chunk.append([format_cell(r.get(c), esc, limit) for c in cols])
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _widths(chunk: List[List[str]], cols: List[str]) -> List[int]:
    """The column widths tabulate gives `chunk` in its "simple" layout."""
    if all(cell.isascii() and cell.isprintable() for row in chunk for cell in row):
        # printable ASCII: a cell is as wide as it is long; tabulate pads headers by 2
        return [max(len(h) + 2, max(len(row[i]) for row in chunk)) for i, h in enumerate(cols)]
    # anything else (wide characters, line breaks): tabulate's own rules, read off its ruler line
    ruler = _tabulate(chunk, cols, "simple").split("\n")[1]
    return [len(dashes) for dashes in ruler.split("  ")]


def table_lines(rows: Iterable[Dict[str, Any]], cols: List[str], fmt: str,
                esc: Callable[..., str], limit: int, chunk_rows: int = TABLE_CHUNK) -> Iterator[str]:
    """The lines of tabulate's table of `rows` (a list, or any iterable that can be
    iterated twice), the same text, without holding more than `chunk_rows` rows.

    Pass 1 takes each column's width from the ruler line of tabulate's "simple"
    layout of each chunk (tabulate's own width rules: header padding, wide
    characters); pass 2 lays out each chunk under an extra first row of cells
    exactly that wide, so every chunk gets the whole table's widths, and drops
    that row's line (and every chunk's header but the first)."""
    chunks = _body(rows, cols, esc, limit, chunk_rows)
    first = next(chunks, None)
    second = next(chunks, None)
    if second is None:                  # one chunk: tabulate as is
        yield from _tabulate(first or [], cols, fmt).split("\n")
        return
    widths = [0] * len(cols)
    for chunk in itertools.chain((first, second), chunks):     # the rest of pass 1
        widths = [max(w, c) for w, c in zip(widths, _widths(chunk, cols))]
    ruler_row = ["x" * w for w in widths]
    for i, chunk in enumerate(_body(rows, cols, esc, limit, chunk_rows)):
        lines = _tabulate([ruler_row] + chunk, cols, fmt).split("\n")
        # header, its rule, the width row, the chunk's rows
        yield from (lines[:2] + lines[3:]) if i == 0 else lines[3:]


def facts_lines(views: Dict[str, Any]) -> List[str]:
    """The summary's line on the dump facts, when the batch read any."""
    line = summary_text(views["summary"].get("dump_facts"))
    return [line] if line else []


def iter_text(records: Iterable[Dict[str, Any]], views: Dict[str, Any],
              base: Optional[str] = None) -> Iterator[str]:
    """The text report, line by line (each line ends with a newline)."""
    s = views["summary"]
    yield (f"{s['dumps']} dumps: {s['ok']} ok, {s['partial']} partial, {s['error']} error; "
           f"{s['hosts']} hosts, {s['titles']} distinct crashes"
           + (f" (paths under {safe_text(base)})" if base else "") + "\n")
    for line in facts_lines(views):
        yield line + "\n"
    yield "\n"
    for line in table_lines(DumpRows(records, base), DUMP_COLUMNS, "simple", safe_text, 90):
        yield line + "\n"
    for key, heading, cols in VIEW_TABLES:
        if views.get(key):
            yield "\n" + heading + "\n"
            for line in table_lines(views[key], cols, "simple", safe_text, 90):
                yield line + "\n"


def render_text(records: Iterable[Dict[str, Any]], views: Dict[str, Any], base: Optional[str] = None) -> str:
    return "".join(iter_text(records, views, base))


def iter_markdown(records: Iterable[Dict[str, Any]], views: Dict[str, Any],
                  base: Optional[str] = None) -> Iterator[str]:
    """The Markdown report, line by line (each line ends with a newline)."""
    s = views["summary"]
    yield "# triage batch\n\n"
    yield (f"{s['dumps']} dumps: {s['ok']} ok, {s['partial']} partial, {s['error']} error; "
           f"{s['hosts']} hosts, {s['titles']} distinct crashes.\n")
    for line in facts_lines(views):
        yield line + ".\n"
    yield "\n## Dumps\n\n"
    for line in table_lines(DumpRows(records, base), DUMP_COLUMNS, "pipe", md_cell, 300):
        yield line + "\n"
    for key, heading, cols in VIEW_TABLES:
        if views.get(key):
            yield f"\n## {heading}\n\n"
            for line in table_lines(views[key], cols, "pipe", md_cell, 300):
                yield line + "\n"


def render_markdown(records: Iterable[Dict[str, Any]], views: Dict[str, Any], base: Optional[str] = None) -> str:
    return "".join(iter_markdown(records, views, base))


_KEEP = ("id", "paths", "layout", "vmcore", "log", "extras", "host", "host_source", "origin",
         "status", "error", "error_kind", "verdict", "kernel_release", "crash_time",
         "crash_time_source", "uptime_s", "analyzed", "problems", "disagreements", "report", "report_files",
         "duration_s", "same_crash_as", "worker", "dump_facts")


def dump_entry(r: Dict[str, Any]) -> Dict[str, Any]:
    """One record as its entry in the --format json document's "dumps" list."""
    return clean_json_value({k: r.get(k) for k in _KEEP})


_DUMPS_SLOT = '\n  "dumps": "@dumps@"'    # unescaped only where the top-level key is


def _slot(key: str) -> str:
    """Where a fleet view's rows go in the document's text (depth 2, under "fleet")."""
    return f'\n    "{key}": "@fleet:{key}@"'


def _json_list(items: Iterable[Any], depth: int) -> Iterator[str]:
    """A JSON list at `depth` as json.dumps(..., indent=2) writes it inside a
    document, one element at a time: an element at depth d+1 is its own JSON
    indented 2*(d+1) more spaces (strings hold no raw newline)."""
    pad = "  " * (depth + 1)
    sep = "\n"
    for item in items:
        text = json.dumps(item, indent=2, default=str)
        yield sep + pad + text.replace("\n", "\n" + pad)
        sep = ",\n"
    yield "]" if sep == "\n" else "\n" + "  " * depth + "]"


def iter_json(records: Iterable[Dict[str, Any]], views: Dict[str, Any], skipped: List[Any],
              stats: Optional[Dict[str, Any]] = None) -> Iterator[str]:
    """The --format json document (one entry per dump, the fleet views, what was
    skipped) in pieces, one dump entry and one view row at a time: a batch of
    many thousand dumps is written without a second copy of every record plus
    the whole text in memory (a whole document and json.dumps of it peaked near
    8 KiB per dump); the views may be rows read from a scratch database."""
    lists = [k for k, v in views.items() if k != "summary" and not isinstance(v, dict)]
    fleet = {k: (f"@fleet:{k}@" if k in lists else v) for k, v in views.items() if k != "summary"}
    doc = {"schema_version": BATCH_SCHEMA_VERSION, "summary": views["summary"], "dumps": "@dumps@",
           "fleet": fleet, "skipped": [{"path": p, "reason": why} for p, why in skipped]}
    if stats:
        doc["stats"] = stats
    text = json.dumps(clean_json_value(doc), indent=2, default=str)
    head, slot, text = text.partition(_DUMPS_SLOT)
    assert slot, "the dumps slot is missing"
    yield head + '\n  "dumps": ['
    yield from _json_list((dump_entry(r) for r in records), 1)
    for key in lists:
        head, slot, text = text.partition(_slot(key))
        assert slot, f"the {key} slot is missing"
        yield head + f'\n    "{key}": ['
        yield from _json_list((clean_json_value(row) for row in views[key]), 2)
    yield text + "\n"


def render_json(records, views, skipped, stats=None) -> str:
    return "".join(iter_json(records, views, skipped, stats))


def _csv_safe(v: Any) -> Any:
    # A cell a spreadsheet would run as a formula is quoted as text.
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    if isinstance(v, (list, tuple)):
        return _csv_safe("; ".join(str(x) for x in v))
    return v


def iter_csv_rows(rows: Iterable[Dict[str, Any]], cols: List[str]) -> Iterator[str]:
    """CSV of `rows`, one line at a time."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([_csv_safe(r.get(c)) for c in cols])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue()


def render_csv_rows(rows: Iterable[Dict[str, Any]], cols: List[str]) -> str:
    return "".join(iter_csv_rows(rows, cols))


def iter_csv(records: Iterable[Dict[str, Any]]) -> Iterator[str]:
    """The per-dump table as CSV (the fleet views go to separate files, see cli)."""
    return iter_csv_rows(DumpRows(records), DUMP_COLUMNS)


def render_csv(records: Iterable[Dict[str, Any]]) -> str:
    return "".join(iter_csv(records))
