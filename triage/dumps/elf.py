"""Reader for ELF vmcores: kexec /proc/vmcore copies, `makedumpfile -E`, QEMU dump-guest-memory.

Parsed with `struct` straight from a read-only mmap: the ELF header, the program
headers (wherever e_phoff puts them: QEMU 7.2 writes them after the section
headers), the PN_XNUM extended count from section header 0, the notes, and the
PT_LOAD map from physical address to file offset. Nothing else is read until a
caller asks for memory.
"""

import bisect
import mmap
import os
import struct
import sys
from array import array
from itertools import compress
from typing import Iterator, List, Optional, Tuple

from triage.dumps.base import Damage, DumpFacts, DumpReader, Note
from triage.dumps.vmcoreinfo import arch_of_text
from triage.errors import CorruptDumpError, FormatError, InputError, MemoryReadError

ELFMAG = b"\x7fELF"
ET_CORE = 4
PT_LOAD = 1
PT_NOTE = 4
PN_XNUM = 0xFFFF
NT_PRSTATUS = 1
# makedumpfile sets this e_flags bit when it could not write the whole dump.
EF_MAKEDUMPFILE_INCOMPLETE = 0x1

MACHINES = {62: "x86_64", 183: "aarch64", 3: "i386", 40: "arm", 22: "s390x", 21: "ppc64", 243: "riscv64"}

# Limits from the kernel's own maxima; a header past them is damaged (docs/dump-formats.md).
# Notes: one PRSTATUS of a few hundred bytes per CPU (NR_CPUS max 8192), VMCOREINFO
# (one page, 256 KiB at most) and writer notes (QEMU's are under 1 KiB).
MAX_NOTE_DESC = 1 << 20           # one note's descsz
MAX_NOTES_BYTES = 16 << 20        # all PT_NOTE segments together
# s390x writes the most notes per CPU (9): 8192 CPUs make 73728; past 2**17 is damage
# (and a million empty notes would cost hundreds of MB of Note objects).
MAX_NOTES = 1 << 17
# Program headers: a note per CPU plus one PT_LOAD per memory range; 2**22 is far
# beyond the largest machines (PN_XNUM exists for more than 65534).
MAX_PHNUM = 1 << 22
# Physical addresses: MAX_PHYSMEM_BITS is at most 56 (riscv64 sv57; 52 on x86_64/arm64).
MAX_PHYS = 1 << 56
_PH_CHUNK = 1 << 20               # program header table bytes held at once
_PH_TYPES = frozenset((PT_LOAD, PT_NOTE))
# The same damage in many headers is named for the first few and counted for the rest,
# so that the one stderr line stays short whatever the header count.
_SAME_PROBLEM_SHOWN = 3


class _Segment:
    """One PT_LOAD clipped so that segments never overlap in physical space."""

    __slots__ = ("paddr", "vaddr", "offset", "filesz", "memsz", "avail")

    def __init__(self, paddr: int, vaddr: int, offset: int, filesz: int, memsz: int, avail: int):
        self.paddr = paddr
        self.vaddr = vaddr
        self.offset = offset
        self.filesz = filesz      # bytes the header says are in the file
        self.memsz = memsz
        self.avail = avail        # bytes really present (less than filesz when truncated)


def open_source(path: str) -> Tuple[object, int, object]:
    """Open `path` read-only and mmap it; returns (file, size, mmap). Raises InputError."""
    if os.path.isdir(path):
        raise InputError("is a directory, not a dump or log file", path=path)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except PermissionError:
        raise InputError("permission denied", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}", path=path) from None
    size = os.fstat(f.fileno()).st_size
    if size == 0:
        f.close()
        raise InputError("file is empty", path=path)
    try:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        f.close()
        raise InputError(f"cannot map file: {exc}", path=path) from None
    if hasattr(mm, "madvise"):
        # Dump reads are scattered; kernel read-ahead would only inflate I/O.
        try:
            mm.madvise(mmap.MADV_RANDOM)
        except (OSError, AttributeError):
            pass
    return f, size, mm


def _overlapping_data(ranges: List[Tuple[int, int, int, int]]) -> List[str]:
    """PT_LOAD segments whose file bytes overlap, except where they hold the same
    physical frames (QEMU's paging dumps point every virtual mapping of a frame at one
    copy of it): a p_offset or p_filesz moved by a flipped byte shows as an overlap."""
    out = []
    prev = None
    for start, end, paddr, i in sorted(ranges):
        if prev is not None and start < prev[1] and start - prev[0] != paddr - prev[2]:
            out.append(Damage(f"program header {i} field p_offset or p_filesz: its file data "
                              f"[{start:#x}, {end:#x}) overlaps that of program header {prev[3]}"))
            if len(out) >= 3:
                break
        if prev is None or end > prev[1]:
            prev = (start, end, paddr, i)
    return out


def _data_past_whole_file(ranges: List[Tuple[int, int, int, int]], size: int) -> List[str]:
    """PT_LOADs whose data starts past the end of a file that ends exactly where
    another segment's data ends: writers leave a whole file so, and a cut rarely falls
    on that byte, so such a segment has a damaged p_offset (or p_filesz), not a file
    cut short. Empty when any segment straddles the end (a truncation)."""
    if not ranges or any(start < size < end for start, end, _p, _i in ranges) or \
            not any(end == size for _s, end, _p, _i in ranges):
        return []
    past = sorted((i, start) for start, end, _p, i in ranges if end > size)
    out: List[str] = [Damage(f"program header {i} (PT_LOAD) field p_offset {start:#x} puts its data past "
                             f"the end of the file ({size} bytes), which is whole (it ends where another "
                             f"segment's data ends)") for i, start in past[:_SAME_PROBLEM_SHOWN]]
    if len(past) > _SAME_PROBLEM_SHOWN:
        out.append(Damage(f"{len(past) - _SAME_PROBLEM_SHOWN} more program headers put their data past the "
                          "end of the file"))
    return out


class _OddHeaders:
    """Program header entries neither PT_LOAD nor PT_NOTE: the first and last all-zero
    index, how many others, and the first _SAME_PROBLEM_SHOWN of those (e_phnum is
    untrusted: nothing here grows with it)."""

    def __init__(self) -> None:
        self.zero: List[int] = []
        self.count = 0
        self.shown: List[Tuple[int, int]] = []

    def add_zero(self, first: int, last: int) -> None:
        start = self.zero[0] if self.zero else first
        self.zero = [start] if start == last else [start, last]

    def add_type(self, index: int, p_type: int) -> None:
        self.count += 1
        if len(self.shown) < _SAME_PROBLEM_SHOWN:
            self.shown.append((index, p_type))


class ElfReader(DumpReader):
    """Physical-memory view of one ELF core file.

    `data` may be given instead of opening `path` (any object supporting
    len() and slicing, e.g. another reader's reassembled view); the reader
    then never touches the file system.
    """

    def __init__(self, path: str, data: Optional[object] = None, format_name: str = "elf"):
        self.paths = [path]
        self.path = path
        self._file = None
        if data is None:
            self._file, self._size, self._buf = open_source(path)
        else:
            self._buf, self._size = data, len(data)
        # A store over a flattened stream knows which bytes really came from the file.
        self._read_present = getattr(data, "read_present", None)
        self._format_name = format_name
        self._problems: List[str] = list(getattr(data, "problems", []) or [])
        self._notes: Optional[List[Note]] = None
        try:
            self._parse_headers()
        except BaseException:
            self.close()
            raise

    # -- header parsing ---------------------------------------------------
    def _read(self, off: int, size: int, what: str) -> bytes:
        if off < 0 or off + size > self._size:
            raise CorruptDumpError(f"{what} lies beyond the end of the file ({self._size} bytes)",
                                   path=self.path, offset=off)
        return bytes(self._buf[off:off + size])

    def _read_table(self, off: int, size: int, what: str) -> bytes:
        """Like _read, but the bytes must really be in the file: a flattened stream's
        holes would otherwise let a header claim gigabytes of zeros."""
        if self._read_present is not None and off >= 0:
            if off + size > self._size or self._buf.present_extent(off, size) < size:
                raise CorruptDumpError(f"{what} is not in the file", path=self.path, offset=off)
        return self._read(off, size, what)

    def _parse_headers(self) -> None:
        if self._size < 4 or bytes(self._buf[:4]) != ELFMAG:
            raise FormatError("not an ELF file", path=self.path)
        if self._size < 16:
            raise CorruptDumpError(f"file ends inside the ELF header's e_ident ({self._size} bytes)", path=self.path)
        ei_class, ei_data = self._buf[4], self._buf[5]
        if ei_class not in (1, 2):
            raise CorruptDumpError(f"bad ELF class byte {ei_class}", path=self.path, offset=4)
        if ei_data not in (1, 2):
            raise CorruptDumpError(f"bad ELF data-encoding byte {ei_data}", path=self.path, offset=5)
        self.elf64 = ei_class == 2
        e = "<" if ei_data == 1 else ">"
        self._endian = e
        if self.elf64:
            hdr = struct.unpack(e + "HHIQQQIHHHHHH", self._read(16, 48, "ELF header"))
        else:
            hdr = struct.unpack(e + "HHIIIIIHHHHHH", self._read(16, 36, "ELF header"))
        (e_type, e_machine, e_version, _entry, e_phoff, e_shoff, e_flags,
         e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, _shstrndx) = hdr
        if e_type != ET_CORE:
            if e_type == ET_CORE << 8:
                # ET_CORE read with the other byte order: the data-encoding byte flipped
                raise CorruptDumpError(f"ELF header field e_ident[EI_DATA] is {ei_data} "
                                       f"({'big' if ei_data == 2 else 'little'}-endian), but e_type is "
                                       f"ET_CORE only in the other byte order (a damaged EI_DATA)",
                                       path=self.path, offset=5)
            raise FormatError(f"ELF file of type {e_type}, not a core dump (ET_CORE)", path=self.path)
        self.e_machine = e_machine
        self.e_flags = e_flags
        # Fields no reader needs but every writer sets the same way: a flipped byte
        # shows here, so name it (the dump is then reported partial).
        bad = self._header_problems = []
        if self._buf[6] != 1:
            bad.append(Damage(f"ELF header field e_ident[EI_VERSION] is {self._buf[6]}, not 1"))
        if self._buf[7] not in (0, 3):
            bad.append(Damage(f"ELF header field e_ident[EI_OSABI] is {self._buf[7]}, not 0 (System V) or 3 (Linux)"))
        if e_version != 1:
            bad.append(Damage(f"ELF header field e_version is {e_version}, not 1"))
        ehsize = 64 if self.elf64 else 52
        # QEMU 7.2's dump-guest-memory writes e_ehsize 8 (a sizeof of a pointer): a real writer
        if e_ehsize not in (ehsize, 8):
            bad.append(Damage(f"ELF header field e_ehsize is {e_ehsize}, not {ehsize}"))
        if e_machine not in MACHINES:
            bad.append(Damage(f"ELF header field e_machine is {e_machine}, no architecture Linux dumps"))
        if e_shnum and e_shentsize != (64 if self.elf64 else 40):
            bad.append(Damage(f"ELF header field e_shentsize is {e_shentsize}, not {64 if self.elf64 else 40}"))
        phent = 56 if self.elf64 else 32
        if e_phentsize != phent:
            raise CorruptDumpError(f"program header size {e_phentsize}, expected {phent}",
                                   path=self.path, offset=54 if self.elf64 else 42)
        phnum = e_phnum
        if phnum == PN_XNUM:
            # Large machines: the real count lives in section header 0's sh_info.
            if e_shoff == 0:
                raise CorruptDumpError("e_phnum is PN_XNUM but there is no section header",
                                       path=self.path)
            info_off = 44 if self.elf64 else 28
            (phnum,) = struct.unpack(e + "I", self._read(e_shoff + info_off, 4, "section header 0"))
            if phnum > MAX_PHNUM:
                raise CorruptDumpError(f"section header 0 sh_info (the PN_XNUM program header count) "
                                       f"is {phnum}, more than {MAX_PHNUM}", path=self.path,
                                       offset=e_shoff + info_off)
        if phnum == 0:
            raise CorruptDumpError("ELF core has no program headers (e_phnum is 0)", path=self.path,
                                   offset=56 if self.elf64 else 44)
        what = f"program header table ({phnum} entries at e_phoff {e_phoff:#x})"
        # Checked whole, then read a chunk at a time: a PN_XNUM count of 2**22 makes a
        # 235 MB table, which a sparse file holds in a few KB of disk (a hole of zeros).
        self._read_table(e_phoff, 0, what)
        self._read_table(e_phoff + phnum * phent - 1, 1, what)
        if self._read_present is not None and self._buf.present_extent(e_phoff, phnum * phent) < phnum * phent:
            raise CorruptDumpError(f"{what} is not in the file", path=self.path, offset=e_phoff)
        fmt = e + ("IIQQQQQQ" if self.elf64 else "IIIIIIII")
        loads = []
        file_ranges: List[Tuple[int, int, int, int]] = []
        self._note_ranges: List[Tuple[int, int]] = []
        self.has_virtual = False
        note_bytes = 0
        note_seen = set()
        into_headers = 0
        odd = _OddHeaders()
        for i, f in self._program_headers(e_phoff, phnum, phent, fmt, what, odd):
            if self.elf64:
                p_type, _flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, _align = f
            else:
                p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, _flags, _align = f
            if p_type == PT_NOTE:
                if p_filesz and (p_offset, p_filesz) not in note_seen:
                    # one PT_NOTE per CPU at most (NR_CPUS 8192) plus the writer's own
                    if len(note_seen) >= MAX_NOTES:
                        raise CorruptDumpError(f"program header {i}: more than {MAX_NOTES} PT_NOTE segments",
                                               path=self.path, offset=e_phoff + i * phent)
                    note_seen.add((p_offset, p_filesz))
                    self._note_ranges.append((p_offset, p_filesz))
                    note_bytes += p_filesz
                    if note_bytes > MAX_NOTES_BYTES:
                        raise CorruptDumpError(f"program header {i} (PT_NOTE) p_filesz {p_filesz} brings "
                                               f"the notes past {MAX_NOTES_BYTES} bytes",
                                               path=self.path, offset=e_phoff + i * phent)
            if p_type in (PT_NOTE, PT_LOAD) and p_filesz and (
                    p_offset < ehsize or p_offset < e_phoff + phnum * phent and p_offset + p_filesz > e_phoff):
                into_headers += 1
                if into_headers <= _SAME_PROBLEM_SHOWN:
                    bad.append(Damage(f"program header {i} field p_offset {p_offset:#x} points into the ELF "
                                      "headers"))
            if p_type == PT_LOAD:
                if p_filesz > p_memsz:
                    raise CorruptDumpError(f"program header {i} (PT_LOAD) has p_filesz {p_filesz} > "
                                           f"p_memsz {p_memsz}", path=self.path, offset=e_phoff + i * phent)
                if p_paddr + p_memsz > MAX_PHYS:
                    raise CorruptDumpError(f"program header {i} (PT_LOAD) p_paddr {p_paddr:#x} + p_memsz "
                                           f"{p_memsz:#x} is past the largest physical address (2**56)",
                                           path=self.path, offset=e_phoff + i * phent)
                loads.append((p_paddr, p_vaddr, p_offset, p_filesz, p_memsz))
                if p_filesz:
                    file_ranges.append((p_offset, p_offset + p_filesz, p_paddr, i))
        # kexec, makedumpfile and QEMU write nothing but PT_LOAD and PT_NOTE: a PT_LOAD
        # whose type byte flipped would otherwise drop its memory without a word; an
        # all-zero entry is one makedumpfile -E never wrote (it writes the table last)
        for i, p_type in odd.shown:
            bad.append(Damage(f"program header {i} field p_type is {p_type:#x}, neither PT_LOAD nor PT_NOTE"))
        if odd.count > len(odd.shown):
            bad.append(Damage(f"{odd.count - len(odd.shown)} more program headers have a p_type neither "
                              "PT_LOAD nor PT_NOTE"))
        unwritten = odd.zero
        if into_headers > _SAME_PROBLEM_SHOWN:
            bad.append(Damage(f"{into_headers - _SAME_PROBLEM_SHOWN} more program headers point into the "
                              "ELF headers"))
        bad.extend(_overlapping_data(file_ranges))
        past_end = _data_past_whole_file(file_ranges, self._size)
        bad.extend(past_end)
        if unwritten:
            bad.append(f"program headers {unwritten[0]}-{unwritten[-1]} were never written (all zeros: "
                       "the writer stopped before them)" if len(unwritten) > 1 else
                       f"program header {unwritten[0]} was never written (all zeros)")
        self._raw_loads = loads
        self._build_segments(loads, truncated=not past_end)
        self._problems.extend(bad)
        if e_flags & EF_MAKEDUMPFILE_INCOMPLETE:
            self._problems.append("makedumpfile marked the dump incomplete (ELF e_flags bit 0)")

    def _program_headers(self, e_phoff: int, phnum: int, phent: int, fmt: str,
                         what: str, odd: "_OddHeaders") -> Iterator[Tuple[int, tuple]]:
        """(index, fields) of every PT_LOAD and PT_NOTE entry of the table; the other
        entries are tallied in `odd` (all-zero ones by first and last index).

        Read a chunk at a time with pread (a 2**22-entry PN_XNUM table is 235 MB, and
        a sparse file holds it in a few KB: a copy, or the mapping's pages, would pass
        the memory bound), and the entries of other types (PT_NULL in a hole) sorted
        out in C where they are zero, so that time stays linear and small in the
        table's size."""
        per_chunk = _PH_CHUNK // phent
        words = phent // 4
        swap = (self._endian == "<") != (sys.byteorder == "little")
        zero = bytes(phent)
        for first in range(0, phnum, per_chunk):
            n = min(per_chunk, phnum - first)
            table = self._read_bytes(e_phoff + first * phent, n * phent, what)
            if not table.strip(b"\0"):
                # a hole or an unwritten stretch: its first and last entry say it all
                odd.add_zero(first, first + n - 1)
                continue
            types = array("I", table)
            if swap:
                types.byteswap()
            kinds = types[::words]
            for k in compress(range(n), map(_PH_TYPES.__contains__, kinds)):
                yield first + k, struct.unpack_from(fmt, table, k * phent)
            for k in compress(range(n), [t not in _PH_TYPES for t in kinds]):
                if table[k * phent:(k + 1) * phent] == zero:
                    odd.add_zero(first + k, first + k)
                else:
                    odd.add_type(first + k, kinds[k])

    def _read_bytes(self, off: int, size: int, what: str) -> bytes:
        """Like _read, by pread(2) on a file, so no page of the mapping stays resident."""
        if self._file is None:
            return self._read(off, size, what)
        data = os.pread(self._file.fileno(), size, off)
        if len(data) < size:
            raise CorruptDumpError(f"{what} lies beyond the end of the file ({self._size} bytes)",
                                   path=self.path, offset=off)
        return data

    def _build_segments(self, loads: list, truncated: bool = True) -> None:
        """The physical map from the PT_LOADs; bytes listed but not in the file are a
        truncation (named here) unless `truncated` is False (then a damaged p_offset,
        named by _data_past_whole_file)."""
        segs: List[_Segment] = []
        cover_end = -1
        missing = 0
        # Of segments mapping the same frames (makedumpfile -E writes the kernel image
        # once under its text mapping and once in the direct map), the one whose data
        # lies in the file comes first: a damaged copy must not hide a whole one.
        size = self._size
        for paddr, vaddr, off, filesz, memsz in sorted(loads, key=lambda s: (s[0], -s[4], s[2] + s[3] > size)):
            if memsz == 0:
                continue
            if paddr < cover_end:
                # Overlap (QEMU paging dumps map one frame at several vaddrs): same bytes.
                delta = cover_end - paddr
                if delta >= memsz:
                    continue
                paddr, vaddr, off = paddr + delta, vaddr + delta, off + delta
                filesz, memsz = max(0, filesz - delta), memsz - delta
            avail = max(0, min(filesz, self._size - off)) if filesz else 0
            missing += filesz - avail
            segs.append(_Segment(paddr, vaddr, off, filesz, memsz, avail))
            cover_end = paddr + memsz
        self._segs = segs
        self._starts = [s.paddr for s in segs]
        if missing and truncated:
            self._problems.append(
                f"file is truncated: {missing} bytes of memory listed in the program headers "
                f"are missing (file is {self._size} bytes)")

    # -- notes --------------------------------------------------------------
    def notes(self) -> List[Note]:
        if self._notes is None:
            self._notes = self._parse_notes()
        return self._notes

    def _parse_notes(self) -> List[Note]:
        out: List[Note] = []
        e = self._endian
        cut = overrun = 0
        for off, size in self._note_ranges:
            end = min(off + size, self._size)
            if end < off + size:
                cut += 1
                if cut <= _SAME_PROBLEM_SHOWN:
                    self._problems.append(f"note segment at {off:#x} is cut short by the end of the file")
            pos = off
            while pos + 12 <= end:
                namesz, descsz, ntype = struct.unpack(e + "III", bytes(self._buf[pos:pos + 12]))
                if namesz == 0 and descsz == 0 and ntype == 0:
                    break   # zero padding after the last note
                name_off = pos + 12
                desc_off = name_off + ((namesz + 3) & ~3)
                nxt = desc_off + ((descsz + 3) & ~3)
                if descsz > MAX_NOTE_DESC or namesz > MAX_NOTE_DESC:
                    raise CorruptDumpError(f"ELF note at {pos:#x} claims n_namesz {namesz} / n_descsz "
                                           f"{descsz}; no kernel note exceeds {MAX_NOTE_DESC} bytes",
                                           path=self.path, offset=pos)
                if desc_off + descsz > end:
                    overrun += 1
                    if overrun <= _SAME_PROBLEM_SHOWN:
                        self._problems.append(f"note at {pos:#x} runs past its segment; notes after it ignored")
                    break
                if len(out) >= MAX_NOTES:
                    raise CorruptDumpError(f"PT_NOTE segments hold more than {MAX_NOTES} notes",
                                           path=self.path, offset=pos)
                name = bytes(self._buf[name_off:name_off + namesz]).rstrip(b"\0").decode("ascii", "replace")
                out.append(Note(name, ntype, bytes(self._buf[desc_off:desc_off + descsz])))
                pos = nxt
        for n, what in ((cut, "note segments are cut short by the end of the file"),
                        (overrun, "notes run past their segment")):
            if n > _SAME_PROBLEM_SHOWN:
                self._problems.append(f"{n - _SAME_PROBLEM_SHOWN} more {what}")
        return out

    def vmcoreinfo(self) -> Optional[str]:
        for n in self.notes():
            if n.name == "VMCOREINFO":
                return n.desc.rstrip(b"\0").decode("utf-8", "replace")
        return None

    # -- memory ---------------------------------------------------------------
    def _segment_at(self, paddr: int) -> Optional[_Segment]:
        i = bisect.bisect_right(self._starts, paddr) - 1
        if i < 0:
            return None
        s = self._segs[i]
        return s if paddr < s.paddr + s.memsz else None

    def read_phys(self, paddr: int, size: int) -> bytes:
        parts = []
        addr, left = paddr, size
        while left > 0:
            s = self._segment_at(addr)
            if s is None:
                raise MemoryReadError(f"physical address {addr:#x} is not in the dump", address=addr)
            rel = addr - s.paddr
            if rel >= s.filesz:
                # Between p_filesz and p_memsz: bytes the writer left out as zeros
                # (makedumpfile -E writes excluded zero pages this way); crash reads them
                # as zeros too. Only up to the page end, so a 2**46-byte tail costs nothing
                # until asked for.
                n = min(left, s.memsz - rel)
                parts.append(bytes(n))
                addr += n
                left -= n
                continue
            if rel >= s.avail:
                raise MemoryReadError(f"physical address {addr:#x} lies beyond the truncated end of the file",
                                      address=addr)
            n = min(left, s.avail - rel)
            if self._read_present is not None:
                chunk = self._read_present(s.offset + rel, n)
                if chunk is None:
                    raise MemoryReadError(f"physical address range {addr:#x}+{n:#x} is missing from the "
                                          "flattened stream", address=addr)
                parts.append(chunk)
            else:
                parts.append(self._buf[s.offset + rel:s.offset + rel + n])
            addr += n
            left -= n
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def view_phys(self, paddr: int, size: int) -> Optional[memoryview]:
        """A zero-copy view of a physical range held whole by one segment, else None."""
        if self._read_present is not None or self._file is None:
            return None
        s = self._segment_at(paddr)
        if s is None or paddr - s.paddr + size > s.avail:
            return None
        off = s.offset + paddr - s.paddr
        return memoryview(self._buf)[off:off + size]

    def has_page(self, pfn: int) -> bool:
        ps = self.page_size
        addr = pfn * ps
        s = self._segment_at(addr)
        return s is not None and addr - s.paddr + ps <= s.avail

    def read_phys_bulk(self, paddr: int, size: int) -> bytes:
        """pread(2) when the range is file data of one segment: no page faults and no
        RSS for a walk over all of memory (the mapping faults page by page under
        MADV_RANDOM)."""
        s = self._segment_at(paddr)
        if self._file is None or s is None or paddr - s.paddr + size > min(s.avail, s.filesz):
            return self.read_phys(paddr, size)
        data = os.pread(self._file.fileno(), size, s.offset + paddr - s.paddr)
        return data if len(data) == size else self.read_phys(paddr, size)

    def release_memory(self) -> None:
        if self._file is not None and hasattr(self._buf, "madvise"):
            try:
                self._buf.madvise(mmap.MADV_DONTNEED)
            except (OSError, AttributeError, ValueError):
                pass
        else:
            release = getattr(self._buf, "release", None)   # a flattened store
            if release is not None:
                release(0, self._size)

    def phys_ranges(self) -> Optional[List[tuple]]:
        """(p_paddr, p_memsz, p_filesz) of every PT_LOAD, as the headers give them."""
        return [(paddr, memsz, filesz) for paddr, _v, _o, filesz, memsz in self._raw_loads if memsz]

    def virtual_segments(self) -> List[tuple]:
        """(vaddr, paddr, size) of PT_LOADs that carry real kernel virtual addresses."""
        out = []
        for paddr, vaddr, _off, _filesz, memsz in self._raw_loads:
            if vaddr and vaddr != paddr and memsz:
                out.append((vaddr, paddr, memsz))
        return out

    # -- facts ------------------------------------------------------------------
    @property
    def page_size(self) -> int:
        if not hasattr(self, "_page_size"):
            ps = None
            text = self.vmcoreinfo()
            if text:
                for line in text.splitlines():
                    if line.startswith("PAGESIZE="):
                        try:
                            ps = int(line[9:])
                        except ValueError:
                            pass
            self._page_size = ps if ps and ps & (ps - 1) == 0 else 4096
        return self._page_size

    def writer(self) -> str:
        names = {n.name for n in self.notes()}
        if "QEMU" in names:
            return "qemu dump-guest-memory"
        if self.virtual_segments():
            return "kexec /proc/vmcore or makedumpfile -E"
        return "unknown (physical-only ELF)"

    def _arch(self) -> str:
        """The e_machine's architecture; when that is not one triage translates but
        VMCOREINFO holds x86_64's or aarch64's own keys, the one VMCOREINFO names (a
        damaged e_machine: the problem names the field)."""
        machine = MACHINES.get(self.e_machine, f"e_machine {self.e_machine}")
        if machine in ("x86_64", "aarch64"):
            return machine
        vmci_arch = arch_of_text(self.vmcoreinfo())
        if vmci_arch is None:
            return machine
        named = f" ({machine})" if self.e_machine in MACHINES else ""
        msg = Damage(f"ELF header field e_machine is {self.e_machine}{named} but VMCOREINFO holds "
                     f"{vmci_arch} keys (read as {vmci_arch})")
        if msg not in self._header_problems:
            self._header_problems.append(msg)
            self._problems.append(msg)
        return vmci_arch

    def facts(self) -> DumpFacts:
        notes = self.notes()
        ps = self.page_size
        present = sum(s.avail // ps for s in self._segs)
        total = sum((s.memsz + ps - 1) // ps for s in self._segs)
        truncated = any(s.avail < s.filesz for s in self._segs)
        excluded = sum(1 for s in self._segs if s.filesz < s.memsz)
        return DumpFacts(
            format=self._format_name,
            compression="none",
            arch=self._arch(),
            page_size=ps,
            pages_present=present,
            pages_total=total,
            complete=(not truncated and not (self.e_flags & EF_MAKEDUMPFILE_INCOMPLETE)
                      and getattr(self._buf, "complete", True) and not self._header_problems),
            problems=list(self._problems),
            vmcoreinfo_source="ELF PT_NOTE" if any(n.name == "VMCOREINFO" for n in notes) else None,
            writer=self.writer(),
            header={
                "elf_class": 64 if self.elf64 else 32,
                "endian": "little" if self._endian == "<" else "big",
                "pt_load": len(self._raw_loads),
                "segments_with_excluded_tail": excluded,
                "cpus_prstatus": sum(1 for n in notes if n.name == "CORE" and n.type == NT_PRSTATUS),
                "e_flags": self.e_flags,
            },
        )

    def close(self) -> None:
        """Release the mapping (or the store handed over by open_dump)."""
        if self._file is None and self._buf is not None and hasattr(self._buf, "close"):
            self._buf.close()
            self._buf = None
        if self._file is not None:
            try:
                self._buf.close()
            except (AttributeError, BufferError, ValueError):
                pass
            self._file.close()
            self._file = None
