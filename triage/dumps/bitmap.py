"""A page bitmap inside a dump, with a lazily built prefix-popcount (rank) index.

kdump-compressed files store one page descriptor per dumpable pfn, so finding a
pfn's descriptor needs the number of set bits before it. The bitmap stays in the
backing store (memory-mapped); only one cumulative count per chunk is kept, and
chunks are counted the first time a lookup reaches them. For a 1 TiB machine
(32 MiB bitmap, 64 KiB chunks) the index is 512 integers.
"""

import re
from array import array
from typing import List, Optional, Tuple

from triage.dumps.store import Store
from triage.errors import CorruptDumpError

CHUNK = 1 << 16          # bytes per index entry (more for bitmaps past 64 GiB)
BLOCK = 1 << 10          # bytes per entry of the index inside the current chunk
_MAX_ENTRIES = 1 << 20   # index entries at most: 8 MiB however large a bitmap is claimed
MAX_RUNS = 1 << 18       # runs one runs() call returns at most (~30 MiB of tuples)
_SEGMENTS = re.compile(rb"\xff+|[^\x00\xff]", re.S)   # runs of 0xff bytes, or one mixed byte
_NONZERO = re.compile(rb"[^\x00]", re.S)


def _byte_runs(v: int) -> Tuple[Tuple[int, int], ...]:
    """(first, one past last) bit of each run of set bits in the byte v, LSB first."""
    out, bit = [], 0
    while bit < 8:
        if v >> bit & 1:
            a = bit
            while bit < 8 and v >> bit & 1:
                bit += 1
            out.append((a, bit))
        else:
            bit += 1
    return tuple(out)


_BYTE_RUNS = [_byte_runs(v) for v in range(256)]

if hasattr(int, "bit_count"):
    def _popcount(data: bytes) -> int:
        return int.from_bytes(data, "little").bit_count()
else:  # Python 3.9
    def _popcount(data: bytes) -> int:
        return bin(int.from_bytes(data, "little")).count("1")


class Bitmap:
    """Bits [0, nbits) stored LSB-first at `offset` in `store`."""

    def __init__(self, store: Store, offset: int, nbytes: int):
        self.store = store
        self.offset = offset
        self.nbytes = nbytes
        self._prefix = array("q", [0])   # set bits before chunk i
        self._chunk_no = -1
        self._chunk = b""
        # set bits before each BLOCK of the current chunk, built on its first rank():
        # a rank then counts at most BLOCK bytes, not up to a whole chunk (reading
        # the pages of a log ranks thousands of neighbouring pfns)
        self._sub: Optional[array] = None
        # Bytes past the end of a truncated file (or a hole in a flattened stream) read
        # as absent, not as zero pages; and every loop over the bitmap is bounded by them.
        self.available_bytes = store.present_extent(offset, nbytes)
        chunk = CHUNK
        while nbytes // chunk > _MAX_ENTRIES:
            chunk <<= 1
        self.chunk = chunk

    def _get_chunk(self, i: int) -> bytes:
        if i != self._chunk_no:
            start = i * self.chunk
            n = min(self.chunk, self.available_bytes - start)
            self._chunk = self.store.read(self.offset + start, n) if n > 0 else b""
            self._chunk_no = i
            self._sub = None
        return self._chunk

    def runs(self, start: int, end: int, limit: int = MAX_RUNS) -> List[Tuple[int, int]]:
        """(first, one past last) of each run of set bits in [start, end), sorted and
        merged. Time is linear in the bitmap bytes present in the window: stretches
        of 0x00 and 0xff bytes are found by the regex engine and a mixed byte costs
        one table lookup. CorruptDumpError past `limit` runs (a window of n bits
        holds at most n/2 + 1: callers bound the list by the window they ask for)."""
        out: List[Tuple[int, int]] = []
        end = min(end, self.available_bytes * 8)
        start = max(0, start)
        if start >= end:
            return out
        first, last = start >> 3, (end + 7) >> 3          # bytes [first, last)
        while first < last:
            first = self._skip_hole(first)
            if first >= last:
                break
            ci = first // self.chunk
            chunk = self._get_chunk(ci)
            lo = first - ci * self.chunk
            hi = min(len(chunk), last - ci * self.chunk)
            if lo >= hi:
                break
            base = ci * self.chunk
            for m in _SEGMENTS.finditer(chunk, lo, hi):
                a = m.start()
                pieces = ((0, 8 * (m.end() - a)),) if chunk[a] == 0xFF else _BYTE_RUNS[chunk[a]]
                bit0 = (base + a) * 8
                for r0, r1 in pieces:
                    # clipped to the window here (its first and last bytes hold bits
                    # outside it), so that only runs inside count towards the limit
                    r0 = max(r0 + bit0, start)
                    r1 = min(r1 + bit0, end)
                    if r0 >= r1:
                        continue
                    if out and out[-1][1] == r0:
                        out[-1] = (out[-1][0], r1)
                    else:
                        if len(out) >= limit:
                            raise CorruptDumpError(f"page bitmap at offset {self.offset:#x}: more than "
                                                   f"{limit} runs of dumped pages in bits {start}..{end}")
                        out.append((r0, r1))
            first = base + hi
        return out

    def next_set(self, bit: int, end: int) -> Optional[int]:
        """The first set bit in [bit, end), or None; zero bytes are skipped at C speed."""
        end = min(end, self.available_bytes * 8)
        bit = max(0, bit)
        while bit < end:
            byte = self._skip_hole(bit >> 3)
            if byte > bit >> 3:
                bit = byte * 8
                if bit >= end:
                    return None
            ci = byte // self.chunk
            chunk = self._get_chunk(ci)
            i = byte - ci * self.chunk
            if i >= len(chunk):
                return None
            v = chunk[i] >> (bit & 7)
            if v:
                got = bit + ((v & -v).bit_length() - 1)
                return got if got < end else None
            m = _NONZERO.search(chunk, i + 1)
            bit = (ci * self.chunk + (m.start() if m else len(chunk))) * 8
        return None

    def _skip_hole(self, byte: int) -> int:
        """`byte`, or the first byte after it backed by data when it lies in a hole of
        the store (a sparse file, a flattened stream's skipped zero blocks): holes hold
        no set bits, so walks over them take one step, not a read of every chunk."""
        nxt = self.store.next_present(self.offset + byte)
        if nxt is None:
            return max(byte, self.available_bytes)
        return max(byte, nxt - self.offset)

    def _sub_index(self, chunk: bytes) -> array:
        sub = self._sub
        if sub is None:
            sub = array("q", [0])
            total = 0
            for b in range(0, len(chunk) - BLOCK, BLOCK):
                total += _popcount(chunk[b:b + BLOCK])
                sub.append(total)
            self._sub = sub
        return sub

    def test(self, bit: int) -> bool:
        """True when the bit is set; bits beyond the (possibly truncated) bitmap are clear."""
        byte = bit >> 3
        if bit < 0 or byte >= self.available_bytes:
            return False
        chunk = self._get_chunk(byte // self.chunk)
        i = byte % self.chunk
        return i < len(chunk) and bool(chunk[i] >> (bit & 7) & 1)

    def _prefix_upto(self, chunk_no: int) -> int:
        p = self._prefix
        while len(p) <= chunk_no:
            i = len(p) - 1
            start = i * self.chunk
            nxt = self.store.next_present(self.offset + start)
            if nxt is None or nxt >= self.offset + start + self.chunk:
                # A hole (a flattened stream skips zero blocks, or a header claims far
                # more bitmap than was written): its chunks add no bits, in one step, so
                # time follows the bytes present, not the size claimed.
                hole_end = self.offset + self.available_bytes if nxt is None else nxt
                k = max(1, min(chunk_no + 1 - len(p), (hole_end - self.offset - start) // self.chunk))
                p.extend(array("q", [p[i]]) * k)
                continue
            n = min(self.chunk, self.available_bytes - start)
            data = self.store.read(self.offset + start, n) if n > 0 else b""
            p.append(p[i] + _popcount(data))
            if n > 0:
                # Counted once; keep RSS flat on huge bitmaps (32 MiB each for 1 TiB).
                self.store.release(self.offset + start, n)
        return p[chunk_no]

    def rank(self, bit: int) -> int:
        """Number of set bits in [0, bit)."""
        if bit <= 0:
            return 0
        byte = bit >> 3
        if byte >= self.available_bytes:
            return self.count()
        chunk_no = byte // self.chunk
        total = self._prefix_upto(chunk_no)
        chunk = self._get_chunk(chunk_no)
        i = byte % self.chunk
        blk = i // BLOCK
        if blk:
            total += self._sub_index(chunk)[blk]
        total += _popcount(chunk[blk * BLOCK:i])
        rem = bit & 7
        if rem and i < len(chunk):
            total += bin(chunk[i] & ((1 << rem) - 1)).count("1")
        return total

    def count(self, nbits: Optional[int] = None) -> int:
        """Set bits in [0, nbits) (the whole available bitmap by default)."""
        if nbits is not None and (nbits >> 3) < self.available_bytes:
            return self.rank(nbits)
        last = (self.available_bytes + self.chunk - 1) // self.chunk
        return self._prefix_upto(last)
