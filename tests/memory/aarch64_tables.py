"""Constructed arm64 kernel page tables, for what no Debian kernel here produces.

Debian's 6.1 arm64 kernel is 4K granule, 48-bit VA, 48-bit PA: the real dumps
under sample_dumps cover it. 16K and 64K granules, 39/42/47/52-bit VA spaces
and the LPA (64K) / LPA2 (4K, 16K) 52-bit entry formats come from here. Every
physical 8-byte word that is not a table entry holds its own physical address,
so a reader that translates an address and reads it reports where it landed;
the oracle is drgn's own aarch64 page-table walker (set_linux_kernel_custom,
no debuginfo), never our translator.
"""

import struct
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

_AF = 1 << 10               # access flag, set on every leaf like the kernel does
_ATTR_HIGH = (1 << 53) | (1 << 54)   # PXN | UXN: must be masked out of addresses
_SH = 3 << 8                # shareability; address bits [51:50] under LPA2


def neg(bits: int) -> int:
    return (1 << 64) - (1 << bits)


@dataclass
class Config:
    name: str
    page_size: int
    va_bits: int
    pa52: bool = False      # 52-bit physical addresses (LPA with 64K, LPA2 with 4K/16K)
    before_5_4: bool = False  # linear map in the upper half, no TCR_EL1_T1SZ exported

    @property
    def page_shift(self) -> int:
        return {4096: 12, 16384: 14, 65536: 16}[self.page_size]

    @property
    def bits(self) -> int:
        return self.page_shift - 3

    @property
    def levels(self) -> int:
        return (self.va_bits - self.page_shift + self.bits - 1) // self.bits

    def shift(self, level: int) -> int:
        return self.page_shift + self.bits * (level - 1)

    @property
    def top_entries(self) -> int:
        return 1 << ((self.va_bits - self.page_shift - 1) % self.bits + 1)


@dataclass
class Tables:
    """Physical memory holding one swapper_pg_dir and the tables below it."""

    cfg: Config
    pgd: int                                   # physical address of the top table
    next_table: int
    tables: Dict[int, bytearray] = field(default_factory=dict)
    leaves: List[Tuple[int, int, int]] = field(default_factory=list)   # (vaddr, paddr, size)

    @classmethod
    def create(cls, cfg: Config, pgd: int, table_pool: int) -> "Tables":
        t = cls(cfg, pgd, table_pool)
        t.tables[pgd] = bytearray(cfg.page_size)
        return t

    def encode(self, oa: int, kind: int) -> int:
        """A descriptor for output address `oa` (kind 3: table/page, 1: block)."""
        cfg = self.cfg
        e = kind | _AF
        if cfg.page_shift == 16:
            e |= oa & 0x0000FFFFFFFF0000
            e |= ((oa >> 48) & 0xF) << 12
            e |= _SH
        elif cfg.pa52:
            e |= oa & 0x0003FFFFFFFFF000 & ~(cfg.page_size - 1)
            e |= ((oa >> 50) & 0x3) << 8
        else:
            e |= oa & 0x0000FFFFFFFFF000 & ~(cfg.page_size - 1)
            e |= _SH
        return e | _ATTR_HIGH

    def _entry_addr(self, table: int, vaddr: int, level: int) -> int:
        entries = self.cfg.top_entries if level == self.cfg.levels else 1 << self.cfg.bits
        idx = (vaddr >> self.cfg.shift(level)) & (entries - 1)
        return table + idx * 8

    def _get(self, addr: int) -> int:
        page = addr & ~(self.cfg.page_size - 1)
        return struct.unpack_from("<Q", self.tables[page], addr - page)[0]

    def _set(self, addr: int, value: int) -> None:
        page = addr & ~(self.cfg.page_size - 1)
        struct.pack_into("<Q", self.tables[page], addr - page, value)

    def _new_table(self) -> int:
        p = self.next_table
        self.next_table += self.cfg.page_size
        self.tables[p] = bytearray(self.cfg.page_size)
        return p

    def map(self, vaddr: int, paddr: int, level: int) -> None:
        """Map one block (level > 1) or page (level 1) of vaddr to paddr."""
        cfg = self.cfg
        size = 1 << cfg.shift(level)
        assert vaddr % size == 0 and paddr % size == 0
        table = self.pgd
        for lv in range(cfg.levels, level, -1):
            ea = self._entry_addr(table, vaddr, lv)
            e = self._get(ea)
            if e & 3 == 3:
                table = self._decode(e)
            else:
                nt = self._new_table()
                # table descriptors carry no leaf attributes
                self._set(ea, self._table_desc(nt))
                table = nt
        self._set(self._entry_addr(table, vaddr, level), self.encode(paddr, 3 if level == 1 else 1))
        self.leaves.append((vaddr, paddr, size))

    def _table_desc(self, oa: int) -> int:
        cfg = self.cfg
        e = 3
        if cfg.page_shift == 16:
            e |= (oa & 0x0000FFFFFFFF0000) | (((oa >> 48) & 0xF) << 12)
        elif cfg.pa52:
            e |= (oa & 0x0003FFFFFFFFF000) | (((oa >> 50) & 0x3) << 8)
        else:
            e |= oa & 0x0000FFFFFFFFF000
        return e

    def _decode(self, e: int) -> int:
        cfg = self.cfg
        if cfg.page_shift == 16:
            return (e & 0x0000FFFFFFFF0000) | (((e >> 12) & 0xF) << 48)
        if cfg.pa52:
            return (e & 0x0003FFFFFFFFF000 & ~(cfg.page_size - 1)) | (((e >> 8) & 0x3) << 50)
        return e & 0x0000FFFFFFFFF000 & ~(cfg.page_size - 1)

    def read_phys(self, paddr: int, size: int) -> bytes:
        """Physical reads: table bytes where a table lives, else address-valued words."""
        out = bytearray()
        addr = paddr
        end = paddr + size
        while addr < end:
            page = addr & ~(self.cfg.page_size - 1)
            n = min(end, page + self.cfg.page_size) - addr
            t = self.tables.get(page)
            if t is not None:
                out += t[addr - page:addr - page + n]
            else:
                first = addr & ~7
                words = b"".join(struct.pack("<Q", w) for w in range(first, addr + n + 7, 8))
                out += words[addr - first:addr - first + n]
            addr += n
        return bytes(out)


@dataclass
class Kernel:
    """A constructed kernel: tables, VMCOREINFO and the addresses worth probing."""

    cfg: Config
    tables: Tables
    vmcoreinfo: str
    probes: List[int]          # virtual addresses that are mapped
    unmapped: List[int]        # virtual addresses that are not


def build(cfg: Config) -> Kernel:
    """One kernel: linear map (largest block below the top level), kernel image
    (level-1 pages and a block), vmalloc pages, a high-PA page when 52-bit PA."""
    ps = cfg.page_size
    phys_offset = 0x80000000
    image_paddr = phys_offset + 0x200000 * (ps // 4096) * 16          # block aligned for any granule
    table_pool = phys_offset + 0x40000000 - 64 * ps * 64
    pgd = image_paddr + 0x100 * ps                                      # inside the image, like swapper_pg_dir
    t = Tables.create(cfg, pgd, table_pool)
    if cfg.before_5_4:
        # Before 5.4: linear map on top, image/vmalloc/modules below it.
        page_offset = neg(cfg.va_bits - 1)
        below = neg(cfg.va_bits)
    else:
        page_offset = neg(cfg.va_bits)
        # PAGE_END = -(1 << (VA_BITS_MIN - 1)); VA_BITS_MIN of a 52-bit kernel is
        # 47 with 16K pages, 48 otherwise (arch/arm64/include/asm/memory.h)
        va_min = (47 if cfg.page_size == 16384 else 48) if cfg.va_bits == 52 else cfg.va_bits
        below = neg(va_min - 1)
    # Linear map of 1 GiB of RAM with the level-2 block size (512M with 64K pages).
    lvl2 = 1 << cfg.shift(2)
    ram = max(1 << 30, lvl2 * 2)
    for off in range(0, ram, lvl2):
        t.map(page_offset + off, phys_offset + off, 2)
    probes = [page_offset + 0x1238, page_offset + (pgd - phys_offset) + 8, page_offset + ram - 8]
    # Kernel image: 128M above the start of its region + a KASLR-like offset,
    # pages then a level-2 block.
    image_vaddr = ((below + 0x08000000 + lvl2 - 1) & ~(lvl2 - 1)) + lvl2 * 3
    kimage_voffset = image_vaddr - image_paddr
    for i in range(0x200):
        t.map(image_vaddr + i * ps, image_paddr + i * ps, 1)
    blk_v = image_vaddr + lvl2 * ((0x200 * ps + lvl2 - 1) // lvl2 + 1)
    t.map(blk_v, blk_v - kimage_voffset, 2)
    probes += [image_vaddr + 0x10, image_vaddr + 0x1ff * ps + 0x18, blk_v + lvl2 - 8]
    # vmalloc: scattered level-1 pages, one above 2**48 when the PA is 52-bit.
    vm = image_vaddr + lvl2 * 64
    targets = [phys_offset + 0x3000 * ps, phys_offset + 0x10 * ps]
    if cfg.pa52:
        targets.append(0x000F_1234_0000_0000 & ~(ps - 1))
    for i, p in enumerate(targets):
        t.map(vm + i * ps, p, 1)
        probes.append(vm + i * ps + 0x28)
    # A level-3 block (1G with 4K, 64G with 16K+LPA2, 4T with 64K+LPA) where allowed.
    if cfg.levels >= 3 and (cfg.page_shift == 12 or cfg.pa52):
        l3 = 1 << cfg.shift(3)
        v = (vm + l3 * 2) & ~(l3 - 1)
        p = 0x000F_0000_0000_0000 if cfg.pa52 else l3
        if v < (1 << 64) - l3 and p + l3 <= (1 << (52 if cfg.pa52 else 48)):
            t.map(v, p, 3)
            probes.append(v + l3 - 16)
    # Outside the linear map: there the formula answers without the tables.
    unmapped = [vm + 32 * ps, vm + 64 * ps + 0x40]
    info = "\n".join([
        "OSRELEASE=6.12.0-constructed",
        f"PAGESIZE={ps}",
        f"SYMBOL(swapper_pg_dir)={pgd + kimage_voffset:x}",
        f"SYMBOL(_stext)={image_vaddr:x}",
        f"NUMBER(VA_BITS)={cfg.va_bits}",
        f"NUMBER(kimage_voffset)={kimage_voffset:#x}",
        f"NUMBER(PHYS_OFFSET)={phys_offset:#x}",
        "" if cfg.before_5_4 else f"NUMBER(TCR_EL1_T1SZ)={64 - cfg.va_bits}",
        f"NUMBER(MAX_PHYSMEM_BITS)={52 if cfg.pa52 else 48}",
        "KERNELOFFSET=0",
        "",
    ])
    return Kernel(cfg, t, info, probes, unmapped)


CONFIGS = [
    Config("4K-39", 4096, 39),
    Config("4K-48", 4096, 48),
    Config("4K-52-LPA2", 4096, 52, pa52=True),
    Config("16K-47", 16384, 47),
    Config("16K-48", 16384, 48),
    Config("16K-52-LPA2", 16384, 52, pa52=True),
    Config("64K-42", 65536, 42),
    Config("64K-48", 65536, 48),
    Config("64K-52-LPA", 65536, 52, pa52=True),
    Config("4K-39-before-5.4", 4096, 39, before_5_4=True),
    Config("64K-48-before-5.4", 65536, 48, before_5_4=True),
]
