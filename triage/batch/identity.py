"""Which crash an item is, so the same crash found at several paths is analysed once.

A dump's identity is what its kernel wrote when it crashed: BUILD-ID,
CRASHTIME and KERNELOFFSET from VMCOREINFO (read from the headers and the
note, never the dump's body), plus the file's format and size so that a
truncated or re-compressed copy (which may analyse differently) is not taken
for the same input. A log alone is identified by a hash of its content (logs
are bounded by LOG_LIMIT). The log saved beside a dump is part of the
identity too, by its fingerprint: it feeds the cross-check.

Identity is an optimisation: whenever it cannot be had cheaply (archive
members, flattened streams, a dump without CRASHTIME), it is None and the
item is keyed by its path alone.
"""

import hashlib
from typing import Callable, Optional

from triage.batch.discover import DumpItem, Location

# format families whose VMCOREINFO sits in headers we can read without scanning the file
_DIRECT = ("elf", "kdump")
_LOG_LIMIT = 256 << 20


def _dump_identity(loc: Location) -> Optional[str]:
    from triage.dumps import detect, open_dump
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    try:
        kind = detect(loc.path)
        if kind not in _DIRECT:
            return None
        with open_dump(loc.path) as reader:
            text = reader.vmcoreinfo()
    except Exception:  # noqa: BLE001 - identity is optional; the worker reports the real error
        return None
    if not text:
        return None
    info = parse_vmcoreinfo(text[:1 << 20])
    if not info.build_id or info.crash_time is None:
        return None     # without CRASHTIME two crashes of one boot look alike
    return f"dump|{info.build_id}|{info.crash_time}|{info.kernel_offset}|{kind}|{loc.size}"


def _log_digest(loc: Location) -> Optional[str]:
    h = hashlib.blake2b(digest_size=16)
    if loc.data is not None:
        h.update(loc.data)
        return h.hexdigest()
    if loc.member is not None or loc.size > _LOG_LIMIT:
        return None
    try:
        with open(loc.path, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def crash_identity(item: DumpItem, fingerprint: Callable[[Location], str]) -> Optional[str]:
    """A string naming the crash `item` holds, or None when it cannot be had cheaply.

    `fingerprint(loc)` gives a cached content fingerprint of a file (the store's)."""
    if item.note or item.parts:
        return None
    if item.vmcore is not None:
        if item.vmcore.member is not None:
            return None
        ident = _dump_identity(item.vmcore)
        if ident is None:
            return None
        if item.log is not None:
            try:
                ident += f"|log:{item.log.size}:{fingerprint(item.log)}"
            except OSError:
                return None
        return ident
    if item.log is not None:
        digest = _log_digest(item.log)
        return f"log|{item.log.size}|{digest}" if digest else None
    return None
