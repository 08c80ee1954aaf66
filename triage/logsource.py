"""The kernel log of ANY input: a vmcore (any format triage reads) or a plain-text log.

API for the analysis layer (kept small on purpose):

    src = open_log(["/var/crash/.../vmcore"])   # or a dmesg / serial / journal text file
    src.lines      -> List[str]   console-style lines, "[    1.234567] text" for dumps,
                                  the file's own lines (newline stripped) for text input
    src.kind       -> "dump" | "text"
    src.records    -> List[PrintkRecord] (dumps only; [] for text)
    src.facts      -> DumpFacts or None
    src.vmcoreinfo -> VmcoreInfo or None
    src.partial    -> True when the dump is truncated/incomplete or log pages were missing
    src.problems   -> List[str], human-readable reasons
    src.kernel_release, .kernel_version, .hostname, .arch, .crash_time (epoch seconds)
                   -> from VMCOREINFO and init_uts_ns (dumps only; None when unknown)

It raises the triage.errors exceptions (InputError, FormatError, NoLogError...).
"""

import os
import stat
from typing import List, Optional, Sequence, Union

from triage.datarecord import DataRecord, Factory
from triage.dumps.base import Damage, DumpFacts, DumpReader
from triage.errors import CorruptDumpError, FormatError, InputError, MemoryReadError, NoLogError, TriageError

_DUMP_MAGICS = (b"\x7fELF", b"KDUMP   ", b"DISKDUMP", b"makedumpfile")
_TEXT_PROBE = 65536


class LogSource(DataRecord):
    """The kernel log of one input plus what is known about where it came from."""

    path: str
    kind: str
    lines: List[str] = Factory(list)
    records: list = Factory(list)
    facts: Optional[DumpFacts] = None
    vmcoreinfo: object = None
    partial: bool = False
    problems: List[str] = Factory(list)
    buffer_kind: Optional[str] = None      # "lockless", "printk_log", "plain" for dumps
    raw_text: Optional[bytes] = None       # plain (<3.5) buffers: the text as stored
    kernel_release: Optional[str] = None
    kernel_version: Optional[str] = None   # "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (...)"
    hostname: Optional[str] = None
    arch: Optional[str] = None
    crash_time: Optional[int] = None


def sniff(path: str) -> bytes:
    """The first 64 KiB of `path`; InputError for missing, unreadable, directory, empty,
    or not a regular file.

    Opened with O_NONBLOCK: a FIFO without a writer would block open(2) forever. A
    FIFO, socket or device is refused, not read: every reader opens the input again
    after this sniff, so a pipe's first 64 KiB would be lost, and /dev/zero never ends."""
    if os.path.isdir(path):
        raise InputError("is a directory, not a dump or log file", path=path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except PermissionError:
        raise InputError("permission denied", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError("not a regular file (a pipe, socket or device): save it to a file first", path=path)
        head = os.pread(fd, _TEXT_PROBE, 0)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
    finally:
        os.close(fd)
    if not head:
        raise InputError("file is empty", path=path)
    return head


def is_dump(head: bytes) -> bool:
    """A dump's first bytes, or a file so short that it ends inside a dump's signature
    (the dump reader then says it is cut short, rather than calling it text)."""
    return head.startswith(_DUMP_MAGICS) or (2 <= len(head) < 16 and any(m.startswith(head) for m in _DUMP_MAGICS))


def looks_like_text(head: bytes) -> bool:
    """Kernel-log text: what is not NUL is mostly printable.

    NUL bytes are left out of the count, however many: serial consoles pick up
    runs of them (line noise, a reset mid-character) and a log file cut by a
    crash ends in zero-filled blocks. A head of nothing but NULs is not text."""
    head = head.replace(b"\0", b"")
    if not head:
        return False
    printable = sum(1 for b in head if 32 <= b < 127 or b in (9, 10, 13) or b >= 0x80)
    return printable >= 0.95 * len(head)


_NUL_SCAN = 64 << 20         # NUL bytes looked past before a file is called "not text"


def text_sample(path: str, head: bytes) -> bytes:
    """What looks_like_text should judge: `head`, or, when `head` is nothing but NULs,
    the first bytes after the leading run of NULs.

    A log can begin with a long run of NULs: `logrotate copytruncate` leaves a sparse
    hole where the writer's offset still points, and a crash leaves zero-filled blocks.
    Holes are skipped with SEEK_DATA; NUL bytes really written are read, at most
    _NUL_SCAN of them, so a zero-filled file costs bounded time."""
    if len(head) < _TEXT_PROBE or head.strip(b"\0"):
        return head
    try:
        with open(path, "rb") as f:
            pos = len(head)
            scanned = 0
            while scanned < _NUL_SCAN:
                try:
                    pos = os.lseek(f.fileno(), pos, getattr(os, "SEEK_DATA", os.SEEK_SET))
                except OSError:          # ENXIO: only a hole is left
                    return head
                chunk = os.pread(f.fileno(), 1 << 20, pos)
                if not chunk:
                    return head
                rest = chunk.lstrip(b"\0")
                if rest:
                    at = pos + len(chunk) - len(rest)
                    return os.pread(f.fileno(), _TEXT_PROBE, at)
                pos += len(chunk)
                scanned += len(chunk)
    except OSError:
        return head
    return head


def open_reader(paths: Union[str, Sequence[str]]) -> DumpReader:
    """Open a dump (several paths for a --split dump) with the reader its content calls for."""
    from triage.dumps import open_dump
    if isinstance(paths, str):
        paths = [paths]
    try:
        return open_dump(list(paths))
    except CorruptDumpError as exc:
        # damaged before anything could be read (a header cut or flipped): the log a
        # kdump tool saved beside the dump is then the user's way on
        _hint_log_beside(exc, paths[0])
        raise


def log_beside_hint(path: str) -> Optional[str]:
    """"the kernel log saved beside it is PATH" when a kdump tool saved one beside the dump
    `path`: what to read instead of, or for the records lost from, a damaged dump."""
    beside = sibling_log(path)
    return f"the kernel log saved beside it is {beside}" if beside else None


def _hint_log_beside(exc: TriageError, path: str) -> None:
    """Point a damage error about `path` at the kernel log saved beside it, if any."""
    if exc.hint is None and exc.path == path:
        exc.hint = log_beside_hint(path)


def _kernel_memory(reader: DumpReader):
    """(VmcoreInfo, KernelMemory) of an open dump. NoLogError without VMCOREINFO."""
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.errors import NoLogError
    from triage.memory.kernel import KernelMemory
    try:
        text = reader.vmcoreinfo()
    except CorruptDumpError as exc:
        # a damaged VMCOREINFO area (a flipped size_vmcoreinfo): no log without it
        _hint_log_beside(exc, reader.paths[0])
        raise
    if not text:
        missing = NoLogError("the dump carries no VMCOREINFO, so the log cannot be found without vmlinux",
                             path=reader.paths[0])
        raise _cut_before_log(reader, missing, "its VMCOREINFO")
    info = parse_vmcoreinfo(text)
    return info, KernelMemory(reader, info, reader.facts().arch)


def sibling_log(path: str) -> Optional[str]:
    """The kernel log a kdump tool saved beside the dump (vmcore-dmesg.txt, dmesg.<stamp>,
    ...), when there is a non-empty one: what to read when the dump itself is cut short."""
    from triage.batch.discover import log_names_beside
    for cand in log_names_beside(path):
        try:
            if os.path.getsize(cand) > 0:
                return cand
        except OSError:
            continue
    return None


def _cut_before_log(reader: DumpReader, exc: TriageError, what: str = "its kernel log") -> TriageError:
    """The error for a log that cannot be read: when the dump is truncated or incomplete,
    say that it was cut before its log, and point at the log saved beside it."""
    try:
        facts = reader.facts()
    except TriageError:
        return exc
    if facts.complete:
        return exc
    # the problem about the missing thing itself, when a reader named it
    named = [p for p in facts.problems if "vmcoreinfo" in p.lower()] if "VMCOREINFO" in what else []
    first = (named or facts.problems or ["the dump is incomplete"])[0]
    why = first[len(reader.paths[0]) + 2:] if first.startswith(reader.paths[0] + ": ") else first
    if isinstance(first, Damage):
        # a damaged field, not a cut: say so (the reason names the field)
        err = CorruptDumpError(f"{what} cannot be read ({why})", path=reader.paths[0])
    else:
        err = CorruptDumpError(f"the dump is cut short before {what} ({why})", path=reader.paths[0])
    err.hint = log_beside_hint(reader.paths[0]) or "no vmcore-dmesg.txt or dmesg.<stamp> lies beside it"
    return err


def utsname_mismatch(reader: DumpReader, nodename: Optional[str], version: Optional[str]) -> List[str]:
    """Header utsname fields that disagree with init_uts_ns read from memory: a flipped
    byte inside the host name or version string of a kdump header (makedumpfile copies
    init_uts_ns into it, so the two are equal in an undamaged dump)."""
    uts = reader.header_utsname()
    if not uts:
        return []
    out = []
    for field, mem_value in (("nodename", nodename), ("version", version)):
        if mem_value is not None and uts.get(field) and uts[field] != mem_value:
            out.append(Damage(f"{reader.paths[0]}: header field utsname.{field} is {uts[field]!r} but "
                              f"init_uts_ns in memory holds {mem_value!r}"))
    return out


def read_dump_log(reader: DumpReader):
    """(PrintkLog, VmcoreInfo, KernelMemory) of an open dump. NoLogError without VMCOREINFO."""
    from triage.printk.reader import read_printk
    info, mem = _kernel_memory(reader)
    try:
        log = read_printk(mem, info)
    except MemoryReadError as exc:
        raise _cut_before_log(reader, exc) from None
    if nothing_read(log):
        raise _cut_before_log(reader, no_record_error(reader, log))
    return log, info, mem


def nothing_read(log) -> bool:
    """True when the ring was found but not one record of it could be read (its pages
    lie past the cut of a truncated or incomplete dump)."""
    return log.partial and not log.records and not log.raw_text


def no_record_error(reader: DumpReader, log) -> TriageError:
    why = "; ".join(log.problems) or "every record lies in pages missing from the dump"
    return NoLogError(f"no printk record could be read ({why})", path=reader.paths[0])


def stream_dump_log(reader: DumpReader, columns: bool = False):
    """(PrintkLog whose problems fill in while iterating, record iterator, VmcoreInfo,
    KernelMemory).

    columns=True iterates (timestamps, texts) batches instead of PrintkRecords."""
    from triage.printk.reader import stream_printk
    info, mem = _kernel_memory(reader)
    try:
        log, it = stream_printk(mem, info, columns=columns)
    except MemoryReadError as exc:
        raise _cut_before_log(reader, exc) from None
    return log, it, info, mem


def open_log(paths: Union[str, Sequence[str]]) -> LogSource:
    """The kernel log of a dump or a text log (see the module docstring)."""
    if isinstance(paths, str):
        paths = [paths]
    path = paths[0]
    head = sniff(path)
    if not is_dump(head):
        if not looks_like_text(text_sample(path, head)):
            raise FormatError("neither a vmcore nor a text kernel log", path=path)
        with open(path, "rb") as f:
            data = f.read()
        text = data.decode("utf-8", "replace")
        return LogSource(path=path, kind="text", lines=text.splitlines())
    from triage.printk.format import record_lines
    from triage.memory.utsname import read_utsname
    with open_reader(paths) as reader:
        log, info, mem = read_dump_log(reader)
        host, version, _machine = read_utsname(mem, info)
        facts = reader.facts()   # after reading: it may have uncovered more problems
        uts_problems = utsname_mismatch(reader, host, version)
    lines: List[str] = []
    if log.kind == "plain" and log.raw_text is not None:
        lines = log.raw_text.decode("utf-8", "replace").splitlines()
    else:
        for rec in log.records:
            lines.extend(record_lines(rec))
    problems = list(facts.problems) + uts_problems + list(log.problems)
    return LogSource(path=path, kind="dump", lines=lines, records=log.records, facts=facts,
                     vmcoreinfo=info, partial=(not facts.complete) or log.partial or bool(uts_problems),
                     problems=problems, buffer_kind=log.kind, raw_text=log.raw_text,
                     kernel_release=info.osrelease, kernel_version=version, hostname=host,
                     arch=facts.arch, crash_time=info.crash_time)
