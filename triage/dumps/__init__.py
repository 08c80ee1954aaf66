"""Dump formats: detect a file's format from its content and open the right reader.

    open_dump(paths) -> DumpReader     ELF, kdump-compressed (KDUMP/DISKDUMP, split
                                       sets), makedumpfile flattened (ELF or KDUMP inside)
    detect(path) -> format name | None  None means "not a dump" (maybe a text log)

Errors: a directory, empty, missing or unreadable file is an InputError; a file
in no dump format is a FormatError; a damaged dump is a CorruptDumpError.
"""

import struct
from typing import List, Optional, Sequence, Union

from triage.dumps.base import DumpReader
from triage.errors import CorruptDumpError, FormatError, InputError

ELF_MAGIC = b"\x7fELF"
KDUMP_SIGNATURES = (b"KDUMP   ", b"DISKDUMP")
_SIGNATURES = (ELF_MAGIC, *KDUMP_SIGNATURES, b"makedumpfile")


def _kind_of(head: bytes) -> Optional[str]:
    if head[:4] == ELF_MAGIC:
        return "elf"
    if head[:8] in KDUMP_SIGNATURES:
        return "kdump"
    if head[:16].rstrip(b"\0") == b"makedumpfile":
        return "flattened"
    return None


def _open_store(path: str):
    from triage.dumps.store import FileStore

    raw = FileStore(path)
    try:
        head = raw.read(0, 16)
        kind = _kind_of(head)
        if kind is None and 2 <= len(head) < 16 and any(m.startswith(head) for m in _SIGNATURES):
            raise CorruptDumpError(f"file ends inside the dump signature: a dump cut short after "
                                   f"{len(head)} bytes", path=path)
        if kind is None:
            raise FormatError("not a vmcore (no ELF, KDUMP/DISKDUMP or makedumpfile flattened signature)",
                              path=path)
        if kind != "flattened":
            return kind, raw
        from triage.dumps.flattened import FlatStore     # only flattened streams need it
        flat = FlatStore(raw)
        inner = _kind_of(flat.read(0, 16))
        if inner is None or inner == "flattened":
            raise CorruptDumpError("flattened stream holds neither an ELF nor a KDUMP file",
                                   path=path, offset=4096)
        return "flattened-" + inner, flat
    except BaseException:
        raw.close()
        raise


def _flattened_inner(store) -> str:
    """Format inside a flattened stream, from the record that writes offset 0 (one of
    the first few: makedumpfile -E -F writes the program headers first)."""
    pos = 4096
    for _ in range(64):
        rec = store.read(pos, 16)
        if len(rec) < 16:
            break
        off, size = struct.unpack(">qq", rec)
        if off < 0 or size < 0:
            break
        if off == 0 and size >= 8:
            inner = _kind_of(store.read(pos + 16, min(size, 16)))
            if inner in ("elf", "kdump"):
                return "flattened-" + inner
            break
        pos += 16 + size
    return "flattened"


def detect(path: str) -> Optional[str]:
    """'elf', 'kdump', 'flattened-elf', 'flattened-kdump' or 'flattened', or None for a
    file that is no dump. InputError when the file cannot be read at all."""
    from triage.dumps.store import FileStore

    store = FileStore(path)
    try:
        kind = _kind_of(store.read(0, 16))
        return _flattened_inner(store) if kind == "flattened" else kind
    finally:
        store.close()


def open_dump(paths: Union[str, Sequence[str]]) -> DumpReader:
    """Open one dump (or the files of one --split dump) with the reader its content needs."""
    if isinstance(paths, str):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise InputError("no dump file given")
    opened: List[tuple] = []
    try:
        for p in paths:
            opened.append(_open_store(p))
        kinds = {k for k, _ in opened}
        if len(opened) > 1 and kinds - {"kdump", "flattened-kdump"}:
            raise FormatError("several files are only accepted as the parts of one --split "
                              "kdump-compressed dump", path=paths[0])
        kind, store = opened[0]
        if kind.endswith("elf"):
            from triage.dumps.elf import ElfReader
            if kind == "elf" and getattr(store, "mapped", True):
                store.close()
                return ElfReader(store.path)
            # ElfReader parses the FlatStore, or a FileStore read by pread (not mapped: the
            # address-space limit), in place; it takes over closing it.
            return ElfReader(store.path, data=store, format_name=kind)
        from triage.dumps.kdump import KdumpReader
        fmt = "flattened-kdump" if "flattened-kdump" in kinds else "kdump"
        return KdumpReader([s for _, s in opened], format_name=fmt)
    except BaseException:
        for _, s in opened:
            s.close()
        raise
