"""Hostile dumps: a few KB each, whose headers claim huge structures (issue 11).

Every builder returns the bytes of one file. The base is a small but well-formed
x86_64 ELF vmcore: one PT_NOTE holding VMCOREINFO (the key set and struct
layout a Debian 6.1 kernel exports), one PT_LOAD mapping a 20 KiB kernel-image
window at its virtual address, and in it a lockless printk ring with a few records.
`triage dmesg` reads that base cleanly; each hostile variant changes one claim.

Kernel-format files (kdump-compressed, flattened) are built from the same pieces.
Run `python3 tests/data/hostile_dumps.py DIR` to write them all to DIR.
"""

import struct
import sys
import zlib
from pathlib import Path
from typing import Callable, Dict, List, Tuple

KBASE = 0xFFFFFFFF82000000        # virtual address of the mapped window
PBASE = 0x2000000                 # its physical address
WINDOW = 0x5000                   # 20 KiB mapped
PRB_PTR = KBASE                   # SYMBOL(prb): a pointer to the ring struct
RING = KBASE + 0x100              # struct printk_ringbuffer (88 bytes)
UTS = KBASE + 0x200               # init_uts_ns
DESCS = KBASE + 0x1000            # 16 descriptors * 24
INFOS = KBASE + 0x2000            # 16 infos * 88
DATA = KBASE + 0x3000             # 512-byte text ring
LOGBUF = KBASE + 0x4000           # log_buf for the printk_log / plain variants
COUNT_BITS, SIZE_BITS = 4, 9
M64 = (1 << 64) - 1

# struct printk_ringbuffer layout as a real Debian 6.1 kernel exports it (shared with
# the fuzz targets and tests/printk/test_fuzz_printk.py)
RINGBUFFER_61 = (Path(__file__).resolve().parent / "vmcoreinfo" / "printk-ringbuffer-6.1.txt").read_text()

VMCOREINFO_LOCKLESS = f"""OSRELEASE=6.1.0-hostile
PAGESIZE=4096
SYMBOL(init_uts_ns)={UTS:x}
OFFSET(uts_namespace.name)=0
SYMBOL(prb)={PRB_PTR:x}
{RINGBUFFER_61}NUMBER(phys_base)=0
SYMBOL(init_top_pgt)=ffffffff83410000
NUMBER(pgtable_l5_enabled)=0
KERNELOFFSET=0
CRASHTIME=1795966694
"""

# struct printk_log (3.11-5.9) and the plain ring (< 3.5): log_buf, log_buf_len and
# the indexes are variables whose addresses VMCOREINFO gives.
LOG_BUF_PTR, LOG_BUF_LEN, LOG_FIRST, LOG_NEXT, LOG_END = (KBASE + 0x300 + 8 * i for i in range(5))
VMCOREINFO_PRINTK_LOG = f"""OSRELEASE=5.4.0-hostile
PAGESIZE=4096
SYMBOL(log_buf)={LOG_BUF_PTR:x}
SYMBOL(log_buf_len)={LOG_BUF_LEN:x}
SYMBOL(log_first_idx)={LOG_FIRST:x}
SYMBOL(log_next_idx)={LOG_NEXT:x}
SIZE(printk_log)=16
OFFSET(printk_log.ts_nsec)=0
OFFSET(printk_log.len)=8
OFFSET(printk_log.text_len)=10
OFFSET(printk_log.dict_len)=12
NUMBER(phys_base)=0
SYMBOL(init_top_pgt)=ffffffff83410000
KERNELOFFSET=0
"""
VMCOREINFO_PLAIN = f"""OSRELEASE=3.0.0-hostile
PAGESIZE=4096
SYMBOL(log_buf)={LOG_BUF_PTR:x}
SYMBOL(log_buf_len)={LOG_BUF_LEN:x}
SYMBOL(log_end)={LOG_END:x}
NUMBER(phys_base)=0
SYMBOL(init_top_pgt)=ffffffff83410000
KERNELOFFSET=0
"""

TEXTS = [b"Linux version 6.1.0-hostile", b"Command line: console=ttyS0",
         b"sysrq: Trigger a crash", b"Kernel panic - not syncing: sysrq triggered crash"]


def _note(name: bytes, ntype: int, desc: bytes) -> bytes:
    name += b"\0"
    pad = lambda b: b + bytes(-len(b) % 4)   # noqa: E731
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def window(count_bits: int = COUNT_BITS, size_bits: int = SIZE_BITS, head_id=None, tail_id: int = 0,
           descs: int = DESCS, infos: int = INFOS, data: int = DATA,
           log_buf_len: int = 0x400, printk_log: bytes = b"", log_end: int = 0) -> bytearray:
    """The 20 KiB of kernel memory the base dump maps (ring, uts name, log_buf variables)."""
    w = bytearray(WINDOW)
    struct.pack_into("<Q", w, PRB_PTR - KBASE, RING)
    n = len(TEXTS)
    ring = struct.pack("<IIQQQQ", count_bits, 0, descs, infos, head_id if head_id is not None else n - 1,
                       tail_id) + bytes(8)
    lpos = 0
    dpos = DESCS - KBASE
    for i, t in enumerate(TEXTS):
        blk = (8 + len(t) + 7) & ~7
        off = DATA - KBASE + lpos
        struct.pack_into("<Q", w, off, i)
        w[off + 8:off + 8 + len(t)] = t
        struct.pack_into("<QQQ", w, dpos + 24 * i, (2 << 62) | i, lpos, lpos + blk)
        struct.pack_into("<QQHBBI", w, INFOS - KBASE + 88 * i, i, i * 1000000, len(t), 0, 6 << 5, 1)
        lpos += blk
    ring += struct.pack("<IIQQQ", size_bits, 0, data, lpos, 0) + bytes(8)
    w[RING - KBASE:RING - KBASE + 88] = ring
    uts = b"".join(s.ljust(65, b"\0") for s in (b"Linux", b"hostile", b"6.1.0-hostile", b"#1 SMP",
                                                b"x86_64", b"(none)"))
    w[UTS - KBASE:UTS - KBASE + len(uts)] = uts
    struct.pack_into("<QQQQQ", w, LOG_BUF_PTR - KBASE, LOGBUF, log_buf_len, 0, len(printk_log), log_end)
    w[LOGBUF - KBASE:LOGBUF - KBASE + len(printk_log)] = printk_log
    return w


def elf(vmcoreinfo: str = VMCOREINFO_LOCKLESS, mem: bytes = None,
        loads: List[Tuple[int, int, int, int]] = None, notes: List[Tuple[int, int]] = None,
        phnum_override: int = None, note_blob: bytes = None) -> bytes:
    """An ELF64 core: notes, then PT_LOADs. loads = (vaddr, paddr, filesz, memsz) of
    segments whose bytes follow one another after the notes (the first is `mem`)."""
    mem = bytes(window()) if mem is None else mem
    blob = note_blob if note_blob is not None else \
        _note(b"CORE", 1, bytes(336)) + _note(b"VMCOREINFO", 0, vmcoreinfo.encode())
    loads = loads if loads is not None else [(KBASE, PBASE, len(mem), len(mem))]
    nph = 1 + len(loads) if notes is None else len(notes) + len(loads)
    phoff = 64
    data_off = phoff + 56 * nph
    body_off = data_off + len(blob)
    body_off += -body_off % 4096
    ph = b""
    for off, size in (notes if notes is not None else [(data_off, len(blob))]):
        ph += struct.pack("<IIQQQQQQ", 4, 0, off, 0, 0, size, 0, 4)
    pos = body_off
    for vaddr, paddr, filesz, memsz in loads:
        ph += struct.pack("<IIQQQQQQ", 1, 7, pos, vaddr, paddr, filesz, memsz, 4096)
        pos += filesz
    e_phnum = nph if phnum_override is None else 0xFFFF
    shoff = shnum = 0
    tail = b""
    if phnum_override is not None:
        shoff, shnum = pos, 1
        tail = struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, phnum_override, 0, 0)
    hdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + struct.pack(
        "<HHIQQQIHHHHHH", 4, 62, 1, 0, phoff, shoff, 0, 64, 56, e_phnum, 64, shnum, 0)
    out = bytearray(hdr + ph)
    out[data_off:data_off + len(blob)] = blob
    out += bytes(body_off - len(out))
    out += mem[:loads[0][2]] if loads else b""
    out += tail
    return bytes(out)


# -- kdump-compressed and flattened ----------------------------------------------------

def kdump(vmcoreinfo: str = VMCOREINFO_LOCKLESS, max_mapnr: int = None, bitmap_blocks: int = None,
          pages: Dict[int, Tuple[bytes, int]] = None, block_size: int = 4096,
          size_vmcoreinfo: int = None, size_note: int = None) -> bytes:
    """A kdump-compressed (KDUMP v6) file. pages: pfn -> (stored bytes, flags)."""
    if pages is None:
        w = window()
        pages = {PBASE // 4096 + i: (zlib.compress(bytes(w[i * 4096:(i + 1) * 4096])), 1)
                 for i in range(WINDOW // 4096)}
    if max_mapnr is None:
        max_mapnr = max(pages) + 1
    bm_bytes = -(-max_mapnr // 8)
    bm_blocks_one = -(-bm_bytes // block_size)
    if bitmap_blocks is None:
        bitmap_blocks = 2 * bm_blocks_one
    vmci = vmcoreinfo.encode()
    notes = _note(b"VMCOREINFO", 0, vmci)
    sub_hdr_size = 1
    sub_off = block_size
    vmci_off = sub_off + 104
    note_off = vmci_off + len(vmci)
    assert note_off + len(notes) <= 2 * block_size
    hdr = bytearray(block_size)
    hdr[0:8] = b"KDUMP   "
    struct.pack_into("<i", hdr, 8, 6)
    # makedumpfile copies init_uts_ns into the header: the same strings as in memory (window())
    uts = b"".join(s.ljust(65, b"\0") for s in (b"Linux", b"hostile", b"6.1.0-hostile", b"#1 SMP", b"x86_64",
                                                b"(none)"))
    hdr[12:12 + len(uts)] = uts
    struct.pack_into("<qqIiiIIIIIIi", hdr, 408, 1795966694, 0, 1, block_size, sub_hdr_size,
                     bitmap_blocks, max_mapnr & 0xFFFFFFFF, 0, 0, 0, 0, 1)
    sub = bytearray(block_size)
    struct.pack_into("<QiiQQqQqQqQQQQ", sub, 0, 0, 31, 0, 0, 0, vmci_off,
                     len(vmci) if size_vmcoreinfo is None else size_vmcoreinfo, note_off,
                     len(notes) if size_note is None else size_note, 0, 0, 0, max_mapnr, max_mapnr)
    sub[vmci_off - sub_off:vmci_off - sub_off + len(vmci)] = vmci
    sub[note_off - sub_off:note_off - sub_off + len(notes)] = notes
    bitmap = bytearray(bm_blocks_one * block_size)
    for pfn in pages:
        bitmap[pfn // 8] |= 1 << (pfn % 8)
    desc_off = (1 + sub_hdr_size + 2 * bm_blocks_one) * block_size
    data_off = desc_off + 24 * len(pages)
    descs, data = b"", b""
    for pfn in sorted(pages):
        stored, flags = pages[pfn]
        descs += struct.pack("<qIIQ", data_off + len(data), len(stored), flags, 0)
        data += stored
    return bytes(hdr + sub + bitmap + bitmap + descs + data)


def flatten(file_bytes: bytes, records: List[Tuple[int, bytes]] = None) -> bytes:
    """makedumpfile -F stream of `file_bytes` (or of explicit (offset, data) records)."""
    head = bytearray(4096)
    head[0:12] = b"makedumpfile"
    struct.pack_into(">qq", head, 16, 1, 1)
    out = bytearray(head)
    for off, data in records if records is not None else [(0, file_bytes)]:
        out += struct.pack(">qq", off, len(data)) + data
    out += struct.pack(">qq", -1, 0)
    return bytes(out)


# -- the hostile variants ------------------------------------------------------------

def prb_count_bits(bits: int) -> bytes:
    """The printk ring header claims 2**bits descriptors (the file holds 16)."""
    return elf(mem=bytes(window(count_bits=bits, size_bits=max(SIZE_BITS, min(bits + 5, 31)))))


def prb_size_bits(bits: int) -> bytes:
    """The text data ring claims 2**bits bytes."""
    return elf(mem=bytes(window(size_bits=bits)))


def prb_ids_span() -> bytes:
    """head_id - tail_id spans 2**61 ids."""
    return elf(mem=bytes(window(head_id=(1 << 61), tail_id=0)))


def elf_pn_xnum(count: int = 1 << 31) -> bytes:
    """e_phnum = PN_XNUM; section header 0 claims `count` program headers."""
    return elf(phnum_override=count)


def elf_many_notes(copies: int = 20, size: int = 32 << 20) -> bytes:
    """`copies` PT_NOTE headers all pointing at one `size`-byte note after the base."""
    big = _note(b"VMCOREINFO", 0, VMCOREINFO_LOCKLESS.encode().ljust(size - 24, b"\n"))
    base = len(elf(notes=[(0, 0)] * copies))
    return elf(notes=[(base, len(big))] * copies) + big


def elf_million_notes() -> bytes:
    """One PT_NOTE of 16 MB holding a million empty notes (type 1, name "", no desc)."""
    blob = _note(b"", 1, b"") * 1_000_000 + _note(b"VMCOREINFO", 0, VMCOREINFO_LOCKLESS.encode())
    return elf(note_blob=blob)


def kdump_million_notes() -> bytes:
    """A kdump note area (size_note) of 16 MB holding a million empty notes."""
    base = kdump()
    notes = _note(b"", 1, b"") * 1_000_000
    data = bytearray(base)
    off = len(data)
    struct.pack_into("<qQ", data, 4096 + 48, off, len(notes))    # offset_note, size_note
    return bytes(data) + notes


def elf_huge_memsz() -> bytes:
    """A PT_LOAD whose p_memsz claims 2**46 bytes past a 20 KiB p_filesz (zero-filled,
    as makedumpfile -E writes excluded pages) and a log_buf_len pointing into it."""
    w = window(log_buf_len=1 << 31)
    struct.pack_into("<Q", w, LOG_BUF_PTR - KBASE, KBASE + WINDOW)   # log_buf in the zero tail
    return elf(VMCOREINFO_PRINTK_LOG, mem=bytes(w), loads=[(KBASE, PBASE, WINDOW, 1 << 46)])


def elf_log_buf_len(kind: str, length: int) -> bytes:
    """A printk_log or plain buffer whose log_buf_len claims `length` bytes."""
    rec = struct.pack("<QHHHBB", 1000, 40, 20, 0, 0, 6) + b"hostile printk_log!!".ljust(24, b"\0")
    if kind == "printk_log":
        return elf(VMCOREINFO_PRINTK_LOG, mem=bytes(window(log_buf_len=length, printk_log=rec)))
    return elf(VMCOREINFO_PLAIN, mem=bytes(window(log_buf_len=length, printk_log=b"<6>hello\n",
                                                 log_end=length + 5)))


def printk_log_record_len() -> bytes:
    """A struct printk_log record whose len/text_len claim 65535 bytes."""
    rec = struct.pack("<QHHHBB", 1000, 0xFFF8, 0xFFFF, 0xFFFF, 0, 6) + bytes(8)
    w = window(log_buf_len=0x400, printk_log=rec)
    struct.pack_into("<Q", w, LOG_NEXT - KBASE, 0x300)
    return elf(VMCOREINFO_PRINTK_LOG, mem=bytes(w))


def vmcoreinfo_huge_elf() -> bytes:
    """A VMCOREINFO note whose descsz claims 4 GiB - 1."""
    blob = struct.pack("<III", 11, 0xFFFFFFFF, 0) + b"VMCOREINFO\0\0" + VMCOREINFO_LOCKLESS.encode()
    return elf(note_blob=blob)


def kdump_bitmap_claims(pages_bits: int = 40) -> bytes:
    """A 12 KB flattened kdump whose header and bitmaps claim 2**pages_bits pages: the
    bitmap records sit at their real offsets, the rest of the 16 TiB bitmap is a hole."""
    mapnr = 1 << pages_bits
    blocks = 2 * (mapnr // 8 // 4096)
    head = bytearray(kdump()[:2 * 4096])
    struct.pack_into("<II", head, 436, blocks, mapnr & 0xFFFFFFFF)
    struct.pack_into("<QQ", head, 4096 + 88, mapnr, mapnr)      # end_pfn_64, max_mapnr_64
    head = bytes(head)
    bm = bytearray(4096)
    bm[(PBASE // 4096) // 8] = 1 << ((PBASE // 4096) % 8)
    bm2_off = 2 * 4096 + (blocks // 2) * 4096
    desc_off = 2 * 4096 + blocks * 4096
    page = zlib.compress(bytes(window()[:4096]))
    desc = struct.pack("<qIIQ", desc_off + 24, len(page), 1, 0)
    return flatten(b"", [(0, head), (2 * 4096, bytes(bm)), (bm2_off, bytes(bm)), (desc_off, desc + page)])


def kdump_zlib_bomb(inflated: int = 512 << 20, block_size: int = 1 << 18) -> bytes:
    """A page whose zlib data inflates to `inflated` bytes: 512 MiB needs about 0.5 MB of
    data (more than a page, a damaged descriptor); 256 MiB fits in 255 KB, under one
    256 KiB page, so only a capped inflate stops it."""
    bomb = zlib.compress(bytes(inflated), 9)
    pfn = PBASE // block_size
    return kdump(pages={pfn: (bomb, 1)}, block_size=block_size)


def kdump_snappy_claim() -> bytes:
    """A snappy page whose header claims 2**32-1 bytes (snappy pre-allocates that)."""
    claim = bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) + b"\x00" * 16
    return kdump(pages={PBASE // 4096: (claim, 4)})


def kdump_zstd_claim() -> bytes:
    """A zstd frame whose header claims a 4 GiB content size."""
    frame = b"\x28\xb5\x2f\xfd" + bytes([0xA0]) + struct.pack("<I", 0xFFFFFFFF) + b"\x01\x00\x00"
    return kdump(pages={PBASE // 4096: (frame, 0x20)})


def kdump_lzo_bomb() -> bytes:
    """LZO data under one page that expands to 512 KiB (128 pages)."""
    try:
        import lzallright
        stored = lzallright.LZOCompressor().compress(bytes(1 << 19))
    except ImportError:
        stored = b"\x00" * 64
    assert len(stored) < 4096
    return kdump(pages={PBASE // 4096: (stored, 2)})


def kdump_meta_sizes() -> bytes:
    """size_vmcoreinfo and size_note claim 2**62 bytes."""
    return kdump(size_vmcoreinfo=1 << 62, size_note=1 << 62)


def kdump_block_size_huge() -> bytes:
    """block_size 2**30 (no kernel has pages that large)."""
    data = bytearray(kdump())
    struct.pack_into("<i", data, 428, 1 << 30)
    return bytes(data)


def flattened_huge_offsets() -> bytes:
    """A flattened stream whose records claim offsets near 2**56 and sizes past the file."""
    base = kdump()
    return flatten(b"", [(0, base[:8192]), ((1 << 56) - 4096, b"x" * 16), (8192, base[8192:])])


HOSTILE: Dict[str, Callable[[], bytes]] = {
    "prb-count-bits-24.elf": lambda: prb_count_bits(24),
    "prb-count-bits-28.elf": lambda: prb_count_bits(28),
    "prb-count-bits-40.elf": lambda: prb_count_bits(40),
    "prb-size-bits-31.elf": lambda: prb_size_bits(31),
    "prb-size-bits-40.elf": lambda: prb_size_bits(40),
    "prb-ids-span.elf": prb_ids_span,
    "pn-xnum-2e31.elf": elf_pn_xnum,
    "notes-20x32M.elf": elf_many_notes,
    "memsz-2e46.elf": elf_huge_memsz,
    "notes-1M-empty.elf": elf_million_notes,
    "notes-1M-empty.kdump": kdump_million_notes,
    "log-buf-len-2e31.printk_log.elf": lambda: elf_log_buf_len("printk_log", 1 << 31),
    "log-buf-len-2e32.printk_log.elf": lambda: elf_log_buf_len("printk_log", (1 << 32) - 1),
    "log-buf-len-2e31.plain.elf": lambda: elf_log_buf_len("plain", 1 << 31),
    "printk-log-record-len.elf": printk_log_record_len,
    "vmcoreinfo-4G.elf": vmcoreinfo_huge_elf,
    "bitmap-2e40.flat": kdump_bitmap_claims,
    "zlib-bomb-512M.kdump": kdump_zlib_bomb,
    "zlib-bomb-256M.kdump": lambda: kdump_zlib_bomb(256 << 20),
    "snappy-claim.kdump": kdump_snappy_claim,
    "zstd-claim.kdump": kdump_zstd_claim,
    "lzo-bomb.kdump": kdump_lzo_bomb,
    "meta-sizes.kdump": kdump_meta_sizes,
    "block-size-2e30.kdump": kdump_block_size_huge,
    "flat-offsets-2e56.flat": flattened_huge_offsets,
}

BASES: Dict[str, Callable[[], bytes]] = {
    "base.elf": elf,
    "base.kdump": kdump,
    "base.flat": lambda: flatten(kdump()),
    "base-printk_log.elf": lambda: elf_log_buf_len("printk_log", 0x400),
}


def write_all(outdir: str) -> Dict[str, str]:
    """Write every base and hostile file into outdir; name -> path."""
    import os
    os.makedirs(outdir, exist_ok=True)
    out = {}
    for name, build in {**BASES, **HOSTILE}.items():
        path = os.path.join(outdir, name)
        with open(path, "wb") as f:
            f.write(build())
        out[name] = path
    return out


if __name__ == "__main__":
    for name, path in write_all(sys.argv[1] if len(sys.argv) > 1 else ".").items():
        print(path)
