"""The batch report as one self-contained HTML file with inline SVG charts.

No script, no external stylesheet, font or image: it opens offline, and a
Content-Security-Policy forbids anything else from loading. Every string
from a dump or log goes through safe_html.
"""

from collections import OrderedDict
from typing import Any, Dict, Iterable, Iterator, List, Optional

from triage.batch.render import DUMP_COLUMNS, VIEW_TABLES, facts_lines, format_cell, dump_row
from triage.report.escape import safe_html

_PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
            "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top;max-width:38em;overflow-wrap:anywhere}
th{background:#f0f0f0;white-space:nowrap}td.n{white-space:nowrap}.error{color:#b00}.partial{color:#a60}.ok{color:#070}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ccc;border-radius:6px;padding:.5em 1em}
.card b{font-size:1.4em;display:block}svg text{font:11px system-ui,sans-serif}
"""


def _e(v: Any, limit: int = 300) -> str:
    return format_cell(v, safe_html, limit)


# columns whose text may wrap; the others (hosts, dates, counts) stay on one line
_WRAP = {"dump", "title", "note", "titles", "error", "top_title", "kernels", "host_list"}


def _row(r: Dict[str, Any], cols: List[str], href: Optional[str] = None) -> str:
    cells = []
    for c in cols:
        val = _e(r.get(c))
        if c == "status":
            val = f'<span class="{_e(r.get(c))}">{val}</span>'
        if c == "dump" and href is not None:
            val = f'<a href="{_e(href, 4000)}">{val}</a>'
        wide = c in _WRAP
        cells.append(f"<td>{val}</td>" if wide else f'<td class="n">{val}</td>')
    return "<tr>" + "".join(cells) + "</tr>"


def _head(cols: List[str]) -> str:
    return "<table><thead><tr>" + "".join(f"<th>{_e(c)}</th>" for c in cols) + "</tr></thead><tbody>"


def _report_link(r: Dict[str, Any]) -> Optional[str]:
    """The dump's own HTML report, when it was written."""
    if r.get("report") and "report.html" in (r.get("report_files") or []):
        return r["report"] + "/report.html"
    return None


def chart_over_time(rows: List[Dict[str, Any]]) -> str:
    """Stacked bars: crashes per day, one colour per category."""
    if not rows:
        return "<p>No crash times known.</p>"
    days: "OrderedDict[str, Dict[str, int]]" = OrderedDict()
    cats: List[str] = []
    # months of data: one bar per month instead of one per day
    span = len({r["day"] for r in rows})
    for r in rows:
        key = r["day"][:7] if span > 60 else r["day"]
        bucket = days.setdefault(key, {})
        bucket[r["category"]] = bucket.get(r["category"], 0) + r["dumps"]
        if r["category"] not in cats:
            cats.append(r["category"])
    peak = max(sum(d.values()) for d in days.values())
    bw, gap, h, left, top = 26, 8, 180, 34, 10
    width = left + len(days) * (bw + gap) + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h + 110}" '
             f'role="img" aria-label="crashes over time by category">']
    for i in range(0, peak + 1, max(1, peak // 5)):
        y = top + h - h * i / peak
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{i}</text>')
    for n, (day, counts) in enumerate(days.items()):
        x = left + n * (bw + gap) + gap
        y = top + h
        for cat in cats:
            c = counts.get(cat, 0)
            if not c:
                continue
            bh = h * c / peak
            y -= bh
            col = _PALETTE[cats.index(cat) % len(_PALETTE)]
            parts.append(f'<rect x="{x}" y="{y:.1f}" width="{bw}" height="{bh:.1f}" fill="{col}">'
                         f'<title>{_e(day)} {_e(cat)}: {c}</title></rect>')
        parts.append(f'<text x="{x + bw / 2}" y="{top + h + 12}" text-anchor="end" '
                     f'transform="rotate(-45 {x + bw / 2} {top + h + 12})">{_e(day)}</text>')
    parts.append("</svg>")
    legend = "".join(f'<span style="margin-right:1em"><span style="display:inline-block;width:10px;'
                     f'height:10px;background:{_PALETTE[i % len(_PALETTE)]}"></span> {_e(c)}</span>'
                     for i, c in enumerate(cats))
    return "".join(parts) + f"<div>{legend}</div>"


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def chart_top_titles(rows: List[Dict[str, Any]], top: int = 10) -> str:
    """Horizontal bars: the most frequent verdict titles."""
    rows = rows[:top]
    if not rows:
        return "<p>No classified dumps.</p>"
    peak = max(r["dumps"] for r in rows)
    bar_h, label_w, plot_w = 22, 450, 260
    height = len(rows) * (bar_h + 6) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 120}" height="{height}" '
             f'role="img" aria-label="top crash titles">']
    for i, r in enumerate(rows):
        y = 5 + i * (bar_h + 6)
        w = max(2.0, plot_w * r["dumps"] / peak)
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_h * 0.7:.1f}" text-anchor="end">'
                     f'{_e(_short(r["title"], 60))}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{_PALETTE[0]}">'
                     f'<title>{_e(r["title"])}: {r["dumps"]} dumps on {r["hosts"]} hosts</title></rect>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h * 0.7:.1f}">{r["dumps"]} '
                     f'({r["hosts"]} hosts)</text>')
    parts.append("</svg>")
    return "".join(parts)


def iter_html(records: Iterable[Dict[str, Any]], views: Dict[str, Any], base: str = None) -> Iterator[str]:
    """The whole report in pieces, one table row at a time: summary cards, two
    charts, the dump table and every view."""
    s = views["summary"]
    cards = "".join(f'<div class="card"><b>{_e(s[k])}</b>{_e(label)}</div>'
                    for k, label in (("dumps", "dumps"), ("ok", "ok"), ("partial", "partial"),
                                     ("error", "errors"), ("hosts", "hosts"), ("titles", "distinct crashes")))
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
           "style-src 'unsafe-inline'; img-src data:\">",
           "<title>triage batch report</title>", f"<style>{_CSS}</style></head><body>",
           "<h1>triage batch report</h1>", f'<div class="cards">{cards}</div>',
           *[f"<p>{_e(line)}</p>" for line in facts_lines(views)],
           "<h2>Crashes over time, by category</h2>", chart_over_time(views.get("over_time") or []),
           "<h2>Top crash titles</h2>", chart_top_titles(views.get("by_title") or []),
           "<h2>Dumps</h2>" + (f"<p>Paths under {_e(base, 4000)}</p>" if base else "")]
    yield "\n".join(out) + "\n" + _head(DUMP_COLUMNS)
    for r in records:
        yield _row(dump_row(r, base), DUMP_COLUMNS, _report_link(r))
    yield "</tbody></table>"
    for key, heading, cols in VIEW_TABLES:
        if views.get(key):
            yield f"\n<h2>{_e(heading)}</h2>\n" + _head(cols)
            for r in views[key]:
                yield _row(r, cols)
            yield "</tbody></table>"
    yield "\n</body></html>\n"


def render_html(records: Iterable[Dict[str, Any]], views: Dict[str, Any], base: str = None) -> str:
    return "".join(iter_html(records, views, base))
