"""Page census: every page classified from mem_map's page flags, as makedumpfile
classifies pages for `-d` exclusion (`triage analyze --page-census`).

Only VMCOREINFO is used (no drgn, no BTF): SPARSEMEM's SYMBOL(mem_section),
LENGTH/SIZE(mem_section) and OFFSET(mem_section.section_mem_map) lead to each
section's struct page array; OFFSET(page.flags|_mapcount|mapping|private|
compound_head|compound_order|compound_dtor), NUMBER(PG_*) and the
PAGE_*_MAPCOUNT_VALUE numbers classify each page. The classes and their order of
precedence are makedumpfile's (-d 31): free (buddy) pages, non-private and
private cache pages, user data (anonymous, hugetlbfs), hwpoison, offline, and
among the pages left, pages filled with zero (their contents read). Pages are
counted only where the dump holds them (makedumpfile's is_in_segs) and below
the highest pfn a mem_map covers (its max_mapnr), so the counts equal what
makedumpfile reports for the same input. mem_map is streamed in bounded chunks
(about 16 GiB of it per TiB of RAM is never held); time is linear in RAM.
"""

import bisect
import struct
from typing import Any, Dict, List, Optional, Sequence, Tuple

from triage.facts.vmci import LayoutError, VmciMemory

CHUNK = 4096                  # struct pages read at once (256 KiB); a power of two, so a
                              # compound head (aligned to its order) is never a chunk's last page
MAX_SECTIONS = 1 << 25       # 52-bit physical addresses in 128 MiB sections (x86 5-level paging, arm64 LPA2)
MAX_SECTION_BITS = 40
MAX_PHYSMEM_BITS = 56
SECTION_FLAG_BITS = 5         # low bits of section_mem_map holding flags (SECTION_MAP_LAST_BIT,
                              # makedumpfile masks 5 since 4.13; the mem_map address keeps them clear)
SECTION_MARKED_PRESENT = 1
PAGE_MAPPING_ANON = 1
ZERO_RUN = 256                # pages read at once for the zero test
RELEASE_EVERY = 16 << 20      # bytes read between drops of the file mapping (RSS stays bounded)

CLASSES = ("zero", "cache", "cache_private", "user", "free", "hwpoison", "offline")


class _Layout:
    """struct page and mem_section layout from VMCOREINFO, checked."""

    def __init__(self, m: VmciMemory):
        self.page = m.size("page")
        self.flags = m.offset("page.flags", self.page, 8)
        self.mapping = m.offset("page.mapping", self.page, 8)
        self.mapcount = m.offset("page._mapcount", self.page, 4)
        self.private = m.offset("page.private", self.page, 8)
        ch = m.info.offset("page.compound_head")
        self.compound_head = ch if ch is not None and 0 <= ch <= self.page - 8 else None
        self.pg = {name: m.number(f"PG_{name}", 0, 63) for name in ("lru", "private", "swapcache")}
        slab = m.info.number("PAGE_SLAB_MAPCOUNT_VALUE")      # 6.10+: slab is a page type
        self.slab_type = slab & 0xFFFFFFFF if slab is not None else None
        # PG_slab is gone where slab is a page type (6.10+); it is needed only without one
        self.pg_slab = m.number("PG_slab", 0, 63) if slab is None else self._opt_bit(m, "PG_slab")
        self.pg_swapbacked = self._opt_bit(m, "PG_swapbacked")
        self.pg_hwpoison = self._opt_bit(m, "PG_hwpoison")
        self.head_mask = m.number("PG_head_mask", 1, (1 << 63))
        self.buddy = m.number("PAGE_BUDDY_MAPCOUNT_VALUE", -(1 << 31), (1 << 31) - 1) & 0xFFFFFFFF
        off = m.info.number("PAGE_OFFLINE_MAPCOUNT_VALUE")
        self.offline = off & 0xFFFFFFFF if off is not None else None
        self.max_order = m.length("zone.free_area", 64)
        unaccepted = m.info.number("PAGE_UNACCEPTED_MAPCOUNT_VALUE")   # free pages not yet accepted (TDX/SNP)
        self.unaccepted = unaccepted & 0xFFFFFFFF if unaccepted is not None else None
        self.hugetlb_dtor = m.info.number("HUGETLB_PAGE_DTOR")
        self.free_huge_page = m.info.symbol("free_huge_page")   # before 4.4 the destructor was a function
        # Kernels whose folios keep the order in the low byte of the first tail page's
        # flags say so by exporting NUMBER(PG_hugetlb) (hugetlb is a flag there) or
        # NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE) (hugetlb is a page type), as makedumpfile reads them
        hm = m.info.number("PAGE_HUGETLB_MAPCOUNT_VALUE")
        self.hugetlb_type = hm & 0xFFFFFFFF if hm is not None else None
        self.pg_hugetlb = self._opt_bit(m, "PG_hugetlb") if self.hugetlb_type is None else None
        self.order_off, self.dtor_off, self.width = self._compound(m)
        self.unpack, self.index = self._unpacker()
        # sparsemem
        self.sec_size = m.size("mem_section")
        self.sec_map = m.offset("mem_section.section_mem_map", self.sec_size, 8)
        bits = m.number("SECTION_SIZE_BITS", 12, MAX_SECTION_BITS)
        phys = m.number("MAX_PHYSMEM_BITS", bits, MAX_PHYSMEM_BITS)
        shift = (m.page_size - 1).bit_length()
        if bits <= shift:
            raise LayoutError(f"NUMBER(SECTION_SIZE_BITS)={bits} is below the page shift")
        self.pages_per_section = 1 << (bits - shift)
        self.nr_sections = 1 << (phys - bits)
        if self.nr_sections > MAX_SECTIONS:
            raise LayoutError(f"{self.nr_sections} memory sections are not plausible")
        per_root = m.page_size // self.sec_size
        self.extreme = per_root > 0 and m.info.length("mem_section") in (
            None, -(-self.nr_sections // per_root))
        self.per_root = per_root if self.extreme else 1

    def _unpacker(self) -> Tuple[struct.Struct, Dict[str, int]]:
        """One struct.Struct reading the fields the census needs from a struct page
        (one iter_unpack per chunk instead of a call per field and page)."""
        fields = [("flags", self.flags, "Q"), ("mapcount", self.mapcount, "I"),
                  ("mapping", self.mapping, "Q"), ("private", self.private, "Q")]
        if self.compound_head is not None:
            fields.append(("compound_head", self.compound_head, "Q"))
        fmt, pos, index = "<", 0, {}
        for i, (name, off, code) in enumerate(sorted(fields, key=lambda f: f[1])):
            if off < pos:
                raise LayoutError(f"OFFSET(page.{name.replace('mapcount', '_mapcount')})={off} overlaps "
                                  "another struct page field")
            fmt += f"{off - pos}x{code}" if off > pos else code
            pos = off + struct.calcsize("<" + code)
            index[name] = i
        fmt += f"{self.page - pos}x" if self.page > pos else ""
        return struct.Struct(fmt), index

    @staticmethod
    def _opt_bit(m: VmciMemory, name: str) -> Optional[int]:
        return m.number(name, 0, 63) if m.info.number(name) is not None else None

    def _compound(self, m: VmciMemory) -> Tuple[Optional[int], Optional[int], int]:
        """Where the first tail page keeps the compound order and destructor, and
        their width: the destructor sits just before the order, so their distance
        is its width (1 byte since 4.16, 2 from 4.4, a function pointer before)."""
        order = m.info.offset("page.compound_order")
        dtor = m.info.offset("page.compound_dtor")
        if order is None or dtor is None or not (0 <= dtor < order <= self.page - 1):
            return None, None, 0
        width = order - dtor
        if width not in (1, 2, 8) or order + width > self.page:
            return None, None, 0
        return order, dtor, width


def _read_int(data: bytes, off: int, width: int) -> int:
    return int.from_bytes(data[off:off + width], "little")


class Census:
    """Counts of one dump (see the module docstring)."""

    def __init__(self, m: VmciMemory, pfns: "PfnSet"):
        self.m = m
        self.lay = _Layout(m)
        self.pfns = pfns                   # which page frames the dump describes and holds
        self.max_pfn = pfns.max_pfn
        self.kept = 0
        self.counts = {c: 0 for c in CLASSES}
        self.slab = 0
        self.unreadable = 0
        self._zero = bytes(m.page_size)
        self._read_bytes = 0

    # -- which pfns the dump holds -------------------------------------------------
    def covered(self, lo: int, hi: int) -> List[Tuple[int, int]]:
        """The parts of [lo, hi) some part of the dump holds the data of."""
        return self.pfns.covered(lo, hi)

    def held(self, lo: int, hi: int) -> int:
        return sum(b - a for a, b in self.covered(lo, min(hi, self.max_pfn)))

    # -- mem_map ----------------------------------------------------------------------
    def section_maps(self) -> List[Tuple[int, int]]:
        """(section number, mem_map address) of every present section below max_pfn."""
        m, lay = self.m, self.lay
        nr = min(lay.nr_sections, -(-self.max_pfn // lay.pages_per_section))
        root_table = m.symbol("mem_section")
        out = []
        roots: Dict[int, Optional[bytes]] = {}
        for sec in range(nr):
            if lay.extreme:
                r = sec // lay.per_root
                if r not in roots:
                    p = m.kernel_pointer(root_table + r * 8, f"mem_section root {r}")
                    roots[r] = m.read(p, lay.per_root * lay.sec_size, f"mem_section root {r}") if p else None
                block = roots[r]
                if block is None:
                    continue
                raw = block[(sec % lay.per_root) * lay.sec_size:][:lay.sec_size]
            else:
                raw = m.read(root_table + sec * lay.sec_size, lay.sec_size, f"mem_section[{sec}]")
            coded = _read_int(raw, lay.sec_map, 8)
            if not coded & SECTION_MARKED_PRESENT:
                continue
            mem_map = ((coded & ~((1 << SECTION_FLAG_BITS) - 1))
                       + sec * lay.pages_per_section * lay.page) & ((1 << 64) - 1)
            if not m.is_kernel_address(mem_map):
                raise LayoutError(f"mem_section[{sec}] decodes to mem_map {mem_map:#x}, not a kernel address")
            out.append((sec, mem_map))
        return out

    def run(self) -> Dict[str, Any]:
        lay = self.lay
        pps = lay.pages_per_section
        maps = self.section_maps()
        if maps:   # makedumpfile: max_mapnr is cut to the end of the last mem_map
            self.max_pfn = min(self.max_pfn, max((s + 1) * pps for s, _ in maps))
        mapped = {s: addr for s, addr in maps}
        skip_to = 0
        pfn = 0
        while pfn < self.max_pfn:
            end = min(pfn + CHUNK - pfn % CHUNK, self.max_pfn)
            parts = self.covered(pfn, end)
            if not parts:
                nxt = self.pfns.next_from(end, self.max_pfn)
                pfn = nxt if nxt is not None else self.max_pfn
                continue
            sec = pfn // pps
            if sec in mapped:
                keep, skip_to = self._classify(mapped[sec] + (pfn - sec * pps) * lay.page, pfn, end,
                                               parts, skip_to)
            else:
                keep = parts
            keep = self.pfns.with_data(keep)
            self.kept += sum(b - a for a, b in keep)
            self._zero_pages(keep)
            self._read_bytes += (end - pfn) * lay.page + sum(b - a for a, b in keep) * self.m.page_size
            if self._read_bytes >= RELEASE_EVERY:
                self.m.reader.release_memory()
                self._read_bytes = 0
            pfn = end
        in_dump, with_data = self.pfns.described(self.max_pfn), self.pfns.with_data_count(self.max_pfn)
        excluded = sum(self.counts.values())
        return {"method": "mem_map page flags, classified as makedumpfile -d 31 does",
                "page_size": self.m.page_size, "total_pages": self.max_pfn, "pages_in_dump": in_dump,
                "memory_hole": self.max_pfn - in_dump, "not_in_file": in_dump - with_data,
                **self.counts, "excluded": excluded, "remaining": self.kept - self.counts["zero"],
                "slab": self.slab, "unreadable_mem_map": self.unreadable}

    def _classify(self, mem_map: int, lo: int, hi: int, parts: List[Tuple[int, int]],
                  skip_to: int) -> Tuple[List[Tuple[int, int]], int]:
        """Classify pfns lo..hi (one chunk of one section); returns the pfn runs left
        for the zero test and the pfn a multi-page exclusion reaches."""
        lay, m = self.lay, self.m
        n = hi - lo
        try:
            data = m.read(mem_map, n * lay.page, f"mem_map of pfn {lo:#x}")
        except LayoutError:
            data = None
        keep: List[Tuple[int, int]] = []
        holds = bytearray(n)
        for a, b in parts:
            holds[a - lo:b - lo] = b"\1" * (b - a)
        pg, size = lay.pg, lay.page
        lru, private, swapcache = 1 << pg["lru"], 1 << pg["private"], 1 << pg["swapcache"]
        slab = 1 << lay.pg_slab if lay.pg_slab is not None else 0
        swapbacked = 1 << lay.pg_swapbacked if lay.pg_swapbacked is not None else None
        hwpoison = 1 << lay.pg_hwpoison if lay.pg_hwpoison is not None else 0
        counts = self.counts
        rows = list(lay.unpack.iter_unpack(data)) if data is not None else None
        ix = lay.index
        i_flags, i_mapcount, i_mapping, i_private = ix["flags"], ix["mapcount"], ix["mapping"], ix["private"]
        i_head = ix.get("compound_head")
        i = max(0, skip_to - lo)     # pages inside an exclusion begun earlier were counted then
        while i < n:
            if not holds[i]:
                i += 1
                continue
            pfn = lo + i
            if rows is None:
                self.unreadable += 1
                keep.append((pfn, pfn + 1))
                i += 1
                continue
            row = rows[i]
            flags = row[i_flags]
            mapcount = row[i_mapcount]
            is_slab = bool(flags & slab) or (lay.slab_type is not None and mapcount == lay.slab_type)
            order, hugetlb = 0, False
            if flags & lay.head_mask and i < n - 1:
                order, hugetlb = self._compound(rows[i + 1][i_flags], mapcount, data, (i + 1) * size)
                if order >= 64 or pfn & ((1 << order) - 1):
                    order = 0
            if i_head is not None and row[i_head] & 1:
                keep.append((pfn, pfn + 1))             # a tail page: its head decided
                i += 1
                continue
            nr = 1 << order
            kind = None
            mapping = row[i_mapping]
            anon = bool(mapping & PAGE_MAPPING_ANON) and not is_slab
            cache = bool(flags & lru) or (bool(flags & swapcache) and
                                          (swapbacked is None or bool(flags & swapbacked)))
            if not is_slab and mapcount == lay.buddy:
                prv = row[i_private]
                if prv < lay.max_order:
                    nr, kind = 1 << prv, "free"
            elif lay.unaccepted is not None and mapcount == lay.unaccepted:
                nr, kind = 1 << (lay.max_order - 1), "free"
            elif cache and not anon:
                kind = "cache_private" if flags & private else "cache"
            elif anon or hugetlb:
                kind = "user"
            elif flags & hwpoison:
                kind = "hwpoison"
            elif lay.offline is not None and not is_slab and mapcount == lay.offline:
                kind = "offline"
            if kind is None:
                if is_slab:
                    self.slab += self.held(pfn, pfn + nr)
                keep.append((pfn, pfn + 1))
                i += 1
                continue
            counts[kind] += self.held(pfn, pfn + nr) if nr > 1 else 1
            i += nr
            skip_to = max(skip_to, pfn + nr)
        return keep, skip_to

    def _compound(self, tail_flags: int, head_mapcount: int, data: bytes, tail: int) -> Tuple[int, bool]:
        """(order, is hugetlb) of a compound head, from its first tail page at
        data[tail:]: the layout is told by which VMCOREINFO keys the kernel exports."""
        lay = self.lay
        if lay.hugetlb_type is not None:
            return tail_flags & 0xFF, head_mapcount == lay.hugetlb_type
        if lay.pg_hugetlb is not None:
            return tail_flags & 0xFF, bool(tail_flags >> lay.pg_hugetlb & 1)
        if lay.order_off is None:
            return 0, False
        dtor = _read_int(data, tail + lay.dtor_off, lay.width)
        return (_read_int(data, tail + lay.order_off, lay.width),
                dtor in (lay.hugetlb_dtor, lay.free_huge_page) and dtor is not None)

    def _zero_pages(self, runs: List[Tuple[int, int]]) -> None:
        """Count the pages filled with zero among `runs` (pages no class excluded)."""
        ps, zero, read = self.m.page_size, self._zero, self.m.reader.read_phys_bulk
        merged: List[List[int]] = []
        for a, b in runs:
            if merged and merged[-1][1] == a:
                merged[-1][1] = b
            else:
                merged.append([a, b])
        for a, b in merged:
            while a < b:
                n = min(b - a, ZERO_RUN)
                try:
                    data = read(a * ps, n * ps)
                except Exception:   # noqa: BLE001 - MemoryReadError: page by page below
                    data = None
                if data is None:
                    for p in range(a, a + n):
                        try:
                            if read(p * ps, ps) == zero:
                                self.counts["zero"] += 1
                        except Exception:   # noqa: BLE001 - an absent page is not a zero page
                            pass
                else:
                    view = memoryview(data)
                    self.counts["zero"] += sum(1 for k in range(n) if view[k * ps:(k + 1) * ps] == zero)
                a += n


def _union(ranges: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
    out: List[Tuple[int, int]] = []
    for a, b in sorted(r for r in ranges if r[0] < r[1]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _minus(ranges: List[Tuple[int, int]], holes: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
    out = []
    for a, b in ranges:
        for h0, h1 in holes:
            if h1 <= a or h0 >= b:
                continue
            if h0 > a:
                out.append((a, h0))
            a = max(a, h1)
            if a >= b:
                break
        if a < b:
            out.append((a, b))
    return out


def _clip(ranges: List[Tuple[int, int]], starts: List[int], lo: int, hi: int) -> List[Tuple[int, int]]:
    """The parts of [lo, hi) in sorted disjoint `ranges` (`starts`: their first frames)."""
    out = []
    i = max(0, bisect.bisect_right(starts, lo) - 1)
    while i < len(ranges) and ranges[i][0] < hi:
        a, b = max(lo, ranges[i][0]), min(hi, ranges[i][1])
        if a < b:
            out.append((a, b))
        i += 1
    return out


class PfnSet:
    """Which page frames a dump has, as sorted (start pfn, end pfn) runs: those it
    describes (`held`: an ELF's PT_LOAD p_memsz), those some part of it holds the
    data of (`segs`: classified, makedumpfile's is_in_segs) and those no part of it
    leaves out (`data`: zero-tested and kept; None when the same as segs)."""

    def __init__(self, held: List[Tuple[int, int]], segs: List[Tuple[int, int]],
                 data: List[Tuple[int, int]], max_pfn: int):
        self.held_ranges = held
        self.segs = segs
        self._starts = [r[0] for r in segs]
        self.data = data if data != segs else None
        self._data_starts = [r[0] for r in data]
        self.max_pfn = max_pfn

    def covered(self, lo: int, hi: int) -> List[Tuple[int, int]]:
        """The parts of [lo, hi) in segs."""
        return _clip(self.segs, self._starts, lo, hi)

    def next_from(self, pfn: int, end: int) -> Optional[int]:
        """The first frame of segs in [pfn, end), or None."""
        got = self.covered(pfn, end)
        return got[0][0] if got else None

    def with_data(self, runs: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
        """The parts of `runs` no PT_LOAD leaves out: makedumpfile clears every frame
        past a PT_LOAD's p_filesz from its bitmap before it classifies
        (exclude_nodata_pages), though another PT_LOAD may hold that frame's data."""
        if self.data is None:
            return runs
        return [r for lo, hi in runs for r in _clip(self.data, self._data_starts, lo, hi)]

    def described(self, hi: int) -> int:
        """Frames below `hi` the dump describes."""
        return sum(min(b, hi) - a for a, b in self.held_ranges if a < hi)

    def with_data_count(self, hi: int) -> int:
        """Frames below `hi` in segs and not left out."""
        return sum(b - a for a, b in self.with_data(self.covered(0, hi)))


class IndexedPfns(PfnSet):
    """The page frames of a dump with its own index (the kdump bitmap), asked one
    window at a time: no list over the whole machine is ever built (a heavily
    filtered 1 TiB dump has millions of runs), and time follows the bitmap bytes.
    The file's blocks may be `k` kernel pages each (QEMU writes an arm64 guest's
    kdump-compressed dump in 64 KiB blocks whatever the kernel's pages are)."""

    def __init__(self, reader: Any, k: int, max_pfn: int):
        self.reader = reader
        self.k = k
        self.max_pfn = max_pfn
        self.data = None

    def covered(self, lo: int, hi: int) -> List[Tuple[int, int]]:
        k = self.k
        hi = min(hi, self.max_pfn)
        if lo >= hi:
            return []
        if k == 1:
            return self.reader.pfn_runs(lo, hi)
        out = []
        for a, b in self.reader.pfn_runs(lo // k, -(-hi // k)):
            a, b = max(a * k, lo), min(b * k, hi)
            if a < b:
                out.append((a, b))
        return out

    def next_from(self, pfn: int, end: int) -> Optional[int]:
        k = self.k
        end = min(end, self.max_pfn)
        got = self.reader.next_pfn(pfn // k, -(-end // k))
        if got is None:
            return None
        got = max(got * k, pfn)
        return got if got < end else None

    def with_data(self, runs: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
        return runs

    def described(self, hi: int) -> int:
        k = self.k
        hi = min(hi, self.max_pfn)
        whole = self.reader.pfn_count(hi // k) * k
        return whole + (hi % k if hi % k and self.reader.pfn_runs(hi // k, hi // k + 1) else 0)

    def with_data_count(self, hi: int) -> int:
        return self.described(hi)


def dump_ranges(reader: Any, page_size: int) -> PfnSet:
    """The frames the dump has. For an ELF dump: its PT_LOADs. A frame is
    classified where some PT_LOAD's file data holds it (makedumpfile's
    is_in_segs), and zero-tested and kept only where no PT_LOAD lists it past
    p_filesz (makedumpfile's exclude_nodata_pages: a filtering writer already
    excluded it). The two differ only where PT_LOADs overlap: arm64's kdump
    /proc/vmcore lists the kernel image both alone, with its data, and inside a
    direct-map PT_LOAD whose first frames have none. A kdump file: its bitmap of
    dumped pages, asked a window at a time (IndexedPfns), or the reader's page runs;
    LayoutError for a format with neither."""
    loads = reader.phys_ranges()
    if loads is not None:
        ps = page_size
        held = _union([(p // ps, -(-(p + mem) // ps)) for p, mem, _f in loads])
        segs = _union([(-(-p // ps), -(-(p + f) // ps)) for p, _mem, f in loads if f > 0])
        nodata = _union([(-(-(p + f) // ps), -(-(p + mem) // ps)) for p, mem, f in loads if f < mem])
        return PfnSet(held, segs, _minus(held, nodata), max((b for _a, b in held), default=0))
    max_pfn = reader.max_pfn()
    # The file counts frames of its own block size, which need not be the kernel's
    # page size: QEMU writes an arm64 guest's kdump-compressed dump in 64 KiB
    # blocks whatever the kernel's pages are.
    unit = reader.facts().page_size or page_size
    if unit % page_size == 0 and reader.pfn_runs(0, 0) is not None:
        k = unit // page_size
        return IndexedPfns(reader, k, max_pfn * k)
    runs = reader.pfn_ranges()
    if runs is None:
        # asking has_page for every frame up to the header's max_mapnr would loop on an
        # untrusted count; every reader today gives segments or a page index
        raise LayoutError("the dump format gives no index of the pages it holds")
    runs = _union([(a * unit // page_size, -(-min(b, max_pfn) * unit // page_size)) for a, b in runs])
    max_pfn = -(-max_pfn * unit // page_size)
    return PfnSet(runs, runs, runs, max_pfn)


def page_census(paths: Sequence[str]) -> Dict[str, Any]:
    """dump.census for the dump `paths`; raises TriageError (LayoutError, ...) with the reason."""
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.logsource import open_reader
    with open_reader(list(paths)) as reader:
        raw = reader.vmcoreinfo()
        if not raw:
            raise LayoutError("the dump carries no VMCOREINFO")
        info = parse_vmcoreinfo(raw)
        m = VmciMemory(reader, info, reader.facts().arch)
        if info.symbol("mem_section") is None:
            raise LayoutError("VMCOREINFO has no SYMBOL(mem_section): only SPARSEMEM kernels are counted")
        return Census(m, dump_ranges(reader, m.page_size)).run()
