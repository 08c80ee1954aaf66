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
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

from triage.dumps.base import DumpFacts, DumpReader, Note
from triage.dumps.bitmap import Bitmap
from triage.dumps.codecs import codec_name, decompress
from triage.dumps.kdump_header import PAGE_DESC, PAGE_DESC_SIZE, KdumpHeader, parse_header
from triage.dumps.store import Store
from triage.errors import CorruptDumpError, FormatError, MemoryReadError

_PAGE_CACHE = 32            # decompressed pages kept (bounded memory)
_MAX_META = 64 << 20        # larger VMCOREINFO / note areas are damaged headers


def parse_elf_notes(data: bytes) -> List[Note]:
    """ELF notes (little-endian, 4-byte aligned) from a buffer; stops at damage."""
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
        name = data[name_off:name_off + namesz].rstrip(b"\0").decode("ascii", "replace")
        out.append(Note(name, ntype, data[desc_off:desc_off + descsz]))
        pos = desc_off + ((descsz + 3) & ~3)
    return out


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
        self.truncated_meta = self.bitmap1.available_bytes < h.bitmap_bytes or \
            self.bitmap2.available_bytes < h.bitmap_bytes

    def dumpable(self, pfn: int) -> bool:
        h = self.hdr
        return h.start_pfn <= pfn < h.end_pfn and self.bitmap2.test(pfn)

    def desc_offset(self, pfn: int) -> int:
        return self.hdr.page_desc_offset + (self.bitmap2.rank(pfn) - self.base_rank) * PAGE_DESC_SIZE

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
        self._vmcoreinfo_source: Optional[str] = None
        self._vmci_loaded = False
        self._codecs_seen: Dict[str, int] = {}

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
            if p.hdr.incomplete:
                self._problems.append(f"{p.store.path}: makedumpfile marked the dump incomplete (status bit 0x8)")
            if p.truncated_meta:
                self._problems.append(f"{p.store.path}: file ends inside the page bitmaps")
            if not p.store.complete:
                self._problems.extend(p.store.problems)

    def _part_for(self, pfn: int) -> Optional[_Part]:
        i = bisect.bisect_right(self._starts, pfn) - 1
        if i < 0:
            return None
        p = self._parts[i]
        return p if pfn < p.hdr.end_pfn else None

    # -- metadata --------------------------------------------------------------
    def _meta(self, part: _Part, offset: int, size: int, what: str) -> Optional[bytes]:
        if offset <= 0 or size <= 0:
            return None
        if size > _MAX_META:
            self._problems.append(f"{what} size {size} is implausible; ignored")
            return None
        data = part.store.read_present(offset, size)
        if data is None:
            self._problems.append(f"{what} at {offset:#x} lies beyond the end of the file")
        return data

    def notes(self) -> List[Note]:
        if self._notes is None:
            p = self._parts[0]
            raw = self._meta(p, p.hdr.offset_note, p.hdr.size_note, "ELF note area")
            self._notes = parse_elf_notes(raw) if raw else []
        return self._notes

    def vmcoreinfo(self) -> Optional[str]:
        if not self._vmci_loaded:
            self._vmci_loaded = True
            p = self._parts[0]
            raw = self._meta(p, p.hdr.offset_vmcoreinfo, p.hdr.size_vmcoreinfo, "VMCOREINFO")
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

    def _missing(self, pfn: int, why: str) -> MemoryReadError:
        addr = pfn * self.page_size
        return MemoryReadError(f"physical address {addr:#x} (pfn {pfn:#x}) {why}", address=addr)

    def _damaged(self, part: _Part, pfn: int, why: str, offset: int) -> MemoryReadError:
        """One damaged page makes that page unreadable (and the dump partial), not the dump."""
        addr = pfn * self.page_size
        msg = f"physical address {addr:#x} (pfn {pfn:#x}) {why}"
        if len(self._problems) < 50:
            self._problems.append(f"{part.store.path}: {msg} (at offset {offset:#x})")
        return MemoryReadError(msg, address=addr, path=part.store.path, offset=offset)

    def read_page(self, pfn: int) -> bytes:
        """The decompressed page `pfn`; MemoryReadError when it is not in the dump."""
        page = self._cache.get(pfn)
        if page is not None:
            self._cache.move_to_end(pfn)
            return page
        p = self._part_for(pfn)
        if p is None:
            raise self._missing(pfn, "is outside the memory covered by the dump files")
        if not p.dumpable(pfn):
            if p.bitmap2.available_bytes * 8 <= pfn:
                raise self._missing(pfn, "lies beyond the truncated end of the page bitmap")
            raise self._missing(pfn, "was excluded from the dump")
        d = p.descriptor(pfn)
        if d is None:
            raise self._missing(pfn, "has no page descriptor (dump incomplete or truncated)")
        offset, size, flags = d
        ps = self.page_size
        name = codec_name(flags)
        if name == "none" and size != ps or size > 2 * ps + 64:
            raise self._damaged(p, pfn, f"has a damaged page descriptor (size {size}, flags {flags:#x})",
                                p.desc_offset(pfn))
        data = p.store.read_present(offset, size)
        if data is None:
            raise self._missing(pfn, "lies beyond the truncated end of the file")
        try:
            page = data if name == "none" else decompress(name, data, ps, offset=offset)
        except CorruptDumpError as exc:
            raise self._damaged(p, pfn, f"has damaged page data: {exc.message}", offset) from None
        self._codecs_seen[name] = self._codecs_seen.get(name, 0) + 1
        self._cache[pfn] = page
        if len(self._cache) > _PAGE_CACHE:
            self._cache.popitem(last=False)
        return page

    def read_phys(self, paddr: int, size: int) -> bytes:
        ps = self.page_size
        out = []
        addr, left = paddr, size
        while left > 0:
            pfn, off = divmod(addr, ps)
            n = min(left, ps - off)
            out.append(self.read_page(pfn)[off:off + n])
            addr += n
            left -= n
        return out[0] if len(out) == 1 else b"".join(out)

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
        comp = seen - {"none"}
        if len(comp) > 1:
            return "mixed"
        return comp.pop() if comp else "none"

    def _truncation(self) -> List[str]:
        """Problems found by checking that the end of the page data is in the file.

        Pages are stored in pfn order after the descriptor table, except that zero
        pages share the first stored page; so the data end is found among the last
        descriptors that point past that first page (scanned backwards, bounded).
        """
        out = []
        for p in self._parts:
            n = p.dumpable_count()
            if n == 0:
                continue
            base = p.hdr.page_desc_offset
            data_start = base + n * PAGE_DESC_SIZE
            max_end, found, unwritten, cut = 0, False, False, False
            hi = n
            for _ in range(64):
                if hi <= 0 or found:
                    break
                lo = max(0, hi - 1024)
                raw = p.store.read_present(base + lo * PAGE_DESC_SIZE, (hi - lo) * PAGE_DESC_SIZE)
                if raw is None:
                    cut = True
                    break
                for offset, size, _f, _pf in PAGE_DESC.iter_unpack(raw):
                    if offset <= 0 or size == 0:
                        unwritten = True
                        continue
                    max_end = max(max_end, offset + size)
                    found = found or offset > data_start
                hi = lo
            if cut:
                out.append(f"{p.store.path}: file is truncated inside the page descriptor table "
                           f"({n} descriptors expected)")
            elif unwritten:
                out.append(f"{p.store.path}: the last page descriptors were never written "
                           f"(dump incomplete)")
            elif max_end and p.store.read_present(max_end - 1, 1) is None:
                out.append(f"{p.store.path}: file is truncated: page data should extend to "
                           f"offset {max_end:#x}")
        return out

    def writer(self) -> str:
        # QEMU leaves utsname empty; makedumpfile fills it (and keeps QEMU's notes
        # when it converts a QEMU dump).
        qemu_notes = any(n.name == "QEMU" for n in self.notes())
        if self._parts[0].hdr.utsname.get("sysname"):
            return "makedumpfile (from a QEMU dump)" if qemu_notes else "makedumpfile"
        return "qemu dump-guest-memory"

    def arch(self) -> Optional[str]:
        machine = self._parts[0].hdr.utsname.get("machine")
        if machine and machine != "Unknown":     # QEMU writes "Unknown" for arm64 guests
            return machine
        text = self.vmcoreinfo() or ""
        if "SYMBOL(init_top_pgt)" in text or "SYMBOL(init_level4_pgt)" in text:
            return "x86_64"
        if "NUMBER(kimage_voffset)" in text:
            return "aarch64"
        return None

    def facts(self) -> DumpFacts:
        first = self._parts[0].hdr
        problems = list(self._problems) + self._truncation()
        vmci_ps = self._vmci_value("PAGESIZE")
        # QEMU writes arm64 guests' dumps in 64K blocks (its largest target page) whatever
        # the guest's granule: a block that is a whole number of pages is no problem.
        if vmci_ps and vmci_ps.isdigit() and int(vmci_ps) and self.page_size % int(vmci_ps):
            problems.append(f"block_size {self.page_size} differs from VMCOREINFO PAGESIZE {vmci_ps}")
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


def _is_int(s: str) -> bool:
    try:
        int(s, 0)
        return True
    except ValueError:
        return False
