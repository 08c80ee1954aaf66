"""The explanations an expert weighs, each with a verdict and its reason.

memory_exhaustion, gpu_driver_fault, hardware and intentional are assessed
from the events of the whole log, independently of the rule that matched,
so the summary says why "not enough memory" is or is not supported.
"""

import re
from dataclasses import dataclass, field
from typing import List, Optional

from triage.events.model import is_near_null, line_at
from triage.textclip import clip
from triage.diagnosis.gpu import GpuKnowledge
from triage.diagnosis.meminfo import ZoneFree, usable, zone_blocks
from triage.diagnosis.taint import taint_letters
from triage.findings import Culprit, EvidenceLine, Hypothesis

SUPPORTED, RULED_OUT, INCONCLUSIVE = "supported", "ruled_out", "inconclusive"

OOM_KINDS = ("oom_invoked", "oom_kill")
ALLOC_KINDS = ("alloc_failure", "vmalloc_failure")
# OOM activity this close before the crash is part of the same episode.
RECENT_S = 120.0
HW_KINDS = ("mce", "hw_error")
# Verdicts that are themselves about memory running out or an allocation failing.
MEMORY_CATEGORIES = frozenset({"oom_panic", "oom_kill", "alloc_failure", "gpu_alloc_fail_null_deref"})


@dataclass
class Context:
    """What the assessments look at."""

    events: List
    lines: List            # LogLine list (for Mem-Info zone lines)
    main: Optional[object]  # the event the verdict is about
    crash_ts: Optional[float]
    crash_line: Optional[int]
    category: str
    culprit: Culprit
    taint: Optional[str]
    loaded_gpu: List[str]
    panic_reason: Optional[str]
    modules_known: bool = True   # the log has a `Modules linked in:` list
    panicked: bool = True
    arch: Optional[str] = None
    gpu: GpuKnowledge = field(default_factory=GpuKnowledge)   # GPU modules, prefixes, Xid taxonomy


def _ev(e) -> EvidenceLine:
    return EvidenceLine(line=e.line, text=clip(e.text, 400), ts=e.ts)


def _before(ctx: Context, kinds) -> List:
    stop = ctx.crash_line if ctx.crash_line is not None else float("inf")
    return [e for e in ctx.events if e.kind in kinds and e.line <= stop]


def _kb(kb: int) -> str:
    return f"{kb / 1024:.1f} MiB" if kb >= 1024 else f"{kb} kB"


def _alloc_desc(e) -> str:
    f = e.fields or {}
    bits = []
    if f.get("order") is not None:
        bits.append(f"order {f['order']}")
    if f.get("size") is not None:
        bits.append(f"size {f['size']}")
    if f.get("gfp_mask") or f.get("mode"):
        bits.append(f"gfp {f.get('gfp_mask') or f.get('mode')}")
    where = ""
    from triage.diagnosis.timeline import event_module
    mod = event_module(e)
    if mod:
        where = f" by {mod}"
    ts = f" at {e.ts:.2f} s" if e.ts is not None else ""
    if "exceeds total pages" in (e.text or ""):
        bits.append("larger than all of RAM")
    return f"{'vmalloc' if e.kind == 'vmalloc_failure' else 'page allocation'} failure{where}{ts}" + \
        (f" ({', '.join(bits)})" if bits else "")


def _crash_words(ctx: "Context") -> str:
    from triage.diagnosis.timeline import label
    m = ctx.culprit.module
    return label(ctx.main.kind) + (f" in {m}" if m else "")


def _zones_desc(zones: List[ZoneFree]) -> str:
    out = []
    for z in zones:
        marks = f"min {_kb(z.min_kb)}"
        if z.low_kb is not None:
            marks += f", low {_kb(z.low_kb)}"
        if z.high_kb is not None:
            marks += f", high {_kb(z.high_kb)}"
        out.append(f"{z.zone} free {_kb(z.free_kb)} ({marks})")
    return "; ".join(out)


_ZONE_ORDER = {"DMA": 0, "DMA32": 1, "Normal": 2, "HighMem": 3, "Movable": 4}


def zone_state(zones: List[ZoneFree]) -> Optional[str]:
    """"exhausted", "tight" or "ample" for one Mem-Info report, judged on the
    highest zone present: most allocations start there, and the lower zones keep
    a lowmem_reserve against them, so their free pages are not available.
    At or below the low watermark the allocator reclaims and, failing that,
    runs the OOM killer; above the high watermark it has nothing to do."""
    if not zones:
        return None
    top = max(zones, key=lambda z: (_ZONE_ORDER.get(z.zone, 2), z.node))
    tops = [z for z in zones if z.zone == top.zone]
    low = [z for z in tops if z.free_kb <= (z.low_kb if z.low_kb is not None else z.min_kb * 5 // 4)]
    if len(low) == len(tops):
        return "exhausted"
    ample = [z for z in tops if z.free_kb > (z.high_kb if z.high_kb is not None else z.min_kb * 3 // 2)]
    return "ample" if len(ample) == len(tops) else "tight"


def _top_task(ctx: Context) -> str:
    """", largest task: hog (pid 95) rss 52.9 MiB" from the OOM report's task table."""
    for e in reversed(_before(ctx, ("oom_invoked",))):
        top = ((e.fields or {}).get("tasks") or {}).get("top") or []
        rows = [r for r in top if isinstance(r.get("rss"), int)]
        if rows:
            r = max(rows, key=lambda r: r["rss"])
            # the table counts pages; x86_64 pages are 4 KiB, other arches vary (arm64: 4/16/64 KiB)
            size = _kb(r["rss"] * 4) if ctx.arch in (None, "x86_64") else f"{r['rss']} pages"
            return f"; largest task in the OOM report: {r.get('name')} (pid {r.get('pid')}) rss {size}"
    for e in reversed(_before(ctx, ("oom_kill",))):
        f = e.fields or {}
        if f.get("victim_comm") and f.get("anon_rss_kb") is not None:
            return f"; killed: {f['victim_comm']} (pid {f.get('victim_pid')}) anon-rss {_kb(f['anon_rss_kb'])}"
    return ""


def _killed(kills: List) -> str:
    """"; the OOM killer freed memory by killing hog (pid 97, anon-rss 52.3 MiB)"."""
    for e in reversed(kills):
        f = e.fields or {}
        if f.get("victim_comm"):
            rss = f" anon-rss {_kb(f['anon_rss_kb'])}" if isinstance(f.get("anon_rss_kb"), int) else ""
            return f"; the OOM killer freed memory by killing {f['victim_comm']} (pid {f.get('victim_pid')},{rss})"
    return ""


def _line_ts(ctx: Context, number: int) -> Optional[float]:
    for e in ctx.events:
        if e.line <= number <= (e.end_line or e.line) and e.ts is not None:
            return e.ts
    ln = line_at(ctx.lines, number)
    return ln.ts if ln is not None else None


def _zone_evidence(zones: List[ZoneFree]) -> List[EvidenceLine]:
    return [EvidenceLine(z.line, f"Node {z.node} {z.zone} free:{z.free_kb}kB min:{z.min_kb}kB"
                         + (f" low:{z.low_kb}kB" if z.low_kb is not None else "")
                         + (f" high:{z.high_kb}kB" if z.high_kb is not None else "")) for z in zones]


def memory_exhaustion(ctx: Context) -> Hypothesis:
    """Was the system out of memory? OOM kills, allocation failures and the
    Mem-Info free pages against the zone watermarks decide."""
    name = "memory_exhaustion"
    ooms = _before(ctx, OOM_KINDS)
    allocs = _before(ctx, ALLOC_KINDS)
    blocks = [usable(b) for b in _zone_blocks(ctx)]
    blocks = [b for b in blocks if b]
    last_zones = blocks[-1] if blocks else []
    state = zone_state(last_zones)
    zs = f"; Mem-Info: {_zones_desc(last_zones)}" if last_zones else ""
    if last_zones and ctx.crash_ts is not None:
        when_mi = _line_ts(ctx, last_zones[0].line)
        if when_mi is not None and ctx.crash_ts - when_mi >= 1.0:
            # the report describes memory then, not at the crash
            zs = f"; Mem-Info {ctx.crash_ts - when_mi:.1f} s before the crash: {_zones_desc(last_zones)}"
    if ctx.category == "oom_panic" or (ctx.panic_reason and "out of memory" in ctx.panic_reason.lower()):
        ev = [_ev(e) for e in _before(ctx, OOM_KINDS + ("panic",))][-5:] + _zone_evidence(last_zones)
        return Hypothesis(name, SUPPORTED, "the kernel panicked in the OOM killer (vm.panic_on_oom): "
                          "memory ran out and the configuration turned that into a crash"
                          + zs + _top_task(ctx), ev)
    kills = [e for e in ooms if e.kind == "oom_kill"]
    if ooms:
        last = ooms[-1]
        n = len(kills) or len(ooms)
        what = f"{n} OOM kill{'s' if n != 1 else ''}" if kills else f"the OOM killer ran {len(ooms)} time(s)"
        gap = (ctx.crash_ts - last.ts) if (ctx.crash_ts is not None and last.ts is not None) else None
        ev = [_ev(e) for e in ooms[-4:]]
        if ctx.main is None or ctx.category in ("oom_kill", "oom_panic"):
            return Hypothesis(name, SUPPORTED, f"{what}, the last at line {last.line}"
                              + ("; the kernel did not crash" if not ctx.panicked else "") + zs + _top_task(ctx), ev)
        when = f"{gap:.1f} s before the crash" if gap is not None else "before the crash"
        if ctx.category in MEMORY_CATEGORIES or (allocs and allocs[-1].line > last.line):
            # the crash followed a failed allocation made while the OOM killer was busy
            return Hypothesis(name, SUPPORTED, f"{what}, the last {when}, and the crash followed a failed "
                              f"allocation ({_alloc_desc(allocs[-1]) if allocs else 'see timeline'}){zs}", ev)
        crash = _crash_words(ctx)
        zs += _killed(kills)
        if gap is not None and gap > RECENT_S:
            return Hypothesis(name, INCONCLUSIVE,
                              f"{what}, but the last was {gap:.0f} s before the crash and the system recovered "
                              f"from it; the crash ({crash}) is not an out-of-memory failure{zs}", ev)
        return Hypothesis(name, INCONCLUSIVE,
                          f"{what}, the last {when}{zs}; the crash itself ({crash}) is not an out-of-memory "
                          "failure and no allocation failure led to it: memory pressure may have contributed, "
                          "it is not shown to be the cause", ev)
    if allocs:
        ev = [_ev(e) for e in allocs[-4:]]
        desc = _alloc_desc(allocs[-1])
        if not last_zones:
            return Hypothesis(name, INCONCLUSIVE,
                              f"{desc} and no OOM kill, but the log has no Mem-Info zone report to tell "
                              "whether free memory was at the watermarks", ev)
        ev += _zone_evidence(last_zones)
        if state == "exhausted":
            return Hypothesis(name, SUPPORTED,
                              f"{desc}; free memory was at or below the low watermark ({_zones_desc(last_zones)}): "
                              "the system was short of memory", ev)
        if state == "tight":
            return Hypothesis(name, INCONCLUSIVE,
                              f"{desc}; free memory was between the low and high watermarks "
                              f"({_zones_desc(last_zones)}): memory was tight but not exhausted, and the OOM "
                              "killer never ran", ev)
        order = (allocs[-1].fields or {}).get("order")
        why = "the request itself could not be met (its size, order or GFP flags)"
        if isinstance(order, int) and order > 3:
            # beyond PAGE_ALLOC_COSTLY_ORDER the allocator gives up early instead of reclaiming hard
            why = (f"an order-{order} request needs {4 << order} KiB physically contiguous, which "
                   "fragmented memory may not have: fragmentation, not a lack of memory")
        return Hypothesis(name, RULED_OUT,
                          f"{desc}, but free memory was above the high watermark, far from the min watermark "
                          f"({_zones_desc(last_zones)}), and the OOM killer never ran: {why}; "
                          "the machine was not out of memory", ev)
    if state == "exhausted":
        return Hypothesis(name, INCONCLUSIVE,
                          f"no OOM kill or allocation failure, but a Mem-Info report shows free memory at or "
                          f"below the low watermark ({_zones_desc(last_zones)})", _zone_evidence(last_zones))
    return Hypothesis(name, RULED_OUT, "no OOM killer run, no OOM kill and no allocation failure in the log"
                      + _coverage(ctx))


def _zone_blocks(ctx: Context) -> List[List[ZoneFree]]:
    """Mem-Info zone reports before the crash: from the parser's meminfo
    events when it kept them, else read from the log lines."""
    blocks = []
    for e in _before(ctx, ("meminfo",)):
        zones = ((e.fields or {}).get("meminfo") or {}).get("zones") or []
        block = []
        for z in zones:
            try:
                block.append(ZoneFree(int(z["node"]), str(z["zone"]), int(z["free_kb"]), int(z["min_kb"]),
                                      z.get("low_kb"), z.get("high_kb"), e.line))
            except (KeyError, TypeError, ValueError):
                continue
        if block:
            blocks.append(block)
    return blocks or zone_blocks(_lines_before(ctx))


def _lines_before(ctx: Context):
    if ctx.crash_line is None:
        return ctx.lines
    stop = ctx.crash_line
    return (ln for ln in ctx.lines if ln.number <= stop)


def _coverage(ctx: Context) -> str:
    first = next((ln.ts for ln in ctx.lines if ln.ts is not None), None)
    if first is None or ctx.crash_ts is None:
        return ""
    if first > 5.0:
        return f" (but the log starts at {first:.1f} s: earlier records were lost)"
    return f" (the log covers {first:.1f} s to {ctx.crash_ts:.1f} s)"


def _xid(e) -> Optional[int]:
    x = (e.fields or {}).get("xid")
    try:
        return int(x) if x is not None else None
    except (TypeError, ValueError):
        return None


def gpu_driver_fault(ctx: Context) -> Hypothesis:
    """Is a GPU driver to blame? Only when the fault is in its code."""
    name = "gpu_driver_fault"
    mod = ctx.culprit.module
    gpu_evs = _before(ctx, ("nvrm_xid", "gpu_fault"))
    sw_xids = [e for e in gpu_evs if e.kind == "nvrm_xid" and not ctx.gpu.is_hardware_xid(_xid(e))]
    ev = [_ev(e) for e in gpu_evs[-3:]]
    if ctx.main is not None and ctx.main.kind in ("nvrm_xid", "gpu_fault") and ctx.category in ("gpu_xid", "gpu_fault"):
        xid = _xid(ctx.main) if ctx.main.kind == "nvrm_xid" else None
        info = ctx.gpu.xid(xid)
        if ctx.gpu.is_hardware_xid(xid) or (ctx.main.fields or {}).get("fallen_off_bus"):
            what = info.name if info is not None else "GPU has fallen off the bus"
            cause = info.cause if info is not None else "bus"
            return Hypothesis(name, RULED_OUT, f"the GPU error is Xid {xid} ({what}), which NVIDIA's Xid catalogue "
                              f"attributes to the GPU's {cause}: not a bug in the driver's code", ev)
        if info is not None and info.cause == "application":
            return Hypothesis(name, INCONCLUSIVE, f"the GPU error is Xid {xid} ({info.name}), which NVIDIA "
                              "attributes mostly to the application running on the GPU, less often to the driver", ev)
        if info is not None:
            return Hypothesis(name, SUPPORTED, f"the GPU error is Xid {xid} ({info.name}), which NVIDIA's Xid "
                              "catalogue attributes to the driver or its firmware", ev)
        return Hypothesis(name, SUPPORTED, f"the most severe event is a GPU driver error: {clip(ctx.main.text, 160)}", ev)
    if ctx.category == "mce":
        return Hypothesis(name, RULED_OUT, "the crash is a machine check: the hardware reported the error, "
                          "not driver code")
    if mod and (ctx.gpu.is_gpu_module(mod) or ctx.culprit.is_gpu_driver):
        marks = []
        if ctx.culprit.proprietary:
            marks.append("proprietary")
        if ctx.culprit.out_of_tree:
            marks.append("out of tree")
        m = f" ({', '.join(marks)})" if marks else ""
        fn = f" function {ctx.culprit.function}" if ctx.culprit.function else ""
        where = "" if ctx.main is None else f" at line {ctx.main.line}"
        null = ""
        addr = (ctx.main.fields or {}).get("address") if ctx.main is not None else None
        if ctx.main is not None and ctx.main.kind == "null_deref" and is_near_null(addr):
            null = (f"; it dereferenced address {addr:#x}, i.e. NULL + {addr:#x}: a field of a structure "
                    "whose pointer was NULL")
        return Hypothesis(name, SUPPORTED, f"the fault is in GPU driver {mod}{m},{fn}{where}{null}",
                          [_ev(ctx.main)] + ev if ctx.main is not None else ev)
    gpu_in_trace = []
    if ctx.main is not None:
        gpu_in_trace = sorted({d for d in (ctx.gpu.frame_driver(f) for f in (ctx.main.frames or []) if f.reliable)
                               if d})
    where = f"in {mod}" if mod else "in the core kernel"
    if ctx.culprit.function:
        where += f" ({ctx.culprit.function})"
    if ctx.category in ("sysrq", "oom_panic") and not gpu_evs:
        why = "requested through sysrq" if ctx.category == "sysrq" else "the OOM killer's panic"
        return Hypothesis(name, RULED_OUT, f"the crash was {why}, not a fault in driver code, "
                          "and no GPU driver error is in the log")
    if ctx.main is not None and ctx.main.kind in OOM_KINDS + ALLOC_KINDS + ("alloc_stall",) and not gpu_evs \
            and not (mod and ctx.gpu.is_gpu_module(mod)):
        from triage.diagnosis.timeline import label
        return Hypothesis(name, RULED_OUT, f"the verdict is a memory event ({label(ctx.main.kind)}), "
                          "not a fault in driver code, and no GPU driver error is in the log")
    if gpu_in_trace:
        return Hypothesis(name, INCONCLUSIVE,
                          f"the fault is {where}, but GPU driver {', '.join(gpu_in_trace)} is in the call trace "
                          "below it: it may have passed bad data", [_ev(ctx.main)])
    if ctx.main is None:
        if sw_xids or gpu_evs:
            return Hypothesis(name, INCONCLUSIVE, f"no crash, but {len(gpu_evs)} GPU driver error(s) were logged", ev)
        return Hypothesis(name, RULED_OUT, "no crash and no GPU driver error in the log")
    if ctx.loaded_gpu:
        extra = f"; {len(gpu_evs)} earlier GPU error(s) logged" if gpu_evs else ""
        return Hypothesis(name, RULED_OUT if not gpu_evs else INCONCLUSIVE,
                          f"GPU driver(s) {', '.join(ctx.loaded_gpu)} loaded, but the fault is {where} and no GPU "
                          f"module is in its call trace{extra}", ev)
    if gpu_evs:
        return Hypothesis(name, INCONCLUSIVE, f"the fault is {where}; GPU errors were logged earlier", ev)
    loaded = "no GPU driver module is loaded" if ctx.modules_known else "the log lists no GPU driver module"
    return Hypothesis(name, RULED_OUT, f"{loaded} and the fault is {where}")


def hardware(ctx: Context) -> Hypothesis:
    """Did the hardware fail? Machine checks, hardware error reports, hardware Xids."""
    name = "hardware"
    hw = _before(ctx, HW_KINDS)
    hw_xids = [e for e in _before(ctx, ("nvrm_xid",)) if ctx.gpu.is_hardware_xid(_xid(e))]
    bus = [e for e in _before(ctx, ("gpu_fault",)) if "fallen off the bus" in (e.text or "").lower()]
    if hw or hw_xids or bus:
        parts = []
        if hw:
            parts.append(f"{len(hw)} machine check / hardware error report(s), the first at line {hw[0].line}")
        for e in hw_xids[-3:]:
            info = ctx.gpu.xid(_xid(e))
            parts.append(f"NVIDIA Xid {_xid(e)} ({info.name}; {info.cause}) at line {e.line}")
        if bus:
            parts.append(f"GPU fell off the bus at line {bus[0].line}")
        return Hypothesis(name, SUPPORTED, "; ".join(parts), [_ev(e) for e in (hw + hw_xids + bus)[-5:]])
    letters = set(taint_letters(ctx.taint))
    if "M" in letters:
        return Hypothesis(name, INCONCLUSIVE, "the kernel is tainted M (a machine check happened) but its report is not in the log")
    if ctx.category in ("mce",):
        return Hypothesis(name, SUPPORTED, "the verdict is a machine check")
    bad = _before(ctx, ("bad_page",))
    if bad or "B" in letters:
        return Hypothesis(name, INCONCLUSIVE, "bad page state reported: memory corruption by software or failing RAM",
                          [_ev(e) for e in bad[-2:]])
    return Hypothesis(name, RULED_OUT, "no machine check, hardware error report, hardware-class NVIDIA Xid "
                      "or M taint in the log")


_SYSRQ = re.compile(r"sysrq", re.I)


def intentional(ctx: Context) -> Hypothesis:
    """Was the crash asked for (sysrq-trigger c)?"""
    name = "intentional"
    sysrq = _before(ctx, ("sysrq",))
    if sysrq or ctx.category == "sysrq" or (ctx.panic_reason and _SYSRQ.search(ctx.panic_reason)):
        ev = [_ev(e) for e in sysrq[-2:]]
        return Hypothesis(name, SUPPORTED, "the crash was triggered on purpose through sysrq "
                          "(`echo c > /proc/sysrq-trigger` or the SysRq key)", ev)
    letters = set(taint_letters(ctx.taint))
    if "U" in letters:
        return Hypothesis(name, INCONCLUSIVE, "no sysrq trigger, but userspace set the U taint flag")
    return Hypothesis(name, RULED_OUT, "no sysrq crash trigger in the log")


def assess_all(ctx: Context) -> List[Hypothesis]:
    """Every hypothesis, in the order the summary shows them."""
    return [memory_exhaustion(ctx), gpu_driver_fault(ctx), hardware(ctx), intentional(ctx)]
