"""The chain of events before the crash, and the earlier events that matter.

Builds TimelineEntry lists from parsed events and tells the chain as one
sentence ("page allocation failure in nvidia at 312.40 s, then NULL pointer
dereference in the same module 0.20 s later").
"""

from typing import Iterable, List, Optional

from triage.textclip import clip
from triage.diagnosis.gpu import GpuKnowledge
from triage.findings import TimelineEntry

KIND_LABELS = {
    "null_deref": "NULL pointer dereference",
    "paging_fault": "bad paging request",
    "gpf": "general protection fault",
    "kernel_bug": "kernel BUG",
    "warning": "WARNING",
    "panic": "kernel panic",
    "oom_invoked": "OOM killer invoked",
    "oom_kill": "OOM kill",
    "alloc_failure": "page allocation failure",
    "vmalloc_failure": "vmalloc failure",
    "soft_lockup": "soft lockup",
    "hard_lockup": "hard lockup",
    "hung_task": "hung task",
    "rcu_stall": "RCU stall",
    "kasan": "KASAN report",
    "ubsan": "UBSAN report",
    "kfence": "KFENCE report",
    "kcsan": "KCSAN report",
    "kmsan": "KMSAN report",
    "lockdep": "lockdep report",
    "mce": "machine check",
    "hw_error": "hardware error",
    "nvrm_xid": "NVIDIA Xid",
    "gpu_fault": "GPU fault",
    "sysrq": "sysrq crash trigger",
    "bad_page": "bad page state",
    "list_corruption": "list corruption",
    "stack_corruption": "stack corruption",
    "meminfo": "Mem-Info report",
    "oom_summary": "OOM kill summary",
    "oom_reaper": "OOM reaper",
    "alloc_stall": "page allocation stall",
    "oops_other": "oops",
    "kernel_bug_other": "kernel BUG",
    "leak": "memory leak",
}

# Earlier events that can explain or precede a crash.
CONTRIBUTING_KINDS = frozenset({
    "oom_invoked", "oom_kill", "alloc_failure", "vmalloc_failure", "nvrm_xid",
    "gpu_fault", "mce", "hw_error", "bad_page", "warning", "soft_lockup",
    "hard_lockup", "hung_task", "rcu_stall", "null_deref", "paging_fault", "gpf",
    "kernel_bug", "list_corruption", "stack_corruption", "kasan", "ubsan",
    "kfence", "kcsan", "kmsan", "lockdep", "alloc_stall", "oops_other", "kernel_bug_other",
})
# Lines of a report that are not events of their own in the chain.
_NOT_IN_CHAIN = frozenset({"meminfo", "oom_summary"})

MAX_TIMELINE = 25
MAX_CONTRIBUTING = 20


def label(kind: str) -> str:
    """The human name of an event kind."""
    return KIND_LABELS.get(kind, kind.replace("_", " "))


def event_module(ev, gpu: Optional[GpuKnowledge] = None) -> Optional[str]:
    """The module an event points at: the faulting IP's (or, for a built-in
    GPU driver, the driver its function prefix names), else the first
    reliable call-trace frame in a module (for allocation-failure stacks the
    caller that asked for memory), else the GPU driver an Xid comes from."""
    if ev.kind == "nvrm_xid":
        return "nvidia"
    ip = getattr(ev, "ip", None)
    if ip is not None and ip.module:
        return ip.module
    if ip is not None and gpu is not None and gpu.builtin_driver(ip.function):
        return gpu.builtin_driver(ip.function)
    if ev.kind in ("panic", "meminfo", "oom_kill", "sysrq"):
        return None
    for fr in getattr(ev, "frames", None) or ():
        if fr.module and fr.reliable:
            return fr.module
    mod = (ev.fields or {}).get("module") or (ev.fields or {}).get("driver")
    return mod if isinstance(mod, str) else None


def entry(ev, gpu: Optional[GpuKnowledge] = None) -> TimelineEntry:
    """A TimelineEntry for one event (text clipped: log lines can be huge)."""
    module = event_module(ev, gpu)
    return TimelineEntry(ts=ev.ts, line=ev.line, kind=ev.kind, text=clip(ev.text, 400), module=module,
                         gpu=bool(gpu is not None and gpu.is_gpu_module(module)))


def build_timeline(events: List, stop_line: int, gpu: Optional[GpuKnowledge] = None) -> List[TimelineEntry]:
    """Events up to and including line `stop_line`, Mem-Info blocks left out,
    the last MAX_TIMELINE of them."""
    chain = [e for e in events if e.line <= stop_line and e.kind not in _NOT_IN_CHAIN]
    return [entry(e, gpu) for e in chain[-MAX_TIMELINE:]]


def build_contributing(events: List, main, related: Iterable = (),
                       gpu: Optional[GpuKnowledge] = None) -> List[TimelineEntry]:
    """Earlier events that matter for the verdict: memory pressure, GPU and
    hardware errors, earlier oopses and warnings, plus what the rule related."""
    picked = {id(e): e for e in related if e is not main and (main is None or e.line < main.line)}
    for e in events:
        if main is not None and e.line >= main.line:
            break
        if e.kind in CONTRIBUTING_KINDS:
            picked[id(e)] = e
    chosen = sorted(picked.values(), key=lambda e: e.line)[-MAX_CONTRIBUTING:]
    return [entry(e, gpu) for e in chosen]


def _fmt_ts(ts: Optional[float]) -> str:
    return f"{ts:.2f} s" if ts is not None else "(no timestamp)"


def _fmt_delta(d: float) -> str:
    if d < 1:
        return f"{d:.2f} s"
    if d < 120:
        return f"{d:.1f} s"
    if d < 7200:
        return f"{d / 60:.1f} min"
    return f"{d / 3600:.1f} h"


def story(entries: List[TimelineEntry], limit: int = 6) -> str:
    """The chain told as one sentence, from the last `limit` entries."""
    if not entries:
        return ""
    tail = entries[-limit:]
    parts = []
    prev = None
    for e in tail:
        where = ""
        if e.module:
            if prev is not None and prev.module == e.module:
                where = " in the same module"
            else:
                kind = "GPU driver " if e.gpu else ""
                where = f" in {kind}{e.module}"
        if prev is None:
            parts.append(f"{label(e.kind)}{where} at {_fmt_ts(e.ts)}")
        elif e.ts is not None and prev.ts is not None and e.ts >= prev.ts:
            parts.append(f"then {label(e.kind)}{where} {_fmt_delta(e.ts - prev.ts)} later")
        elif e.ts is not None and prev.ts is not None:
            parts.append(f"then (after a reboot?) {label(e.kind)}{where} at {_fmt_ts(e.ts)}")
        else:
            parts.append(f"then {label(e.kind)}{where}")
        prev = e
    lead = f"(…{len(entries) - len(tail)} earlier events) " if len(entries) > len(tail) else ""
    s = lead + ", ".join(parts)
    return s[0].upper() + s[1:] + "."


def deltas(entries: List[TimelineEntry]) -> List[Optional[float]]:
    """Seconds since the previous entry (None for the first or without timestamps)."""
    out: List[Optional[float]] = []
    prev = None
    for e in entries:
        if prev is not None and e.ts is not None and prev.ts is not None and e.ts >= prev.ts:
            out.append(e.ts - prev.ts)
        else:
            # no timestamps, or time went backwards (a reboot inside a syslog file)
            out.append(None)
        prev = e
    return out
