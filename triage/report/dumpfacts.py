"""The machine-state section (Diagnosis.dump, from triage.facts) as plain tables.

`sections(d)` gives (title, headers, rows) with raw, unescaped strings; each
renderer escapes them its own way, so text, Markdown and HTML show the same
facts. Values from the dump (comm, module names, versions) are untrusted text.
"""

from typing import Any, Dict, List, Optional, Tuple

from triage.findings import Diagnosis

Section = Tuple[str, List[str], List[List[str]]]


def _mib(pages: Optional[int], page_size: int) -> str:
    if pages is None:
        return "-"
    return f"{pages * page_size / (1 << 20):.1f} MiB ({pages} pages)"


def _n(value: Any) -> str:
    """A count, or "-" for one the dump's facts could not give."""
    return "-" if value is None else str(value)


def status_line(d: Diagnosis) -> Optional[str]:
    """One line on how the facts were read, or why they were not; None without facts."""
    f = d.dump
    if not f:
        return None
    src = f.get("source") or {}
    if src.get("unavailable"):
        return f"dump facts not read: {src['unavailable']}"
    if src.get("method") == "vmcoreinfo":
        line = f"read from VMCOREINFO alone (memory via {src.get('memory')})"
        why = next((n for n in src.get("notes") or [] if n.startswith("BTF+kallsyms facts not read")), None)
        if why:
            line += f"; {why}"
    else:
        line = f"read with drgn ({src.get('method')}, memory via {src.get('memory')})"
    di = src.get("debuginfo") or {}
    if di.get("file"):
        line += f"; DWARF from {di['file']}"
    if di.get("rejected"):
        line += "; debuginfo not used: " + "; ".join(di["rejected"][:3])
    if src.get("kallsyms") == "scan":
        line += "; kallsyms found by scanning the kernel image (VMCOREINFO names none before 6.0)"
    if src.get("missing"):
        line += "; not readable: " + ", ".join(m["fact"] for m in src["missing"][:6])
    return line


MAX_D_ROWS = 20             # D-state tasks listed in the reports (the JSON has them all)
MAX_D_FRAMES = 6            # frames shown per D-state task, below the scheduler's own
_SCHED_FRAMES = ("__schedule", "schedule", "schedule_timeout", "schedule_preempt_disabled", "io_schedule")


def _brief_stack(t: Dict[str, Any]) -> str:
    """The first frames of a D-state task's stack past the scheduler (where it waits)."""
    frames = list(t.get("stack") or [])
    while frames and frames[0].split("+", 1)[0] in _SCHED_FRAMES:
        frames.pop(0)
    text = " < ".join(frames[:MAX_D_FRAMES]) + (" < ..." if len(frames) > MAX_D_FRAMES else "")
    return text or t.get("stack_reason") or ""


def sections(d: Diagnosis) -> List[Section]:
    """The facts' tables; [] when the dump facts are absent."""
    f = d.dump
    if not f:
        return []
    census = _census(f.get("census"))
    if not f.get("memory"):
        return census
    mem: Dict[str, Any] = f["memory"]
    ps = mem.get("page_size") or 4096
    tot = mem.get("totals") or {}
    rows = [["RAM (totalram)", _mib(mem.get("totalram_pages"), ps)],
            ["free", _mib(mem.get("free_pages"), ps)]]
    for key, label in (("anon_pages", "anonymous"), ("file_pages", "page cache"), ("shmem", "shmem"),
                       ("slab_reclaimable", "slab reclaimable"), ("slab_unreclaimable", "slab unreclaimable"),
                       ("vmalloc", "vmalloc"), ("hugetlb", "hugetlb"), ("mlocked", "mlocked"),
                       ("unevictable", "unevictable")):
        rows.append([label, _mib(tot.get(key), ps)])
    tasks = f.get("tasks") or {}
    if tasks.get("count") is not None:
        rows.append(["tasks", str(tasks["count"])])
    if tasks.get("stacks"):
        rows.append(["stacks of every task", f"{len(tasks['stacks'])}, in the JSON report (dump.tasks.stacks)"])
    p = tasks.get("panic")
    if p:
        rows.append(["panicking task", f"{p['comm']} (pid {p['pid']})"])
    for c in tasks.get("cpus") or []:
        rows.append([f"CPU {c['cpu']} running", f"{c['comm']} (pid {c['pid']})"])
    out: List[Section] = [("Machine state (from the dump)", [], rows)]
    if p and p.get("stack"):
        out.append((f"Stack of the panicking task ({p['comm']}, pid {p['pid']})", ["#", "frame"],
                    [[str(i), f] for i, f in enumerate(p["stack"])]))
    if p and p.get("stack_reason"):
        out[-1][2].append(["", "(" + p["stack_reason"] + ")"])
    zones = mem.get("zones") or []
    if zones:
        out.append(("Memory zones (pages)", ["node", "zone", "managed", "free", "min", "low", "high",
                                             "free blocks by order 0.."],
                    [[str(z["node"]), z["name"] or "?", _n(z["managed_pages"]), _n(z["free_pages"]),
                      _n(z["wmark_min"]), _n(z["wmark_low"]), _n(z["wmark_high"]),
                      " ".join(str(n) for n in z["free_blocks_by_order"])] for z in zones]))
    if tasks.get("top_rss"):
        out.append(("Largest processes by RSS", ["pid", "command", "RSS"],
                    [[str(t["pid"]), t["comm"], _mib(t["rss_pages"], ps)] for t in tasks["top_rss"]]))
    if tasks.get("d_state"):
        dstate = tasks["d_state"]
        rows = [[str(t["pid"]), t["comm"], _brief_stack(t)] for t in dstate[:MAX_D_ROWS]]
        if len(dstate) > MAX_D_ROWS:
            rows.append(["", "", f"... and {len(dstate) - MAX_D_ROWS} more (all in the JSON report)"])
        out.append((f"Tasks in uninterruptible sleep (D): {len(dstate)}", ["pid", "command", "waiting in"], rows))
    mods = f.get("modules")
    if mods:
        out.append(("Loaded modules", ["module", "size", "taint", "version"],
                    [[m["name"], f"{m['core_size'] // 1024} KiB", m["taint"] or "", m["version"] or ""]
                     for m in mods]))
    return out + census


_CENSUS_ROWS = (("free", "free (buddy)"), ("cache", "page cache, not private"),
                ("cache_private", "page cache, private"), ("user", "user data (anonymous, hugetlbfs)"),
                ("zero", "filled with zero"),
                ("hwpoison", "hwpoison"), ("offline", "offline"), ("remaining", "kept by makedumpfile -d 31"),
                ("slab", "  of which slab"), ("not_in_file", "listed but left out of the file"),
                ("memory_hole", "memory hole"), ("total_pages", "total page frames"))


def _census(c: Optional[Dict[str, Any]]) -> List[Section]:
    """The page census (dump.census) as one table; [] when not asked for."""
    if not c:
        return []
    title = "Page census (mem_map page flags, makedumpfile -d 31 classes)"
    if c.get("unavailable"):
        return [(title, ["class", "pages"], [["not read", c["unavailable"]]])]
    ps = c.get("page_size") or 4096
    rows = [[label, _mib(c.get(key), ps)] for key, label in _CENSUS_ROWS]
    if c.get("unreadable_mem_map"):
        rows.append(["struct page not readable", _mib(c["unreadable_mem_map"], ps)])
    return [(title, ["class", "size"], rows)]
