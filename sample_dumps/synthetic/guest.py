"""A small x86_64 guest memory image with the structures dump tools read.

The image holds: real 4-level page tables (kernel-image map with 2 MiB pages, a
direct map whose first 2 MiB use 4 KiB pages), init_uts_ns, a SPARSEMEM_EXTREME
mem_section table (makedumpfile needs it to start), the printk_log ring and the
variables that locate it. VMCOREINFO is written with the keys 3.10 (RHEL 7,
`struct log`) or 4.18 (RHEL 8, `struct printk_log`) kernels export.
"""

import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import printk_log

PAGE = 4096
START_KERNEL_MAP = 0xFFFFFFFF80000000
P_PRESENT, P_RW, P_PSE, P_ACCESSED, P_DIRTY, P_GLOBAL, P_NX = 1, 2, 0x80, 0x20, 0x40, 0x100, 1 << 63


@dataclass
class Profile:
    """What differs between the kernels we imitate."""

    name: str
    release: str
    version: str
    struct_name: str           # "log" (3.10/RHEL 7) or "printk_log"
    log_align: int
    pgt_symbol: str            # init_level4_pgt (3.10) or init_top_pgt (4.13+)
    page_offset: int
    vmemmap: int
    kaslr: int                 # KERNELOFFSET
    load_phys: int             # physical address of _text
    array_pointer_mem_section: bool
    refcount_name: str         # page._count (3.10) or page._refcount


CENTOS7 = Profile("centos7", "3.10.0-1160.el7.x86_64", "#1 SMP Mon Oct 19 16:18:59 UTC 2020",
                  "log", 8, "init_level4_pgt", 0xFFFF880000000000, 0xFFFFEA0000000000,
                  0, 0x1000000, False, "page._count")
CENTOS8 = Profile("centos8", "4.18.0-305.3.1.el8.x86_64", "#1 SMP Tue Jun 1 16:14:33 UTC 2021",
                  "printk_log", 4, "init_top_pgt", 0xFFFF9C8A40000000, 0xFFFFD4C0C0000000,
                  0x1E400000, 0x1000000, True, "page._refcount")

RAM = [(0x1000, 0x9F000), (0x100000, 0x2000000)]      # 32 MiB guest, like an e820 map

# Offsets from _text of the objects we place in the kernel image.
OFF_PGT = 0x600000           # PML4, then PDPT/PD for the image, PDPT/PD/PT for the direct map
OFF_UTS = 0x700000
OFF_LOGVARS = 0x710000       # log_buf, log_buf_len, log_first_idx, log_next_idx, clear_idx
OFF_MEMSEC = 0x730000
OFF_LOGBUF = 0x740000        # __log_buf (static buffer)
DYN_LOGBUF_PHYS = 0x1C00000  # a memblock allocation reached through the direct map
DYN_MEMSEC_ROOT_PHYS = 0x9000  # in the 4 KiB-mapped first 2 MiB of the direct map
VMEMMAP_PHYS = 0x1800000     # struct page array, mapped at vmemmap with one 2 MiB page
FREE_RANGE = (0x1A00000, 0x1C00000)   # pages the buddy allocator holds (stale contents)


@dataclass
class Guest:
    profile: Profile
    pages: Dict[int, bytearray] = field(default_factory=dict)
    vmcoreinfo: str = ""
    expected: str = ""                                    # makedumpfile --dump-dmesg text
    kept: List[Tuple[int, int, int, str, str]] = field(default_factory=list)
    crash_rip: int = 0

    @property
    def text(self) -> int:
        return 0xFFFFFFFF81000000 + self.profile.kaslr

    @property
    def phys_base(self) -> int:
        """phys = vaddr - __START_KERNEL_map + phys_base (mod 2**64)."""
        return (self.profile.load_phys - (self.text - START_KERNEL_MAP)) & (2**64 - 1)

    def kphys(self, off: int) -> int:
        return self.profile.load_phys + off

    def write(self, paddr: int, data: bytes) -> None:
        pos = 0
        while pos < len(data):
            pfn, off = divmod(paddr + pos, PAGE)
            n = min(PAGE - off, len(data) - pos)
            page = self.pages.setdefault(pfn, bytearray(PAGE))
            page[off:off + n] = data[pos:pos + n]
            pos += n

    def u64(self, paddr: int, value: int) -> None:
        self.write(paddr, struct.pack("<Q", value & (2**64 - 1)))

    def page_bytes(self, pfn: int) -> Optional[bytes]:
        p = self.pages.get(pfn)
        return bytes(p) if p is not None else None


def _signed(v: int) -> int:
    return v - 2**64 if v >= 2**63 else v


def _build_page_tables(g: Guest) -> int:
    """Returns the physical address of the PML4."""
    p = g.profile
    pml4 = g.kphys(OFF_PGT)
    k_pdpt, k_pd = pml4 + PAGE, pml4 + 2 * PAGE
    d_pdpt, d_pd, d_pt = pml4 + 3 * PAGE, pml4 + 4 * PAGE, pml4 + 5 * PAGE
    flags = P_PRESENT | P_RW | P_ACCESSED | P_DIRTY
    # Kernel image: __START_KERNEL_map .. +1 GiB, 2 MiB pages (level2_kernel_pgt).
    g.u64(pml4 + 511 * 8, k_pdpt | flags)
    g.u64(k_pdpt + 510 * 8, k_pd | flags)
    for i in range(512):
        va = START_KERNEL_MAP + i * (2 << 20)
        pa = (va - START_KERNEL_MAP + g.phys_base) & (2**64 - 1)
        if pa < RAM[-1][1]:
            g.u64(k_pd + i * 8, pa | flags | P_PSE | P_GLOBAL)
    # Direct map: first 2 MiB through a PTE page, the rest with 2 MiB pages.
    po = p.page_offset
    g.u64(pml4 + ((po >> 39) & 511) * 8, d_pdpt | flags)
    g.u64(d_pdpt + ((po >> 30) & 511) * 8, d_pd | flags)
    g.u64(d_pd, d_pt | flags)
    for i in range(512):
        if any(a <= i * PAGE < b for a, b in RAM):
            g.u64(d_pt + i * 8, (i * PAGE) | flags | P_GLOBAL | P_NX)
    for i in range(1, RAM[-1][1] >> 21):
        g.u64(d_pd + i * 8, (i << 21) | flags | P_PSE | P_GLOBAL | P_NX)
    # vmemmap: the struct page array makedumpfile reads to filter pages.
    v_pdpt, v_pd = pml4 + 6 * PAGE, pml4 + 7 * PAGE
    vm = p.vmemmap
    g.u64(pml4 + ((vm >> 39) & 511) * 8, v_pdpt | flags)
    g.u64(v_pdpt + ((vm >> 30) & 511) * 8, v_pd | flags)
    g.u64(v_pd + ((vm >> 21) & 511) * 8, VMEMMAP_PHYS | flags | P_PSE | P_GLOBAL | P_NX)
    return pml4


def _struct_pages(g: Guest) -> None:
    """One struct page per pfn: in use (refcount 1, _mapcount -1) or free (buddy, order 0)."""
    centos8 = g.profile.name == "centos8"
    # (flags, mapping, _mapcount, count, private) offsets as VMCOREINFO states them
    off_map, off_mc, off_cnt, off_priv = (24, 48, 52, 40) if centos8 else (8, 24, 28, 48)
    for a, b in RAM:
        for pfn in range(a // PAGE, b // PAGE):
            sp = bytearray(64)
            free = FREE_RANGE[0] <= pfn * PAGE < FREE_RANGE[1]
            struct.pack_into("<i", sp, off_mc, -128 if free else -1)
            struct.pack_into("<i", sp, off_cnt, 0 if free else 1)
            g.write(VMEMMAP_PHYS + pfn * 64, bytes(sp))
            if free:
                g.write(pfn * PAGE, (b"stale free page %08x " % pfn) * 160)


def _uts(g: Guest) -> None:
    p = g.profile
    fields = ["Linux", "crashhost.example.com", p.release, p.version, "x86_64", "(none)"]
    raw = b"".join(f.encode().ljust(65, b"\0") for f in fields)
    g.write(g.kphys(OFF_UTS), struct.pack("<I", 2) + raw)   # kref, then name at offset 4


def _mem_section(g: Guest) -> int:
    """SPARSEMEM_EXTREME: root array -> one root page -> section 0. Returns SYMBOL value."""
    p = g.profile
    root_page_phys = g.kphys(OFF_MEMSEC) + PAGE
    root_page_va = g.text + OFF_MEMSEC + PAGE
    # section_mem_map: mem_map minus section start pfn, | SECTION_MARKED_PRESENT | HAS_MEM_MAP
    g.u64(root_page_phys, p.vmemmap | 0x3)
    if p.array_pointer_mem_section:
        roots_phys = DYN_MEMSEC_ROOT_PHYS
        g.u64(roots_phys, root_page_va)
        g.u64(g.kphys(OFF_MEMSEC), p.page_offset + roots_phys)   # the pointer variable
        return p.page_offset + roots_phys                        # VMCOREINFO_SYMBOL_ARRAY
    g.u64(g.kphys(OFF_MEMSEC), root_page_va)
    return g.text + OFF_MEMSEC


def _vmcoreinfo(g: Guest, syms: Dict[str, int], log_buf_len: int, crashtime: int) -> str:
    p = g.profile
    s = p.struct_name
    lines = [f"OSRELEASE={p.release}", "PAGESIZE=4096"]
    order = ["init_uts_ns", "node_online_map", "swapper_pg_dir", "_stext", "vmap_area_list",
             "mem_section"]
    for name in order:
        lines.append(f"SYMBOL({name})={syms[name]:x}")
    lines += ["LENGTH(mem_section)=2048", "SIZE(mem_section)=16",
              "OFFSET(mem_section.section_mem_map)=0",
              "SIZE(page)=64", "SIZE(pglist_data)=" + ("171712" if p.name == "centos8" else "92480"),
              "SIZE(zone)=" + ("1472" if p.name == "centos8" else "1920"),
              "SIZE(free_area)=88", "SIZE(list_head)=16", "SIZE(nodemask_t)=128",
              "OFFSET(page.flags)=0", f"OFFSET({p.refcount_name})=52" if p.name == "centos8"
              else f"OFFSET({p.refcount_name})=28",
              "OFFSET(page.mapping)=24" if p.name == "centos8" else "OFFSET(page.mapping)=8",
              "OFFSET(page.lru)=8" if p.name == "centos8" else "OFFSET(page.lru)=32",
              "OFFSET(page._mapcount)=48" if p.name == "centos8" else "OFFSET(page._mapcount)=24",
              "OFFSET(page.private)=40" if p.name == "centos8" else "OFFSET(page.private)=48",
              "OFFSET(pglist_data.node_zones)=0", "OFFSET(pglist_data.nr_zones)=" +
              ("171232" if p.name == "centos8" else "92032"),
              "OFFSET(pglist_data.node_start_pfn)=" + ("171240" if p.name == "centos8" else "92040"),
              "OFFSET(pglist_data.node_spanned_pages)=" + ("171256" if p.name == "centos8" else "92056"),
              "OFFSET(pglist_data.node_id)=" + ("171264" if p.name == "centos8" else "92064"),
              "OFFSET(zone.free_area)=" + ("192" if p.name == "centos8" else "112"),
              "OFFSET(zone.vm_stat)=" + ("1344" if p.name == "centos8" else "1072"),
              "OFFSET(zone.spanned_pages)=" + ("104" if p.name == "centos8" else "1760"),
              "OFFSET(free_area.free_list)=0", "OFFSET(list_head.next)=0", "OFFSET(list_head.prev)=8",
              "OFFSET(vmap_area.va_start)=0", "OFFSET(vmap_area.list)=" +
              ("40" if p.name == "centos8" else "48"),
              "LENGTH(zone.free_area)=11",
              f"SYMBOL(log_buf)={syms['log_buf']:x}",
              f"SYMBOL(log_buf_len)={syms['log_buf_len']:x}",
              f"SYMBOL(log_first_idx)={syms['log_first_idx']:x}",
              f"SYMBOL(log_next_idx)={syms['log_next_idx']:x}",
              f"SIZE({s})=16",
              f"OFFSET({s}.ts_nsec)=0", f"OFFSET({s}.len)=8",
              f"OFFSET({s}.text_len)=10", f"OFFSET({s}.dict_len)=12",
              "LENGTH(free_area.free_list)=" + ("5" if p.name == "centos8" else "5"),
              "NUMBER(NR_FREE_PAGES)=0", "NUMBER(PG_lru)=5", "NUMBER(PG_private)=" +
              ("13" if p.name == "centos8" else "11"),
              "NUMBER(PG_swapcache)=" + ("10" if p.name == "centos8" else "16"),
              "NUMBER(PG_slab)=7", "NUMBER(PG_hwpoison)=" + ("22" if p.name == "centos8" else "23"),
              "NUMBER(PG_head_mask)=" + ("65536" if p.name == "centos8" else "16384"),
              "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-128",
              "NUMBER(HUGETLB_PAGE_DTOR)=2" if p.name == "centos8" else "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-256",
              f"NUMBER(phys_base)={_signed(g.phys_base)}",
              f"SYMBOL({p.pgt_symbol})={syms[p.pgt_symbol]:x}",
              f"SYMBOL(node_data)={syms['node_data']:x}", "LENGTH(node_data)=1024",
              f"KERNELOFFSET={p.kaslr:x}",
              "NUMBER(KERNEL_IMAGE_SIZE)=1073741824"]
    if p.name == "centos8":
        lines += ["NUMBER(pgtable_l5_enabled)=0", "NUMBER(sme_mask)=0",
                  f"SYMBOL(clear_idx)={syms['clear_idx']:x}"]
    lines.append(f"CRASHTIME={crashtime}")
    return "\n".join(lines) + "\n"


def build_guest(profile: Profile, records: Sequence[Tuple[int, int, int, str, str]], *,
                log_buf_len: int = 1 << 18, dynamic_log_buf: bool = False,
                crashtime: int = 1606399261) -> Guest:
    """Lay out a guest that crashed after printing `records`."""
    g = Guest(profile)
    # Make every RAM page exist (zero pages included) so writers see the whole map.
    for a, b in RAM:
        for pfn in range(a // PAGE, b // PAGE):
            g.pages.setdefault(pfn, bytearray(PAGE))
    pml4 = _build_page_tables(g)
    _struct_pages(g)
    _uts(g)
    memsec_sym = _mem_section(g)
    ring = printk_log.build_ring(records, log_buf_len, profile.log_align)
    if dynamic_log_buf:
        buf_phys = DYN_LOGBUF_PHYS
        buf_va = profile.page_offset + buf_phys
    else:
        buf_phys = g.kphys(OFF_LOGBUF)
        buf_va = g.text + OFF_LOGBUF
    g.write(buf_phys, bytes(ring.buf))
    vars_phys = g.kphys(OFF_LOGVARS)
    g.write(vars_phys, struct.pack("<QiIII", buf_va, log_buf_len, ring.first_idx, ring.next_idx,
                                   ring.first_idx))
    # A little kernel "text" so that the image is not all zeros.
    g.write(g.kphys(0), b"\x48\x8d\x25\x51\x3f\x60\x01" + b"\x90" * 57)
    g.crash_rip = 0xFFFFFFFFC0A1B2C3
    va = g.text + OFF_LOGVARS
    syms = {
        "init_uts_ns": g.text + OFF_UTS,
        "node_online_map": g.text + 0x720000,
        "swapper_pg_dir": g.text + OFF_PGT,
        profile.pgt_symbol: g.text + OFF_PGT,
        "_stext": g.text,
        "vmap_area_list": g.text + 0x720100,
        "mem_section": memsec_sym,
        "node_data": g.text + 0x720200,
        "log_buf": va, "log_buf_len": va + 8, "log_first_idx": va + 12, "log_next_idx": va + 16,
        "clear_idx": va + 20,
    }
    g.u64(g.kphys(0x720000), 1)     # node_online_map: node 0
    assert pml4 == g.kphys(OFF_PGT)
    g.vmcoreinfo = _vmcoreinfo(g, syms, log_buf_len, crashtime)
    g.kept = ring.kept
    g.expected = printk_log.expected_dmesg(ring.kept)
    return g
