"""The architecture interface of address translation, and the factory that picks one.

A translator turns one kernel virtual address into a physical address using only
VMCOREINFO and physical reads: triage.memory.x86_64 and triage.memory.aarch64.
The architecture comes from the dump (ELF e_machine, the kdump header's utsname)
and, when the file does not say, from VMCOREINFO keys only one architecture
exports. An unknown or unsupported one is an UnsupportedArchError (exit 10):
translating an arm64 dump as x86_64 would only produce garbage.
"""

from typing import Callable, Dict, Optional, Tuple

from triage.archnames import ALIASES as _ALIASES
from triage.dumps.vmcoreinfo import VmcoreInfo
from triage.errors import UnsupportedArchError

PhysReader = Callable[[int, int], bytes]

SUPPORTED = ("x86_64", "aarch64")


class Translator:
    """Virtual-to-physical translation for one architecture."""

    arch = "generic"
    pointer_size = 8
    page_size = 4096
    # How the translator configured itself (layout, levels, ...), for `triage info`.
    layout: Dict[str, object] = {}

    def translate(self, vaddr: int) -> Tuple[int, int]:
        """Return (paddr, bytes of the same mapping left from vaddr).

        Raises MemoryReadError when vaddr is not mapped or a table is missing.
        """
        raise NotImplementedError


def arch_from_vmcoreinfo(info: VmcoreInfo) -> Optional[str]:
    """The architecture whose own VMCOREINFO keys are present, or None."""
    if info.symbol("init_top_pgt") is not None or info.symbol("init_level4_pgt") is not None:
        return "x86_64"
    if info.number("kimage_voffset") is not None:
        return "aarch64"
    return None


def make_translator(arch: Optional[str], info: VmcoreInfo, read_phys: PhysReader) -> Translator:
    """The translator for `arch` ("x86_64", "aarch64"; None: ask VMCOREINFO)."""
    name = _ALIASES.get(arch) if arch else arch_from_vmcoreinfo(info)
    if name == "x86_64":
        from triage.memory.x86_64 import X86_64Translator
        return X86_64Translator(info, read_phys)
    if name == "aarch64":
        from triage.memory.aarch64 import AArch64Translator
        return AArch64Translator(info, read_phys)
    if arch:
        raise UnsupportedArchError(f"the dump is from a {arch} machine; triage translates "
                                   f"addresses for {' and '.join(SUPPORTED)} only")
    raise UnsupportedArchError("the dump names no CPU architecture and its VMCOREINFO matches none "
                               f"triage supports ({', '.join(SUPPORTED)})")
