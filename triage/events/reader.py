"""Read kernel log text from a file without trusting it: bounded line length,
any bytes (invalid UTF-8 decoded with replacement characters)."""

import io
import os
import stat
from typing import BinaryIO, Iterator

from triage.events.prefix import MAX_LINE

_CHUNK = 1 << 16
# Bytes kept of one line; the rest is skipped (the parser counts the cut).
_KEEP = MAX_LINE * 4


def iter_lines(fp: BinaryIO) -> Iterator[str]:
    """Yield decoded lines from a binary stream; memory stays O(_KEEP + _CHUNK)."""
    buf = bytearray()
    overflow = False
    holes = _hole_skipper(fp)
    while True:
        if holes is not None:
            holes()
        chunk = fp.read(_CHUNK)
        if not chunk:
            break
        if b"\0" in chunk:
            # NULs carry no text: serial consoles emit runs of them at a reset, and a
            # file cut by a crash ends in zero-filled blocks
            chunk = chunk.replace(b"\0", b"")
        # one C-level split per chunk, not a find and two copies a line in Python
        pieces = chunk.split(b"\n")
        tail = pieces.pop()     # the bytes after the chunk's last newline
        for piece in pieces:
            if buf or overflow:
                # the end of a line begun in an earlier chunk
                room = _KEEP - len(buf)
                if len(piece) > room:
                    piece = piece[:max(room, 0)]
                    overflow = True
                buf += piece
                yield _decode(buf, overflow)
                buf = bytearray()
                overflow = False
            elif len(piece) > _KEEP:
                yield _decode(piece[:_KEEP], True)
            else:
                yield piece.decode("utf-8", errors="replace")
        room = _KEEP - len(buf)
        if room > 0:
            buf += tail[:room]
        if len(tail) > max(room, 0):
            overflow = True
    if buf or overflow:
        yield _decode(buf, overflow)


def _hole_skipper(fp: BinaryIO):
    """For a regular file: a function that moves `fp` past a hole it stands in, else None.

    A hole reads as NULs, which carry no text: `logrotate copytruncate` leaves a log
    that begins with gigabytes of hole, and time must follow the bytes really present."""
    seek_data = getattr(os, "SEEK_DATA", None)
    try:
        fd = fp.fileno()
        if seek_data is None or not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None

    def skip() -> None:
        pos = fp.tell()
        try:
            data = os.lseek(fd, pos, seek_data)
        except OSError:            # ENXIO: nothing but a hole up to the end
            data = os.fstat(fd).st_size
        if data > pos:
            fp.seek(data)
        else:
            fp.seek(pos)            # lseek moved the descriptor under the buffer
    return skip


def _decode(buf: bytes, overflow: bool) -> str:
    s = buf.decode("utf-8", errors="replace")
    if overflow:
        # pad past the sanitiser's limit so the line is counted as truncated
        s = s + " " * (MAX_LINE * 2 + 1 - len(s)) if len(s) <= MAX_LINE * 2 else s
    return s


def read_log_file(path: str, gpu=None, reps=None):
    """Parse a kernel log file (read-only, streamed) into a KernelLog (`gpu` and `reps`: the
    GPU data and reporters' frames of the run's signature set, RuleSet.gpu_data and
    RuleSet.reporters; the built-in data when None)."""
    from triage.events.parser import parse_log
    with open(path, "rb") as fp:
        return parse_log(iter_lines(fp), gpu, reps)
