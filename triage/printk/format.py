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

    A batch is formatted by one bytes %-format of its whole block (a "%s%06d] %s\n"
    per record; the "[%5d." of each second, which many records share, formatted once).
    One translate() over the joined texts then tells whether any holds a byte that
    needs escaping or an embedded newline, and only those records are formatted
    again one by one."""
    special = _SPECIAL.search
    for tss, texts in batches:
        k = len(texts)
        if not k:
            continue
        micros = list(map(floordiv, tss, repeat(1000)))
        secs = list(map(floordiv, micros, repeat(1_000_000)))
        second = {s: b"[%5d." % s for s in set(secs)}
        args = [None] * (3 * k)
        args[0::3] = map(second.__getitem__, secs)
        args[1::3] = map(mod, micros, repeat(1_000_000))
        args[2::3] = texts
        if not b"".join(texts).translate(None, _PLAIN):
            yield (b"%s%06d] %s\n" * k) % tuple(args)
            continue
        out = [b"%s%06d] %s\n" % tuple(args[i:i + 3]) if special(text) is None
               else format_record(PrintkRecord(None, tss[i // 3], text))
               for i, text in zip(range(0, 3 * k, 3), texts)]
        yield b"".join(out)
