"""The crash as a kernel engineer reads it first: the crashing task, the oops
header lines, the faulting location and call trace (with `?` frames marked
and the IRQ/NMI/exception stack boundaries), every loaded module with its
taint letters, and for an OOM the victim and the largest memory consumers.

Where the log and the dump's own data (VMCOREINFO, utsname) both give a
value, `crosscheck` records both and whether they agree.
"""

import re
from typing import Any, Iterable, List, Optional, Sequence

from triage.archnames import canonical_arch
from triage.events import x86access
from triage.events.model import lines_between
from triage.findings import (Crash, CrashModule, CrashTask, Crosscheck, EvidenceLine, OomPicture, OomTask,
                             TraceEntry)
from triage.textclip import clip

# Lines of an oops block that are its header (what happened, where, why).
HEADER_PREFIXES = (
    "BUG:", "Oops:", "Oops ", "#PF:", "general protection fault", "kernel BUG at", "Kernel BUG at",
    "Internal error:", "Unable to handle kernel", "WARNING:", "watchdog: BUG:", "NMI watchdog:", "INFO: task ",
    "INFO: rcu", "rcu: INFO:", "stack segment:", "invalid opcode:", "divide error:", "Mem abort info:",
    "ESR = ", "  ESR = ", "Data abort info:", "KASAN:", "UBSAN:", "list_add corruption", "list_del corruption",
    "kernel tried to execute", "unable to execute userspace code", "sysrq: Trigger a crash",
    "Kernel panic - not syncing", "PANIC: double fault", "usercopy:", "Out of memory", "Memory cgroup out of memory",
)
MAX_HEADER = 12
MAX_TRACE = 64        # entries kept (frames + boundaries); a trace may be corrupt or endless
MAX_MODULES = 1000
TOP_CONSUMERS = 5
_BLOCK_LINES = 80     # how far into an event's block the header lines are looked for


# 6.10+ prints the UID between CPU and PID (as blockinfo's CPU-line pattern knows)
_CPU_LINE = re.compile(r"CPU: ?(\d{1,5}) (?:UID: \d{1,10} )?PID: (\d{1,10}) Comm: (\S{1,64})")


def _task(log: Any, events: Sequence[Any]) -> Optional[CrashTask]:
    """The CPU:/Comm: of the first of `events` (the oops, then the panic, then
    the OOM report) that names one; else a `CPU: N PID: P Comm: C` line of their
    blocks that the parser could not take apart (text pasted into the line)."""
    for ev in events:
        if ev is None:
            continue
        comm = ev.comm if ev.comm is not None else (ev.fields or {}).get("comm")
        if comm is not None or ev.pid is not None:
            return CrashTask(comm=comm, pid=ev.pid, cpu=ev.cpu)
    for ev in events:
        if ev is None:
            continue
        for ln in lines_between(log.lines, ev.line, min(ev.end_line or ev.line, ev.line + _BLOCK_LINES)):
            m = _CPU_LINE.search(ln.text[:300])
            if m:
                return CrashTask(comm=m.group(3), pid=int(m.group(2)), cpu=int(m.group(1)))
    return None


def _header(log: Any, main: Any, panic: Any, before: Any = None) -> List[EvidenceLine]:
    out: List[EvidenceLine] = []
    seen = set()
    for ev in (before, main, panic):
        if ev is None:
            continue
        end = min(ev.end_line or ev.line, ev.line + _BLOCK_LINES)
        for ln in lines_between(log.lines, ev.line, end):
            t = ln.text.lstrip()
            if ln.number in seen or not (ln.number == ev.line or t.startswith(HEADER_PREFIXES)):
                continue
            if t.startswith("---[ end "):
                continue
            seen.add(ln.number)
            out.append(EvidenceLine(line=ln.number, text=clip(ln.text, 400), ts=ln.ts))
            if len(out) >= MAX_HEADER:
                return sorted(out, key=lambda e: e.line)
    return sorted(out, key=lambda e: e.line)


def _entry(fr: Any) -> TraceEntry:
    return TraceEntry(function=fr.function, offset=fr.offset, module=fr.module, reliable=bool(fr.reliable))


def trace_entries(frames: Iterable[Any]) -> List[TraceEntry]:
    """Frames as TraceEntry, with a boundary entry wherever the stack changes
    (the parser records the stack of each frame from <IRQ>/<NMI>/<TASK> markers)."""
    out: List[TraceEntry] = []
    ctx = None
    for fr in frames:
        c = getattr(fr, "context", "task") or "task"
        if ctx is not None and c != ctx or ctx is None and c != "task":
            out.append(TraceEntry(reliable=True, boundary=c))
        ctx = c
        out.append(_entry(fr))
        if len(out) >= MAX_TRACE:
            break
    return out


def _trace_source(main: Any, panic: Any) -> Any:
    """The event whose call trace is the crash's: the report's, else the panic's."""
    for ev in (main, panic):
        if ev is not None and ev.frames:
            return ev
    return main


def _modules(main: Any, panic: Any, facts: Any) -> List[CrashModule]:
    mods = None
    for ev in (main, panic):
        if ev is not None and (ev.fields or {}).get("modules"):
            mods = ev.fields["modules"]
            break
    if mods is None:
        mods = getattr(facts, "modules", None) or []
    return [CrashModule(name=m.name, taint=m.taint or "") for m in list(mods)[:MAX_MODULES]]


def _page_kb(arch: Optional[str]) -> Optional[int]:
    # x86_64 pages are always 4 KiB; arm64 and others may use 16 or 64 KiB: leave those in pages
    return 4 if arch in (None, "x86_64", "x86") else None


def _oom(events: Sequence[Any], stop: Optional[int], arch: Optional[str]) -> Optional[OomPicture]:
    before = [e for e in events if stop is None or e.line <= stop]
    invoked = [e for e in before if e.kind == "oom_invoked"]
    kills = [e for e in before if e.kind == "oom_kill" and not (e.fields or {}).get("selected_only")]
    kills = kills or [e for e in before if e.kind == "oom_kill"]
    if not invoked and not kills:
        return None
    pic = OomPicture()
    if kills:
        f = kills[-1].fields or {}
        rss = f.get("anon_rss_kb")
        pic.victim = OomTask(comm=f.get("victim_comm"), pid=f.get("victim_pid"),
                             rss_kb=rss if isinstance(rss, int) else None)
    if invoked:
        table = (invoked[-1].fields or {}).get("tasks") or {}
        kb = _page_kb(arch)
        rows = [r for r in table.get("top") or [] if isinstance(r.get("rss"), int)]
        rows.sort(key=lambda r: r["rss"], reverse=True)
        pic.consumers = [OomTask(comm=r.get("name"), pid=r.get("pid"), rss_pages=r["rss"],
                                 rss_kb=r["rss"] * kb if kb else None) for r in rows[:TOP_CONSUMERS]]
        if isinstance(table.get("count"), int):
            pic.tasks_listed = table["count"]
    return pic


# Fields whose two sources name one value differently: compared through these.
# (The log's banner says "arm64", the dump's ELF header "aarch64".)
_SAME_AS = {"arch": canonical_arch}


def crosscheck(name: str, log_value: Any, dump_value: Any) -> Optional[Crosscheck]:
    """Both values and whether they agree; None unless both sources give one.
    Values are compared as stripped text (architecture names by their
    canonical name); both are kept as each source gave them."""
    if log_value in (None, "") or dump_value in (None, ""):
        return None
    a, b = str(log_value).strip(), str(dump_value).strip()
    same = _SAME_AS.get(name, lambda v: v)
    return Crosscheck(field=name, log=a, dump=b, agree=same(a) == same(b))


# the kinds whose marked instruction may be the faulting one (a BUG's and a WARNING's is ud2,
# which names no memory, so kernel_bug yields an access only when its oops faulted on one)
_FAULT_KINDS = ("null_deref", "paging_fault", "gpf", "oops_other", "kernel_bug")


def _access(ev: Any) -> Optional[str]:
    """The faulting x86_64 instruction's memory access (x86access.memory_access): the
    instruction, the address each memory operand names, and NULL plus an offset when a base
    register held 0."""
    if ev is None or getattr(ev, "kind", None) not in _FAULT_KINDS:
        return None
    f = ev.fields or {}
    got = x86access.memory_access(str(f.get("code") or ""), f.get("rregs") or {})
    if got is None or not got[1]:
        return None
    text, addrs, nulls = got
    shown = [f"{a:#x} (NULL + {a:#x})" if a in nulls else f"{a:#x}" for a in addrs]
    return clip(f"{text} -> {', '.join(shown)}", 200)


def build_crash(log: Any, main: Any, panic: Any, events: Sequence[Any], stop: Optional[int],
                arch: Optional[str] = None, dump_values: Optional[dict] = None) -> Crash:
    """The Crash of a diagnosis: `main` is the verdict's event, `panic` the panic
    it led to, `stop` the last line of the crash. `dump_values` maps a field name
    ("kernel_release", "hostname", ...) to the dump's own value, compared with
    the log's in `checks`."""
    if main is None and panic is None:
        return Crash()           # no crash in the log: nothing to show
    src = _trace_source(main, panic)
    ip = None
    for ev in (main, panic):
        if ev is not None and getattr(ev, "ip", None) is not None:
            ip = _entry(ev.ip)
            break
    checks = []
    facts = getattr(log, "facts", None)
    for name, dump_value in (dump_values or {}).items():
        c = crosscheck(name, getattr(facts, name, None), dump_value)
        if c is not None:
            checks.append(c)
    # an OOM panic's report starts at "<comm> invoked oom-killer: gfp_mask=..., order=..."
    oom_panic = any(ev is not None and (ev.fields or {}).get("oom") for ev in (main, panic))
    invoked = [e for e in events if e.kind == "oom_invoked" and (stop is None or e.line <= stop)]
    modules = _modules(main, panic, facts)
    return Crash(
        task=_task(log, (main, panic, invoked[-1] if invoked else None)),
        header=_header(log, main, panic, invoked[-1] if oom_panic and invoked else None),
        ip=ip,
        access=_access(main),
        trace=trace_entries(src.frames) if src is not None else [],
        modules=modules,
        modules_source="log" if modules else None,
        oom=_oom(events, stop, arch),
        checks=checks,
    )


# The page sizes a Linux kernel is built with (x86_64 4K; arm64 4K, 16K, 64K);
# any other value read from a dump is not trusted.
_PAGE_SIZES = (4096, 16384, 65536)


def add_dump_page_size(crash: Crash, page_size: Any) -> None:
    """Give the OOM report's page counts in kB with the dump's own page size.

    The task table counts resident pages; a log alone says their size only
    on x86_64 (always 4 KiB), while a dump knows PAGE_SIZE on every arch."""
    if crash.oom is None or page_size not in _PAGE_SIZES:
        return
    for t in list(crash.oom.consumers) + [crash.oom.victim]:
        if t is not None and t.rss_kb is None and isinstance(t.rss_pages, int):
            t.rss_kb = t.rss_pages * (page_size // 1024)


def add_dump_modules(crash: Crash, dump_modules: Optional[Sequence[Any]], unavailable: Optional[str] = None) -> None:
    """Complete `crash` with the dump's own module list (Diagnosis.dump["modules"]).

    A panic that is not an oops (sysrq, panic_on_oom, hung-task panic) prints
    no `Modules linked in:`, yet the loaded modules are what an expert reads
    first: the dump's list stands in, marked as the dump's. When the log has
    the list too, both are compared by module name (a `modules` check). When
    neither has one, `modules_missing` says why (`unavailable`: the dump
    facts' reason)."""
    if not (crash.task or crash.header or crash.trace):
        return          # no crash in the log: nothing to complete
    mods = [m for m in list(dump_modules or [])[:MAX_MODULES] if isinstance(m, dict) and m.get("name")]
    if not mods:
        if not crash.modules and dump_modules is None:
            # say so, or an empty list reads as "no modules loaded"
            crash.modules_missing = ("the log prints no module list and the dump's could not be read"
                                     + (f": {clip(str(unavailable), 200)}" if unavailable else ""))
        return
    if not crash.modules:
        crash.modules = [CrashModule(name=str(m["name"]), taint=str(m.get("taint") or "")) for m in mods]
        crash.modules_source = "dump"
        return
    c = crosscheck("modules", " ".join(sorted(m.name for m in crash.modules)),
                   " ".join(sorted(str(m["name"]) for m in mods)))
    if c is not None and not any(k.field == "modules" for k in crash.checks):
        crash.checks.append(c)
