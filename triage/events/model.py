"""Log events: what the kernel log says happened, as data.

The parser (triage.events.parser) turns raw kernel-log text lines into a
KernelLog: the normalised lines plus an ordered list of Events. Signatures
(triage.classify) match over Events and their fields; nothing here prints.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence


class LogLine:
    """One line of the log with its console prefixes removed.

    A plain class with __slots__ (not a dataclass: Python 3.9 has no
    dataclass(slots=True)); a log holds hundreds of thousands of these.
    """

    __slots__ = ("number", "text", "ts", "caller", "host")

    def __init__(self, number: int, text: str, ts: Optional[float] = None, caller: Optional[str] = None,
                 host: Optional[str] = None) -> None:
        self.number = number    # 1-based line number in the input
        self.text = text        # message text (syslog/timestamp/caller prefixes stripped)
        self.ts = ts            # seconds since boot from the `[ s.us]` prefix
        self.caller = caller    # "T123" / "C3" when the log carries caller ids
        self.host = host        # syslog host field, when the line came from syslog

    def _key(self):
        return (self.number, self.text, self.ts, self.caller, self.host)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogLine):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaces

    def __repr__(self) -> str:
        return (f"LogLine(number={self.number!r}, text={self.text!r}, ts={self.ts!r}, "
                f"caller={self.caller!r}, host={self.host!r})")


@dataclass
class Frame:
    """One stack frame or faulting location: func+0xoff/0xsize [module]."""

    function: str
    offset: Optional[int] = None
    size: Optional[int] = None
    module: Optional[str] = None
    reliable: bool = True       # False for frames printed with "? "
    context: str = "task"       # "task", "irq", "softirq", "nmi", "exception" stack
    # the function's own source file when decode_stacktrace.sh printed it ("func (file:line ...)"):
    # for a frame with no [module] tag it can name a built-in driver
    source: Optional[str] = None
    # the start of a module tag a terminal or pager cut ("[nvidia_uv" -> "nvidia_uv"); the
    # parser resolves it against the log's whole tags (triage.events.parser)
    # (None: not cut; "": the line ended before any of the tag, or inside the offset)
    module_cut: Optional[str] = field(default=None, compare=False, repr=False)
    # the function's name itself is cut ("at: xfs_file_buffere"): resolved like module_cut
    name_cut: bool = field(default=False, compare=False, repr=False)

    def __str__(self) -> str:
        s = self.function
        if self.offset is not None and self.size is not None:
            s += f"+{self.offset:#x}/{self.size:#x}"
        if self.module:
            s += f" [{self.module}]"
        return s


@dataclass
class Event:
    """One thing the kernel reported: an oops, a panic, an OOM kill, a warning...

    `kind` is a stable identifier signatures match on (e.g. "null_deref",
    "paging_fault", "gpf", "kernel_bug", "warning", "panic", "oom_invoked",
    "oom_kill", "alloc_failure", "vmalloc_failure", "soft_lockup",
    "hard_lockup", "hung_task", "rcu_stall", "kasan", "ubsan", "kfence",
    "kcsan", "kmsan", "lockdep", "mce", "hw_error", "nvrm_xid", "gpu_fault",
    "sysrq", "bad_page", "list_corruption", "stack_corruption", "meminfo").
    `fields` holds kind-specific values (address, gfp_mask, order, comm, pid,
    reason, xid, seconds, ...).
    """

    kind: str
    line: int                       # line number of the header line
    text: str                       # the header line text
    ts: Optional[float] = None
    end_line: Optional[int] = None  # last line belonging to this event's block
    fields: Dict[str, Any] = field(default_factory=dict)
    ip: Optional[Frame] = None      # faulting RIP/IP/pc, when the block has one
    frames: List[Frame] = field(default_factory=list)  # call trace, innermost first
    cpu: Optional[int] = None
    pid: Optional[int] = None
    comm: Optional[str] = None
    taint: Optional[str] = None     # the raw taint string of this block ("G    W  O")


@dataclass
class Module:
    """A loaded module from `Modules linked in:` with its per-module taint letters."""

    name: str
    taint: str = ""                 # e.g. "POE"
    version: Optional[str] = None


@dataclass
class SystemFacts:
    """Facts about the machine and kernel the log reveals."""

    kernel_release: Optional[str] = None
    kernel_version: Optional[str] = None   # the full "Linux version ..." banner
    hardware: Optional[str] = None         # "Hardware name:" value
    cmdline: Optional[str] = None
    taint: Optional[str] = None            # the most recent taint string
    modules: List[Module] = field(default_factory=list)
    last_unloaded: Optional[str] = None
    mem_total_kb: Optional[int] = None
    cpus: Optional[int] = None
    arch: Optional[str] = None             # inferred from wording: "x86_64", "arm64"
    uptime_s: Optional[float] = None       # timestamp of the last line


@dataclass
class KernelLog:
    """A parsed kernel log: its lines, events in order, and system facts.

    `lines` is a sequence of LogLine in input order. The parser fills it with
    a compact LineStore (triage.events.linestore) that keeps the head of the
    log and the lines of event blocks, not every line: use `line_at()` to
    look a line up by number (None when it was not kept).
    """

    lines: Sequence[LogLine]
    events: List[Event]
    facts: SystemFacts
    truncated_lines: int = 0        # lines cut because they exceeded the line limit
    dropped_events: int = 0         # reports past the parser's cap that were not kept


# The one NULL-pointer threshold for kernel fault addresses (the parser's
# classification, the headerless-oops naming and the hypotheses' "NULL +
# offset" wording all use it). The kernel itself calls a fault "NULL pointer
# dereference" only below PAGE_SIZE (x86 show_fault_oops(); arm64
# die_kernel_fault()), but every address below vm.mmap_min_addr (65536 by
# default on x86, arm64 and the major distributions, and never below
# PAGE_SIZE) is unmappable by user space, so a kernel access there can only be
# NULL plus a structure offset, e.g. `address: 0000000000001a81`. The larger
# bound is therefore the right one: it covers the kernel's own wording and the
# NULL+offset faults it words as paging requests.
NEAR_NULL_LIMIT = 65536


def is_near_null(addr: Optional[int]) -> bool:
    """True when a kernel fault address can only be NULL plus an offset (below NEAR_NULL_LIMIT)."""
    return isinstance(addr, int) and 0 <= addr < NEAR_NULL_LIMIT


def line_at(lines: Sequence[LogLine], number: int) -> Optional[LogLine]:
    """The line numbered `number` in `lines` (a LineStore or a plain list of
    LogLine in order), None when it is not there."""
    get = getattr(lines, "line", None)
    if get is not None:
        return get(number)
    if 0 < number <= len(lines) and lines[number - 1].number == number:
        return lines[number - 1]
    for ln in lines:
        if ln.number == number:
            return ln
    return None


def lines_between(lines: Sequence[LogLine], first: int, last: int) -> List[LogLine]:
    """The lines numbered first..last in `lines` (a LineStore or a plain list
    of LogLine in order), in order; lines that were not kept are absent."""
    get = getattr(lines, "between", None)
    if get is not None:
        return get(first, last)
    if 0 < first <= len(lines) and lines[first - 1].number == first:
        return list(lines[first - 1:last])
    return [ln for ln in lines if first <= ln.number <= last]
