"""The plain character ring `log_buf` of kernels before 3.5.

The buffer holds console text with `<N>` level prefixes; log_end counts every
character ever written, so once it exceeds log_buf_len the oldest text starts at
log_end modulo the (power of two) buffer length.
"""

import re
from typing import List, Tuple

from triage.dumps.vmcoreinfo import VmcoreInfo
from triage.errors import NoLogError
from triage.printk.layout import require
from triage.printk.record import PrintkRecord

_PREFIX = re.compile(rb"^<(\d)>(?:\[\s*(\d+)\.(\d+)\] ?)?")
MAX_LOG_BUF = 1 << 31


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
        raise NoLogError(f"log_buf_len is {length}; no usable log buffer")
    log_end = mem.read_u32(sym["log_end"])
    buf, missing = mem.read_tolerant(log_buf, length)
    problems = [f"{sum(b - a for a, b in missing)} bytes of log_buf are missing from the dump"] if missing else []
    return decode_plain(buf, log_end), problems, bool(missing)
