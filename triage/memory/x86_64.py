"""x86_64 kernel address translation from VMCOREINFO: kernel image and page-table walk.

Kernel-image addresses (__START_KERNEL_map + up to KERNEL_IMAGE_SIZE) translate as
vaddr - __START_KERNEL_map + phys_base. Everything else, notably the direct map
whose base (page_offset_base) is randomized and not exported, is found by walking
init_top_pgt (init_level4_pgt before 4.13) with 4 or 5 levels, 1 GiB and 2 MiB
pages, and the SME encryption bit masked out of every entry.
"""

import struct
from typing import Dict, Tuple

from triage.dumps.vmcoreinfo import VmcoreInfo
from triage.errors import MemoryReadError, NoLogError
from triage.memory.arch import PhysReader, Translator

START_KERNEL_MAP = 0xFFFFFFFF80000000
DEFAULT_KERNEL_IMAGE_SIZE = 1 << 30
_PHYS_MASK = 0x000FFFFFFFFFF000      # 52-bit physical address field of an entry
_PRESENT = 0x1
_PSE = 0x80


class X86_64Translator(Translator):
    """4/5-level x86_64 page-table walker with cached table pages."""

    arch = "x86_64"
    pointer_size = 8
    page_size = 4096

    def __init__(self, info: VmcoreInfo, read_phys: PhysReader):
        self._read_phys = read_phys
        self.phys_base = info.number("phys_base")
        self.image_size = info.number("KERNEL_IMAGE_SIZE") or DEFAULT_KERNEL_IMAGE_SIZE
        self.levels = 5 if info.number("pgtable_l5_enabled") else 4
        sme = info.number("sme_mask") or 0
        self._entry_mask = _PHYS_MASK & ~sme
        pgd = info.symbol("init_top_pgt")
        if pgd is None:
            pgd = info.symbol("init_level4_pgt")
        self.pgd_vaddr = pgd
        self._tables: Dict[int, bytes] = {}

    @property
    def pgd_paddr(self) -> int:
        if self.pgd_vaddr is None:
            raise NoLogError("VMCOREINFO has neither SYMBOL(init_top_pgt) nor SYMBOL(init_level4_pgt)")
        return self._image_to_phys(self.pgd_vaddr)

    def _image_to_phys(self, vaddr: int) -> int:
        if self.phys_base is None:
            raise NoLogError("VMCOREINFO has no NUMBER(phys_base)")
        return vaddr - START_KERNEL_MAP + self.phys_base

    def _table(self, paddr: int) -> bytes:
        t = self._tables.get(paddr)
        if t is None:
            try:
                t = self._read_phys(paddr, 4096)
            except MemoryReadError as exc:
                raise MemoryReadError(f"page table at physical {paddr:#x} is missing from the dump ({exc.message})",
                                      address=paddr) from None
            self._tables[paddr] = t
        return t

    def translate(self, vaddr: int) -> Tuple[int, int]:
        if START_KERNEL_MAP <= vaddr < START_KERNEL_MAP + self.image_size and self.phys_base is not None:
            left = START_KERNEL_MAP + self.image_size - vaddr
            return self._image_to_phys(vaddr), left
        return self.walk(vaddr)

    def walk(self, vaddr: int) -> Tuple[int, int]:
        """Translate by walking the page tables from the kernel's top-level table."""
        table = self.pgd_paddr
        shift = 48 if self.levels == 5 else 39
        while True:
            idx = (vaddr >> shift) & 0x1FF
            (entry,) = struct.unpack_from("<Q", self._table(table), idx * 8)
            if not entry & _PRESENT:
                raise MemoryReadError(f"virtual address {vaddr:#x} is not mapped", address=vaddr)
            base = entry & self._entry_mask
            if shift == 12 or (shift in (21, 30) and entry & _PSE):
                span = 1 << shift
                off = vaddr & (span - 1)
                base &= ~(span - 1)
                return base + off, span - off
            table = base
            shift -= 9
