"""The lockless printk ring buffer (Linux 5.10+), decoded from VMCOREINFO offsets alone.

`read_lockless` fetches the ring struct, the descriptor and info arrays and the
text data ring through KernelMemory; `decode_lockless` is a pure function over
those bytes (so it can be fuzzed). Records are walked from tail_id to head_id;
only committed and finalized descriptors whose state_var carries the expected id
are kept, as makedumpfile and the kernel's readers do. Data blocks that wrap
start at offset 0 of the text ring; each begins with the descriptor id (one
unsigned long) before the text.
"""

import struct
import sys
from array import array
from itertools import compress, repeat
from operator import add, and_, eq, ge, getitem, gt, is_not, lt, sub, xor
from typing import Iterator, List, Optional, Sequence, Tuple

from triage.datarecord import DataRecord
from triage.dumps.vmcoreinfo import VmcoreInfo
from triage.errors import CorruptDumpError, MemoryReadError
from triage.printk import lanes
from triage.printk.layout import require
from triage.printk.record import PrintkRecord

DESC_COMMITTED = 1
DESC_FINALIZED = 2
DESC_REUSABLE = 3
EMPTY_LINE_LPOS = 0x3     # dataless record that is a real empty line (NO_LPOS)
# The kernel's maxima: log_buf_len is at most 2 GiB (LOG_BUF_LEN_MAX, kernel/printk/
# printk.c) and the descriptor ring has one slot per 32 bytes of text (PRB_AVGBITS 5):
# a header past them is damaged.
MAX_SIZE_BITS = 31
MAX_COUNT_BITS = MAX_SIZE_BITS - 5
# What triage reads: the newest 32 MiB of text and 2**20 descriptors, i.e. all of the
# largest ring a kernel config builds (CONFIG_LOG_BUF_SHIFT max 25). Only a log_buf_len=
# boot parameter makes a larger ring; of that, the newest part is read (partial).
READ_TEXT_BITS = 25
READ_COUNT_BITS = READ_TEXT_BITS - 5
# struct prb_desc is 24 bytes and struct printk_info 88 on 64-bit kernels (12 and 80 on
# 32-bit): a VMCOREINFO size outside 1..MAX_STRUCT_SIZE is damage. The descriptors read
# are also capped by bytes, what 2**READ_COUNT_BITS of today's structs take, so that a
# layout with larger structs reads fewer of them instead of more memory.
MAX_STRUCT_SIZE = 4096
READ_ARRAY_BYTES = (24 + 88) << READ_COUNT_BITS
_FULL_BUFFER_MAX = 1 << 27   # arrays up to this size are read into one zero-filled buffer
_RUN = 1 << 12               # descriptors unpacked per pass: bounds the temporary copies, which
                             # then come from the heap, not from fresh pages (page faults)


class LocklessLayout(DataRecord):
    """Sizes and offsets of the ring structures, taken from VMCOREINFO."""

    ring_size: int
    desc_ring: int
    text_ring: int
    count_bits: int
    descs: int
    infos: int
    head_id: int
    tail_id: int
    counter: int
    desc_size: int
    state_var: int
    text_blk_lpos: int
    lpos_begin: int
    lpos_next: int
    info_size: int
    ts_nsec: int
    text_len: int
    size_bits: int
    data: int
    seq: Optional[int] = None
    caller_id: Optional[int] = None
    dev_info: Optional[int] = None
    subsystem: Optional[int] = None
    device: Optional[int] = None
    subsystem_len: int = 16
    device_len: int = 48
    # facility (u8) at text_len+2 and flags:5/level:3 at text_len+3: the layout of
    # struct printk_info in every lockless kernel. Only trusted when caller_id sits
    # right after them (text_len+4), which VMCOREINFO does export.
    level_byte: Optional[int] = None
    pointer_size: int = 8

    @classmethod
    def from_vmcoreinfo(cls, info: VmcoreInfo, pointer_size: int = 8) -> "LocklessLayout":
        r = require(
            info, "lockless printk ring buffer",
            sizes=("printk_ringbuffer", "prb_desc", "printk_info"),
            offsets=("printk_ringbuffer.desc_ring", "printk_ringbuffer.text_data_ring",
                     "prb_desc_ring.count_bits", "prb_desc_ring.descs", "prb_desc_ring.infos",
                     "prb_desc_ring.head_id", "prb_desc_ring.tail_id",
                     "prb_desc.state_var", "prb_desc.text_blk_lpos",
                     "prb_data_blk_lpos.begin", "prb_data_blk_lpos.next",
                     "printk_info.ts_nsec", "printk_info.text_len",
                     "prb_data_ring.size_bits", "prb_data_ring.data"),
            symbols=("prb",))
        for key in ("prb_desc", "printk_info"):
            if not 0 < r[key] <= MAX_STRUCT_SIZE:
                raise CorruptDumpError(f"VMCOREINFO SIZE({key}) is {r[key]}: impossible for the "
                                       f"lockless printk ring (damaged VMCOREINFO)")
        caller = info.offset("printk_info.caller_id")
        text_len = r["printk_info.text_len"]
        dev = info.offset("printk_info.dev_info")
        return cls(
            ring_size=r["printk_ringbuffer"], desc_ring=r["printk_ringbuffer.desc_ring"],
            text_ring=r["printk_ringbuffer.text_data_ring"],
            count_bits=r["prb_desc_ring.count_bits"], descs=r["prb_desc_ring.descs"],
            infos=r["prb_desc_ring.infos"], head_id=r["prb_desc_ring.head_id"],
            tail_id=r["prb_desc_ring.tail_id"], counter=info.offset("atomic_long_t.counter") or 0,
            desc_size=r["prb_desc"], state_var=r["prb_desc.state_var"],
            text_blk_lpos=r["prb_desc.text_blk_lpos"], lpos_begin=r["prb_data_blk_lpos.begin"],
            lpos_next=r["prb_data_blk_lpos.next"], info_size=r["printk_info"],
            ts_nsec=r["printk_info.ts_nsec"], text_len=text_len,
            size_bits=r["prb_data_ring.size_bits"], data=r["prb_data_ring.data"],
            seq=info.offset("printk_info.seq"), caller_id=caller,
            dev_info=dev,
            subsystem=info.offset("dev_printk_info.subsystem"),
            device=info.offset("dev_printk_info.device"),
            subsystem_len=info.length("printk_info_subsystem") or 16,
            device_len=info.length("printk_info_device") or 48,
            level_byte=text_len + 3 if caller is not None and caller == text_len + 4 else None,
            pointer_size=pointer_size,
        )


class RingHeader(DataRecord):
    """The variable part of struct printk_ringbuffer: where the arrays are and the id range."""

    count_bits: int
    descs: int
    infos: int
    head_id: int
    tail_id: int
    size_bits: int
    data: int


def parse_ring_header(lay: LocklessLayout, raw: bytes) -> RingHeader:
    """Decode struct printk_ringbuffer bytes; CorruptDumpError when sizes are impossible."""
    p = "<Q" if lay.pointer_size == 8 else "<I"

    def field(off: int, fmt: str) -> int:
        if off < 0 or off + struct.calcsize(fmt) > len(raw):
            raise CorruptDumpError(f"printk_ringbuffer field at {off} outside its {len(raw)} bytes")
        return struct.unpack_from(fmt, raw, off)[0]

    d, t = lay.desc_ring, lay.text_ring
    hdr = RingHeader(
        count_bits=field(d + lay.count_bits, "<I"), descs=field(d + lay.descs, p),
        infos=field(d + lay.infos, p), head_id=field(d + lay.head_id + lay.counter, p),
        tail_id=field(d + lay.tail_id + lay.counter, p),
        size_bits=field(t + lay.size_bits, "<I"), data=field(t + lay.data, p))
    if hdr.size_bits > MAX_SIZE_BITS or hdr.size_bits < 4:
        raise CorruptDumpError(f"printk ring header field prb_data_ring.size_bits is {hdr.size_bits}: "
                               f"the kernel's text ring is 2**4 to 2**{MAX_SIZE_BITS} bytes")
    if hdr.count_bits > MAX_COUNT_BITS or hdr.count_bits > hdr.size_bits:
        raise CorruptDumpError(f"printk ring header field prb_desc_ring.count_bits is {hdr.count_bits}: "
                               f"the kernel makes one descriptor per 32 text bytes (size_bits is "
                               f"{hdr.size_bits}, at most {MAX_COUNT_BITS})")
    return hdr


class RingWindow:
    """Part of a ring of `total` bytes, read in pieces: `pieces` pairs a ring offset with
    the buffer holding the ring from there (a window that wraps is two pieces, kept
    apart rather than joined). Slices outside one piece read as zeros; the reader lists
    them as unread, so records there are counted, never decoded from the zeros."""

    def __init__(self, total: int, pieces: Sequence[Tuple[int, object]]):
        self.total, self.pieces = total, [(at, buf) for at, buf in pieces if len(buf)]

    def __len__(self) -> int:
        return self.total

    def view(self, a: int, b: int):
        """Ring offsets [a, b): a memoryview into the piece holding them, else zeros."""
        for at, buf in self.pieces:
            if at <= a and b <= at + len(buf):
                return memoryview(buf)[a - at:b - at]
        return bytes(max(0, b - a))

    def __getitem__(self, key):
        if isinstance(key, slice):
            return bytes(self.view(key.start or 0, key.stop))
        for at, buf in self.pieces:
            if at <= key < at + len(buf):
                return buf[key - at]
        return 0


def _struct_for(fields: Sequence[Tuple[int, str]], size: int) -> struct.Struct:
    """A Struct reading (offset, code) fields from a record of `size` bytes, padding the rest."""
    fmt, pos = "<", 0
    for off, code in sorted(fields):
        if off < pos or off + struct.calcsize(code) > size:
            raise CorruptDumpError("VMCOREINFO offsets overlap or exceed their struct size")
        fmt += "x" * (off - pos) + code
        pos = off + struct.calcsize(code)
    fmt += "x" * (size - pos)
    return struct.Struct(fmt)


def _missing(ranges: Sequence[Tuple[int, int]], start: int, end: int) -> bool:
    for a, b in ranges:
        if a < end and start < b:
            return True
    return False


def _cstr(raw: bytes, off: int, length: int) -> str:
    s = bytes(raw[off:off + length])
    nul = s.find(b"\0")
    if nul >= 0:
        s = s[:nul]
    return s.decode("utf-8", "replace")


def decode_lockless(lay: LocklessLayout, hdr: RingHeader, descs: bytes, infos: bytes, data: bytes,
                    missing_descs: Sequence[Tuple[int, int]] = (),
                    missing_infos: Sequence[Tuple[int, int]] = (),
                    missing_data: Sequence[Tuple[int, int]] = ()) -> Tuple[List[PrintkRecord], List[str]]:
    """Records in id order from the raw arrays, plus a list of problems met on the way."""
    problems: List[str] = []
    records = list(iter_lockless(lay, hdr, descs, infos, data, missing_descs, missing_infos,
                                 missing_data, problems))
    return records, problems


# Outcomes of one descriptor that yields no text (Ring.text): not a record of this
# id (skipped silently, as the kernel's readers do), lost to a page missing from the
# dump, or an impossible data position.
_SKIP, _LOST, _INVALID = 0, 1, 2


class _Ring:
    """What decoding one descriptor needs: the ring's sizes and bytes, and the
    ranges missing from the dump. `text` is the one place a descriptor's state
    and data position are judged; the column fast path only uses it for the
    descriptors its bulk tests could not clear."""

    __slots__ = ("id_mask", "sv_shift", "size_bits", "size", "size_mask", "lpos_mask", "ps",
                 "dsz", "isz", "data", "missing_descs", "missing_infos", "missing_data")

    def __init__(self, lay: LocklessLayout, hdr: RingHeader, data, missing_descs, missing_infos,
                 missing_data):
        bits = lay.pointer_size * 8
        self.id_mask = (1 << (bits - 2)) - 1
        self.sv_shift = bits - 2
        self.size_bits = hdr.size_bits
        self.size = 1 << hdr.size_bits
        self.size_mask = self.size - 1
        self.lpos_mask = (1 << bits) - 1
        self.ps = lay.pointer_size
        self.dsz, self.isz = lay.desc_size, lay.info_size
        if isinstance(data, (bytearray, memoryview)) and len(data) > 1 << READ_TEXT_BITS:
            # A mapped ring past 2**READ_TEXT_BITS (up to _FULL_BUFFER_MAX: a log_buf_len=
            # boot parameter, or a damaged header) is not copied: each record's text is
            # sliced from the mapping, so memory follows the pages the walk reads. Every
            # record stays readable, as makedumpfile (which reads the whole ring) shows them.
            data = RingWindow(len(data), [(0, data)])
        elif isinstance(data, (bytearray, memoryview)):
            # one copy of the text ring (at most 2**READ_TEXT_BITS: larger ones are sliced
            # in place above, or come as a RingWindow) makes every per-record slice a
            # single bytes allocation
            data = bytes(data)
        self.data = data
        self.missing_descs, self.missing_infos, self.missing_data = missing_descs, missing_infos, missing_data

    def text(self, slot: int, sv: int, begin: int, nxt: int, text_len: int, expect: int):
        """The text of the descriptor in `slot` expected to hold id `expect`, or
        _SKIP/_LOST/_INVALID."""
        if self.missing_descs and _missing(self.missing_descs, slot * self.dsz, slot * self.dsz + self.dsz):
            return _LOST
        if (sv & self.id_mask) != expect:
            return _SKIP
        state = sv >> self.sv_shift
        if state != DESC_COMMITTED and state != DESC_FINALIZED:
            return _SKIP
        ioff = slot * self.isz
        if self.missing_infos and _missing(self.missing_infos, ioff, ioff + self.isz):
            return _LOST
        if begin & 1 and nxt & 1:
            # Dataless: an empty line is a real record; anything else lost its text.
            return b"" if begin == EMPTY_LINE_LPOS and nxt == EMPTY_LINE_LPOS else _SKIP
        size_bits, size = self.size_bits, self.size
        if (begin >> size_bits) == (nxt >> size_bits) and begin < nxt:
            off, length = begin & self.size_mask, nxt - begin
        elif (((begin + size) & self.lpos_mask) >> size_bits) == (nxt >> size_bits):
            # unsigned long arithmetic: lpos starts just below 2**bits and wraps past it
            off, length = 0, nxt & self.size_mask
        else:
            return _INVALID
        if length < self.ps or off + length > size:
            return _INVALID
        off += self.ps
        length -= self.ps
        if text_len > length:
            text_len = length
        if self.missing_data and _missing(self.missing_data, off, off + text_len):
            return _LOST
        return self.data[off:off + text_len]


def _runs(lay: LocklessLayout, hdr: RingHeader, problems: List[str]) -> List[Tuple[int, int, int]]:
    """(first slot, count, first id) of the runs of consecutive slots the walk from
    tail_id to head_id visits (wrapping once at the end of the arrays), each at most
    _RUN long so that its unpacked copy stays bounded."""
    count = 1 << hdr.count_bits
    id_mask = (1 << (lay.pointer_size * 8 - 2)) - 1
    span = ((hdr.head_id - hdr.tail_id) & id_mask) + 1
    if span > count:
        problems.append(f"printk descriptor ids span {span} entries but the ring holds {count}; "
                        "reading the newest ones")
    # the newest ids that fit the ring and what triage reads (read_lockless names the cut)
    first, n = _id_range(lay, hdr)
    slot0 = first % count
    runs = [(slot0, min(n, count - slot0))]
    if n > count - slot0:
        runs.append((0, n - (count - slot0)))
    out = []
    rid = first
    for a, k in runs:
        for i in range(0, k, _RUN):
            m = min(_RUN, k - i)
            out.append((a + i, m, rid))
            rid = (rid + m) & id_mask
    return out


def _check_sizes(lay: LocklessLayout, hdr: RingHeader, descs, infos, data) -> None:
    count = 1 << hdr.count_bits
    if len(descs) < count * lay.desc_size or len(infos) < count * lay.info_size or len(data) < 1 << hdr.size_bits:
        raise CorruptDumpError("printk ring arrays are shorter than the ring header says")


def _desc_struct(lay: LocklessLayout) -> Tuple[struct.Struct, Tuple[int, int, int]]:
    """The Struct of the descriptor fields read, and the tuple positions of
    (state_var, text begin, text next)."""
    pcode = "Q" if lay.pointer_size == 8 else "I"
    dfields = [(lay.state_var + lay.counter, pcode), (lay.text_blk_lpos + lay.lpos_begin, pcode),
               (lay.text_blk_lpos + lay.lpos_next, pcode)]
    order = sorted(range(3), key=lambda i: dfields[i][0])
    dinv = [0] * 3
    for pos, i in enumerate(order):
        dinv[i] = pos
    return _struct_for(dfields, lay.desc_size), (dinv[0], dinv[1], dinv[2])


def _info_fields(lay: LocklessLayout) -> List[Tuple[int, str]]:
    """(offset, struct code) of the printk_info fields a record is built from, in the
    order iter_lockless reads them: ts_nsec, text_len, then seq, caller_id and the
    facility/level bytes when exported."""
    ifields = [(lay.ts_nsec, "Q"), (lay.text_len, "H")]
    if lay.seq is not None:
        ifields.append((lay.seq, "Q"))
    if lay.caller_id is not None:
        ifields.append((lay.caller_id, "I"))
    if lay.level_byte is not None:
        ifields += [(lay.level_byte - 1, "B"), (lay.level_byte, "B")]
    return ifields


def _tally(problems: List[str], lost: int, invalid: int) -> None:
    if lost:
        problems.append(f"{lost} printk records lie in pages missing from the dump")
    if invalid:
        problems.append(f"{invalid} printk records have impossible data positions; skipped")


def iter_lockless(lay: LocklessLayout, hdr: RingHeader, descs: bytes, infos: bytes, data: bytes,
                  missing_descs: Sequence[Tuple[int, int]], missing_infos: Sequence[Tuple[int, int]],
                  missing_data: Sequence[Tuple[int, int]], problems: List[str]) -> Iterator[PrintkRecord]:
    """Generator form of decode_lockless; appends to `problems` when it finishes."""
    _check_sizes(lay, hdr, descs, infos, data)
    dstruct, (d_sv, d_begin, d_next) = _desc_struct(lay)
    ifields = _info_fields(lay)
    want_seq = lay.seq is not None
    want_caller = lay.caller_id is not None
    want_level = lay.level_byte is not None
    istruct = _struct_for(ifields, lay.info_size)
    iorder = sorted(range(len(ifields)), key=lambda i: ifields[i][0])
    inv = [0] * len(ifields)
    for pos, i in enumerate(iorder):
        inv[i] = pos
    # tuple positions of each field (-1: not exported)
    i_ts, i_tl = inv[0], inv[1]
    j = 2
    i_seq = i_caller = i_fac = i_lf = -1
    if want_seq:
        i_seq, j = inv[j], j + 1
    if want_caller:
        i_caller, j = inv[j], j + 1
    if want_level:
        i_fac, i_lf = inv[j], inv[j + 1]
    ring = _Ring(lay, hdr, data, missing_descs, missing_infos, missing_data)
    runs = _runs(lay, hdr, problems)
    dsz, isz = lay.desc_size, lay.info_size
    has_dev = (lay.dev_info is not None and lay.subsystem is not None and lay.device is not None
               and lay.dev_info + max(lay.subsystem + lay.subsystem_len, lay.device + lay.device_len)
               <= lay.info_size)
    dev_base, sub_off, dev_off = lay.dev_info, lay.subsystem, lay.device
    id_mask = ring.id_mask
    text_of = ring.text
    lost = invalid = 0
    for s0, k, rid in runs:
        dts = dstruct.iter_unpack(descs[s0 * dsz:(s0 + k) * dsz])
        its = istruct.iter_unpack(infos[s0 * isz:(s0 + k) * isz])
        for slot, dv, iv in zip(range(s0, s0 + k), dts, its):
            text = text_of(slot, dv[d_sv], dv[d_begin], dv[d_next], iv[i_tl], rid)
            rid = (rid + 1) & id_mask
            if text.__class__ is int:
                if text == _LOST:
                    lost += 1
                elif text == _INVALID:
                    invalid += 1
                continue
            if i_lf >= 0:
                lf = iv[i_lf]
                rec = PrintkRecord(iv[i_seq] if i_seq >= 0 else None, iv[i_ts], text,
                                   iv[i_caller] if i_caller >= 0 else None, lf >> 5, iv[i_fac], lf & 0x1F)
            else:
                rec = PrintkRecord(iv[i_seq] if i_seq >= 0 else None, iv[i_ts], text,
                                   iv[i_caller] if i_caller >= 0 else None)
            if has_dev:
                base = slot * isz + dev_base
                if infos[base + sub_off]:
                    rec.dict["SUBSYSTEM"] = _cstr(infos, base + sub_off, lay.subsystem_len)
                if infos[base + dev_off]:
                    rec.dict["DEVICE"] = _cstr(infos, base + dev_off, lay.device_len)
            yield rec
    _tally(problems, lost, invalid)


_ARRAY_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}


def _column(buf, first: int, k: int, rec_size: int, off: int, width: int):
    """Field `off` (an unsigned little-endian integer of `width` bytes) of records
    first..first+k-1 of `buf`, as a strided view (no copy, no Python object per
    record: a tuple per record would also keep the garbage collector busy). None
    when the field is not aligned to its width (then struct unpacks it)."""
    code = _ARRAY_CODES.get(width)
    if code is None or array(code).itemsize != width or rec_size % width or off % width:
        return None
    raw = buf.view(first * rec_size, (first + k) * rec_size) if isinstance(buf, RingWindow) else \
        memoryview(buf)[first * rec_size:(first + k) * rec_size]
    if sys.byteorder != "little":
        col = array(code)
        col.frombytes(raw)
        col.byteswap()
        return col[off // width::rec_size // width]
    return memoryview(raw).cast(code)[off // width::rec_size // width]


def _columns(buf, first: int, k: int, rec_size: int, fields: Sequence[Tuple[int, int]]) -> list:
    """The columns of `fields` ((offset, width) pairs) of k records; struct-unpacked
    when a field is not aligned."""
    cols = [_column(buf, first, k, rec_size, off, width) for off, width in fields]
    if all(c is not None for c in cols):
        return cols
    st = _struct_for([(off, _ARRAY_CODES[width]) for off, width in fields], rec_size)
    order = sorted(range(len(fields)), key=lambda i: fields[i][0])
    unpacked = tuple(zip(*st.iter_unpack(buf[first * rec_size:(first + k) * rec_size])))
    out = [None] * len(fields)
    for pos, i in enumerate(order):
        out[i] = unpacked[pos]
    return out


def _where(flags: list) -> List[int]:
    """Indices of the true items of `flags` (list.index runs in C: the true ones are few)."""
    out: List[int] = []
    i = -1
    try:
        while True:
            i = flags.index(True, i + 1)
            out.append(i)
    except ValueError:
        return out


def iter_lockless_columns(lay: LocklessLayout, hdr: RingHeader, descs: bytes, infos: bytes, data: bytes,
                          missing_descs: Sequence[Tuple[int, int]], missing_infos: Sequence[Tuple[int, int]],
                          missing_data: Sequence[Tuple[int, int]],
                          problems: List[str]) -> Iterator[Tuple[Sequence[int], Sequence[bytes]]]:
    """The (ts_nsec, text) of the records of iter_lockless, as columns: one
    (timestamps, texts) pair per run of up to _RUN descriptors. What `triage dmesg`
    prints needs nothing else.

    A run is tested in bulk, in C: as lanes of big ints (_LaneRun: every id and
    state as expected, every text block regular and long enough, every text_len
    inside its block) where the layout allows, else by maps and list compares
    (_map_run). The few descriptors that fail a test (the block that wraps, a
    record still being written, a reused slot) are judged one by one by the same
    _Ring.text as iter_lockless, and a run the bulk tests cannot settle goes to
    _map_run, so both paths give the same records and problems."""
    _check_sizes(lay, hdr, descs, infos, data)
    # the layout checks of iter_lockless (overlapping or oversized fields are damage),
    # so that both paths accept and refuse the same layouts
    _desc_struct(lay)
    _struct_for(_info_fields(lay), lay.info_size)
    ring = _Ring(lay, hdr, data, missing_descs, missing_infos, missing_data)
    lane_run = _LaneRun(lay, ring) if _LaneRun.fits(lay, ring) else None
    dsz, isz = lay.desc_size, lay.info_size
    tally = [0, 0]          # lost, invalid
    for s0, k, rid0 in _runs(lay, hdr, problems):
        touches_missing = (missing_descs and _missing(missing_descs, s0 * dsz, (s0 + k) * dsz)) or \
            (missing_infos and _missing(missing_infos, s0 * isz, (s0 + k) * isz))
        got = None
        if lane_run is not None and not touches_missing and rid0 + k - 1 <= ring.id_mask:
            got = lane_run(descs, infos, s0, k, rid0, tally)
        if got is None:
            got = _map_run(lay, ring, descs, infos, s0, k, rid0, bool(touches_missing), tally)
        yield got
    _tally(problems, tally[0], tally[1])


def _judge(ring: "_Ring", tally: List[int], slot: int, sv: int, begin: int, nxt: int, text_len: int,
           expect: int):
    """ring.text of one descriptor; its loss or damage counted in `tally`. None: no record."""
    got = ring.text(slot, sv, begin, nxt, text_len, expect)
    if got.__class__ is int:
        if got == _LOST:
            tally[0] += 1
        elif got == _INVALID:
            tally[1] += 1
        return None
    return got


# descriptors of one run judged one by one (or state changes followed) before the
# lane tests give the run to _map_run: each costs a few passes over the run's lanes
_LANE_ODD_MAX = 64


class _LaneRun:
    """The bulk tests of a run of descriptors as lanes of big ints (triage.printk.lanes).

    A descriptor is taken in bulk when its state_var holds its id, finalized, its text
    block is regular (begin and next in one wrap of the ring, not both odd: _Ring.text's
    first branch) and holds the id and text_len bytes of text. Slots holding their id in
    the reusable state are skipped in bulk (the old end of a wrapped ring: the kernel's
    readers skip them too). Any other descriptor is judged by _Ring.text; a run with
    more of them than _LANE_ODD_MAX goes to _map_run."""

    def __init__(self, lay: LocklessLayout, ring: "_Ring"):
        self.ring, self.lay = ring, lay
        ps = ring.ps
        self.sv_off = lay.state_var + lay.counter
        self.begin_off = lay.text_blk_lpos + lay.lpos_begin
        self.next_off = lay.text_blk_lpos + lay.lpos_next
        self.tl_lane_off = lay.text_len - lay.text_len % ps     # the lane holding the u16 text_len
        self.tl_shift = 8 * (lay.text_len % ps)
        self.finalized = DESC_FINALIZED << ring.sv_shift
        self.skip_bit = (DESC_FINALIZED ^ DESC_REUSABLE) << ring.sv_shift
        self._lanes = {}

    @staticmethod
    def fits(lay: LocklessLayout, ring: "_Ring") -> bool:
        """Whether the layout allows lanes: fields aligned to the pointer size in
        records a multiple of it (text_len inside one lane), ts_nsec aligned, a host
        that reads lanes back (lanes.usable), and room between a text offset and the
        lane's top bit for the fit test of __call__."""
        ps = ring.ps
        offs = (lay.state_var + lay.counter, lay.text_blk_lpos + lay.lpos_begin, lay.text_blk_lpos + lay.lpos_next)
        return (lanes.usable(ps) and lay.desc_size % ps == 0 and lay.info_size % ps == 0
                and all(o % ps == 0 and o + ps <= lay.desc_size for o in offs)
                and lay.text_len % 2 == 0 and lay.text_len % ps + 2 <= ps and lay.text_len + 2 <= lay.info_size
                and lay.ts_nsec % 8 == 0 and lay.info_size % 8 == 0 and lay.ts_nsec + 8 <= lay.info_size
                and ring.size_bits + 3 <= 8 * ps)

    def _lanes_of(self, k: int) -> Tuple[lanes.Lanes, int]:
        """The Lanes of k descriptors, and "id i, finalized" in lane i."""
        got = self._lanes.get(k)
        if got is None:
            ln = lanes.Lanes(k, self.ring.ps)
            got = self._lanes[k] = (ln, ln.iota() + ln.splat(self.finalized))
        return got

    def __call__(self, descs, infos, s0: int, k: int, rid0: int, tally: List[int]):
        """(timestamps, texts) of the run, or None when _map_run must judge it."""
        ring, ps = self.ring, self.ring.ps
        ln, expect0 = self._lanes_of(k)
        W = ln.bits
        dv, iv = _run_view(descs, s0, k, ring.dsz), _run_view(infos, s0, k, ring.isz)
        sv = lanes.pack_column(dv, 0, k, ring.dsz, self.sv_off, ps)
        # lanes differing from "this id, finalized" (ids do not wrap in the run: the caller checked)
        x = sv ^ (expect0 + rid0 * ln.ones)
        if x:
            odd = ln.nonzero(x & ln.splat(ln.lane ^ self.skip_bit), _LANE_ODD_MAX)
            # 1 in the lanes whose state differs from finalized by the reusable bit (the
            # lowest state bit, W - 2: sv_shift): the skipped slots, unless odd (their
            # other bits differ too); edges: the lanes where that changes
            sk = (x >> (W - 2)) & ln.ones
            edges = ln.nonzero((sk ^ (sk << W)) & ln.full, _LANE_ODD_MAX)
            if odd is None or edges is None:
                return None
            segs, pos, keep = [], 0, True
            for e in edges + [k]:
                if keep and e > pos:
                    segs.append((pos, e))
                pos, keep = e, not keep
        else:
            odd, segs = [], [(0, k)]
        if segs:
            begin = lanes.pack_column(dv, 0, k, ring.dsz, self.begin_off, ps)
            nxt = lanes.pack_column(dv, 0, k, ring.dsz, self.next_off, ps)
            tl = (lanes.pack_column(iv, 0, k, ring.isz, self.tl_lane_off, ps) >> self.tl_shift) & ln.splat(0xFFFF)
            high = ln.splat(ln.lane ^ ring.size_mask)
            size_lanes = ln.splat(ring.size_mask)
            # the top bit of each lane, above offsets of size_bits + 3 <= lane bits (fits()):
            # set there, a difference of offsets never borrows from the next lane, and the
            # bit stays set exactly when the difference is not negative
            top = ln.splat(1 << (W - 1))
            keep_mask = ln.mask(segs)
            for again in (True, False):
                for j in odd:
                    keep_mask &= ~(ln.lane << (W * j))
                # lanes not kept read as an empty block at offset 0 (begin 0, next = the id's size)
                b = begin & keep_mask
                n = (nxt & keep_mask) | (ln.splat(ps) & (ln.full ^ keep_mask))
                t = tl & keep_mask
                ob, on = b & size_lanes, n & size_lanes
                # top bit set: next >= begin + ps + text_len, the block holds the id and the text
                fits = (on | top) - ob - ln.splat(ps) - t
                # not in one wrap or dataless (both odd): _Ring.text's other branches; or a
                # block shorter than its id, or a text_len to clamp: judged one by one
                bad = ((b ^ n) & high) | (b & n & ln.ones) | ((fits & top) ^ top)
                if not bad:
                    break
                more = ln.nonzero(bad, _LANE_ODD_MAX - len(odd)) if again else None
                if more is None:
                    return None
                odd = sorted(set(odd).union(more))
            starts = ob + ln.splat(ps)
            starts_l, ends_l = ln.to_list(starts), ln.to_list(starts + t)
        if not segs and not odd:
            return [], []
        tss = _column(iv, 0, k, ring.isz, self.lay.ts_nsec, 8).tolist()
        odd_set = set(odd)
        whole = segs == [(0, k)]        # every lane kept in bulk (the usual run)
        texts: list = None if whole else [None] * k
        data = ring.data
        for a, b_ in segs:
            st, en = (starts_l, ends_l) if whole else (starts_l[a:b_], ends_l[a:b_])
            lo, hi = min(st), max(en)
            for ma, mb in ring.missing_data:
                if ma < hi and mb > lo:
                    odd_set.update(a + j for j in _where(list(map(and_, map(lt, st, repeat(mb)),
                                                                   map(gt, en, repeat(ma))))))
            got = list(map(getitem, repeat(data), map(slice, st, en)))
            if whole:
                texts = got
            else:
                texts[a:b_] = got
        if odd_set:
            svs, begins, nexts = _columns(dv, 0, k, ring.dsz, [(self.sv_off, ps), (self.begin_off, ps),
                                                               (self.next_off, ps)])
            tls = _column(iv, 0, k, ring.isz, self.lay.text_len, 2)
            id_mask = ring.id_mask
            for j in sorted(odd_set):
                texts[j] = _judge(ring, tally, s0 + j, svs[j], begins[j], nexts[j], tls[j], (rid0 + j) & id_mask)
        elif whole:
            return tss, texts
        present = list(map(is_not, texts, repeat(None)))
        return list(compress(tss, present)), list(compress(texts, present))


def _run_view(buf, s0: int, k: int, rec_size: int):
    """The bytes of records s0..s0+k-1 of `buf` (a view where buf allows one)."""
    if isinstance(buf, RingWindow):
        return buf.view(s0 * rec_size, (s0 + k) * rec_size)
    return memoryview(buf)[s0 * rec_size:(s0 + k) * rec_size]


def _map_run(lay: LocklessLayout, ring: "_Ring", descs, infos, s0: int, k: int, rid0: int,
             touches_missing: bool, tally: List[int]) -> Tuple[Sequence[int], Sequence[bytes]]:
    """(timestamps, texts) of one run, tested by maps and list compares (every layout):
    every id and state as expected (finalized), every text block inside one wrap of
    the ring, aligned and long enough, and clear of missing data; the descriptors
    that fail a test are judged one by one by _Ring.text."""
    ps = lay.pointer_size
    dfields = [(lay.state_var + lay.counter, ps), (lay.text_blk_lpos + lay.lpos_begin, ps),
               (lay.text_blk_lpos + lay.lpos_next, ps)]
    ifields = [(lay.ts_nsec, 8), (lay.text_len, 2)]
    dsz, isz = lay.desc_size, lay.info_size
    sb, id_mask = ring.size_bits, ring.id_mask
    finalized = DESC_FINALIZED << ring.sv_shift
    committed = DESC_COMMITTED << ring.sv_shift
    missing_data = ring.missing_data
    svs, begins, nexts = _columns(descs, s0, k, dsz, dfields)
    tss, tls = _columns(infos, s0, k, isz, ifields)
    at = range(k)           # run index of each entry of the columns below
    if touches_missing or rid0 + k - 1 > id_mask:
        # judged one by one (pages missing, ids wrapping)
        keep = [True] * k
        odd = list(range(k))
        texts: list = [b""] * k
    else:
        # a slot whose state_var is not this id finalized is skipped (a reused slot,
        # a record being reserved), unless it holds this id committed: judged below.
        # The state sits above the id bits: id | state << sv_shift == id + that.
        keep = list(map(eq, svs, range(finalized + rid0, finalized + rid0 + k)))
        odd_set = set()
        if not all(keep):
            odd_set.update(_where(list(map(eq, svs, range(committed + rid0, committed + rid0 + k)))))
        if not odd_set and not all(keep):
            # drop the skipped slots now (a wrapped ring holds many whose text was
            # overwritten): the tests below then run on the records kept only
            at = list(compress(at, keep))
            begins, nexts = list(compress(begins, keep)), list(compress(nexts, keep))
            tss, tls = list(compress(tss, keep)), list(compress(tls, keep))
            keep = [True] * len(at)
        # begin and next in one wrap of the ring: they differ only below size_bits
        xors = list(map(xor, begins, nexts))
        if xors and max(xors) >> sb:
            odd_set.update(_where(list(map(ge, xors, repeat(1 << sb)))))
        lengths = list(map(sub, nexts, begins))
        if lengths and min(lengths) < ps:
            odd_set.update(_where(list(map(lt, lengths, repeat(ps)))))
        if any(map(and_, begins, repeat(1))):
            odd_set.update(_where(list(map(bool, map(and_, begins, repeat(1))))))
        starts = list(map(add, map(and_, begins, repeat(ring.size_mask)), repeat(ps)))
        if not tls or max(map(sub, tls, lengths)) <= -ps:
            ends = list(map(add, starts, tls))      # every text fits its block: the usual case
        else:
            ends = list(map(add, starts, map(min, tls, map(sub, lengths, repeat(ps)))))
        # only the missing ranges that meet this run's texts are tested record by record
        # (a partial dump can list many; one pass of k compares each would follow them)
        lo, hi = (min(starts), max(ends)) if starts else (0, 0)
        for a, b in missing_data:
            if a < hi and b > lo:
                odd_set.update(_where(list(map(and_, map(lt, starts, repeat(b)), map(gt, ends, repeat(a))))))
        texts = list(map(getitem, repeat(ring.data), map(slice, starts, ends)))
        odd = sorted(j for j in odd_set if keep[j] or svs[at[j]] & ~id_mask == committed)
    for j in odd:
        i = at[j]
        got = _judge(ring, tally, s0 + i, svs[i], begins[j], nexts[j], tls[j], (rid0 + i) & id_mask)
        keep[j] = got is not None
        if got is not None:
            texts[j] = got
    if all(keep):
        return tss, texts
    return list(compress(tss, keep)), list(compress(texts, keep))


def _id_range(lay: LocklessLayout, hdr: RingHeader) -> Tuple[int, int]:
    """(first id, number of ids) the walk from tail_id to head_id visits, at most the
    newest 2**READ_COUNT_BITS (fewer when the structs are larger than today's:
    READ_ARRAY_BYTES)."""
    id_mask = (1 << (lay.pointer_size * 8 - 2)) - 1
    count = min(1 << hdr.count_bits, 1 << READ_COUNT_BITS,
                max(1, READ_ARRAY_BYTES // (lay.desc_size + lay.info_size)))
    n = ((hdr.head_id - hdr.tail_id) & id_mask) + 1
    if n > count:
        return (hdr.head_id - count + 1) & id_mask, count
    # masked: the kernel's ids never carry the state bits; a tail_id that does (damage)
    # would give the first descriptor of the walk an id no descriptor can match in one
    # decoder and a masked one in the other (found by the lockless fuzz target)
    return hdr.tail_id & id_mask, n


def _read_window(mem, base: int, total: int, start: int, length: int, whole: bool = True,
                 copy_max: int = _FULL_BUFFER_MAX):
    """Read `length` bytes at ring offset `start` (wrapping at `total`); returns
    (buffer, missing ranges, unread ranges). The buffer is indexed by ring offset:
    a mapped view of the whole ring when the dump is mapped in place (up to
    _FULL_BUFFER_MAX bytes); else with `whole`, the whole ring (unread parts as
    zeros) up to `copy_max` bytes; else, or past that size, a RingWindow of the
    `length` bytes read (the descriptor arrays: the walk only visits the slots
    read; the text ring past 2**READ_TEXT_BITS: a zero-filled copy of a ring
    of 128 MiB would double the memory read)."""
    length = min(length, total)
    if total <= _FULL_BUFFER_MAX:
        view = mem.view(base, total) if hasattr(mem, "view") else None
        if view is not None:
            # Mapped in place: only the pages the walk touches are ever read.
            return view, [], []
    if length <= 0:
        # Nothing live (head_lpos == tail_lpos): nothing to read, the whole ring unread.
        # (Went on to index the pieces read by offset 0, absent when start was not 0:
        # KeyError, found by the elf fuzz target.)
        return RingWindow(total, []), [], [(0, total)]
    first = min(length, total - start)
    pieces = [(start, first)]
    if length > first:
        pieces.append((0, length - first))
    end = (start + length) % total
    unread = [(a, b) for a, b in ([(end, start)] if end <= start else [(end, total), (0, start)]) if a < b]
    window = total > copy_max or not whole
    if length >= total and not window:
        pieces, unread = [(0, total)], []
    elif not window and total - length <= total // 4:
        # Most of the ring is live (it has wrapped): one read of all of it is one copy,
        # where the live part in two pieces would be joined with zeros into another.
        # The rest stays listed as unread, never decoded.
        try:
            return mem.read(base, total), [], unread
        except MemoryReadError:
            pass
    try:
        # Every page present (the usual case): the bytes themselves, one copy, no
        # zero-filled buffer the size of the ring.
        got = {off: mem.read(base + off, n) for off, n in pieces}
    except MemoryReadError:
        got = None
    if got is not None:
        if window:
            return RingWindow(total, [(off, got[off]) for off, _ in pieces]), [], unread
        if not unread:
            return got[0], [], []
        # ring order, unread parts as zeros (never decoded: they are listed as unread)
        parts, pos = [], 0
        for off, n in sorted(pieces):
            parts += [bytes(off - pos), got[off]]
            pos = off + n
        parts.append(bytes(total - pos))
        return b"".join(parts), [], unread
    if window:
        # A ring this large (or a damaged header claiming one) is read only where the
        # walk goes: a buffer of `length` bytes, never one of `total`.
        buf = bytearray(length)
        missing = []
        for off, n, at in ((start, first, 0), (0, length - first, first)):
            if n > 0:
                missing += [(a + off, b + off) for a, b in mem.read_into(base + off, n, buf, at)]
        whole_buf = memoryview(buf)
        return RingWindow(total, [(start, whole_buf[:first]), (0, whole_buf[first:])]), missing, unread
    buf = bytearray(total)
    missing: List[Tuple[int, int]] = []
    for off, n in pieces:
        missing += [(a + off, b + off) for a, b in mem.read_into(base + off, n, buf, off)]
    return buf, missing, unread


def read_lockless(mem, info: VmcoreInfo, stream: bool = False, columns: bool = False):
    """Read and decode the ring of the dumped kernel: (records, problems, partial).

    With stream=True `records` is an iterator and `problems` fills in as it runs;
    columns=True (with stream) iterates (timestamps, texts) batches instead
    (iter_lockless_columns).

    Only the descriptor slots between tail_id and head_id and the live part of the
    text ring (tail_lpos..head_lpos, when exported) are read, so a large, mostly
    empty log_buf costs what it holds, not its size.
    """
    lay = LocklessLayout.from_vmcoreinfo(info, mem.pointer_size)
    # the layout checks of the decoders, before anything is read with these sizes
    _desc_struct(lay)
    _struct_for(_info_fields(lay), lay.info_size)
    prb = mem.read_pointer(info.symbol("prb"))
    ring = mem.read(prb, lay.ring_size)
    hdr = parse_ring_header(lay, ring)
    count, size = 1 << hdr.count_bits, 1 << hdr.size_bits
    first, n = _id_range(lay, hdr)
    slot = first % count
    descs, md, _ = _read_window(mem, hdr.descs, count * lay.desc_size, slot * lay.desc_size, n * lay.desc_size,
                                whole=False)
    infos, mi, _ = _read_window(mem, hdr.infos, count * lay.info_size, slot * lay.info_size, n * lay.info_size,
                                whole=False)
    head_off = info.offset("prb_data_ring.head_lpos")
    tail_off = info.offset("prb_data_ring.tail_lpos")
    unread: List[Tuple[int, int]] = []
    pfmt = "<Q" if lay.pointer_size == 8 else "<I"
    psz = lay.pointer_size
    t = lay.text_ring
    if (head_off is not None and tail_off is not None
            and t + max(head_off, tail_off) + lay.counter + psz <= len(ring)):
        head_lpos = struct.unpack_from(pfmt, ring, t + head_off + lay.counter)[0]
        tail_lpos = struct.unpack_from(pfmt, ring, t + tail_off + lay.counter)[0]
        live = min((head_lpos - tail_lpos) & ((1 << (psz * 8)) - 1), size)
        keep = min(live, 1 << READ_TEXT_BITS)
        data, mdata, unread = _read_window(mem, hdr.data, size, (head_lpos - keep) % size, keep,
                                           copy_max=1 << READ_TEXT_BITS)
    else:
        keep = live = min(size, 1 << READ_TEXT_BITS)
        data, mdata, unread = _read_window(mem, hdr.data, size, 0, keep, copy_max=1 << READ_TEXT_BITS)
    problems: List[str] = []
    span = min(((hdr.head_id - hdr.tail_id) & ((1 << (psz * 8 - 2)) - 1)) + 1, count)
    if n < span or keep < live:
        problems.append(f"the printk ring holds {size} bytes of text; only the newest "
                        f"{1 << READ_TEXT_BITS} bytes and {n} records are read")
    partial = bool(md or mi or mdata or problems)
    decode = iter_lockless_columns if columns and stream else iter_lockless
    it = decode(lay, hdr, descs, infos, data, md, mi, mdata + unread, problems)
    if stream:
        return it, problems, partial
    records = list(it)
    if not partial:
        # Records outside the live text range would be stale; the kernel never has them.
        problems[:] = [p for p in problems if "missing from the dump" not in p]
    return records, problems, partial
