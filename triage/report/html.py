"""One self-contained HTML page: inline CSS, no scripts, no external resources.
Every log-derived string is control-character-escaped, then HTML-escaped."""

from typing import List

from triage.report.escape import safe_html as h
from triage.findings import Crash, Diagnosis
from triage.report.text import (check_texts, crash_code_lines, culprit_words, modules_text, oom_task_text,
                                system_rows, task_text)
from triage.diagnosis.timeline import deltas, label, story

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:72em;color:#222}
h1{font-size:1.4em;font-family:ui-monospace,monospace;background:#fde8e8;padding:.5em;border-left:6px solid #c00}
h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .5em;vertical-align:top;text-align:left}
td.log,pre{font-family:ui-monospace,monospace;font-size:.9em;white-space:pre-wrap;word-break:break-all}
.supported{color:#a00;font-weight:bold}.ruled_out{color:#070}.inconclusive{color:#a60}
.meta{color:#555}.partial{background:#fff3cd;padding:.5em;border-left:6px solid #e0a800}
"""


def _ts(ts) -> str:
    return f"{ts:.3f}" if ts is not None else "-"


def _table(headers: List[str], rows: List[List[str]], log_col: int = -1) -> str:
    """rows hold already-escaped HTML fragments."""
    head = "".join(f"<th>{x}</th>" for x in headers) if any(headers) else ""
    body = []
    for r in rows:
        cells = "".join(f'<td class="log">{c}</td>' if i == log_col else f"<td>{c}</td>" for i, c in enumerate(r))
        body.append(f"<tr>{cells}</tr>")
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f"<table>{thead}<tbody>{''.join(body)}</tbody></table>"


def _dump_facts(d: Diagnosis) -> List[str]:
    """The machine-state section (triage.report.dumpfacts); [] without facts."""
    from triage.report.dumpfacts import sections, status_line
    line = status_line(d)
    if line is None:
        return []
    from triage.report.memsvg import memory_svg
    out: List[str] = []
    for title, headers, rows in sections(d):
        out.append(f"<h2>{h(title)}</h2>")
        if title.startswith("Memory zones"):
            out.append(memory_svg(d.dump, h))
        out.append(_table([h(x) for x in headers] if headers else ["", ""], [[h(c, 200) for c in r] for r in rows]))
    out.append(f'<p class="meta">Dump facts: {h(line, 600)}</p>')
    return out


def _crash(c: Crash) -> List[str]:
    """The crash section: task, modules, OOM, log-vs-dump checks, then header, location and trace."""
    rows = []
    tt = task_text(c)
    if tt:
        rows.append(["task", h(tt)])
    if c.modules:
        rows.append(["modules (dump)" if c.modules_source == "dump" else "modules", h(modules_text(c))])
    elif c.modules_missing:
        rows.append(["modules", h("unknown: " + c.modules_missing)])
    if c.oom is not None:
        if c.oom.victim is not None:
            rows.append(["OOM victim", h(oom_task_text(c.oom.victim))])
        if c.oom.consumers:
            rows.append(["largest memory users", "<br>".join(h(oom_task_text(t)) for t in c.oom.consumers)])
    for t in check_texts(c):
        rows.append(["log vs dump", h(t)])
    code = crash_code_lines(c)
    if not rows and not code:
        return []
    out = ["<h2>Crash</h2>"]
    if rows:
        out.append(_table(["", ""], rows))
    if code:
        out.append("<pre>" + "\n".join(h(x, 400) for x in code) + "</pre>")
    return out


def render_html(d: Diagnosis) -> str:
    """The whole summary as a standalone HTML document."""
    v = d.verdict
    c = v.culprit
    p: List[str] = []
    p.append(f"<h1>{h(v.title, 300)}</h1>")
    p.append(f'<p class="meta">category <code>{h(v.category)}</code> · severity {h(v.severity or "-")} · '
             f"confidence {v.confidence:.0%} · {'kernel panicked' if v.panicked else 'no panic'}"
             + (f" · rule <code>{h(v.signature)}</code>" if v.signature else "") + "</p>")
    if d.source.partial:
        probs = "; ".join(h(x, 200) for x in d.source.problems[:3]) or "incomplete input"
        p.append(f'<p class="partial"><b>Partial input:</b> {probs}</p>')
    elif d.source.problems:
        p.append("<p class=\"partial\"><b>Note:</b> " + "; ".join(h(x, 200) for x in d.source.problems[:3]) + "</p>")
    p.append("<h2>Culprit</h2><ul>")
    p.append(f"<li>module: {h(culprit_words(c, v.category))}</li>")
    if c.function:
        p.append(f"<li>function: <code>{h(c.function)}</code></li>")
    if v.meaning:
        p.append(f"<li>meaning: {h(v.meaning)}</li>")
    p.append("</ul>")
    p.extend(_crash(d.crash))
    p.append("<h2>Why (evidence)</h2>")
    p.append(_table(["line", "time s", "log text"], [[str(e.line), _ts(e.ts), h(e.text, 1000)] for e in d.evidence], 2))
    p.append("<h2>Hypotheses</h2>")
    p.append(_table(["hypothesis", "verdict", "reason"],
                    [[h(x.name.replace("_", " ")), f'<span class="{h(x.status)}">{h(x.status.replace("_", " "))}</span>',
                      h(x.reason, 1000)] for x in d.hypotheses]))
    if d.timeline:
        p.append("<h2>Timeline</h2>")
        p.append(f"<p>{h(story(d.timeline))}</p>")
        rows = [[_ts(e.ts), f"+{dt:.3f}" if dt is not None else "", str(e.line), h(label(e.kind)),
                 h(e.module or ""), h(e.text, 400)] for e, dt in zip(d.timeline, deltas(d.timeline))]
        p.append(_table(["time s", "delta", "line", "event", "module", "log text"], rows, 5))
    in_timeline = {e.line for e in d.timeline}
    extra = [e for e in d.contributing if e.line not in in_timeline]
    if extra:
        p.append("<h2>Earlier events that matter</h2>")
        p.append(_table(["time s", "line", "event", "module", "log text"],
                        [[_ts(e.ts), str(e.line), h(label(e.kind)), h(e.module or ""), h(e.text, 400)] for e in extra], 4))
    p.append("<h2>System</h2>")
    # system_rows are terminal-safe text; HTML-escape them here
    p.append(_table(["", ""], [[h(k), h(val)] for k, val in system_rows(d)]))
    if d.system.modules_of_interest:
        p.append(_table(["module", "taint", "GPU", "culprit", "version"],
                        [[h(x["name"]), h(x.get("taint") or ""), "yes" if x.get("gpu") else "",
                          "yes" if x.get("culprit") else "", h(x.get("version") or "")]
                         for x in d.system.modules_of_interest]))
    p.extend(_dump_facts(d))
    if v.next_steps:
        p.append("<h2>Next steps</h2><ol>")
        for x in v.next_steps:
            first, *commands = x.split("\n")
            cmd = "<pre>" + "\n".join(h(c, 1000) for c in commands) + "</pre>" if commands else ""
            p.append(f"<li>{h(first, 1000)}{cmd}</li>")
        p.append("</ol>")
    p.append(f'<p class="meta">Source: {h(d.source.path, 500)} ({h(d.source.kind)})</p>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<title>{h(v.title, 200)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(p) + "\n</body></html>\n")
