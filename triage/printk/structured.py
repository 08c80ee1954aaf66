"""The `struct printk_log` record buffer of Linux 3.5-5.9 (named `struct log` before 3.11 and on RHEL 7).

Records sit back to back in log_buf: a header of SIZE(printk_log) bytes, then
text_len bytes of text and dict_len bytes of NUL-separated KEY=value pairs; `len`
is the stride to the next record, and a header with len == 0 means "continue at
offset 0". The walk runs from log_first_idx to log_next_idx; a second wrap or an
index that leaves the buffer is corruption, and what was read before it is kept.
"""

import struct
from typing import List, Optional, Sequence, Tuple

from triage.datarecord import DataRecord
from triage.dumps.vmcoreinfo import VmcoreInfo
from triage.errors import CorruptDumpError, NoLogError
from triage.printk.layout import require
from triage.printk.record import PrintkRecord

# log_buf_len is at most 2 GiB (the kernel's LOG_BUF_LEN_MAX); more is a damaged value.
MAX_LOG_BUF = 1 << 31
# What triage reads whole: 32 MiB, the largest buffer a kernel config builds
# (CONFIG_LOG_BUF_SHIFT max 25). Only a log_buf_len= boot parameter goes past it, and a
# struct printk_log walk cannot start mid-buffer, so such a log is left to
# makedumpfile --dump-dmesg (see docs/dump-formats.md, "Limits").
READ_LOG_BUF = 1 << 25


class PrintkLogLayout(DataRecord):
    """SIZE/OFFSET values of struct printk_log (or struct log)."""

    size: int
    ts_nsec: int
    len: int
    text_len: int
    dict_len: Optional[int] = None
    caller_id: Optional[int] = None

    @classmethod
    def from_vmcoreinfo(cls, info: VmcoreInfo) -> "PrintkLogLayout":
        name = "printk_log" if info.size("printk_log") is not None else "log"
        r = require(info, f"struct {name} log buffer", sizes=(name,),
                    offsets=(f"{name}.ts_nsec", f"{name}.len", f"{name}.text_len"))
        return cls(size=r[name], ts_nsec=r[f"{name}.ts_nsec"], len=r[f"{name}.len"],
                   text_len=r[f"{name}.text_len"], dict_len=info.offset(f"{name}.dict_len"),
                   caller_id=info.offset(f"{name}.caller_id"))


def _parse_dict(raw: bytes) -> dict:
    out = {}
    for item in raw.split(b"\0"):
        key, eq, value = item.partition(b"=")
        if eq and key:
            out[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return out


def decode_printk_log(lay: PrintkLogLayout, buf: bytes, first_idx: int, next_idx: int,
                      missing: Sequence[Tuple[int, int]] = ()) -> Tuple[List[PrintkRecord], List[str]]:
    """Walk the records from first_idx to next_idx; returns (records, problems)."""
    problems: List[str] = []
    records: List[PrintkRecord] = []
    blen = len(buf)
    if lay.size < 12 or lay.size > 4096:
        raise CorruptDumpError(f"SIZE(printk_log) of {lay.size} is impossible")
    for off, code in ((lay.ts_nsec, "<Q"), (lay.len, "<H"), (lay.text_len, "<H"),
                      (lay.dict_len, "<H"), (lay.caller_id, "<I")):
        if off is not None and off + struct.calcsize(code) > lay.size:
            raise CorruptDumpError("printk_log offsets exceed its size")
    if first_idx >= blen or next_idx >= blen:
        raise CorruptDumpError(f"log_first_idx {first_idx} / log_next_idx {next_idx} "
                               f"outside log_buf of {blen} bytes")
    idx = first_idx
    wrapped = False
    steps = 0
    limit = blen // lay.size + 2
    lost = 0
    while idx != next_idx:
        steps += 1
        if steps > limit:
            problems.append(f"cycle in the printk_log chain at index {idx}; log buffer corrupt")
            break
        if idx + lay.size > blen:
            problems.append(f"printk_log record at index {idx} runs past the end of log_buf")
            break
        (reclen,) = struct.unpack_from("<H", buf, idx + lay.len)
        if reclen == 0:
            if wrapped or idx == 0:
                problems.append(f"printk_log wrapped twice (index {idx}); log buffer corrupt")
                break
            wrapped = True
            idx = 0
            continue
        (text_len,) = struct.unpack_from("<H", buf, idx + lay.text_len)
        dict_len = struct.unpack_from("<H", buf, idx + lay.dict_len)[0] if lay.dict_len is not None else 0
        end = idx + lay.size + text_len + dict_len
        if reclen < lay.size or end > idx + reclen or idx + reclen > blen:
            problems.append(f"printk_log record at index {idx} has impossible lengths "
                            f"(len={reclen}, text_len={text_len}, dict_len={dict_len})")
            break
        if missing and any(a < idx + reclen and idx < b for a, b in missing):
            lost += 1
        else:
            (ts,) = struct.unpack_from("<Q", buf, idx + lay.ts_nsec)
            caller = struct.unpack_from("<I", buf, idx + lay.caller_id)[0] if lay.caller_id is not None else None
            t0 = idx + lay.size
            rec = PrintkRecord(seq=None, ts_nsec=ts, text=bytes(buf[t0:t0 + text_len]), caller_id=caller)
            if dict_len:
                rec.dict = _parse_dict(bytes(buf[t0 + text_len:end]))
            records.append(rec)
        idx += reclen
        if idx == blen:
            idx = 0 if next_idx != blen else idx
    if lost:
        problems.append(f"{lost} printk records lie in pages missing from the dump")
    return records, problems


def read_printk_log(mem, info: VmcoreInfo) -> Tuple[List[PrintkRecord], List[str], bool]:
    """Read log_buf through KernelMemory and decode it: (records, problems, partial)."""
    lay = PrintkLogLayout.from_vmcoreinfo(info)
    sym = require(info, "struct printk_log log buffer",
                  symbols=("log_buf", "log_buf_len", "log_first_idx", "log_next_idx"))
    log_buf = mem.read_pointer(sym["log_buf"])
    length = mem.read_u32(sym["log_buf_len"])
    if length == 0 or length > MAX_LOG_BUF:
        raise CorruptDumpError(f"log_buf_len is {length}: the kernel's log buffer is 1 byte to 2 GiB")
    if length > READ_LOG_BUF:
        raise NoLogError(f"log_buf_len is {length} (set by a log_buf_len= boot parameter): triage reads "
                         f"struct printk_log buffers of up to {READ_LOG_BUF} bytes; use "
                         "makedumpfile --dump-dmesg")
    first = mem.read_u32(sym["log_first_idx"])
    nxt = mem.read_u32(sym["log_next_idx"])
    buf, missing = mem.read_tolerant(log_buf, length)
    records, problems = decode_printk_log(lay, buf, first, nxt, missing)
    # a walk stopped by damage printed only part of the log: say so (exit 6)
    return records, problems, bool(missing) or bool(problems)
