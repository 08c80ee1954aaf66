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


def status_line(d: Diagnosis) -> Optional[str]:
    """One line on how the facts were read, or why they were not; None without facts."""
    f = d.dump
    if not f:
        return None
    src = f.get("source") or {}
    if src.get("unavailable"):
        return f"dump facts not read: {src['unavailable']}"
    line = f"read with drgn ({src.get('method')}, memory via {src.get('memory')})"
    if src.get("kallsyms") == "scan":
        line += "; kallsyms found by scanning the kernel image (VMCOREINFO names none before 6.0)"
    if src.get("missing"):
        line += "; not readable: " + ", ".join(m["fact"] for m in src["missing"][:6])
    return line


def sections(d: Diagnosis) -> List[Section]:
    """The facts' tables; [] when the dump facts are absent."""
    f = d.dump
    if not f or not f.get("memory"):
        return []
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
                    [[str(z["node"]), z["name"], str(z["managed_pages"]), str(z["free_pages"]),
                      str(z["wmark_min"]), str(z["wmark_low"]), str(z["wmark_high"]),
                      " ".join(str(n) for n in z["free_blocks_by_order"])] for z in zones]))
    if tasks.get("top_rss"):
        out.append(("Largest processes by RSS", ["pid", "command", "RSS"],
                    [[str(t["pid"]), t["comm"], _mib(t["rss_pages"], ps)] for t in tasks["top_rss"]]))
    if tasks.get("d_state"):
        out.append(("Tasks in uninterruptible sleep (D)", ["pid", "command", "stack"],
                    [[str(t["pid"]), t["comm"], " < ".join(t["stack"]) or t.get("stack_reason") or ""]
                     for t in tasks["d_state"]]))
    mods = f.get("modules")
    if mods:
        out.append(("Loaded modules", ["module", "size", "taint", "version"],
                    [[m["name"], f"{m['core_size'] // 1024} KiB", m["taint"] or "", m["version"] or ""]
                     for m in mods]))
    return out
