"""Store records in a `struct printk_log` ring (Linux 3.5-5.9) the way log_store() does.

Header: u64 ts_nsec; u16 len; u16 text_len; u16 dict_len; u8 facility;
u8 flags:5, level:3 (16 bytes). Records are padded to LOG_ALIGN (8 on 3.10,
where the struct is not packed; 4 on later x86_64 kernels). A record that does not
fit before the end, together with one more header, is preceded by a zeroed header
(len == 0) that tells readers to wrap to offset 0; the oldest records are dropped
to make room.
"""

import struct
from dataclasses import dataclass
from typing import List, Sequence, Tuple

HDR = struct.Struct("<QHHHBB")
HDR_SIZE = 16


@dataclass
class Ring:
    buf: bytearray
    first_idx: int
    next_idx: int
    first_seq: int
    next_seq: int
    kept: List[Tuple[int, int, int, str, str]]   # records still in the ring, oldest first


def build_ring(records: Sequence[Tuple[int, int, int, str, str]], buf_len: int, align: int) -> Ring:
    """Append records one by one; returns the buffer and the indices a dump holds."""
    buf = bytearray(buf_len)
    first_idx = next_idx = 0
    first_seq = next_seq = 0
    idx_of = {}                         # seq -> idx, to drop records as the kernel does
    stored: List[Tuple[int, int, int, str, str]] = []

    def rec_len(idx: int) -> int:
        return struct.unpack_from("<H", buf, idx + 8)[0]

    def log_next(idx: int) -> int:
        n = rec_len(idx)
        if n == 0:
            return rec_len(0)
        return idx + n

    def has_space(size: int, empty: bool) -> bool:
        if next_idx > first_idx or empty:
            free = max(buf_len - next_idx, first_idx)
        else:
            free = first_idx - next_idx
        return free >= size + HDR_SIZE

    for rec in records:
        ts, level, fac, text, dict_ = rec
        t = text.encode()
        d = dict_.encode()
        size = HDR_SIZE + len(t) + len(d)
        size += (-size) % align
        if size + HDR_SIZE > buf_len:
            raise ValueError("record larger than the buffer")
        while first_seq < next_seq and not has_space(size, False):
            first_idx = log_next(first_idx)
            first_seq += 1
        if first_seq == next_seq and not has_space(size, True):
            first_idx = next_idx = 0
        if next_idx + size + HDR_SIZE > buf_len:
            buf[next_idx:next_idx + HDR_SIZE] = bytes(HDR_SIZE)
            next_idx = 0
        HDR.pack_into(buf, next_idx, ts, size, len(t), len(d), fac, (level & 7) << 5 | 0x2)   # LOG_NEWLINE
        body = next_idx + HDR_SIZE
        buf[body:body + len(t)] = t
        buf[body + len(t):body + len(t) + len(d)] = d
        pad_from = body + len(t) + len(d)
        buf[pad_from:next_idx + size] = bytes(next_idx + size - pad_from)
        idx_of[next_seq] = next_idx
        stored.append(rec)
        next_idx += size
        next_seq += 1
    kept = stored[first_seq:]
    return Ring(buf, first_idx, next_idx, first_seq, next_seq, kept)


def expected_dmesg(records: Sequence[Tuple[int, int, int, str, str]]) -> str:
    """The text makedumpfile --dump-dmesg prints for these records."""
    out = []
    for ts, _lvl, _fac, text, _d in records:
        prefix = "[%5d.%06d] " % (ts // 1_000_000_000, ts % 1_000_000_000 // 1000)
        body = []
        for ch in text:
            if ch == "\n":
                body.append("\n" + " " * len(prefix))
            elif ch.isprintable() or ch.isspace():
                body.append(ch)
            else:
                body.append("\\x%02x" % ord(ch))
        out.append(prefix + "".join(body) + "\n")
    return "".join(out)
