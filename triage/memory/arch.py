"""The architecture interface of address translation, and the factory that picks one.

A translator turns one kernel virtual address into a physical address using only
VMCOREINFO and physical reads. x86_64 is implemented (triage.memory.x86_64).

arm64 (next step, design only): keys NUMBER(VA_BITS), NUMBER(TCR_EL1_T1SZ)
(vabits_actual = 64 - T1SZ), NUMBER(kimage_voffset), NUMBER(PHYS_OFFSET),
KERNELOFFSET, SYMBOL(swapper_pg_dir) and PAGESIZE (4K/16K/64K granule).
Image addresses translate as vaddr - kimage_voffset; linear-map addresses as
(vaddr - PAGE_OFFSET) + PHYS_OFFSET with PAGE_OFFSET = -(1 << vabits_actual) on
5.4+ "flipped" layouts; anything else walks swapper_pg_dir (levels from granule
and VA bits, block descriptors at levels 1 and 2, NUMBER(KERNELPACMASK) stripped).
It would be a second subclass of Translator registered in `make_translator`.
"""

from typing import Callable, Optional, Tuple

from triage.dumps.vmcoreinfo import VmcoreInfo
from triage.errors import NoLogError

PhysReader = Callable[[int, int], bytes]


class Translator:
    """Virtual-to-physical translation for one architecture."""

    arch = "generic"
    pointer_size = 8
    page_size = 4096

    def translate(self, vaddr: int) -> Tuple[int, int]:
        """Return (paddr, bytes of the same mapping left from vaddr).

        Raises MemoryReadError when vaddr is not mapped or a table is missing.
        """
        raise NotImplementedError


def make_translator(arch: Optional[str], info: VmcoreInfo, read_phys: PhysReader) -> Translator:
    """The translator for `arch` ("x86_64", ...), configured from VMCOREINFO."""
    if arch in (None, "x86_64"):
        from triage.memory.x86_64 import X86_64Translator
        return X86_64Translator(info, read_phys)
    raise NoLogError(f"virtual address translation for {arch} is not implemented yet (x86_64 only)")
