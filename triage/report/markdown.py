"""The Markdown summary (for tickets and chat). Log text goes into fenced code
blocks whose fence is longer than any backtick run inside, or is escaped."""

from typing import List

from triage.report.escape import markdown_fence, safe_markdown as m, safe_text
from triage.findings import Diagnosis
from triage.report.text import culprit_words, system_rows
from triage.diagnosis.timeline import deltas, label, story

_STATUS = {"supported": "**supported**", "ruled_out": "ruled out", "inconclusive": "inconclusive"}


def _table(headers: List[str], rows: List[List[str]]) -> List[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _code(lines: List[str]) -> List[str]:
    body = "\n".join(safe_text(x, 300) for x in lines)
    fence = markdown_fence(body)
    return [fence + "text", body, fence]


def _ts(ts) -> str:
    return f"{ts:.3f}" if ts is not None else "-"


def render_markdown(d: Diagnosis) -> str:
    """The whole summary as GitHub-flavoured Markdown."""
    v = d.verdict
    out = [f"# {m(v.title, 300)}", ""]
    out.append(f"category `{v.category}` · severity {m(v.severity or '-')} · confidence {v.confidence:.0%} · "
               + ("kernel panicked" if v.panicked else "no panic")
               + (f" · rule {m(v.signature)}" if v.signature else ""))
    out.append("")
    if d.source.partial:
        probs = "; ".join(m(p, 200) for p in d.source.problems[:3]) or "incomplete input"
        out += [f"> **Partial input:** {probs}", ""]
    elif d.source.problems:
        out += ["> **Note:** " + "; ".join(m(p, 200) for p in d.source.problems[:3]), ""]
    c = v.culprit
    out += ["## Culprit", "", f"- module: {m(culprit_words(c, v.category))}"]
    if c.function:
        out.append(f"- function: {m(c.function)}")
    if v.meaning:
        out.append(f"- meaning: {m(v.meaning)}")
    out.append("")
    out += ["## Why (evidence)", ""]
    out += _code([f"{e.line:>6} [{_ts(e.ts):>12}] {e.text}" for e in d.evidence] or ["(no crash lines)"])
    out.append("")
    out += ["## Hypotheses", ""]
    out += _table(["hypothesis", "verdict", "reason"],
                  [[m(h.name.replace('_', ' ')), _STATUS.get(h.status, m(h.status)), m(h.reason, 800)]
                   for h in d.hypotheses])
    out.append("")
    if d.timeline:
        out += ["## Timeline", "", m(story(d.timeline)), ""]
        rows = []
        for e, dt in zip(d.timeline, deltas(d.timeline)):
            rows.append([_ts(e.ts), f"+{dt:.3f}" if dt is not None else "", str(e.line), m(label(e.kind)),
                         m(e.module or ""), m(e.text, 200)])
        out += _table(["time s", "delta", "line", "event", "module", "log text"], rows)
        out.append("")
    in_timeline = {e.line for e in d.timeline}
    extra = [e for e in d.contributing if e.line not in in_timeline]
    if extra:
        out += ["## Earlier events that matter", ""]
        out += _table(["time s", "line", "event", "module", "log text"],
                      [[_ts(e.ts), str(e.line), m(label(e.kind)), m(e.module or ""), m(e.text, 200)] for e in extra])
        out.append("")
    out += ["## System", ""]
    # system_rows are already terminal-safe; Markdown-escape them on top
    out += _table(["", ""], [[m(k), m(val)] for k, val in system_rows(d)])
    if d.system.modules_of_interest:
        out.append("")
        out += _table(["module", "taint", "GPU", "culprit", "version"],
                      [[m(x["name"]), m(x.get("taint") or ""), "yes" if x.get("gpu") else "",
                        "yes" if x.get("culprit") else "", m(x.get("version") or "")]
                       for x in d.system.modules_of_interest])
    out.append("")
    if v.next_steps:
        out += ["## Next steps", ""]
        out += [f"{i}. {m(step, 1000)}" for i, step in enumerate(v.next_steps, 1)]
        out.append("")
    out.append(f"Source: {m(d.source.path, 500)} ({m(d.source.kind)})")
    return "\n".join(out) + "\n"
