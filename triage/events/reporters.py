"""Which report printed a stack whose header the excerpt lacks, from the reporter's own frames.

The kernel's reporters print the stack from inside themselves (dump_stack(), show_regs()):
kernel/panic.c __warn(), mm/oom_kill.c dump_header(), mm/page_alloc.c warn_alloc(),
kernel/rcu/tree_stall.h rcu_dump_cpu_stacks(), lockdep's checkers, the arch page-fault
handlers. So the innermost frames of the stack they print name the report, as syzkaller's
pkg/report knows when it skips a report's own frames. signatures/lists.toml holds the frames
once for every reader: `[[report_frames]]` (kind and headline per list of frames, with the
conditions under which a frame counts) and `[skip].report` (the generic dumping and
exception-entry frames read past on the way in). The loader (triage.classify.rules.load_files)
makes a run's signature set's Reporters (RuleSet.reporters), which each parse is given;
`reporters()` is the built-in set alone, for callers that pass none (read once, never changed).

The same file's `[parser]` table holds the other kernel function names and wordings the event
parser reads a report's structure by (panic()'s frames, the reasons die() panics with, the
lines that open a report only after a header of their own, ...): ParserNames, carried by the
Reporters, so a user's `--signatures` copy of them is what the parse reads.
"""

from dataclasses import dataclass
import re
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Pattern, Sequence, Tuple

from triage.events.model import Frame

# How many frames from the innermost one are read at most (a reporter's frames come first).
WINDOW = 16
_KEYS = {"kind", "headline", "reason", "frames", "after_report", "below_panic", "first_frame", "no_end_marker"}
_FLAGS = ("after_report", "below_panic", "first_frame", "no_end_marker")

# The keys of [parser] and how each one's strings are read: "regex" (over a function name,
# starting with '^'), "name" (a whole function name), "prefix" (a function name's or a line's
# start). Every key is required once the files are merged: a later file replaces a key whole.
PARSER_KEYS: Dict[str, str] = {
    "panic_frames": "regex",
    "stack_dumpers": "prefix",
    "panic_functions": "name",
    "panicking_reports": "prefix",
    "die_panic_reasons": "prefix",
    "lost_header_openers": "prefix",
    "irq_entries": "name",
    "nvidia_dump_stack": "name",
    "nvidia_assert": "name",
    "nvidia_gsp_rpc_poll": "prefix",
    "boot_banners": "prefix",
    "shutdown_lines": "prefix",
    "trace_tails": "prefix",
    "message_anchors": "prefix",
    "atomic_sleep_bugs": "prefix",
    "lockdep_bugs": "prefix",
    "oops_exit_frames": "name",
}


@dataclass(frozen=True)
class ParserNames:
    """The [parser] table: kernel function names and wordings the event parser reads a
    report's structure by (signatures/lists.toml says what each one is for)."""

    panic_frames: Pattern[str]             # panic() and its forms: the frame below is why it panicked
    stack_dumpers: Tuple[str, ...]         # dump_stack() & co. atop a stack panic() dumped
    panic_functions: FrozenSet[str]        # a bare stack under one of these (after dumpers) is the panic's
    panicking_reports: Tuple[str, ...]     # ... unless a report that panics on purpose is below it
    die_panic_reasons: Tuple[str, ...]     # panic reasons die() gives after an oops
    lost_header_openers: Tuple[str, ...]   # lines printed only after a report header of their own
    irq_entries: FrozenSet[str]            # arm32 interrupt entries before an "Exception stack("
    nvidia_dump_stack: FrozenSet[str]      # NVIDIA's own dump_stack() wrapper
    nvidia_assert: FrozenSet[str]          # NVIDIA's assert helper between it and its caller
    nvidia_gsp_rpc_poll: Tuple[str, ...]   # the GSP RPC functions whose failure dumps the stack
    boot_banners: Tuple[str, ...]          # lines that start a boot
    shutdown_lines: Tuple[str, ...]        # lines that say the kernel is going down on purpose (or crashed)
    trace_tails: Tuple[str, ...]           # a call trace's outermost frames (syscall and thread entries)
    message_anchors: Tuple[str, ...]       # wordings only a message's start holds (the prefix learner's)
    atomic_sleep_bugs: Tuple[str, ...]     # generic "BUG: <what>" heads of an atomic_sleep report
    lockdep_bugs: Tuple[str, ...]          # ... and of a lockdep report
    oops_exit_frames: FrozenSet[str]       # the path an oopsing task exits by (after its report)


def check_parser_entry(key: str, items: Any) -> None:
    """ValueError (or re.error) unless `items` is what [parser] key `key` takes."""
    how = PARSER_KEYS.get(key)
    if how is None:
        raise ValueError(f"[parser]: unknown key '{key}' (one of {', '.join(PARSER_KEYS)})")
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
        raise ValueError(f"[parser] '{key}' must be a non-empty list of non-empty strings")
    if how == "regex":
        for i in items:
            if not i.startswith("^"):
                raise ValueError(f"[parser] '{key}': regex {i!r} must start with '^'")
            re.compile(i)


def parse_parser_names(raw: Mapping[str, Any]) -> ParserNames:
    """The merged [parser] table as ParserNames; ValueError (or re.error) on a missing,
    unknown or malformed key."""
    missing = [k for k in PARSER_KEYS if k not in raw]
    if missing:
        raise ValueError(f"[parser] lacks {', '.join(missing)} (signatures/lists.toml holds every key)")
    for key, items in raw.items():
        check_parser_entry(key, items)
    kinds = {"regex": lambda v: re.compile("|".join(f"(?:{p})" for p in v)), "name": frozenset, "prefix": tuple}
    return ParserNames(**{k: kinds[how](raw[k]) for k, how in PARSER_KEYS.items()})


@dataclass(frozen=True)
class Reporter:
    """One [[report_frames]] table: the report (kind, headline) its frames name, and when."""

    kind: str
    headline: str
    frames: Pattern[str]
    reason: Optional[str] = None       # kind "panic": the reason panic() was given
    after_report: bool = False         # only below a [skip].report frame (the reporter dumped the stack)
    below_panic: bool = False          # only below panic()/nmi_panic()
    first_frame: bool = False          # only as the first reliable frame, with no faulting location
    no_end_marker: bool = False        # only when no "---[ end trace" closed the stack


@dataclass(frozen=True)
class Reporters:
    """The [[report_frames]] tables in file order, and the [skip].report frames read past."""

    tables: Tuple[Reporter, ...]
    passed: Pattern[str]
    names: ParserNames                 # the [parser] table of the same files

    def report_of(self, frames: Sequence[Frame], has_ip: bool, ended: bool) -> Optional[Reporter]:
        """The report whose frames are innermost in `frames` (a stack listed innermost first):
        frames are read up to the first reliable one outside [skip].report, that one included;
        `has_ip` says a faulting location was read, `ended` that an end marker closed the stack."""
        seen_report = seen_panic = False
        # a trace printed with every frame '?' (2.6.x x86_64 without frame pointers) vouches
        # for none: its first frame is the most recent return address, the reporter's call
        vouched = any(f.reliable for f in frames)
        for i, f in enumerate(frames[:WINDOW]):
            name = f.function
            passed = self.passed.match(name) is not None
            innermost = (f.reliable or (i == 0 and not vouched)) and not passed
            for r in self.tables:
                if (r.frames.match(name) and (seen_report or not r.after_report) and (seen_panic or not r.below_panic)
                        and (not r.first_frame or (innermost and not has_ip)) and not (r.no_end_marker and ended)):
                    return r
            if passed:
                seen_report = True
                seen_panic = seen_panic or self.names.panic_frames.match(name) is not None
            elif f.reliable:
                return None
        return None


def _flag(raw: dict, key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{where}: '{key}' must be true or false")
    return value


def parse_report_frames(tables: Any, passed: Sequence[str], names: ParserNames) -> Reporters:
    """The [[report_frames]] tables (with the [skip].report regexes `passed` and the [parser]
    table `names`) as Reporters; ValueError (or re.error) on a malformed table."""
    return Reporters(parse_report_tables(tables), re.compile("|".join(f"(?:{p})" for p in passed) or "(?!)"), names)


def parse_report_tables(tables: Any) -> Tuple[Reporter, ...]:
    """The [[report_frames]] tables of one file or of the merged set; ValueError (or re.error)
    on a malformed table."""
    if not isinstance(tables, list):
        raise ValueError("report_frames must be an array of tables ([[report_frames]])")
    out: List[Reporter] = []
    for i, raw in enumerate(tables):
        where = f"report_frames[{i}]"
        if not isinstance(raw, dict) or set(raw) - _KEYS:
            raise ValueError(f"{where}: a table takes only {sorted(_KEYS)}")
        kind, headline, reason = raw.get("kind"), raw.get("headline"), raw.get("reason")
        if not isinstance(kind, str) or not kind or not isinstance(headline, str) or not headline:
            raise ValueError(f"{where}: 'kind' and 'headline' must be non-empty strings")
        if reason is not None and not isinstance(reason, str):
            raise ValueError(f"{where}: 'reason' must be a string")
        frames = raw.get("frames")
        if not isinstance(frames, list) or not frames or not all(isinstance(p, str) and p.startswith("^")
                                                                  for p in frames):
            raise ValueError(f"{where}: 'frames' must be a list of regexes, each starting with '^'")
        flags = {k: _flag(raw, k, where) for k in _FLAGS}
        out.append(Reporter(kind, headline, re.compile("|".join(f"(?:{p})" for p in frames)), reason, **flags))
    return tuple(out)


def reporters() -> Reporters:
    """The [[report_frames]] and [parser] of the built-in signature data alone
    (signatures/lists.toml), as the loader reads them for a signature set."""
    from triage.classify.rules import builtin_lists   # classify imports events: import late
    return builtin_lists().reporters
