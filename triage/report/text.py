"""The plain-text summary (the default), laid out for a tired on-call person:
verdict title first, then culprit, the crash as the kernel reported it (task,
oops header, call trace, modules, OOM victim), evidence, what was ruled out,
timeline, system facts and next steps. Every log-derived string is escaped,
and no line is wider than the width asked for (at least MIN_WIDTH columns).
"""

import textwrap
from typing import List, Optional, Sequence

from triage.report.escape import safe_text as s
from triage.findings import Crash, Culprit, Diagnosis, OomTask, TraceEntry
from triage.diagnosis.timeline import deltas, label, story

WIDTH = 100
MIN_WIDTH = 80
MAX_TRACE_SHOWN = 30
_STATUS = {"supported": "SUPPORTED", "ruled_out": "ruled out", "inconclusive": "inconclusive"}


def _table(rows, headers, maxcol=None) -> str:
    # imported here: tabulate (with wcwidth) costs ~40 ms to import, which
    # `analyze --format json` (this module's WIDTH only) need not pay
    from tabulate import tabulate
    # tabulate 0.9.0 (the last release serving Python 3.9) fails on maxcolwidths
    # with no rows; there is nothing to wrap then anyway
    return tabulate(rows, headers=headers, tablefmt="simple" if headers else "plain",
                    disable_numparse=True, maxcolwidths=maxcol if rows else None)


def _fit_table(rows, headers, flex: int, width: int, caps: Optional[Sequence[Optional[int]]] = None) -> str:
    """A table whose column `flex` (the log text or reason) takes what the
    others leave of `width` (minus the 2-column indent); `caps` bound the others."""
    n = len(headers) if headers else (len(rows[0]) if rows else 0)
    caps = list(caps) if caps else [None] * n
    widths = []
    for i in range(n):
        if i == flex:
            widths.append(0)
            continue
        w = max([len(str(r[i])) for r in rows] or [0])
        w = min(w, caps[i]) if caps[i] else w
        # tabulate pads a column to its header's width + 2
        widths.append(max(w, len(headers[i]) + 2) if headers else w)
    room = width - 2 - sum(widths) - 2 * (n - 1)
    maxcol = [caps[i] if i != flex else max(12, room) for i in range(n)]
    return _table(rows, headers, maxcol)


def _ts(ts: Optional[float]) -> str:
    return f"{ts:.3f}" if ts is not None else "-"


_NO_CULPRIT = {
    "sysrq": "none: the crash was requested on purpose (sysrq)",
    "oom_panic": "none in code: memory ran out and panic_on_oom made it fatal",
    "mce": "the hardware (machine check)",
    "none": "none (no crash in the log)",
}


def culprit_words(c: Culprit, category: Optional[str] = None) -> str:
    """"nvidia (GPU driver; proprietary, out of tree, unsigned; taint POE)"."""
    if not c.module:
        if c.function:
            return "core kernel (no module)"
        return _NO_CULPRIT.get(category or "", "not determined")
    marks = []
    if c.is_gpu_driver:
        marks.append("GPU driver")
    kinds = [w for w, on in (("proprietary", c.proprietary), ("out of tree", c.out_of_tree),
                             ("unsigned", c.unsigned)) if on]
    if c.proprietary is False and c.out_of_tree is False and c.taint is not None:
        kinds.append("in tree")
    if kinds:
        marks.append(", ".join(kinds))
    if c.taint:
        marks.append(f"taint {c.taint}")
    if c.version:
        marks.append(f"version {c.version}")
    return c.module + (f" ({'; '.join(marks)})" if marks else "")


def render_text(d: Diagnosis, width: Optional[int] = None) -> str:
    """The whole summary as text, no line wider than `width` columns
    (WIDTH by default; never narrower than MIN_WIDTH)."""
    width = max(MIN_WIDTH, width or WIDTH)
    return fit_lines(_render(d, width), width)


def fit_lines(text: str, width: int) -> str:
    """Wrap every line longer than `width`, keeping its indent: the last guard
    that no log line, however long or unbreakable, runs past the terminal."""
    out: List[str] = []
    for ln in text.split("\n"):
        if len(ln) <= width:
            out.append(ln)
            continue
        pad = " " * min(len(ln) - len(ln.lstrip(" ")), width // 2)
        out.extend(textwrap.wrap(ln.strip(" "), width, initial_indent=pad, subsequent_indent=pad + "  ",
                                 break_long_words=True, break_on_hyphens=False) or [ln[:width]])
    return "\n".join(out)


def _render(d: Diagnosis, width: int) -> str:
    v = d.verdict
    out: List[str] = []
    out.append(s(v.title, 300))
    head = [f"category {v.category}"]
    if v.severity:
        head.append(f"severity {v.severity}")
    head.append(f"confidence {v.confidence:.0%}")
    head.append("kernel panicked" if v.panicked else "no panic")
    if v.signature:
        head.append(f"rule {s(v.signature)}")
    out.extend(textwrap.wrap(" | ".join(head), width, initial_indent="  ", subsequent_indent="    "))
    if d.hypotheses:
        out.extend(textwrap.wrap(hypothesis_line(d), width, initial_indent="  ", subsequent_indent="    "))
    if d.source.partial:
        probs = "; ".join(s(p, 200) for p in d.source.problems[:3]) or "incomplete input"
        out.append(f"  PARTIAL INPUT: {probs} (the diagnosis uses what could be read)")
    elif d.source.problems:
        out.append("  NOTE: " + "; ".join(s(p, 200) for p in d.source.problems[:3]))
    out.append("")

    c = v.culprit
    out.append("Culprit")
    out.append(f"  module:   {s(culprit_words(c, v.category))}")
    if c.function:
        out.append(f"  function: {s(c.function)}")
    if v.meaning:
        out.extend(textwrap.wrap(s(v.meaning), width, initial_indent="  meaning:  ", subsequent_indent="            "))
    out.append("")

    out.extend(crash_lines(d.crash, width))

    out.append("Why (evidence)")
    if d.evidence:
        rows = [[e.line, _ts(e.ts), s(e.text, 300)] for e in d.evidence]
        out.append(_indent(_fit_table(rows, ["line", "time s", "log text"], 2, width)))
    else:
        out.append("  (no crash lines)")
    out.append("")

    out.append("Hypotheses")
    rows = [[h.name.replace("_", " "), _STATUS.get(h.status, h.status), s(h.reason, 800)] for h in d.hypotheses]
    out.append(_indent(_fit_table(rows, ["hypothesis", "verdict", "reason"], 2, width)))
    out.append("")

    if d.timeline:
        out.append("Timeline (before the crash)")
        out.extend(textwrap.wrap(s(story(d.timeline)), width - 2, initial_indent="  ", subsequent_indent="  "))
        rows = []
        for e, dt in zip(d.timeline, deltas(d.timeline)):
            rows.append([_ts(e.ts), f"+{dt:.3f}" if dt is not None else "", e.line, label(e.kind),
                         s(e.module or "", 60), s(e.text, 200)])
        out.append(_indent(_fit_table(rows, ["time s", "delta", "line", "event", "module", "log text"], 5, width,
                                      [None, None, None, 16, 14, None])))
        out.append("")
    in_timeline = {e.line for e in d.timeline}
    extra = [e for e in d.contributing if e.line not in in_timeline]
    if extra:
        out.append("Earlier events that matter")
        rows = [[_ts(e.ts), e.line, label(e.kind), s(e.module or "", 60), s(e.text, 200)] for e in extra]
        out.append(_indent(_fit_table(rows, ["time s", "line", "event", "module", "log text"], 4, width,
                                      [None, None, 16, 14, None])))
        out.append("")

    out.append("System")
    out.append(_indent(_fit_table(system_rows(d), [], 1, width)))
    if d.system.modules_of_interest:
        rows = [[s(m["name"], 60), s(m.get("taint") or "", 20), _yn(m.get("gpu")), _yn(m.get("culprit")),
                 _flags(m), s(m.get("version") or "", 60)] for m in d.system.modules_of_interest]
        out.append("")
        out.append(_indent(_fit_table(rows, ["module", "taint", "GPU", "culprit", "kind", "version"], 5, width,
                                      [24, 8, None, None, 20, None])))
    out.append("")
    out.extend(dump_facts_text(d))

    if v.next_steps:
        out.append("Next steps")
        for i, step in enumerate(v.next_steps, 1):
            out.extend(_step_lines(step, i, width))
        out.append("")
    if d.other_matches:
        out.append("Other matching signatures")
        rows = [[s(m.get("signature") or ""), s(m.get("category") or ""), s(m.get("title") or "", 200),
                 m.get("line") if m.get("line") is not None else ""] for m in d.other_matches]
        out.append(_indent(_fit_table(rows, ["rule", "category", "title", "line"], 2, width, [28, 24, None, None])))
        out.append("")
    out.append(f"Source: {s(d.source.path, 500)} ({s(d.source.kind)}{', ' + s(d.source.format) if d.source.format else ''})")
    return "\n".join(out) + "\n"


def dump_facts_text(d: Diagnosis) -> List[str]:
    """The machine-state section (triage.report.dumpfacts), escaped; [] without facts."""
    from triage.report.dumpfacts import sections, status_line
    line = status_line(d)
    if line is None:
        return []
    out = []
    for title, headers, rows in sections(d):
        out.append(title)
        out.append(_indent(_table([[s(c, 200) for c in r] for r in rows], headers, [None] * (len(headers) - 1) + [60]
                                  if headers else [None, 80])))
        out.append("")
    out.append(f"  Dump facts: {s(line, 600)}")
    out.append("")
    return out


def _step_lines(step: str, i: int, width: int) -> List[str]:
    """A numbered next step: its first line wrapped as prose; the lines after
    it are commands, one per line as given (fit_lines wraps one only if it
    is wider than the terminal)."""
    first, *commands = step.split("\n")
    out = textwrap.wrap(s(first, 1000), width, initial_indent=f"  {i}. ", subsequent_indent="     ",
                        break_on_hyphens=False)
    return out + [f"       {s(c, 1000)}" for c in commands]


def frame_text(e: TraceEntry) -> str:
    """"? func+0x1f [mod]" for a frame, "-- irq stack --" for a boundary (already escaped)."""
    if e.boundary:
        return f"-- {s(e.boundary)} stack --"
    t = s(e.function or "?", 200)
    if e.offset is not None:
        t += f"+{e.offset:#x}"
    if e.module:
        t += f" [{s(e.module, 64)}]"
    return ("? " if not e.reliable else "") + t


def shown_trace(trace: List[TraceEntry], limit: int = MAX_TRACE_SHOWN) -> List[TraceEntry]:
    """The trace entries a summary shows: all of them when they fit, else the
    reliable frames and boundaries first (`?` frames are stale stack words)."""
    if len(trace) <= limit:
        return list(trace)
    return [e for e in trace if e.reliable or e.boundary][:limit]


def crash_code_lines(c: Crash) -> List[str]:
    """The oops header, the faulting location and the shown call trace: the code
    block of the Markdown and HTML summaries (frames escaped, header lines raw)."""
    code = [x.text for x in c.header]
    if c.ip is not None:
        code.append("at " + frame_text(c.ip))
    if c.access:
        code.append("access " + s(c.access, 200))
    shown = shown_trace(c.trace)
    if shown:
        code.append("Call trace:")
        code += ["  " + frame_text(e) for e in shown]
        if len(shown) < len(c.trace):
            code.append(f"  (+{len(c.trace) - len(shown)} more entries in --format json)")
    return code


def oom_task_text(t: OomTask) -> str:
    """"hog (pid 95) rss 52.9 MiB" (escaped)."""
    bits = [s(t.comm or "?", 64)]
    if t.pid is not None:
        bits.append(f"(pid {t.pid})")
    if t.rss_kb is not None:
        bits.append(f"rss {t.rss_kb / 1024:.1f} MiB" if t.rss_kb >= 1024 else f"rss {t.rss_kb} kB")
    elif t.rss_pages is not None:
        bits.append(f"rss {t.rss_pages} pages")
    return " ".join(bits)


def task_text(c: Crash) -> Optional[str]:
    """"init (pid 1) on CPU 1" (escaped), None when the report names no task."""
    t = c.task
    if t is None:
        return None
    out = s(t.comm, 64) if t.comm is not None else "?"
    if t.pid is not None:
        out += f" (pid {t.pid})"
    if t.cpu is not None:
        out += f" on CPU {t.cpu}"
    return out


def modules_text(c: Crash) -> str:
    """"acme_storage(OE) nvidia(POE) qemu_fw_cfg" (escaped)."""
    return " ".join(s(m.name, 64) + (f"({s(m.taint, 20)})" if m.taint else "") for m in c.modules)


def check_texts(c: Crash) -> List[str]:
    """One line per value the log and the dump both give (escaped)."""
    out = []
    for k in c.checks:
        name = k.field.replace("_", " ")
        if k.agree:
            out.append(f"{name}: {s(k.log, 200)} (log and dump agree)")
        else:
            out.append(f"{name}: DISAGREE: log says {s(k.log, 200)}, dump says {s(k.dump, 200)}")
    return out


def crash_lines(c: Crash, width: int) -> List[str]:
    """The Crash section: task, oops header, faulting location, trace, modules, OOM."""
    rows: List[List[str]] = []
    tt = task_text(c)
    if tt:
        rows.append(["task", tt])
    for i, h in enumerate(c.header):
        rows.append(["header" if i == 0 else "", s(h.text, 400)])
    if c.ip is not None:
        rows.append(["at", frame_text(c.ip)])
    if c.access:
        rows.append(["access", s(c.access, 200)])
    shown = shown_trace(c.trace)
    for i, e in enumerate(shown):
        rows.append(["trace" if i == 0 else "", frame_text(e)])
    if len(shown) < len(c.trace):
        rows.append(["", f"(+{len(c.trace) - len(shown)} more entries; --format json has them all)"])
    if c.modules:
        rows.append(["modules" if c.modules_source != "dump" else "modules (dump)", modules_text(c)])
    elif c.modules_missing:
        rows.append(["modules", f"unknown: {s(c.modules_missing, 300)}"])
    if c.oom is not None:
        if c.oom.victim is not None:
            rows.append(["OOM victim", oom_task_text(c.oom.victim)])
        for i, t in enumerate(c.oom.consumers):
            rows.append(["largest" if i == 0 else "", oom_task_text(t)])
    for i, t in enumerate(check_texts(c)):
        rows.append(["log vs dump" if i == 0 else "", t])
    if not rows:
        return []
    return ["Crash", _indent(_fit_table(rows, [], 1, width)), ""]


def hypothesis_line(d: Diagnosis) -> str:
    """One line with every hypothesis' verdict, supported ones first."""
    order = {"supported": 0, "inconclusive": 1, "ruled_out": 2}
    hs = sorted(d.hypotheses, key=lambda h: order.get(h.status, 3))
    return "; ".join(f"{h.name.replace('_', ' ')}: {_STATUS.get(h.status, h.status)}" for h in hs)


def system_rows(d: Diagnosis) -> List[List[str]]:
    """Key/value rows of the system summary (escaped), shared by the renderers."""
    sy = d.system
    rows = []

    def add(k, val):
        if val not in (None, "", []):
            rows.append([k, val])

    add("host", s(sy.hostname))
    add("kernel", s(sy.kernel_release))
    add("arch", s(sy.arch))
    add("hardware", s(sy.hardware, 200))
    add("build ID", s(sy.build_id))
    add("crash time", s(sy.crash_time))
    add("uptime at crash" if d.verdict.category != "none" else "uptime at log end", _uptime(sy.uptime_s))
    if sy.mem_total_kb:
        add("memory", f"{sy.mem_total_kb // 1024} MiB")
    add("taint", s(sy.taint.strip()) if sy.taint and sy.taint.strip() else ("not tainted" if sy.taint is not None else None))
    for flag in sy.taint_flags:
        rows.append(["", s(flag)])
    return rows


def _uptime(u: Optional[float]) -> Optional[str]:
    if u is None:
        return None
    if u < 120:
        return f"{u:.2f} s"
    if u < 7200:
        return f"{u:.1f} s ({u / 60:.1f} min)"
    return f"{u:.0f} s ({u / 3600:.1f} h)"


def _flags(m) -> str:
    kinds = [w for w, k in (("proprietary", "proprietary"), ("out of tree", "out_of_tree"), ("unsigned", "unsigned"))
             if m.get(k)]
    return ", ".join(kinds)


def _yn(x) -> str:
    return "yes" if x else ""


def _indent(block: str, pad: str = "  ") -> str:
    return "\n".join(pad + ln for ln in block.splitlines())
