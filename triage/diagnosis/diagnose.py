"""Build the Diagnosis from a parsed log, the ranked rule matches and source facts.

This is where the verdict is chosen (best match; the most severe event when the
kernel did not panic; `unknown` for a crash no rule knows; `none` for a log
without a crash), the culprit is enriched from `Modules linked in:`, and the
evidence, contributing events, timeline, hypotheses, system summary and next
steps are assembled. Findings only: renderers do the printing.
"""

import dataclasses
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from triage.events.model import line_at, lines_between
from triage.diagnosis import hypotheses as hyp
from triage.textclip import clip
from triage.diagnosis import debuginfo
from triage.diagnosis.crash import build_crash
from triage.diagnosis.gpu import GpuKnowledge, builtin_knowledge
from triage.findings import (Culprit, Diagnosis, EvidenceLine, Source, SystemSummary,
                                 Verdict)
from triage.diagnosis.taint import decode_taint, module_taint
from triage.diagnosis.timeline import build_contributing, build_timeline, label

SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}

# Event kinds that are a crash (or a crash-like report) even if no rule knows them.
CRASH_KINDS = frozenset({
    "panic", "null_deref", "paging_fault", "gpf", "kernel_bug", "warning", "soft_lockup",
    "hard_lockup", "hung_task", "rcu_stall", "kasan", "ubsan", "kfence", "kcsan", "kmsan",
    "lockdep", "mce", "sysrq", "bad_page", "list_corruption", "stack_corruption",
    "oops_other", "kernel_bug_other", "hw_error",
})
# Preferred as the "main" event of an unrecognised crash: the oops, not the panic after it.
_OOPS_FIRST = ("null_deref", "paging_fault", "gpf", "kernel_bug", "kasan", "kfence", "kmsan",
               "ubsan", "kcsan", "list_corruption", "stack_corruption", "soft_lockup",
               "hard_lockup", "hung_task", "rcu_stall", "mce", "hw_error", "oops_other", "kernel_bug_other",
               "lockdep", "bad_page", "warning")

MAX_EVIDENCE = 30


@dataclass
class SourceInfo:
    """Facts about the input that the log itself may not hold."""

    path: str = "-"
    kind: str = "log"                  # "vmcore" or "log"
    format: Optional[str] = None
    partial: bool = False
    problems: List[str] = field(default_factory=list)
    kernel_release: Optional[str] = None
    kernel_version: Optional[str] = None
    hostname: Optional[str] = None
    crash_time: Optional[str] = None   # ISO 8601 UTC
    crashed: bool = False              # the dump was written at a kernel crash (kdump: CRASHTIME set)
    arch: Optional[str] = None
    module_versions: Dict[str, str] = field(default_factory=dict)
    build_id: Optional[str] = None     # VMCOREINFO BUILD-ID of the crashed kernel


@dataclass
class _MatchView:
    """The fields of a classify Match this module uses (tolerant of its shape)."""

    rule_id: Optional[str]
    category: str
    severity: Optional[str]
    meaning: Optional[str]
    next_steps: List[str]
    title: str
    event: Any
    related: List[Any]
    module: Optional[str]
    function: Optional[str]
    taint: Optional[str]
    confidence: float
    evidence: List[int]
    is_gpu: bool = False
    version: Optional[str] = None
    raw: Any = None


def _view(m) -> _MatchView:
    rule = getattr(m, "rule", None)
    cul = getattr(m, "culprit", None)
    steps = list(getattr(rule, "next_steps", None) or [])
    if isinstance(getattr(rule, "next_steps", None), str):
        steps = [rule.next_steps]
    ev_lines = []
    for x in getattr(m, "evidence", None) or []:
        if isinstance(x, int):
            ev_lines.append(x)
        elif hasattr(x, "number"):
            ev_lines.append(x.number)
        elif hasattr(x, "line"):
            ev_lines.append(x.line)
    return _MatchView(
        rule_id=getattr(rule, "id", None),
        # a match may refine its rule's category (warning -> warn_panic when it panicked)
        category=getattr(m, "category", None) or getattr(rule, "category", None) or "unknown",
        severity=getattr(m, "severity", None) or getattr(rule, "severity", None),
        meaning=_prose(getattr(rule, "meaning", None)),
        next_steps=[_prose(x) for x in steps if x and x.strip()],
        title=getattr(m, "title", None) or getattr(rule, "title", None) or "",
        event=getattr(m, "event", None),
        related=list(getattr(m, "related", None) or []),
        module=getattr(cul, "module", None),
        function=getattr(cul, "function", None),
        taint=getattr(cul, "taint", None),
        confidence=float(getattr(m, "confidence", 0.0) or 0.0),
        evidence=ev_lines,
        is_gpu=bool(getattr(cul, "is_gpu_driver", False)),
        version=getattr(cul, "version", None),
        raw=m,
    )


def _prose(text: Optional[str]) -> Optional[str]:
    """Rule prose (TOML multi-line strings) as one line of single spaces."""
    return " ".join(text.split()) if text else text


def _pick(views: List[_MatchView], panicked: bool) -> Optional[_MatchView]:
    """classify ranks best first; without a panic the most severe event wins, unless classify
    put first the report a later, more severe blocked-task report waited on (Match.explains)."""
    if not views:
        return None
    if panicked or getattr(views[0].raw, "explains", None) is not None:
        return views[0]
    best = views[0]
    for v in views[1:]:
        if SEVERITY_RANK.get(v.severity or "", -1) > SEVERITY_RANK.get(best.severity or "", -1):
            best = v
    return best


_NUM = re.compile(r"\b0x[0-9a-fA-F]+\b|\b[0-9a-fA-F]{8,}\b|\b\d+\b")


def _generic_title(ev) -> str:
    """A stable title for an unrecognised crash: its header, numbers replaced."""
    text = clip(ev.text.strip(), 160)
    text = _NUM.sub("NUM", text)
    fn = ev.ip.function if getattr(ev, "ip", None) else None
    mod = ev.ip.module if getattr(ev, "ip", None) else None
    if fn:
        text += f" in {fn}" + (f" [{mod}]" if mod else "")
    return text


def _main_event_without_rule(events: Sequence) -> Optional[Any]:
    crash = [e for e in events if e.kind in CRASH_KINDS]
    if not crash:
        return None
    panics = [e for e in crash if e.kind == "panic"]
    stop = panics[-1].line if panics else None
    for kind in _OOPS_FIRST:
        # the last oops before the (last) panic, else the first such report
        cands = [e for e in crash if e.kind == kind and (stop is None or e.line <= stop)]
        if cands:
            return cands[-1] if stop is not None else cands[0]
    return crash[-1]


_NVRM_VERSION = re.compile(r"NVRM: loading NVIDIA UNIX.*?Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)*)")


def log_module_versions(log) -> Dict[str, str]:
    """Module versions the log itself announces (the NVIDIA driver prints its
    version when it loads: `NVRM: loading NVIDIA UNIX x86_64 Kernel Module  550.54.15 ...`)."""
    out: Dict[str, str] = {}
    for ln in log.lines:
        if "NVRM: loading" in ln.text[:40]:
            m = _NVRM_VERSION.search(ln.text[:300])
            if m:
                # every nvidia* module of one driver install shares the version
                out["nvidia"] = m.group(1)
    return out


def _find_module(facts, name: Optional[str]):
    if not name:
        return None
    want = name.replace("-", "_")
    for m in getattr(facts, "modules", None) or []:
        if m.name.replace("-", "_") == want:
            return m
    return None


def _culprit(view: Optional[_MatchView], main, facts, source: SourceInfo, gpu: GpuKnowledge) -> Culprit:
    module = function = taint = None
    if view is not None:
        module, function, taint = view.module, view.function, view.taint
    elif main is not None and getattr(main, "ip", None) is not None:
        module, function = main.ip.module, main.ip.function
    mod = _find_module(facts, module)
    if taint is None and mod is not None:
        taint = mod.taint
    marks = module_taint(taint) if module else module_taint(None)
    if module and taint is None and mod is not None:
        marks = module_taint("")
    version = None
    if module:
        version = ((view.version if view is not None else None) or (mod.version if mod is not None else None)
                   or source.module_versions.get(module))
    # the signature layer may know the module is a GPU driver from its own list
    is_gpu = gpu.is_gpu_module(module) or bool(module and view is not None and view.is_gpu)
    if module is None and view is None and gpu.builtin_driver(function):
        # a built-in GPU driver prints no [module] tag: its function prefix names it (the
        # classifier's view already applied the prefixes, and a decoded source file over them)
        module, is_gpu = gpu.builtin_driver(function), True
    return Culprit(module=module, function=function, taint=taint or None,
                   out_of_tree=marks["out_of_tree"], proprietary=marks["proprietary"],
                   unsigned=marks["unsigned"], version=version, is_gpu_driver=is_gpu)


_KEY_PREFIXES = ("RIP: 0010:", "IP:", "pc :", "PC is at", "CPU: ")


def _key_lines(log, ev) -> List[int]:
    """The faulting-IP line and the CPU/PID/Comm line of an event's block:
    where it crashed and in which task."""
    if ev is None:
        return []
    end = min(ev.end_line or ev.line, ev.line + 80)
    found: Dict[str, int] = {}
    for ln in lines_between(log.lines, ev.line + 1, end):
        t = ln.text.lstrip()
        for p in _KEY_PREFIXES:
            if t.startswith(p):
                key = "cpu" if p == "CPU: " else "ip"
                found.setdefault(key, ln.number)
    return sorted(found.values())


def _evidence(log, view: Optional[_MatchView], main, panic) -> List[EvidenceLine]:
    numbers: List[int] = list(view.evidence) if view is not None else []
    if not numbers:
        numbers = [ev.line for ev in (main, panic) if ev is not None]
    numbers += _key_lines(log, main)
    out = []
    for n in sorted(set(numbers))[:MAX_EVIDENCE]:
        ln = line_at(log.lines, n)
        if ln is not None:
            out.append(EvidenceLine(line=n, text=clip(ln.text, 1000), ts=ln.ts))
    return out


def _modules_of_interest(facts, culprit: Culprit, source: SourceInfo, gpu: GpuKnowledge) -> List[Dict[str, Any]]:
    out = []
    seen = set()
    for m in getattr(facts, "modules", None) or []:
        is_culprit = culprit.module is not None and m.name.replace("-", "_") == culprit.module.replace("-", "_")
        is_gpu = gpu.is_gpu_module(m.name)
        if not (is_gpu or is_culprit) or m.name in seen:
            continue
        seen.add(m.name)
        marks = module_taint(m.taint)
        out.append({"name": m.name, "taint": m.taint or "", "gpu": is_gpu, "culprit": is_culprit,
                    "version": m.version or source.module_versions.get(m.name), **marks})
    if culprit.module and culprit.module not in seen:
        out.insert(0, {"name": culprit.module, "taint": culprit.taint or "", "gpu": culprit.is_gpu_driver,
                       "culprit": True, "version": culprit.version, "out_of_tree": culprit.out_of_tree,
                       "proprietary": culprit.proprietary, "unsigned": culprit.unsigned})
    out.sort(key=lambda d: (not d["culprit"], d["name"]))
    return out


def _next_steps(verdict: Verdict, hyps, source: SourceInfo, main, events, category: str,
                system: Optional[SystemSummary] = None) -> List[str]:
    steps = list(verdict.next_steps)
    c = verdict.culprit
    byname = {h.name: h for h in hyps}
    if c.module and c.is_gpu_driver and _nvidia_module(c.module):
        steps.append("Collect `nvidia-bug-report.sh` and the driver version (`modinfo nvidia`, "
                     "`cat /proc/driver/nvidia/version`); check NVIDIA's release notes for a fix in a newer driver "
                     "and report the oops to NVIDIA with this summary.")
    elif c.module and c.is_gpu_driver:
        steps.append(f"Check the {c.module} driver and GPU firmware versions against the upstream/vendor fixes "
                     "for this function; report the oops upstream with this summary.")
    elif c.module and c.out_of_tree:
        steps.append(f"{c.module} is an out-of-tree module (taint O): check its version and its vendor's fixes "
                     "before suspecting the kernel.")
    mem = byname.get("memory_exhaustion")
    if mem and mem.status == hyp.SUPPORTED:
        steps.append("Find what used the memory: the OOM task table and Mem-Info in the log; check cgroup "
                     "limits, recent workload changes, and whether vm.panic_on_oom is intended.")
    elif mem and mem.status == hyp.RULED_OUT and any(e.kind in hyp.ALLOC_KINDS for e in events):
        steps.append("Adding memory will not help: the allocation failed with free memory above the watermarks. "
                     "The caller must handle a failed allocation (check for NULL) or ask for less "
                     "(smaller order, kvmalloc/vmalloc for large buffers).")
    hw = byname.get("hardware")
    if hw and hw.status == hyp.SUPPORTED:
        steps.append("Check the hardware: `ras-mc-ctl --errors`/mcelog, the BMC event log, and for GPUs "
                     "`nvidia-smi -q -d ECC,PAGE_RETIREMENT`; plan a reseat or RMA if errors repeat.")
    it = byname.get("intentional")
    if it and it.status == hyp.SUPPORTED:
        steps.append("Find who triggered sysrq (audit log, automation, a watchdog or a hung-task policy) "
                     "before treating this as a kernel bug.")
    if category == "unknown":
        steps.append("No signature knows this crash: read the evidence lines, and add a rule in a "
                     "`--signatures DIR` directory so the next one is recognised.")
    earlier = [e for e in events if main is not None and e.line < main.line
               and e.kind in ("null_deref", "paging_fault", "gpf", "kernel_bug")]
    if earlier:
        steps.append(f"An earlier oops at line {earlier[0].line} may be the root cause "
                     f"({label(earlier[0].kind)}); read it first.")
    intentional = it is not None and it.status == hyp.SUPPORTED
    hardware = hw is not None and hw.status == hyp.SUPPORTED
    in_code = category not in ("none", "gpu_xid", "mce") and not intentional and not hardware
    if system is not None and (in_code or source.kind == "vmcore"):
        # a crash in code: symbols turn the trace's offsets into source lines, and the dump
        # holds the state (task list, memory, locks) the log does not print. A dump gets the
        # steps whatever the crash: a sysrq-c or a hardware panic was captured to be opened
        # (what hung, what the GPU's tasks were doing), and crash needs the vmlinux for it.
        steps += debuginfo.next_steps(system.kernel_release, system.kernel_version, source.build_id,
                                      source.path, source.kind == "vmcore", c.module, bool(c.out_of_tree))
    if source.partial:
        steps.append("The input is incomplete (" + "; ".join(source.problems[:3] or ["partial dump"]) +
                     "): the last records may be missing; keep the original dump and recapture if possible.")
    seen, uniq = set(), []
    for s in steps:
        if s not in seen:
            seen.add(s)
            uniq.append(s)
    return uniq


# Said when the input starts after the crash report's first line (an excerpt).
HEADER_MISSING = ("the log starts after the report's header; its kind was read from what remains "
                  "(RIP/pc, #PF:, Code:, call trace, OOM task table)")
ADDRESS_ASSUMED = ("the log holds no fault address (no header, CR2 summary, page-table walk or far/DAR "
                   "line): a NULL dereference, the commonest kernel page fault, is assumed, not read")
KIND_ASSUMED = ("the log shows no kind of exception (no header, die line, page-fault lines, CR2 or trapping "
                "instruction), only where it happened: a NULL dereference, the commonest kernel oops, is "
                "assumed, not read; a WARNING or BUG pasted without its Code: line reads the same")


def diagnose(log, matches: Sequence, source: Optional[SourceInfo] = None,
             gpu: Optional[GpuKnowledge] = None) -> Diagnosis:
    """The Diagnosis of one input from its parsed log and its ranked rule matches.

    `matches` are classify's Match objects, best first. `source` adds what the
    input (a dump) knows beyond the log: path, partial, crash time, hostname.
    `gpu` is the GPU knowledge of the RuleSet the matches came from
    (GpuKnowledge.from_rules); the built-in signature data when None.
    """
    source = source or SourceInfo()
    gpu = gpu if gpu is not None else builtin_knowledge()
    facts = log.facts
    announced = log_module_versions(log)
    if announced:
        source = dataclasses.replace(source, module_versions={**_nvidia_family(announced, facts),
                                                              **source.module_versions})
    # the "---[ end Kernel panic ... ]---" trailer repeats the panic; it is not a new event
    events = [e for e in log.events if not (e.kind == "panic" and e.text.lstrip().startswith("---[ end "))]
    panics = [e for e in events if e.kind == "panic"]
    # with kdump loaded, an oops under panic_on_oops enters crash_kexec() before panic()
    # prints anything: the dump itself is the proof the kernel went down
    panicked = bool(panics) or source.crashed
    views = [_view(m) for m in matches]
    best = _pick(views, panicked)
    if not panicked:
        # the same crash read from the vmcore-dmesg.txt or the serial log: the
        # log itself shows the kernel went into kdump (no panic line is printed)
        cand = best.event if best is not None else _main_event_without_rule(events)
        if _crashed_into_kdump(log, cand, facts):
            panicked = True
            best = _pick(views, panicked)

    if best is not None:
        main = best.event
        category = best.category
        title = best.title or (best.rule_id or category)
        confidence = best.confidence
    else:
        main = _main_event_without_rule(events)
        if main is not None:
            category, title, confidence = "unknown", _generic_title(main), 0.2
        else:
            category, title = "none", "no crash found in the log"
            confidence = 0.5 if source.partial else 0.9

    if category == "none" and source.partial:
        # the crash records may be among the pages that could not be read
        title = "no crash found in the readable part of a partial input"
        confidence = min(confidence, 0.5)

    panic = None
    if main is not None:
        after = [p for p in panics if p.line >= main.line]
        panic = after[0] if after else (panics[-1] if panics else None)
    elif panics:
        panic = panics[-1]
    crash_ev = panic or main
    crash_line = crash_ev.end_line or crash_ev.line if crash_ev is not None else None
    crash_ts = crash_ev.ts if crash_ev is not None else None

    culprit = _culprit(best, main, facts, source, gpu)
    verdict = Verdict(
        category=category, title=title,
        # unknown/none come from the engine's built-in fallbacks, not from a signature
        signature=best.rule_id if best and category not in ("unknown", "none") else None,
        confidence=round(max(0.0, min(1.0, confidence)), 3),
        severity=best.severity if best else ("high" if main is not None else "info"),
        panicked=panicked, culprit=culprit,
        meaning=best.meaning if best else (
            "the log holds a crash report that no signature recognises" if main is not None
            else "the log holds no panic, oops, lockup or other crash report"),
        next_steps=list(best.next_steps) if best else [],
    )

    taint = (main.taint if main is not None and main.taint else None) or facts.taint
    loaded_gpu = sorted({m.name for m in (facts.modules or []) if gpu.is_gpu_module(m.name)})
    ctx = hyp.Context(events=events, lines=log.lines, main=main, crash_ts=crash_ts,
                      crash_line=crash_line, category=category, culprit=culprit, taint=taint,
                      loaded_gpu=loaded_gpu, modules_known=bool(facts.modules), panicked=panicked,
                      arch=source.arch or facts.arch,
                      panic_reason=(panic.fields or {}).get("reason") if panic is not None else None, gpu=gpu)
    hyps = hyp.assess_all(ctx)

    system = SystemSummary(
        kernel_release=source.kernel_release or facts.kernel_release,
        # the log's "Linux version ..." banner is the fuller string; utsname holds its "#1 SMP ..." part
        kernel_version=facts.kernel_version or source.kernel_version,
        hostname=_real_host(source.hostname) or _real_host(_syslog_host(log)),
        arch=source.arch or facts.arch,
        hardware=facts.hardware,
        taint=taint,
        taint_flags=decode_taint(taint),
        uptime_s=crash_ts if crash_ts is not None else facts.uptime_s,
        crash_time=source.crash_time,
        mem_total_kb=facts.mem_total_kb,
        modules_of_interest=_modules_of_interest(facts, culprit, source, gpu),
        build_id=source.build_id,
    )
    verdict.next_steps = _next_steps(verdict, hyps, source, main, events, category, system)
    related = best.related if best else []
    stop = crash_line if crash_line is not None else (events[-1].line if events else 0)
    other = [{"signature": v.rule_id, "category": v.category, "title": v.title,
              "confidence": round(v.confidence, 3),
              "line": getattr(v.event, "line", None)} for v in views
             if v is not best and not _consequence(v.event, main)][:10]
    problems = list(source.problems)
    if main is not None and (main.fields or {}).get("header_missing"):
        problems.append(HEADER_MISSING)
    if main is not None and (main.fields or {}).get("kind_unknown"):
        problems.append(KIND_ASSUMED)
    elif main is not None and (main.fields or {}).get("address_unknown"):
        problems.append(ADDRESS_ASSUMED)
    if getattr(log, "dropped_events", 0):
        problems.append(f"the log holds {log.dropped_events} more crash reports than triage keeps; "
                        "the first and last ones and the first of each kind between them were read")
    dump_values = {"kernel_release": source.kernel_release, "arch": source.arch} if source.kind == "vmcore" else {}
    crash = build_crash(log, main, panic, events, crash_line, source.arch or facts.arch, dump_values)
    return Diagnosis(
        source=Source(path=source.path, kind=source.kind, format=source.format,
                      partial=source.partial, problems=problems),
        verdict=verdict,
        crash=crash,
        system=system,
        evidence=_evidence(log, best, main, panic),
        # without a crash every notable event "contributes"; keep the latest few
        contributing=build_contributing(events, main, related, gpu) if main is not None
        else build_contributing(events, None, related, gpu)[-10:],
        hypotheses=hyps,
        timeline=build_timeline(events, stop, gpu),
        other_matches=other,
    )


# Header lines printed by die(): the report is an oops, which ends in oops_end().
_DIE_LINES = ("Oops: ", "Internal error: ", "invalid opcode: ", "general protection fault", "stack segment: ",
              "divide error: ", "Oops - ")
_PANIC_ON_OOPS = re.compile(r"(?:^|\s)(?:oops=panic|panic_on_oops=1)(?:\s|$)")


def _crashed_into_kdump(log, ev, facts) -> bool:
    """True when an oops in the log went straight into the kdump kernel.

    With a crash kernel loaded, oops_end() calls crash_kexec() before panic()
    would print anything when the oops is fatal: in an interrupt, in the idle
    task (pid 0) or init (pid 1), or with panic_on_oops. The log then shows the
    oops with "Kdump: loaded" on its CPU: line and no "Kernel panic" record,
    while the vmcore written at that moment proves the crash. panic_on_oops set
    at run time (sysctl) leaves no trace in the log, so such a log stays
    "not panicked"."""
    if ev is None:
        return False
    end = min(ev.end_line or ev.line, ev.line + 80)
    died = kdump = False
    for ln in lines_between(log.lines, ev.line, end):
        t = ln.text.lstrip()
        if t.startswith(_DIE_LINES):
            died = True
        elif t.startswith("CPU: ") and "Kdump: loaded" in t:
            kdump = True
    if not (died and kdump):
        return False
    in_irq = any(getattr(f, "context", "task") in ("irq", "softirq", "nmi") for f in ev.frames or ())
    return ev.pid in (0, 1) or in_irq or bool(_PANIC_ON_OOPS.search(getattr(facts, "cmdline", None) or ""))


def _consequence(ev, main) -> bool:
    """A panic printed after the verdict's report is that report's consequence, not another finding."""
    return ev is not None and main is not None and ev.kind == "panic" and ev.line >= main.line


def _nvidia_family(versions: Dict[str, str], facts) -> Dict[str, str]:
    """Spread the NVIDIA driver version to nvidia_uvm, nvidia_drm, ... of the same install."""
    out = dict(versions)
    if "nvidia" in versions:
        for m in getattr(facts, "modules", None) or []:
            if _nvidia_module(m.name):
                out.setdefault(m.name, versions["nvidia"])
    return out


def _nvidia_module(name: str) -> bool:
    """nvidia and its companions (nvidia_uvm, nvidia_drm, ...): one driver install."""
    n = name.replace("-", "_")
    return n == "nvidia" or n.startswith("nvidia_")


def _real_host(name: Optional[str]) -> Optional[str]:
    """None for the kernel's placeholder "(none)" (no hostname was set) and blanks."""
    if not name or not name.strip() or name.strip() in ("(none)", "localhost", "localhost.localdomain"):
        return None
    return name.strip()


def _syslog_host(log) -> Optional[str]:
    for ln in log.lines[:50]:
        if ln.host:
            return ln.host
    return None


def relocate(diag: Diagnosis, path: str) -> Diagnosis:
    """Say that `diag` was read from `path` (e.g. batch's archive member instead
    of the temporary copy it analysed): source.path and the dump path in the
    next steps' command lines."""
    old = diag.source.path
    if old and old != path:
        q_old, q_new = shlex.quote(old), shlex.quote(path)
        diag.verdict.next_steps = [x.replace(q_old, q_new) if q_old in x else x for x in diag.verdict.next_steps]
    diag.source.path = path
    return diag
