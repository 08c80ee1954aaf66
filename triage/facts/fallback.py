"""Dump facts from VMCOREINFO alone: no drgn, no BTF, no kallsyms.

For kernels without BTF (CentOS 7's 3.10), a corrupt BTF blob, unusable
kallsyms or no drgn installed. VMCOREINFO exports what makedumpfile needs:
SYMBOL(node_data) (or contig_page_data), OFFSET(pglist_data.node_zones),
SIZE(zone), OFFSET(zone.free_area|vm_stat|spanned_pages), LENGTH(zone.free_area),
SIZE(free_area), OFFSET(free_area.free_list), LENGTH(free_area.free_list),
SIZE(list_head), OFFSET(list_head.next) and NUMBER(NR_FREE_PAGES). From those
come every zone's spanned and free pages and its free blocks by order (the
free lists walked, bounded, as makedumpfile's free-page exclusion walks them:
VMCOREINFO has no OFFSET(free_area.nr_free)), and the kernel-wide free pages
(the sum of the zones' vm_stat[NR_FREE_PAGES]: the kernel adds to a zone's
counter and to vm_zone_stat together, so the sums agree). Zone names have no
OFFSET: they are found by the `name` pointer in struct zone (below).
What VMCOREINFO does not describe (managed/present pages, watermarks,
totalram, the vm_node_stat totals, tasks, modules) is listed in `missing`.
"""

from typing import Any, Dict, List, Optional, Tuple

from triage.facts.vmci import LayoutError, VmciMemory, bits_set, missing, missing_all

MAX_NODES = 1 << 12           # MAX_NUMNODES is at most 1024 (NODES_SHIFT 10)
MAX_ZONES = 8                 # MAX_NR_ZONES is at most 6 (DMA, DMA32, Normal, HighMem, Movable, Device)
MAX_ORDERS = 64
MAX_MIGRATE_TYPES = 16
MAX_FREE_BLOCKS = 1 << 26     # list entries walked per dump: 256 GiB of order-0 pages; more is a loop
NAME_LIMIT = 15               # zone names are short words ("DMA32", "Movable")

_NO_LAYOUT = "VMCOREINFO does not describe it (no OFFSET for it is exported)"
MISSING_ZONE_FACTS = ("managed_pages", "present_pages", "wmark_min", "wmark_low", "wmark_high")
MISSING_TOTALS = ("slab_reclaimable", "slab_unreclaimable", "file_pages", "anon_pages", "shmem",
                  "unevictable", "mlocked", "hugetlb", "vmalloc")


class ZoneLayout:
    """Where the fallback finds each zone field, from VMCOREINFO (checked once)."""

    def __init__(self, m: VmciMemory):
        self.zone_size = m.size("zone")
        self.pgdat_size = m.size("pglist_data")
        self.node_zones = m.offset("pglist_data.node_zones", self.pgdat_size, self.zone_size)
        self.nr_zones_off = m.offset("pglist_data.nr_zones", self.pgdat_size, 4)
        node_id = m.info.offset("pglist_data.node_id")
        self.node_id = node_id if node_id is not None and 0 <= node_id <= self.pgdat_size - 4 else None
        self.max_zones = min(MAX_ZONES, max(0, (self.pgdat_size - self.node_zones) // self.zone_size))
        self.spanned = m.offset("zone.spanned_pages", self.zone_size, 8)
        self.vm_stat = m.offset("zone.vm_stat", self.zone_size, 8)
        item = m.number("NR_FREE_PAGES", 0, 256)
        counter = m.info.size("atomic_long_t") or 8
        if counter != 8:
            raise LayoutError(f"SIZE(atomic_long_t)={counter}: only 64-bit counters are read")
        self.free_pages = self.vm_stat + item * counter
        if self.free_pages + 8 > self.zone_size:
            raise LayoutError("zone.vm_stat[NR_FREE_PAGES] lies outside struct zone")
        self.free_area = m.offset("zone.free_area", self.zone_size, 8)
        self.orders = m.length("zone.free_area", MAX_ORDERS)
        self.area_size = m.size("free_area")
        if self.free_area + self.orders * self.area_size > self.zone_size:
            raise LayoutError("zone.free_area[] runs past the end of struct zone")
        self.free_list = m.offset("free_area.free_list", self.area_size, 16)
        self.mtypes = m.length("free_area.free_list", MAX_MIGRATE_TYPES)
        self.list_size = m.size("list_head")
        if self.free_list + self.mtypes * self.list_size > self.area_size:
            raise LayoutError("free_area.free_list[] runs past the end of struct free_area")
        self.next = m.offset("list_head.next", self.list_size, 8)


def node_pgdats(m: VmciMemory) -> List[Tuple[int, int]]:
    """(node index, pglist_data address) of every online node: node_data[] for the
    bits set in node_online_map (every non-NULL entry when the map is not exported),
    or the single contig_page_data of a non-NUMA kernel."""
    if m.info.symbol("node_data") is None:
        if m.info.symbol("contig_page_data") is not None:
            return [(0, m.symbol("contig_page_data"))]
        raise LayoutError("VMCOREINFO has neither SYMBOL(node_data) nor SYMBOL(contig_page_data)")
    base = m.symbol("node_data")
    count = m.length("node_data", MAX_NODES)
    table = m.read(base, count * m.ptr_size, "node_data[]")
    ptrs = [int.from_bytes(table[i * 8:i * 8 + 8], "little") for i in range(count)]
    online: Optional[List[int]] = None
    if m.info.symbol("node_online_map") is not None:
        mask_size = min(m.info.size("nodemask_t") or (count + 7) // 8, MAX_NODES // 8)
        online = bits_set(m.read(m.symbol("node_online_map"), mask_size, "node_online_map"), count)
    out = []
    for nid in (online if online is not None else range(count)):
        p = ptrs[nid]
        if not p:
            if online is not None:
                raise LayoutError(f"node {nid} is online but node_data[{nid}] is NULL")
            continue
        if not m.is_kernel_address(p):
            raise LayoutError(f"node_data[{nid}]={p:#x} is not a kernel address")
        out.append((nid, p))
    if not out:
        raise LayoutError("no online node has a pglist_data")
    return out


class FallbackFacts:
    """Memory facts of one dump from VMCOREINFO; `missing` says what is not read, and why."""

    def __init__(self, m: VmciMemory, page_bound: int = MAX_FREE_BLOCKS):
        self.m = m
        self.missing: List[Dict[str, str]] = []
        self.notes: List[str] = []
        self._walked = 0
        # free blocks are struct pages: no more of them than the dump has page frames
        self.page_bound = max(1, min(page_bound, MAX_FREE_BLOCKS))

    def memory(self) -> Dict[str, Any]:
        m = self.m
        out: Dict[str, Any] = {"page_size": m.page_size, "totalram_pages": None, "free_pages": None,
                               "zones": [], "totals": {k: None for k in MISSING_TOTALS}}
        self.missing.append(missing("memory.totalram_pages", "VMCOREINFO exports no SYMBOL(_totalram_pages)"))
        self.missing += missing_all([f"memory.totals.{k}" for k in MISSING_TOTALS],
                                    "VMCOREINFO exports neither vm_node_stat/vm_zone_stat nor the hstates")
        try:
            layout = ZoneLayout(m)
            zones, free_total = self._zones(layout)
        except LayoutError as exc:
            self.missing.append(missing("memory.zones", exc.message))
            self.missing.append(missing("memory.free_pages", exc.message))
            return out
        out["zones"] = zones
        out["free_pages"] = free_total
        self.missing += missing_all([f"memory.zones.{k}" for k in MISSING_ZONE_FACTS], _NO_LAYOUT)
        return out

    def _zones(self, lay: ZoneLayout) -> Tuple[List[Dict[str, Any]], int]:
        m = self.m
        raw: List[Tuple[int, int, int, bytes]] = []   # (node, zone index, address, struct bytes)
        for nid, pgdat in node_pgdats(m):
            nr = m.read(pgdat + lay.nr_zones_off, 4, f"node {nid} pglist_data.nr_zones")
            nr_zones = int.from_bytes(nr, "little")
            if not 0 < nr_zones <= lay.max_zones:
                raise LayoutError(f"node {nid}: nr_zones {nr_zones} is not plausible (1..{lay.max_zones})")
            node = nid
            if lay.node_id is not None:
                node = int.from_bytes(m.read(pgdat + lay.node_id, 4, "pglist_data.node_id"), "little")
                if node != nid:
                    raise LayoutError(f"node_data[{nid}] holds node_id {node}: wild pointer")
            for z in range(nr_zones):
                addr = pgdat + lay.node_zones + z * lay.zone_size
                raw.append((node, z, addr, m.read(addr, lay.zone_size, f"node {node} zone {z}")))
        free_total = 0
        zones = []
        populated = []
        for node, z, addr, data in raw:
            free = int.from_bytes(data[lay.free_pages:lay.free_pages + 8], "little", signed=True)
            spanned = int.from_bytes(data[lay.spanned:lay.spanned + 8], "little")
            if spanned > 1 << 52 or abs(free) > 1 << 52:
                raise LayoutError(f"node {node} zone {z}: spanned {spanned} / free {free} pages not plausible")
            free_total += free
            if spanned:               # an empty zone type (e.g. Movable) on this node
                populated.append((node, z, addr, data))
                zones.append({"node": node, "name": None, "managed_pages": None, "spanned_pages": spanned,
                              "present_pages": None, "free_pages": free, "wmark_min": None,
                              "wmark_low": None, "wmark_high": None,
                              "free_blocks_by_order": self._free_blocks(lay, addr, spanned)})
        names = self._names([(n, d) for n, _z, _a, d in populated])
        for zone, name in zip(zones, names):
            zone["name"] = name
        return zones, free_total

    def _free_blocks(self, lay: ZoneLayout, zone: int, spanned: int) -> List[int]:
        """Blocks on the free lists of each order: every migrate type's list walked.

        Bounded three ways: a list cannot hold more blocks than the zone spans
        (nor the dump has pages), Brent's cycle test stops a loop that misses the
        head after at most twice its length, and all lists together stop at
        `page_bound` blocks."""
        m = self.m
        out = []
        pages = min(spanned, self.page_bound)
        for order in range(lay.orders):
            bound = (pages >> order) + 1        # more blocks than the zone can hold: damage
            count = 0
            for mt in range(lay.mtypes):
                head = zone + lay.free_area + order * lay.area_size + lay.free_list + mt * lay.list_size
                node = m.kernel_pointer(head + lay.next, "free list head")
                saved, power, steps = node, 1, 0
                while node != head:
                    count += 1
                    self._walked += 1
                    if count > bound or self._walked > self.page_bound:
                        raise LayoutError(f"free list of order {order} at {head:#x} loops or is longer "
                                          f"than the zone ({spanned} pages)")
                    if not node:
                        raise LayoutError(f"free list of order {order} at {head:#x} has a NULL link")
                    node = m.kernel_pointer(node + lay.next, f"free list of order {order}")
                    steps += 1
                    if node == saved:
                        raise LayoutError(f"free list of order {order} at {head:#x} loops or is longer "
                                          f"than the zone ({spanned} pages)")
                    if steps == power:
                        saved, power, steps = node, power * 2, 0
            out.append(count)
        return out

    def _names(self, zones: List[Tuple[int, bytes]]) -> List[Optional[str]]:
        """Each zone's name, through its `name` pointer: the one pointer-sized slot of
        struct zone that, in every populated zone, points to a short printable string,
        and to a different one in each zone of a node. VMCOREINFO has no OFFSET(zone.name),
        so the slot is found in the data; when no slot or more than one qualifies the
        names stay null and the reason is in `missing`."""
        if not zones:
            return []
        m = self.m
        size = len(zones[0][1])
        candidates = []
        for off in range(0, size - 7, 8):
            names = []
            for _node, data in zones:
                p = int.from_bytes(data[off:off + 8], "little")
                s = m.cstring(p, NAME_LIMIT) if m.is_kernel_address(p) else None
                if s is None:
                    break
                names.append(s)
            else:
                per_node: Dict[int, List[str]] = {}
                for (node, _d), s in zip(zones, names):
                    per_node.setdefault(node, []).append(s)
                if all(len(set(v)) == len(v) for v in per_node.values()):
                    candidates.append((off, names))
        if len(candidates) == 1:
            self.notes.append(f"zone names read through the pointer at offset {candidates[0][0]} of struct zone "
                              "(VMCOREINFO exports no OFFSET(zone.name))")
            return list(candidates[0][1])
        why = ("no pointer in struct zone leads to a zone name" if not candidates else
               f"{len(candidates)} pointers in struct zone could be its name")
        self.missing.append(missing("memory.zones.name", f"VMCOREINFO exports no OFFSET(zone.name) and {why}"))
        return [None] * len(zones)


def page_frames(reader: Any, page_size: int) -> int:
    """One past the highest page frame the dump describes (its PT_LOADs, or the
    kdump header's max_mapnr); MAX_FREE_BLOCKS when it does not say."""
    from triage.errors import TriageError
    loads = reader.phys_ranges()
    if loads:
        return max(-(-(p + mem) // page_size) for p, mem, _f in loads)
    try:
        blocks = reader.max_pfn()
    except TriageError:
        return MAX_FREE_BLOCKS
    # max_mapnr counts the file's blocks, which QEMU writes at 64 KiB for an
    # arm64 guest of 4 KiB pages: count kernel pages, not blocks
    block = getattr(reader, "page_size", None)
    if isinstance(block, int) and block > 0 and block != page_size:
        return -(-blocks * block // page_size)
    return blocks


def fallback_facts(reader: Any, info: Any, arch: Optional[str]) -> Dict[str, Any]:
    """{memory, tasks, modules, missing, notes} from VMCOREINFO alone (see the module docstring)."""
    m = VmciMemory(reader, info, arch)
    f = FallbackFacts(m, page_frames(reader, m.page_size))
    memory = f.memory()
    f.missing.append(missing("tasks", "VMCOREINFO describes no task_struct, so tasks need BTF or DWARF"))
    f.missing.append(missing("modules", "VMCOREINFO describes no struct module, so modules need BTF or DWARF"))
    return {"memory": memory, "tasks": None, "modules": None, "missing": f.missing, "notes": f.notes}
