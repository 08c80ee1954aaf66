"""Reader for makedumpfile's kdump-compressed format (`KDUMP   `, `DISKDUMP`).

A pfn's page descriptor is found by its rank in the 2nd (dumpable) bitmap; the
rank comes from a lazily built per-chunk popcount index (triage.dumps.bitmap).
Pages are decompressed one at a time (zlib, lzo, snappy, zstd, or stored raw) and
a few recent pages are cached. Split dumps (`--split`) are several files, each
covering [start_pfn, end_pfn); their descriptors are ranked from start_pfn.

Writers leave header fields empty or wrong (QEMU writes an empty utsname and an
odd phys_base), so VMCOREINFO is preferred wherever it says the same thing.
"""

import bisect
import struct
import sys
from array import array
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

from triage.dumps.base import Damage, DumpFacts, DumpReader, Note, with_path
from triage.dumps.bitmap import Bitmap
from triage.dumps.codecs import CODEC_FLAGS, codec_name, decoder, decompress, flags_damage
from triage.dumps.kdump_header import PAGE_DESC, PAGE_DESC_SIZE, KdumpHeader, parse_header
from triage.dumps.store import Store
from triage.dumps.vmcoreinfo import arch_of_text
from triage.errors import CorruptDumpError, FormatError, MemoryReadError

_ARCH_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
_DESC_FLAGS_AT = struct.calcsize(PAGE_DESC.format[:3])   # page_desc.flags, after offset (q) and size (I)
_PAGE_CACHE = 32            # decompressed pages kept (bounded memory)
# The kernel's VMCOREINFO is one page (VMCOREINFO_BYTES = PAGE_SIZE, 256 KiB at most);
# its ELF notes are a PRSTATUS of a few hundred bytes per CPU (NR_CPUS max 8192) plus
# VMCOREINFO and writer notes. Areas past these limits are damaged header fields.
MAX_VMCOREINFO = 1 << 20
MAX_NOTES = 16 << 20
MAX_NOTE_COUNT = 1 << 17    # s390x: 9 notes per CPU * 8192 CPUs = 73728
# Page descriptors checked (page_data_past_end) before libkdumpfile may read a file:
# 256 MiB is 11M dumped pages (44 GiB); past it drgn reads through triage's reader.
MAX_DESC_CHECK = 256 << 20
_DESC_CHUNK = 1 << 16       # descriptors checked at a time


def parse_elf_notes(data: bytes, base: int = 0) -> List[Note]:
    """ELF notes (little-endian, 4-byte aligned) from a buffer read at file offset `base`;
    stops at damage."""
    out: List[Note] = []
    pos, end = 0, len(data)
    while pos + 12 <= end:
        namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
        if namesz == 0 and descsz == 0:
            break
        name_off = pos + 12
        desc_off = name_off + ((namesz + 3) & ~3)
        if desc_off + descsz > end:
            break
        if len(out) >= MAX_NOTE_COUNT:
            raise CorruptDumpError(f"the note area holds more than {MAX_NOTE_COUNT} notes",
                                   offset=base + pos)
        name = data[name_off:name_off + namesz].rstrip(b"\0").decode("ascii", "replace")
        out.append(Note(name, ntype, data[desc_off:desc_off + descsz]))
        pos = desc_off + ((descsz + 3) & ~3)
    return out


def _unwritten(offset: int, size: int, flags: int, pflags: int) -> bool:
    """Whether a page descriptor holding no data offset or size was never written (all zero
    bytes: a dump cut short) rather than damaged: writers fill all 24 bytes at once."""
    return not (offset or size or flags or pflags)


class _Part:
    """One file of a (possibly split) kdump-compressed dump."""

    def __init__(self, store: Store):
        self.store = store
        self.hdr: KdumpHeader = parse_header(store)
        h = self.hdr
        bm = h.bitmap_offset
        self.bitmap1 = Bitmap(store, bm, h.bitmap_bytes)
        # DISKDUMP files have a single bitmap that serves as both.
        self.bitmap2 = Bitmap(store, bm + h.bitmap_bytes, h.bitmap_bytes) if h.signature == "KDUMP" \
            else self.bitmap1
        self.base_rank = self.bitmap2.rank(h.start_pfn)
        # Only the bytes max_mapnr needs: writers may leave the block padding unwritten
        # (makedumpfile -F does not write the bitmap's last partial block in full).
        needed = min(h.bitmap_bytes, -(-h.max_mapnr // 8))
        self.truncated_meta = self.bitmap1.available_bytes < needed or \
            self.bitmap2.available_bytes < needed
        # rank of the pfn after the last one looked up: reading a run of pages (a log
        # ring) ranks neighbouring pfns, each then costs one bit test, not a count.
        # rank(pfn + 1) = rank(pfn) + test(pfn) whatever was looked up in between,
        # so it never needs resetting
        self._next_pfn = -1
        self._next_rank = 0
        # the index of the first descriptor of the never-written tail, when the reader's tail
        # scan saw a written descriptor before that tail (None: not known)
        self.tail_start: Optional[int] = None

    def dumpable(self, pfn: int) -> bool:
        h = self.hdr
        return h.start_pfn <= pfn < h.end_pfn and self.bitmap2.test(pfn)

    def desc_offset(self, pfn: int) -> int:
        bm = self.bitmap2
        rank = self._next_rank if pfn == self._next_pfn else bm.rank(pfn)
        self._next_pfn, self._next_rank = pfn + 1, rank + bm.test(pfn)
        return self.hdr.page_desc_offset + (rank - self.base_rank) * PAGE_DESC_SIZE

    def descriptor(self, pfn: int):
        """(offset, size, flags) of a dumpable pfn, or None when the descriptor is missing."""
        raw = self.store.read_present(self.desc_offset(pfn), PAGE_DESC_SIZE)
        if raw is None:
            return None
        offset, size, flags, _pflags = PAGE_DESC.unpack(raw)
        if offset <= 0 or size == 0:
            return None   # never written: the dump was cut short
        return offset, size, flags

    def dumpable_count(self) -> int:
        h = self.hdr
        return self.bitmap2.count(h.end_pfn) - self.base_rank

    def page_data_past_end(self) -> Optional[str]:
        """The first page descriptor whose data does not lie whole in the file, or None.

        libkdumpfile maps page data and reads it in place: a page whose data runs past
        the end of the file (a damaged offset or size, or a file cut inside a page)
        kills the process with SIGBUS when drgn reads it. Chunks are checked at C
        speed (the largest offset, the high bytes of the sizes); only a chunk that may
        hold such a page (a real dump's last one) is walked descriptor by descriptor."""
        n = self.dumpable_count()
        if n * PAGE_DESC_SIZE > MAX_DESC_CHECK:
            return (f"its page descriptor table is {n * PAGE_DESC_SIZE} bytes, more than the "
                    f"{MAX_DESC_CHECK} checked")
        size, base = self.store.size, self.hdr.page_desc_offset
        for lo in range(0, n, _DESC_CHUNK):
            count = min(n, lo + _DESC_CHUNK) - lo
            raw = self.store.read_present(base + lo * PAGE_DESC_SIZE, count * PAGE_DESC_SIZE)
            if raw is None:
                return "the page descriptor table runs past the end of the file"
            words = array("q")
            words.frombytes(raw)
            if sys.byteorder != "little":
                words.byteswap()
            # sizes are u32 at bytes 8-11 of each 24-byte descriptor: zero high bytes
            # bound them to 64 KiB, so an offset that far inside the file is safe
            small = not raw[10::PAGE_DESC_SIZE].strip(b"\0") and not raw[11::PAGE_DESC_SIZE].strip(b"\0")
            if small and max(words[0::3]) + (1 << 16) <= size:
                continue
            for i, (offset, length, _flags, _pflags) in enumerate(PAGE_DESC.iter_unpack(raw)):
                if offset >= 0 and length and offset + length > size:
                    return (f"page descriptor {lo + i} (at offset {base + (lo + i) * PAGE_DESC_SIZE:#x}) "
                            f"puts {length} bytes of page data at {offset:#x}, past the end of the file "
                            f"({size} bytes)")
        return None

    def areas_past_end(self) -> List[str]:
        """The areas the headers name (VMCOREINFO, notes, eraseinfo, bitmaps, page
        descriptors) that do not lie whole in the file, each naming its fields.

        triage reads each area only if it is present, but libkdumpfile (drgn's kdump
        reader) maps the note and eraseinfo areas and reads them in place: one past the
        end of the file kills the process with SIGBUS, so such a file is never handed
        to it (triage.facts.program)."""
        h, size = self.hdr, self.store.size
        out = []
        for what, off, length in (("vmcoreinfo", h.offset_vmcoreinfo, h.size_vmcoreinfo),
                                  ("note", h.offset_note, h.size_note),
                                  ("eraseinfo", h.offset_eraseinfo, h.size_eraseinfo)):
            if length and (off < 0 or off + length > size):
                out.append(f"sub-header fields offset_{what} {off:#x} / size_{what} {length} name bytes "
                           f"past the end of the file ({size} bytes)")
        bitmaps = h.bitmap_offset + h.bitmap_blocks * h.block_size
        if bitmaps > size:
            out.append(f"header fields sub_hdr_size {h.sub_hdr_size} / bitmap_blocks {h.bitmap_blocks} "
                       f"put the page bitmaps past the end of the file ({size} bytes)")
        elif h.page_desc_offset + self.dumpable_count() * PAGE_DESC_SIZE > size:
            out.append("the page descriptor table runs past the end of the file")
        return out


class KdumpReader(DumpReader):
    """Physical-memory view of a kdump-compressed dump (one file or a split set)."""

    def __init__(self, stores: Sequence[Store], format_name: str = "kdump"):
        if not stores:
            raise FormatError("no files given")
        self._stores = list(stores)
        self.paths = [s.path for s in stores]
        self._format_name = format_name
        parts = [_Part(s) for s in stores]
        parts.sort(key=lambda p: p.hdr.start_pfn)
        self._parts = parts
        self._starts = [p.hdr.start_pfn for p in parts]
        self._problems: List[str] = []
        self._check_set()
        h = parts[0].hdr
        self.page_size = h.block_size
        self._cache: "OrderedDict[int, bytes]" = OrderedDict()
        self._notes: Optional[List[Note]] = None
        self._vmcoreinfo: Optional[str] = None
        self._tail_memo: Optional[Tuple[List[str], List[str]]] = None   # _tail_scan's, once
        self._vmcoreinfo_source: Optional[str] = None
        self._vmci_loaded = False
        self._codecs_seen: Dict[str, int] = {}
        self._codec_of: Dict[int, str] = {}     # page_desc.flags -> codec name, as met

    # -- structure checks ------------------------------------------------------
    def _check_set(self) -> None:
        parts = self._parts
        first = parts[0]
        if len(parts) > 1:
            for p in parts:
                if not p.hdr.split:
                    raise FormatError("several files given but one is not part of a --split dump",
                                      path=p.store.path)
                if p.hdr.max_mapnr != first.hdr.max_mapnr or p.hdr.block_size != first.hdr.block_size:
                    raise FormatError("split files come from different dumps (max_mapnr/block_size differ)",
                                      path=p.store.path)
            for a, b in zip(parts, parts[1:]):
                if a.hdr.end_pfn > b.hdr.start_pfn:
                    raise CorruptDumpError(f"split files overlap at pfn {b.hdr.start_pfn:#x}",
                                           path=b.store.path)
        covered_from = 0
        for p in parts:
            if p.hdr.start_pfn > covered_from:
                self._problems.append(f"pfns {covered_from:#x}-{p.hdr.start_pfn:#x} are in no split file given")
            covered_from = max(covered_from, p.hdr.end_pfn)
        if covered_from < first.hdr.max_mapnr:
            self._problems.append(f"pfns {covered_from:#x}-{first.hdr.max_mapnr:#x} are in no split file given")
        for p in parts:
            h = p.hdr
            if h.size_eraseinfo and (h.offset_eraseinfo < 0 or h.offset_eraseinfo + h.size_eraseinfo > p.store.size):
                # triage never reads eraseinfo (makedumpfile --eraseinfo's record of what it
                # scrubbed); a header naming it outside the file is still damage to say
                self._problems.append(f"{p.store.path}: sub-header fields offset_eraseinfo "
                                      f"{h.offset_eraseinfo:#x} / size_eraseinfo {h.size_eraseinfo} name bytes "
                                      f"past the end of the file")
            if p.hdr.incomplete:
                self._problems.append(f"{p.store.path}: makedumpfile marked the dump incomplete (status bit 0x8)")
            if p.truncated_meta:
                self._problems.append(with_path(p.store.path, _bitmaps_cut(p)))
            if not p.store.complete:
                self._problems.extend(p.store.problems)

    def bitmap_bytes(self) -> int:
        """Bytes of the largest page bitmap the headers claim (one of KDUMP's two)."""
        return max(p.hdr.bitmap_bytes for p in self._parts)

    def areas_past_end(self) -> List[str]:
        """Header-named areas of any part that lie (partly) past its file's end."""
        return [f"{p.store.path}: {msg}" for p in self._parts for msg in p.areas_past_end()]

    def page_data_past_end(self) -> Optional[str]:
        """The first page whose data runs past its file's end, of any part (or why the
        descriptors were not all checked); None when every page lies whole in its file."""
        for p in self._parts:
            why = p.page_data_past_end()
            if why:
                return f"{p.store.path}: {why}"
        return None

    def _part_for(self, pfn: int) -> Optional[_Part]:
        i = bisect.bisect_right(self._starts, pfn) - 1
        if i < 0:
            return None
        p = self._parts[i]
        return p if pfn < p.hdr.end_pfn else None

    # -- metadata --------------------------------------------------------------
    def _meta(self, part: _Part, offset: int, size: int, what: str, limit: int) -> Optional[bytes]:
        if size <= 0:
            return None
        if offset <= 0:
            # block 0 is the header: a size with no place for it is damage, named as a
            # place past the end is (the other copy of VMCOREINFO may still serve)
            self._problems.append(Damage(f"sub-header field offset_{what} is {offset:#x} for {size} bytes: "
                                         f"no place in the file"))
            return None
        if size > limit:
            raise CorruptDumpError(f"sub-header field size_{what} is {size} bytes, more than the "
                                   f"{limit} any kernel writes", path=part.store.path,
                                   offset=part.hdr.block_size + (40 if what == "vmcoreinfo" else 56))
        data = part.store.read_present(offset, size)
        if data is None:
            self._problems.append(f"the {what} area at {offset:#x} lies beyond the end of the file")
        return data

    def notes(self) -> List[Note]:
        if self._notes is None:
            p = self._parts[0]
            raw = self._meta(p, p.hdr.offset_note, p.hdr.size_note, "note", MAX_NOTES)
            try:
                self._notes = parse_elf_notes(raw, p.hdr.offset_note) if raw else []
            except CorruptDumpError as exc:
                exc.path = p.store.path
                raise
        return self._notes

    def vmcoreinfo(self) -> Optional[str]:
        if not self._vmci_loaded:
            self._vmci_loaded = True
            p = self._parts[0]
            raw = self._meta(p, p.hdr.offset_vmcoreinfo, p.hdr.size_vmcoreinfo, "vmcoreinfo", MAX_VMCOREINFO)
            if raw and raw.strip(b"\0"):
                self._vmcoreinfo = raw.rstrip(b"\0").decode("utf-8", "replace")
                self._vmcoreinfo_source = "kdump sub-header"
            else:
                for n in self.notes():
                    if n.name == "VMCOREINFO":
                        self._vmcoreinfo = n.desc.rstrip(b"\0").decode("utf-8", "replace")
                        self._vmcoreinfo_source = "kdump ELF note area"
                        break
        return self._vmcoreinfo

    def _vmci_value(self, key: str) -> Optional[str]:
        text = self.vmcoreinfo() or ""
        for line in text.splitlines():
            if line.startswith(key + "="):
                return line[len(key) + 1:].strip()
        return None

    # -- memory ------------------------------------------------------------------
    def has_page(self, pfn: int) -> bool:
        p = self._part_for(pfn)
        if p is None or not p.dumpable(pfn):
            return False
        d = p.descriptor(pfn)
        return d is not None and p.store.read_present(d[0], d[1]) is not None

    def pfn_ranges(self) -> Optional[List[tuple]]:
        return self.pfn_runs(0, self.max_pfn())

    def pfn_runs(self, lo: int, hi: int) -> Optional[List[tuple]]:
        out: List[tuple] = []
        for p in self._parts:
            a, b = max(lo, p.hdr.start_pfn), min(hi, p.hdr.end_pfn)
            if a < b:
                out += p.bitmap2.runs(a, b)
        return out

    def next_pfn(self, pfn: int, end: int) -> Optional[int]:
        got = [p.bitmap2.next_set(max(pfn, p.hdr.start_pfn), min(end, p.hdr.end_pfn))
               for p in self._parts if p.hdr.end_pfn > pfn and p.hdr.start_pfn < end]
        got = [g for g in got if g is not None]
        return min(got) if got else None

    def pfn_count(self, hi: int) -> int:
        total = 0
        for p in self._parts:
            b = min(hi, p.hdr.end_pfn)
            if p.hdr.start_pfn < b:
                total += p.bitmap2.rank(b) - p.bitmap2.rank(p.hdr.start_pfn)
        return total

    def release_memory(self) -> None:
        for p in self._parts:
            p.store.release(0, p.store.size)

    def _missing(self, pfn: int, why: str) -> MemoryReadError:
        addr = pfn * self.page_size
        return MemoryReadError(f"physical address {addr:#x} (pfn {pfn:#x}) {why}", address=addr)

    def _damaged(self, part: _Part, pfn: int, why: str, offset: int) -> MemoryReadError:
        """One damaged page makes that page unreadable (and the dump partial), not the dump."""
        addr = pfn * self.page_size
        msg = self._note_damage(part, pfn, why, offset)
        return MemoryReadError(msg, address=addr, path=part.store.path, offset=offset)

    def _note_damage(self, part: _Part, pfn: int, why: str, offset: int) -> str:
        """Record damage at `offset` of one page as a problem (once; at most 50); the message."""
        msg = f"physical address {pfn * self.page_size:#x} (pfn {pfn:#x}) {why}"
        problem = Damage(f"{part.store.path}: {msg} (at offset {offset:#x})")
        if len(self._problems) < 50 and problem not in self._problems:
            self._problems.append(problem)
        return msg

    def _no_descriptor(self, p: _Part, pfn: int) -> MemoryReadError:
        """The error for a dumpable pfn whose descriptor holds no data offset or size. One
        never written is all zero bytes (a dump cut short); writers fill all 24 bytes at
        once, so one with other bytes set (a flipped sign bit makes the offset negative)
        is damage, named as such and not sent looking for a full disk."""
        at = p.desc_offset(pfn)
        raw = p.store.read_present(at, PAGE_DESC_SIZE)
        if raw is None:
            return self._missing(pfn, "has no page descriptor (dump incomplete or truncated)")
        offset, size, flags, pflags = PAGE_DESC.unpack(raw)
        if not _unwritten(offset, size, flags, pflags):
            return self._damaged(p, pfn, f"has a damaged page descriptor (data offset {offset}, size {size})", at)
        # all zeros: a dump cut short leaves every descriptor after it zero too, so one before
        # the table's never-written tail (written descriptors follow it) was zeroed
        self._tail_scan()
        if p.tail_start is not None and (at - p.hdr.page_desc_offset) // PAGE_DESC_SIZE < p.tail_start:
            return self._damaged(p, pfn, "has a damaged page descriptor (all zero bytes, with written "
                                 "descriptors after it)", at)
        return self._missing(pfn, "has no page descriptor (dump incomplete or truncated)")

    def _page_of_damaged_flags(self, p: _Part, pfn: int, offset: int, size: int, flags: int) -> bytes:
        """The page whose descriptor holds a flags value no writer writes (several codec
        bits, unknown bits: a flipped bit). The flags field is named either way (not the
        page data, which the first codec bit would blame). The page is read when exactly
        one codec its bits name (raw, if none) decodes its data to one page: the real bit
        beside the flipped one. Otherwise it is unreadable."""
        ps = self.page_size
        why = f"has a damaged page descriptor (flags field {flags:#x}: {flags_damage(flags)})"
        at = p.desc_offset(pfn) + _DESC_FLAGS_AT
        names = [n for bit, n in CODEC_FLAGS.items() if flags & bit] or ["none"]
        data = p.store.read_present(offset, size) if 0 < size <= ps else None
        pages = []
        for name in names if data is not None else ():
            if name == "none":
                if size == ps:
                    pages.append((name, data))
            elif size < ps:
                try:
                    pages.append((name, decompress(name, data, ps, offset=offset)))
                except (CorruptDumpError, FormatError):    # FormatError: its library is missing
                    continue
        if len(pages) != 1:
            raise self._damaged(p, pfn, why, at)
        name, page = pages[0]
        self._note_damage(p, pfn, f"{why}; its page data reads as {name}", at)
        return self._keep(pfn, name, page)

    def _keep(self, pfn: int, codec: str, page: bytes) -> bytes:
        """Count a page read with `codec` and keep it in the bounded page cache; the page."""
        self._codecs_seen[codec] = self._codecs_seen.get(codec, 0) + 1
        self._cache[pfn] = page
        if len(self._cache) > _PAGE_CACHE:
            self._cache.popitem(last=False)
        return page

    def read_page(self, pfn: int) -> bytes:
        """The decompressed page `pfn`; MemoryReadError when it is not in the dump."""
        page = self._cache.get(pfn)
        if page is not None:
            self._cache.move_to_end(pfn)
            return page
        p = self._parts[0] if len(self._parts) == 1 else self._part_for(pfn)
        if p is None or not p.hdr.start_pfn <= pfn < p.hdr.end_pfn:
            raise self._missing(pfn, "is outside the memory covered by the dump files")
        if not p.bitmap2.test(pfn):
            if p.bitmap2.available_bytes * 8 <= pfn:
                raise self._missing(pfn, "lies beyond the truncated end of the page bitmap")
            if p.hdr.dump_level is not None and p.hdr.dump_level & 1 and p.bitmap1.test(pfn):
                # RAM left out of a dump made with dump level bit 1 (exclude zero pages):
                # read as zeros, as crash reads an ELF's p_filesz..p_memsz. The bitmaps do
                # not say why a page was left out, so with other exclusion bits a cache,
                # user or free page reads as zeros too; the kernel data triage reads
                # (log buffer, ring descriptors) is never of those kinds.
                return self._zero_page()
            raise self._missing(pfn, "was excluded from the dump")
        return self._page_at(p, pfn, p.descriptor(pfn))

    def _page_at(self, p: _Part, pfn: int, d) -> bytes:
        """The page of dumpable `pfn` from its descriptor (None: missing); cached."""
        if d is None:
            raise self._no_descriptor(p, pfn)
        offset, size, flags = d
        ps = self.page_size
        name = self._codec_of.get(flags)
        if name is None:
            name = codec_name(flags)
            if name is None:
                return self._page_of_damaged_flags(p, pfn, offset, size, flags)
            self._codec_of[flags] = name
        # Writers store a page compressed only when that makes it smaller (makedumpfile
        # and QEMU both test size_out < page_size), else raw: so a compressed size of a
        # page or more is damage, and it also bounds what a decoder can be fed.
        if size != ps if name == "none" else size >= ps:
            raise self._damaged(p, pfn, f"has a damaged page descriptor (size {size}, flags {flags:#x})",
                                p.desc_offset(pfn))
        data = p.store.read_present(offset, size)
        if data is None:
            if not self._truncated():
                # the file's page data ends where its last descriptors say: this one
                # descriptor points past it (a flipped offset), the file was not cut
                raise self._damaged(p, pfn, f"has a damaged page descriptor (offset {offset:#x} lies past "
                                    f"the end of the file, {p.store.size} bytes, whose page data is whole)",
                                    p.desc_offset(pfn))
            raise self._missing(pfn, "lies beyond the truncated end of the file")
        try:
            page = data if name == "none" else decompress(name, data, ps, offset=offset)
        except CorruptDumpError as exc:
            raise self._damaged(p, pfn, f"has damaged page data: {exc.message}", offset) from None
        return self._keep(pfn, name, page)

    def _zero_page(self) -> bytes:
        zp = getattr(self, "_zero", None)
        if zp is None:
            zp = self._zero = bytes(self.page_size)
        return zp

    def read_phys(self, paddr: int, size: int) -> bytes:
        if size <= 0:
            return b""
        ps = self.page_size
        pfn, off = divmod(paddr, ps)
        if off + size <= ps:
            return self.read_page(pfn)[off:off + size]
        last = (paddr + size - 1) // ps
        if len(self._parts) == 1 and self._parts[0].hdr.start_pfn <= pfn and last < self._parts[0].hdr.end_pfn:
            out = self._read_run(self._parts[0], pfn, last + 1)
        else:
            out = [self.read_page(f) for f in range(pfn, last + 1)]
        out[0] = out[0][off:]
        tail = (paddr + size) - last * ps
        out[-1] = out[-1][:tail]
        return b"".join(out)

    def _read_run(self, p: _Part, first: int, end: int) -> List[bytes]:
        """Pages first..end-1 of one part: the descriptors of the dumpable ones read
        in one piece (their ranks are consecutive), each page then as read_page reads
        it; pages not dumpable (and any a descriptor problem touches) through read_page."""
        bm = p.bitmap2
        dumpable = [bm.test(f) for f in range(first, end)]
        count = sum(dumpable)
        raw = p.store.read_present(p.desc_offset(first + dumpable.index(True)), count * PAGE_DESC_SIZE) \
            if count else None
        if raw is None:
            return [self.read_page(f) for f in range(first, end)]
        descs = PAGE_DESC.iter_unpack(raw)
        out = []
        cache = self._cache
        ps = self.page_size
        read = p.store.read_present
        decoders: Dict[int, tuple] = {}     # flags -> (codec name, raw decoder or None)
        seen: Dict[str, int] = {}
        for f, ok in zip(range(first, end), dumpable):
            if not ok:
                out.append(self.read_page(f))
                continue
            offset, size, flags, _pf = next(descs)
            page = cache.get(f)
            if page is None:
                # The usual page, decoded here without _page_at's per-page calls (a large
                # read is thousands of pages); anything unusual (a descriptor or page
                # that is missing or damaged) is left to _page_at, which names it.
                dec = decoders.get(flags)
                if dec is None:
                    name = codec_name(flags)
                    dec = decoders[flags] = (name, None if name in (None, "none") else decoder(name))
                name, fn = dec
                if name is not None and offset > 0 and (size == ps if fn is None else 0 < size < ps):
                    data = read(offset, size)
                    if data is not None and fn is not None:
                        try:
                            data = fn(data, ps)
                        except Exception:  # noqa: BLE001 - each library has its own error type
                            data = None
                    if data is not None and len(data) == ps:
                        page = data
                        seen[name] = seen.get(name, 0) + 1
                if page is None:
                    page = self._page_at(p, f, None if offset <= 0 or size == 0 else (offset, size, flags))
            out.append(page)
        for name, n in seen.items():
            self._codecs_seen[name] = self._codecs_seen.get(name, 0) + n
        return out

    # -- facts ---------------------------------------------------------------------
    def _compression(self) -> str:
        """Compression of the dump's pages, judged from 8 spread-out runs of descriptors.

        Zero pages (one shared, stored raw) and pages that did not shrink are stored
        uncompressed even in a compressed dump, so "none" only wins when nothing else
        is seen. Runs of 170 descriptors (one 4 KiB page each) keep the bytes read small.
        """
        seen = set(self._codecs_seen)
        p = self._parts[0]
        base = p.hdr.page_desc_offset
        n = p.dumpable_count()
        run = 170
        for k in range(8):
            start = n * k // 8
            cnt = min(run, n - start)
            if cnt <= 0:
                continue
            raw = p.store.read_present(base + start * PAGE_DESC_SIZE, cnt * PAGE_DESC_SIZE)
            if raw is None:
                continue
            for _o, size, flags, _pf in PAGE_DESC.iter_unpack(raw):
                if size:
                    seen.add(codec_name(flags))
        comp = seen - {"none", None}        # None: a damaged flags field, not a codec
        if len(comp) > 1:
            return "mixed"
        return comp.pop() if comp else "none"

    def _truncated(self) -> bool:
        """Whether the page data or the metadata of any part is cut short (cached: the
        check reads the last page descriptors)."""
        got = getattr(self, "_truncated_memo", None)
        if got is None:
            got = self._truncated_memo = bool(self._truncation()) or any(
                p.truncated_meta or not p.store.complete for p in self._parts)
        return got

    def _truncation(self) -> List[str]:
        """Problems found by checking that the end of the page data is in the file."""
        return self._tail_scan()[0]

    def _descriptor_damage(self) -> List[str]:
        """Page descriptors among the last ones that are neither written nor a never-written tail."""
        return self._tail_scan()[1]

    def _tail_scan(self) -> Tuple[List[str], List[str]]:
        """(truncation problems, damaged descriptors), from the last page descriptors.

        Pages are stored in pfn order after the descriptor table, except that zero
        pages share the first stored page; so the data end is found among the last
        descriptors that point past that first page (scanned backwards, bounded).
        makedumpfile fills the table in pfn order, so a dump it could not finish
        ends in a run of descriptors that are all zero bytes. A descriptor with no
        offset or size that is not all zeros, or that has written ones after it,
        is damage (a flipped byte), not an unfinished dump: said apart, because
        "incomplete" sends the reader looking for a full disk that never was.
        Each part's `tail_start` is set here, for a page read to tell the two apart.
        """
        if self._tail_memo is not None:
            return self._tail_memo
        out: List[str] = []
        damage: List[str] = []
        for p in self._parts:
            n = p.dumpable_count()
            if n == 0:
                continue
            base = p.hdr.page_desc_offset
            data_start = base + n * PAGE_DESC_SIZE
            max_end, found, cut = 0, False, False
            tail = 0                 # all-zero descriptors at the end, before any written one
            in_tail = True
            bad: List[Tuple[int, int, int]] = []    # (index, offset, size) of damaged descriptors (first few)
            hi = n
            for _ in range(64):
                if hi <= 0 or found:
                    break
                lo = max(0, hi - 1024)
                raw = p.store.read_present(base + lo * PAGE_DESC_SIZE, (hi - lo) * PAGE_DESC_SIZE)
                if raw is None:
                    cut = True
                    break
                descs = list(PAGE_DESC.iter_unpack(raw))
                for i in range(len(descs) - 1, -1, -1):
                    offset, size, flags, pflags = descs[i]
                    if offset <= 0 or size == 0:
                        if in_tail and _unwritten(offset, size, flags, pflags):
                            tail += 1
                        elif len(bad) < 3:
                            bad.append((lo + i, offset, size))
                        continue
                    in_tail = False
                    max_end = max(max_end, offset + size)
                    found = found or offset > data_start
                hi = lo
            if not in_tail:
                p.tail_start = n - tail
            if cut:
                out.append(f"{p.store.path}: file is truncated inside the page descriptor table "
                           f"({n} descriptors expected)")
            elif tail:
                which = "page descriptor was" if tail == 1 else f"{tail} page descriptors were"
                out.append(f"{p.store.path}: the last {which} never written (dump incomplete)")
            elif max_end and p.store.read_present(max_end - 1, 1) is None:
                out.append(f"{p.store.path}: file is truncated: page data should extend to "
                           f"offset {max_end:#x}")
            for i, offset, size in bad:
                damage.append(Damage(f"{p.store.path}: page descriptor {i} (at offset "
                                     f"{base + i * PAGE_DESC_SIZE:#x}) is damaged (data offset {offset}, size {size})"))
        self._tail_memo = (out, damage)
        return self._tail_memo

    def writer(self) -> str:
        # QEMU leaves utsname empty; makedumpfile fills it (and keeps QEMU's notes
        # when it converts a QEMU dump).
        qemu_notes = any(n.name == "QEMU" for n in self.notes())
        if self._parts[0].hdr.utsname.get("sysname"):
            return "makedumpfile (from a QEMU dump)" if qemu_notes else "makedumpfile"
        return "qemu dump-guest-memory"

    def arch(self) -> Optional[str]:
        machine = self._parts[0].hdr.utsname.get("machine")
        known = _ARCH_ALIASES.get(machine or "")
        if known:
            return known
        # QEMU writes "Unknown" for arm64 guests; a damaged utsname.machine that
        # VMCOREINFO contradicts (_header_problems names it) is read as VMCOREINFO says
        return arch_of_text(self.vmcoreinfo()) or (machine if machine and machine != "Unknown" else None)

    def header_utsname(self) -> Optional[Dict[str, str]]:
        uts = self._parts[0].hdr.utsname
        return dict(uts) if uts.get("sysname") else None     # QEMU leaves it empty

    def _header_problems(self) -> List[str]:
        """Header fields that contradict VMCOREINFO, the notes or the file's own layout:
        what a flipped byte looks like. Each names the field (docs/dump-formats.md)."""
        out: List[str] = []
        notes = self.notes()
        release = self._vmci_value("OSRELEASE")
        cpus = sum(1 for n in notes if n.name == "CORE" and n.type == 1)
        crash_time = self._vmci_value("CRASHTIME")
        phys_text = self._vmci_value("NUMBER(phys_base)")
        try:
            phys_base = int(phys_text, 10) if phys_text else None
        except ValueError:
            phys_base = None
        for p in self._parts:
            h, name = p.hdr, p.store.path
            bad = lambda field, why: out.append(Damage(f"{name}: header field {field} {why}"))  # noqa: E731
            if h.status & ~0x2F:
                bad("status", f"has unknown bits set ({h.status:#x})")
            uts = h.utsname
            vmci_arch = arch_of_text(self.vmcoreinfo())
            if uts.get("machine") not in ("", "Unknown", None) and vmci_arch and \
                    _ARCH_ALIASES.get(uts["machine"]) != vmci_arch:
                bad("utsname.machine", f"is {uts['machine']!r} but VMCOREINFO holds {vmci_arch} keys "
                                       f"(read as {vmci_arch})")
            for why in h.utsname_damage:
                out.append(Damage(f"{name}: header field {why}"))
            if uts.get("sysname") not in ("", "Linux"):
                bad("utsname.sysname", f"is {uts['sysname']!r}, not 'Linux'")
            if uts.get("release") and release and uts["release"] != release:
                bad("utsname.release", f"is {uts['release']!r} but VMCOREINFO OSRELEASE is {release!r}")
            # "Unknown": QEMU's word for an arm64 guest's machine
            if uts.get("machine") and uts["machine"] not in ("x86_64", "aarch64", "arm64", "i686", "i386",
                                                             "s390x", "ppc64", "ppc64le", "riscv64", "arm",
                                                             "Unknown"):
                bad("utsname.machine", f"is {uts['machine']!r}, no Linux architecture")
            # makedumpfile copies x86_64's NUMBER(phys_base) into the sub-header (triage
            # translates with VMCOREINFO's, so a flip there changes nothing read). QEMU,
            # which leaves utsname empty, writes a guess of its own (seen: not even
            # page-aligned), so only makedumpfile's is checked.
            if vmci_arch == "x86_64" and uts.get("sysname") and phys_base is not None and h.phys_base is not None \
                    and (h.phys_base - phys_base) % (1 << 64):
                bad("phys_base", f"is {h.phys_base:#x} but VMCOREINFO NUMBER(phys_base) is "
                    f"{phys_base % (1 << 64):#x}")
            if cpus and h.nr_cpus != cpus:
                bad("nr_cpus", f"is {h.nr_cpus} but the notes hold {cpus} CPU register sets (PRSTATUS)")
            if h.dump_level is not None and not 0 <= h.dump_level <= 31:
                bad("dump_level", f"is {h.dump_level}; makedumpfile's -d is 0-31")
            if h.header_version >= 6 and h.max_mapnr_32 != min(h.max_mapnr, 0xFFFFFFFF):
                bad("max_mapnr", f"of block 0 ({h.max_mapnr_32}) disagrees with the sub-header's "
                    f"max_mapnr_64 ({h.max_mapnr})")
            # makedumpfile (not QEMU, which leaves utsname empty) stamps the header with
            # a time at or after the crash (the crash time itself in the versions here;
            # others may stamp when they wrote): only a stamp before the crash, or
            # decades after it, is damage. 0 means "not set".
            if uts.get("sysname") and crash_time and crash_time.isdigit() and int(h.timestamp) \
                    and not int(crash_time) - 86400 <= int(h.timestamp) <= int(crash_time) + (20 << 25):
                bad("timestamp", f"is {int(h.timestamp)}, before VMCOREINFO CRASHTIME {crash_time} "
                    "or decades after it")
            # The first descriptor points at the start of the page data or one block past
            # it: makedumpfile and QEMU both write the zero pages' shared page there first,
            # raw (block_size bytes), and the first pfn's page follows it unless it is a
            # zero page itself. Anything else means the bitmaps or the block counts that
            # place the descriptor table are damaged: one bit flipped in the 2nd bitmap
            # moves the computed start by one descriptor (every later pfn then reads its
            # neighbour's descriptor). A --split part
            # holds descriptors for its own pfns only, but makedumpfile sizes its
            # table for every dumpable page of the whole dump (seen with
            # --splitblock-size parts; reassembled, the same pages read clean).
            n = p.dumpable_count()
            raw = p.store.read_present(h.page_desc_offset, PAGE_DESC_SIZE) if n else None
            if raw is not None and any(raw):        # all zeros: never written (incomplete)
                d_off = PAGE_DESC.unpack(raw)[0]
                data_start = h.page_desc_offset + n * PAGE_DESC_SIZE
                if h.split and d_off - data_start not in (0, h.block_size):
                    data_start = h.page_desc_offset + p.bitmap2.count(h.max_mapnr) * PAGE_DESC_SIZE
                if d_off - data_start not in (0, h.block_size):
                    bad("bitmap_blocks/sub_hdr_size or the 2nd bitmap",
                        f"place the page data at {data_start:#x}, but the first page descriptor "
                        f"points at {d_off:#x}")
        return out

    def facts(self) -> DumpFacts:
        first = self._parts[0].hdr
        self.vmcoreinfo()          # first: a VMCOREINFO beyond the end of the file is a problem
        problems = list(self._problems) + self._header_problems() + self._truncation() + \
            self._descriptor_damage()
        vmci_ps = self._vmci_value("PAGESIZE")
        # QEMU writes arm64 guests' dumps in 64K blocks (its largest target page) whatever
        # the guest's granule: a block that is a whole number of pages is no problem.
        if vmci_ps and vmci_ps.isdigit() and int(vmci_ps) and self.page_size % int(vmci_ps):
            problems.append(Damage(f"header field block_size is {self.page_size}, but VMCOREINFO PAGESIZE "
                                   f"is {vmci_ps}"))
        self.vmcoreinfo()
        present = sum(p.dumpable_count() for p in self._parts)
        total = sum(p.bitmap1.count(p.hdr.end_pfn) - p.bitmap1.rank(p.hdr.start_pfn) for p in self._parts)
        vmci_phys_base = self._vmci_value("NUMBER(phys_base)")
        header = {
            "signature": first.signature,
            "header_version": first.header_version,
            "utsname": first.utsname,
            "timestamp": first.timestamp,
            "status": first.status,
            "block_size": first.block_size,
            "max_mapnr": first.max_mapnr,
            "nr_cpus": first.nr_cpus,
            "phys_base_header": first.phys_base,
            "phys_base": int(vmci_phys_base, 0) if vmci_phys_base and _is_int(vmci_phys_base)
            else first.phys_base,
            "phys_base_source": "VMCOREINFO" if vmci_phys_base and _is_int(vmci_phys_base) else "header",
            "split_files": len(self._parts) if first.split else 0,
            "eraseinfo_bytes": first.size_eraseinfo,   # makedumpfile --eraseinfo filtering record
        }
        records = sum(getattr(p.store, "records", 0) for p in self._parts)
        if records:
            header["flattened_records"] = records
        if first.split:
            header["split_ranges"] = [(p.hdr.start_pfn, p.hdr.end_pfn) for p in self._parts]
        return DumpFacts(
            format=self._format_name,
            compression=self._compression(),
            arch=self.arch(),
            page_size=self.page_size,
            dump_level=first.dump_level,
            pages_present=present,
            pages_total=total,
            complete=not problems,
            problems=problems,
            vmcoreinfo_source=self._vmcoreinfo_source,
            writer=self.writer(),
            header=header,
        )

    def close(self) -> None:
        for s in self._stores:
            s.close()
        self._cache.clear()


def _bitmaps_cut(p: _Part) -> str:
    """Why the page bitmaps are not whole: the file ends inside them, or (when they
    start past the end while the sub-header's own areas end far before where
    sub_hdr_size puts them: writers size it to those areas) a damaged sub_hdr_size."""
    h, size, bs = p.hdr, p.store.size, p.hdr.block_size
    ends = [bs + 1]
    for off, length in ((h.offset_vmcoreinfo, h.size_vmcoreinfo), (h.offset_note, h.size_note)):
        if length and 0 < off and off + length <= size:
            ends.append(off + length)
    used = -(-max(ends) // bs) - 1            # blocks after block 0 the sub-header needs
    if h.bitmap_offset >= size and h.sub_hdr_size > used + 1:
        return Damage(f"header field sub_hdr_size is {h.sub_hdr_size} blocks, but the sub-header's areas "
                      f"end in block {used}: it puts the page bitmaps at {h.bitmap_offset:#x}, past the end "
                      f"of the file ({size} bytes)")
    return "file ends inside the page bitmaps"


def _is_int(s: str) -> bool:
    try:
        int(s, 0)
        return True
    except ValueError:
        return False
