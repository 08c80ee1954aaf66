"""The analysis pipeline in one call: input -> log lines -> events -> rule
matches -> Diagnosis.

`analyze_path` is the stable entry point `triage analyze` and `triage batch`
use; `analyze_lines` does the same for log lines already in memory.
Both raise triage.errors exceptions (InputError, FormatError, NoLogError,
SignatureError, ...) and never print.
"""

import os
import re
from typing import Any, Iterable, Optional, Sequence, Union

from triage.errors import FormatError, InputError
from triage.diagnosis.diagnose import SourceInfo, diagnose
from triage.findings import Diagnosis

__all__ = ["analyze_path", "analyze_lines", "load_ruleset", "SourceInfo"]


def load_ruleset(signature_dirs: Sequence[str] = ()):
    """The built-in signatures plus those in `signature_dirs` (and the
    directories the signature layer adds itself: environment, /etc)."""
    from triage.classify import load_rules
    return load_rules(extra_dirs=tuple(signature_dirs))


def analyze_lines(lines: Iterable[str], source: Optional[SourceInfo] = None, rules: Any = None) -> Diagnosis:
    """Diagnose kernel-log `lines` (text, one record per line).

    `source` says where they came from (path, partial, crash time...);
    `rules` is a RuleSet from load_ruleset(), the built-in rules when None.
    """
    from triage.classify import classify
    from triage.events.parser import parse_log
    from triage.diagnosis.gpu import GpuKnowledge
    if rules is None:
        rules = load_ruleset()
    watch = _KernelLineWatch(lines)
    # the parser reads the GPU wordings, device names and reporters' frames of this run's signature set
    log = parse_log(watch, rules.gpu_data, rules.reporters)
    if source is not None and source.kind == "log" and not _is_kernel_log(log, watch):
        raise FormatError("no kernel log line in it (no printk timestamp, no 'kernel:' syslog or journal "
                          "line, no kernel message): not a kernel log", path=source.path)
    matches = classify(log, rules)
    return diagnose(log, matches, source or SourceInfo(), GpuKnowledge.from_rules(rules))


# One line that only a kernel log holds: a printk timestamp anywhere on it (quoted,
# indented, after a syslog or VM prefix), dmesg -T/-H stamps, a `kernel:` field, a
# backtrace frame, or the wording of a kernel report or driver. Generous on purpose:
# it only has to tell a kernel log from other text.
# Every alternative opens with a literal character, so the regex engine skips the
# positions no alternative can start at (a file without a kernel line is searched whole,
# each line: 11 -> 4 us a syslog line): "\bkernel: " is written "k(?<!\wk)ernel: " (the
# same word boundary, tested after the literal) and "[Oo]ut of memory" as two literals.
_KERNEL_LINE = re.compile(
    r"\[\s*\d{1,12}\.\d{3,9}\]|\[\s*\+\d{1,6}\.\d{3,9}\]|\[[A-Z][a-z]{2}\s?\d{1,2} \d\d:\d\d\]"
    r"|\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\]|k(?<!\wk)ernel: "
    r"|\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16}"
    r"|Call Trace|Modules linked in|Tainted: |Hardware name: |Kernel panic|BUG: |WARNING: |Oops|RIP: |E(?<!\wE)IP: "
    r"|p(?<!\wp)c : |NVRM: |oom-killer|Out of memory|out of memory|Killed process|page allocation failure"
    r"|blocked for more than|VM: killing process |-order allocation failed \(gfp="
    # mm/cma.c cma_alloc()'s failure line; show_free_areas()' zone line, one per zone of a Mem-Info
    # dump ("%s free:%lukB min:%lukB low:%lukB ..." in 5.10's mm/page_alloc.c, "%s free:%lukB
    # boost:%lukB min:%lukB ..." in 6.12's mm/show_mem.c)
    r"|alloc failed, req-size: \d|f(?<!\wf)ree:\d{1,20}kB (?:boost:\d{1,20}kB )?min:\d{1,20}kB low:\d"
    r"|soft lockup|hard LOCKUP|rcu_sched|rcu: |general protection fault|segfault at|traps: |Machine [Cc]heck"
    r"|Linux version \d|a(?<!\wa)mdgpu\b|i(?<!\wi)915\b|n(?<!\wn)ouveau\b|r(?<!\wr)adeon\b|d(?<!\wd)rm\b"
    r"|n(?<!\wn)vidia\b|E(?<!\wE)DAC\b|m(?<!\wm)ce\b|E(?<!\wE)XT4-fs\b|X(?<!\wX)FS\b")


class _KernelLineWatch:
    """Pass lines through, noting whether one of them looks like a kernel log line."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = lines
        self.seen = False

    def __iter__(self):
        from triage.events.prefix import MAX_LINE
        # as much of a line as the parser reads (sanitize keeps 2 * MAX_LINE): a 32 MiB
        # line of a hostile plain ring took the search 15 s
        cap = MAX_LINE * 2
        for line in self._lines:
            if not self.seen and _KERNEL_LINE.search(line, 0, cap):
                self.seen = True
            yield line


def _is_kernel_log(log: Any, watch: _KernelLineWatch) -> bool:
    """Whether a parsed text is a kernel log: a kernel-looking line, a kernel report
    the parser found, or a fact only the kernel prints."""
    if watch.seen or log.events or log.facts.uptime_s is not None:
        return True
    f = log.facts
    return bool(f.kernel_version or f.kernel_release or f.taint or f.modules)


def analyze_path(path: Union[str, Sequence[str]], rules: Any = None, facts: bool = False,
                 vmlinux: Optional[str] = None, display_path: Optional[str] = None,
                 search_debuginfo: Optional[bool] = False, debuginfo_root: str = "/",
                 facts_method: str = "auto", page_census: bool = False) -> Diagnosis:
    """Diagnose one input: a vmcore in any supported format or a kernel-log text.

    `path` is one file, or the parts of one `makedumpfile --split` dump in
    any order. A truncated or incomplete dump still yields a Diagnosis, with
    `source.partial` set and `source.problems` saying why. `rules` is a
    RuleSet from load_ruleset() (built-in rules when None); pass one RuleSet
    when analysing many inputs so the rules are loaded once.
    `facts=True` also reads the machine's state from a dump into
    Diagnosis.dump (triage.facts; types from a DWARF vmlinux matching the dump:
    `vmlinux`, or with `search_debuginfo` the standard debuginfo paths under
    `debuginfo_root` and debuginfod when configured; else from the dump's BTF);
    `facts_method` "vmcoreinfo" reads VMCOREINFO alone; `page_census` adds
    dump.census, every page classified from mem_map).
    `display_path` names the input in the Diagnosis when `path` is a stand-in
    for it (the decompressed temporary copy of a .gz dump).
    """
    from triage.logsource import is_dump, looks_like_text, open_log, sniff, text_sample
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    if not paths:
        raise InputError("no input path given")
    first = str(paths[0])
    head = sniff(first)          # InputError for missing, unreadable, directory, empty
    if not is_dump(head):
        if not looks_like_text(text_sample(first, head)):
            raise FormatError("neither a vmcore nor a text kernel log", path=first)
        if len(paths) > 1:
            raise InputError("several paths are accepted only as the parts of one split dump", path=first)
        # Text logs are streamed: memory stays bounded whatever the file's size
        # or line lengths (iter_lines caps each line).
        from triage.events.reader import iter_lines
        with open(first, "rb") as fp:
            return analyze_lines(iter_lines(fp), SourceInfo(path=display_path or first, kind="log", format="text"),
                                 rules)
    opened = open_log([str(p) for p in paths])
    shown = display_path or (first if len(paths) == 1 else " + ".join(str(p) for p in paths))
    diag = analyze_lines(opened.lines, source_info(shown, opened), rules)
    if facts:
        from triage.facts import read_dump_facts
        diag.dump = read_dump_facts([str(p) for p in paths], vmlinux=vmlinux, search_debuginfo=search_debuginfo,
                                    debuginfo_root=debuginfo_root, method=facts_method, census=page_census)
        from triage.diagnosis.dumpstate import apply_dump_facts
        apply_dump_facts(diag, opened.lines)
        from triage.diagnosis.crash import add_dump_modules, add_dump_page_size
        src = diag.dump.get("source") or {}     # read_dump_facts always returns a dict
        add_dump_modules(diag.crash, diag.dump.get("modules"), src.get("unavailable"))
        add_dump_page_size(diag.crash, (diag.dump.get("memory") or {}).get("page_size"))
        found = (src.get("debuginfo") or {}).get("file")
        if found:
            from triage.diagnosis.debuginfo import with_found_vmlinux
            diag.verdict.next_steps = with_found_vmlinux(diag.verdict.next_steps, found, shown)
    return diag


def source_info(path: str, opened: Any) -> SourceInfo:
    """SourceInfo from what open_log() learned about the input (a LogSource)."""
    g = lambda obj, name, default=None: getattr(obj, name, default) if obj is not None else default  # noqa: E731
    facts = g(opened, "facts")            # DumpFacts for dumps, None for text
    info = g(opened, "vmcoreinfo")        # VmcoreInfo for dumps
    kind = g(opened, "kind") or "text"
    problems = list(g(opened, "problems") or [])
    return SourceInfo(
        path=str(path),
        kind="vmcore" if kind == "dump" else "log",
        format=g(facts, "format") or ("text" if kind != "dump" else None),
        partial=bool(g(opened, "partial", False)),
        problems=[str(p) for p in problems],
        kernel_release=g(opened, "kernel_release") or g(info, "osrelease"),
        kernel_version=g(opened, "kernel_version"),
        hostname=g(opened, "hostname"),
        crash_time=_iso(g(opened, "crash_time") or g(info, "crash_time")),
        # CRASHTIME is written only by crash_kexec(): the kernel crashed into kdump
        crashed=kind == "dump" and (g(opened, "crash_time") or g(info, "crash_time")) is not None,
        arch=g(opened, "arch") or g(facts, "arch"),
        module_versions=dict(g(opened, "module_versions") or {}),
        build_id=g(info, "build_id"),
    )


def _iso(t: Any) -> Optional[str]:
    """Crash time as ISO 8601 UTC text, from epoch seconds, a datetime or a string."""
    if t is None:
        return None
    if isinstance(t, str):
        return t
    import datetime
    if isinstance(t, (int, float)):
        try:
            return datetime.datetime.fromtimestamp(t, tz=datetime.timezone.utc).isoformat().replace("+00:00", "Z")
        except (OverflowError, ValueError, OSError):
            return None         # outside what a clock can show: from a damaged input
    if isinstance(t, datetime.datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=datetime.timezone.utc)
        return t.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    return str(t)
