"""Find the kernel's kallsyms tables by scanning its image, for kernels whose
VMCOREINFO does not name them (before 6.0: RHEL 8/9, Ubuntu 20.04/22.04, Debian 11).

scripts/kallsyms.c emits the tables into .rodata, each 8-byte aligned on 64-bit
kernels, in one of two orders:

    up to 6.3:  kallsyms_offsets (or _addresses), kallsyms_relative_base,
                kallsyms_num_syms, kallsyms_names, kallsyms_markers,
                [kallsyms_seqs_of_names: 6.2, and stable backports such as
                Debian's 6.1], kallsyms_token_table, kallsyms_token_index
    6.4 on:     kallsyms_num_syms, kallsyms_names, kallsyms_markers,
                kallsyms_token_table, kallsyms_token_index, kallsyms_offsets,
                kallsyms_relative_base (then kallsyms_seqs_of_names)

(The real dumps here are 5.10 and 6.1 on x86_64 and arm64; the 6.4 order is
implemented from scripts/kallsyms.c but no such dump has been scanned.)
Like vmlinux-to-elf on a raw kernel image, the
scan keys on the token table: every digit occurs alone in some symbol name, so
the compressor keeps "0".."9" as one-character tokens and the table holds
"0\\0" "1\\0" ... "9\\0" as entries 0x30-0x39. From there:

* the 256 tokens end where kallsyms_token_index starts; the index (256 u16
  offsets) must point at every token, which pins the table's start;
* kallsyms_markers ends just before the token table, or before the 3 bytes
  per name of kallsyms_seqs_of_names: one u32 (u64 on old kernels) per 256
  names, 0 first, rising by one block's size;
* kallsyms_num_syms sits just before kallsyms_names, and the names (length
  byte(s) + token bytes) must fill exactly the blocks the markers announce and
  end at the markers;
* the addresses: relative offsets + base, or absolute, in either order; the one
  whose entry for "_stext" equals the kernel's known _stext wins, and the
  addresses must be sorted.

Every count, length and offset comes from the dump and is bounded before use;
reads go through `read(vaddr, size)` (absent pages read as zeros), so the scan
reads at most MAX_SCAN bytes of image plus the tables' own bytes. A failed
scan raises KallsymsScanError with the reason.
"""

import operator
import re
import struct
import sys
from array import array
from dataclasses import dataclass
from itertools import islice
from typing import Callable, List, Optional, Tuple

from triage.errors import CorruptDumpError

ReadFn = Callable[[int, int], bytes]

DIGITS = b"".join(bytes([c]) + b"\0" for c in b"0123456789")
MAX_SCAN = 256 << 20          # image bytes searched for the token table (vmlinux .text+.rodata)
CHUNK = 4 << 20               # read this much image at a time (bounded memory)
MAX_TOKEN = 64                # kernel tokens are a few characters (Debian 6.1: at most 19)
MAX_SYMS = 1 << 22            # vmlinux has ~100k-250k symbols
MAX_NAMES_BYTES = 64 << 20
MIN_NAMES_PER_BLOCK_BYTES = 2 * 256   # a name is a length byte and at least one token
STEXT = "_stext"
MAX_HITS = 16                 # token-table candidates examined
# steps (a name walked or decoded, a marker word looked at) of one scan, all
# candidates together: ~3 s of Python; a real table takes ~0.3M
STEP_BUDGET = 8 << 20


class KallsymsScanError(CorruptDumpError):
    """The kallsyms tables were not found in the kernel image; the message says why."""


class _Budget:
    """Steps a scan may still take (hostile tables that keep matching cannot make it
    slow), and the image's start, below which no table is looked for."""

    def __init__(self, floor: int, steps: int = STEP_BUDGET):
        self.left = steps
        self.floor = floor

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise KallsymsScanError(f"gave up after {STEP_BUDGET} steps of examining candidates")


@dataclass(frozen=True)
class KallsymsLocations:
    """Virtual addresses of the kallsyms tables (what VMCOREINFO names since 6.0)."""

    num_syms: int              # the count itself
    kallsyms_num_syms: int     # its address
    kallsyms_names: int
    kallsyms_markers: int
    kallsyms_token_table: int
    kallsyms_token_index: int
    kallsyms_offsets: int = 0  # 0 when the kernel stores absolute addresses
    kallsyms_relative_base: int = 0
    kallsyms_addresses: int = 0
    long_names: bool = False   # lengths >= 0x80 take two bytes (6.1's "big" symbols)
    absolute_percpu: bool = False


@dataclass
class _Tokens:
    start: int                 # vaddr of kallsyms_token_table
    index_at: int              # vaddr of kallsyms_token_index
    tokens: List[bytes]


def scan_kallsyms(read: ReadFn, image_start: int, stext: int,
                  image_size: int = MAX_SCAN, data_start: Optional[int] = None) -> KallsymsLocations:
    """Locate the kallsyms tables in the image [image_start, +image_size).

    `stext` is the kernel's _stext (VMCOREINFO SYMBOL(_stext), or the arch's text
    base + KERNELOFFSET): the address encoding is chosen by it and it validates
    the whole table. `data_start`, when known (the lowest VMCOREINFO variable in
    the image), is where the read-only data ends: the tables are linked near the
    end of .rodata, so the image below it is searched first, downwards (about a
    third of the bytes the upward search from _stext reads on Debian 11), then
    the rest upwards. Raises KallsymsScanError when no candidate survives."""
    size = min(max(image_size, 0), MAX_SCAN)
    reasons: List[str] = []
    budget = _Budget(image_start)
    hits = 0
    overlap = len(DIGITS)
    for pos, n in _chunk_order(size, (data_start - image_start) if data_start is not None else None):
        chunk = read(image_start + pos, n + overlap if pos + n < size else n)
        hit = chunk.find(DIGITS)
        while hit >= 0:
            if hit < n:
                hits += 1
                if hits > MAX_HITS or budget.left <= 0:
                    raise KallsymsScanError("kallsyms token table candidates rejected: " + "; ".join(reasons))
                try:
                    return _from_digits(read, image_start + pos + hit, stext, budget)
                except KallsymsScanError as exc:
                    if len(reasons) < 4:
                        reasons.append(f"{image_start + pos + hit:#x}: {exc.message}")
            hit = chunk.find(DIGITS, hit + 1)
    if not reasons:
        raise KallsymsScanError(f"no kallsyms token table in the {size} bytes of kernel image "
                                f"from {image_start:#x}")
    raise KallsymsScanError("kallsyms token table candidates rejected: " + "; ".join(reasons))


def _chunk_order(size: int, split: Optional[int]) -> List[Tuple[int, int]]:
    """(offset, length) of pieces of at most CHUNK bytes covering [0, size) once
    each: from `split` down to 0, then from `split` up; plainly upwards when there
    is no split inside."""
    if split is None or not 0 < split < size:
        split = 0
    down = [(max(end - CHUNK, 0), end - max(end - CHUNK, 0)) for end in range(split, 0, -CHUNK)]
    return down + [(pos, min(CHUNK, size - pos)) for pos in range(split, size, CHUNK)]


def _from_digits(read: ReadFn, at: int, stext: int, budget: _Budget) -> KallsymsLocations:
    """All the tables, given the address of token "0" (entry 0x30) of a candidate token table."""
    tok = _token_table(read, at)
    last: Optional[KallsymsScanError] = None
    # u32 markers, or unsigned long markers on old kernels
    for width in (4, 8):
        for markers_at, markers, markers_end in _marker_runs(read, tok.start, width, budget):
            try:
                names_at, n, long_names, names = _names(read, markers_at, markers, budget)
                seqs = _seqs_gap(tok.start, markers_end, n)
                if seqs is None:
                    raise KallsymsScanError("the markers do not end before the token table "
                                            "(nor before kallsyms_seqs_of_names)")
                return _addresses(read, tok, names_at, names, n, markers_at, long_names, stext, budget)
            except KallsymsScanError as exc:
                last = exc
    raise last or KallsymsScanError("no kallsyms_markers before the token table")


def _seqs_gap(table_start: int, markers_end: int, n: int) -> Optional[int]:
    """Bytes of kallsyms_seqs_of_names (3 per symbol; 6.2+ and stable backports)
    between the markers and the token table: 0 when there are none, None when the
    gap fits neither layout."""
    seqs_at = (markers_end + 7) & ~7
    if table_start - markers_end < 8:
        return 0
    if 0 <= table_start - seqs_at - 3 * n < 8:
        return 3 * n
    return None


def _token_table(read: ReadFn, at: int) -> _Tokens:
    """Tokens 0x30..0xff forward from `at`, then the index that pins tokens 0..0x2f."""
    data = read(at, (256 - 0x30) * (MAX_TOKEN + 1) + 520)
    if at and read(at - 1, 1) != b"\0":
        raise KallsymsScanError("digits not preceded by the end of a token")
    pos = 0
    for i in range(0x30, 256):
        end = data.find(b"\0", pos, pos + MAX_TOKEN + 1)
        if end <= pos:
            raise KallsymsScanError(f"token {i:#x} is empty or longer than {MAX_TOKEN} bytes")
        pos = end + 1
    table_end = at + pos
    for pad in range(0, 8, 2):
        idx_at = table_end + pad
        if idx_at % 2:
            continue
        raw = data[pos + pad:pos + pad + 512]
        if len(raw) < 512 or any(data[pos:pos + pad]):
            break
        index = struct.unpack("<256H", raw)
        if index[0] != 0 or index[0x30] > at or idx_at - (at - index[0x30]) > 0xFFFF + MAX_TOKEN:
            continue
        start = at - index[0x30]
        table = read(start, table_end - start)
        tokens = _tokens_by_index(table, index)
        if tokens is not None:
            return _Tokens(start, idx_at, tokens)
    raise KallsymsScanError("no kallsyms_token_index after the token table")


def _tokens_by_index(table: bytes, index: Tuple[int, ...]) -> Optional[List[bytes]]:
    """The 256 tokens when `index` points at consecutive NUL-terminated strings filling `table`."""
    out = []
    pos = 0
    for i in range(256):
        if index[i] != pos:
            return None
        end = table.find(b"\0", pos, pos + MAX_TOKEN + 1)
        if end <= pos:
            return None
        out.append(table[pos:end])
        pos = end + 1
    return out if pos == len(table) else None


MAX_BLOCK = 256 * 300         # bytes of 256 compressed names (KSYM_NAME_LEN 512 names compress to < 300)
MAX_MARKER_CANDIDATES = 4
MARKER_SEARCH = 3 * MAX_SYMS + 4 * (MAX_SYMS // 256 + 1) + 8   # seqs_of_names + markers
BACK_CHUNK = 1 << 19


def _gap_fits(gap: int, k: int) -> bool:
    """Whether `gap` bytes between k markers and the token table are padding, or
    kallsyms_seqs_of_names (3 bytes for each of the 256(k-1)+1..256k names) plus padding."""
    return gap < 8 or 3 * (256 * (k - 1) + 1) <= gap < 3 * 256 * k + 16


MAX_MARKERS_BYTES = 8 * (MAX_SYMS // 256 + 1)


def _marker_runs(read: ReadFn, end_at: int, width: int, budget: _Budget):
    """Candidate kallsyms_markers below `end_at`, nearest first, as (address, values,
    end address): a zero word, then words rising by one block's size
    (MIN_NAMES_PER_BLOCK_BYTES..MAX_BLOCK) each, at least 2 in all, ending where
    the token table (or kallsyms_seqs_of_names before it) begins.

    Zero words are found with bytes.find, not word by word in Python: the
    region searched is up to MARKER_SEARCH bytes, read backwards in chunks."""
    pos = end_at - end_at % width
    lower = max(end_at - MARKER_SEARCH, budget.floor)
    found = 0
    while pos > lower and found < MAX_MARKER_CANDIDATES:
        lo = max(pos - BACK_CHUNK, lower)
        lo += (-lo) % width
        if lo >= pos:
            return
        # a run starting in this chunk may reach past it: read its longest possible tail too
        hi = min(pos + MAX_MARKERS_BYTES, end_at - end_at % width)
        data = read(lo, hi - lo)
        budget.spend((pos - lo) // 64)
        cands = []
        for start in _zero_words(data, pos - lo, width):
            cands += _runs_from(data, start, width, lo, end_at)
        for cand in sorted(cands, key=lambda c: -c[2]):
            found += 1
            yield cand
            if found >= MAX_MARKER_CANDIDATES:
                return
        pos = lo


def _zero_words(data: bytes, limit: int, width: int):
    """Offsets below `limit` of the aligned zero words of `data` followed by a non-zero word."""
    zero = bytes(width)
    pos = data.find(zero, 0, limit + width)
    while 0 <= pos < limit:
        if pos % width:
            pos = data.find(zero, pos + width - pos % width, limit + width)
            continue
        nxt = pos + width
        if data[nxt:nxt + width] == zero:
            # inside a run of zeros: only its last aligned word can start the markers
            stripped = len(data) - len(data[nxt:].lstrip(b"\0"))
            pos = stripped - stripped % width - width
            if pos < nxt:
                pos = nxt
            if data[pos + width:pos + 2 * width] == zero or pos >= limit:
                pos = data.find(zero, pos + width, limit + width)
                continue
        yield pos
        pos = data.find(zero, pos + width, limit + width)


def _runs_from(data: bytes, start: int, width: int, base: int, end_at: int) -> list:
    """The (address, values, end) marker arrays starting with the zero word at `start`
    whose end fits the distance to the token table (each rising prefix is tried)."""
    fmt = "<I" if width == 4 else "<Q"
    values = [0]
    out = []
    pos = start + width
    while pos + width <= len(data) and len(values) <= MAX_SYMS // 256 + 1:
        (v,) = struct.unpack_from(fmt, data, pos)
        if not MIN_NAMES_PER_BLOCK_BYTES <= v - values[-1] <= MAX_BLOCK:
            break
        values.append(v)
        pos += width
        if _gap_fits(end_at - (base + pos), len(values)):
            out.append((base + start, list(values), base + pos))
    return out


def _names(read: ReadFn, markers_at: int, markers: List[int],
           budget: _Budget) -> Tuple[int, int, bool, bytes]:
    """(address of kallsyms_names, num_syms, long names, the names' bytes) whose names
    fill exactly the marked blocks."""
    k = len(markers)
    last = markers[-1]
    # the last block holds 1..256 names of 2..257 bytes (one length byte, up to 255 tokens)
    max_last = 256 * (2 + 255)
    lo = max(markers_at - last - max_last - 8, budget.floor)
    lo -= lo % 8
    data = read(lo, markers_at - lo)
    base = lo
    end_max = len(data)
    candidates = []
    for s in range(end_max - last - 2 - (end_max - last - 2) % 8, 7, -8):
        (n,) = struct.unpack_from("<Q", data, s - 8)
        if not (256 * (k - 1) < n <= 256 * k) or n > MAX_SYMS:
            continue
        candidates.append((s, n))
    for s, n in candidates:
        for long_names in (True, False):
            walked = _walk_names(data, s, n, markers, long_names, budget)
            if walked is None:
                continue
            end, saw_long = walked
            if 0 <= end_max - end < 8 and not any(data[end:end_max]):
                # without a length >= 0x80 both encodings read the same
                return base + s, n, long_names and saw_long, data[s:]
    raise KallsymsScanError(f"no kallsyms_num_syms + kallsyms_names fill the {k} marked blocks")


def _walk_names(data: bytes, s: int, n: int, markers: List[int], long_names: bool,
                budget: _Budget) -> Optional[Tuple[int, bool]]:
    """(end offset, a 2-byte length was read) of n length-prefixed names from `s`,
    when every 256th starts at its marker; None otherwise."""
    pos = s
    size = len(data)
    saw_long = False
    for i in range(n):
        if not i & 0xFF:
            if pos - s != markers[i >> 8]:
                return None
            budget.spend(256)
        if pos >= size:
            return None
        length = data[pos]
        if length & 0x80 and long_names:
            if pos + 1 >= size or data[pos + 1] & 0x80:
                return None
            length = (length & 0x7F) | (data[pos + 1] << 7)
            pos += 1
            saw_long = True
        if length == 0:
            return None
        pos += 1 + length
    return (pos, saw_long) if pos <= size else None


def decode_names(names: bytes, n: int, tokens: List[bytes], long_names: bool,
                 limit: Optional[int] = None) -> List[Tuple[str, str]]:
    """(type char, name) of the first min(n, limit) symbols of a kallsyms_names blob.

    Raises KallsymsScanError when a name runs past the blob."""
    out: List[Tuple[str, str]] = []
    pos, size = 0, len(names)
    for _ in range(min(n, limit if limit is not None else n, MAX_SYMS)):
        if pos >= size:
            raise KallsymsScanError("kallsyms_names ends early")
        length = names[pos]
        if length & 0x80 and long_names:
            if pos + 1 >= size:
                raise KallsymsScanError("kallsyms_names ends early")
            length = (length & 0x7F) | (names[pos + 1] << 7)
            pos += 1
        if pos + 1 + length > size:
            raise KallsymsScanError("kallsyms_names ends early")
        text = b"".join([tokens[c] for c in names[pos + 1:pos + 1 + length]]).decode("latin-1")
        out.append((text[:1], text[1:]))
        pos += 1 + length
    return out


def _addresses(read: ReadFn, tok: _Tokens, names_at: int, names: bytes, n: int, markers_at: int,
               long_names: bool, stext: int, budget: _Budget) -> KallsymsLocations:
    """Pick the address table whose "_stext" entry is `stext` (`names`: the
    kallsyms_names bytes _names read); the addresses must be sorted."""
    budget.spend(n)
    stext_idx = _index_of(names, n, tok.tokens, long_names, STEXT)
    if stext_idx is None:
        raise KallsymsScanError("kallsyms_names has no _stext")
    common = dict(num_syms=n, kallsyms_num_syms=names_at - 8, kallsyms_names=names_at,
                  kallsyms_markers=markers_at, kallsyms_token_table=tok.start,
                  kallsyms_token_index=tok.index_at, long_names=long_names)
    # offsets + relative base before num_syms (<= 6.1), or after the token index (6.4+)
    relbase_before = names_at - 16
    off_before = (relbase_before - 4 * n) & ~7
    off_after = (tok.index_at + 512 + 7) & ~7
    relbase_after = (off_after + 4 * n + 7) & ~7
    for off_at, rb_at in ((off_before, relbase_before), (off_after, relbase_after)):
        if off_at < budget.floor:
            continue
        (rb,) = struct.unpack("<Q", read(rb_at, 8))
        offs = array("i")
        offs.frombytes(read(off_at, 4 * n))
        o = offs[stext_idx]
        for absolute_percpu in (False, True):
            if absolute_percpu:
                addr = o if o >= 0 else rb - 1 - o
            else:
                addr = rb + (o & 0xFFFFFFFF)
            if addr == stext and _sorted_relative(offs, rb, absolute_percpu):
                return KallsymsLocations(kallsyms_offsets=off_at, kallsyms_relative_base=rb_at,
                                         absolute_percpu=absolute_percpu, **common)
    abs_at = names_at - 8 - 8 * n
    if abs_at >= budget.floor:
        addrs = array("Q")
        addrs.frombytes(read(abs_at, 8 * n))
        if addrs[stext_idx] == stext and all(map(operator.le, addrs, islice(addrs, 1, None))):
            return KallsymsLocations(kallsyms_addresses=abs_at, **common)
    raise KallsymsScanError(f"no address table gives _stext = {stext:#x}")


def _sorted_relative(offs: "array[int]", rb: int, absolute_percpu: bool) -> bool:
    """Whether the decoded addresses are in ascending order (scripts/kallsyms sorts them).
    (The pairs are compared by map(operator.le): ~100k of them, no Python loop.)"""
    if not absolute_percpu:
        vals = array("I", offs.tobytes())        # the same words, unsigned
        return all(map(operator.le, vals, islice(vals, 1, None)))
    # non-negative entries are absolute (per-CPU, near 0); a negative o stands for
    # rb - 1 - o, which rises as o falls and, with a base above 2^31 (a kernel
    # address), lies above every absolute one. Sorted then means: the
    # non-negatives rising, then only negatives, falling.
    if rb <= 1 << 31:
        vals = [o if o >= 0 else rb - 1 - o for o in offs]
        return all(map(operator.le, vals, islice(vals, 1, None)))
    first_neg = _first_negative(offs)
    head, tail = offs[:first_neg], offs[first_neg:]
    if tail and max(tail) >= 0:
        return False
    return (all(map(operator.le, head, islice(head, 1, None)))
            and all(map(operator.ge, tail, islice(tail, 1, None))))


_NEG_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


def _first_negative(offs: "array[int]") -> int:
    """Index of the first negative entry of an int32 array (len when none): the
    first high byte with its sign bit set, found by re in C."""
    raw = offs.tobytes()
    high = raw[3::4] if sys.byteorder == "little" else raw[0::4]
    m = _NEG_HIGH_BYTE.search(high)
    return m.start() if m else len(offs)


def _index_of(names: bytes, n: int, tokens: List[bytes], long_names: bool, want: str) -> Optional[int]:
    """Index of the symbol called `want` (the first), decoding names in order."""
    key = want.encode("latin-1")
    pos, size = 0, len(names)
    for i in range(n):
        if pos >= size:
            return None
        length = names[pos]
        if length & 0x80 and long_names:
            length = (length & 0x7F) | (names[pos + 1] << 7) if pos + 1 < size else 0
            pos += 1
        text = b"".join([tokens[c] for c in names[pos + 1:pos + 1 + length]])
        if text[1:] == key:
            return i
        pos += 1 + length
    return None
