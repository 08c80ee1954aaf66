"""The headers of makedumpfile's kdump-compressed format (and the older DISKDUMP).

Layout (x86_64 / LP64 writers), from makedumpfile's IMPLEMENTATION and
diskdump_mod.h:

  block 0            struct disk_dump_header (signature, header_version, utsname,
                     timestamp, status, block_size, sub_hdr_size, bitmap_blocks,
                     max_mapnr, ...)
  block 1..          struct kdump_sub_header (KDUMP only; fields by version:
                     v1 phys_base/dump_level, v2 split/start_pfn/end_pfn,
                     v3 vmcoreinfo, v4 ELF notes, v5 eraseinfo, v6 64-bit pfns)
  1+sub_hdr_size     bitmap_blocks blocks: 1st bitmap (RAM) then 2nd (dumpable)
  then               page_desc[] {i64 offset; u32 size; u32 flags; u64 page_flags},
                     one per dumpable pfn, then the page data.
"""

import struct
from typing import Dict, List, Optional

from triage.datarecord import DataRecord, Factory
from triage.dumps.store import Store
from triage.errors import CorruptDumpError, FormatError

KDUMP_SIGNATURE = b"KDUMP   "
DISKDUMP_SIGNATURE = b"DISKDUMP"
SIGNATURES = (KDUMP_SIGNATURE, DISKDUMP_SIGNATURE)

DUMP_HEADER_SIZE = 464
PAGE_DESC_SIZE = 24
PAGE_DESC = struct.Struct("<qIIQ")
STATUS_INCOMPLETE = 0x8   # DUMP_DH_COMPRESSED_INCOMPLETE
UTS_FIELDS = ("sysname", "nodename", "release", "version", "machine", "domainname")

# The largest page any Linux port uses is 256 KiB (hexagon, powerpc 44x
# PPC_256K_PAGES); makedumpfile's block_size is the page size.
MAX_BLOCK_SIZE = 256 << 10
# Physical addresses: MAX_PHYSMEM_BITS is at most 56 (riscv64 sv57; 52 on x86_64/arm64).
MAX_PHYS = 1 << 56

_HDR = struct.Struct("<8si390s6xqqIiiIIIIIIi")   # up to nr_cpus, LP64 alignment
_SUB = struct.Struct("<QiiQQqQqQqQQQQ")          # all fields of a v6 kdump_sub_header
_SUB_FIELDS_BY_VERSION = ((1, 16), (2, 32), (3, 48), (4, 64), (5, 80), (6, 104))


class KdumpHeader(DataRecord):
    """Parsed header and sub-header of one kdump-compressed file."""

    signature: str
    header_version: int
    utsname: Dict[str, str]
    timestamp: float
    status: int
    block_size: int
    sub_hdr_size: int
    bitmap_blocks: int
    max_mapnr: int
    nr_cpus: int
    phys_base: Optional[int] = None
    dump_level: Optional[int] = None
    split: bool = False
    start_pfn: int = 0
    end_pfn: int = 0
    offset_vmcoreinfo: int = 0
    size_vmcoreinfo: int = 0
    offset_note: int = 0
    size_note: int = 0
    offset_eraseinfo: int = 0
    size_eraseinfo: int = 0
    max_mapnr_32: int = 0        # the 32-bit max_mapnr of block 0 (v6 writers clamp it)
    utsname_damage: List[str] = Factory(list)   # utsname fields whose bytes no kernel writes

    @property
    def incomplete(self) -> bool:
        return bool(self.status & STATUS_INCOMPLETE)

    @property
    def bitmap_offset(self) -> int:
        return (1 + self.sub_hdr_size) * self.block_size

    @property
    def bitmap_bytes(self) -> int:
        """Bytes of one bitmap (KDUMP has two of them back to back, DISKDUMP one)."""
        total = self.bitmap_blocks * self.block_size
        return total // 2 if self.signature == "KDUMP" else total

    @property
    def page_desc_offset(self) -> int:
        return (1 + self.sub_hdr_size + self.bitmap_blocks) * self.block_size


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _uts_damage(uts: bytes) -> List[str]:
    """utsname fields holding bytes no kernel writes: the kernel keeps each one a
    text string (sethostname takes any bytes: UTF-8 is allowed) zero-padded to 65 bytes (sethostname and friends clear the rest),
    and makedumpfile copies the struct whole; so a non-printable byte, or a non-zero
    byte after the terminator, is a damaged header (a flipped byte in padding would
    otherwise change nothing anyone sees)."""
    out = []
    for i, name in enumerate(UTS_FIELDS):
        field = uts[i * 65:(i + 1) * 65]
        text, _, pad = field.partition(b"\0")
        if any(b < 0x20 or b == 0x7F for b in text) or not _is_utf8(text):
            out.append(f"utsname.{name} holds bytes that are no text ({text[:65]!r})")
        elif any(pad):
            out.append(f"utsname.{name} has non-zero bytes after its terminating NUL")
    return out


def parse_header(store: Store) -> KdumpHeader:
    """Parse block 0 and the kdump sub-header; FormatError / CorruptDumpError on damage."""
    path = store.path
    raw = store.read(0, DUMP_HEADER_SIZE)
    if raw[:8] not in SIGNATURES:
        raise FormatError("not a kdump-compressed file (no KDUMP/DISKDUMP signature)", path=path)
    if len(raw) < DUMP_HEADER_SIZE:
        raise CorruptDumpError("file ends inside the disk_dump_header", path=path, offset=len(raw))
    (sig, version, uts, tv_sec, tv_usec, status, block_size, sub_hdr_size, bitmap_blocks,
     max_mapnr, _ram_blocks, _dev_blocks, _written, _cur_cpu, nr_cpus) = _HDR.unpack_from(raw)
    if not 0 < version < 64 and 0 < int.from_bytes(raw[8:12], "big") < 64:
        raise FormatError("big-endian kdump-compressed file (s390x/ppc64 BE writer); only "
                          "little-endian dumps are supported", path=path)
    if not 0 < version < 64:
        raise CorruptDumpError(f"header field header_version is {version}: makedumpfile writes 1-6",
                               path=path, offset=8)
    if block_size < 512 or block_size > MAX_BLOCK_SIZE or block_size & (block_size - 1):
        raise CorruptDumpError(f"header field block_size is {block_size}: not a power of two between "
                               f"512 and {MAX_BLOCK_SIZE} (the largest page size of any Linux port)",
                               path=path, offset=428)
    if not 0 <= sub_hdr_size < (1 << 16):
        raise CorruptDumpError(f"header field sub_hdr_size is {sub_hdr_size} blocks", path=path, offset=432)
    if bitmap_blocks == 0:
        raise CorruptDumpError("header field bitmap_blocks is 0", path=path, offset=436)
    utsname = {name: _cstr(uts[i * 65:(i + 1) * 65]) for i, name in enumerate(UTS_FIELDS)}
    hdr = KdumpHeader(
        signature=sig.decode("ascii").strip(), header_version=version, utsname=utsname,
        timestamp=tv_sec + tv_usec / 1e6, status=status, block_size=block_size,
        sub_hdr_size=sub_hdr_size, bitmap_blocks=bitmap_blocks, max_mapnr=max_mapnr,
        nr_cpus=nr_cpus, end_pfn=max_mapnr, max_mapnr_32=max_mapnr, utsname_damage=_uts_damage(uts))
    if hdr.signature == "KDUMP" and sub_hdr_size > 0:
        _parse_sub_header(store, hdr)
    if hdr.max_mapnr * block_size > MAX_PHYS:
        raise CorruptDumpError(f"header field max_mapnr is {hdr.max_mapnr}: {hdr.max_mapnr} pages of "
                               f"{block_size} bytes pass the largest physical address (2**56)",
                               path=path, offset=440 if hdr.header_version < 6 else block_size + 96)
    if hdr.bitmap_bytes * 8 < hdr.max_mapnr:
        raise CorruptDumpError(f"header fields disagree: bitmap_blocks {bitmap_blocks} give a bitmap of "
                               f"{hdr.bitmap_bytes} bytes, too small for max_mapnr {hdr.max_mapnr}",
                               path=path, offset=436)
    # Writers size each bitmap to max_mapnr bits rounded up to whole blocks; far more
    # than that is a damaged bitmap_blocks (or max_mapnr), not a big machine.
    needed = -(-(-(-hdr.max_mapnr // 8)) // block_size) * block_size
    if hdr.bitmap_bytes > 8 * needed + 16 * block_size:
        raise CorruptDumpError(f"header fields disagree: bitmap_blocks {bitmap_blocks} is far more than "
                               f"max_mapnr {hdr.max_mapnr} needs", path=path, offset=436)
    return hdr


def _parse_sub_header(store: Store, hdr: KdumpHeader) -> None:
    path = store.path
    off = hdr.block_size
    want = dict(_SUB_FIELDS_BY_VERSION).get(min(hdr.header_version, 6), 104)
    raw = store.read(off, _SUB.size)
    if len(raw) < want:
        raise CorruptDumpError("file ends inside the kdump sub-header", path=path, offset=off + len(raw))
    raw = raw.ljust(_SUB.size, b"\0")
    (phys_base, dump_level, split, start_pfn, end_pfn, off_vmci, size_vmci, off_note, size_note,
     off_erase, size_erase, start_pfn64, end_pfn64, max_mapnr64) = _SUB.unpack(raw)
    v = hdr.header_version
    hdr.phys_base = phys_base
    hdr.dump_level = dump_level
    if v >= 6:
        hdr.max_mapnr = max_mapnr64 or hdr.max_mapnr
        start_pfn, end_pfn = start_pfn64, end_pfn64
    if v >= 2 and split:
        hdr.split = True
        if not start_pfn <= end_pfn <= hdr.max_mapnr:
            raise CorruptDumpError(f"split range {start_pfn:#x}-{end_pfn:#x} outside max_mapnr "
                                   f"{hdr.max_mapnr:#x}", path=path, offset=off + 16)
        hdr.start_pfn, hdr.end_pfn = start_pfn, end_pfn
    else:
        hdr.start_pfn, hdr.end_pfn = 0, hdr.max_mapnr
    if v >= 3:
        hdr.offset_vmcoreinfo, hdr.size_vmcoreinfo = off_vmci, size_vmci
    if v >= 4:
        hdr.offset_note, hdr.size_note = off_note, size_note
    if v >= 5:
        hdr.offset_eraseinfo, hdr.size_eraseinfo = off_erase, size_erase
