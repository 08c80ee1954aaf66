"""Record the dump facts drgn reads with Debian's DWARF vmlinux, as a test oracle.

    python3 tests/facts/drgn_dwarf_oracle.py DUMP [VMLINUX]          # writes DUMP's oracle JSON
    python3 tests/facts/drgn_dwarf_oracle.py --out F DUMP [VMLINUX]  # ... to F
    python3 tests/facts/drgn_dwarf_oracle.py --trace DUMP [VMLINUX]  # globals/types looked up

The oracle goes beside a committed dump (<dump>.facts-oracle.json, committed, so
CI needs no debuginfo for them). For generated dumps, sample_dumps/generate runs
this with --out <dump>.drgn-dwarf.json at generation time (sample_dumps/dumpgen/
dwarf.py): a regenerated dump has other bytes, so its oracle is made from the
same file the tests read.
VMLINUX defaults to /usr/lib/debug/boot/vmlinux-<OSRELEASE> or
/work/dbg/usr/lib/debug/boot/vmlinux-<OSRELEASE> (package linux-image-<release>-dbg).

The facts are computed here directly with drgn and full DWARF types, written
independently of triage.facts.collect (which runs on BTF), so a wrong BTF type,
a wrong curated global or a wrong layout choice shows up as a field mismatch.
--trace instead runs triage's collector on the DWARF Program with recording
finders in front, and prints which globals and types drgn's helpers and libdrgn
asked for: the source of triage.facts.finders.GLOBALS.
"""

import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def oracle_path(dump: Path) -> Path:
    """<dump>.facts-oracle.json beside a committed dump (in git); <dump>.drgn-dwarf.json
    beside a generated one (where sample_dumps/generate writes it)."""
    dump = Path(dump).absolute()
    if ROOT / "sample_dumps" / "committed" in dump.parents:
        return Path(str(dump) + ".facts-oracle.json")
    return Path(str(dump) + ".drgn-dwarf.json")


def default_vmlinux(osrelease: str) -> Optional[Path]:
    """Debian's DWARF vmlinux for `osrelease` wherever the tests look (tests/facts/_dbg.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _dbg import dbg_vmlinux
    return dbg_vmlinux(osrelease)


def dwarf_facts(prog: Any) -> Dict[str, Any]:
    """The facts, read with DWARF types (struct layouts from debuginfo, not BTF)."""
    from drgn.helpers.linux.cpumask import for_each_present_cpu
    from drgn.helpers.linux.mm import task_rss
    from drgn.helpers.linux.mmzone import for_each_online_pgdat
    from drgn.helpers.linux.module import for_each_module, module_taints
    from drgn.helpers.linux.panic import panic_task
    from drgn.helpers.linux.pid import for_each_task
    from drgn.helpers.linux.sched import cpu_curr, task_state_to_char

    def s(x: Any) -> str:
        return x.string_().decode("latin-1")

    vz, vn = prog["vm_zone_stat"], prog["vm_node_stat"]
    C = lambda n: prog.constant(n).value_()  # noqa: E731
    zones = []
    for pgdat in for_each_online_pgdat(prog):
        for z in pgdat.node_zones:
            if not z.spanned_pages:
                continue
            wm = [z._watermark[i].value_() + z.watermark_boost.value_() for i in range(3)]
            zones.append({"node": pgdat.node_id.value_(), "name": s(z.name),
                          "managed_pages": z.managed_pages.counter.value_(),
                          "spanned_pages": z.spanned_pages.value_(),
                          "present_pages": z.present_pages.value_(),
                          "free_pages": max(z.vm_stat[C("NR_FREE_PAGES")].counter.value_(), 0),
                          "wmark_min": wm[0], "wmark_low": wm[1], "wmark_high": wm[2],
                          "free_blocks_by_order": [fa.nr_free.value_() for fa in z.free_area]})
    hug = sum(prog["hstates"][i].nr_huge_pages.value_() << prog["hstates"][i].order.value_()
              for i in range(prog["hugetlb_max_hstate"].value_()))
    memory = {
        "page_size": prog["PAGE_SIZE"].value_(),
        "totalram_pages": prog["_totalram_pages"].counter.value_(),
        "free_pages": max(vz[C("NR_FREE_PAGES")].counter.value_(), 0),
        "zones": zones,
        "totals": {
            "slab_reclaimable": vn[C("NR_SLAB_RECLAIMABLE_B")].counter.value_(),
            "slab_unreclaimable": vn[C("NR_SLAB_UNRECLAIMABLE_B")].counter.value_(),
            "file_pages": vn[C("NR_FILE_PAGES")].counter.value_(),
            "anon_pages": vn[C("NR_ANON_MAPPED")].counter.value_(),
            "shmem": vn[C("NR_SHMEM")].counter.value_(),
            "unevictable": vn[C("NR_UNEVICTABLE")].counter.value_(),
            "mlocked": vz[C("NR_MLOCK")].counter.value_(),
            "hugetlb": hug,
            "vmalloc": prog["nr_vmalloc_pages"].counter.value_(),
        },
    }
    count, rss, dstate = 0, [], []
    for t in for_each_task(prog):
        count += 1
        if t.mm and t.pid == t.tgid:
            rss.append((task_rss(prog, t).total, t.pid.value_(), s(t.comm)))
        if task_state_to_char(t) == "D":
            dstate.append({"pid": t.pid.value_(), "comm": s(t.comm)})
    rss.sort(key=lambda r: (-r[0], r[1]))
    pt = panic_task(prog)
    tasks = {"count": count,
             "panic": {"pid": pt.pid.value_(), "comm": s(pt.comm)} if pt else None,
             "cpus": [{"cpu": c, "pid": cpu_curr(prog, c).pid.value_(), "comm": s(cpu_curr(prog, c).comm)}
                      for c in for_each_present_cpu(prog)],
             "top_rss": [{"pid": p, "comm": c, "rss_pages": r} for r, p, c in rss[:5]],
             "d_state": sorted(dstate, key=lambda d: d["pid"])}
    mods = []
    for m in for_each_module(prog):
        try:
            size = sum(r.size.value_() for r in m.mem)
        except AttributeError:
            size = m.core_layout.size.value_()
        mods.append({"name": s(m.name), "core_size": size, "taint": module_taints(m),
                     "version": s(m.version) if m.version else None})
    return {"memory": memory, "tasks": tasks, "modules": mods}


# Types drgn's helpers use for the facts (from --trace plus what they touch),
# recorded with their members so tests compare the BTF-built drgn types to DWARF.
LAYOUT_TYPES = ["struct task_struct", "struct zone", "struct pglist_data", "struct module",
                "struct mm_struct", "struct free_area", "struct hstate", "struct rq",
                "struct list_head", "struct pid", "struct upid", "struct pid_namespace",
                "struct cpumask", "struct taint_flag", "atomic_long_t", "atomic_t",
                "struct percpu_counter", "struct kmem_cache", "struct vmap_area", "struct vm_struct",
                "enum zone_stat_item", "enum node_stat_item", "enum zone_watermarks",
                "struct uts_namespace", "struct new_utsname", "struct printk_ringbuffer",
                "struct page", "struct folio", "struct mem_section", "struct module_memory",
                "struct module_layout", "struct pt_regs", "struct inactive_task_frame",
                "struct thread_struct", "struct kernel_symbol", "struct idr", "struct xarray",
                "struct xa_node", "struct hlist_node", "struct rb_node", "struct callback_head",
                "struct kobject", "struct orc_entry", "struct desc_struct"]   # trailing bitfields


def describe(t: Any) -> Dict[str, Any]:
    """A type's shape as drgn sees it: kind, name, size, members or enumerators."""
    import drgn
    d: Dict[str, Any] = {"kind": t.kind.name, "name": t.type_name()}
    u = t
    while u.kind == drgn.TypeKind.TYPEDEF:
        u = u.type
    if u.kind in (drgn.TypeKind.STRUCT, drgn.TypeKind.UNION):
        d["size"] = u.size
        d["members"] = [[m.name, m.bit_offset, m.bit_field_size, m.type.type_name()] for m in u.members]
    elif u.kind == drgn.TypeKind.ENUM:
        d["enumerators"] = [[e.name, e.value] for e in u.enumerators]
    elif u.size is not None:
        d["size"] = u.size
    return d


def layouts(prog: Any) -> Dict[str, Any]:
    out = {}
    for name in LAYOUT_TYPES:
        try:
            out[name] = describe(prog.type(name))
        except LookupError:
            out[name] = None          # not in this kernel (e.g. struct module_memory before 6.4)
    return out


def dwarf_stacks(prog: Any) -> Dict[str, List[str]]:
    """pid -> return addresses (hex) of every task's kernel stack as drgn unwinds it
    with DWARF CFI from the vmlinux (inlined frames left out: they repeat their
    caller's pc). Tasks drgn cannot unwind on this file are left out."""
    from drgn.helpers.linux.pid import for_each_task
    out = {}
    for t in for_each_task(prog):
        try:
            pcs = [hex(f.pc) for f in prog.stack_trace(t) if not f.is_inline]
        except (LookupError, ValueError, __import__("drgn").FaultError):
            continue
        out[str(t.pid.value_())] = pcs[:64]
    return out


class Recorder:
    """Finders placed first that record every lookup and find nothing."""

    def __init__(self) -> None:
        self.objects: Dict[str, str] = {}
        self.types: List[str] = []

    def obj(self, prog: Any, name: str, flags: Any, filename: Optional[str]) -> None:
        self.objects.setdefault(name, "")
        return None

    def typ(self, prog: Any, kinds: Any, name: str, filename: Optional[str]) -> None:
        self.types.append(name)
        return None


def main(argv: List[str]) -> int:
    trace = "--trace" in argv
    args = [a for a in argv[1:] if a != "--trace"]
    out_arg = None
    if "--out" in args:
        i = args.index("--out")
        out_arg = Path(args[i + 1])
        del args[i:i + 2]
    dump = Path(args[0])
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.logsource import open_reader
    with open_reader([str(dump)]) as r:
        info = parse_vmcoreinfo(r.vmcoreinfo())
    vmlinux = Path(args[1]) if len(args) > 1 else default_vmlinux(info.osrelease)
    if vmlinux is None:
        print(f"no debuginfo vmlinux for {info.osrelease}", file=sys.stderr)
        return 1
    from triage.facts.program import open_program
    opened = open_program([str(dump)], vmlinux=str(vmlinux))
    prog = opened.prog
    if trace:
        from triage.facts.collect import Collector
        rec = Recorder()
        prog.register_object_finder("trace", rec.obj, enable_index=0)
        prog.register_type_finder("trace", rec.typ, enable_index=0)
        Collector(prog).collect()
        for name in sorted(rec.objects):
            try:
                o = prog[name]
                print(f"{name}: {o.type_} @ symbol {'yes' if o.address_ is not None else 'constant'}")
            except (KeyError, LookupError):
                print(f"{name}: (not found)")
        print("types:", ", ".join(sorted(set(rec.types))))
        return 0
    facts = dwarf_facts(prog)
    types = layouts(prog) if "committed" in str(dump) else None
    stacks = dwarf_stacks(prog)
    out = out_arg or oracle_path(dump)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"tool": "drgn %s + DWARF %s" % (__import__("drgn").__version__, vmlinux.name),
                               "build_id": info.build_id, "osrelease": info.osrelease,
                               # which file it was read from: the tests refuse another one
                               "dump_size": dump.stat().st_size,
                               "memory_source": opened.memory, "facts": facts, "stacks": stacks,
                               **({"types": types} if types else {})}, indent=1) + "\n")
    print(f"{out}: {facts['tasks']['count']} tasks, {len(facts['modules'])} modules, "
          f"{len(facts['memory']['zones'])} zones")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
