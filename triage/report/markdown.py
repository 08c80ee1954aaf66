"""The Markdown summary (for tickets and chat). Log text goes into fenced code
blocks whose fence is longer than any backtick run inside, or is escaped."""

from typing import List

from triage.report.escape import markdown_fence, safe_markdown as m, safe_text
from triage.findings import Crash, Diagnosis
from triage.report.text import (check_texts, crash_code_lines, culprit_words, modules_text, oom_task_text,
                                system_rows, task_text)
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


def _dump_facts(d: Diagnosis) -> List[str]:
    """The machine-state section (triage.report.dumpfacts); [] without facts."""
    from triage.report.dumpfacts import sections, status_line
    line = status_line(d)
    if line is None:
        return []
    out: List[str] = []
    for title, headers, rows in sections(d):
        out += [f"## {m(title)}", ""]
        out += _table([m(x) for x in headers] if headers else ["", ""], [[m(c, 200) for c in r] for r in rows])
        out.append("")
    return out + [f"Dump facts: {m(line, 600)}", ""]


def _crash(c: Crash) -> List[str]:
    """The crash section: task, modules, OOM as bullets; header, location and trace as a code block."""
    bullets = []
    tt = task_text(c)
    if tt:
        bullets.append(f"- task: {m(tt)}")
    if c.modules:
        bullets.append(f"- modules{' (dump)' if c.modules_source == 'dump' else ''}: {m(modules_text(c))}")
    elif c.modules_missing:
        bullets.append(f"- modules: unknown: {m(c.modules_missing)}")
    if c.oom is not None:
        if c.oom.victim is not None:
            bullets.append(f"- OOM victim: {m(oom_task_text(c.oom.victim))}")
        if c.oom.consumers:
            bullets.append("- largest memory users: " + "; ".join(m(oom_task_text(t)) for t in c.oom.consumers))
    bullets += [f"- log vs dump: {m(t)}" for t in check_texts(c)]
    code = crash_code_lines(c)
    if not bullets and not code:
        return []
    out = ["## Crash", ""] + bullets
    if code:
        out += ([""] if bullets else []) + _code(code)
    return out + [""]


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
    out += _crash(d.crash)
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
    out += _dump_facts(d)
    if v.next_steps:
        out += ["## Next steps", ""]
        for i, step in enumerate(v.next_steps, 1):
            first, *commands = step.split("\n")
            out.append(f"{i}. {m(first, 1000)}")
            if commands:
                # indented under the list item, the commands stay copy-pasteable
                block = "\n".join(_code(commands))
                out += ["", *("   " + x for x in block.split("\n")), ""]
        out.append("")
    out.append(f"Source: {m(d.source.path, 500)} ({m(d.source.kind)})")
    return "\n".join(out) + "\n"
