"""The dump facts (triage.facts, read in each dump's isolated worker) as a batch keeps them:
a small summary per record, and what the fleet report says about them.

The whole facts stay in each dump's own report.json; the record holds only what
the fleet tables use, so the store stays small whatever the dumps hold.
"""

from collections import Counter
from typing import Any, Dict, List, Optional

TOP = 3
MEMORY_STATES = ("exhausted", "tight", "ample")


def dump_summary(dump: Optional[Dict[str, Any]], hypotheses: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """{read, method, unavailable, memory, memory_exhaustion, free_pages, totalram_pages,
    page_size, tasks, d_state, panic, top_rss} of one Diagnosis' `dump`; None without facts.

    `memory` is the dump's own zones judged as a Mem-Info report is (exhausted,
    tight, ample); `memory_exhaustion` the hypothesis' status after the dump
    facts were weighed in (triage.diagnosis.dumpstate)."""
    if not dump:
        return None
    from triage.diagnosis.dumpstate import dump_zones
    from triage.diagnosis.hypotheses import zone_state
    src = dump.get("source") or {}
    mem = dump.get("memory") or {}
    tasks = dump.get("tasks") or {}
    hyp = next((h for h in hypotheses or [] if h.get("name") == "memory_exhaustion"), None)
    panic = tasks.get("panic")
    return {
        "read": not src.get("unavailable") and bool(mem or tasks),
        "method": src.get("method"),
        "unavailable": src.get("unavailable"),
        "memory": zone_state(dump_zones(dump)) if mem.get("zones") else None,
        "memory_exhaustion": hyp.get("status") if hyp and mem.get("zones") else None,
        "free_pages": mem.get("free_pages"),
        "totalram_pages": mem.get("totalram_pages"),
        "page_size": mem.get("page_size"),
        "tasks": tasks.get("count"),
        "d_state": len(tasks["d_state"]) if tasks.get("d_state") is not None else None,
        "panic": {"pid": panic["pid"], "comm": panic["comm"]} if panic else None,
        "top_rss": [{"pid": t["pid"], "comm": t["comm"], "rss_pages": t["rss_pages"]}
                    for t in (tasks.get("top_rss") or [])[:TOP]],
    }


def memory_cell(rec: Dict[str, Any]) -> Optional[str]:
    """The dump table's `memory` cell: the zones' state, and D-state tasks when any."""
    f = rec.get("dump_facts")
    if not f or not f.get("read"):
        return None
    parts = [f["memory"]] if f.get("memory") else []
    if f.get("d_state"):
        parts.append(f"{f['d_state']} D-state")
    return ", ".join(parts) or None


def fleet_summary(records: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """{read, of, memory: {state: dumps}, exhaustion_confirmed}; None when no record has facts."""
    with_facts = [r["dump_facts"] for r in records if r.get("dump_facts")]
    if not with_facts:
        return None
    read = [f for f in with_facts if f.get("read")]
    c = Counter(f["memory"] for f in read if f.get("memory"))
    return {"read": len(read), "of": len(with_facts), "memory": {s: c[s] for s in MEMORY_STATES if c[s]},
            "exhaustion_confirmed": sum(1 for f in read if f.get("memory_exhaustion") == "supported"
                                        and f.get("memory") == "exhausted")}


def summary_text(s: Optional[Dict[str, Any]]) -> Optional[str]:
    """One line for the fleet report's summary; None without facts."""
    if not s:
        return None
    text = f"dump facts read from {s['read']} of {s['of']} dumps"
    if s["memory"]:
        text += "; memory at the crash by the dumps' zones: " + ", ".join(
            f"{n} {state}" for state, n in s["memory"].items())
    if s["exhaustion_confirmed"]:
        text += f"; memory exhaustion confirmed from the zones in {s['exhaustion_confirmed']}"
    return text
