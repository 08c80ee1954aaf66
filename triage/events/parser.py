"""Kernel log text -> KernelLog (lines, ordered events, system facts).

One pass, one line at a time: prefixes are stripped (triage.events.prefix),
headers open events (triage.events.headers), and the lines that follow a
header enrich the open event (CPU/PID/Comm, RIP, Code:, call trace, modules,
Mem-Info, task table) until the block ends. When the log carries caller ids
(`[ T123]`/`[ C3]`) each caller has its own open event, so interleaved output
from two tasks does not mix.

Memory stays bounded: lines are capped at MAX_LINE characters, frames per
trace, traces per event and table rows are capped, and past MAX_KEPT_LINES
only the lines inside event blocks (and the few ordinary lines the report
reads: Mem-Info zone lines, driver load banners) are kept in KernelLog.lines,
a compact LineStore. Frames and module lists that repeat from report to
report are parsed once and shared (triage.events.shared), so a log with a
hundred thousand reports of one kind does not hold a hundred thousand copies.
"""

import re
from bisect import bisect_left, bisect_right
from collections import deque
from dataclasses import replace
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Sequence, Tuple

from triage.events import blockinfo, meminfo, x86access
from triage.events.frames import CONTEXT_MARKERS, arm32_caller, parse_symbol
from triage.events.gpudevs import GpuData, builtin_gpu_data
from triage.events.headers import Header, match_header
from triage.events.linestore import LineStore
from triage.events.model import Event, Frame, KernelLog, LogLine, SystemFacts, is_near_null
from triage.events.paste import normalise
from triage.events.prefix import sanitize, strip_prefix
from triage.events.reporters import ParserNames, Reporters, reporters
from triage.events.shared import Shared
from triage.lazyre import lazy_compile

MAX_FRAMES = 256
MAX_TRACES = 8
MAX_KEPT_LINES = 200_000
# Events kept per log. Real logs hold tens (the posted corpus at most 26, a kernel
# ring buffer of a few MB a few thousand OOM reports); a hostile log can make every
# line a report. Past the cap the parser keeps the first EVENTS_HEAD, the last
# EVENTS_TAIL and, from the dropped middle, the first event of each kind, so one
# oops inside a flood of warnings still reaches the classifier.
EVENTS_HEAD = 256
EVENTS_TAIL = 768
MAX_EVENTS = EVENTS_HEAD + EVENTS_TAIL
# Compaction runs when this many events beyond the cap have arrived (amortised cost).
_EVENTS_SLACK = 512
# Ordinary lines past MAX_KEPT_LINES that the report still reads.
_ALWAYS_KEEP = ("NVRM: loading",)
# ...and at most this many of them (a hostile log may repeat one forever).
MAX_WANTED_LINES = 65536
# Lines after a header during which a secondary header (Oops:, invalid
# opcode, Internal error) still belongs to the same report.
SECONDARY_WINDOW = 40
# Printing contexts (caller ids) held at once. A real log interleaves tens; a hostile one can
# give every line its own id, and every new id past the cap would otherwise rescan them all.
MAX_CONTEXTS = 4096
# A block ends after this many lines that add nothing to it.
IDLE_LIMIT = 150

# Markers that may appear after junk on the same line ("syzkaller login: BUG: ...").
_MIDLINE = ("BUG: ", "WARNING: ", "Kernel panic - not syncing", "general protection fault", "kernel BUG at ",
            "INFO: ", "UBSAN: ", "Unable to handle kernel ", "------------[ cut here")

_STALL_KINDS = ("rcu_stall", "hard_lockup", "soft_lockup")
# The memory reports (mm/oom_kill.c out_of_memory(), mm/page_alloc.c warn_alloc(), mm/vmalloc.c)
# print and return: no die() follows them, so a die line ("Oops: ...", "Internal error: ...",
# "invalid opcode", a GPF) after one is a new report whose own first line the log lost (powerpc's
# "Unable to handle kernel paging request" re-flowed into the kill line before it), not theirs
_NO_DIE_LINE = ("oom_kill", "oom_invoked", "alloc_failure", "vmalloc_failure", "alloc_stall")
_DIE_LINE_KINDS = ("oops_other", "kernel_bug", "gpf", "paging_fault")
# (the "[" first, the blank test after it: a literal start lets the regex engine skip to each "[")
_MERGED = lazy_compile(r"\[(?<=\S\[) {0,12}\d{1,12}\.\d{6}\]")
_AT_SYM = lazy_compile(r", at: (?:\[<[0-9a-fA-Fx]{1,18}>\] )?([A-Za-z_.$][\w.$]{0,200})")
# GPU driver reports whose wording only that driver prints, searched after a line prefix the
# prefix reader does not know (a syslog stamp with neither host nor "kernel:" tag, a host
# scrubbed to a placeholder and the tag cut): nvidia's resman prefixes every message with
# "NVRM: " (its Xid, fallen-off-the-bus, GSP RPC timeout reports; match_header keeps only
# those, not the banner or assertion chatter) and amdgpu_job_timedout prints
# "ring %s timeout, signaled seq=%u, emitted seq=%u".
_MIDLINE_DRIVER = (re.escape("NVRM: "), r"ring \S{1,40} timeout, signaled seq=")
_MIDLINE_RE = lazy_compile("|".join([re.escape(m) for m in _MIDLINE] + list(_MIDLINE_DRIVER)))
_MIDLINE_FIRST = frozenset(m[0] for m in _MIDLINE)
# Blanks a report's head may have before it: the separator a line that lost its console
# prefix kept (after the stamp or "kernel:"; two after a syslog tag whose host column was
# empty), or the indentation a paste gave the line alone (markdown's four blanks, a mail's
# quote indent): the kernel never indents a head, so a head behind them is the message.
_LOST_PREFIX_BLANKS = 8
# The wordings of the memory reports' heads, which start with a task's comm (two `in` tests
# per line opening with a blank, every frame line: no generator per line)
_MEMORY_HEADS = (" invoked oom-killer:", ": page allocation failure")
# ... behind a comm of at most TASK_COMM_LEN - 1 = 15 characters (blanks allowed: "Web Content"),
# or with the report's own fields after them (gfp_mask=, order:) behind anything
_MEMORY_HEAD = lazy_compile(r"\S.{0,14}(?: invoked oom-killer:|: page allocation failure)"
                            r"|.{1,200}?(?: invoked oom-killer: gfp_mask=|: page allocation failure[:.] order:)")
# An excerpt pasted from after the report's header starts with what remains of
# the report: the faulting location, the page-fault decode, the code bytes or
# the trace. Read only near the start of the input, before any event, so a
# dump_stack() or sysrq register dump inside a full log is never taken for a crash.
# KASAN/KFENCE access line: "Write of size 1 at addr ffff8000db950000 by task ..." (KASAN),
# "Read at addr ffff... (in kfence-#12):" (KFENCE)
_SANITIZER_ACCESS = lazy_compile(r"(?:Read|Write)(?: of size (\d{1,9}))? at addr (?:0x)?([0-9a-fA-F]{1,16})\b")
# x86 show_fault_oops() of 2.6-4.x printed "IP: [<%p>] %pS" (3.x+ "IP: %pS") right after its
# "BUG: unable to handle kernel ..." line: only a kernel page fault prints it.
# arm32 __show_regs() (arch/arm/kernel/process.c) names the faulting PC "PC is at %pS".
# (Syntax, not a list for signatures/lists.toml: each entry is a register-dump or trace line form
# that the body reader below dispatches on itself, the IP, #PF decode, code bytes and trace
# readers; a form added here alone would open a report nothing then reads.)
_HEADERLESS_STARTS = ("RIP: ", "pc : ", "#PF: ", "Code: ", "Call Trace:", "Call trace:", "IP: ", "PC is at ")
# x86 show_opcodes()' bytes: "%02x" each, the one at RIP "<%02x>" (arm's words are longer); a
# hard wrap may cut a byte in two at a line's end.
_CODE_BYTES = lazy_compile(r"(?:<?[0-9a-fA-F]{1,2}>? ){0,80}<?[0-9a-fA-F]{1,2}>?\s*")
_ODD_DIGIT = lazy_compile(r"(?:^| )[0-9a-fA-F]$")
_ODD_DIGIT_START = lazy_compile(r"[0-9a-fA-F](?: |$)")
# The tail of x86 die_addr()'s line, "%s: %04lx [#%d]..." (__die_header()), whose string only a
# general protection fault ends with an address: exc_general_protection()'s "general protection
# fault, probably for non-canonical address 0x%lx" (", maybe for address"). A paste that wrapped
# the line before the address starts with it once the line's head is cut; a page fault's die
# line is "Oops: %04lx", every other die string a word.
_GPF_DIE_TAIL = lazy_compile(r"0x([0-9a-fA-F]{1,16}): [0-9a-fA-F]{4} \[#\d{1,4}\]")
# (An OOM report's tail is recognised by the task table only the OOM killer prints,
# and by the lines only a memory cgroup's OOM report prints: mm/memcontrol.c
# mem_cgroup_print_oom_context() / mem_cgroup_print_oom_meminfo().)
# mem_cgroup_print_oom_meminfo(): "memory: usage %llukB, limit %llukB, failcnt %lu", then
# "memory+swap: usage ..." and "kmem: usage ..." (cgroup v1) or "swap: usage ..." (v2).
_MEMCG_OOM_STARTS = ("memory: usage ", "memory+swap: usage ", "swap: usage ", "kmem: usage ",
                     "Memory cgroup stats for ", "Task in /")
# A task-table row of dump_tasks() has at least six numeric columns after the pid.
_OOM_ROW_MIN_COLUMNS = 6
HEADERLESS_WINDOW = 30
# sched_show_task() (kernel/sched/core.c, 5.10+): "task:%-15.15s state:%c stack:..."; a
# task in uninterruptible sleep (state D) shown without a report header is the body of a
# hung-task report (check_hung_task() prints the task this way after its "INFO: task ...
# blocked for more than" line), as pasted from after that line
_BLOCKED_TASK = lazy_compile(r"task:.{1,15}? {0,15} state:D\b")
# the same line with any state: a stack shown under a task not in state D is no hung task's
_SHOWN_TASK = lazy_compile(r"task:.{1,15}? {0,15} state:([A-Za-z])\b")
# Lines between a sched_show_task() "task:" line and the stack it heads (its "Call Trace:").
_SHOWN_TASK_GAP = 3
# The lines show_regs_print_info() (lib/dump_stack.c dump_stack_print_info(): "CPU: %d PID: %d
# Comm: %.20s ...", 6.x "Tainted: [%c]=%s", "Hardware name: %s"; kernel/workqueue.c
# print_worker_info(): "Workqueue: %s %ps") prints right before x86/arm64 __show_regs() (whose
# arm64 form opens with "pstate: %08llx (...)" before "pc : "), and how far apart they may be.
_REGS_INFO = ("CPU: ", "Hardware name: ", "Tainted: ", "Workqueue: ", "pstate: ")
_REGS_INFO_GAP = 3
# The context line only the may-sleep checks print after their header and before their
# dump_stack(): kernel/sched/core.c __might_resched()/___might_sleep() "in_atomic(): %d,
# irqs_disabled(): %d, non_block: %d, pid: %d, name: %s" (__cant_sleep()/__cant_migrate()
# the same head), 2.6 kernel/sched.c __might_sleep() "in_atomic():%d, irqs_disabled():%d"
_ATOMIC_CTX = lazy_compile(r"in_atomic\(\): ?\d+, irqs_disabled\(\): ?\d+")
# Lines from that context line to the stack it heads: preempt_count/RCU nest depth,
# "Preemption disabled at:" and its frame, the CPU and hardware lines.
_ATOMIC_CTX_GAP = 10
# Lines after an allocation-failure report within which a slab_out_of_memory()
# line is part of it (a show_mem of a large NUMA machine runs to a few hundred lines).
_SLAB_OOM_WITHIN = 1000


def _user_cs(rip_line: str) -> bool:
    """An x86 "RIP: cccc:..." line of user mode: the code segment's privilege
    level (its low two bits) is 3 (0033, 0023); kernel CS is 0010, 0060 or Xen PV's e030."""
    cs = rip_line[5:9]
    if rip_line[9:10] != ":":
        return False
    try:
        return int(cs, 16) & 3 == 3
    except ValueError:
        return False


class _Ctx:
    """Parser state of one printing context (one caller id)."""

    __slots__ = ("event", "mode", "stack", "traces", "idle", "share", "meminfo", "tasks", "last", "arm_caller")

    def __init__(self) -> None:
        self.event: Optional[Event] = None
        self.mode = ""
        self.stack = "task"
        self.traces = 0
        self.idle = 0
        self.share: Optional[Event] = None
        self.meminfo: Optional[Dict[str, Any]] = None
        self.tasks: Optional[Dict[str, Any]] = None
        self.last = 0
        self.arm_caller: Optional[Frame] = None


class LogParser:
    """Incremental parser; feed() lines, then result(). `gpu` is the GPU data of the run's
    signature set (RuleSet.gpu_data: device names, fault wordings) and `reps` its reporters'
    frames (RuleSet.reporters: [[report_frames]]), the built-in data when None."""

    def __init__(self, gpu: Optional[GpuData] = None, reps: Optional[Reporters] = None) -> None:
        self._gpu = gpu if gpu is not None else builtin_gpu_data()
        self._reps = reps if reps is not None else reporters()
        self._names = self._reps.names
        # [parser] boot_banners / shutdown_lines, asked of every line: held here, with the
        # banners' first characters as a cheap test before startswith
        self._boot_banners = self._names.boot_banners
        self._boot_first = frozenset(b[:1] for b in self._boot_banners)
        self._shutdown_lines = self._names.shutdown_lines
        self.lines = LineStore()
        self._shared = Shared()
        self.events: List[Event] = []
        self.facts = SystemFacts()
        self.truncated = 0
        self.dropped_events = 0
        self._wanted_kept = 0
        self.number = 0
        self._ctx: Dict[Optional[str], _Ctx] = {}
        # the contexts of the last SECONDARY_WINDOW + 1 lines: the only ones that can hold an
        # event that recent (a doubled record's twin is looked for there, not in every context)
        self._recent_ctx: Deque[_Ctx] = deque(maxlen=SECONDARY_WINDOW + 1)
        self._has_callers = False
        self._prev_ts: Optional[float] = None
        self._prev_caller: Optional[str] = None
        self._prev_prefix = 0
        self._indent = ""
        self._pending = None
        self._content = False       # saw log content (not a boot banner) since the start
        self._booting = False       # inside the early boot messages of a (re)boot
        self._shutdown = False      # a clean shutdown/restart was logged
        self._user_regs = -10       # line of the last user-mode "RIP: 0033:" before any report
        self._pte_far: List[Tuple[int, str]] = []   # (line, address) of show_pte() lines outside a report
        self._cr2_summary: Tuple[int, str] = (-10, "")  # a lone "CR2: <addr>" before any report
        self._pgd_empty = -10       # line of an x86 "PGD 0" page-table walk before any report
        self._ended: Optional[Tuple[Event, int]] = None   # a headerless stack closed by its end marker, and the line
        self._shown_task: Tuple[int, str] = (-10, "")   # a "task: ... state:X" line before any report: line, state
        self._atomic_ctx = -20      # line of a may-sleep check's "in_atomic(): ..." line before any report
        self._regs_info: List[LogLine] = []     # the last show_regs_print_info() lines before any report
        self._indent8 = " " * 8
        self._last_ts: Optional[float] = None

    # -- input ---------------------------------------------------------
    def feed(self, raw: str, number: Optional[int] = None) -> None:
        """Parse one line; `number` is its line number in the input (default: the next one)."""
        self.number = self.number + 1 if number is None else number if number > self.number else self.number
        text, cut = sanitize(raw)
        if cut:
            self.truncated += 1
        msg, ts, caller, host, plen = strip_prefix(text)
        if ts is None and caller is None and self._prev_ts is not None and self._prev_prefix \
                and msg[:1] == " " and msg.startswith(self._indent) and not msg.startswith(self._indent8):
            # makedumpfile/vmcore-dmesg continuation of a multi-line record:
            # indented by the width of the printk prefix, same timestamp.
            msg = msg[self._prev_prefix:]
            ts, caller = self._prev_ts, self._prev_caller
        elif ts is not None:
            self._prev_ts, self._prev_caller = ts, caller
            if plen != self._prev_prefix:
                self._prev_prefix = plen
                self._indent = " " * plen
                self._indent8 = " " * (plen + 8)
        if caller is not None:
            self._has_callers = True
        if ts is not None:
            self._last_ts = ts
        if host is not None and "#012" in msg:
            # rsyslog escapes the newlines of a multi-line record as "#012"
            parts = msg.split("#012")[:64]
        else:
            parts = [msg]
            # (a merged record starts at a "[" after the first character: searched from the first)
            k = msg.find("[", 1)
            m = _MERGED.search(msg, k) if k > 0 else None
            if m is not None:
                # two console records on one line (concurrent printk on a serial console)
                rest, rts, rcaller, _, _ = strip_prefix(msg[m.start():])
                if rts is not None:
                    parts = [msg[:m.start()]]
                    self._pending = (rest, rts, rcaller)
        for part in parts:
            self._emit(LogLine(self.number, part, ts, caller, host))
        if self._pending is not None:
            rest, rts, rcaller = self._pending
            self._pending = None
            self._emit(LogLine(self.number, rest, rts, rcaller, host))

    def _emit(self, ll: LogLine) -> None:
        kept = self._line(ll)
        if kept or ll.number <= MAX_KEPT_LINES:
            self.lines.append(ll)
        elif self._wanted_kept < MAX_WANTED_LINES and self._wanted(ll.text):
            self._wanted_kept += 1
            self.lines.append(ll)

    @staticmethod
    def _wanted(text: str) -> bool:
        """Ordinary lines kept past the head: Mem-Info zone lines printed outside
        a block and driver load banners (module versions)."""
        return (" free:" in text[:40]) or text.startswith(_ALWAYS_KEEP)

    def _add_event(self, ev: Event) -> None:
        """Append one event, keeping the list within MAX_EVENTS (plus slack)."""
        self.events.append(ev)
        if len(self.events) >= MAX_EVENTS + _EVENTS_SLACK:
            self._cap()

    def _cap(self) -> None:
        """Apply cap_events(), and forget the stored lines past the kept head of the
        log that belonged only to dropped events (the store keeps event lines past
        MAX_KEPT_LINES, so without this a flood of reports would grow it unbounded)."""
        self.events, dropped = cap_events(self.events)
        if not dropped:
            return
        self.dropped_events += dropped
        first_tail = self.events[-EVENTS_TAIL].line
        spans = [(ev.line, max(ev.line, ev.end_line or ev.line)) for ev in self.events[:-EVENTS_TAIL]]
        inside = _in_spans([(a, b) for a, b in spans if b > MAX_KEPT_LINES])

        def keep(number: int) -> bool:
            return number >= first_tail or inside(number)
        self.lines.retain_after(MAX_KEPT_LINES, keep)

    # -- per line --------------------------------------------------------
    def _context(self, ll: LogLine) -> _Ctx:
        key = ll.caller if self._has_callers else None
        if key is None and self._has_callers:
            key = self._prev_caller
        ctx = self._ctx.get(key)
        if ctx is None and key is not None:
            orphan = self._ctx.get(None)
            if orphan is not None and orphan.event is not None and ll.number - orphan.event.end_line <= 2:
                # a report opened by a line without a caller id (its console prefix lost in
                # the paste, " kworker/0:1: page allocation failure: ...") and continued at once
                # by lines that carry one: the kernel prints a report from one context, so the
                # first caller seen is the orphan report's own
                ctx = self._ctx[key] = self._ctx.pop(None)
        if ctx is None:
            if len(self._ctx) > MAX_CONTEXTS:
                self._forget_contexts()
            ctx = self._ctx[key] = _Ctx()
        self._recent_ctx.append(ctx)
        return ctx

    def _forget_contexts(self) -> None:
        """A pathological number of callers: forget the idle contexts and, when more than half
        the cap still hold a report, close the oldest of them, so that the next pass is at least
        MAX_CONTEXTS // 2 new callers away (amortised O(1) a line, where a pass each new caller
        made a log of one report per caller id quadratic: 20,000 lines took 14 s)."""
        busy = [(k, v) for k, v in self._ctx.items() if v.event is not None]
        for _, v in busy[:-(MAX_CONTEXTS // 2)]:
            self._close(v)
        self._ctx = dict(busy[-(MAX_CONTEXTS // 2):])

    def _line(self, ll: LogLine) -> bool:
        """Process one line; True when it belongs to an event block."""
        text = ll.text
        self._facts(text)
        if self._ended is not None:
            ended, self._ended = self._ended, None
            if text.startswith("RIP: ") and ll.number - ended[1] <= 2:
                # x86 oops_end() prints the registers again after the end marker (4.15+,
                # "executive summary in case the oops scrolled away"): a die(), no WARNING
                ended[0].fields["die_tail"] = True
        if text[:1] == "U" and text.startswith(_ARM64_BRK) and self.events \
                and self.events[0].fields.get("header_missing"):
            # arch/arm64/kernel/debug-monitors.c brk_handler() (5.x and before): a BRK no
            # handler claimed, a trap the code asked for (BUG/WARN/sanitizer), not a fault
            self.events[0].fields["brk"] = True
        if text[:1] in self._boot_first and text.startswith(self._boot_banners):
            if self._content and not self._shutdown and not self._booting:
                # a new boot with no crash record or clean shutdown before it
                ev = Event("reboot", ll.number, text[:200], ll.ts, end_line=ll.number,
                           fields={"headline": "unexpected kernel reboot"})
                self._add_event(ev)
            self._booting = True
            self._shutdown = False
            return False
        if text and not self._booting and not text.startswith("-- "):     # journal separators are not content
            self._content = True
        elif text and self._booting and ll.ts is not None and ll.ts > 5.0:
            self._booting = False
            self._content = True
        if text.startswith(self._shutdown_lines):
            self._shutdown = True
        ctx = self._context(ll)
        if self.events and text:
            last = self.events[-1]
            if last.kind == "panic" and last.fields.get("no_killable") and _after_no_killable(last, ll):
                _lived_on(last)
        hdr = match_header(text, self._gpu, self._names) if text else None
        if hdr is None and text[:1] == " " and text[1:_LOST_PREFIX_BLANKS + 1].lstrip(" ")[:1] in _MIDLINE_FIRST:
            t = text.lstrip(" ")
            if len(text) - len(t) <= _LOST_PREFIX_BLANKS and t.startswith(_MIDLINE):
                # a report's head is printed at a message's start, never indented: one behind a
                # blank or two is the message of a line that lost its console prefix but kept the
                # blank after it (" INFO: task kworker/u8:2:1186 blocked ..." in a journal paste),
                # one behind up to eight a line the paste indented on its own ("     WARNING: CPU:
                # 0 PID: 9 at ..." quoted in a mail whose other lines are flush), not a
                # continuation or a frame
                hdr = match_header(t, self._gpu, self._names)
                if hdr is not None:
                    ll = LogLine(ll.number, t, ll.ts, ll.caller, ll.host)
                    text = t
        if hdr is None and text[:1] == " " and (_MEMORY_HEADS[0] in text or _MEMORY_HEADS[1] in text):
            t = text.lstrip(" ")
            if len(text) - len(t) <= _LOST_PREFIX_BLANKS and _MEMORY_HEAD.match(t):
                # the memory reports' heads start with the task's comm (mm/oom_kill.c
                # dump_header() "%s invoked oom-killer: gfp_mask=", mm/page_alloc.c warn_alloc()
                # "%s: page allocation failure: order:%u"), so no fixed mark finds them behind
                # the blanks a paste or a lost prefix left; the kernel never indents them either
                h = match_header(t, self._gpu, self._names)
                if h is not None and h.kind in ("oom_invoked", "alloc_failure"):
                    hdr = Header(h.kind, h.headline, dict(h.fields, indented_head=True), h.ip, h.secondary)
                    ll = LogLine(ll.number, t, ll.ts, ll.caller, ll.host)
                    text = t
        if hdr is None and text and not text.startswith((" ", "traps: ", "---[ end")) and " traps: " not in text:
            m = _MIDLINE_RE.search(text, 1)
            while m is not None:
                i = m.start()
                mark = m.group(0)
                if mark.startswith("-----"):
                    break
                # "BUG: "/"INFO: " must start a word ("ODEBUG: free active" is not a BUG: header);
                # a paste's mark glued before it (markdown's "`" or "**", a quote's '"') starts one
                if not (text[i - 1].isalnum() or text[i - 1] == "_") or mark[0] in "gKk":
                    hdr = match_header(text[i:], self._gpu, self._names)
                    if hdr is not None:
                        break
                m = _MIDLINE_RE.search(text, i + 1)
        if hdr is not None:
            return self._header(ctx, ll, hdr)
        ev = ctx.event
        if text.startswith("NMI backtrace for cpu") and (ev is None or ev.kind not in _STALL_KINDS):
            # The stalled CPU's stack is printed from that CPU's context (another
            # caller id): it belongs to the open stall report.
            stall = self._recent_any(_STALL_KINDS, within=3000)
            if stall is not None:
                self._close(ctx)
                ctx.event = ev = stall
                ctx.traces = 1 if stall.frames else 0
                return True
        if ev is None and text[:1] == "[":
            m_pte = _ARM_SHOW_PTE.match(text)
            if m_pte:
                # arm/arm64 show_pte() runs before die(): "[<far>] *pgd=...", "[<far>] pgd=...",
                # "[<far>] user address but active_mm is swapper": the fault address for the
                # die line that follows when the "Unable to handle" line is cut
                if len(self._pte_far) < MAX_PTE_LINES:
                    self._pte_far.append((ll.number, m_pte.group(1)))
        if ev is None and not self.events and ll.number <= HEADERLESS_WINDOW:
            m_cr2 = _LONE_CR2.match(text)
            if m_cr2:
                # arch/x86/mm/fault.c prints "CR2: %016lx" alone after a page-fault
                # oops ("executive summary"), then the end marker and (4.19+) the
                # registers again: a register dump right after it is that oops
                self._cr2_summary = (ll.number, m_cr2.group(1))
            elif text.startswith("PGD ") and _PGD_EMPTY.match(text):
                # dump_pagetable()'s walk, printed between the page-fault header and the
                # "Oops: %04lx" die line: kept for the report that line or the register dump opens
                self._pgd_empty = ll.number
            if text.startswith("RIP: ") and _user_cs(text):
                # a user-mode register dump (CS 0033/0023): the interrupted user
                # context that OOM, hung-task and warning reports print, not an oops
                self._user_regs = ll.number
            elif text.startswith("Code: ") and 0 <= ll.number - self._user_regs <= 2:
                pass    # the user code bytes of that dump
            elif text.startswith("task:") and _BLOCKED_TASK.match(text):
                ev = self._headerless(ctx, ll, "hung_task", "INFO: task hung")
            elif text.startswith("task:") and (shown := _SHOWN_TASK.match(text)) is not None:
                self._shown_task = (ll.number, shown.group(1))
            elif text.startswith("in_atomic()") and _ATOMIC_CTX.match(text):
                self._atomic_ctx = ll.number
            elif text.startswith(_HEADERLESS_STARTS):
                ev = self._headerless(ctx, ll)
            elif text[:2] == "0x" and (m_tail := _GPF_DIE_TAIL.match(text)) is not None:
                ev = self._headerless(ctx, ll, "gpf", "general protection fault")
                ev.fields["address"] = int(m_tail.group(1), 16)
            elif ((text[:1] in " ?[" or text[:1].isalpha() or text[:1] == "_")
                  and _opens_bare_trace(text, self._shared.trace_frame(text))) \
                    or (text[:1] == "<" and self._marked_frame(text) is not None):
                # a stack pasted without its header or "Call Trace:" line ("[<addr>] func+0x../0x..",
                # " func+0x1a/0x30 [mod]", arm32 " f from g+0x18/0x1c"; the arm32 unwinder before
                # 5.x prints its "[<addr>] (f) from [<addr>] (g+0x..)" lines unindented)
                ev = self._headerless(ctx, ll)
            elif (text.startswith(("Tasks state",) + _MEMCG_OOM_STARTS)
                  or (text[:1] == "[" and (meminfo.is_task_header(text)
                                           or meminfo.task_row_columns(text) >= _OOM_ROW_MIN_COLUMNS))):
                # the task table (or a row of it) only the OOM killer prints (dump_tasks),
                # or a memory cgroup's usage/limit lines: an OOM report's tail
                ev = self._headerless(ctx, ll, "oom_invoked", "invoked oom-killer")
        if ev is None:
            if text[:1] in "CHTWp" and text.startswith(_REGS_INFO):
                self._regs_info = (self._regs_info + [ll])[-len(_REGS_INFO):]
            self._loose(text)
            return False
        if (ev.kind == "oops_other" and ev.fields.get("header_missing") and ev.ip is None
                and not ev.fields.get("pf") and text.startswith(_MEMCG_OOM_STARTS)):
            # the headerless stack was an OOM report's (mm/memcontrol.c prints these
            # lines right after it), not an oops: no kernel RIP, no page-fault decode
            ev.kind, ev.fields["headline"] = "oom_invoked", "invoked oom-killer"
        if self._enrich(ctx, ev, ll):
            ev.end_line = ll.number
            ctx.idle = 0
            return True
        ctx.idle += 1
        if ctx.idle > IDLE_LIMIT:
            self._close(ctx)
        return False

    _FACT_CHARS = frozenset("LCKMsHDRxpEI")

    def _facts(self, text: str) -> None:
        c = text[:1]
        if c not in self._FACT_CHARS:
            return
        f = self.facts
        # (each test after the first character it needs: syslog lines open with "Dec", "Mar", ...)
        if c == "L" and text.startswith("Linux version "):
            rel = blockinfo.linux_version(text)
            if rel:
                f.kernel_release = rel
                f.kernel_version = text[:400]
                if "aarch64" in text or "arm64" in text:
                    f.arch = f.arch or "arm64"
                elif "x86_64" in text or "x86-64" in text:
                    f.arch = f.arch or "x86_64"
        elif c in "CK" and text.startswith(("Command line: ", "Kernel command line: ")):
            f.cmdline = text.split(": ", 1)[1][:2000]
        elif c == "M" and text.startswith("Memory: ") and "available" in text:
            f.mem_total_kb = blockinfo.memory_total_kb(text) or f.mem_total_kb
        elif c == "s" and text.startswith(("smp: Brought up", "smpboot: Allowing")):
            f.cpus = blockinfo.cpu_count(text) or f.cpus
        elif c == "H" and text.startswith("Hardware name: "):
            f.hardware = text[15:].strip()[:300]
        elif c == "D" and text.startswith("DMI: ") and f.hardware is None:
            f.hardware = text[5:].strip()[:300]
        elif c == "M" and text.startswith("Machine model: ") and f.hardware is None:
            f.hardware = text[15:].strip()[:300]
            f.arch = f.arch or "arm64"
        elif f.arch is None:
            if c in "Rx" and text.startswith(("RIP: ", "x86/", "x86: ")):
                f.arch = "x86_64"
            elif c in "pEI" and text.startswith(("pc : ", "ESR = ", "Internal error: Oops")):
                f.arch = "arm64"

    def _loose(self, text: str) -> None:
        """Lines outside any block that still carry facts."""
        if text.startswith("Modules linked in:"):
            mods, last = self._shared.modules(text[len("Modules linked in:"):])
            self.facts.modules = mods
            if last:
                self.facts.last_unloaded = last
        elif text.startswith(("CPU: ", "Pid: ")):
            info = blockinfo.parse_cpu_line(text)
            if info:
                self._taint(info[3], info[4])

    def _taint(self, taint: Optional[str], release: str) -> None:
        self.facts.taint = taint if taint is not None else "G"
        if release and not self.facts.kernel_release:
            self.facts.kernel_release = release

    # -- headers ---------------------------------------------------------
    def _header(self, ctx: _Ctx, ll: LogLine, hdr: Header) -> bool:
        last = self.events[-1] if self.events else None
        if last is not None and last.kind == "panic" and last.fields.get("no_killable") \
                and not str(hdr.fields.get("reason", "")).startswith("System is deadlocked on memory"):
            # since 4.12 "Out of memory and no killable processes..." is a warning that the panic
            # follows for a system-wide OOM; a further report instead of that panic means the
            # kernel lived on (a memory cgroup's OOM): an OOM report without a victim
            _lived_on(last)
        if last is not None and last.text == ll.text and not last.frames and last.ip is None \
                and ll.number - last.line <= SECONDARY_WINDOW \
                and ((ll.ts is not None and last.ts == ll.ts) or last.fields.get("indented_head")):
            # the same record again, stamp and all: one printk line pasted twice (a console
            # and a log file both copied, a doubled paste). The kernel stamps each record
            # once, so the copy that goes on to its trace is the report; the bare one is dropped.
            # So is an indented memory head quoted alone in prose before the report it heads.
            self.events.pop()
            for c in self._recent_ctx:
                if c.event is last:
                    c.event = None
        ev = ctx.event
        if hdr.secondary and ev is not None and ll.number - ev.line <= SECONDARY_WINDOW \
                and not (ev.kind in _NO_DIE_LINE and hdr.kind in _DIE_LINE_KINDS):
            self._merge_secondary(ev, hdr, ll)
            ev.end_line = ll.number
            return True
        if hdr.kind == "oom_summary":
            ev2 = self._recent("oom_invoked", ctx)
            if ev2 is not None:
                self._merge_secondary(ev2, hdr, ll)
                return True
            # no report before it (cut, or grepped out): mm/oom_kill.c prints the summary
            # (dump_oom_summary) only for the victim it is about to kill, so the line
            # alone is an OOM kill of task=/pid=
            hdr = _summary_kill(hdr)
        if hdr.kind == "oom_reaper" and self._recent("oom_kill", ctx) is None \
                and self._recent("oom_invoked", ctx) is None:
            # the reaper frees only the memory of a task the OOM killer chose (oom_kill_process,
            # or a dying task it picked over a kill): its line alone is that OOM kill
            hdr = Header("oom_kill", "oom_reaper", dict(hdr.fields, reaper_only=True))
        if hdr.fields.get("no_killable"):
            prev = self._recent("oom_invoked", ctx)
            if prev is not None and prev.fields.get("memcg"):
                # a memory cgroup's OOM with no victim: out_of_memory() returns, no panic
                self._merge_secondary(prev, Header("oom_invoked", hdr.headline, {"no_killable": True}), ll)
                return True
            if self._survived_no_killable(ll):
                # mm/oom_kill.c out_of_memory() (4.12+): a system-wide OOM with no victim
                # panics right after its first "no killable processes" warning, so a warning
                # the kernel already lived through in this log was a memory cgroup's (or
                # sysrq's) OOM; the same warning again, repeated by that OOM's retries, is one
                # more of them, also when the excerpt ends on it
                if prev is not None:
                    self._merge_secondary(prev, Header("oom_invoked", hdr.headline, {"no_killable": True}), ll)
                    return True
                hdr = Header("oom_invoked", "invoked oom-killer", {"no_killable": True})
        if hdr.kind == "panic" and str(hdr.fields.get("reason", "")).startswith("System is deadlocked on memory"):
            prev = self._recent("panic", ctx, within=10)
            if prev is not None and prev.fields.get("no_killable"):
                # the panic the "no killable processes" warning announced: one report
                prev.fields["reason"] = hdr.fields["reason"]
                prev.end_line = ll.number
                return True
        if hdr.fields.get("slab_oom"):
            # slab_out_of_memory() prints after the page allocator's own failure report
            # (its show_mem can be hundreds of lines long) and repeats per failed slab:
            # the lines belong to the allocation-failure report before them
            prev = self._recent_any(("alloc_failure", "vmalloc_failure"), within=_SLAB_OOM_WITHIN)
            if prev is not None:
                self._merge_secondary(prev, hdr, ll)
                return True
        if hdr.kind == "oom_kill" and not hdr.fields.get("selected_only"):
            prev = self._recent("oom_kill", ctx, within=20)
            if prev is not None and (prev.fields.get("selected_only") or prev.fields.get("summary_only")) and \
                    prev.fields.get("victim_pid") == hdr.fields.get("victim_pid"):
                # two-line form (<= 5.0): "Kill process N ... or sacrifice child" then "Killed process N ..."
                prev.fields.update(hdr.fields)
                prev.fields["selected_only"] = prev.fields["summary_only"] = False
                prev.end_line = ll.number
                return True
        if ev is not None and ev.fields.get("absorbs_bug") and hdr.kind in ("kernel_bug", "warning", "oops_other") \
                and ll.number - ev.line <= 8:
            # CONFIG_DEBUG_LIST prints the corruption, then BUG()/WARN(): one report
            self._merge_secondary(ev, hdr, ll)
            ev.end_line = ll.number
            return True
        if hdr.fields.get("oneline"):
            # a one-line report another task prints in the middle of a block (netdev_wait_allrefs
            # every 10 s): an event of its own that leaves the open block as it is
            self._add_event(Event(hdr.kind, ll.number, ll.text, ll.ts, end_line=ll.number,
                                     fields={**hdr.fields, "headline": self._shared.text(hdr.headline)}))
            return True
        text_of = self._shared.text
        # values repeat from report to report (file names, comms, headlines): share them
        fields = {k: text_of(v) if type(v) is str else v for k, v in hdr.fields.items()}
        fields["headline"] = text_of(hdr.headline)
        if ll.caller:
            fields["caller"] = ll.caller
        new = Event(hdr.kind, ll.number, ll.text, ll.ts, end_line=ll.number, fields=fields, ip=self._shared.frame(hdr.ip))
        for k in ("cpu", "pid", "comm"):
            if k in hdr.fields and isinstance(hdr.fields[k], (int, str)):
                setattr(new, k, fields[k])
        share = None
        if hdr.kind == "panic" and ev is not None and not ev.frames and ev.kind != "panic" \
                and ll.number - ev.line <= SECONDARY_WINDOW:
            # 4.x panic_on_warn/-oops: the report's stack is printed after the panic line.
            share = ev
        elif hdr.kind == "panic" and ev is not None:
            share = None
        self._close(ctx)
        ctx.event = new
        ctx.share = share
        self._add_event(new)
        return True

    def _headerless(self, ctx: _Ctx, ll: LogLine, kind: str = "oops_other", headline: str = "Oops") -> Event:
        """Open a report whose header is not in the input; result() names an
        oops's kind from what the body shows (#PF: and CR2 for a NULL dereference)."""
        ev = Event(kind, ll.number, ll.text, ll.ts, end_line=ll.number,
                   fields={"headline": headline, "header_missing": True})
        if ll.caller:
            ev.fields["caller"] = ll.caller
        task_line, state = self._shown_task
        if 0 < ll.number - task_line <= _SHOWN_TASK_GAP:
            ev.fields["task_state"] = state     # the state sched_show_task() printed above the stack
        if kind == "oops_other" and 0 < ll.number - self._atomic_ctx <= _ATOMIC_CTX_GAP:
            ev.fields["atomic_ctx"] = True      # the stack a may-sleep check dumps (_name_headerless)
        cr2_line, cr2 = self._cr2_summary
        if kind == "oops_other" and 0 < ll.number - cr2_line <= _CR2_SUMMARY_GAP:
            ev.fields["cr2"], ev.fields["cr2_summary"] = cr2, True
        self._close(ctx)
        ctx.event = ev
        self._add_event(ev)
        if kind == "oops_other":
            # the task, hardware and work item lines show_regs() printed right before the
            # register dump that opens this report (each at most _REGS_INFO_GAP lines after the
            # one before it: a wrapped line or a stray record between them): its task and work
            taken: List[LogLine] = []
            nxt = ll.number
            for info in reversed(self._regs_info):
                if not 0 < nxt - info.number <= _REGS_INFO_GAP:
                    break
                taken.append(info)
                nxt = info.number
            for info in reversed(taken):
                self._enrich(ctx, ev, info)
        self._regs_info = []
        return ev

    def _recent_any(self, kinds, within: int) -> Optional[Event]:
        for ev in reversed(self.events[-8:]):
            if self.number - ev.line > within:
                return None
            if ev.kind in kinds:
                return ev
        return None

    def _survived_no_killable(self, ll: LogLine) -> bool:
        """Whether an earlier "Out of memory and no killable processes..." of this log was
        lived through (an OOM report without a victim, see _lived_on and the memory-cgroup
        merge in _header) in the same run of the kernel: its stamp not after `ll`'s."""
        for ev in reversed(self.events[-64:]):
            if ev.kind == "oom_invoked" and ev.fields.get("no_killable"):
                return ll.ts is None or ev.ts is None or ev.ts <= ll.ts
        return False

    def _recent(self, kind: str, ctx: _Ctx, within: int = 2000) -> Optional[Event]:
        for ev in reversed(self.events[-16:]):
            if self.number - ev.line > within:
                return None
            if ev.kind == kind:
                return ev
        return None

    def _merge_secondary(self, ev: Event, hdr: Header, ll: LogLine) -> None:
        for k, v in hdr.fields.items():
            ev.fields.setdefault(k, v)
        if hdr.ip is not None and ev.ip is None:
            ev.ip = hdr.ip
        if hdr.headline.startswith(("Oops", "Internal error")):
            ev.fields.setdefault("oops", ll.text[:120])
        if hdr.kind == "paging_fault" and ev.kind == "paging_fault":
            ev.fields["nx"] = True

    def _flush_caller(self, ctx: _Ctx) -> None:
        """The held arm32 caller of a trace that stopped after its line (see _add_frame)."""
        caller, ctx.arm_caller = ctx.arm_caller, None
        ev = ctx.event
        if caller is not None and ev is not None and ctx.traces <= 1 and ev.frames \
                and ev.frames[-1].function != caller.function and len(ev.frames) < MAX_FRAMES:
            ev.frames.append(caller)

    def _close(self, ctx: _Ctx) -> None:
        self._flush_caller(ctx)
        if ctx.tasks is not None:
            meminfo.finish_tasks(ctx.tasks)
        ctx.event = None
        ctx.mode = ""
        ctx.stack = "task"
        ctx.traces = 0
        ctx.idle = 0
        ctx.share = None
        ctx.meminfo = None
        ctx.tasks = None

    # -- block bodies ----------------------------------------------------
    def _enrich(self, ctx: _Ctx, ev: Event, ll: LogLine) -> bool:
        text = ll.text
        s = text.strip()
        if not s:
            return False
        if ev.kind == "oom_invoked" and s.startswith(_MEMCG_OOM_STARTS):
            ev.fields["memcg"] = True    # mem_cgroup_print_oom_*(): a memory cgroup's OOM
        if s.startswith("Stack pointer is garbage, not printing trace") and not ev.frames:
            # 2.6 i386 show_trace() (arch/i386/kernel/traps.c): the kernel says it skipped the stack
            ev.fields["stack_not_printed"] = True
        if s.startswith("---[ end "):
            ev.end_line = ll.number
            if ev.fields.get("header_missing") and ctx.traces:
                ev.fields["end_marker"] = True      # see _after_trace_is_warn
                self._ended = (ev, ll.number)
            self._close(ctx)
            return True
        if ctx.traces and ev.fields.get("header_missing"):
            if s.startswith("irq event stamp:"):
                ev.fields["irq_stamp"] = True       # see _after_trace_is_warn
            elif s.startswith(("Mem-Info:", "Mem-info:")):
                ev.fields["show_mem"] = True        # see _name_headerless
        mode = ctx.mode
        if mode == "meminfo":
            if meminfo.feed_meminfo(ctx.meminfo, text):  # type: ignore[arg-type]
                return True
            ctx.mode = mode = ""
        if mode == "tasks":
            if meminfo.feed_task_row(ctx.tasks, text):  # type: ignore[arg-type]
                return True
            meminfo.finish_tasks(ctx.tasks)
            ctx.mode = mode = ""
        if mode == "modules":
            if blockinfo.looks_like_module_list(text):
                mods, last = self._shared.modules(text)
                # module lists are shared between reports (triage.events.shared): build a new one
                ev.fields["modules"] = ev.fields.get("modules", []) + mods
                self.facts.modules = ev.fields["modules"]
                if last:
                    self.facts.last_unloaded = last
                    ev.fields["last_unloaded"] = last
                return True
            ctx.mode = mode = ""
        if mode.startswith("code:"):
            ctx.mode = mode = mode[5:]          # the mode the Code: line came in (a 2.6 trace's)
            if _CODE_BYTES.fullmatch(s) and len(str(ev.fields.get("code") or "")) < 300:
                # show_opcodes() prints its bytes as one line: hex bytes alone on the next line
                # are that line wrapped (a terminal's hard wrap may split a byte: "5d e" / "9 75")
                code = str(ev.fields.get("code") or "").rstrip()
                glue = "" if _ODD_DIGIT.search(code) and _ODD_DIGIT_START.match(s) else " "
                ev.fields["code"] = (code + glue + s)[:300]
                ctx.mode = "code:" + mode
                return True
        if mode == "kthread":
            if s.startswith(("NMI backtrace", "Sending NMI", "CPU: ", "rcu: ", "INFO: ")):
                ctx.mode = mode = ""
            else:
                return self._shared.trace_frame(text) is not None or s.startswith(("Backtrace", "Call Trace", "Exception stack",
                                                                            "task:", "<", "r"))
        c = s[0]
        if mode == "trace":
            if s.startswith("Exception stack(") and ev.frames and ev.frames[-1].function in self._names.irq_entries:
                # arm32: frames so far ran in the interrupt; what follows is the interrupted code
                # frames may be shared with other reports (triage.events.shared): replace, not modify
                new = {id(f): replace(f, context="irq") for f in ev.frames}
                for owner in (ev, ctx.share):
                    if owner is not None:
                        owner.frames[:] = [new.get(id(f), f) for f in owner.frames]
                return True
            marker = CONTEXT_MARKERS.get(s)
            if marker is not None:
                ctx.stack = marker
                return True
            fr = self._shared.trace_frame(text, ctx.stack)
            if fr is not None:
                self._add_frame(ctx, ev, fr, text)
                return True
            if c == "<":
                marked = self._marked_frame(s)
                if marked is not None:
                    ctx.stack = marked[0]
                    self._add_frame(ctx, ev, marked[1], text)
                    return True
        if c == "C":
            if s.startswith(("CPU: ", "Comm: ")):
                info = blockinfo.parse_cpu_line(s)
                if info:
                    cpu, pid, comm, taint, rel = info
                    if ev.pid is None or "cpu_line" not in ev.fields:
                        if cpu >= 0:
                            ev.cpu = cpu
                        ev.pid, ev.comm = pid, self._shared.text(comm) if comm else comm
                        ev.taint = self._shared.text(taint) if taint is not None else "G"
                        ev.fields["cpu_line"] = True
                    self._taint(taint, rel)
                    return True
            if s.startswith(("Call Trace", "Call trace:")):
                self._start_trace(ctx)
                return True
            if s.startswith("Code: "):
                if "code" not in ev.fields:
                    ev.fields["code"] = s[6:300]
                    if _CODE_BYTES.fullmatch(s[6:]):
                        ctx.mode = "code:" + ctx.mode   # its wrapped rest may follow
                if ctx.traces and ev.fields.get("header_missing") and _ARM_CODE_WORDS.match(s):
                    ev.fields["die_tail"] = True    # see _after_trace_is_warn
                return True
        elif c == "M":
            if s.startswith("Modules linked in:"):
                if ctx.traces and ev.fields.get("header_missing"):
                    ev.fields["die_tail"] = True    # see _after_trace_is_warn
                mods, last = self._shared.modules(s[len("Modules linked in:"):])
                ev.fields["modules"] = mods
                self.facts.modules = mods
                if last:
                    ev.fields["last_unloaded"] = last
                    self.facts.last_unloaded = last
                ctx.mode = "modules"
                return True
            if s.startswith("Mem-Info:"):
                info = meminfo.new_meminfo()
                ctx.meminfo = info
                ctx.mode = "meminfo"
                ev.fields["meminfo"] = info
                mev = Event("meminfo", ll.number, text, ll.ts, end_line=ll.number,
                            fields={"headline": "Mem-Info", "meminfo": info, "parent_line": ev.line})
                self._add_event(mev)
                return True
        elif c == "W" and s.startswith("Workqueue: "):
            if "workqueue" not in ev.fields:
                # "Workqueue: events_unbound __i915_gem_free_work [i915]": the work function this worker ran
                parts = s.split()
                if len(parts) >= 3:
                    mod = parts[3][1:-1] if len(parts) >= 4 and parts[3].startswith("[") and parts[3].endswith("]") else None
                    name = parts[2].split("+", 1)[0][:200]
                    if name[:1].isalpha() or name[:1] == "_":
                        ev.fields["workqueue"] = Frame(name, module=mod)
                return True
        elif c == "H":
            if s.startswith("Hardware name: "):
                ev.fields.setdefault("hardware", s[15:300])
                return True
        elif c == "B":
            if s.startswith("Backtrace:"):
                self._start_trace(ctx)
                return True
        elif c == "b":
            if s.startswith("backtrace:"):
                self._start_trace(ctx)
                return True
        elif c == "#":
            if s.startswith("#PF: "):
                ev.fields.setdefault("pf", []).append(s[5:120])
                return True
        elif c == "T":
            if s.startswith(("Tasks state", "Tainted: [")):
                return True
        elif c == "[" and meminfo.is_task_header(s):
            ctx.tasks = {"columns": meminfo.task_columns(s)}
            ev.fields["tasks"] = ctx.tasks
            ctx.mode = "tasks"
            return True
        elif c in "RW" and ev.kind in ("kasan", "kfence") and s.startswith(("Read of size", "Write of size",
                                                                            "Read at addr", "Write at addr")):
            access = s.split(" ", 1)[0]
            ev.fields.setdefault("access", access)
            m = _SANITIZER_ACCESS.match(s)
            if m and "access_addr" not in ev.fields:
                # the address the access went to: an oops that follows at it is that access
                ev.fields["access_addr"] = int(m.group(2), 16)
                ev.fields["access_size"] = int(m.group(1)) if m.group(1) else 1
            return True
        elif c == "<":
            marker = CONTEXT_MARKERS.get(s)
            if marker is not None:
                if ctx.mode != "trace":
                    self._start_trace(ctx)
                ctx.stack = marker
                return True
        if ev.kind == "lockdep" and ev.ip is None and ", at: " in s \
                and str(ev.fields.get("headline", "")).startswith(("possible deadlock", "BUG: held lock", "WARNING: held lock",
                                                               "inconsistent lock state", "BUG: lock held",
                                                               "WARNING: lock held")):
            # the lock acquisition site ("is trying to acquire lock: ..., at: func+0x..")
            fr = parse_symbol(s[s.index(", at: "):])
            if fr is None:
                m = _AT_SYM.search(s)
                # lockdep prints the site with %pS ("+0x../0x.."): a name that ends the line
                # without it was cut there ("at: [<ffffffffa04b609d>] xfs_file_buffere")
                fr = Frame(m.group(1), name_cut=m.end() == len(s.rstrip()), module_cut="" if m.end() == len(s.rstrip())
                           else None) if m else None
            if fr is not None:
                ev.ip = fr
                return True
        if ev.kind == "lockdep" and ev.ip is not None and ", at: " in s and "sites" not in ev.fields \
                and str(ev.fields.get("headline", "")).startswith("possible ") and ctx.mode != "trace":
            # the second lock site a deadlock report names: where the lock already held was taken
            fr = parse_symbol(s[s.index(", at: "):])
            if fr is not None:
                ev.fields["sites"] = [fr]
                return True
        if s.startswith("last function: ") and ev.ip is None:
            # "BUG: workqueue leaked lock or atomic": the work function that leaked
            ev.ip = Frame(s[15:].split()[0].split("+", 1)[0][:200]) if len(s) > 15 else None
            return True
        if s.startswith("Preemption disabled at:"):
            ctx.mode = "aux"        # one frame naming where preemption was disabled, not the crash stack
            return True
        if s.startswith(("RCU grace-period kthread stack dump", "rcu: RCU grace-period kthread stack dump")):
            ctx.mode = "kthread"
            return True
        if ev.kind == "kfence" and s.startswith(("Use-after-free read", "Use-after-free write", "Out-of-bounds read",
                                                  "Out-of-bounds write", "Invalid read", "Invalid write")):
            return True
        if c in "CD" and s.startswith(("CFAR: ", "DAR: ", "DEAR: ")):
            # powerpc show_regs(): "DAR: %016lx DSISR: %08lx" (booke "DEAR: ... ESR: ..."), after
            # "CFAR: %016lx" on 64-bit: the data address of a data storage interrupt
            m = _PPC_DAR.search(s)
            if m:
                ev.fields.setdefault("dar", m.group(1))
            return True
        if c == "[":
            m = _ARM_SHOW_PTE.match(s)
            if m is None and ll.number - int(ev.fields.get("pgtable_line") or -10) == 1:
                # arm64 show_pte() prints "[%016lx] pgd=%016llx" right after its "%s pgtable:"
                # line: the address opens that line even when the rest was cut ("[...10] p")
                m = _ARM64_PTE_ADDR.match(s)
            if m:
                # arm/arm64 show_pte(): "[<far>] pgd=..." / "[<far>] address between user and
                # kernel address ranges": the faulting address when the "Unable to handle" line is cut
                ev.fields.setdefault("far", "0x" + m.group(1))
                return True
        if c in "us" and s.startswith(("user pgtable: ", "swapper pgtable: ")):
            ev.fields["pgtable_line"] = ll.number
            return True
        if c == "I" and s.startswith("IP: "):
            ev.fields["ip_line"] = True     # show_fault_oops() of 2.6-4.x: a page fault's
        trace_regs = c == "R" and ctx.traces and s.startswith("RIP: ") and ev.fields.get("header_missing")
        ip, rip = self._shared.ip_frame(s)
        if ip is not None:
            if ev.ip is None:
                ev.ip = ip
                if trace_regs:
                    # x86 prints the registers of an interrupted or entry context inside the
                    # trace (show_regs_if_on_stack()): in a stack pasted from its "Call Trace:"
                    # line on, the code an interrupt found running, not a faulting location
                    ev.fields["trace_regs"] = True
            ev.fields.setdefault("rip", rip)
            if ctx.share is not None and ctx.share.ip is None:
                ctx.share.ip = ip
            return True
        if c == "r" and ev.kind == "oops_other" and _A32_REG.match(s):
            # arm __show_regs(): "r10: %08lx  r9 : %08lx  r8 : %08lx", kept for the marked
            # instruction's base register (_arm_null_base)
            regs = ev.fields.setdefault("rregs", {})
            for m_reg in _A32_REG.finditer(s):
                n = int(m_reg.group(1))
                if n <= 12 and n not in regs:
                    regs[n] = int(m_reg.group(2), 16)
            return True
        if c in "RI" and ev.ip is None and "ip_addr" not in ev.fields:
            m_raw = _RAW_IP.match(s)
            if m_raw and not _user_cs(s):
                # a kernel RIP no symbol covers ("RIP: 0010:0x0", 4.x "IP:           (null)"):
                # the address itself, which an instruction-fetch fault faulted at
                ev.fields["ip_addr"] = int(m_raw.group(1), 16) if m_raw.group(1) else 0
                return True
        if s.startswith(_REPORT_BODY_STARTS):
            if s.startswith(("Allocated by", "Freed by", "Uninit was", "Last potentially")):
                # later stacks in a KASAN/KMSAN report are not the crash stack; the
                # "Freed by task" stack is kept apart: who freed a used-after-free object
                ctx.mode = "aux_freed" if s.startswith("Freed by") and ev.kind == "kasan" else "aux"
            elif s.startswith(("NMI backtrace", "Sending NMI")) and ctx.mode == "trace":
                ctx.mode = ""
            if s.startswith("ESR = "):
                ev.fields.setdefault("esr", s.split(None, 2)[-1][:40])
            elif c == "x" and (ev.kind == "oops_other" or ev.fields.get("abort_info")):
                # arm64 __show_regs(): "x29: %016llx x28: %016llx ...", kept for the marked
                # instruction's base register (_a64_null_base)
                regs = ev.fields.setdefault("xregs", {})
                for m_reg in _A64_REG.finditer(s):
                    n = int(m_reg.group(1))
                    if n <= 30 and n not in regs:
                        regs[n] = int(m_reg.group(2), 16)
            elif c in "ReE" and not ctx.traces and ev.kind in _X86_FAULT_KINDS and s.startswith(_X86_REG_LINES):
                # x86_64 __show_regs() (i386's too), kept for the marked instruction's memory operand
                # (_x86_access): the dump before the trace is the fault's (one printed inside the
                # trace is an interrupted context's, whose Code: is not the fault's either)
                regs = ev.fields.setdefault("rregs", {})
                for k, v in x86access.register_values(s).items():
                    regs.setdefault(k, v)

            elif s.startswith("CR2:") and len(s.split()) > 1:
                # "CR2: 0000000000000008 CR3: ... CR4: ..." and the lone "CR2: 0000000000000008"
                m_lone = _LONE_CR2.match(s)
                if m_lone:
                    if not ev.fields.get("cr2_summary"):
                        # only a page-fault oops prints it alone, from the fault's saved address
                        # (page_fault_oops: "Executive summary"); the register dump's CR2 is
                        # read_cr2() at dump time, which a fault while reading the code bytes
                        # overwrites ("Code: Unable to access opcode bytes at ..."): the summary wins
                        ev.fields["cr2"], ev.fields["cr2_summary"] = m_lone.group(1), True
                    if ctx.traces and ev.fields.get("header_missing"):
                        ev.fields["die_tail"] = True    # see _after_trace_is_warn
                else:
                    ev.fields.setdefault("cr2", s.split()[1][:40])
            elif s.startswith("CR0:") and " CR2: " in s:
                # i386 __show_regs(): "CR0: %08lx CR2: %08lx CR3: %08lx CR4: %08lx"
                after = s.split(" CR2: ", 1)[1].split()
                if after:
                    ev.fields.setdefault("cr2", after[0][:40])
            elif s.startswith("PGD "):
                ev.fields["pgd"] = True
                if _PGD_EMPTY.match(s):
                    ev.fields["pgd_empty"] = True
            return True
        if ctx.mode == "aux":
            return self._shared.trace_frame(text) is not None
        if ctx.mode == "aux_freed":
            fr = self._shared.trace_frame(text)
            if fr is None:
                return False
            freed = ev.fields.setdefault("freed_frames", [])
            if len(freed) < MAX_FRAMES:
                freed.append(fr)
            return True
        if mode != "trace" and ctx.traces == 0 and (s.startswith("[<") or text.startswith(" ")
                                                   or (ll.number == ev.line and ev.fields.get("header_missing"))):
            # 3.x/arm32 and unsymbolised traces sometimes lack a "Call Trace:" line; a stack
            # pasted without it opens its headerless report with its first frame (_opens_bare_trace)
            fr = self._shared.trace_frame(text, ctx.stack)
            if fr is not None and (s.startswith("[<") or fr.offset is not None or " from " in s):
                self._start_trace(ctx)
                self._add_frame(ctx, ev, fr, text)
                return True
            marked = self._marked_frame(s) if s[:1] == "<" and ll.number == ev.line else None
            if marked is not None:
                self._start_trace(ctx)
                ctx.stack = marked[0]
                self._add_frame(ctx, ev, marked[1], text)
                return True
        if ev.kind in ("oom_invoked",) and text.startswith(("[", " ")) and "]" in s[:12]:
            return meminfo.feed_task_row(ctx.tasks, text) if ctx.tasks is not None else False
        return False

    def _marked_frame(self, s: str) -> Optional[Tuple[str, Frame]]:
        """(stack, frame) of a line holding a context marker and the first frame of that stack:
        2.6-3.x x86_64 dump_trace() prints both on one line (print_trace_stack()'s " <IRQ> "
        has no newline): "<IRQ>  [<ffffffff8112c127>] ? __alloc_pages_nodemask+0x757/0x8d0"."""
        head, _, rest = s.strip().partition(" ")
        marker = CONTEXT_MARKERS.get(head)
        if marker is None or not rest.strip():
            return None
        fr = self._shared.trace_frame(" " + rest.strip(), marker)
        return None if fr is None else (marker, fr)

    def _start_trace(self, ctx: _Ctx) -> None:
        if ctx.mode == "kthread":
            return      # the RCU grace-period kthread's own stack is not the stalled code
        ctx.mode = "trace"
        ctx.stack = "task"
        ctx.traces += 1

    def _add_frame(self, ctx: _Ctx, ev: Event, fr: Frame, text: str = "") -> None:
        # an old arm32 line also names its caller, which the next line repeats as its
        # callee; held until then, and kept as the last frame when no line follows
        ctx.arm_caller = arm32_caller(text, fr.context) if text else None
        if ctx.traces <= 1:
            if len(ev.frames) < MAX_FRAMES:
                ev.frames.append(fr)
                if ctx.share is not None and len(ctx.share.frames) < MAX_FRAMES:
                    ctx.share.frames.append(fr)
        elif ctx.traces <= MAX_TRACES:
            extra = ev.fields.setdefault("extra_traces", [])
            while len(extra) < ctx.traces - 1:
                extra.append([])
            if len(extra[-1]) < MAX_FRAMES:
                extra[-1].append(fr)

    # -- output ----------------------------------------------------------
    def result(self) -> KernelLog:
        for ctx in self._ctx.values():
            self._flush_caller(ctx)
            if ctx.tasks is not None:
                meminfo.finish_tasks(ctx.tasks)
        if self.events and self.events[0].kind == "oops_other" \
                and 0 < self.events[0].line - self._pgd_empty <= _CR2_SUMMARY_GAP:
            # the "PGD 0" walk printed just before the report's first line (its die line)
            self.events[0].fields["pgd"] = self.events[0].fields["pgd_empty"] = True
        if self.events and self.events[0].fields.get("header_missing"):
            if _headerless_is_leftover(self.events, self._names):
                del self.events[0]
            else:
                _name_headerless(self.events[0], self._reps)
                if _bare_stack_listing(self.events[0]):
                    del self.events[0]
        _resolve_cut_tags(self.events, self.facts, self.lines)
        for ev in self.events:
            if (ev.fields.get("die") or ev.fields.get("abort_info")) and "far" not in ev.fields:
                for line, far in self._pte_far:
                    if 0 < ev.line - line <= _PTE_BEFORE_DIE:
                        ev.fields["far"] = "0x" + far
            _mark_lost_header(ev, self._names)
            _name_arm_die(ev)
            _name_unaddressed_arm_fault(ev)
            _name_x86_page_fault_die(ev)
            _name_x86_bug_trap(ev)
            _name_powerpc_bad_area_die(ev)
            _name_null_based_fault(ev)
        if self._last_ts is not None:
            self.facts.uptime_s = self._last_ts
        if len(self.events) > MAX_EVENTS:
            self._cap()
        return KernelLog(lines=self.lines, events=self.events, facts=self.facts, truncated_lines=self.truncated,
                         dropped_events=self.dropped_events)


# A user's shell prompt ("[root@host ~]# ", "user@host:~$ "): a poster's shell kept running.
_SHELL_PROMPT = lazy_compile(r"\[?[\w.-]{1,32}@[\w.-]{1,64}[ :][^\]#$]{0,80}\]?[#$] ")


def _after_no_killable(ev: Event, ll: LogLine) -> bool:
    """Whether `ll`, a line after a bare "Out of memory and no killable processes...",
    shows that the kernel lived on: out_of_memory() calls panic("System is deadlocked on
    memory") right after that warning for a system-wide OOM, so a kernel line a second or
    more later, or the poster's shell prompt, means it returned (a memory cgroup's OOM).
    Once that panic line has followed (merged into `ev`), nothing can: panic() does not
    return, and its own trace printed over a slow serial console can take seconds."""
    if str(ev.fields.get("reason", "")).startswith("System is deadlocked on memory"):
        return False
    if ll.ts is not None and ev.ts is not None:
        return ll.ts - ev.ts >= 1.0
    return ll.ts is None and _SHELL_PROMPT.match(ll.text) is not None


def _lived_on(ev: Event) -> None:
    """Turn a bare no-killable-processes "panic" into the OOM report without a victim it was."""
    ev.kind = "oom_invoked"
    ev.fields["headline"] = "invoked oom-killer"
    ev.fields.pop("oom", None)


def _in_spans(spans: List[Tuple[int, int]]) -> Callable[[int], bool]:
    """A test of whether a line number lies in one of the inclusive `spans`: the spans merged
    into disjoint ones and bisected, O(log n) a line (the store can hold a few hundred
    thousand lines past its kept head, each tested against a few hundred spans)."""
    starts: List[int] = []
    ends: List[int] = []
    for a, b in sorted(spans):
        if ends and a <= ends[-1]:
            ends[-1] = max(ends[-1], b)
        else:
            starts.append(a)
            ends.append(b)

    def inside(number: int) -> bool:
        k = bisect_right(starts, number) - 1
        return k >= 0 and number <= ends[k]
    return inside


def cap_events(events: List[Event]) -> Tuple[List[Event], int]:
    """Keep the first EVENTS_HEAD and last EVENTS_TAIL events and, from between
    them, the first event of each kind; return the kept list and how many were dropped."""
    if len(events) <= MAX_EVENTS:
        return events, 0
    head, middle, tail = events[:EVENTS_HEAD], events[EVENTS_HEAD:-EVENTS_TAIL], events[-EVENTS_TAIL:]
    seen = {ev.kind for ev in head}
    kept: List[Event] = []
    for ev in middle:
        if ev.kind not in seen:
            seen.add(ev.kind)
            kept.append(ev)
    return head + kept + tail, len(middle) - len(kept)


_ARM64_PTE_ADDR = lazy_compile(r"\[([0-9a-fA-F]{16})\]")
_ARM_SHOW_PTE = lazy_compile(r"\[([0-9a-fA-F]{8,16})\] (?:\*?pgd=|address between |user address but active_mm is swapper)")
# Frames per event and module names looked at to resolve cut module tags (bounded work).
MAX_CUT_FRAMES = 256
MAX_CUT_NAMES = 4096
MAX_CUT_LINES = 20000
# A whole symbol on a kept line: name, offset/size, and its module tag when it has one.
_WHOLE_SYM = lazy_compile(r"(?<![\w.$])([A-Za-z_.$][\w.$]{0,200})\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16}\)?"
                          r"(?: \[([\w-]{1,64})(?: [0-9a-f]{16,128})?\])?")
# How many lines before an arm die() line its show_pte() lines may be (pgd, pud/pmd/pte on
# arm32, "Internal error" right after)
_PTE_BEFORE_DIE = 8
# show_pte() lines kept (a fault prints at most 4): a log of nothing but such lines must not
# grow the list, nor result()'s walk of it per event, without bound
MAX_PTE_LINES = 4096

# ESR_ELx exception classes of a kernel memory abort (arch/arm64/include/asm/esr.h:
# ESR_ELx_EC_IABT_LOW 0x20, IABT_CUR 0x21, DABT_LOW 0x24, DABT_CUR 0x25)
_ESR_ABORT_CLASSES = (0x20, 0x21, 0x24, 0x25)


def _arm_code(ev: Event) -> Optional[int]:
    for key in ("esr", "die_code"):
        raw = str(ev.fields.get(key) or "").strip()
        try:
            return int(raw, 16) if raw else None
        except ValueError:
            continue
    return None


def _mark_lost_header(ev: Event, names: ParserNames) -> None:
    """Mark a report opened by a line the kernel prints only after a report header of its own
    ([parser] lost_header_openers), or by the "KASAN: ... in range [...]" line
    kasan_non_canonical_hook() adds after x86 die_addr()'s "general protection fault" line
    (arm64: after die_kernel_fault()'s "Unable to handle kernel" line): it lost that header."""
    opener = ev.text.lstrip()
    if opener.startswith(names.lost_header_openers) or (ev.fields.get("kasan_range") and opener.startswith("KASAN: ")):
        ev.fields["header_missing"] = True


def _name_arm_die(ev: Event) -> None:
    """Name an arm/arm64 report opened by its die() or "Mem abort info" line (its
    "Unable to handle kernel ..." line absent): a plain "Oops" is a kernel fault
    (arm32 __do_kernel_fault() dies only with "Oops"; arm64 die_kernel_fault()
    with the ESR, whose exception class says data/instruction abort), a NULL
    dereference when the show_pte()/"Unhandled fault at" address is near NULL or, with no
    address, when the marked load/store's base register holds NULL (_a64_null_base,
    _arm_null_base), else at the address the arm64 load/store formed (_a64_access_address);
    an "Oops - BUG" die line after show_pte()'s lines is that fault too, and so is a KASAN
    "in range" line (x86's GPF wording) followed by the arm64 abort decode.
    Either way the report is marked header_missing."""
    if ev.kind == "gpf" and ev.fields.get("kasan_range") and ev.fields.get("abort_info") \
            and ev.fields.get("kasan_range") != "null-ptr-deref":
        # arm64 die_kernel_fault() calls kasan_non_canonical_hook() too, after its "Unable to
        # handle kernel ..." line and before mem_abort_decode()'s "Mem abort info:": a kernel data
        # abort, not x86's general protection fault (die_addr())
        ev.kind = "oops_other"
    if ev.kind == "kernel_bug" and ev.fields.get("die") and ev.fields.get("far") \
            and ev.text.lstrip().startswith("Internal error: "):
        # a die line that words itself a BUG ("Oops - BUG: 17") right after show_pte()'s lines:
        # only the fault path (__do_kernel_fault) prints show_pte() before dying; BUG() does not
        _name_fault(ev, "far", "BUG: unable to handle kernel paging request")
        ev.fields["header_missing"] = True
        return
    if ev.kind != "oops_other" or not (ev.fields.get("die") or ev.fields.get("abort_info")):
        return
    die = str(ev.fields.get("die") or "")
    code = _arm_code(ev)
    if code is not None and code >= 0x10000:      # an arm64 ESR (arm32 FSRs are below 0x800)
        abort = (code >> 26) & 0x3f in _ESR_ABORT_CLASSES
    else:
        abort = die == "Oops" or bool(ev.fields.get("abort_info"))
    if not abort:
        return
    if not ev.fields.get("far") and (_a64_null_base(ev) or _arm_null_base(ev)):
        # no show_pte() address: the load/store at pc went through a NULL base register
        ev.kind, ev.fields["headline"] = "null_deref", "BUG: kernel NULL pointer dereference"
    elif not ev.fields.get("far") and (addr := _a64_access_address(ev)) is not None:
        # no show_pte() address: the data abort was on the address the marked load/store formed
        # from its registers, as a kernel engineer works it out by hand
        _name_fault_at(ev, addr, "BUG: unable to handle kernel paging request")
    else:
        _name_fault(ev, "far", "BUG: unable to handle kernel paging request")
    # die_kernel_fault() (arm64) and __do_kernel_fault() (arm) print "Unable to handle kernel
    # ... at virtual address" before the abort decode, show_pte() and die(): that line is lost
    ev.fields["header_missing"] = True


def _resolve_cut_tags(events: List[Event], facts: SystemFacts, lines: Sequence[LogLine]) -> None:
    """Complete the frames a terminal or pager cut, from what the log prints whole elsewhere.

    * a cut `[module]` tag ("[nvidia_uv"): a tag is the module's name, so its start stands for
      the one module, among the log's whole tags and its `Modules linked in:` lists, whose name
      it begins;
    * a tag cut off entirely (the line ends inside "+0x7bc/", or at " ["): a function lives in
      one module, so a whole `func+0x../0x.. [mod]` of the same function names it;
    * a function name cut ("at: xfs_file_buffere"): the one function the log prints whole
      (`name+0x../0x..`) whose name it begins, with that frame's module.

    Left as they are when no candidate or several ("[d": drm, drm_kms_helper)."""
    cut = [fr for ev in events for fr in ([ev.ip] if ev.ip is not None else []) + ev.frames[:MAX_CUT_FRAMES]
           if fr.module is None and (fr.module_cut is not None or fr.name_cut)]
    if not cut:
        return
    names = {m.name.replace("-", "_") for m in facts.modules[:MAX_CUT_NAMES]}
    for ev in events:
        for m in ev.fields.get("modules") or ():
            if len(names) >= MAX_CUT_NAMES:
                break
            names.add(m.name.replace("-", "_"))
    module_of: Dict[str, Optional[str]] = {}      # function -> its one tag (None: several, or none)
    for i, ll in enumerate(lines):
        if i >= MAX_CUT_LINES or len(module_of) >= MAX_CUT_NAMES:
            break
        text = ll.text
        if "+0x" not in text:
            continue
        for m in _WHOLE_SYM.finditer(text, 0, 600):
            fn, mod = m.group(1), m.group(2)
            if mod:
                mod = mod.replace("-", "_")
                if len(names) < MAX_CUT_NAMES:
                    names.add(mod)
            if fn not in module_of:
                module_of[fn] = mod
            elif module_of[fn] != mod:
                module_of[fn] = None
    ordered = sorted(names)
    functions = sorted(module_of)
    for fr in cut:
        if fr.name_cut:
            whole = _one_starting_with(functions, fr.function)
            if whole is None or whole == fr.function:
                continue
            fr.function = whole
            fr.name_cut = False
        start = (fr.module_cut or "").replace("-", "_")
        own = module_of.get(fr.function)
        if own and own.startswith(start):
            # the same function printed whole with its tag elsewhere in the log
            fr.module = own
        elif start:
            found = _one_starting_with(ordered, start)
            if found is not None:
                fr.module = found


def _one_starting_with(ordered: List[str], start: str) -> Optional[str]:
    """The one string of sorted `ordered` that begins with `start`, None when none or several do."""
    k = bisect_left(ordered, start)
    found = ordered[k:k + 2]
    if found and found[0].startswith(start) and (len(found) == 1 or not found[1].startswith(start)):
        return found[0]
    return None


def _name_unaddressed_arm_fault(ev: Event) -> None:
    """An arm/arm64 "Unable to handle kernel paging request at virtual address %08lx" line
    whose address was lost (the line wrapped or cut after "virtual"): show_pte() prints
    the same faulting address on its "[%016lx] pgd=" line (arch/arm64/mm/fault.c,
    arch/arm/mm/fault.c), so that address decides NULL dereference against paging fault."""
    if ev.kind != "paging_fault" or ev.fields.get("address") is not None or not ev.fields.get("far"):
        return
    ev.fields.pop("address", None)
    _name_fault(ev, "far", str(ev.fields.get("headline") or "BUG: unable to handle kernel paging request"))


def _name_fault(ev: Event, addr_field: str, paging_headline: str) -> None:
    """Make `ev` the fault its faulting address (hex in `addr_field`) says: a NULL
    dereference when near NULL, else a paging fault headed `paging_headline`."""
    _name_fault_at(ev, _hex(ev.fields.get(addr_field)), paging_headline)


def _name_fault_at(ev: Event, addr: Optional[int], paging_headline: str) -> None:
    """Make `ev` the fault at `addr`: a NULL dereference near NULL, else a paging fault headed
    `paging_headline`. Without an address, the marked x86 instruction's access gives it
    (_x86_access); without that either, _assume_null_fault."""
    if addr is None:
        addr = _x86_access(ev)
    if addr is None:
        _assume_null_fault(ev)
        return
    ev.fields.setdefault("address", addr)
    _set_fault_kind(ev, is_near_null(addr), paging_headline)


def _set_fault_kind(ev: Event, near_null: bool, paging_headline: str) -> None:
    if near_null:
        ev.kind, ev.fields["headline"] = "null_deref", "BUG: kernel NULL pointer dereference"
    else:
        ev.kind, ev.fields["headline"] = "paging_fault", paging_headline


def _assume_null_fault(ev: Event) -> None:
    """Name a kernel page fault whose address the excerpt does not hold (its header, the CR2
    summary and the page-table walk all cut off) by the base rate: most kernel page faults
    are NULL dereferences (108 of the 137 page-fault reports with an address in the posted
    corpus's tuning half, 79%), so that is the reading taken, marked `address_unknown` for
    the report to say it was assumed, not read."""
    ev.kind, ev.fields["headline"] = "null_deref", "BUG: kernel NULL pointer dereference"
    ev.fields["address_unknown"] = True


# x86 page_fault_oops() dies with "Oops": __die_header() prints "Oops: %04lx [#%d]" with the
# page-fault error code (6.12+: "Oops: Oops: %04lx [#%d]"). No other x86 die() string is
# "Oops", and other architectures word it otherwise ("Internal error: Oops: 17 [#1]" on arm,
# "Oops: Kernel access of bad area, sig: 11" on powerpc, "ilc:" on s390). 2.4's i386 die()
# printed "%s: %04lx" with no counter (its mm/fault.c dies with "Oops" too).
_X86_PF_DIE = lazy_compile(r"Oops: (?:Oops: )?([0-9a-fA-F]{4})(?: \[#\d{1,4}\]|\s*$)")


# powerpc __bad_page_fault() (arch/powerpc/mm/fault.c) dies with die("Kernel access of bad
# area", regs, sig): __die() prints "Oops: Kernel access of bad area, sig: %ld [#%d]". Only a
# kernel page fault says so; its address is the DAR show_regs() prints for a data access.
_PPC_BAD_AREA_DIE = "Oops: Kernel access of bad area"
_PPC_DAR = lazy_compile(r"\b(?:DAR|DEAR): ([0-9a-fA-F]{8,16})\b")


def _name_powerpc_bad_area_die(ev: Event) -> None:
    """Name a report opened by powerpc's page-fault die line alone (its "BUG: Kernel NULL
    pointer dereference on read at ..." / "Unable to handle kernel paging request for data"
    line absent): a kernel page fault, a NULL dereference when the DAR is near NULL."""
    if ev.kind != "oops_other":
        return
    line = str(ev.fields.get("oops") or ev.fields.get("detail") or "")
    if line.startswith(_PPC_BAD_AREA_DIE):
        _name_fault(ev, "dar", "BUG: unable to handle kernel paging request")


def _name_x86_page_fault_die(ev: Event) -> None:
    """Name a report opened by x86's page-fault die line alone (its "BUG: ..." and "#PF:"
    lines absent): a kernel page fault (_name_x86_fault says which). page_fault_oops()
    always prints show_fault_oops()'s "BUG: ..." line before it, so the header is missing."""
    if ev.kind != "oops_other":
        return
    line = str(ev.fields.get("oops") or ev.fields.get("detail") or "")
    m = _X86_PF_DIE.match(line)
    if m is None:
        return
    ev.fields["pf_error_code"] = int(m.group(1), 16)
    _name_x86_fault(ev)
    ev.fields["header_missing"] = True


def _name_x86_bug_trap(ev: Event) -> None:
    """Name a report opened by x86's "invalid opcode: %04lx [#%d]" die line whose Code: marks a
    ud2 at RIP: BUG(). BUG() and WARN() both execute ud2 and report through report_bug() (4.11+),
    but a WARN returns from the trap (handle_bug() skips the ud2) and never reaches die(); before
    4.11 WARN() printed its report without a trap. So the #UD die line with ud2 at RIP is a BUG()
    whose "kernel BUG at %s:%u!" line was lost. Another marked instruction (a jump into data) or
    no code bytes leave it an invalid opcode."""
    if ev.kind != "oops_other" or ev.fields.get("headline") != "invalid opcode":
        return
    if (_x86_marked_insn(str(ev.fields.get("code") or "")) or [])[:2] != [0x0f, 0x0b]:
        return
    ev.kind, ev.fields["headline"] = "kernel_bug", "kernel BUG"
    ev.fields["header_missing"] = True


# x86 page-fault error code bit of an instruction fetch (arch/x86/include/asm/trap_pf.h
# X86_PF_INSTR), printed as the die line's "Oops: %04lx" and decoded by show_fault_oops()
# as "#PF: supervisor instruction fetch in kernel mode" / "error_code(0x%04lx)".
_X86_PF_INSTR = 0x10


def _x86_instruction_fetch(ev: Event) -> bool:
    if any("instruction fetch" in str(p) for p in ev.fields.get("pf") or ()):
        return True
    code = ev.fields.get("pf_error_code")
    return isinstance(code, int) and bool(code & _X86_PF_INSTR)


def _x86_fault_address(ev: Event) -> Optional[int]:
    """The address an x86 kernel page fault (its header lost) faulted at, from what the
    report still prints: the lone "CR2:" summary (page_fault_oops() prints the saved fault
    address); for an instruction fetch the IP itself (the CPU faulted fetching at RIP, so
    "RIP: 0010:0x0" is a call through a NULL pointer); else the register dump's CR2 unless
    the code-bytes read faulted after the oops and overwrote it. None when nothing says."""
    f = ev.fields
    if f.get("cr2_summary"):
        return _hex(f.get("cr2"))
    if _x86_instruction_fetch(ev) and isinstance(f.get("ip_addr"), int):
        return int(f["ip_addr"])
    if str(f.get("code") or "").startswith(_OPCODES_UNREADABLE):
        return None
    return _hex(f.get("cr2"))


def _hex(raw: Any) -> Optional[int]:
    try:
        return int(str(raw), 16) if raw else None
    except ValueError:
        return None


def _name_x86_fault(ev: Event) -> None:
    """Make a headerless x86 page-fault report the fault its address says (_x86_fault_address):
    a NULL dereference near NULL, else a paging fault. Without any address, dump_pagetable()'s
    "PGD 0" (an empty top-level entry: a user-half address, see _PGD_EMPTY) says NULL; without
    that, _name_fault_at (the marked instruction's access, else _assume_null_fault). Another
    PGD entry is no evidence: the kernel half's are always present, and so is NULL's for a
    process with anything mapped in the lowest 512 GiB (a non-PIE binary, a low heap); of the
    posted tuning half's faults with an address and a non-empty walk, 12 are near NULL, 7 not."""
    addr = _x86_fault_address(ev)
    if addr is None and ev.fields.get("pgd_empty"):
        _set_fault_kind(ev, True, "BUG: unable to handle page fault")
    else:
        _name_fault_at(ev, addr, "BUG: unable to handle page fault")


# The lone page-fault summary line (arch/x86/mm/fault.c: "CR2: %016lx"), and how far
# before a headerless register dump it may be (it, the end marker, then the dump).
_LONE_CR2 = lazy_compile(r"CR2: ([0-9a-fA-F]{8,16})\s*$")
_CR2_SUMMARY_GAP = 3
# x86 dump_pagetable() (arch/x86/mm/fault.c, called from show_fault_oops() for page faults
# only) walks from the top: "PGD %lx " then P4D/PUD/PMD/PTE while an entry is present.
# "PGD 0" says the address's top-level entry is empty. The kernel half's top-level entries
# are always there (every page table shares them with init_mm), so the address is in the
# user half with nothing mapped in its 512 GiB: in a kernel fault, a NULL pointer plus an
# offset (the posted corpus labels such faults NULL dereferences; of the tuning half's
# "PGD 0" faults whose header kept the address, 34 of 36 are below NEAR_NULL_LIMIT).
# Evidence only when no address is printed (header and CR2 both lost).
_PGD_EMPTY = lazy_compile(r"PGD 0(?: |$)")
# A kernel IP no symbol covers: show_regs()'s "RIP: %04x:%pS" of an unsymbolised address
# ("RIP: 0010:0x0", 3.x "RIP: 0010:[<0000000000000000>]  [<          (null)>]"), and 2.6-4.x
# show_fault_oops()'s "IP: [<%p>] %pS" / "IP: %pS" of one ("IP:           (null)").
_RAW_IP = lazy_compile(r"(?:RIP: [0-9a-fA-F]{4}:|IP: )\s*(?:\[<\s*)?(?:0x)?(?:([0-9a-fA-F]{1,16})|\(null\))"
                       r"(?:>\])?(?:\s+\[<\s*(?:[0-9a-fA-F]{1,16}|\(null\))>\])?(?:\s+\(null\))?\s*$")
# show_opcodes() (arch/x86/kernel/dumpstack.c) when the code bytes at RIP cannot be read:
# "Code: Unable to access opcode bytes at 0x%lx." (5.10+; "Bad RIP value." before). The
# failed read faults at that address, so the register dump's CR2 printed after it is that
# read's address, not the oops'.
_OPCODES_UNREADABLE = ("Unable to access opcode bytes", "Bad RIP value")
_ARM64_BRK = "Unexpected kernel BRK exception"
# Lines between an oops' last line and the atomic-sleep BUG its exiting task prints.
_AFTER_EFFECT_GAP = 2

# The instruction words arm/arm64/mips __die() prints after an oops' trace ("Code: d2800001
# f9400020 (b9400021)"; their WARN prints none). x86 prints bytes ("Code: 0f 0b <0f> 0b"), and
# after the trace both for an oops (2.6-4.x) and for a WARNING with registers (4.11-4.18).
_ARM_CODE_WORDS = lazy_compile(r"Code: (?:bad PC value|\(?[0-9a-fA-F]{4,16}\)?(?: |$))")


def _opens_trace(text: str, fr: Optional[Frame]) -> bool:
    """A line that can only be a call-trace frame: one with a `[<addr>]` or `?` mark, or a
    function with its `+0xoff/0xsize` (plain indented words are not enough)."""
    if fr is None:
        return False
    return text.lstrip()[:1] in "[?" or fr.offset is not None or " from " in text


def _opens_bare_trace(text: str, fr: Optional[Frame]) -> bool:
    """A line that can open a stack pasted without its header: an indented or `[<addr>]` trace
    line (_opens_trace), or a whole line that is one `func+0xoff/0xsize [mod]` (`? ` marked or
    not) without its indentation: printk's "%pS" in that form is what a trace prints per frame,
    and the paste (journald, a dedented quote, a lost blank after the stamp) dropped the blank."""
    if fr is None:
        return False
    if text[:1] == " " or text.startswith("[<"):
        return _opens_trace(text, fr)
    return fr.offset is not None and fr.size is not None


def _summary_kill(hdr: Header) -> Header:
    """The OOM killer's one-line summary ("oom-kill:constraint=...,task=%s,pid=%d,uid=%d")
    read as the kill it announces, for a summary with no report before it."""
    f = hdr.fields
    fields: Dict[str, Any] = {"victim_comm": f.get("task", ""), "summary_only": True,
                              "memcg": f.get("constraint") == "CONSTRAINT_MEMCG"}
    pid = str(f.get("pid", "")).strip()
    if pid.isdigit():
        fields["victim_pid"] = int(pid)
    for k in ("constraint", "oom_memcg", "task_memcg"):
        if k in f:
            fields[k] = f[k]
    return Header("oom_kill", "oom-kill", fields)


def _bare_stack_listing(ev: Event) -> bool:
    """A headerless "oops" that is only a list of stack frames, none of them marked
    unreliable ('?') and none a reporting frame (_name_headerless found no report kind),
    with nothing an exception report prints (no RIP/pc/IP, no #PF decode or CR2, no
    Code: bytes, no CPU/comm/taint line): a task's stack as /proc/<pid>/stack shows it
    ("[<addr>] func+0x../0x.. [mod]", fs/proc/base.c proc_pid_stack), read by the user,
    not a report the kernel made. arm32's "(f) from (g)" unwinder lines are kernel
    output and stay."""
    if ev.kind != "oops_other" or not ev.frames or ev.ip is not None:
        return False
    if " from " in ev.text:
        return False
    f = ev.fields
    if f.get("pf") or f.get("cr2") or f.get("code") or ev.cpu is not None or ev.comm or ev.taint:
        return False
    if not ev.text.lstrip().startswith("[<"):
        return False
    return all(fr.reliable for fr in ev.frames)


def _headerless_is_leftover(events: List[Event], names: ParserNames) -> bool:
    """A headerless start is the tail of an earlier report the log was cut from,
    not the crash the input is about, when a report with its own header follows;
    except the panic die() prints after an oops ([parser] die_panic_reasons), when the
    headerless part holds a call trace (the report proper, not a few stray register lines)."""
    first = events[0]
    for ev in events[1:]:
        if ev.kind in ("meminfo", "reboot"):
            continue
        if ev.kind == "panic" and first.frames and str(ev.fields.get("reason", "")).startswith(names.die_panic_reasons):
            continue
        if (ev.kind == "atomic_sleep" and first.ip is not None and first.fields.get("cr2_summary")
                and 0 <= ev.line - first.end_line <= _AFTER_EFFECT_GAP):
            # the oopsing task exits (make_task_dead -> do_exit) with the oops' atomic
            # context still held: the sleeping-in-atomic BUG right after is its after-effect
            continue
        if first.ip is not None and _died_between(first, ev):
            # the later report's taint gained D (TAINT_DIE, set by oops_end()/die() once the
            # oops is printed) since the headerless report's own task line: that report was
            # the oops, the later one runs after it
            continue
        if first.ip is not None and _oops_exit_stack(ev, names):
            # a report from the exit path only an oopsing task takes ([parser] oops_exit_frames):
            # the after-effect of the headerless oops before it, wherever its lines end
            continue
        return True
    return False


def _died_between(first: Event, later: Event) -> bool:
    """Whether the taint flags a later report prints hold D (TAINT_DIE) and those of the
    headerless report's own "CPU: ... Tainted:" line do not: a die() came in between."""
    before, after = first.taint, later.taint
    if before is None or after is None or not first.fields.get("cpu_line"):
        return False
    return "D" not in _taint_letters(before) and "D" in _taint_letters(after)


def _taint_letters(taint: str) -> str:
    """The flag letters of a "Tainted: G    B D W" field ("Not tainted" reads as "G")."""
    return "".join(ch for ch in taint.split("[", 1)[0] if ch.isalpha() and ch.isupper())


def _oops_exit_stack(ev: Event, names: ParserNames) -> bool:
    """Whether a report's stack runs through the exit path of a task an oops killed ([parser]
    oops_exit_frames: x86 oops_end()'s rewind_stack_and_make_dead, make_task_dead)."""
    return any(f.function.split(".", 1)[0] in names.oops_exit_frames for f in ev.frames[:MAX_EXIT_FRAMES])


# How deep an after-effect's stack is searched for the oops exit path (the may-sleep check's
# stack: dump_stack, __might_sleep, the sleeping call, do_exit, the exit path: 5-12 frames).
MAX_EXIT_FRAMES = 24


def _nvidia_gsp_rpc_dump(ev: Event, pn: ParserNames) -> bool:
    """The headerless trace is a stack the NVIDIA driver dumped itself: its dump_stack()
    wrapper ([parser] nvidia_dump_stack), maybe under its assert helper (nvidia_assert),
    called from its GSP RPC poll (nvidia_gsp_rpc_poll), which dumps the stack only while
    logging an RPC failure, the Xid 119 report: not an oops."""
    names = [f.function for f in ev.frames[:8] if f.reliable]
    at = next((i for i, n in enumerate(names) if n in pn.nvidia_dump_stack), None)
    if at is None:
        return False
    k = at + 1
    if k < len(names) and names[k] in pn.nvidia_assert:
        k += 1      # not inlined: os_dump_stack <- osAssertFailed <- the GSP report
    return k < len(names) and names[k].startswith(pn.nvidia_gsp_rpc_poll)


def _panic_stack(frames: List[Frame], names: ParserNames) -> bool:
    """panic() dumps the stack of its caller (kernel/panic.c: dump_stack() unless the report
    before it printed one): a bare stack whose first frame past the dumping ones ([parser]
    stack_dumpers) is panic() ([parser] panic_functions) is the panic's, its "Kernel panic -
    not syncing" line cut. When a frame below is a report that panics on purpose ([parser]
    panicking_reports: panic_on_warn, die(), the OOM killer, a watchdog), that report names
    the stack instead."""
    for i, f in enumerate(frames):
        name = f.function.split(".", 1)[0]
        if name.startswith(names.stack_dumpers):
            continue
        if name not in names.panic_functions:
            return False
        below = [g.function for g in frames[i + 1:i + 4]]
        return not any(b.startswith(names.panicking_reports) for b in below)
    return False


def _after_trace_is_warn(ev: Event) -> bool:
    """A stack with no faulting location that ends in the end marker with nothing an oops
    prints after its trace: kernel/panic.c __warn() prints the modules and registers first,
    then the trace, print_irqtrace_events() ("irq event stamp:", lockdep builds) and
    print_oops_end_marker(); either after the trace is __warn()'s tail. A die() prints the
    modules after the trace on x86 (__die_body(): show_regs(), print_modules()), then a lone
    "CR2:" for a page fault, and the registers again after the end marker (oops_end(), 4.15+);
    arm/arm64 __die() prints its instruction words ("Code:") after the trace. x86's "Code:"
    bytes follow the trace of an oops (2.6-4.x) and of a WARNING (4.11-4.18) alike, and 2.6-4.x
    x86's "RIP  [<addr>] func" summary after an oops' trace is read as its faulting location."""
    f = ev.fields
    ended = f.get("end_marker") or f.get("irq_stamp")
    return bool(ended) and not f.get("die_tail") and _no_fault_ip(ev) and bool(ev.frames)


def _no_fault_ip(ev: Event) -> bool:
    """No faulting location was read: no register line, or only one printed inside the trace."""
    return ev.ip is None or bool(ev.fields.get("trace_regs"))


def _name_headerless(ev: Event, reps: Reporters) -> None:
    """The kind of an oops without its header, from what the body shows: x86 page-fault
    evidence (_x86_page_fault_body: a page fault, _name_x86_fault gives the address), the
    reporting frames atop the trace ([[report_frames]] in signatures/lists.toml,
    triage.events.reporters), __warn()'s order of printing, the memory state a memory report
    prints after its stack, else the instruction the code bytes mark (an arm64/arm load or
    store through a NULL base, _a64_null_base/_arm_null_base; an x86 protection fault,
    _x86_protection_fault_code with _stale_user_cr2)."""
    if ev.kind != "oops_other":
        return
    if not _x86_page_fault_body(ev):
        if ev.ip is None and _nvidia_gsp_rpc_dump(ev, reps.names):
            ev.kind, ev.fields["headline"] = "nvrm_xid", "NVRM: Xid 119"
            ev.fields.update({"xid": 119, "detail": "GSP RPC timeout (stack dumped by the driver)", "module": "nvidia"})
            return
        if ev.ip is None and ev.fields.get("atomic_ctx"):
            # the "in_atomic(): ..." line above the stack is printed by the may-sleep checks
            # only (_ATOMIC_CTX), with no register dump: the stack is that report's, whatever
            # its top frame (a WARN_ONCE inside __might_sleep prints a WARNING header and no
            # such line)
            ev.kind, ev.fields["headline"] = "atomic_sleep", "BUG: sleeping function called from invalid context"
            return
        # the reporting frames at the top of the trace say which report it was
        r = reps.report_of(ev.frames, ev.ip is not None, bool(ev.fields.get("end_marker")))
        if r is not None and r.kind == "hung_task" and ev.fields.get("task_state", "D") != "D":
            # check_hung_task() reports tasks in uninterruptible sleep (state D) only; a stack
            # sched_show_task() printed under another state (a running holdout of an RCU-tasks
            # stall, sysrq's task list) switched out without hanging
            r = None
        if r is not None:
            if r.kind in ("paging_fault", "null_deref"):
                _name_fault(ev, "cr2", r.headline)
                return
            ev.kind, ev.fields["headline"] = r.kind, r.headline
            if r.reason is not None:
                ev.fields["reason"] = r.reason
            return
        if _panic_stack(ev.frames[:12], reps.names):
            ev.kind, ev.fields["headline"] = "panic", "kernel panic"
            ev.fields.setdefault("reason", "")
            return
        if _after_trace_is_warn(ev):
            # the WARNING's location is the trace's innermost frame: registers printed inside
            # the trace are the context its interrupt found running
            ev.kind, ev.fields["headline"], ev.ip = "warning", "WARNING", None
        elif ev.ip is None and ev.fields.get("show_mem"):
            # mm/page_alloc.c warn_alloc() and mm/oom_kill.c dump_header() print the memory
            # state (show_mem(): "Mem-Info:", "Mem-info:" before 3.x) right after their
            # dump_stack(); no oops prints it. The OOM killer then lists the tasks (its kill
            # line, a report of its own, makes this stack a leftover: _headerless_is_leftover)
            if ev.fields.get("tasks"):
                ev.kind, ev.fields["headline"] = "oom_invoked", "invoked oom-killer"
            else:
                ev.kind, ev.fields["headline"] = "alloc_failure", "page allocation failure"
        elif ev.ip is not None and (_a64_null_base(ev) or _arm_null_base(ev)):
            ev.kind, ev.fields["headline"] = "null_deref", "BUG: kernel NULL pointer dereference"
        elif ev.ip is not None and (access_kind := _x86_access_kind(ev)) is not None:
            ev.kind, ev.fields["headline"] = access_kind
        elif ev.ip is not None and not ev.fields.get("trace_regs") \
                and x86access.marked_mnemonic(str(ev.fields.get("code") or ""), ev.fields.get("rregs")) in _X86_RETURNS:
            # a fault with RIP at a return: its only data access is the stack, and a return to an
            # unmapped canonical address faults at that address (RIP there), so what faults on
            # the ret itself is the #GP of a non-canonical return address (a corrupted function
            # pointer through a retpoline thunk, a smashed stack)
            ev.kind, ev.fields["headline"] = "gpf", "general protection fault"
        elif _null_ip(ev):
            # the CPU ran at NULL plus an offset: only a call or jump through a NULL pointer
            # gets there, and fetching the instruction faults (an x86 "#PF: supervisor
            # instruction fetch", its header and decode cut)
            ev.kind, ev.fields["headline"] = "null_deref", "BUG: kernel NULL pointer dereference"
            ev.fields.setdefault("address", ev.fields["ip_addr"])
        elif ev.ip is not None and (cr2 := _x86_null_cr2(ev)) is not None:
            ev.kind, ev.fields["headline"] = "null_deref", "BUG: kernel NULL pointer dereference"
            ev.fields.setdefault("address", cr2)
        elif ev.ip is not None and _x86_protection_fault_code(str(ev.fields.get("code") or "")) \
                and _stale_user_cr2(str(ev.fields.get("cr2") or "")):
            ev.kind, ev.fields["headline"] = "gpf", "general protection fault"
        elif ev.ip is not None and (insn := _x86_unaddressed_access(ev)) is not None:
            ev.fields.setdefault("access", insn)
            _assume_null_fault(ev)
        elif ev.ip is not None and ev.fields.get("header_missing") and not ev.fields.get("die_tail") \
                and _x86_warn_ud2(str(ev.fields.get("code") or "")):
            ev.kind, ev.fields["headline"] = "warning", "WARNING"
        elif ev.ip is not None and _unnamed_fault(ev):
            # a faulting location with nothing to say which exception it was: the excerpt lost
            # the header and die line; most oopses are NULL dereferences, so that kind is taken
            # and said to be assumed. Of the posted tuning half's excerpts this reading applies
            # to (whole, cut after the header, cut after the page-fault lines too), 15 of 25 are
            # NULL dereferences; 3 other GPU faults, 3 GPFs, 2 WARNINGs, a BUG and a paging fault
            # are the rest. The "Oops" fallback it replaces fitted 4 of them.
            _assume_null_fault(ev)
            ev.fields["kind_unknown"] = True
        return
    _name_x86_fault(ev)


# x86 show_opcodes() marks the byte at the faulting RIP "<%02x>". A fault (not a trap)
# leaves RIP at the faulting instruction, so the marked bytes are the instruction that raised
# the exception whose die line ("%s: %04lx [#%d]") was lost:
# ud2 (0f 0b) raises #UD, "invalid opcode" (BUG(), or WARN()'s report_bug);
# div/idiv (f6/f7 with ModRM reg 6 or 7, after legacy/REX prefixes) raise #DE, "divide error".
# Any other instruction, with no page-fault line left (_x86_page_fault_body) and a CR2 that
# only a user page fault wrote (_stale_user_cr2), raised a protection fault: #GP for a
# non-canonical address (a corrupted pointer), the x86 die() that remains once #PF, #UD and
# #DE are ruled out (the rare #SS is triage's gpf kind too).
_X86_PREFIXES = frozenset([0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65] + list(range(0x40, 0x50)))


def _null_ip(ev: Event) -> bool:
    """Whether a headerless report's faulting location is a raw kernel IP near NULL
    ("RIP: 0010:0x0", "IP: (null)"), not one printed inside its trace."""
    addr = ev.fields.get("ip_addr")
    return ev.ip is None and isinstance(addr, int) and is_near_null(addr) and not ev.fields.get("trace_regs")


def _x86_null_cr2(ev: Event) -> Optional[int]:
    """The register dump's CR2 of a headerless x86 oops of unknown kind when it is NULL plus an
    offset, and nothing says the oops was another exception: its marked instruction (if any)
    is neither ud2 nor div, and the code bytes were read (a failed read overwrites CR2). Only
    page faults write CR2 (arch/x86/mm/fault.c), and user space cannot fault near NULL without
    a SIGSEGV (mmap_min_addr keeps the lowest pages unmapped): a CR2 there is the kernel's own
    NULL dereference, the fault whose "BUG: kernel NULL pointer dereference" header was cut."""
    if ev.fields.get("trace_regs"):
        return None
    raw = str(ev.fields.get("cr2") or "").strip()
    addr = _hex(raw)
    if addr is None or not is_near_null(addr):
        return None
    code = str(ev.fields.get("code") or "")
    if code.startswith(_OPCODES_UNREADABLE):
        return None
    if _x86_marked_insn(code) is not None and not _x86_protection_fault_code(code):
        return None     # ud2 (BUG/WARN) or div: a trap, not a page fault
    if x86access.reaches_memory(code, ev.fields.get("rregs")) is False:
        return None     # no memory operand: the instruction at RIP cannot have faulted there
    if _x86_accesses(ev):
        # the marked instruction's operands, computed from the registers shown, are not near
        # NULL (_x86_access_kind took those): a page fault on it would have left one of them
        # in CR2, so this CR2 is an earlier fault's (a user program's own NULL SIGSEGV also
        # writes it) and says nothing about this oops
        return None
    return addr


def _x86_unaddressed_access(ev: Event) -> Optional[str]:
    """The marked instruction's text when a headerless x86 oops of unknown kind faulted on a
    memory access whose address the excerpt lost: the instruction (neither ud2 nor div) loads
    or stores through a register the dump does not show (x86access.register_access; with the
    register shown, _x86_access_kind decides), and no CR2 is left to say more (a stale user
    CR2 makes it a protection fault, _stale_user_cr2; a kernel-half one may be a silently
    handled fault's). The fault is a page fault or a #GP on that access; its address is then
    taken by the base rate (_assume_null_fault)."""
    code = str(ev.fields.get("code") or "")
    if ev.fields.get("trace_regs") or ev.fields.get("cr2") or not _x86_protection_fault_code(code):
        return None
    if _x86_accesses(ev) is not None:
        # the dump shows the registers: the address was read (_x86_access_kind), and one that
        # is neither near NULL nor non-canonical names no kind; the base rate is for lost ones
        return None
    return x86access.register_access(code, ev.fields.get("rregs"))


def _unnamed_fault(ev: Event) -> bool:
    """Whether a headerless report with a faulting location (RIP/pc/PC is at, printed before
    its trace) is an exception report that nothing left in the excerpt names: no CR2 (a
    user-half one is a #GP's, _stale_user_cr2; a kernel-half one may be a handled fault's), no
    marked instruction (x86 "<%02x>" that decodes whole, arm/arm64 "(%08x)": when the code
    bytes are there, the instruction decides, and one that is no load or store, or a trap (ud2,
    div, BRK, UDF), leaves the kind open), no die line or brk_handler() line that words it a
    BUG or a BRK.
    The caller reads it by the base rate (_name_headerless)."""
    f = ev.fields
    if f.get("trace_regs") or f.get("cr2") or f.get("brk"):
        return False
    code = str(f.get("code") or "")
    if x86access.marked_decodes(code, f.get("rregs")) or _A64_MARKED.search(code) is not None:
        return False
    die = str(f.get("die") or "")
    return "BUG" not in die and "BRK" not in die and "undefined" not in die.lower()


def _stale_user_cr2(raw: str) -> bool:
    """Whether a register dump's CR2 is a user-half address above NULL's reach. Only page
    faults write CR2; a #GP leaves the last one there, which on a running system is a task's
    demand-paging address in the user half. A CR2 a kernel fault writes is NULL plus an
    offset or a kernel-half address (from 0x0000800000000000 on x86_64, 0xc0000000 on
    i386's 3G/1G split): then, or with no CR2 in the excerpt, a page fault whose decode was
    cut cannot be ruled out, and no #GP is claimed."""
    addr = _hex(raw.strip())
    if addr is None or is_near_null(addr):
        return False
    return addr < (0xc0000000 if len(raw.strip()) <= 8 else 0x0000800000000000)


# The x86_64 __show_regs() lines that hold general registers (RAX/RBX/RCX, RDX/RSI/RDI,
# RBP/R08/R09, R10/R11/R12, R13/R14/R15).
_X86_REG_LINES = ("RAX:", "RDX:", "RBP:", "R10:", "R13:", "eax:", "esi:", "EAX:", "ESI:")
# Lines LogParser._enrich takes as part of the open report's body (register dumps, the fault
# decode, sanitizer sections, the panic's tail); the x86 register lines among them are
# _X86_REG_LINES, the ones kept for the marked instruction.
_REPORT_BODY_STARTS = ("RSP:",) + _X86_REG_LINES + (
    "FS:", "CS:", "CR2:", "CR0:", "DR0:", "DR3:",
    "lr : ", "sp : ", "x29:", "x2", "x1", "x0", "x9", "x8", "x7", "x6", "x5", "x4", "x3",
    "PGD ", "pgd", "Mem abort", "ESR = ", "EC = ", "SET = ", "EA = ", "Data abort", "ISV = ",
    "CM = ", "user pgtable", "LR is at", "pc : ", "PKRU:", "EFLAGS", "ORIG_RAX", "task: ",
    "Oops", "Kernel Offset", "Dumping ftrace", "(ftrace buffer", "Stack:", "Stack ",
    "Showing ", "Sending NMI", "NMI backtrace", "Read of size", "Write of size",
    "The buggy address", "Memory state", "Allocated by", "Freed by", "Last potentially",
    "page:", "flags:", "raw:", "page dumped", "Uninit was", "Local variable", "==========",
    "Disabling lock", "Shutting down cpus", "Rebooting in")
_X86_FAULT_KINDS = frozenset(["oops_other", "paging_fault", "null_deref", "gpf"])


def _x86_accesses(ev: Event) -> Optional[List[int]]:
    """The addresses the marked x86_64 instruction accessed (triage.events.x86access), its
    text kept in the event's `access` field; None when they cannot be computed."""
    got = x86access.accessed_addresses(str(ev.fields.get("code") or ""), ev.fields.get("rregs") or {})
    if got is None:
        return None
    ev.fields.setdefault("access", got[1])
    return got[0]


def _x86_access(ev: Event) -> Optional[int]:
    """The address a page fault whose address was not printed faulted at, from the marked
    instruction: the operand near NULL if one is, else the first canonical one (a page fault's
    address is canonical); None when the instruction does not say."""
    addrs = _x86_accesses(ev)
    if not addrs:
        return None
    near = [a for a in addrs if is_near_null(a)]
    if near:
        return near[0]
    canon = [a for a in addrs if not x86access.non_canonical(a)]
    return canon[0] if canon else None


def _name_null_based_fault(ev: Event) -> None:
    """A page fault above NEAR_NULL_LIMIT whose faulting instruction read or wrote through a
    base register holding 0 is a NULL dereference all the same: NULL plus a member offset of
    a large structure (a GPU driver's device or display state runs past 64 KiB). The marked
    x86_64 instruction (x86access) must name that very address, so a decode that disagrees
    with the fault address names nothing."""
    if ev.kind != "paging_fault":
        return
    addr = ev.fields.get("address")
    if not isinstance(addr, int) or is_near_null(addr) or addr >= 0x0000800000000000:
        return
    if addr in x86access.null_based_addresses(str(ev.fields.get("code") or ""), ev.fields.get("rregs") or {}):
        ev.kind, ev.fields["headline"] = "null_deref", "BUG: kernel NULL pointer dereference"
        ev.fields["null_base"] = True


# Near and far returns as Capstone names them.
_X86_RETURNS = frozenset(["ret", "retf", "retq", "retfq"])
# How far past an operand's address the CR2 of a fault on it may lie: an access that crosses
# into an unmapped page faults at that page's first byte (8-byte operands; a string
# instruction's registers already point at the byte it faulted on).
_ACCESS_SPAN = 8


def _x86_access_kind(ev: Event) -> Optional[Tuple[str, str]]:
    """The (kind, headline) of a headerless x86_64 oops of unknown kind that the marked
    instruction's memory access names: a NULL dereference when an operand's address is NULL
    plus an offset (and its address kept); a general protection fault when every operand's
    address is non-canonical (an access there raises #GP: list poison, slab poison, garbage).
    At canonical addresses, a page fault there when the register dump's CR2 is one of them
    (only #PF writes CR2), or, with no CR2 in the excerpt, when the instruction is a plain load
    or store (x86access.general_access: #GP is impossible there). None otherwise: a CR2
    elsewhere (this access did not page-fault), a vector or wider access (alignment #GP), or
    registers printed inside a trace."""
    addrs = _x86_accesses(ev)
    if not addrs:
        return None
    near = [a for a in addrs if is_near_null(a)]
    if near:
        ev.fields.setdefault("address", near[0])
        return "null_deref", "BUG: kernel NULL pointer dereference"
    if all(x86access.non_canonical(a) for a in addrs):
        ev.fields.setdefault("address", addrs[0])
        return "gpf", "general protection fault"
    if any(x86access.non_canonical(a) for a in addrs) or ev.fields.get("trace_regs"):
        return None
    code = str(ev.fields.get("code") or "")
    cr2 = None if code.startswith(_OPCODES_UNREADABLE) else _hex(ev.fields.get("cr2"))
    if cr2 is not None:
        # only a page fault writes CR2: one inside an operand's first bytes is this access's
        hit = [a for a in addrs if a <= cr2 < a + _ACCESS_SPAN]
        if hit:
            ev.fields.setdefault("address", cr2)
            return "paging_fault", "BUG: unable to handle page fault"
        return None
    if x86access.general_access(code, ev.fields.get("rregs") or {}):
        # no CR2 left: a load or store of at most 8 bytes at a canonical address can only have
        # raised #PF (x86access.general_access), the page fault at that address
        ev.fields.setdefault("address", addrs[0])
        return "paging_fault", "BUG: unable to handle page fault"
    return None


def _x86_marked_insn(code: str) -> Optional[List[int]]:
    """The bytes of the instruction x86 Code: marks (x86access.marked_instruction), past its
    legacy/REX prefixes (up to four bytes from the marked one); None when no byte is marked."""
    raw = x86access.marked_instruction(code)
    if raw is None:
        return None
    insn = list(raw[:4])
    while insn and insn[0] in _X86_PREFIXES:
        insn = insn[1:]
    return insn


def _x86_warn_ud2(code: str) -> bool:
    """Whether the x86 Code: bytes mark a ud2 that a WARN() rather than a BUG() executed.

    ud2 at RIP is BUG() or WARN() (both report through report_bug() since 4.11). BUG() does
    not return, so the compiler puts nothing live after its ud2: int3 padding (cc) or the
    next BUG()'s ud2 follow it (posted 087, 295). Any other byte after it, or none shown,
    leaves the base rate to decide: the kernel's rule is WARN_ON plus recovery, not BUG()
    (checkpatch.pl: "Do not crash the kernel unless it is absolutely unavoidable--use
    WARN_ON_ONCE() plus recovery code"); of the tuning half's GPU-module logs whose Code:
    marks ud2, 42 are WARNINGs and 8 anything else (posted 3513)."""
    insn = _x86_marked_insn(code) or []
    if insn[:2] != [0x0f, 0x0b]:
        return False
    after = insn[2:4]
    return not (after[:1] == [0xcc] or after == [0x0f, 0x0b])


def _x86_protection_fault_code(code: str) -> bool:
    """Whether the x86 Code: bytes mark an instruction that is neither ud2 nor div/idiv
    (see _x86_marked_insn); False when no byte is marked (other architectures, unreadable code)."""
    insn = _x86_marked_insn(code)
    if insn is None:
        return False
    if len(insn) < 2:
        return False        # the instruction runs past the bytes printed: cannot tell
    if insn[0] == 0x0f and insn[1] == 0x0b:
        return False        # ud2
    if insn[0] in (0xf6, 0xf7) and (insn[1] >> 3) & 7 in (6, 7):
        return False        # div, idiv
    return True


# arm64 __show_regs() prints the general registers "x%-2d: %016llx" and show_code() (dump_kernel_
# instr) the words before pc and the one at pc in parentheses: "Code: ... (f8408402)". A64
# loads and stores (op0 x1x0: bit 27 set, bit 25 clear) take their base address from Rn, bits
# [9:5] (31 is sp); LDR (literal) (bits [29:27] 011, [25:24] 00) has none.
_A64_REG = lazy_compile(r"(?<![\w])x(\d{1,2})\s?: ([0-9a-fA-F]{16})\b")
_A64_MARKED = lazy_compile(r"\(([0-9a-fA-F]{8})\)")


def _a64_null_base(ev: Event) -> bool:
    """Whether an arm64 report's faulting instruction (the word show_code() marks at pc) is a
    load or store whose base register holds NULL plus an offset: the access went near NULL,
    the data abort of a NULL dereference (its "Unable to handle kernel NULL pointer
    dereference" and die lines cut). Other instructions (BRK: BUG()/WARN(); a valid base:
    translation, permission or external abort alike) leave the kind open."""
    got = _a64_load_store(ev)
    if got is None:
        return False
    insn, regs = got
    rn = (insn >> 5) & 31
    return rn != 31 and is_near_null(regs.get(rn))


def _a64_load_store(ev: Event) -> Optional[Tuple[int, Dict[int, int]]]:
    """The A64 word show_code() marks at pc and the register dump (xregs), when the dump is
    there and the word is a load or store that takes its address from a register (op0 x1x0:
    bit 27 set, bit 25 clear; not LDR (literal), which is pc-relative); None otherwise."""
    m = _A64_MARKED.search(str(ev.fields.get("code") or ""))
    regs = ev.fields.get("xregs")
    if m is None or not regs:
        return None
    insn = int(m.group(1), 16)
    if (insn >> 25) & 0b101 != 0b100 or (insn & 0x3b000000) == 0x18000000:
        return None
    return insn, regs


def _a64_access_address(ev: Event) -> Optional[int]:
    """The address the A64 load or store show_code() marks at pc accessed, from the register
    dump (__show_regs()' "x%-2d: %016llx"); None when the word is no load/store, the base is sp
    or a register the dump lacks, or an index register is missing. Decoded per the Arm ARM's
    load/store encodings: register (unsigned immediate, scaled by the access size), register
    offset (an extended, optionally scaled index register), unscaled/pre-indexed immediate (a
    signed 9-bit offset), pair (a signed 7-bit offset scaled by the element size); post-indexed,
    exclusive, acquire/release and atomic forms access the base itself."""
    got = _a64_load_store(ev)
    if got is None:
        return None
    insn, regs = got
    rn = (insn >> 5) & 31
    base = regs.get(rn) if rn != 31 else None
    if base is None:
        return None
    op = (insn >> 27) & 7
    simd = (insn >> 26) & 1
    size = insn >> 30
    off = 0
    if op == 0b111:                                 # load/store register
        scale = size | ((insn >> 21) & 4) if simd else size
        if (insn >> 24) & 1:                        # unsigned immediate
            off = ((insn >> 10) & 0xfff) << scale
        elif (insn >> 21) & 1 and (insn >> 10) & 3 == 0b10:   # register offset
            rm = (insn >> 16) & 31
            idx = 0 if rm == 31 else regs.get(rm)
            if idx is None:
                return None
            option = (insn >> 13) & 7
            if option & 3 == 0b10:                  # UXTW / SXTW: the index's low word
                idx &= 0xffffffff
                if option & 4 and idx & 0x80000000:
                    idx -= 1 << 32
            off = idx << (scale if (insn >> 12) & 1 else 0)
        elif not (insn >> 21) & 1 and (insn >> 10) & 3 != 0b01:   # unscaled, unprivileged, pre-index
            off = ((insn >> 12) & 0x1ff) - (0x200 if (insn >> 20) & 1 else 0)
    elif op == 0b101 and (insn >> 23) & 3 != 0b01:  # pair, not post-indexed
        scale = 2 + (insn >> 30) if simd else (3 if insn >> 31 else 2)
        off = (((insn >> 15) & 0x7f) - (0x80 if (insn >> 21) & 1 else 0)) << scale
    return (base + off) & ((1 << 64) - 1)


# arm (A32) __show_regs() prints "r%d : %08lx" (r0-r12) and dump_instr() the words before pc
# and the one at pc in parentheses, "Code: ... (e5903054)" (Thumb-2 kernels print halfwords,
# "(6818)", not read here). A32 loads and stores take their base address from Rn, bits
# [19:16]: word/byte (bits [27:26] 01, but not bits [27:25] 011 with bit 4 set: the media and
# permanently undefined space, where BUG()'s e7f001f2 lives), halfword/doubleword/signed (bits [27:25] 000 with
# bits 7 and 4 set and bits [6:5] not 00, which is multiply/swap), and multiple (LDM/STM,
# bits [27:25] 100); condition 1111 is the unconditional space (PLD, ...), not one of them.
_A32_REG = lazy_compile(r"(?<![\w])r(\d{1,2})\s?: ([0-9a-fA-F]{8})\b")


def _arm_null_base(ev: Event) -> bool:
    """Whether an arm report's faulting instruction (the word dump_instr() marks at pc) is an
    A32 load or store whose base register (r0-r12) holds NULL plus an offset: a NULL
    dereference whose "Unable to handle kernel NULL pointer dereference" and die lines were
    cut. Other instructions, a valid base, or sp/pc-relative accesses leave the kind open."""
    m = _A64_MARKED.search(str(ev.fields.get("code") or ""))
    regs = ev.fields.get("rregs")
    if m is None or not regs:
        return False
    insn = int(m.group(1), 16)
    if insn >> 28 == 0xf:
        return False
    media = (insn >> 25) & 7 == 0b011 and (insn >> 4) & 1 == 1
    word_byte = (insn >> 26) & 3 == 1 and not media
    extra = (insn >> 25) & 7 == 0 and insn & 0x90 == 0x90 and (insn >> 5) & 3 != 0
    multiple = (insn >> 25) & 7 == 0b100
    if not (word_byte or extra or multiple):
        return False
    return is_near_null(regs.get((insn >> 16) & 0xf))


def _x86_page_fault_body(ev: Event) -> bool:
    """What only an x86 kernel page fault prints after its header: show_fault_oops()'s
    "#PF:" decode (4.19+) or its "IP: " line (2.6-4.x), dump_pagetable()'s "PGD " walk,
    page_fault_oops()'s lone "CR2:" summary, or the "Oops: %04lx" die line (_X86_PF_DIE),
    whose error code it keeps in the event's pf_error_code (_x86_instruction_fetch reads it)."""
    f = ev.fields
    if f.get("pf") or f.get("cr2_summary") or f.get("pgd") or f.get("ip_line"):
        return True
    line = str(f.get("oops") or "")
    m = _X86_PF_DIE.match(line)
    if m is not None:
        f["pf_error_code"] = int(m.group(1), 16)
        return True
    return False


def parse_log(lines: Iterable[str], gpu: Optional[GpuData] = None, reps: Optional[Reporters] = None) -> KernelLog:
    """Parse kernel log lines (any console/syslog/journal form, as pasted into
    mails, forums and bug trackers: triage.events.paste) into a KernelLog. `gpu` is the
    GPU data of the run's signature set (RuleSet.gpu_data) and `reps` its reporters'
    frames (RuleSet.reporters), the built-in data when None."""
    p = LogParser(gpu, reps)
    for number, raw in normalise(lines, p._names.trace_tails, p._names.message_anchors):
        p.feed(raw, number)
    return p.result()


def parse_text(text: str, gpu: Optional[GpuData] = None, reps: Optional[Reporters] = None) -> KernelLog:
    """Parse a whole log held in a string (`gpu` and `reps` as for parse_log)."""
    return parse_log(text.splitlines(), gpu, reps)
