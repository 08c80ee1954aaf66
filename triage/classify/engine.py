"""Match signature rules against a parsed log and rank the results.

For every event, every rule whose `match.kind` lists the event's kind is
tried; the highest-priority rule that matches an event wins for that event.
Matches are ranked: the report that made the kernel panic first, then by
severity, rule priority and position in the log; without a panic, the report a
later blocked task waited on and the soft lockup an RCU stall tainted L followed
go first (_waited_on_first, _soft_lockup_first). A crash no rule recognises
becomes category `unknown`; a log with no crash at all becomes `none`.
"""

import heapq
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from triage.classify.guilty import event_modules, guilty_frame
from triage.classify.rules import GPU_HELPER_LIBS, GPU_MODULES, SEVERITIES, Condition, Relation, Rule, RuleSet, Section
from triage.events.model import Event, Frame, KernelLog, Module
from triage.events.taint import decode_taint
from triage.findings import Culprit

# Event kinds that are a crash or a bug report (not memory bookkeeping).
CRASH_KINDS = frozenset({
    "null_deref", "paging_fault", "gpf", "kernel_bug", "kernel_bug_other", "oops_other", "warning", "panic",
    "soft_lockup", "hard_lockup", "hung_task", "rcu_stall", "kasan", "kmsan", "kcsan", "kfence", "ubsan",
    "lockdep", "atomic_sleep", "mce", "hw_error", "sysrq", "bad_page", "list_corruption", "stack_corruption",
    "leak", "gpu_fault", "nvrm_xid", "reboot",
})
# Reports that end in die() and so in "Kernel panic - not syncing: Fatal exception".
OOPS_KINDS = frozenset({"null_deref", "paging_fault", "gpf", "kernel_bug", "kernel_bug_other", "oops_other",
                        "list_corruption", "stack_corruption", "bad_page", "sysrq", "mce"})
# Kinds that are findings but not crashes: they become the verdict only when nothing worse happened.
NOTABLE_KINDS = frozenset({"oom_kill", "oom_invoked", "alloc_failure", "vmalloc_failure", "alloc_stall"})
MEMORY_KINDS = frozenset({"oom_invoked", "oom_kill", "alloc_failure", "vmalloc_failure", "alloc_stall", "oom_reaper"})
# How far back a panic looks for the report that caused it.
CAUSE_WINDOW_LINES = 3000
CAUSE_WINDOW_S = 300.0
# Matches kept per rule. A log with 100k reports of one kind would otherwise
# hold 100k Match objects; the ranking keeps a rule's matches in log order
# (after the panic's cause), so the first ones kept are the ones that can rank
# first. The rest are counted in Matches.counts.
MAX_MATCHES_PER_RULE = 1000

# Compiler clones and syscall wrappers differ between builds and architectures;
# titles drop them so the same bug gets the same title everywhere.
_CLONE_SUFFIX = re.compile(r"(\.(?:isra|constprop|part|cold|llvm|lto_priv|clone)(?:\.\d+)?)+$")
_SYSCALL_WRAPPER = re.compile(r"^(?:__x64_sys_|__ia32_sys_|__ia32_compat_sys_|__x32_compat_sys_|__arm64_sys_|"
                              r"__arm64_compat_sys_|__se_sys_|__do_sys_|__riscv_sys_|__s390x_sys_|SyS_|__do_compat_sys_|"
                              r"__se_compat_sys_|compat_SyS_)")


def stable_function(name: Optional[str]) -> Optional[str]:
    """A function name without compiler-clone suffixes; syscall wrappers as sys_<name>."""
    if not name:
        return name
    name = _CLONE_SUFFIX.sub("", name)
    m = _SYSCALL_WRAPPER.match(name)
    if m:
        name = "sys_" + name[m.end():]
    return name

UNKNOWN_RULE = Rule(
    "unknown", "{headline} in {function}", "unknown", "high", 0,
    "The kernel reported a crash that no signature recognises.",
    ["Read the evidence lines and the call trace; consider adding a signature rule for this report."],
    Condition(kinds=[]), title_nofunc="{headline}", confidence=0.3)
NONE_RULE = Rule(
    "none", "no crash found", "none", "info", 0,
    "The log holds no panic, oops, warning or memory-exhaustion report.",
    ["If the host rebooted unexpectedly, the crash record may be missing: check kdump, "
     "the serial console, pstore (/sys/fs/pstore) and the BMC/IPMI event log."],
    Condition(kinds=[]), confidence=0.5)


@dataclass
class Match:
    """One rule matched against one event."""

    rule: Rule
    title: str
    event: Optional[Event]
    related: List[Event] = field(default_factory=list)
    culprit: Culprit = field(default_factory=Culprit)
    confidence: float = 0.0
    evidence: List[int] = field(default_factory=list)
    panicked: bool = False
    # the later blocked-task report this one ranks above because the task waited on it
    # (_waited_on_first); a verdict so placed keeps its place over more severe reports
    explains: Optional[Event] = None

    @property
    def category(self) -> str:
        if self.panicked and self.rule.panic_category:
            return self.rule.panic_category
        return self.rule.category

    @property
    def severity(self) -> str:
        return self.rule.severity

    def add_related(self, ev: Event) -> None:
        """Count `ev` as evidence for this match: in `related` once, its line in `evidence`."""
        if all(e is not ev for e in self.related):
            self.related.append(ev)
            self.evidence = sorted(set(self.evidence) | {ev.line})


# A clock that goes back by more than this starts a new epoch (a reboot or a
# second log appended): `within_s` never pairs events across it.
EPOCH_BACKSTEP_S = 1.0


class EventIndex:
    """Positions of a log's events by line, kind and clock epoch, built once
    per classify() so that every per-match lookup is a bisect, not a rescan.
    Events are in log order, so their line numbers are non-decreasing."""

    def __init__(self, events: Sequence[Event]) -> None:
        self.events = events
        self.position: Dict[int, int] = {}
        self.lines: List[int] = []
        self.epoch: List[int] = []
        self.by_kind: Dict[str, List[int]] = {}
        self.memory: List[int] = []          # positions of MEMORY_KINDS events
        self.memory_lines: List[int] = []
        epoch, last_ts, top = 0, None, 0
        for i, ev in enumerate(events):
            self.position[id(ev)] = i
            # the running maximum keeps the bisects sound should a parser ever emit out of order
            top = max(top, ev.line)
            self.lines.append(top)
            if ev.ts is not None:
                if last_ts is not None and ev.ts < last_ts - EPOCH_BACKSTEP_S:
                    epoch += 1
                last_ts = ev.ts
            self.epoch.append(epoch)
            self.by_kind.setdefault(ev.kind, []).append(i)
            if ev.kind in MEMORY_KINDS:
                self.memory.append(i)
                self.memory_lines.append(top)

    def epoch_of(self, ev: Event) -> Optional[int]:
        """The clock epoch (boot) of `ev`, or None for an event not of this log."""
        i = self.position.get(id(ev))
        return None if i is None else self.epoch[i]

    def memory_before(self, line: int, limit: int) -> List[Event]:
        """The last `limit` memory events on lines before `line`."""
        k = bisect_left(self.memory_lines, line)
        return [self.events[p] for p in self.memory[max(0, k - limit):k]]

    def of_kinds(self, kinds: Sequence[str], lo: int, hi: int, reverse: bool) -> Iterator[int]:
        """Positions in [lo, hi) of events of the given kinds, in log order or reversed."""
        runs = []
        for k in dict.fromkeys(kinds):
            pos = self.by_kind.get(k)
            if not pos:
                continue
            a, b = bisect_left(pos, lo), bisect_left(pos, hi)
            if a < b:
                runs.append(reversed(pos[a:b]) if reverse else iter(pos[a:b]))
        if len(runs) == 1:
            return runs[0]
        return heapq.merge(*runs, key=(lambda p: -p) if reverse else None)


@dataclass
class _Scope:
    log: KernelLog
    rules: RuleSet
    cause: Optional[Event]
    panic: Optional[Event]
    index: EventIndex
    split: Dict[int, tuple] = field(default_factory=dict)   # per rule: its field conditions, split by _split


def panic_cause(log: KernelLog) -> Tuple[Optional[Event], Optional[Event]]:
    """(the report that led to the first panic, the panic event); (None, None) without a panic."""
    evs = log.events
    for i, ev in enumerate(evs):
        if ev.kind != "panic":
            continue
        worse_after = False     # a crash report other than a warning lies between evs[j] and the panic
        for j in range(i - 1, -1, -1):
            prev = evs[j]
            if j < i - 1:
                nxt = evs[j + 1]
                worse_after = worse_after or (nxt.kind in CRASH_KINDS and nxt.kind != "warning")
            if ev.line - prev.line > CAUSE_WINDOW_LINES:
                break
            if ev.ts is not None and prev.ts is not None and ev.ts - prev.ts > CAUSE_WINDOW_S:
                break
            if str(ev.fields.get("reason", "")).startswith(("Fatal exception", "Oops")) and prev.kind not in OOPS_KINDS:
                continue    # die() panicked: the cause is an oops, not a warning printed while handling it
            if prev.kind in CRASH_KINDS and prev.kind not in ("panic", "nvrm_xid", "gpu_fault", "reboot"):
                if prev.kind == "warning" and not ev.fields.get("panic_on_warn") and worse_after:
                    continue
                return _first_of_burst(evs, j), ev
        return ev, ev
    return None, None


BURST_LINES = 10


def _faulted_at_access(report: Event, oops: Event) -> bool:
    """Whether `oops` faulted on the address of the access `report` (KASAN/KFENCE) describes."""
    addr, size, fault = (report.fields.get("access_addr"), report.fields.get("access_size"),
                         oops.fields.get("address"))
    if not (isinstance(addr, int) and isinstance(size, int) and isinstance(fault, int)):
        return False
    return oops.kind in OOPS_KINDS and addr <= fault < addr + max(size, 1)


def _first_of_burst(evs: List[Event], j: int) -> Event:
    """Reports that start within a few lines of each other come from CPUs
    crashing together, and hung-task/stall reports come in runs; the first
    one is the root, the rest its fallout."""
    k = j
    while k > 0:
        prev = evs[k - 1]
        if prev.kind in CRASH_KINDS and prev.kind not in ("panic", "nvrm_xid", "gpu_fault", "reboot") \
                and evs[k].line - prev.line <= BURST_LINES:
            k -= 1
            continue
        if prev.kind == evs[k].kind and prev.kind in ("hung_task", "rcu_stall", "soft_lockup") \
                and evs[k].line - prev.line <= CAUSE_WINDOW_LINES:
            # a run of hung-task/stall reports: the first one names what blocked first
            k -= 1
            continue
        if prev.kind == "meminfo" and evs[k].line - prev.line <= BURST_LINES:
            k -= 1
            continue
        if prev.kind in ("kasan", "kfence") and evs[k].line - prev.line <= CAUSE_WINDOW_LINES \
                and _faulted_at_access(prev, evs[k]):
            # KASAN/KFENCE report a bad access and let it go on; when it reaches unmapped
            # memory the oops follows at that very address: the report names it first
            k -= 1
            continue
        break
    while evs[k].kind not in CRASH_KINDS:
        k += 1
    return evs[k]


def _module_taint(log: KernelLog, ev: Optional[Event], module: Optional[str]) -> Optional[Module]:
    if not module:
        return None
    mods = (ev.fields.get("modules") if ev is not None else None) or log.facts.modules
    for m in mods or ():
        if m.name == module:
            return m
    return None


def make_culprit(log: KernelLog, rules: RuleSet, ev: Optional[Event], module: Optional[str],
                 function: Optional[str]) -> Culprit:
    """Module/function plus what the module's taint markers say about it."""
    c = Culprit(module=module, function=function, is_gpu_driver=rules.in_list(GPU_MODULES, module))
    m = _module_taint(log, ev, module)
    if m is not None:
        c.taint = m.taint
        c.proprietary = "P" in m.taint
        c.out_of_tree = "O" in m.taint
        c.unsigned = "E" in m.taint
        c.version = m.version
    return c


def _xid_value(ev: Event, name: str, rules: Optional[RuleSet]) -> Optional[str]:
    """xid_cause / xid_name of an Xid event, from the taxonomy (signatures/xid.toml)."""
    try:
        info = rules.xids.get(int(ev.fields.get("xid"))) if rules is not None else None
    except (TypeError, ValueError):
        info = None
    if info is None:
        return None
    return info.cause if name == "xid_cause" else info.name


def _value(ev: Event, name: str, guilty: Tuple[Optional[str], Optional[str]],
           rules: Optional[RuleSet] = None) -> Optional[str]:
    if name in ("xid_cause", "xid_name"):
        return _xid_value(ev, name, rules)
    if name == "text":
        return ev.text
    if name == "function":
        return guilty[0]
    if name == "module":
        return guilty[1]
    if name == "ip_function":
        return ev.ip.function if ev.ip else None
    if name == "ip_module":
        return ev.ip.module if ev.ip else None
    if name == "comm":
        return ev.comm if ev.comm is not None else ev.fields.get("comm")
    if name == "frames":
        return " ".join(f.function for f in ([ev.ip] if ev.ip else []) + ev.frames if f.reliable)
    if name == "all_frames":
        return " ".join(f.function for f in ([ev.ip] if ev.ip else []) + ev.frames)
    v = ev.fields.get(name)
    if v is None:
        return None
    return str(v)


def _fields_ok(ev: Event, cond_fields, guilty, negate: bool = False, rules: Optional[RuleSet] = None) -> bool:
    for name, pat in cond_fields.items():
        v = _value(ev, name, guilty, rules)
        hit = v is not None and pat.search(v) is not None
        if negate and hit:
            return False
        if not negate and not hit:
            return False
    return True


def _related(scope: _Scope, ev: Event, rel: Relation, module: Optional[str], before: bool) -> List[Event]:
    idx = scope.index
    evs = idx.events
    i = idx.position[id(ev)]
    max_lines = rel.within_lines if rel.within_lines is not None else CAUSE_WINDOW_LINES
    if before:
        cands = idx.of_kinds(rel.kinds, bisect_left(idx.lines, ev.line - max_lines), i, reverse=True)
    else:
        cands = idx.of_kinds(rel.kinds, i + 1, bisect_right(idx.lines, ev.line + max_lines), reverse=False)
    out = []
    for j in cands:
        other = evs[j]
        if rel.within_s is not None:
            # the kernel clock only moves forward within one boot, so the
            # first event out of reach ends the search
            if idx.epoch[j] != idx.epoch[i]:
                break
            if other.ts is not None and ev.ts is not None and abs(ev.ts - other.ts) > rel.within_s:
                break
        if not _fields_ok(other, rel.fields, _guilty_of(other), rules=scope.rules):
            continue
        mods = event_modules(other)
        if rel.same_module:
            # exact names only: a task named "nvidia-smi" or "nvidia_uvm_worker" is not module nvidia
            comm = str(other.comm or other.fields.get("comm") or "").replace("-", "_")
            if not module or (module not in mods and comm != module):
                continue
        if rel.module_in and not any(scope.rules.in_list(rel.module_in, m) for m in mods):
            continue
        out.append(other)
        if len(out) >= 8:
            break
    return out


def _guilty(rules: RuleSet, ev: Event, rule: Optional[Rule]) -> Optional[Frame]:
    """The guilty frame of `ev`, read from the section its kind (or `rule`) names."""
    sec = rules.section(ev.kind, rule)
    skip = rules.skip_patterns(sec.skip)
    if _arg_check(rules, sec, ev):
        # the check is on what the caller passed: the function holding it (the RIP, which
        # arm/LoongArch traces repeat as their first frame) and the argument's carriers are passed
        skip = skip + rules.skip_patterns(sec.arg_check_skip)
        if ev.ip is not None and ev.ip.function:
            skip.append(re.compile("^" + re.escape(ev.ip.function) + "$"))
    return guilty_frame(ev, sec.read, skip, rules.skip_patterns(sec.anchor),
                        rules.skip_patterns(sec.prefer), between=rules.skip_patterns(sec.stale_between))


def _arg_check(rules: RuleSet, sec: Section, ev: Event) -> bool:
    """Whether `ev` is an inline check of its caller's argument: its own "at FILE:LINE" site is
    one of the section's arg_check_sites, or, with that line lost, its faulting location is one
    of the arg_check_ips functions, whose every BUG() is such a check."""
    site = ev.fields.get("file")
    if isinstance(site, str):
        return bool(sec.arg_check_sites) and any(p.search(site) for p in rules.skip_patterns(sec.arg_check_sites))
    fn = ev.ip.function if ev.ip is not None else None
    return bool(fn and sec.arg_check_ips and any(p.search(fn) for p in rules.skip_patterns(sec.arg_check_ips)))


def _victim_ip(rules: RuleSet, ev: Event, rule: Optional[Rule]) -> bool:
    """Whether `ev` faulted in code whose fault means state someone else corrupted (its
    section's victim_ip lists): then the code that called it is not to blame."""
    sec = rules.section(ev.kind, rule)
    if not sec.victim_ip or ev.ip is None or not ev.ip.function:
        return False
    return any(p.search(ev.ip.function) for p in rules.skip_patterns(sec.victim_ip))


def _traced_request_first(matches: List[Match]) -> None:
    """Put first the traced report of the request the first allocation failure is about, when
    the kernel said it printed no stack for that one. 2.6's __alloc_pages() prints the header,
    then dump_stack(); 2.6 i386's show_trace() prints "Stack pointer is garbage, not printing
    trace" instead when the stack it is on (an interrupt's) fails its check, so the report says
    nothing of who asked, and the module that asked is the culprit (tests/data/posted/README.md).
    A later report of the same request (same order and gfp mask) whose stack names the requester
    does; another request's stack does not stand in for it. A report whose stack the excerpt
    merely lacks stays as it is: then the requester is not in the excerpt."""
    top = matches[0]
    ev = top.event
    if ev is None or ev.kind != "alloc_failure" or ev.frames or top.culprit.function \
            or not ev.fields.get("stack_not_printed"):
        return
    order, mask = ev.fields.get("order"), ev.fields.get("gfp_mask")
    if order is None or mask is None:
        return
    for i in range(1, len(matches)):
        m = matches[i]
        e = m.event
        if m.rule is top.rule and e is not None and e.kind == "alloc_failure" and e.frames \
                and m.culprit.function and e.fields.get("order") == order and e.fields.get("gfp_mask") == mask:
            matches.insert(0, matches.pop(i))
            return


# Reports a blocked task can be waiting on: a failure or memory-exhaustion report, not another
# blocked task, a panic line, a boot or a SysRq dump.
_WAITED_ON = (CRASH_KINDS | NOTABLE_KINDS) - {"hung_task", "panic", "reboot", "sysrq"}


def _waited_on_first(matches: List[Match], index: "EventIndex") -> None:
    """Put first the report a blocked task was waiting on, when the top verdict is a blocked-task
    report (hung task, workqueue lockup, a netdevice waiting for its references) and an earlier
    failure report of the same boot precedes it. check_hung_task() fires only after a task slept
    120 s (kernel/hung_task.c), the workqueue watchdog after 30 s without progress
    (kernel/workqueue.c wq_watchdog_timer_fn()), netdev_wait_allrefs() after 10 s: each reports
    a wait that began earlier, on work, memory or a device that an earlier report says failed
    (an Xid, an OOM livelock, a refcount underflow). The first report of an incident is its
    root, as syzkaller's pkg/report takes the first report of a log. Of the earlier reports the
    best-ranked is taken. A report more than CAUSE_WINDOW_LINES lines, or more than
    CAUSE_WINDOW_S seconds plus the time the task says it was blocked, before it is not what it
    waited on; nor is one before a reboot (another clock epoch)."""
    top = matches[0].event
    if top is None or top.kind not in _BLOCKED_KINDS:
        return
    epoch = index.epoch_of(top)
    if epoch is None:
        return
    blocked = top.fields.get("seconds")
    reach = CAUSE_WINDOW_S + (blocked if isinstance(blocked, int) else 0)
    named = matches[0].culprit.module
    for i in range(1, len(matches)):
        m = matches[i]
        ev = m.event
        if ev is None or ev.kind not in _WAITED_ON or m.rule.category == "none" or ev.line >= top.line:
            continue
        if top.line - ev.line > CAUSE_WINDOW_LINES or index.epoch_of(ev) != epoch:
            continue
        if top.ts is not None and ev.ts is not None and top.ts - ev.ts > reach:
            continue
        if named and m.culprit.module != named:
            # the blocked task's own stack names the module it waits in, and the earlier
            # report is another's (or the core's): the task waits on something else
            continue
        m.explains = top
        m.add_related(top)
        matches.insert(0, matches.pop(i))
        return


def _soft_lockup_first(matches: List[Match], index: "EventIndex") -> None:
    """Put first the soft lockup of the CPU an RCU stall or hard-lockup report names, when that
    report is tainted L. kernel/watchdog.c watchdog_timer_fn() sets TAINT_SOFTLOCKUP ('L') when
    it reports a soft lockup, so a stall report tainted L came after a soft lockup was already
    reported: two watchdogs reporting one stuck CPU (an RCU stall is what a CPU looping in the
    kernel without scheduling causes, Documentation/RCU/stallwarn.rst), and the soft lockup,
    which names the looping task and its RIP, is the first report of the loop. A soft lockup of
    another CPU, or one before a reboot, is not that loop."""
    top = matches[0].event
    if top is None or top.kind not in ("rcu_stall", "hard_lockup") or top.cpu is None \
            or not any(f.startswith("L:") for f in decode_taint(top.taint or "")):
        return
    epoch = index.epoch_of(top)
    if epoch is None:
        return
    for i in range(1, len(matches)):
        ev = matches[i].event
        if ev is None or ev.kind != "soft_lockup" or ev.cpu != top.cpu or index.epoch_of(ev) != epoch:
            continue
        matches.insert(0, matches.pop(i))
        return


def _blames_no_module(rules: RuleSet, ev: Event, rule: Optional[Rule]) -> bool:
    """Whether `ev`'s guilty code only suffered or only asked (_victim_ip, _allocation_listing):
    then no module is to blame, whatever the guilty frame's module."""
    return _victim_ip(rules, ev, rule) or _allocation_listing(rules, ev)


def _allocation_listing(rules: RuleSet, ev: Event) -> bool:
    """Whether `ev` is a report the log lost the head of (header_missing) that holds only
    frames atop an allocator ([skip] alloc, heap_alloc), with nothing an exception prints (no
    faulting IP, page-fault decode, CR2 or code bytes): the trace of an allocation-failure or
    OOM report cut above, whose caller only asked for memory, so no module is blamed."""
    f = ev.fields
    if ev.kind != "oops_other" or not f.get("header_missing") or ev.ip is not None:
        return False
    if f.get("pf") or f.get("cr2") or f.get("cr2_summary") or f.get("code"):
        return False
    top = next((fr for fr in ev.frames if fr.reliable), None)
    if top is None or not top.function:
        return False
    return any(p.search(top.function) for p in rules.skip_patterns(("alloc", "heap_alloc")))


def _frame_module(rules: RuleSet, fr: Frame) -> Optional[str]:
    """The module a frame is in: its [module] tag, else the built-in GPU driver its decoded
    source path or its name prefix names (a bare file name, "bochs.c", is no path)."""
    if fr.module:
        return fr.module.replace("-", "_")
    return rules.gpu_driver_by_source(fr.source) if fr.source and "/" in fr.source \
        else rules.builtin_gpu_driver(fr.function)


def _callers_of(rules: RuleSet, ev: Event, fr: Frame) -> Iterator[Tuple[Frame, Optional[str]]]:
    """The reliable frames of `ev`'s trace below its first reliable frame of `fr`'s function
    (the code that called it, innermost first), each with its module (_frame_module)."""
    reliable = [f for f in ev.frames if f.reliable]
    start = next((i for i, f in enumerate(reliable) if f.function == fr.function), None)
    if start is None:
        return
    for f in reliable[start + 1:]:
        yield f, _frame_module(rules, f)


def _lifetime_owner(rules: RuleSet, ev: Event, fr: Frame, module: str) -> Optional[Tuple[Frame, str]]:
    """For a KASAN use-after-free whose access site `fr` is in module `module`: the first
    frame of another module that called it, when that same module also freed the object
    (it is the first other module on KASAN's "Freed by task" stack). The site's module then
    only acted on an object whose lifetime its caller owns on both paths (nouveau tearing
    down gpu_sched's scheduler, then flushing an entity of it): the caller ordered the free
    before the use. None otherwise, and for every other report kind."""
    if ev.kind != "kasan" or "use-after-free" not in ev.text:
        return None
    freed = ev.fields.get("freed_frames")
    if not isinstance(freed, list) or not freed:
        return None
    freer = next((m for m in (_frame_module(rules, f) for f in freed if isinstance(f, Frame) and f.reliable)
                  if m is not None and m != module), None)
    if freer is None:
        return None
    for f, m in _callers_of(rules, ev, fr):
        if m is None or m == module:
            continue
        return (f, m) if m == freer else None
    return None


# Verdicts of the kernel coping with a shortage (an OOM kill frees memory as designed), not
# failing: at equal severity, a report of the kernel itself failing beside one (a CPU stuck in
# a soft lockup while a memcg kill iterates its tasks) is the verdict, as a page in an
# impossible state outranks one by its severity.
_COPING = ("oom_kill",)

# Reports of a task blocked, not of code that went wrong: the frame a task waits in is where,
# the driver that made it wait is why.
_BLOCKED_KINDS = ("hung_task",)


def _driver_behind_library(rules: RuleSet, ev: Event, fr: Frame, module: str) -> Optional[Tuple[Frame, str]]:
    """For a blocked-task report whose guilty frame `fr` is in a GPU library (gpu_helper_libs:
    drm, ttm, gpu_sched...): the first frame of a GPU driver that called it, the library frames
    between skipped (v3d's timeout handler stuck in drm_sched_stop). None when a core or
    non-GPU frame comes first (the library was entered from the core: it is then the culprit)."""
    if ev.kind not in _BLOCKED_KINDS or not rules.in_list(GPU_HELPER_LIBS, module):
        return None
    return _first_gpu_driver(rules, _callers_of(rules, ev, fr))


def _first_gpu_driver(rules: RuleSet, walk: Iterable[Tuple[Frame, Optional[str]]]) -> Optional[Tuple[Frame, str]]:
    """The first (frame, module) of `walk` in a GPU driver, GPU library frames skipped; None
    when a core or non-GPU frame comes first."""
    for f, m in walk:
        if m is not None and rules.in_list(GPU_HELPER_LIBS, m):
            continue
        if m is not None and rules.in_list(GPU_MODULES, m):
            return f, m
        return None
    return None


_STALL_KINDS = ("soft_lockup", "hard_lockup", "rcu_stall")


def _driver_inside_library(rules: RuleSet, ev: Event, fr: Frame, module: str) -> Optional[Tuple[Frame, str]]:
    """For a lockup or stall whose guilty frame `fr` is a GPU library's entry (drm_ioctl, named
    as the callee of the syscall anchor): the first GPU driver frame the library called, on the
    way from `fr` in towards the code that spun, the library frames between skipped. The
    library dispatched into the driver (drm_ioctl -> a probe helper -> i915's connector
    detect, spinning in i915's bit-banged GMBUS), so the loop is the driver's, as
    _driver_behind_library names the driver that called a library for a blocked task.
    None when a core or non-GPU frame comes first (the library called the core)."""
    if ev.kind not in _STALL_KINDS or not rules.in_list(GPU_HELPER_LIBS, module):
        return None
    reliable = [f for f in ev.frames if f.reliable]
    at = next((i for i, f in enumerate(reliable) if f.function == fr.function), None)
    if at is None:
        return None
    inner = list(reversed(reliable[:at])) + ([ev.ip] if ev.ip is not None and ev.ip.function else [])
    return _first_gpu_driver(rules, ((f, _frame_module(rules, f)) for f in inner))


def _module_behind_core(rules: RuleSet, ev: Event, fr: Frame) -> Optional[Tuple[Frame, str]]:
    """For a blocked-task report whose guilty frame `fr` is core code (no module): the first
    module frame that called it, when one lies below in the trace. A task blocked in a core
    service (a mailbox send, a page-flag wait, a firmware call) waits on the operation the
    module below asked for: the module's request is why it waits (a clock driver's firmware
    call stuck in mbox_send_message; nfs releasing a folio stuck in folio_wait_private_2).
    None when no module frame lies below (a core task blocked on core work stays core)."""
    if ev.kind not in _BLOCKED_KINDS:
        return None
    return next(((f, m) for f, m in _callers_of(rules, ev, fr) if m is not None), None)


_OOPS_KINDS = ("null_deref", "paging_fault", "gpf", "kernel_bug", "oops_other")


def _gpu_work_item(rules: RuleSet, ev: Event) -> Optional[Tuple[Frame, str]]:
    """For an oops in core code run by a kworker: the work function its "Workqueue: wq func"
    line names, when that function is a GPU driver's. The oops runs in the driver's own work
    item, on objects the driver queued (i915's GEM free work oopsing in __rb_erase_color)."""
    if ev.kind not in _OOPS_KINDS:
        return None
    wq = ev.fields.get("workqueue")
    if not isinstance(wq, Frame):
        return None
    m = _frame_module(rules, wq)
    if m is None or not rules.in_list(GPU_MODULES, m):
        return None
    return wq, m


def _reattributed(rules: RuleSet, ev: Event, fr: Frame, module: Optional[str]) -> Optional[Tuple[Frame, str]]:
    """The frame and module the verdict names instead of the guilty frame `fr` (in `module`,
    None for core code), None when it names them. Core code run for a GPU driver's work item
    or waited in for a module below is that code's (_gpu_work_item, _module_behind_core); a
    module that only acted for its caller gives way to it (_lifetime_owner,
    _driver_behind_library), also after the first step."""
    moved = None
    if module is None:
        moved = _gpu_work_item(rules, ev) or _module_behind_core(rules, ev, fr)
        if moved is not None:
            fr, module = moved
    if module is not None:
        moved = (_lifetime_owner(rules, ev, fr, module) or _driver_behind_library(rules, ev, fr, module)
                 or _driver_inside_library(rules, ev, fr, module) or moved)
    return moved


def _guilty_of(ev: Event) -> Tuple[Optional[str], Optional[str]]:
    fr = ev.ip or next((f for f in ev.frames if f.reliable), None)
    return (fr.function, fr.module) if fr else (None, None)


_GUILTY_FIELDS = ("function", "module")


def _split(cond_fields: Dict) -> Tuple[Dict, Dict]:
    """(conditions on the event itself, conditions on its guilty frame)."""
    return ({k: v for k, v in cond_fields.items() if k not in _GUILTY_FIELDS},
            {k: v for k, v in cond_fields.items() if k in _GUILTY_FIELDS})


def _evaluate(scope: _Scope, rule: Rule, ev: Event) -> Optional[Match]:
    cond = rule.match
    split = scope.split.get(id(rule))
    if split is None:
        split = scope.split[id(rule)] = (_split(cond.fields), _split(cond.not_fields or {}))
    (fields_ev, fields_guilty), (not_ev, not_guilty) = split
    # Most rules tried on an event fail on its own fields: test those before
    # the costlier walk for the guilty frame.
    if not _fields_ok(ev, fields_ev, (None, None), rules=scope.rules):
        return None
    if not_ev and not _fields_ok(ev, not_ev, (None, None), negate=True, rules=scope.rules):
        return None
    fr = _guilty(scope.rules, ev, rule)
    function = fr.function if fr else None
    module = fr.module.replace("-", "_") if fr and fr.module else None
    report_file = ev.fields.get("file") if isinstance(ev.fields.get("file"), str) else None
    if (module is None and fr is not None and not fr.source and report_file
            and ev.ip is not None and fr.function == ev.ip.function):
        # the WARNING/BUG line's own file ("at drivers/gpu/drm/drm_bridge.c:708"), printed by
        # the kernel for the function it names, decides over a name prefix as a decoded
        # source does below (a WARN in an inlined helper is the helper's file's)
        module = scope.rules.gpu_driver_by_source(report_file)
    if module is None and fr is not None:
        # a built-in GPU driver prints no [module] tag; its function prefix names it, or the
        # source file a symboliser printed beside the frame (drivers/gpu/drm/msm/...); that file,
        # when printed, is the compiler's record of where the function lives and decides over
        # a name prefix
        module = _frame_module(scope.rules, fr)
    if module is None and (fr is None or fr.function == (ev.ip.function if ev.ip else None)):
        # ... and the WARNING/BUG's own source file names it (drivers/gpu/drm/i915/...), also
        # when the line is cut before its [module] tag
        module = scope.rules.gpu_driver_by_source(ev.fields.get("file") if isinstance(ev.fields.get("file"), str)
                                                  else None)
    if module is None and isinstance(ev.fields.get("module"), str):
        module = ev.fields["module"]
    if module is not None and _blames_no_module(scope.rules, ev, rule):
        module = None
    if fr is not None:
        moved = _reattributed(scope.rules, ev, fr, module)
        if moved is not None:
            fr, module = moved
            function = fr.function
    guilty = (function, module)
    if not _fields_ok(ev, fields_guilty, guilty, rules=scope.rules):
        return None
    if not_guilty and not _fields_ok(ev, not_guilty, guilty, negate=True, rules=scope.rules):
        return None
    rules = scope.rules
    if cond.culprit_module_in and not rules.in_list(cond.culprit_module_in, module):
        return None
    if cond.culprit_module_not_in and rules.in_list(cond.culprit_module_not_in, module):
        return None
    if cond.any_frame_module_in and not any(rules.in_list(cond.any_frame_module_in, m) for m in event_modules(ev)):
        return None
    panicked = ev is scope.cause or ev is scope.panic
    if cond.panicked is not None and cond.panicked != panicked:
        return None
    related: List[Event] = []
    if cond.preceded_by is not None:
        hits = _related(scope, ev, cond.preceded_by, module, before=True)
        if not hits:
            return None
        related += hits
    if cond.not_preceded_by is not None and _related(scope, ev, cond.not_preceded_by, module, before=True):
        return None
    if cond.followed_by is not None:
        hits = _related(scope, ev, cond.followed_by, module, before=False)
        if not hits:
            return None
        related += hits
    return _build(scope, rule, ev, function, module, related, panicked)


def _memory_context(scope: _Scope, ev: Event) -> List[Event]:
    """Memory events before the matched one: what an expert weighs for 'was it memory?'."""
    return scope.index.memory_before(ev.line, 10)


def _headline(ev: Event) -> str:
    h = str(ev.fields.get("headline") or ev.kind)
    if ev.kind in ("kasan", "kfence") and ev.fields.get("access") and not h.endswith(("read", "write")):
        h += " " + str(ev.fields["access"])
    return h


def render_title(rule: Rule, ev: Optional[Event], function: Optional[str], module: Optional[str],
                 aliases: Optional[Dict[str, str]] = None, rules: Optional[RuleSet] = None) -> str:
    """Fill a rule's title template; drop the function part when no function is known."""
    function = stable_function(function)
    if function and aliases:
        function = aliases.get(function, function)
    values = {
        "function": function or "",
        "module": module or "",
        "module_suffix": f" [{module}]" if module else "",
        "headline": _headline(ev) if ev is not None else "",
        "reason": "",
        "xid": "",
        "xid_name": "",
        "comm": "",
        "access": "",
        "category": rule.category,
    }
    if ev is not None:
        reason = str(ev.fields.get("headline", ""))
        values["reason"] = reason[len("kernel panic: "):] if reason.startswith("kernel panic: ") else reason
        values["xid"] = str(ev.fields.get("xid", ""))
        values["xid_name"] = _xid_value(ev, "xid_name", rules) or ""
        values["comm"] = str(ev.comm or ev.fields.get("comm") or "")
        values["access"] = str(ev.fields.get("access", ""))
    tmpl = rule.title
    if not function and "{function}" in tmpl:
        tmpl = rule.title_nofunc or tmpl.replace(" in {function}", "").replace("{function}", "")
    if not values["xid_name"]:
        # an Xid the taxonomy does not list: "NVRM: Xid 999", not "NVRM: Xid 999 ()"
        tmpl = tmpl.replace("({xid_name})", "")
    out = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), ""), tmpl)
    return " ".join(out.split())


def _build(scope: _Scope, rule: Rule, ev: Optional[Event], function: Optional[str], module: Optional[str],
           related: List[Event], panicked: bool) -> Match:
    # some report types name no function (a workqueue pool stuck, busy inodes after unmount):
    # the title leaves it out, the culprit still shows the guilty frame
    named = None if ev is not None and ev.fields.get("no_function") else function
    pair = ev.fields.get("functions") if ev is not None and ev.kind == "kcsan" else None
    if isinstance(pair, list) and len(pair) == 2 and all(isinstance(f, str) and f for f in pair):
        # a data race names both racing accesses ("KCSAN: data-race in tcp_poll / tcp_set_state")
        named = " / ".join(stable_function(f.split("+", 1)[0]) or f for f in pair)
    title = render_title(rule, ev, named, module if named else None, scope.rules.aliases, scope.rules)
    conf = rule.confidence
    if ev is not None:
        if ev.fields.get("corrupted"):
            conf *= 0.6
        if function is None and "{function}" in rule.title:
            conf *= 0.8
        if panicked:
            conf = min(1.0, conf + 0.05)
    ctx = _memory_context(scope, ev) if ev is not None else []
    rel = list(related)
    seen = {id(e) for e in rel}
    for e in ctx:
        if id(e) not in seen:     # identity: two reports may print the same text
            rel.append(e)
    rel.sort(key=lambda e: e.line)
    evidence = sorted({e.line for e in rel} | ({ev.line} if ev is not None else set())
                      | ({scope.panic.line} if panicked and scope.panic is not None else set()))
    culprit = make_culprit(scope.log, scope.rules, ev, module, function)
    return Match(rule, title, ev, rel, culprit, round(conf, 3), evidence, panicked)


class Matches(List[Match]):
    """classify()'s ranked list of matches, plus `counts`: how many events
    each rule matched (rule id -> count), including the matches beyond
    MAX_MATCHES_PER_RULE that were not kept."""

    def __init__(self, items=(), counts: Optional[Dict[str, int]] = None) -> None:
        super().__init__(items)
        self.counts: Dict[str, int] = dict(counts or {})


def classify(log: KernelLog, rules: RuleSet) -> Matches:
    """Matches for a parsed log, best first; never empty (falls back to unknown / none).

    Per rule, the first MAX_MATCHES_PER_RULE matches in log order are kept
    (and always the matches of the panic and its cause); `counts` has them all.
    """
    cause, panic = panic_cause(log)
    scope = _Scope(log, rules, cause, panic, EventIndex(log.events))
    by_kind: Dict[str, List[Rule]] = {}
    for r in sorted(rules.rules, key=lambda r: -r.priority):
        for k in r.match.kinds:
            by_kind.setdefault(k, []).append(r)
    matches: List[Match] = []
    counts: Dict[str, int] = {}
    for ev in log.events:
        cands = by_kind.get(ev.kind)
        got = None
        for r in cands or ():
            got = _evaluate(scope, r, ev)
            if got is not None:
                break
        if got is None and ev.kind in CRASH_KINDS:
            fr = _guilty(rules, ev, None)
            mod = (fr.module or rules.builtin_gpu_driver(fr.function)) if fr else None
            if mod is not None and _blames_no_module(rules, ev, None):
                mod = None
            got = _build(scope, UNKNOWN_RULE, ev, fr.function if fr else None, mod, [], ev is cause or ev is panic)
        if got is not None:
            n = counts[got.rule.id] = counts.get(got.rule.id, 0) + 1
            if n <= MAX_MATCHES_PER_RULE or ev is cause or ev is panic:
                matches.append(got)
    if not matches:
        return Matches([_build(scope, NONE_RULE, None, None, None, [], False)], {NONE_RULE.id: 1})
    sev = {s: i for i, s in enumerate(SEVERITIES)}

    def key(m: Match):
        ev = m.event
        rank = 2 if ev is cause else (1 if ev is panic else 0)
        # a bare panic line ranks below the report that caused it; an OOM kill below a report
        # of the same severity of the kernel failing (_COPING)
        return (-rank, sev.get(m.severity, 9), m.rule.category in _COPING, -m.rule.priority, ev.line if ev else 0)

    matches.sort(key=key)
    if matches[0].event is not cause and matches[0].event is not panic:
        _traced_request_first(matches)
        _waited_on_first(matches, scope.index)
        _soft_lockup_first(matches, scope.index)
    # The panic record itself is evidence for the cause, not a second verdict.
    if cause is not None and panic is not None and cause is not panic and matches and matches[0].event is cause:
        matches[0].add_related(panic)
    return Matches(matches, counts)
