"""Print records the way `makedumpfile --dump-dmesg` does.

Each record is `[%5llu.%06llu] ` (seconds, microseconds of ts_nsec), an optional
caller column (`[%8s] ` in makedumpfile 1.7.4+), then the text: an embedded
newline starts a new output line indented by the prefix width; bytes that are
neither printable ASCII nor whitespace become `\\xNN` (makedumpfile writes
`\\xffffffNN` for bytes >= 0x80 because its char is signed; we write the byte).
"""

import re
from itertools import repeat
from operator import floordiv, mod
from typing import Iterable, Iterator, Sequence, Tuple

from triage.printk.record import PrintkRecord

_SPECIAL = re.compile(rb"[^\x20-\x7e\t\x0b\x0c\r]")
_PLAIN = bytes(range(0x20, 0x7f)) + b"\t\x0b\x0c\r"    # the bytes _SPECIAL does not match


def _escape(m: "re.Match[bytes]") -> bytes:
    return b"\\x%02x" % m.group(0)[0]


def prefix(rec: PrintkRecord, caller: bool = False) -> bytes:
    """The timestamp (and caller) prefix of one record."""
    secs, rem = divmod(rec.ts_nsec, 1_000_000_000)
    p = b"[%5d.%06d] " % (secs, rem // 1000)
    if caller and rec.caller_id is not None:
        p += b"[%8s] " % rec.caller.encode()
    return p


def format_record(rec: PrintkRecord, caller: bool = False) -> bytes:
    """One record as makedumpfile prints it, with its trailing newline."""
    p = prefix(rec, caller)
    text = rec.text
    if _SPECIAL.search(text) is None:
        return p + text + b"\n"
    indent = b"\n" + b" " * len(p)
    lines = text.split(b"\n")
    return p + indent.join(_SPECIAL.sub(_escape, line) for line in lines) + b"\n"


def format_records(records: Iterable[PrintkRecord], caller: bool = False,
                   batch: int = 2048) -> Iterator[bytes]:
    """Formatted output in chunks of `batch` records (the hot path of `triage dmesg`)."""
    if caller:
        out = []
        for rec in records:
            out.append(format_record(rec, True))
            if len(out) >= batch:
                yield b"".join(out)
                out = []
        yield b"".join(out)
        return
    special = _SPECIAL.search
    out = []
    append = out.append
    for rec in records:
        ns = rec.ts_nsec
        text = rec.text
        if special(text) is None:
            append(b"[%5d.%06d] %s\n" % (ns // 1_000_000_000, ns % 1_000_000_000 // 1000, text))
        else:
            append(format_record(rec))
        if len(out) >= batch:
            yield b"".join(out)
            out = []
            append = out.append
    yield b"".join(out)


def record_lines(rec: PrintkRecord) -> Iterator[str]:
    """Console-style text lines of one record (`[ s.us] text`, one per embedded line), for log consumers."""
    p = prefix(rec).decode()
    for line in rec.text.split(b"\n"):
        yield p + _SPECIAL.sub(_escape, line).decode("ascii")


def format_columns(batches: Iterable[Tuple[Sequence[int], Sequence[bytes]]]) -> Iterator[bytes]:
    """makedumpfile-style output of (timestamps, texts) batches, one block per batch.

    The prefixes are formatted by a C-level map; one translate() over the block then
    tells whether any text holds a byte that needs escaping or an embedded newline
    (the block then holds more newlines than records), and only those records are
    formatted again one by one."""
    special = _SPECIAL.search
    for tss, texts in batches:
        k = len(texts)
        # prefix, text, newline of each record, side by side in one list for one join
        parts = [b"\n"] * (3 * k)
        parts[0::3] = map(mod, repeat(b"[%5d.%06d] "),
                          map(divmod, map(floordiv, tss, repeat(1000)), repeat(1_000_000)))
        parts[1::3] = texts
        block = b"".join(parts)
        if block.translate(None, _PLAIN) != b"\n" * k:
            for i, text in enumerate(texts):
                if special(text) is not None:
                    parts[3 * i:3 * i + 3] = format_record(PrintkRecord(None, tss[i], text)), b"", b""
            block = b"".join(parts)
        yield block
