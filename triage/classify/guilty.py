"""Choose the guilty frame of a report: the first frame that is not a helper.

Like syzkaller's guilty-frame logic: start from the faulting location
(RIP/pc or the function a KASAN/WARNING header names) and walk the reliable
call-trace frames, skipping helpers that only report or propagate a bug
(dump_stack, warn_slowpath, __kasan_*, lock primitives, memcpy, ...). The
skip lists are data (signatures/lists.toml, [skip]).
"""

import re
from typing import Iterable, List, Optional, Pattern

from triage.events.model import Event, Frame


# The timer interrupt through which stall reports are printed.
_TIMER_ENTRY = re.compile(r"^(smp_|__sysvec_|sysvec_|smp_trace_)?apic_timer_interrupt")


def _skipped(fr: Frame, skip: List[Pattern]) -> bool:
    name = fr.function
    return any(p.search(name) for p in skip)


def _reliable(ev: Event) -> List[Frame]:
    """The trace frames the unwinder vouched for. When it vouched for none (every
    frame printed with '?': an unwinder that lost the frame chain, as 4.x kernels
    without frame pointers often did), fall back to the questionable frames that
    are in a module, as syzkaller does for stacks without reliable frames: a
    module's code on the stack is the best clue left, while questionable core
    frames are as likely stale stack words as callers."""
    reliable = [f for f in ev.frames if f.reliable]
    if reliable or not ev.frames:
        return reliable
    return [f for f in ev.frames if f.module]


def candidates(ev: Event, strategy: str) -> List[Frame]:
    """Frames in the order the strategy considers them (questionable '?' frames excluded,
    unless no frame is reliable: see _reliable)."""
    reliable = _reliable(ev)
    if strategy == "none":
        return []
    if strategy == "trace":
        return reliable + _work(ev)
    if strategy == "interrupted":
        # Frames of the code an interrupt (timer/NMI) found running: after the
        # timer-interrupt entry frame (which may itself have interrupted a
        # softirq on the IRQ stack), else after the IRQ section; else the RIP;
        # else the whole trace.
        for i, f in enumerate(ev.frames):
            if _TIMER_ENTRY.search(f.function):
                after_entry = [g for g in ev.frames[i + 1:] if g.reliable]
                if after_entry:
                    return after_entry
                break
        seen_irq = False
        after: List[Frame] = []
        for f in ev.frames:
            if f.context in ("irq", "nmi", "softirq", "exception"):
                seen_irq = True
            elif seen_irq and f.reliable:
                after.append(f)
        head = [ev.ip] if ev.ip is not None else []
        if after:
            return head + after
        return head + reliable
    out = [ev.ip] if ev.ip is not None else []
    # further code sites the report names itself (a deadlock's held-lock site) come before the trace
    sites = ev.fields.get("sites")
    if isinstance(sites, list):
        out += [f for f in sites if isinstance(f, Frame)]
    return out + reliable + _work(ev)


def _work(ev: Event) -> List[Frame]:
    """Last resort: the work function a kworker ran ("Workqueue: wq func [mod]"), for a
    report whose faulting location is a helper and whose trace is missing or all helpers."""
    wq = ev.fields.get("workqueue")
    return [wq] if isinstance(wq, Frame) else []


def guilty_frame(ev: Event, strategy: str, skip: Iterable[Pattern],
                 anchors: Iterable[Pattern] = (), prefer: Iterable[Pattern] = (),
                 between: Iterable[Pattern] = ()) -> Optional[Frame]:
    """The first non-helper frame, or None when every frame is a helper.

    With anchors (entry points such as vfs_write, do_syscall_64,
    call_timer_fn), the callee of the innermost anchor frame is preferred
    (after any frame matching `prefer`, e.g. a CPU stuck in an IPI call):
    for stalls and lockups the code that looped is better named by the
    operation it serves than by the helper it spun in.

    With `between` (allocator patterns), a frame whose callee and caller both
    match is passed over: on an allocation-failure stack the allocators call only
    allocators, so a frame between two of them is part of the allocator or a
    stale word of a stack printed without '?' marks (2.6 kernels), never the
    caller that asked."""
    skip = list(skip)
    between = list(between)
    anchors = list(anchors)
    cands = candidates(ev, strategy)
    prefer = list(prefer)
    if prefer:
        for f in cands:
            if any(p.search(f.function) for p in prefer):
                return f
    if strategy == "spinning_ip" and ev.ip is not None and ev.ip.function and not _skipped(ev.ip, skip):
        # a lockup's register dump is the stuck CPU's: its RIP is the code
        # that spun, unless that is a generic helper (a lock, a delay loop)
        return ev.ip
    if anchors:
        for k, f in enumerate(cands):
            if k > 0 and any(p.search(f.function) for p in anchors):
                for g in reversed(cands[:k]):
                    if not _skipped(g, skip) and not any(p.search(g.function) for p in anchors):
                        return g
                break
    for k, f in enumerate(cands):
        if not _skipped(f, skip):
            if (between and 0 < k < len(cands) - 1 and _skipped(cands[k - 1], between)
                    and _skipped(cands[k + 1], between)):
                continue
            return f
    if strategy == "trace":
        return _chain_broken_below(ev, skip)
    return None


def _chain_broken_below(ev: Event, skip: List[Pattern]) -> Optional[Frame]:
    """For a trace-read report whose reliable frames are all helpers (a task asleep in
    schedule/down/wait_for_completion and nothing else vouched for): the first module frame
    among the questionable '?' words after the last reliable frame. The frame-pointer chain
    broke at the caller of the last primitive: a module built without frame pointers (the
    NVIDIA binary core on 3.10-4.x kernels) leaves its own frames on the stack unvouched for.
    A module's code there is the best clue left, as for a stack with no reliable frame at
    all (_reliable); questionable core words are as likely stale as callers."""
    last = max((i for i, f in enumerate(ev.frames) if f.reliable), default=-1)
    if last < 0:
        return None
    return next((f for f in ev.frames[last + 1:] if f.module and not _skipped(f, skip)), None)


def event_modules(ev: Event) -> List[str]:
    """Modules named by an event's faulting location and reliable frames (call chain order)."""
    mods: List[str] = []
    frames = ([ev.ip] if ev.ip is not None else []) + _reliable(ev)
    for f in frames:
        if f.module and f.module not in mods:
            mods.append(f.module.replace("-", "_"))
    m = ev.fields.get("module")
    if isinstance(m, str) and m not in mods:
        mods.append(m)
    return mods
