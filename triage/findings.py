"""The diagnosis: what triage concludes about one dump or log, as data.

Classification (triage.classify) builds a Diagnosis; renderers in
triage.report turn it into text, JSON, Markdown or HTML. `to_dict()` is the
JSON schema documented in docs/json-schema.md (SCHEMA_VERSION below).
"""

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

SCHEMA_VERSION = 1


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
class Diagnosis:
    """Everything triage concludes about one input."""

    source: Source
    verdict: Verdict
    system: SystemSummary = field(default_factory=SystemSummary)
    evidence: List[EvidenceLine] = field(default_factory=list)
    contributing: List[TimelineEntry] = field(default_factory=list)
    hypotheses: List[Hypothesis] = field(default_factory=list)
    timeline: List[TimelineEntry] = field(default_factory=list)
    other_matches: List[Dict[str, Any]] = field(default_factory=list)  # lower-ranked rule matches

    def to_dict(self) -> Dict[str, Any]:
        """The versioned JSON form (docs/json-schema.md)."""
        d = asdict(self)
        d["schema_version"] = SCHEMA_VERSION
        return d
