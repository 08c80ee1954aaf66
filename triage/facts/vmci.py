"""Kernel memory read with VMCOREINFO's own layout keys, with every value checked.

The VMCOREINFO-only fallback (triage.facts.fallback) and the page census
(triage.facts.census) read kernel structures at the OFFSET/SIZE/NUMBER values
the kernel exported, through triage's own reader and address translator (no
drgn, no BTF). Those values and every pointer read come from the dump and are
untrusted: each accessor bounds them and raises LayoutError with the reason.
"""

import struct
from typing import List, Optional, Sequence

from triage.dumps.base import DumpReader
from triage.dumps.vmcoreinfo import VmcoreInfo
from triage.errors import EXIT_CORRUPT, MemoryReadError, TriageError
from triage.memory.kernel import KernelMemory

MAX_STRUCT = 1 << 20          # no struct the fallback reads is near 1 MiB (pglist_data is ~170 KiB)
MAX_NUMBER = 1 << 16          # enum values and bit numbers the fallback uses are small


class LayoutError(TriageError):
    """A VMCOREINFO key is missing or implausible, or a structure read through it is
    damaged; the message is the reason shown in dump.source."""

    exit_code = EXIT_CORRUPT


class VmciMemory:
    """Typed, bounded reads of kernel memory at VMCOREINFO-given places."""

    def __init__(self, reader: DumpReader, info: VmcoreInfo, arch: Optional[str]):
        self.reader = reader
        self.info = info
        self.mem = KernelMemory(reader, info, arch)
        self.ptr_size = self.mem.pointer_size
        self.page_size = info.page_size or self.mem.translator.page_size

    # -- VMCOREINFO keys, bounded ------------------------------------------
    def symbol(self, name: str) -> int:
        v = self.info.symbol(name)
        if v is None:
            raise LayoutError(f"VMCOREINFO has no SYMBOL({name})")
        if not self.is_kernel_address(v):
            raise LayoutError(f"SYMBOL({name})={v:#x} is not a kernel address")
        return v

    def size(self, name: str) -> int:
        v = self.info.size(name)
        if v is None:
            raise LayoutError(f"VMCOREINFO has no SIZE({name})")
        if not 0 < v <= MAX_STRUCT:
            raise LayoutError(f"SIZE({name})={v} is not plausible (1..{MAX_STRUCT})")
        return v

    def offset(self, name: str, within: Optional[int] = None, width: int = 1) -> int:
        """OFFSET(type.member); `within`: the struct's size the member must fit in."""
        v = self.info.offset(name)
        if v is None:
            raise LayoutError(f"VMCOREINFO has no OFFSET({name})")
        limit = within if within is not None else MAX_STRUCT
        if not 0 <= v <= limit - width:
            raise LayoutError(f"OFFSET({name})={v} does not fit its structure ({limit} bytes)")
        return v

    def length(self, name: str, maximum: int) -> int:
        v = self.info.length(name)
        if v is None:
            raise LayoutError(f"VMCOREINFO has no LENGTH({name})")
        if not 0 < v <= maximum:
            raise LayoutError(f"LENGTH({name})={v} is not plausible (1..{maximum})")
        return v

    def number(self, name: str, lo: int = 0, hi: int = MAX_NUMBER) -> int:
        v = self.info.number(name)
        if v is None:
            raise LayoutError(f"VMCOREINFO has no NUMBER({name})")
        if not lo <= v <= hi:
            raise LayoutError(f"NUMBER({name})={v} is not plausible ({lo}..{hi})")
        return v

    # -- memory ------------------------------------------------------------
    def is_kernel_address(self, addr: int) -> bool:
        """In the upper (kernel) half of the 64-bit address space (x86_64 and arm64)."""
        return self.ptr_size == 8 and (1 << 63) <= addr < (1 << 64)

    def read(self, addr: int, size: int, what: str) -> bytes:
        try:
            return self.mem.read(addr, size)
        except MemoryReadError as exc:
            raise LayoutError(f"{what} at {addr:#x} not readable: {exc.message}") from None

    def u64(self, addr: int, what: str) -> int:
        return struct.unpack("<Q", self.read(addr, 8, what))[0]

    def pointer(self, addr: int, what: str) -> int:
        if self.ptr_size != 8:
            raise LayoutError("only 64-bit kernels are read")
        return self.u64(addr, what)

    def kernel_pointer(self, addr: int, what: str) -> int:
        """A pointer that must be a kernel address (or NULL, returned as 0)."""
        p = self.pointer(addr, what)
        if p and not self.is_kernel_address(p):
            raise LayoutError(f"{what} holds {p:#x}, not a kernel address")
        return p

    def cstring(self, addr: int, limit: int = 32) -> Optional[str]:
        """A short printable NUL-terminated ASCII string at `addr`, else None."""
        page_left = self.page_size - (addr % self.page_size)
        try:
            raw = self.mem.read(addr, min(limit + 1, page_left))
        except MemoryReadError:
            return None
        end = raw.find(b"\0")
        if end <= 0:
            return None
        text = raw[:end]
        return text.decode("ascii") if all(0x21 <= b < 0x7F for b in text) else None


def bits_set(mask: bytes, limit: int) -> List[int]:
    """Indices of the set bits of a little-endian bitmap, below `limit`."""
    out = []
    for i, byte in enumerate(mask[:(limit + 7) // 8]):
        while byte:
            low = byte & -byte
            n = i * 8 + low.bit_length() - 1
            if n < limit:
                out.append(n)
            byte ^= low
    return out


def missing(fact: str, reason: str) -> dict:
    """One dump.source.missing entry."""
    return {"fact": fact, "reason": reason[:300]}


def missing_all(facts: Sequence[str], reason: str) -> List[dict]:
    return [missing(f, reason) for f in facts]
