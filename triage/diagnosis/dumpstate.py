"""Weigh the dump's own memory state (Diagnosis.dump, from triage.facts) in the
memory_exhaustion hypothesis.

The log is judged first (triage.diagnosis.hypotheses); this step then
* judges the hypothesis on the dump's zones when the log has no Mem-Info report
  (allocations fail silently: __GFP_NOWARN, rate-limited warn_alloc, a ring
  that wrapped), with the same watermark rule as a Mem-Info report;
* cross-checks it against them when the log has one (the verdict stays the
  log's; a disagreement is stated);
* states fragmentation: free pages against the largest free block against the
  failed request's order;
* names the largest memory consumers for out-of-memory verdicts.
Only the hypothesis' status and reason change; findings stay data.
"""

import re
from typing import Any, Dict, Iterable, List, Optional

from triage.diagnosis.hypotheses import (INCONCLUSIVE, RULED_OUT, SUPPORTED, _zones_desc,
                                         zone_state)
from triage.diagnosis.meminfo import ZoneFree, parse_zone_line
from triage.findings import Diagnosis

_ORDER = re.compile(r"\border[:=](\d+)")
ALLOC_KINDS = ("alloc_failure", "vmalloc_failure")
OOM_CATEGORIES = ("oom_panic", "oom_kill")
TOP_CONSUMERS = 3


def dump_zones(dump: Dict[str, Any]) -> List[ZoneFree]:
    """The dump's zones as Mem-Info-style ZoneFree records (kB; line 0: not from the log)."""
    mem = dump.get("memory") or {}
    kb = (mem.get("page_size") or 4096) // 1024
    return [ZoneFree(node=z["node"], zone=z["name"], free_kb=z["free_pages"] * kb, min_kb=z["wmark_min"] * kb,
                     low_kb=z["wmark_low"] * kb, high_kb=z["wmark_high"] * kb, line=0)
            for z in mem.get("zones") or [] if z.get("managed_pages")]


def _log_has_meminfo(lines: Iterable[str]) -> bool:
    for i, text in enumerate(lines, 1):
        if "free:" in text and " min:" in text and parse_zone_line(i, _strip(text)) is not None:
            return True
    return False


def _strip(text: str) -> str:
    """The message without a console prefix ("[    7.14] ")."""
    if text.startswith("[") and "] " in text[:40]:
        return text.split("] ", 1)[1]
    return text


def _failed_order(d: Diagnosis) -> Optional[int]:
    """Order of the last failed page allocation on the timeline or among the earlier events."""
    for e in reversed(list(d.contributing) + list(d.timeline)):
        if e.kind in ALLOC_KINDS:
            m = _ORDER.search(e.text or "")
            if m:
                return int(m.group(1))
    return None


def fragmentation(dump: Dict[str, Any], order: Optional[int]) -> Optional[str]:
    """"fragmentation: DMA32 has 41440 free pages, largest free block order 10; an order-N
    request ..." for the highest populated zone; None without zones."""
    zones = [z for z in (dump.get("memory") or {}).get("zones") or []
             if z.get("free_blocks_by_order") and z.get("free_pages") is not None and z.get("name")]
    if not zones:
        return None
    z = zones[-1]        # node_zones order: the highest zone last, where most allocations start
    blocks = z["free_blocks_by_order"]
    largest = max((o for o, n in enumerate(blocks) if n), default=None)
    text = (f"fragmentation in the dump: {z['name']} has {z['free_pages']} free pages, largest free block "
            + (f"order {largest} ({1 << largest} pages)" if largest is not None else "none"))
    if order is not None:
        ok = [x["name"] for x in zones if any(n for o, n in enumerate(x["free_blocks_by_order"]) if o >= order)]
        if order >= len(blocks):
            text += f"; the failed order-{order} request is above the allocator's maximum order {len(blocks) - 1}"
        elif ok:
            text += f"; an order-{order} block was free in {', '.join(ok)}"
        else:
            text += f"; no zone had a free block of order {order} or more: the order-{order} request could not be met"
    return text


def consumers(dump: Dict[str, Any]) -> Optional[str]:
    """"largest processes in the dump: hog (pid 95) 53.2 MiB, ..."."""
    tasks = dump.get("tasks") or {}
    top = (tasks.get("top_rss") or [])[:TOP_CONSUMERS]
    if not top:
        return None
    ps = (dump.get("memory") or {}).get("page_size") or 4096
    return "largest processes in the dump: " + ", ".join(
        f"{t['comm']} (pid {t['pid']}) {t['rss_pages'] * ps / (1 << 20):.1f} MiB" for t in top)


def apply_dump_facts(d: Diagnosis, lines: Iterable[str]) -> None:
    """Update d's memory_exhaustion hypothesis from d.dump (see the module docstring)."""
    if not d.dump or not (d.dump.get("memory") or {}).get("zones"):
        return
    h = next((x for x in d.hypotheses if x.name == "memory_exhaustion"), None)
    if h is None:
        return
    zones = dump_zones(d.dump)
    order = _failed_order(d)
    allocs = any(e.kind in ALLOC_KINDS for e in list(d.timeline) + list(d.contributing))
    if not zones:
        # VMCOREINFO-only facts: free pages and free blocks, but no watermarks to judge them by
        frag = fragmentation(d.dump, order)
        if frag:
            h.reason += ("; the dump's facts have no watermarks (read from VMCOREINFO alone), so they "
                         "do not judge it; " + frag)
        return
    state = zone_state(zones)
    desc = _zones_desc(zones)
    has_meminfo = _log_has_meminfo(lines)
    notes: List[str] = []
    if has_meminfo:
        notes.append(f"the dump at the crash: {desc}, memory {state}")
    elif h.status == INCONCLUSIVE and allocs:
        # the log's only gap was the missing Mem-Info: judge on the dump's zones
        if state == "exhausted":
            h.status = SUPPORTED
            h.reason += (f"; the dump's zones at the crash decide it: free memory at or below the low "
                         f"watermark ({desc}): the system was short of memory")
        elif state == "tight":
            h.reason += (f"; the dump's zones at the crash: free memory between the low and high "
                         f"watermarks ({desc}): tight but not exhausted")
        else:
            h.status = RULED_OUT
            h.reason += (f"; the dump's zones at the crash decide it: free memory above the high watermark "
                         f"({desc}): the machine was not out of memory")
    elif h.status == RULED_OUT and state == "exhausted":
        h.status = INCONCLUSIVE
        h.reason += (f"; but the dump shows free memory at or below the low watermark at the crash ({desc}): "
                     "allocations may have failed without a log line (__GFP_NOWARN, rate-limited warnings)")
    else:
        notes.append(f"the dump at the crash: {desc}, memory {state}")
    frag = fragmentation(d.dump, order)
    if frag and (allocs or state != "ample"):
        notes.append(frag)
    if d.verdict.category in OOM_CATEGORIES or h.status == SUPPORTED:
        who = consumers(d.dump)
        if who:
            notes.append(who)
    if notes:
        h.reason += "; " + "; ".join(notes)
