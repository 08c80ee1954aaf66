"""The diagnosis: what triage concludes about one dump or log, as data.

Classification (triage.classify) builds a Diagnosis; renderers in
triage.report turn it into text, JSON, Markdown or HTML. `to_dict()` is the
JSON schema documented in docs/json-schema.md (SCHEMA_VERSION below).
"""

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

SCHEMA_VERSION = 2


@dataclass
class Culprit:
    """Who is to blame: module and function, and what the module is."""

    module: Optional[str] = None          # None = core kernel
    function: Optional[str] = None
    taint: Optional[str] = None           # per-module taint letters, e.g. "POE"
    out_of_tree: Optional[bool] = None
    proprietary: Optional[bool] = None
    unsigned: Optional[bool] = None
    version: Optional[str] = None
    is_gpu_driver: bool = False


@dataclass
class EvidenceLine:
    """A log line that supports the verdict."""

    line: int
    text: str
    ts: Optional[float] = None


@dataclass
class Verdict:
    """The answer: what brought the host down."""

    category: str                      # see docs/categories.md; e.g. "oom_panic", "gpu_null_deref"
    title: str                         # syzkaller-style stable title
    signature: Optional[str] = None    # id of the rule that matched
    confidence: float = 0.0            # 0..1
    severity: Optional[str] = None     # "critical", "high", "medium", "low", "info"
    panicked: bool = False             # did the kernel panic (vs. a non-fatal event)
    culprit: Culprit = field(default_factory=Culprit)
    meaning: Optional[str] = None      # what this kind of crash means
    next_steps: List[str] = field(default_factory=list)


@dataclass
class Hypothesis:
    """One explanation considered, and the verdict on it."""

    name: str                          # "memory_exhaustion", "gpu_driver_fault", "hardware", "intentional"
    status: str                        # "supported", "ruled_out", "inconclusive"
    reason: str
    evidence: List[EvidenceLine] = field(default_factory=list)


@dataclass
class TimelineEntry:
    """One event in the chain before the crash."""

    ts: Optional[float]
    line: int
    kind: str
    text: str
    module: Optional[str] = None
    gpu: bool = False                  # module is a GPU driver


@dataclass
class SystemSummary:
    """System facts relevant to the expert."""

    kernel_release: Optional[str] = None
    kernel_version: Optional[str] = None
    hostname: Optional[str] = None
    arch: Optional[str] = None
    hardware: Optional[str] = None
    taint: Optional[str] = None
    taint_flags: List[str] = field(default_factory=list)   # decoded, e.g. "P: proprietary module loaded"
    uptime_s: Optional[float] = None
    crash_time: Optional[str] = None                       # ISO 8601 UTC, from CRASHTIME when known
    mem_total_kb: Optional[int] = None
    build_id: Optional[str] = None                         # VMCOREINFO BUILD-ID (dumps of 5.9+ kernels)
    modules_of_interest: List[Dict[str, Any]] = field(default_factory=list)


@dataclass
class Source:
    """Where the diagnosis came from."""

    path: str
    kind: str                          # "vmcore" or "log"
    format: Optional[str] = None
    partial: bool = False
    problems: List[str] = field(default_factory=list)


@dataclass
class CrashTask:
    """The task that was running when the kernel crashed (the report's CPU:/Comm: line)."""

    comm: Optional[str] = None
    pid: Optional[int] = None
    cpu: Optional[int] = None


@dataclass
class TraceEntry:
    """One entry of the crash's call trace: a frame, or (boundary set, no function)
    the point where the trace crosses into another stack (irq, softirq, nmi, exception, task)."""

    function: Optional[str] = None
    offset: Optional[int] = None
    module: Optional[str] = None
    reliable: bool = True              # False for frames printed with "? " (stale stack words)
    boundary: Optional[str] = None     # stack entered here: "irq", "softirq", "nmi", "exception", "task"


@dataclass
class CrashModule:
    """A module from `Modules linked in:` with its taint letters."""

    name: str
    taint: str = ""


@dataclass
class OomTask:
    """A task of the OOM report: the victim, or one of the largest memory consumers."""

    comm: Optional[str] = None
    pid: Optional[int] = None
    rss_kb: Optional[int] = None       # resident memory (the task table counts pages; kB when the page size is known)
    rss_pages: Optional[int] = None


@dataclass
class OomPicture:
    """Who the OOM killer killed and who held the memory (the OOM report's task table)."""

    victim: Optional[OomTask] = None
    consumers: List[OomTask] = field(default_factory=list)   # largest rss first
    tasks_listed: Optional[int] = None                        # rows in the task table


@dataclass
class Crosscheck:
    """One value both the log and the dump's own data give, and whether they agree."""

    field: str
    log: Optional[str]
    dump: Optional[str]
    agree: bool


@dataclass
class Crash:
    """What a kernel engineer reads first: task, oops header, faulting location,
    call trace, loaded modules, and for an OOM the victim and the consumers."""

    task: Optional[CrashTask] = None
    header: List[EvidenceLine] = field(default_factory=list)
    ip: Optional[TraceEntry] = None    # faulting location (RIP:/pc :), when the report has one
    # the faulting x86_64 instruction's memory access, decoded from Code: and the registers:
    # "mov r13d, dword ptr [rsi + 0x12488] -> 0x12488 (NULL + 0x12488)" (rsi = 0); None when
    # the report has no marked instruction with a memory operand whose registers it printed
    access: Optional[str] = None
    trace: List[TraceEntry] = field(default_factory=list)
    modules: List[CrashModule] = field(default_factory=list)
    # where `modules` comes from: "log" (Modules linked in:), "dump" (the dump's
    # module list, when the log printed none: sysrq and OOM panics), None when empty
    modules_source: Optional[str] = None
    # why `modules` is empty for a dump whose log printed no module list and
    # whose own list could not be read (the dump facts' reason); None otherwise
    modules_missing: Optional[str] = None
    oom: Optional[OomPicture] = None
    checks: List[Crosscheck] = field(default_factory=list)


@dataclass
class Diagnosis:
    """Everything triage concludes about one input."""

    source: Source
    verdict: Verdict
    crash: Crash = field(default_factory=Crash)
    system: SystemSummary = field(default_factory=SystemSummary)
    evidence: List[EvidenceLine] = field(default_factory=list)
    contributing: List[TimelineEntry] = field(default_factory=list)
    hypotheses: List[Hypothesis] = field(default_factory=list)
    timeline: List[TimelineEntry] = field(default_factory=list)
    other_matches: List[Dict[str, Any]] = field(default_factory=list)  # lower-ranked rule matches
    # The machine's state read from the dump (triage.facts): {source, memory, tasks,
    # modules}; None for text logs and when facts were not asked for.
    dump: Optional[Dict[str, Any]] = None

    def to_dict(self) -> Dict[str, Any]:
        """The versioned JSON form (docs/json-schema.md)."""
        d = asdict(self)
        d["schema_version"] = SCHEMA_VERSION
        return d
