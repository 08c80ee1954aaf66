"""Write kdump-compressed files (makedumpfile's format) from a set of pages.

Used for formats the installed makedumpfile cannot write (snappy, zstd), for the
DISKDUMP signature, other header versions, split sets and damaged variants. Zero
pages share one stored page, as makedumpfile does.
"""

import re
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterable, Optional, Tuple

PAGE = 4096


def _compressor(name: str) -> Callable[[bytes], bytes]:
    if name == "zlib":
        return lambda b: zlib.compress(b, 1)
    if name == "lzo":
        import lzallright
        c = lzallright.LZOCompressor()
        return lambda b: bytes(c.compress(b))
    import cramjam
    if name == "snappy":
        return lambda b: bytes(cramjam.snappy.compress_raw(b))
    if name == "zstd":
        return lambda b: bytes(cramjam.zstd.compress(b, level=1))
    if name == "none":
        return lambda b: b
    raise ValueError(name)


FLAGS = {"zlib": 0x1, "lzo": 0x2, "snappy": 0x4, "zstd": 0x20, "none": 0}


@dataclass
class KdumpSpec:
    codec: str = "zlib"
    signature: bytes = b"KDUMP   "
    header_version: int = 6
    utsname: Tuple[str, ...] = ("Linux", "crashhost", "", "", "x86_64", "")
    phys_base: int = 0
    dump_level: int = 31
    status: int = 0
    split: Optional[Tuple[int, int]] = None     # (start_pfn, end_pfn)
    nr_cpus: int = 1
    block_size: int = PAGE      # pfns count blocks of this size (the guest's page size)


def write_kdump(out: BinaryIO, max_mapnr: int, ram: Iterable[int], pages: Callable[[int], Optional[bytes]],
                vmcoreinfo: bytes, notes: bytes, spec: KdumpSpec) -> None:
    """pages(pfn) gives a dumpable page's bytes, or None when the page is excluded."""
    bs = spec.block_size
    comp = _compressor(spec.codec)
    kdump = spec.signature == b"KDUMP   "
    nbytes = (max_mapnr + 7) // 8
    bm_bytes = (nbytes + bs - 1) // bs * bs
    bitmap_blocks = (2 if kdump else 1) * bm_bytes // bs
    bitmap1 = bytearray(bm_bytes)
    bitmap2 = bytearray(bm_bytes)
    start, end = spec.split or (0, max_mapnr)
    dumpable = []
    for pfn in ram:
        bitmap1[pfn >> 3] |= 1 << (pfn & 7)
    for pfn in range(max_mapnr):
        if not bitmap1[pfn >> 3] >> (pfn & 7) & 1:
            continue
        data = pages(pfn)
        if data is None:
            continue
        bitmap2[pfn >> 3] |= 1 << (pfn & 7)
        if start <= pfn < end:
            dumpable.append((pfn, data))
    # VMCOREINFO and the notes follow the sub-header fields, inside the sub-header
    # blocks (sub_hdr_size counts them), as in makedumpfile's files.
    sub_fixed = 104
    blob = vmcoreinfo + notes
    sub_hdr_size = max(1, (sub_fixed + len(blob) + bs - 1) // bs)
    bitmap_off = (1 + sub_hdr_size) * bs
    pd_off = bitmap_off + bitmap_blocks * bs
    data_off = pd_off + 24 * len(dumpable)
    vmci_off = bs + sub_fixed
    note_off = vmci_off + len(vmcoreinfo)

    uts = b"".join(s.encode().ljust(65, b"\0")[:65] for s in spec.utsname)
    # makedumpfile stamps the header with the crash time VMCOREINFO carries
    m = re.search(rb"^CRASHTIME=(\d+)$", vmcoreinfo, re.M)
    stamp = int(m.group(1)) if m else 1606399261
    hdr = struct.pack("<8si390s6xqqIiiIIIIIIi", spec.signature, spec.header_version, uts,
                      stamp, 0, spec.status, bs, sub_hdr_size, bitmap_blocks,
                      min(max_mapnr, 0xFFFFFFFF), 0, 0, 0, 0, spec.nr_cpus)
    out.write(hdr.ljust(bs, b"\0"))
    sub = struct.pack("<QiiQQqQqQqQQQQ", spec.phys_base & (2**64 - 1), spec.dump_level,
                      1 if spec.split else 0, start, end, vmci_off, len(vmcoreinfo),
                      note_off, len(notes), 0, 0, start, end, max_mapnr)
    out.write((sub + blob).ljust(sub_hdr_size * bs, b"\0"))
    if not kdump:
        out.write(bytes(bitmap2))        # DISKDUMP: a single (dumpable) bitmap
    else:
        out.write(bytes(bitmap1))
        out.write(bytes(bitmap2))
    pos = data_off
    descs = bytearray()
    body = []
    zero_at: Optional[Tuple[int, int, int]] = None
    for pfn, data in dumpable:
        if not any(data):
            if zero_at is None:
                c = comp(data)
                flags = FLAGS[spec.codec]
                if len(c) >= bs:
                    c, flags = data, 0
                zero_at = (pos, len(c), flags)
                body.append(c)
                pos += len(c)
            o, n, f = zero_at
        else:
            c = comp(data)
            f = FLAGS[spec.codec]
            if len(c) >= bs:
                c, f = data, 0
            o, n = pos, len(c)
            body.append(c)
            pos += n
        descs += struct.pack("<qIIQ", o, n, f, 0)
    out.write(bytes(descs))
    for c in body:
        out.write(c)
