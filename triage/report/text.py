"""The plain-text summary (the default), laid out for a tired on-call person:
verdict title first, then culprit, confidence, evidence, what was ruled out,
timeline, system facts and next steps. Every log-derived string is escaped.
"""

import textwrap
from typing import List, Optional

from tabulate import tabulate

from triage.report.escape import safe_text as s
from triage.findings import Culprit, Diagnosis
from triage.diagnosis.timeline import deltas, label, story

WIDTH = 100
_STATUS = {"supported": "SUPPORTED", "ruled_out": "ruled out", "inconclusive": "inconclusive"}


def _table(rows, headers, maxcol=None) -> str:
    return tabulate(rows, headers=headers, tablefmt="simple" if headers else "plain",
                    disable_numparse=True, maxcolwidths=maxcol)


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


def render_text(d: Diagnosis) -> str:
    """The whole summary as text."""
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
    out.append("  " + " | ".join(head))
    if d.hypotheses:
        out.append("  " + hypothesis_line(d))
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
        out.extend(textwrap.wrap(s(v.meaning), WIDTH, initial_indent="  meaning:  ", subsequent_indent="            "))
    out.append("")

    out.append("Why (evidence)")
    if d.evidence:
        rows = [[e.line, _ts(e.ts), s(e.text, 300)] for e in d.evidence]
        out.append(_indent(_table(rows, ["line", "time s", "log text"], [None, None, 80])))
    else:
        out.append("  (no crash lines)")
    out.append("")

    out.append("Hypotheses")
    rows = [[h.name.replace("_", " "), _STATUS.get(h.status, h.status), s(h.reason, 800)] for h in d.hypotheses]
    out.append(_indent(_table(rows, ["hypothesis", "verdict", "reason"], [None, None, 70])))
    out.append("")

    if d.timeline:
        out.append("Timeline (before the crash)")
        out.extend(textwrap.wrap(s(story(d.timeline)), WIDTH, initial_indent="  ", subsequent_indent="  "))
        rows = []
        for e, dt in zip(d.timeline, deltas(d.timeline)):
            rows.append([_ts(e.ts), f"+{dt:.3f}" if dt is not None else "", e.line, label(e.kind),
                         s(e.module or "", 60), s(e.text, 200)])
        out.append(_indent(_table(rows, ["time s", "delta", "line", "event", "module", "log text"],
                                  [None, None, None, None, None, 56])))
        out.append("")
    in_timeline = {e.line for e in d.timeline}
    extra = [e for e in d.contributing if e.line not in in_timeline]
    if extra:
        out.append("Earlier events that matter")
        rows = [[_ts(e.ts), e.line, label(e.kind), s(e.module or "", 60), s(e.text, 200)] for e in extra]
        out.append(_indent(_table(rows, ["time s", "line", "event", "module", "log text"], [None, None, None, None, 60])))
        out.append("")

    out.append("System")
    out.append(_indent(_table(system_rows(d), [], [None, 80])))
    if d.system.modules_of_interest:
        rows = [[s(m["name"], 60), s(m.get("taint") or "", 20), _yn(m.get("gpu")), _yn(m.get("culprit")),
                 _flags(m), s(m.get("version") or "", 60)] for m in d.system.modules_of_interest]
        out.append("")
        out.append(_indent(_table(rows, ["module", "taint", "GPU", "culprit", "kind", "version"])))
    out.append("")

    if v.next_steps:
        out.append("Next steps")
        for i, step in enumerate(v.next_steps, 1):
            out.extend(textwrap.wrap(s(step, 1000), WIDTH, initial_indent=f"  {i}. ", subsequent_indent="     "))
        out.append("")
    if d.other_matches:
        out.append("Other matching signatures")
        rows = [[s(m.get("signature") or ""), s(m.get("category") or ""), s(m.get("title") or "", 200),
                 m.get("line") if m.get("line") is not None else ""] for m in d.other_matches]
        out.append(_indent(_table(rows, ["rule", "category", "title", "line"], [None, None, 60, None])))
        out.append("")
    out.append(f"Source: {s(d.source.path, 500)} ({s(d.source.kind)}{', ' + s(d.source.format) if d.source.format else ''})")
    return "\n".join(out) + "\n"


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
