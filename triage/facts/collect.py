"""Read dump facts (memory, tasks, modules) from a drgn Program with drgn's own helpers.

Works the same on a BTF+kallsyms Program and on a DWARF one. Each fact is read
on its own: one that fails (a missing global, an excluded page) is recorded in
`missing` with the reason and the others still come out. Kernel layouts are
detected from the types (a member present or not), never from versions.
"""

from typing import Any, Callable, Dict, List, Optional, Tuple

TOP_RSS = 5
MAX_TASKS = 1_000_000        # a task list longer than this is corrupt (pid_max is 4M, real hosts far fewer)
MAX_MODULES = 10_000
MAX_ORDERS = 64
MAX_FRAMES = 64
MAX_STACK_TASKS = 4096       # tasks.stacks (DWARF): ~64 frames each; a bigger host keeps the first
MAX_CPUS = 8192              # NR_CPUS at most (CONFIG_MAXSMP)
MAX_PAGES = 1 << 40          # page counts: 2**52 bytes (MAX_PHYSMEM_BITS) of 4 KiB pages; more is garbage


def _has(obj: Any, member: str) -> bool:
    try:
        obj.type_.member(member) if obj.type_.kind.name != "POINTER" else obj.type_.type.member(member)
        return True
    except (LookupError, ValueError, AttributeError):
        return False


def _count(obj: Any) -> int:
    """Value of an integer or of an atomic_t/atomic_long_t wrapper."""
    t = obj.type_
    while t.kind.name == "TYPEDEF":
        t = t.type
    if t.kind.name in ("STRUCT", "UNION"):
        return obj.counter.value_()
    return obj.value_()


def _pages(value: int, what: str, limit: int = MAX_PAGES) -> int:
    """`value`, a page count read from the dump, when |value| <= limit; else ValueError
    (the fact is then missing with this reason, not shown as 2**63 pages)."""
    if not -limit <= value <= limit:
        raise ValueError(f"{what} is {value} pages: not plausible (at most {limit})")
    return value


def _cstring(obj: Any, limit: int) -> str:
    """The NUL-terminated string in a `char []` or that a `char *` points to, at most
    `limit` bytes: drgn's string_() reads on until a NUL, however far a garbage
    pointer (or an array length from damaged BTF) leads it."""
    prog = obj.prog_
    if obj.type_.kind.name == "ARRAY":
        addr = obj.address_
        limit = min(limit, obj.type_.length or limit)
    else:
        addr = obj.value_()
    first = min(limit, 4096 - addr % 4096)     # the rest of this page, then the next
    raw = prog.read(addr, first)
    if b"\0" not in raw and first < limit:
        try:
            raw += prog.read(addr + first, limit - first)
        except Exception:       # noqa: BLE001 - FaultError: the string ends the mapping
            pass
    return raw.split(b"\0", 1)[0].decode("latin-1")


def _const(prog: Any, *names: str) -> Optional[int]:
    """The first of `names` that is an enumerator in this kernel (layouts differ by name)."""
    for n in names:
        try:
            return prog.constant(n).value_()
        except LookupError:
            continue
    return None


class Collector:
    """Collects the facts of one Program; `missing` lists what could not be read, and why."""

    def __init__(self, prog: Any, with_stacks: bool = True, cpu_regs: Optional[Dict[int, bytes]] = None,
                 orc: bool = True, all_stacks: bool = False):
        self.prog = prog
        self.with_stacks = with_stacks
        self.all_stacks = all_stacks and with_stacks   # tasks.stacks: every task's stack, like crash's foreach bt
        self.cpu_regs = cpu_regs or {}
        self.orc = orc               # unwinding uses the dump's ORC tables (no DWARF CFI)
        self.missing: List[Dict[str, str]] = []

    def _try(self, fact: str, fn: Callable[[], Any], default: Any = None) -> Any:
        try:
            return fn()
        except Exception as exc:   # noqa: BLE001 - any drgn failure makes this one fact missing
            self.missing.append({"fact": fact, "reason": f"{type(exc).__name__}: {exc}"[:300]})
            return default

    # -- memory ---------------------------------------------------------------
    def memory(self) -> Dict[str, Any]:
        from drgn.helpers.linux.mm import totalram_pages
        from drgn.helpers.linux.vmstat import nr_free_pages
        prog = self.prog
        return {
            "page_size": self._try("memory.page_size", lambda: prog["PAGE_SIZE"].value_()),
            "totalram_pages": self._try("memory.totalram_pages",
                                        lambda: _pages(totalram_pages(prog), "totalram_pages")),
            "free_pages": self._try("memory.free_pages", lambda: _pages(nr_free_pages(prog), "NR_FREE_PAGES")),
            "zones": self._try("memory.zones", self.zones, []),
            "totals": self.totals(),
        }

    def zones(self) -> List[Dict[str, Any]]:
        from drgn.helpers.linux.mmzone import (for_each_online_pgdat, high_wmark_pages,
                                               low_wmark_pages, min_wmark_pages)
        from drgn.helpers.linux.vmstat import zone_page_state
        prog = self.prog
        nr_free = prog.constant("NR_FREE_PAGES")
        out = []
        for pgdat in for_each_online_pgdat(prog):
            node = pgdat.node_id.value_()
            for zone in pgdat.node_zones:
                spanned = zone.spanned_pages.value_()
                if not spanned:
                    continue            # an empty zone type (e.g. Movable) on this node
                where = f"node {node} zone {len(out)}"
                _pages(spanned, f"{where} spanned_pages")
                orders = min(len(zone.free_area), MAX_ORDERS)
                # a zone cannot hold more free blocks of an order than fit in its span
                blocks = [_pages(zone.free_area[o].nr_free.value_(), f"{where} free_area[{o}].nr_free",
                                 (spanned >> o) + 1) for o in range(orders)]
                out.append({
                    "node": node,
                    "name": _cstring(zone.name, 32),
                    "managed_pages": _pages(_count(zone.managed_pages), f"{where} managed_pages", spanned),
                    "spanned_pages": spanned,
                    "present_pages": _pages(zone.present_pages.value_(), f"{where} present_pages", spanned),
                    "free_pages": _pages(zone_page_state(zone.address_of_(), nr_free), f"{where} free pages",
                                         spanned),
                    "wmark_min": _pages(min_wmark_pages(zone), f"{where} min watermark"),
                    "wmark_low": _pages(low_wmark_pages(zone), f"{where} low watermark"),
                    "wmark_high": _pages(high_wmark_pages(zone), f"{where} high watermark"),
                    "free_blocks_by_order": blocks,
                })
        return out

    def totals(self) -> Dict[str, Optional[int]]:
        """Kernel-wide page counts, as /proc/meminfo derives them (pages)."""
        from drgn.helpers.linux.vmstat import global_node_page_state, global_zone_page_state
        prog = self.prog

        def node(*names: str) -> Callable[[], int]:
            def f() -> int:
                item = _const(prog, *names)
                if item is None:
                    raise LookupError(f"no enumerator {' or '.join(names)}")
                return _pages(global_node_page_state(prog, item), names[0])
            return f

        def zone(*names: str) -> Callable[[], int]:
            def f() -> int:
                item = _const(prog, *names)
                if item is None:
                    raise LookupError(f"no enumerator {' or '.join(names)}")
                return _pages(global_zone_page_state(prog, item), names[0])
            return f

        t = {
            "slab_reclaimable": ("NR_SLAB_RECLAIMABLE_B", "NR_SLAB_RECLAIMABLE"),
            "slab_unreclaimable": ("NR_SLAB_UNRECLAIMABLE_B", "NR_SLAB_UNRECLAIMABLE"),
            "file_pages": ("NR_FILE_PAGES",),
            "anon_pages": ("NR_ANON_MAPPED",),
            "shmem": ("NR_SHMEM",),
            "unevictable": ("NR_UNEVICTABLE",),
        }
        out: Dict[str, Optional[int]] = {k: self._try(f"memory.totals.{k}", node(*v)) for k, v in t.items()}
        out["mlocked"] = self._try("memory.totals.mlocked", zone("NR_MLOCK"))
        out["hugetlb"] = self._try("memory.totals.hugetlb", self._hugetlb)
        out["vmalloc"] = self._try("memory.totals.vmalloc",
                                   lambda: _pages(_count(prog["nr_vmalloc_pages"]), "nr_vmalloc_pages"))
        return out

    def _hugetlb(self) -> int:
        """Pages held by hugetlb pools (meminfo's Hugetlb), over every hstate."""
        prog = self.prog
        try:
            n = prog["hugetlb_max_hstate"].value_()
        except LookupError:
            # not named by a functions-only kallsyms: the registered hstates are
            # the leading entries that have a name (the rest are zeroed)
            n = 0
            while n < 16 and prog["hstates"][n].name[0].value_():
                n += 1
        total = 0
        for i in range(min(n, 16)):
            h = prog["hstates"][i]
            order = h.order.value_()
            if order >= 64:
                raise ValueError(f"hstates[{i}].order is {order}: not plausible")
            total += h.nr_huge_pages.value_() << order
        return _pages(total, "hugetlb pages")

    # -- tasks ----------------------------------------------------------------
    def tasks(self) -> Dict[str, Any]:
        from drgn.helpers.linux.pid import for_each_task
        from drgn.helpers.linux.sched import task_state_to_char
        from drgn.helpers.linux.mm import task_rss
        prog = self.prog
        out: Dict[str, Any] = {"count": None, "panic": None, "cpus": [], "top_rss": [], "d_state": []}
        if self.all_stacks:
            out["stacks"] = []
        out["panic"] = self._try("tasks.panic", self._panic)
        out["cpus"] = self._try("tasks.cpus", self._cpus, [])

        def walk() -> None:
            _check_pid_idr(prog)
            count, rss, dstate, stacks, seen, bad_rss = 0, [], [], [], set(), []
            for task in for_each_task(prog):
                count += 1
                addr = task.value_()
                if count > MAX_TASKS or addr in seen:
                    raise ValueError("task list loops or is longer than %d: corrupt" % MAX_TASKS)
                seen.add(addr)
                pid = task.pid.value_()
                if task.mm.value_() and pid == task.tgid.value_():
                    total = task_rss(prog, task).total
                    if -MAX_PAGES <= total <= MAX_PAGES:
                        rss.append((total, pid, _comm(task)))
                    else:
                        bad_rss.append(pid)
                state = task_state_to_char(task)
                if state == "D":
                    dstate.append(self._d_task(task))
                if self.all_stacks and len(stacks) < MAX_STACK_TASKS:
                    stacks.append(self._with_stack({"pid": pid, "comm": _comm(task), "state": state}, task))
            if self.all_stacks:
                out["stacks"] = sorted(stacks, key=lambda d: d["pid"])
                if count > MAX_STACK_TASKS:
                    self.missing.append({"fact": "tasks.stacks", "reason": f"only the first {MAX_STACK_TASKS} "
                                         f"of {count} tasks' stacks are listed"})
            out["count"] = count
            rss.sort(key=lambda r: (-r[0], r[1]))
            out["top_rss"] = [{"pid": p, "comm": c, "rss_pages": r} for r, p, c in rss[:TOP_RSS]]
            if bad_rss:
                self.missing.append({"fact": "tasks.top_rss", "reason": (
                    f"{len(bad_rss)} processes have RSS counters that are not plausible page counts "
                    f"(damaged mm_struct; pids {', '.join(map(str, bad_rss[:10]))}): left out")})
            out["d_state"] = sorted(dstate, key=lambda d: d["pid"])
        self._try("tasks.list", walk)
        return out

    def _panic(self) -> Optional[Dict[str, Any]]:
        from drgn.helpers.linux.panic import panic_task
        task = panic_task(self.prog)
        if not task.value_():
            return None
        return self._with_stack({"pid": task.pid.value_(), "comm": _comm(task)}, task)

    def _cpus(self) -> List[Dict[str, Any]]:
        """The current task of every present CPU: panic() takes the other CPUs
        offline before kdump, so the online mask would show only the panicking one."""
        from drgn.helpers.linux.cpumask import for_each_present_cpu
        from drgn.helpers.linux.sched import cpu_curr
        out = []
        for cpu in for_each_present_cpu(self.prog):
            if len(out) >= MAX_CPUS:
                raise ValueError(f"more than {MAX_CPUS} CPUs are present: the CPU masks are corrupt")
            t = cpu_curr(self.prog, cpu)
            out.append({"cpu": cpu, "pid": t.pid.value_(), "comm": _comm(t)})
        return out

    def _d_task(self, task: Any) -> Dict[str, Any]:
        return self._with_stack({"pid": task.pid.value_(), "comm": _comm(task)}, task)

    def _with_stack(self, d: Dict[str, Any], task: Any) -> Dict[str, Any]:
        """Add `stack` (and `stack_reason` when it could not be unwound) to d."""
        d["stack"] = []
        if not self.with_stacks:
            d["stack_reason"] = "stacks not asked for"
            return d
        from triage.facts.orc import StackCut
        try:
            frames = stack_frames(self.prog, task, self.cpu_regs, self._orc_table())
        except StackCut as cut:
            frames = cut.frames
            d["stack_reason"] = str(cut)[:300]
        except Exception as exc:   # noqa: BLE001 - no registers for the task, missing stack pages, ...
            d["stack_reason"] = f"{type(exc).__name__}: {exc}"[:200]
            return d
        d["stack"] = [frame_text(self.prog, pc, call) for pc, call in frames]
        return d

    def _orc_table(self) -> Any:
        """The kernel's ORC tables (read once), or None for DWARF unwinding or when unreadable."""
        if not self.orc:
            return None
        if not hasattr(self, "_orc"):
            from triage.facts.orc import OrcTable
            self._orc = self._try("tasks.orc_tables", lambda: OrcTable(self.prog))
        return self._orc

    # -- modules --------------------------------------------------------------
    def modules(self) -> List[Dict[str, Any]]:
        from drgn.helpers.linux.module import for_each_module, module_taints
        out, seen = [], set()
        for i, mod in enumerate(for_each_module(self.prog)):
            if i >= MAX_MODULES or mod.value_() in seen:
                raise ValueError(f"module list loops or is longer than {MAX_MODULES}: corrupt")
            seen.add(mod.value_())
            version = None
            if _has(mod, "version") and mod.version.value_():
                version = _cstring(mod.version, 256)
            out.append({"name": _cstring(mod.name, 64),
                        "core_size": _core_size(mod),
                        "taint": module_taints(mod),
                        "version": version})
        return out

    def collect(self) -> Dict[str, Any]:
        """{memory, tasks, modules, missing}: every fact this Program gives."""
        return {"memory": self.memory(), "tasks": self.tasks(),
                "modules": self._try("modules", self.modules, []), "missing": self.missing}


def _check_pid_idr(prog: Any) -> None:
    """for_each_task walks init_pid_ns.idr with drgn's xa_for_each, which a damaged
    tree can send into an endless descent before any task is yielded: check its
    shape first (triage.facts.bounds). Kernels before 4.15 hash pids instead."""
    from triage.facts.bounds import check_xarray
    ns = prog["init_pid_ns"]
    if _has(ns, "idr") and _has(ns.idr, "idr_rt") and _has(ns.idr.idr_rt, "xa_head"):
        check_xarray(prog, ns.idr.idr_rt, "init_pid_ns.idr")


def _core_size(mod: Any) -> int:
    """Bytes of the module's core: sum of mem[] regions (6.4+), else core_layout.size,
    else core_size (before 4.5); chosen by which member the type has."""
    if _has(mod, "mem"):
        return sum(m.size.value_() for m in mod.mem)
    if _has(mod, "core_layout"):
        return mod.core_layout.size.value_()
    return mod.core_size.value_()


def _comm(task: Any) -> str:
    return _cstring(task.comm, 64)


def stack_pcs(prog: Any, task: Any, cpu_regs: Optional[Dict[int, bytes]] = None, orc: Any = None) -> List[int]:
    """Return addresses of the task's kernel stack, innermost first, as crash's `bt`
    lists them: one per real frame (inlined-function frames share their caller's pc
    and are left out), at most MAX_FRAMES. See stack_frames()."""
    return [pc for pc, _ in stack_frames(prog, task, cpu_regs, orc)]


def stack_frames(prog: Any, task: Any, cpu_regs: Optional[Dict[int, bytes]] = None,
                 orc: Any = None) -> List[Tuple[int, bool]]:
    """(pc, is_return_address) of each frame stack_pcs() lists: a frame that was not
    interrupted holds the return address of a call, named by frame_text(call=True).

    A task running on a CPU is unwound from that CPU's saved registers: drgn's
    own (the dump's PRSTATUS notes) when it opened the file, else `cpu_regs`.
    With `orc` (triage.facts.orc.OrcTable), frames the kernel's ORC tables leave
    undefined are repaired or cut (StackCut), never guessed."""
    try:
        trace = prog.stack_trace(task)
    except LookupError:
        regs = _running_regs(prog, task, cpu_regs or {})
        if regs is None:
            raise
        trace = prog.stack_trace(regs)
    if orc is None and prog.platform.arch.name == "AARCH64":
        return _arm64_frames(prog, trace, MAX_FRAMES)
    from triage.facts.orc import repaired_frames
    return repaired_frames(prog, trace, orc, MAX_FRAMES)


def _arm64_frames(prog: Any, trace: Any, limit: int) -> List[Tuple[int, bool]]:
    """Return addresses of an arm64 frame-pointer unwind, with the caller the frame
    records miss: a frame interrupted (an exception, or the CPU's saved registers)
    in a leaf function, or before its prologue stored x29/x30, has not pushed a
    frame record, so the chain skips from it to its caller's caller; its caller
    is then in the saved LR. LR is taken only when it lies in another function
    than the interrupted pc and is not already the next frame (after a prologue
    LR is a return address inside the function itself, or equals that frame).
    Module frames are left as the frame records give them (see below)."""
    frames = [f for f in trace if not f.is_inline]
    try:
        text = (prog.symbol("_stext").address, prog.symbol("_etext").address)
    except LookupError:
        text = (0, 0)
    out: List[Tuple[int, bool]] = []
    for i, f in enumerate(frames):
        out.append((f.pc, not f.interrupted))
        if len(out) >= limit:
            break
        # only in the kernel image: module code is unwound by frame records alone,
        # as drgn does with vmlinux debuginfo (which has no modules' CFI) and as
        # the kernel's own Call trace does (it prints the LR on a line of its own)
        if not f.interrupted or not text[0] <= f.pc < text[1]:
            continue
        regs = f.registers()
        lr = _strip_pac(regs.get("lr", regs.get("x30")), f.pc, text)
        nxt = frames[i + 1].pc if i + 1 < len(frames) else None
        if lr is None or lr == nxt or lr == f.pc:
            continue
        try:
            here, there = prog.symbol(f.pc), prog.symbol(lr)
        except LookupError:
            continue            # LR outside kernel text: not a return address
        if _at_exception_vector(here, f.pc):
            continue            # LR is the interrupted code's, whose own pc (ELR) is not saved here
        if here.address != there.address:
            out.append((lr, True))
    return out[:limit]


# VA_BITS is at least 39 on arm64: a pointer authentication code sits above it
_PAC_FREE = (1 << 39) - 1


def _strip_pac(lr: Optional[int], pc: int, text: Tuple[int, int]) -> Optional[int]:
    """LR without its pointer authentication code. A kernel built with
    CONFIG_ARM64_PTR_AUTH_KERNEL signs the return address in x30 (paciasp) before
    storing it; a CPU stopped in such a function holds the signed value
    (0x9ad3c61e71098e00 for 0xffffc61e71098e00), which names no symbol, so the caller
    it holds was dropped. The address bits come from the pc's own upper bits (both
    lie in the kernel image), and are taken only when that lands in kernel text."""
    if lr is None or text[0] <= lr < text[1] or not text[1]:
        return lr
    cand = (pc & ~_PAC_FREE & 0xFFFFFFFFFFFFFFFF) | (lr & _PAC_FREE)
    return cand if text[0] <= cand < text[1] else lr


def _at_exception_vector(sym: Any, pc: int) -> bool:
    """pc is an entry of an exception vector table (architectural layout: 2 KiB
    aligned, 16 entries of 0x80 bytes), i.e. the CPU had just taken an exception."""
    return sym.size == 0x800 and sym.address & 0x7FF == 0 and (pc - sym.address) % 0x80 == 0


def _running_regs(prog: Any, task: Any, cpu_regs: Dict[int, bytes]) -> Optional[Any]:
    """struct pt_regs of the CPU `task` is current on, from `cpu_regs`; None if not running."""
    import drgn
    from drgn.helpers.linux.sched import cpu_curr
    # only the CPUs with saved registers: a damaged present mask can claim 8192
    # CPUs, and this runs for every stack
    for cpu in sorted(cpu_regs):
        if cpu_curr(prog, cpu).value_() == task.value_():
            # PRSTATUS holds the leading registers; arm64's struct pt_regs goes on
            # (orig_x0, syscallno, ...), which unwinding does not use
            typ = prog.type("struct pt_regs")
            return drgn.Object.from_bytes_(prog, typ, cpu_regs[cpu].ljust(typ.size, b"\0"))
    return None


def frame_text(prog: Any, pc: int, call: bool = False) -> str:
    """`function+0xoff [module]` from kallsyms, or the bare address (user space, unknown).

    `call`: pc is a return address, named (as drgn's StackFrame.symbol() names it)
    by the function holding pc - 1, the call itself: after a call to a noreturn
    function at a function's end, pc is already the next function's first byte
    (`oops_end.cold+0x18`, not `show_opcodes.cold+0x0`)."""
    look = pc - 1 if call and pc > 0 else pc      # 0: drgn's frame-pointer walk ran off user space
    try:
        sym = prog.symbol(look)
    except LookupError:
        return hex(pc)
    text = f"{sym.name}+{pc - sym.address:#x}"
    try:
        mod = prog.module(look)
    except (LookupError, AttributeError):
        return text
    return text if mod.name == "kernel" else f"{text} [{mod.name}]"
