"""aarch64 kernel address translation from VMCOREINFO, with no debuginfo.

Three address classes (arch/arm64's Documentation/arch/arm64/memory.rst):

* the linear map: paddr = vaddr - PAGE_OFFSET + PHYS_OFFSET;
* the kernel image, from _stext up to swapper_pg_dir: paddr = vaddr - kimage_voffset;
* everything else (image data and bss, vmalloc, modules, vmemmap) by walking
  swapper_pg_dir: 4K/16K/64K granules, 2 to 5 levels, block descriptors at any
  level above the last, 52-bit output addresses in the FEAT_LPA (64K) or
  FEAT_LPA2 (4K/16K) entry format.

PAGE_OFFSET moved twice: before 5.4 the linear map was the upper half of the
kernel VA space (-(1 << (VA_BITS - 1))); 5.4 flipped it to the bottom
(-(1 << VA_BITS)), and a 52-bit kernel on 48-bit hardware based it on the
runtime size (-(1 << vabits_actual)) until 5.11 based it on VA_BITS again.
VMCOREINFO does not say which kernel wrote it, so every candidate is checked
against the page tables (the kernel maps its linear map in swapper_pg_dir too)
and the first that agrees is used; `layout` records which, for `triage info`.
"""

import struct
from typing import Dict, List, Optional, Tuple

from triage.dumps.vmcoreinfo import VmcoreInfo
from triage.errors import MemoryReadError, NoLogError
from triage.memory.arch import PhysReader, Translator

_GRANULES = {4096: 12, 16384: 14, 65536: 16}
_VA_BITS = (36, 39, 42, 47, 48, 52)      # what the Kconfig choices can produce
_PA_LOW = 0x0000FFFFFFFFFFFF              # descriptor bits [47:0]
_TABLE_CACHE_MAX = 4096                   # table pages kept (bounded memory)
_U64 = (1 << 64) - 1
_IMAGE_TAIL_MAX = 256 << 20              # image data+bss after swapper_pg_dir (fallback bound)
_FIRST_MAPPING_TABLES = 64               # tables searched for a linear-map page (PHYS_OFFSET)


class AArch64Translator(Translator):
    """Linear map, kernel image and swapper_pg_dir walks for one arm64 dump."""

    arch = "aarch64"
    pointer_size = 8

    def __init__(self, info: VmcoreInfo, read_phys: PhysReader):
        self._read_phys = read_phys
        self._tables: Dict[int, bytes] = {}
        page_size = info.page_size
        if page_size not in _GRANULES:
            raise NoLogError(f"aarch64 VMCOREINFO PAGESIZE={info.values.get('PAGESIZE')!r} "
                             f"is not a 4K, 16K or 64K granule")
        self.page_size = page_size
        self.page_shift = _GRANULES[page_size]
        va_bits = info.number("VA_BITS")
        if va_bits not in _VA_BITS:
            raise NoLogError(f"aarch64 VMCOREINFO NUMBER(VA_BITS)={va_bits} is missing or not one of "
                             f"{', '.join(map(str, _VA_BITS))}")
        self.va_bits = va_bits
        t1sz = info.number("TCR_EL1_T1SZ")
        if t1sz is not None and not (64 - va_bits <= t1sz <= 64 - min(_VA_BITS)):
            raise NoLogError(f"aarch64 VMCOREINFO NUMBER(TCR_EL1_T1SZ)={t1sz} does not fit VA_BITS={va_bits}")
        self.t1sz = t1sz
        self.kimage_voffset = _need(info, "kimage_voffset")
        # 5.11+ 52-bit kernels on 48-bit hardware lower memstart_addr below zero:
        # the linear-map formula then works modulo 2**64. Without the key (kernels
        # before 4.12's export, trimmed VMCOREINFO) it is derived per layout from
        # the page tables (_derive_phys_offset).
        given = info.number("PHYS_OFFSET")
        self._phys_offset_given = None if given is None else given & _U64
        self.phys_offset = self._phys_offset_given or 0
        self.phys_offset_source = "VMCOREINFO" if given is not None else None
        self.pgd_vaddr = info.symbol("swapper_pg_dir")
        if self.pgd_vaddr is None:
            raise NoLogError("aarch64 VMCOREINFO has no SYMBOL(swapper_pg_dir)")
        self.pgd_paddr = (self.pgd_vaddr - self.kimage_voffset) & _U64
        self.pac_mask = info.number("KERNELPACMASK") or 0
        max_pa = info.number("MAX_PHYSMEM_BITS")
        self.max_phys_bits = max_pa if max_pa in (48, 52) else 48
        # Runtime VA size: TCR_EL1.T1SZ when exported (5.9+), else candidates.
        if t1sz is not None:
            actual = [64 - t1sz]
        else:
            actual = [va_bits] + ([self._va_bits_min] if va_bits == 52 else [])
        self._image_lo = info.symbol("_stext")
        self._image_hi = self.pgd_vaddr + page_size
        self.layout: Dict[str, object] = {}
        self._pick_layout(actual, t1sz is not None)

    # -- configuration ---------------------------------------------------
    def _set_walk(self, vabits_actual: int) -> None:
        """Levels and entry format of swapper_pg_dir for a runtime VA size."""
        shift, bits = self.page_shift, self.page_shift - 3
        self.vabits_actual = vabits_actual
        self.levels = (vabits_actual - shift + bits - 1) // bits
        self.top_entries = 1 << ((vabits_actual - shift - 1) % bits + 1)
        self._oa_mask = _PA_LOW & ~(self.page_size - 1)
        self._oa_high_mask = 0
        self._oa_high_shift = 0
        if self.page_shift == 16:
            # FEAT_LPA: bits [15:12] hold PA[51:48] (zero with 48-bit PAs).
            self._oa_high_mask, self._oa_high_shift = 0xF000, 36
            self.entry_format = "LPA" if self.max_phys_bits == 52 else "48-bit"
        elif self.max_phys_bits == 52 or vabits_actual == 52:
            # FEAT_LPA2 (6.9+): bits [49:48] in place, PA[51:50] from bits [9:8].
            self._oa_mask |= 0x0003000000000000
            self._oa_high_mask, self._oa_high_shift = 0x300, 42
            self.entry_format = "LPA2"
        else:
            self.entry_format = "48-bit"

    def _candidates(self, actual: List[int], flipped_known: bool) -> List[Tuple[str, int, int, int]]:
        """(name, vabits_actual, PAGE_OFFSET, PAGE_END) layouts, most likely first."""
        va_min = self._va_bits_min
        out = []
        for a in actual:
            out.append(("flipped (5.4+)", a, _neg(self.va_bits), _neg(va_min - 1)))
            if a != self.va_bits:
                out.append(("flipped, runtime VA size (5.4-5.10)", a, _neg(a), _neg(a - 1)))
            if not flipped_known:
                out.append(("linear map in the upper half (before 5.4)", a, _neg(self.va_bits - 1), 1 << 64))
        return out

    def _pick_layout(self, actual: List[int], flipped_known: bool) -> None:
        probes = self._probe_paddrs()
        fallback = None
        for name, a, page_offset, page_end in self._candidates(actual, flipped_known):
            self._set_walk(a)
            self.page_offset, self.page_end = page_offset, page_end
            if self._phys_offset_given is None:
                if not self._derive_phys_offset():
                    continue
                probes = self._probe_paddrs()
            verdict = self._check(probes)
            if verdict is True:
                self._record(name, "verified against swapper_pg_dir")
                return
            if verdict is None and fallback is None:
                fallback = (name, a, page_offset, page_end)
        if fallback is None:
            po = (f"PHYS_OFFSET={self.phys_offset:#x}" if self._phys_offset_given is not None
                  else "no NUMBER(PHYS_OFFSET), and no linear-map page found in swapper_pg_dir to derive it")
            raise NoLogError("no aarch64 memory layout agrees with the page tables "
                             f"(VA_BITS={self.va_bits}, PAGE_SIZE={self.page_size}, {po})")
        name, a, self.page_offset, self.page_end = fallback
        self._set_walk(a)
        if self._phys_offset_given is None:
            self._derive_phys_offset()
        self._record(name, "unverified: no probe address is mapped in swapper_pg_dir")

    def _record(self, name: str, how: str) -> None:
        self.layout = {
            "layout": name, "check": how, "page_size": self.page_size,
            "va_bits": self.va_bits, "vabits_actual": self.vabits_actual, "levels": self.levels,
            "entry_format": self.entry_format, "page_offset": f"{self.page_offset:#x}",
            "phys_offset": f"{self.phys_offset:#x}", "phys_offset_source": self.phys_offset_source,
        }

    def _derive_phys_offset(self) -> bool:
        """Set phys_offset from the first page the linear map maps in swapper_pg_dir
        (paddr - (vaddr - PAGE_OFFSET): the linear map is one offset for all of RAM,
        so any mapped page gives it, whether or not RAM starts at memstart_addr).
        False when this layout's linear range maps nothing readable."""
        try:
            hit = self._first_mapping(self.page_offset, self.page_end)
        except MemoryReadError:
            hit = None
        if hit is None:
            return False
        vaddr, paddr = hit
        self.phys_offset = (paddr - (vaddr - self.page_offset)) & _U64
        self.phys_offset_source = (f"derived from swapper_pg_dir: linear-map page {vaddr:#x} "
                                   f"-> physical {paddr:#x} (no NUMBER(PHYS_OFFSET) in VMCOREINFO)")
        return True

    def _first_mapping(self, lo: int, hi: int) -> Optional[Tuple[int, int]]:
        """(vaddr, paddr) of the lowest mapped address in [lo, hi), walking at most
        _FIRST_MAPPING_TABLES tables (the linear range of a real kernel maps RAM
        within its first few tables; a hostile table tree stays cheap)."""
        bits = self.page_shift - 3
        budget = [_FIRST_MAPPING_TABLES]

        def visit(table: int, level: int, entries: int, base: int) -> Optional[Tuple[int, int]]:
            budget[0] -= 1
            if budget[0] < 0:
                return None
            raw = self._table(table)
            shift = self.page_shift + bits * (level - 1)
            span = 1 << shift
            first = (lo - base) >> shift if lo > base else 0
            for idx in range(first, entries):
                va = base + idx * span
                if va >= hi:
                    return None
                (entry,) = struct.unpack_from("<Q", raw, idx * 8)
                kind = entry & 3
                if level > 1 and kind == 3:
                    got = visit(self._oa(entry), level - 1, 1 << bits, va)
                    if got is not None or budget[0] < 0:
                        return got
                elif kind == (3 if level == 1 else 1):
                    start = max(va, lo)
                    return start, (self._oa(entry) & ~(span - 1)) + (start - va)
            return None

        return visit(self.pgd_paddr, self.levels, self.top_entries, _neg(self.vabits_actual))

    def _oa(self, entry: int) -> int:
        """The output address of a table/block/page descriptor (48-bit, LPA or LPA2)."""
        return (entry & self._oa_mask) | ((entry & self._oa_high_mask) << self._oa_high_shift)

    def _probe_paddrs(self) -> List[int]:
        """Physical pages the linear map must cover: the top-level table, start of RAM."""
        return [self.pgd_paddr, self.phys_offset, self.phys_offset + (1 << 20)]

    def _check(self, probes: List[int]) -> Optional[bool]:
        """True when the walk maps a probe's linear alias to it, False when it maps it
        elsewhere or a table is unreadable, None when no probe could be tested."""
        tested = False
        for paddr in probes:
            vaddr = (self.page_offset + paddr - self.phys_offset) & _U64
            if not self._in_linear(vaddr):
                continue
            try:
                walked, _ = self.walk(vaddr)
            except MemoryReadError:
                continue
            if walked != paddr:
                return False
            tested = True
        return True if tested else None

    @property
    def _va_bits_min(self) -> int:
        """VA_BITS_MIN: what a 52-bit kernel falls back to on hardware without
        52-bit VAs (47 with 16K pages, 48 otherwise); PAGE_END derives from it."""
        if self.va_bits != 52:
            return self.va_bits
        return 47 if self.page_shift == 14 else 48

    # -- translation -----------------------------------------------------
    def _in_linear(self, vaddr: int) -> bool:
        return self.page_offset <= vaddr < self.page_end

    def translate(self, vaddr: int) -> Tuple[int, int]:
        if vaddr >> 55 & 1:
            vaddr |= self.pac_mask         # a pointer-authentication signature is not address
        if self._in_linear(vaddr):
            paddr = (vaddr - self.page_offset + self.phys_offset) & _U64
            return paddr, self.page_size - (vaddr & (self.page_size - 1))
        lo = self._image_lo
        if lo is not None and lo <= vaddr < self._image_hi:
            return vaddr - self.kimage_voffset, self._image_hi - vaddr
        try:
            return self.walk(vaddr)
        except MemoryReadError as exc:
            # A filtered or cut-off dump can lack the page tables while keeping the
            # image's data and bss (the printk ring lives there). The image is one
            # physically contiguous run, so its formula still holds just past
            # swapper_pg_dir; only used when the tables cannot be read at all.
            if (exc.address != vaddr and lo is not None
                    and self._image_hi <= vaddr < self._image_hi + _IMAGE_TAIL_MAX):
                return vaddr - self.kimage_voffset, self.page_size - (vaddr & (self.page_size - 1))
            raise

    def _table(self, paddr: int) -> bytes:
        t = self._tables.get(paddr)
        if t is None:
            try:
                t = self._read_phys(paddr, self.page_size)
            except MemoryReadError as exc:
                raise MemoryReadError(f"page table at physical {paddr:#x} is missing from the dump "
                                      f"({exc.message})", address=paddr) from None
            if len(self._tables) >= _TABLE_CACHE_MAX:
                self._tables.clear()
            self._tables[paddr] = t
        return t

    def walk(self, vaddr: int) -> Tuple[int, int]:
        """Translate by walking swapper_pg_dir; (paddr, bytes left in the mapping)."""
        if vaddr < (1 << 64) - (1 << self.vabits_actual):
            raise MemoryReadError(f"virtual address {vaddr:#x} is outside the kernel's "
                                  f"{self.vabits_actual}-bit address space", address=vaddr)
        bits = self.page_shift - 3
        table = self.pgd_paddr
        entries = self.top_entries
        for level in range(self.levels, 0, -1):
            shift = self.page_shift + bits * (level - 1)
            idx = (vaddr >> shift) & (entries - 1)
            (entry,) = struct.unpack_from("<Q", self._table(table), idx * 8)
            out = self._oa(entry)
            kind = entry & 3
            if level > 1 and kind == 3:
                table = out
                entries = 1 << bits
                continue
            if kind != (3 if level == 1 else 1):
                raise MemoryReadError(f"virtual address {vaddr:#x} is not mapped", address=vaddr)
            span = 1 << shift
            off = vaddr & (span - 1)
            return (out & ~(span - 1)) + off, span - off
        raise AssertionError("unreachable: level 1 always returns")


def _need(info: VmcoreInfo, name: str) -> int:
    v = info.number(name)
    if v is None:
        raise NoLogError(f"aarch64 VMCOREINFO has no NUMBER({name})")
    return v


def _neg(bits: int) -> int:
    """-(1 << bits) as an unsigned 64-bit address: the base of the top `bits` of VA space."""
    return (1 << 64) - (1 << bits)
