"""Identify a dump file's format and compression from its header bytes."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Tuple

# disk_dump_header.status bits (makedumpfile diskdump_mod.h).
_COMPRESS_BITS = [(0x1, "zlib"), (0x2, "lzo"), (0x4, "snappy"), (0x20, "zstd")]
_STATUS_OFFSET = 424  # after signature[8], header_version, new_utsname[390], timeval


def _kdump_compression(hdr: bytes) -> str:
    (status,) = struct.unpack_from("<I", hdr, _STATUS_OFFSET)
    for bit, name in _COMPRESS_BITS:
        if status & bit:
            return name
    return "none"


def identify(path: Path) -> Tuple[str, str]:
    """Return (format, compression) with format one of elf, kdump, flattened-kdump, unknown."""
    with open(path, "rb") as f:
        head = f.read(8192)
    if head[:4] == b"\x7fELF":
        return "elf", "none"
    if head[:8] == b"KDUMP   ":
        return "kdump", _kdump_compression(head)
    if head[:12] == b"makedumpfile":
        # Flattened: 4 KiB header, then (offset, size, data) records; the first
        # record carries the disk_dump_header.
        sig = head[4096 + 16:4096 + 16 + 8]
        if sig == b"KDUMP   ":
            return "flattened-kdump", _kdump_compression(head[4096 + 16:])
        return "flattened-elf", "none"
    return "unknown", "none"
