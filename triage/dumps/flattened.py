"""makedumpfile's flattened format (`makedumpfile -F`, QEMU's kdump-* output), read in place.

The file is a 4096-byte header (`makedumpfile` signature, big-endian type and
version) followed by records {be64 offset, be64 size, data}: "write these bytes at
this offset of the real file". An offset of -1 ends the stream. One pass reads only
the record headers (seeking over the data) and builds a sorted map from offsets in
the real file to offsets in this one; reads are then served straight from the
memory-mapped flattened file. Nothing is reassembled or copied.

Later records override earlier ones where they overlap (writers re-write headers).
A stream without its end marker, or whose last record is cut short, is truncated.
"""

import bisect
import heapq
import struct
from array import array
from typing import List, Optional

from triage.dumps.store import FileStore, Store
from triage.errors import CorruptDumpError, FormatError

SIGNATURE = b"makedumpfile"
HEADER_SIZE = 4096
_REC = struct.Struct(">qq")
_MAX_OFFSET = 1 << 56          # larger offsets are damage, not a real dump
_RELEASE_EVERY = 32 << 20      # unmap walked header pages every 32 MiB of stream
# The index costs 24 bytes a record. Writers write pages and 4 KiB+ caches (QEMU's
# records are ~16 KiB, makedumpfile -F's average tens of KiB), so 4M records is a
# stream of 64 GiB and more; a file of 17-byte records would otherwise cost more
# memory than its own size. Records past the limit are left unread (partial).
MAX_RECORDS = 1 << 22
# Writers overwrite only their headers (a few records); a cluster of overlapping
# records is resolved with Python objects (~150 bytes a record), so a stream where
# more records than this overwrite each other is damage, refused before that work.
MAX_OVERLAPPING = 1 << 16
_SORT_RUN = 1 << 16            # records sorted at a time by the fallback sort
# Writers never write an empty record (makedumpfile and QEMU skip empty flushes); a
# run of zero headers is a hole or zero fill after the stream, walked 16 bytes a step
# (a 1 TiB hole after 1 MiB of stream never ended). Past this many in a row: stop.
MAX_EMPTY_RUN = 1 << 12


def is_flattened(head: bytes) -> bool:
    return head[:16].rstrip(b"\0") == SIGNATURE


class FlatStore(Store):
    """The file a flattened stream describes, served from the stream in place."""

    def __init__(self, raw: FileStore):
        self.path = raw.path
        self.raw = raw
        self.problems: List[str] = []
        self.complete = True
        head = raw.read(0, 32)
        if not is_flattened(head):
            raise FormatError("not a makedumpfile flattened file", path=self.path)
        if len(head) < 32:
            raise CorruptDumpError("file ends inside the flattened header", path=self.path, offset=len(head))
        self.type, self.version = struct.unpack_from(">qq", head, 16)
        if self.type != 1:
            raise CorruptDumpError(f"flattened header type {self.type}, expected 1", path=self.path, offset=16)
        self._index()

    def _index(self) -> None:
        raw = self.raw
        size = raw.size
        pos = HEADER_SIZE
        starts, lens, where = array("q"), array("q"), array("q")
        ended = False
        buf = raw.buffer() if hasattr(raw, "buffer") else None
        release = getattr(raw, "release", None)
        released = pos
        empty = 0
        while pos + 16 <= size:
            off, n = _REC.unpack_from(buf, pos) if buf is not None else _REC.unpack(raw.read(pos, 16))
            if n == 0:
                empty += 1
                if empty > MAX_EMPTY_RUN:
                    self._truncated(f"{MAX_EMPTY_RUN} empty records in a row from offset "
                                    f"{pos - 16 * (empty - 1):#x} (a hole or zero fill, not records)")
                    ended = True
                    break
            else:
                empty = 0
            if release is not None and pos - released >= _RELEASE_EVERY:
                release(released, pos - released)
                released = pos
            if off == -1:
                ended = True
                break
            if off < 0 or n < 0 or off > _MAX_OFFSET or n > _MAX_OFFSET:
                raise CorruptDumpError(f"bad flattened record header (offset {off}, size {n})",
                                       path=self.path, offset=pos)
            avail = min(n, size - pos - 16)
            if avail < n:
                self._truncated(f"the last record ({n} bytes for offset {off:#x}) is cut short")
            if avail > 0:
                if len(starts) >= MAX_RECORDS:
                    self._truncated(f"the stream holds more than {MAX_RECORDS} records (real writers write "
                                    f"pages and caches of KiBs); read up to offset {pos:#x}")
                    ended = True
                    break
                starts.append(off)
                lens.append(avail)
                where.append(pos + 16)
            pos += 16 + n
        if release is not None:
            release(released, min(pos, size) - released)
        if not ended and self.complete:
            if pos < size:
                self._truncated("the file ends inside a record header")
            else:
                self._truncated("the end-of-stream marker is missing")
        self._build_map(starts, lens, where)

    def _truncated(self, why: str) -> None:
        self.complete = False
        self.problems.append(f"{self.path}: flattened stream is truncated: {why}")

    def _build_map(self, starts: array, lens: array, where: array) -> None:
        n = len(starts)
        order = _sorted_order(starts)
        ordered = all(order[i] < order[i + 1] for i in range(n - 1)) if n > 1 else True
        overlap = any(starts[order[i]] + lens[order[i]] > starts[order[i + 1]] for i in range(n - 1))
        if not overlap:
            if not ordered:
                starts = array("q", (starts[i] for i in order))
                lens = array("q", (lens[i] for i in order))
                where = array("q", (where[i] for i in order))
            self._starts, self._lens, self._where = starts, lens, where
        else:
            over = _overlapping_records(starts, lens, order)
            if over > MAX_OVERLAPPING:
                raise CorruptDumpError(f"{over} flattened records overwrite one another (writers re-write only "
                                       f"their headers; at most {MAX_OVERLAPPING} are resolved)", path=self.path,
                                       offset=HEADER_SIZE)
            self._starts, self._lens, self._where = _resolve_overlaps(starts, lens, where, order)
        self.size = max((s + l for s, l in zip(self._starts, self._lens)), default=0)

    def _segment(self, offset: int) -> int:
        """Index of the last segment starting at or before offset (-1 if none)."""
        return bisect.bisect_right(self._starts, offset) - 1

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0 or offset >= self.size:
            return b""
        length = min(length, self.size - offset)
        out = bytearray(length)
        i = max(0, self._segment(offset))
        starts, lens, where = self._starts, self._lens, self._where
        end = offset + length
        while i < len(starts) and starts[i] < end:
            s, l = starts[i], lens[i]
            lo, hi = max(s, offset), min(s + l, end)
            if lo < hi:
                out[lo - offset:hi - offset] = self.raw.read(where[i] + lo - s, hi - lo)
            i += 1
        return bytes(out)

    def read_present(self, offset: int, length: int) -> Optional[bytes]:
        if offset < 0 or length <= 0:
            return None if length > 0 else b""
        i = self._segment(offset)
        if i < 0:
            return None
        parts = []
        pos, end = offset, offset + length
        starts, lens, where = self._starts, self._lens, self._where
        while pos < end:
            if i >= len(starts) or not starts[i] <= pos < starts[i] + lens[i]:
                return None
            n = min(end, starts[i] + lens[i]) - pos
            parts.append(self.raw.read(where[i] + pos - starts[i], n))
            pos += n
            i += 1
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def present_extent(self, offset: int, length: int) -> int:
        """Up to the end of the last record inside [offset, offset+length): holes between
        records are zeros the writer skipped (makedumpfile -F seeks over zero blocks)."""
        end = offset + length
        i = bisect.bisect_left(self._starts, end) - 1
        if i < 0:
            return 0
        last = min(self._starts[i] + self._lens[i], end)
        return max(0, last - offset)

    def next_present(self, offset: int) -> Optional[int]:
        i = self._segment(offset)
        if i >= 0 and offset < self._starts[i] + self._lens[i]:
            return offset
        i += 1
        return self._starts[i] if i < len(self._starts) else None

    def release(self, offset: int, length: int) -> None:
        i = max(0, self._segment(offset))
        end = offset + length
        starts, lens, where = self._starts, self._lens, self._where
        while i < len(starts) and starts[i] < end:
            lo, hi = max(starts[i], offset), min(starts[i] + lens[i], end)
            if lo < hi:
                self.raw.release(where[i] + lo - starts[i], hi - lo)
            i += 1

    @property
    def records(self) -> int:
        return len(self._starts)

    def close(self) -> None:
        self.raw.close()


_MAX_PILES = 32


def _sorted_order(starts: array) -> array:
    """Record indices sorted by their offset in the real file, as a compact array.

    Writers emit a few increasing streams interleaved (makedumpfile: descriptors and
    page data; QEMU likewise), so records are dealt onto increasing piles that are then
    merged: 8 bytes per record instead of a list of Python ints. A stream with many
    interleaved runs falls back to a plain sort.
    """
    piles: List[array] = []
    lasts: List[int] = []
    for i, s in enumerate(starts):
        for k in range(len(piles)):
            if lasts[k] <= s:
                piles[k].append(i)
                lasts[k] = s
                break
        else:
            if len(piles) == _MAX_PILES:
                return _run_sorted(starts)
            piles.append(array("q", [i]))
            lasts.append(s)
    if len(piles) <= 1:
        return piles[0] if piles else array("q")
    return array("q", heapq.merge(*piles, key=starts.__getitem__))


def _run_sorted(starts: array) -> array:
    """A stable sort of all record indices by offset that holds Python ints for only
    _SORT_RUN records at a time (a plain sorted(range(n)) costs ~70 bytes a record)."""
    n = len(starts)
    runs = [array("q", sorted(range(lo, min(n, lo + _SORT_RUN)), key=starts.__getitem__))
            for lo in range(0, n, _SORT_RUN)]
    if len(runs) <= 1:
        return runs[0] if runs else array("q")
    return array("q", heapq.merge(*runs, key=starts.__getitem__))


def _overlapping_records(starts: array, lens: array, order: array) -> int:
    """How many records lie in clusters of two or more that overlap, in one pass."""
    total, i, n = 0, 0, len(order)
    while i < n:
        j, cluster_end = i + 1, starts[order[i]] + lens[order[i]]
        while j < n and starts[order[j]] < cluster_end:
            cluster_end = max(cluster_end, starts[order[j]] + lens[order[j]])
            j += 1
        if j - i > 1:
            total += j - i
        i = j
    return total


def _resolve_overlaps(starts: array, lens: array, where: array, order: List[int]):
    """Disjoint segments where, for every byte, the last-written record wins.

    Only clusters of mutually overlapping records are swept (with a heap of the
    records covering the current point); the common non-overlapping runs are copied.
    """
    out_s, out_l, out_w = array("q"), array("q"), array("q")

    def emit(s: int, e: int, rec: int) -> None:
        if e <= s:
            return
        w = where[rec] + s - starts[rec]
        if out_s and out_s[-1] + out_l[-1] == s and out_w[-1] + out_l[-1] == w:
            out_l[-1] += e - s
        else:
            out_s.append(s)
            out_l.append(e - s)
            out_w.append(w)

    i, n = 0, len(order)
    while i < n:
        j, cluster_end = i + 1, starts[order[i]] + lens[order[i]]
        while j < n and starts[order[j]] < cluster_end:
            cluster_end = max(cluster_end, starts[order[j]] + lens[order[j]])
            j += 1
        cluster = order[i:j]
        if len(cluster) == 1:
            r = cluster[0]
            emit(starts[r], starts[r] + lens[r], r)
        else:
            points = sorted({starts[r] for r in cluster} | {starts[r] + lens[r] for r in cluster})
            by_start = sorted(cluster, key=starts.__getitem__)
            heap: list = []
            k = 0
            for a, b in zip(points, points[1:]):
                while k < len(by_start) and starts[by_start[k]] <= a:
                    r = by_start[k]
                    heapq.heappush(heap, (-r, r))
                    k += 1
                while heap and starts[heap[0][1]] + lens[heap[0][1]] <= a:
                    heapq.heappop(heap)
                if heap:
                    emit(a, b, heap[0][1])
        i = j
    return out_s, out_l, out_w
