"""The plain character ring `log_buf` of kernels before 3.5.

The buffer holds console text with `<N>` level prefixes; log_end counts every
character ever written, so once it exceeds log_buf_len the oldest text starts at
log_end modulo the (power of two) buffer length.
"""

import re
from typing import List, Tuple

from triage.dumps.vmcoreinfo import VmcoreInfo
from triage.errors import CorruptDumpError
from triage.printk.layout import require
from triage.printk.record import PrintkRecord

_PREFIX = re.compile(rb"^<(\d)>(?:\[\s*(\d+)\.(\d+)\] ?)?")
# log_buf_len is a power of two of at most 2 GiB (LOG_BUF_LEN_MAX); the newest 32 MiB
# (the largest CONFIG_LOG_BUF_SHIFT, 25) are read.
MAX_LOG_BUF = 1 << 31
READ_LOG_BUF = 1 << 25


def decode_plain(buf: bytes, log_end: int) -> bytes:
    """The buffer's text in write order."""
    length = len(buf)
    if log_end < length:
        return bytes(buf[:log_end])
    idx = log_end & (length - 1)
    return bytes(buf[idx:]) + bytes(buf[:idx])


def split_plain(text: bytes) -> List[PrintkRecord]:
    """One record per line, level and timestamp taken from the `<N>[ s.us]` prefix."""
    out = []
    for line in text.split(b"\n"):
        if not line:
            continue
        level = ts = None
        m = _PREFIX.match(line)
        if m:
            level = int(m.group(1))
            if m.group(2) is not None:
                ts = int(m.group(2)) * 1_000_000_000 + int(m.group(3).ljust(9, b"0")[:9])
        out.append(PrintkRecord(seq=None, ts_nsec=ts or 0, text=line, level=level))
    return out


def read_plain(mem, info: VmcoreInfo) -> Tuple[bytes, List[str], bool]:
    """Raw text of the old char ring, as makedumpfile writes it."""
    sym = require(info, "plain log_buf", symbols=("log_buf", "log_buf_len", "log_end"))
    log_buf = mem.read_pointer(sym["log_buf"])
    length = mem.read_u32(sym["log_buf_len"])
    if length == 0 or length > MAX_LOG_BUF or length & (length - 1):
        raise CorruptDumpError(f"log_buf_len is {length}: the kernel's log buffer is a power of two "
                               "of at most 2 GiB")
    log_end = mem.read_u32(sym["log_end"])
    problems: List[str] = []
    if length > READ_LOG_BUF:
        # Only the newest READ_LOG_BUF bytes: ring offsets [log_end - READ, log_end).
        keep = min(READ_LOG_BUF, log_end)
        start = (log_end - keep) & (length - 1)
        buf = bytearray(keep)
        first = min(keep, length - start)
        missing = mem.read_into(log_buf + start, first, buf, 0)
        if keep > first:
            missing += [(a + first, b + first) for a, b in mem.read_into(log_buf, keep - first, buf, first)]
        problems.append(f"log_buf_len is {length}; only the newest {keep} bytes are read")
        text = bytes(buf)
    else:
        buf, missing = mem.read_tolerant(log_buf, length)
        text = decode_plain(buf, log_end)
    if missing:
        problems.append(f"{sum(b - a for a, b in missing)} bytes of log_buf are missing from the dump")
    return text, problems, bool(missing) or length > READ_LOG_BUF
