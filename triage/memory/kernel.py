"""KernelMemory: read kernel virtual memory of a dump, page by page.

Addresses are tried, in order, against the dump's own virtual PT_LOADs (kexec
/proc/vmcore and makedumpfile -E record them) and then the architecture
translator (kernel image formula, page-table walk). Physical runs that happen
to be contiguous are read with one call.
"""

import bisect
import struct
from typing import List, Optional, Tuple

from triage.dumps.base import DumpReader
from triage.dumps.vmcoreinfo import VmcoreInfo
from triage.errors import CorruptDumpError, MemoryReadError, TriageError, UnsupportedArchError
from triage.memory.arch import Translator, make_translator


_BULK = 1 << 20     # reads this large go through read_phys_bulk


def _damaged_arch(reader: DumpReader, exc: UnsupportedArchError) -> TriageError:
    """An architecture triage cannot translate, when the header field naming it holds
    no Linux architecture at all (a flipped byte: 'x80_64', or a NUL over its first
    byte) and VMCOREINFO names none either: damage (exit 5) naming the field, not an
    unsupported machine (exit 10)."""
    try:
        problems = reader.facts().problems
    except TriageError:
        return exc
    for p in problems:
        # the field naming the machine is itself damaged: a name that is no Linux
        # architecture, or (kdump) an emptied utsname.machine with bytes after its NUL
        if "no Linux architecture" in p or "no architecture Linux dumps" in p or \
                "utsname.machine has non-zero bytes" in p:
            why = p.split(": ", 1)[1] if p.startswith(reader.paths[0] + ": ") else p
            return CorruptDumpError(f"{why}, and VMCOREINFO holds no architecture's own keys: the CPU "
                                    "architecture is unknown (damaged header)", path=reader.paths[0])
    return exc


class KernelMemory:
    """Virtual-address reads over a DumpReader, configured from VMCOREINFO."""

    def __init__(self, reader: DumpReader, info: VmcoreInfo, arch: Optional[str] = None,
                 use_segments: bool = True):
        self.reader = reader
        self.info = info
        try:
            self.translator: Translator = make_translator(arch, info, reader.read_phys)
        except UnsupportedArchError as exc:
            raise _damaged_arch(reader, exc) from None
        self.pointer_size = self.translator.pointer_size
        segs = sorted(reader.virtual_segments()) if use_segments else []
        self._vstarts = [s[0] for s in segs]
        self._vsegs: List[Tuple[int, int, int]] = segs
        self._derive_phys_base()

    def _derive_phys_base(self) -> None:
        """Kernels whose VMCOREINFO lacks NUMBER(phys_base): take it from the kernel-text
        PT_LOAD a kexec ELF carries (paddr - (vaddr - __START_KERNEL_map))."""
        t = self.translator
        if t.arch != "x86_64" or getattr(t, "phys_base", 0) is not None or not self._vsegs:
            return
        from triage.memory.x86_64 import START_KERNEL_MAP
        for v, p, size in self._vsegs:
            if START_KERNEL_MAP <= v < START_KERNEL_MAP + (1 << 31) and size:
                t.phys_base = p - (v - START_KERNEL_MAP)
                return

    def translate(self, vaddr: int) -> Tuple[int, int]:
        """(paddr, bytes left in this mapping) for one virtual address."""
        i = bisect.bisect_right(self._vstarts, vaddr) - 1
        if i >= 0:
            v, p, size = self._vsegs[i]
            if vaddr < v + size:
                return p + (vaddr - v), v + size - vaddr
        return self.translator.translate(vaddr)

    def read(self, vaddr: int, size: int) -> bytes:
        """Read `size` bytes at kernel virtual address `vaddr`; MemoryReadError when absent."""
        if size < 0 or vaddr < 0 or vaddr + size > 1 << 64:
            raise MemoryReadError(f"bad virtual range {vaddr:#x}+{size}", address=vaddr)
        # Translated first, so that a range the page tables map in several pieces (a
        # direct-map range crosses 2 MiB entries) but that is one physical run is read
        # with one read_phys, one copy. A translation that fails is raised after the
        # runs before it are read, in the order a chunk-by-chunk read meets them.
        runs: List[List[int]] = []
        failed: Optional[Exception] = None
        addr, left = vaddr, size
        while left > 0:
            try:
                paddr, span = self.translate(addr)
            except Exception as exc:  # noqa: BLE001 - re-raised below, after the reads before it
                failed = exc
                break
            n = min(left, span)
            if runs and runs[-1][1] + runs[-1][2] == paddr:
                runs[-1][2] += n
            else:
                runs.append([addr, paddr, n])
            addr += n
            left -= n
        parts = []
        for v, p, n in runs:
            try:
                # A large run (a printk ring's descriptor and info arrays: up to 2**20
                # of each) by pread where the reader can: a copy through the mapping
                # would also leave every page of it resident, doubling the memory.
                parts.append(self.reader.read_phys_bulk(p, n) if n >= _BULK else self.reader.read_phys(p, n))
            except MemoryReadError:
                parts += self._read_pieces(v, n)    # names the piece that is absent
        if failed is not None:
            raise failed
        if len(parts) == 1:
            return parts[0]
        return b"".join(parts)

    def _read_pieces(self, vaddr: int, size: int) -> List[bytes]:
        """The range read one translation at a time; MemoryReadError naming the virtual
        and physical address of the first piece that is absent."""
        parts = []
        addr, left = vaddr, size
        while left > 0:
            paddr, span = self.translate(addr)
            n = min(left, span)
            try:
                parts.append(self.reader.read_phys(paddr, n))
            except MemoryReadError as exc:
                raise MemoryReadError(f"cannot read virtual {addr:#x} (physical {paddr:#x}): {exc.message}",
                                      address=addr) from None
            addr += n
            left -= n
        return parts

    def read_tolerant(self, vaddr: int, size: int) -> Tuple[bytes, List[Tuple[int, int]]]:
        """Read a range, zero-filling pages that are absent.

        Returns (bytes, missing) where missing lists (start, end) offsets relative to
        vaddr that could not be read, so callers can drop only what they lost.
        """
        buf = bytearray(size)
        missing = self.read_into(vaddr, size, buf, 0)
        return buf, missing

    def view(self, vaddr: int, size: int) -> Optional[memoryview]:
        """Zero-copy view of a virtual range when it is one physically contiguous run the
        reader can map directly (ELF dumps); None otherwise (callers then copy)."""
        viewer = getattr(self.reader, "view_phys", None)
        if viewer is None or size <= 0:
            return None
        try:
            start, span = self.translate(vaddr)
            covered = span
            while covered < size:
                p, span = self.translate(vaddr + covered)
                if p != start + covered:
                    return None
                covered += span
        except MemoryReadError:
            return None
        return viewer(start, size)

    _CHUNK = 1 << 20   # bounded copies: a 1 GiB direct-map page is not read in one piece

    def read_into(self, vaddr: int, size: int, buf: bytearray, at: int) -> List[Tuple[int, int]]:
        """Copy `size` bytes at `vaddr` into buf[at:at+size]; absent pages stay zero.

        Returns the (start, end) ranges, relative to `at`, that were absent.
        """
        missing: List[Tuple[int, int]] = []
        addr, left = vaddr, size
        page = self.translator.page_size
        while left > 0:
            n = min(left, page - (addr % page))
            chunk = None
            try:
                paddr, span = self.translate(addr)
                n = min(left, span, self._CHUNK)
                try:
                    chunk = self.reader.read_phys(paddr, n)
                except MemoryReadError:
                    # Part of a large mapping is absent: retry just this page.
                    n = min(n, page - (addr % page))
                    chunk = self.reader.read_phys(paddr, n)
            except MemoryReadError:
                chunk = None
            start = addr - vaddr
            if chunk is None:
                if missing and missing[-1][1] == start:
                    missing[-1] = (missing[-1][0], start + n)
                else:
                    missing.append((start, start + n))
            else:
                buf[at + start:at + start + n] = chunk
            addr += n
            left -= n
        return missing

    def read_u8(self, vaddr: int) -> int:
        return self.read(vaddr, 1)[0]

    def read_u16(self, vaddr: int) -> int:
        return struct.unpack("<H", self.read(vaddr, 2))[0]

    def read_u32(self, vaddr: int) -> int:
        return struct.unpack("<I", self.read(vaddr, 4))[0]

    def read_u64(self, vaddr: int) -> int:
        return struct.unpack("<Q", self.read(vaddr, 8))[0]

    def read_pointer(self, vaddr: int) -> int:
        return self.read_u64(vaddr) if self.pointer_size == 8 else self.read_u32(vaddr)
