"""More hostile dumps (issue 11, second round): families that tests/data/hostile_dumps.py
does not build. Each is a few KB on disk (some are sparse files whose apparent size is
larger: a header may point into a hole) and lies in one field:

* every VMCOREINFO value the readers use (PAGESIZE, phys_base, KERNELOFFSET,
  KERNEL_IMAGE_SIZE, pgtable_l5_enabled, sme_mask, SYMBOL/OFFSET/SIZE/LENGTH of the
  printk structures and init_uts_ns), set to zero, negative, huge or non-numeric;
* lockless ring headers and descriptors (ids, lpos, text_len, array pointers),
  struct printk_log records (zero length, wrap markers, indexes past the buffer) and
  the plain ring (log_end, non power-of-two lengths);
* ELF: PN_XNUM with a sparse 2**22-entry table, many tiny or overlapping PT_LOADs,
  p_offset/p_vaddr wraps, PT_NOTE chains over one another, 32-bit and big-endian cores;
* kdump: every block 0 and sub-header field (header_version, sub_hdr_size,
  bitmap_blocks, max_mapnr, split start/end pfn, offset/size of VMCOREINFO, notes and
  eraseinfo, nr_cpus), page descriptors (offsets into the header, sizes past a page,
  unknown flags), a real zstd bomb, mixed codecs; DISKDUMP;
* flattened streams: negative, zero and overlapping records, a stream of 100k empty
  records, a stream cut inside a record header;
* split sets (tests/dumps/test_hostile_headers.py gives several files).

Run `python3 tests/data/hostile_headers.py DIR` to write them all to DIR.
"""

import os
import re
import struct
import sys
import zlib
from typing import Callable, Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_dumps as H  # noqa: E402

M64 = (1 << 64) - 1


def vmci(base: str = H.VMCOREINFO_LOCKLESS, **changes: str) -> str:
    """VMCOREINFO text with KEY=value lines replaced (None deletes, new keys appended).
    Keys use the real spelling; pass them as a dict for parentheses."""
    text = base
    for key, value in changes.items():
        pat = re.compile(r"^" + re.escape(key) + r"=.*$\n?", re.M)
        line = "" if value is None else f"{key}={value}\n"
        text, n = pat.subn(line, text)
        if not n and value is not None:
            text += line
    return text


def elf_vmci(base: str = H.VMCOREINFO_LOCKLESS, mem: bytes = None, **changes) -> bytes:
    return H.elf(vmci(base, **changes), mem=mem)


def _changes(**kw) -> Dict[str, str]:
    return kw


# -- VMCOREINFO values ---------------------------------------------------------------
VMCI_CASES: Dict[str, Dict[str, str]] = {
    "pagesize-0": {"PAGESIZE": "0"},
    "pagesize-3": {"PAGESIZE": "3"},
    "pagesize-2e40": {"PAGESIZE": str(1 << 40)},
    "pagesize-neg": {"PAGESIZE": "-4096"},
    "pagesize-text": {"PAGESIZE": "four-k"},
    "phys-base-huge": {"NUMBER(phys_base)": str((1 << 63) - 1)},
    "phys-base-neg": {"NUMBER(phys_base)": str(-(1 << 62))},
    "kerneloffset-ff": {"KERNELOFFSET": "ffffffffffffffff"},
    "kerneloffset-text": {"KERNELOFFSET": "zz"},
    "image-size-2e63": {"NUMBER(KERNEL_IMAGE_SIZE)": str(1 << 63)},
    "image-size-neg": {"NUMBER(KERNEL_IMAGE_SIZE)": "-1"},
    "l5-enabled-7": {"NUMBER(pgtable_l5_enabled)": "7"},
    "sme-mask-all": {"NUMBER(sme_mask)": "-1"},
    "prb-zero": {"SYMBOL(prb)": "0"},
    "prb-top": {"SYMBOL(prb)": "ffffffffffffffff"},
    "prb-huge-hex": {"SYMBOL(prb)": "f" * 40},
    "uts-offset-huge": {"OFFSET(uts_namespace.name)": str(1 << 62)},
    "uts-unmapped": {"SYMBOL(init_uts_ns)": "ffffffff90000000"},
    "uts-at-end": {"SYMBOL(init_uts_ns)": f"{H.KBASE + H.WINDOW - 3:x}"},
    "uts-missing": {"SYMBOL(init_uts_ns)": None},
    "ring-size-0": {"SIZE(printk_ringbuffer)": "0"},
    "ring-size-2e40": {"SIZE(printk_ringbuffer)": str(1 << 40)},
    "ring-size-neg": {"SIZE(printk_ringbuffer)": "-88"},
    "desc-size-0": {"SIZE(prb_desc)": "0"},
    "desc-size-2e40": {"SIZE(prb_desc)": str(1 << 40)},
    "desc-size-neg": {"SIZE(prb_desc)": "-24"},
    "info-size-0": {"SIZE(printk_info)": "0"},
    "info-size-2e40": {"SIZE(printk_info)": str(1 << 40)},
    "info-size-1": {"SIZE(printk_info)": "1"},
    "off-desc-ring-huge": {"OFFSET(printk_ringbuffer.desc_ring)": str(1 << 60)},
    "off-text-ring-neg": {"OFFSET(printk_ringbuffer.text_data_ring)": "-48"},
    "off-count-bits-past": {"OFFSET(prb_desc_ring.count_bits)": "4000"},
    "off-text-len-huge": {"OFFSET(printk_info.text_len)": str(1 << 50)},
    "off-text-len-neg": {"OFFSET(printk_info.text_len)": "-16"},
    "off-ts-past-info": {"OFFSET(printk_info.ts_nsec)": "84"},
    "off-lpos-huge": {"OFFSET(prb_desc.text_blk_lpos)": str(1 << 40)},
    "off-seq-neg": {"OFFSET(printk_info.seq)": "-8"},
    "off-caller-past": {"OFFSET(printk_info.caller_id)": "200"},
    "off-dev-info-past": {"OFFSET(printk_info.dev_info)": "87"},
    "off-subsystem-huge": {"OFFSET(dev_printk_info.subsystem)": str(1 << 40)},
    "len-subsystem-2e40": {"LENGTH(printk_info_subsystem)": str(1 << 40)},
    "len-device-neg": {"LENGTH(printk_info_device)": "-1"},
    "off-counter-huge": {"OFFSET(atomic_long_t.counter)": str(1 << 40)},
    "off-size-bits-neg": {"OFFSET(prb_data_ring.size_bits)": "-1"},
    "off-data-past": {"OFFSET(prb_data_ring.data)": "1000000"},
    "osrelease-long": {"OSRELEASE": "6." + "1" * 60000},
    "crashtime-huge": {"CRASHTIME": str(1 << 70)},
    "crashtime-neg": {"CRASHTIME": "-99999999999999"},
    "build-id-long": {"BUILD-ID": "ab" * 30000},
    "top-pgt-missing": {"SYMBOL(init_top_pgt)": None},
}


def vmci_many_lines() -> bytes:
    """A VMCOREINFO note of ~1 MiB: 60,000 SYMBOL lines before the real ones."""
    junk = "".join(f"SYMBOL(junk_{i})=ffffffff{i:08x}\n" for i in range(60000))
    text = junk + H.VMCOREINFO_LOCKLESS
    return H.elf(text[: (1 << 20) - 64] if len(text) > (1 << 20) - 64 else text)


def vmci_prb_repeated() -> bytes:
    """SYMBOL(prb) given 50,000 times, the last one the real one."""
    text = "SYMBOL(prb)=ffffffff90000000\n" * 50000 + H.VMCOREINFO_LOCKLESS
    return H.elf(text)


def vmci_binary() -> bytes:
    """VMCOREINFO that is 64 KiB of random bytes (no KEY=value line)."""
    import random
    rnd = random.Random(11)
    blob = bytes(rnd.getrandbits(8) for _ in range(1 << 16)).replace(b"=", b"-")
    note = H._note(b"CORE", 1, bytes(336)) + struct.pack("<III", 11, len(blob), 0) + b"VMCOREINFO\0\0" + blob
    return H.elf(note_blob=note)


# -- lockless ring ---------------------------------------------------------------------
def _ring_mem(**kw) -> bytearray:
    return H.window(**kw)


def ring_pointers(descs=H.DESCS, infos=H.INFOS, data=H.DATA) -> bytes:
    return H.elf(mem=bytes(_ring_mem(descs=descs, infos=infos, data=data)))


def ring_ids(head: int, tail: int, count_bits: int = H.COUNT_BITS) -> bytes:
    return H.elf(mem=bytes(_ring_mem(head_id=head, tail_id=tail, count_bits=count_bits)))


def ring_bits(count_bits: int, size_bits: int) -> bytes:
    return H.elf(mem=bytes(_ring_mem(count_bits=count_bits, size_bits=size_bits)))


def ring_desc_patch(fn) -> bytes:
    """The base ring with each of its 4 descriptors/infos changed by fn(w, desc_off, info_off, i)."""
    w = _ring_mem()
    for i in range(len(H.TEXTS)):
        fn(w, H.DESCS - H.KBASE + 24 * i, H.INFOS - H.KBASE + 88 * i, i)
    return H.elf(mem=bytes(w))


def _lpos(begin: int, nxt: int):
    return lambda w, d, _inf, i: struct.pack_into("<QQ", w, d + 8, begin & M64, nxt & M64)


def _full_ring_same_block() -> bytes:
    """16 descriptors, all committed, each with the same data block: 16 records read
    from one 32-byte block, ids cycling through the whole ring (head - tail = 15)."""
    w = _ring_mem(head_id=15, tail_id=0)
    for i in range(16):
        struct.pack_into("<QQQ", w, H.DESCS - H.KBASE + 24 * i, (2 << 62) | i, 0, 40)
        struct.pack_into("<QQHBBI", w, H.INFOS - H.KBASE + 88 * i, i, i, 20, 0, 6 << 5, 1)
    return H.elf(mem=bytes(w))


def _wrapping_blocks() -> bytes:
    """Every descriptor's block wraps (begin in one lap, next in the next): the text is
    at offset 0 and the block claims the whole ring."""
    size = 1 << H.SIZE_BITS

    def fn(w, d, inf, i):
        struct.pack_into("<QQ", w, d + 8, size * (i + 1) - 8, size * (i + 2) - 16)
    return ring_desc_patch(fn)


def ring_no_live_text() -> bytes:
    """tail_lpos == head_lpos (no live text) at a ring offset other than 0, in a text
    ring of 16 KiB that runs past the mapped window (so it is read, not viewed in
    place). Found by the elf fuzz target: the reader indexed the pieces it had read
    by offset 0, and had read none (KeyError, an internal error)."""
    w = H.window(size_bits=14)
    ring_text = H.RING - H.KBASE + 48          # struct prb_data_ring inside printk_ringbuffer
    head_lpos = struct.unpack_from("<Q", w, ring_text + 16)[0]
    struct.pack_into("<Q", w, ring_text + 24, head_lpos)      # tail_lpos = head_lpos
    return H.elf(mem=bytes(w))


# -- struct printk_log and the plain ring -----------------------------------------------
def printk_log_records(recs: bytes, first: int = 0, nxt: int = None, log_buf_len: int = 0x400,
                       base: str = H.VMCOREINFO_PRINTK_LOG) -> bytes:
    w = H.window(log_buf_len=log_buf_len, printk_log=recs)
    struct.pack_into("<QQ", w, H.LOG_FIRST - H.KBASE, first & M64, (len(recs) if nxt is None else nxt) & M64)
    return H.elf(base, mem=bytes(w))


def _plog(ts: int, length: int, text_len: int, dict_len: int = 0, text: bytes = b"") -> bytes:
    rec = struct.pack("<QHHHBB", ts, length & 0xFFFF, text_len & 0xFFFF, dict_len & 0xFFFF, 0, 6) + text
    return rec.ljust(max(16, length) if length < 0x400 else 16, b"\0")


def plain_ring(log_buf_len: int, log_end: int, text: bytes = b"<6>hello\n") -> bytes:
    w = H.window(log_buf_len=log_buf_len, printk_log=text, log_end=log_end)
    return H.elf(H.VMCOREINFO_PLAIN, mem=bytes(w))


# -- ELF structures --------------------------------------------------------------------
def _ehdr(phoff: int, phnum: int, shoff: int = 0, shnum: int = 0, machine: int = 62,
          cls: int = 2, data: int = 1, phentsize: int = 56) -> bytes:
    e = "<" if data == 1 else ">"
    if cls == 2:
        return b"\x7fELF" + bytes([cls, data, 1, 0]) + bytes(8) + struct.pack(
            e + "HHIQQQIHHHHHH", 4, machine, 1, 0, phoff, shoff, 0, 64, phentsize, phnum, 64, shnum, 0)
    return b"\x7fELF" + bytes([cls, data, 1, 0]) + bytes(8) + struct.pack(
        e + "HHIIIIIHHHHHH", 4, machine, 1, 0, phoff, shoff, 0, 52, phentsize, phnum, 40, shnum, 0)


def _phdr(p_type, off, vaddr, paddr, filesz, memsz, e="<") -> bytes:
    return struct.pack(e + "IIQQQQQQ", p_type, 7, off & M64, vaddr & M64, paddr & M64, filesz & M64,
                       memsz & M64, 4096)


def _note_blob() -> bytes:
    return H._note(b"CORE", 1, bytes(336)) + H._note(b"VMCOREINFO", 0, H.VMCOREINFO_LOCKLESS.encode())


def elf_with(phdrs_after: List[bytes], extra_front: List[bytes] = (), sparse_tail: int = 0,
             phnum_override: int = None, shnum_count: int = None) -> Tuple[bytes, int]:
    """The base ELF (note + window PT_LOAD) with extra program headers; returns
    (bytes, apparent size) - a larger apparent size makes a sparse file."""
    mem = bytes(H.window())
    blob = _note_blob()
    phs = list(extra_front) + [None, None] + list(phdrs_after)
    nph = len(phs)
    xnum = nph >= 0xFFFF          # PN_XNUM: the count in section header 0 at offset 64
    phoff = 128 if xnum else 64
    data_off = phoff + 56 * nph
    body = data_off + len(blob)
    body += -body % 4096
    phs[len(extra_front)] = _phdr(4, data_off, 0, 0, len(blob), 0)
    phs[len(extra_front) + 1] = _phdr(1, body, H.KBASE, H.PBASE, len(mem), len(mem))
    if xnum:
        out = bytearray(_ehdr(phoff, 0xFFFF, shoff=64, shnum=1))
        out += struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, nph, 0, 0)
    else:
        out = bytearray(_ehdr(phoff, nph))
    out += b"".join(phs)
    out += bytes(data_off - len(out)) + blob
    out += bytes(body - len(out)) + mem
    return bytes(out), len(out) + sparse_tail


def elf_pn_xnum_sparse(count: int = 1 << 22) -> Tuple[bytes, int]:
    """PN_XNUM claiming 2**22 program headers (the limit) whose table is a hole of a
    sparse file: 235 MB of zeros that a reader must not copy."""
    out = bytearray(_ehdr(0x1000, 0xFFFF, shoff=64, shnum=1))
    out += struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, count, 0, 0)
    out += bytes(0x1000 - len(out))
    # the first entry is the real note, the rest of the table is a hole
    blob = _note_blob()
    note_off = 0x1000 + 56 * count
    out += _phdr(4, note_off, 0, 0, len(blob), 0)
    apparent = note_off + len(blob)
    return bytes(out), apparent, [(note_off, blob)]


def elf_tiny_loads(n: int = 100_000) -> Tuple[bytes, int]:
    """n PT_LOADs of one page each, memsz only (no file bytes), each at its own pfn."""
    return elf_with([_phdr(1, 0, 0, 0x100000000 + i * 4096, 0, 4096) for i in range(n)])


def elf_overlap_loads(n: int = 20_000) -> Tuple[bytes, int]:
    """n PT_LOADs each claiming 2**50 bytes from one page further: all overlap."""
    return elf_with([_phdr(1, 0, 0, 0x100000000 + i * 4096, 0, 1 << 50) for i in range(n)])


def elf_offset_wrap() -> Tuple[bytes, int]:
    """A PT_LOAD whose p_offset + p_filesz wraps past 2**64 and one whose p_vaddr does."""
    return elf_with([_phdr(1, M64 - 4095, 0xFFFFFFFFFFFFF000, 0x10000000, 1 << 20, 1 << 20),
                     _phdr(1, 0, 0xFFFFFFFFFFFFF000, 0x20000000, 0, 1 << 40)])


def elf_vaddr_over_window() -> Tuple[bytes, int]:
    """A second PT_LOAD mapping the same kernel virtual window at a physical address
    that the file does not hold (p_filesz 0): the vaddr lookup must not hide the
    real window behind zeros or loop."""
    return elf_with([_phdr(1, 0, H.KBASE, 0x40000000, 0, H.WINDOW)] * 64)


def elf_note_chain(n: int = 3000) -> Tuple[bytes, int]:
    """n PT_NOTEs at consecutive 4-byte offsets over one 4 KiB run of empty notes:
    each a distinct range, together about a million notes."""
    pad = H._note(b"", 1, b"") * 400           # 12 bytes each: 4800 bytes
    data, _ = elf_with([], extra_front=[])
    start = len(data)
    return elf_with([], extra_front=[_phdr(4, start + 4 * i, 0, 0, 4096, 0) for i in range(n)])[0] + pad, 0


def elf_note_count_loop() -> Tuple[bytes, int]:
    """One PT_NOTE of 12 bytes whose note claims n_descsz 0 n_namesz 0 type 7: a loop
    stopper (zero sizes) with a non-zero type, repeated 16 MiB worth by 1.4M headers?
    No: one header, 16 MiB p_filesz, file a few KB (the segment is cut by EOF)."""
    data, _ = elf_with([], extra_front=[])
    return elf_with([], extra_front=[_phdr(4, len(data), 0, 0, 16 << 20, 0)])[0] + \
        struct.pack("<III", 0, 0, 7) * 300, 0


def elf_many_note_headers(n: int = 65000, filesz: int = 1) -> Tuple[bytes, int]:
    """n PT_NOTE headers, each a distinct 1-byte range (no note fits in it): every
    header is new, so a reader that compares each with the ones before is quadratic."""
    return elf_with([], extra_front=[_phdr(4, 0x100 + i, 0, 0, filesz, 0) for i in range(n)])


def elf_loads_2e22() -> Tuple[bytes, int]:
    """PN_XNUM with 2**22 real PT_LOAD entries (a 235 MB table of one-page loads)."""
    return elf_with([_phdr(1, 0, 0, 0x100000000 + i * 4096, 0, 4096) for i in range((1 << 22) - 2)])


def elf_32bit() -> Tuple[bytes, int]:
    """An ELFCLASS32 i386 core with one note and one load."""
    blob = _note_blob()
    phoff, nph = 52, 2
    data_off = phoff + 32 * nph
    ph = struct.pack("<IIIIIIII", 4, data_off, 0, 0, len(blob), 0, 0, 4)
    ph += struct.pack("<IIIIIIII", 1, 4096, 0xC0000000, 0, 4096, 0xFFFFF000, 7, 4096)
    out = bytearray(_ehdr(phoff, nph, machine=3, cls=1, phentsize=32)) + ph
    out += bytes(data_off - len(out)) + blob
    out += bytes(4096 - len(out) % 4096) + bytes(4096)
    return bytes(out), 0


def elf_big_endian() -> Tuple[bytes, int]:
    """A big-endian ELF64 core (ppc64 BE, s390x) whose notes are little-endian garbage."""
    blob = _note_blob()
    out = bytearray(_ehdr(64, 2, machine=22, data=2))
    out += _phdr(4, 64 + 112, 0, 0, len(blob), 0, e=">") + _phdr(1, 8192, 0, 0, 4096, 1 << 40, e=">")
    out += blob
    out += bytes(8192 - len(out)) + bytes(4096)
    return bytes(out), 0


def elf_machine(machine: int) -> Tuple[bytes, int]:
    """The base ELF claiming another e_machine (s390x, riscv64, unknown)."""
    data = bytearray(H.elf())
    struct.pack_into("<H", data, 18, machine)
    return bytes(data), 0


def _no_arch_keys() -> str:
    """The base VMCOREINFO without x86_64's own key (SYMBOL(init_top_pgt)): nothing in
    it says which architecture wrote it."""
    return vmci(**{"SYMBOL(init_top_pgt)": None})


def elf_machine_no_arch_keys(machine: int) -> Tuple[bytes, int]:
    data = bytearray(H.elf(_no_arch_keys()))
    struct.pack_into("<H", data, 18, machine)
    return bytes(data), 0


def kdump_machine_no_arch_keys(machine: bytes) -> bytes:
    data = bytearray(H.kdump(_no_arch_keys()))
    data[12 + 4 * 65:12 + 5 * 65] = machine.ljust(65, b"\0")
    return bytes(data)


def elf_phoff_huge() -> Tuple[bytes, int]:
    data = bytearray(H.elf())
    struct.pack_into("<Q", data, 32, 1 << 63)
    return bytes(data), 0


# -- kdump-compressed ------------------------------------------------------------------
SUB = 4096            # offset of the sub-header in the kdump base


def kdump_patch(fields: List[Tuple[int, str, int]], base: bytes = None) -> bytes:
    data = bytearray(H.kdump() if base is None else base)
    for off, fmt, value in fields:
        struct.pack_into(fmt, data, off, value)
    return bytes(data)


KDUMP_CASES: Dict[str, List[Tuple[int, str, int]]] = {
    "version-1": [(8, "<i", 1)],
    "version-2": [(8, "<i", 2)],
    "version-63": [(8, "<i", 63)],
    "version-neg": [(8, "<i", -6)],
    "sub-hdr-65535": [(432, "<i", 65535)],
    "sub-hdr-neg": [(432, "<i", -1)],
    "sub-hdr-0": [(432, "<i", 0)],
    "bitmap-blocks-neg": [(436, "<I", 0x80000000)],
    "bitmap-blocks-max": [(436, "<I", 0xFFFFFFFF)],
    "max-mapnr-0": [(440, "<I", 0), (SUB + 96, "<Q", 0)],
    "max-mapnr-64-huge": [(SUB + 96, "<Q", 1 << 44)],
    "max-mapnr-64-2e63": [(SUB + 96, "<Q", (1 << 63) + 5)],
    "nr-cpus-huge": [(456, "<i", 0x7FFFFFFF)],
    "nr-cpus-neg": [(456, "<i", -5)],
    "timestamp-huge": [(408, "<q", (1 << 63) - 1), (416, "<q", -1)],
    "split-inverted": [(SUB + 12, "<i", 1), (SUB + 80, "<Q", 5), (SUB + 88, "<Q", 2)],
    "split-past-mapnr": [(SUB + 12, "<i", 1), (SUB + 80, "<Q", 0), (SUB + 88, "<Q", 1 << 40)],
    "split-empty": [(SUB + 12, "<i", 1), (SUB + 80, "<Q", 3), (SUB + 88, "<Q", 3)],
    "split-start-2e63": [(SUB + 12, "<i", 1), (SUB + 80, "<Q", 1 << 63), (SUB + 88, "<Q", M64)],
    "vmci-offset-neg": [(SUB + 32, "<q", -4096)],
    "vmci-offset-huge": [(SUB + 32, "<q", (1 << 63) - 1)],
    "vmci-size-neg": [(SUB + 40, "<Q", (1 << 64) - 100)],
    "vmci-offset-0": [(SUB + 32, "<q", 0)],
    "vmci-into-header": [(SUB + 32, "<q", 0), (SUB + 40, "<Q", 4096)],
    "note-offset-neg": [(SUB + 48, "<q", -1)],
    "note-size-16M": [(SUB + 56, "<Q", 16 << 20)],
    "erase-claims": [(SUB + 64, "<q", 1 << 62), (SUB + 72, "<Q", 1 << 62)],
    "erase-neg": [(SUB + 64, "<q", -1), (SUB + 72, "<Q", M64)],
    # in the file, but running past its end (libkdumpfile maps it: SIGBUS)
    "erase-past-eof": [(SUB + 64, "<q", 0x1000), (SUB + 72, "<Q", 1 << 24)],
    "dump-level-neg": [(SUB + 8, "<i", -1)],
    "phys-base-huge": [(SUB + 0, "<Q", M64)],
    "status-all": [(424, "<I", 0xFFFFFFFF)],
}


def _desc_off(base: bytes) -> int:
    """File offset of the first page descriptor of a kdump built by H.kdump()."""
    bitmap_blocks, = struct.unpack_from("<I", base, 436)
    return (1 + 1 + bitmap_blocks) * 4096


def kdump_descs(fn) -> bytes:
    """The base kdump with every page descriptor rewritten by fn(offset, size, flags, i)."""
    data = bytearray(H.kdump())
    d = _desc_off(data)
    for i in range(H.WINDOW // 4096):
        off, size, flags, pflags = struct.unpack_from("<qIIQ", data, d + 24 * i)
        struct.pack_into("<qIIQ", data, d + 24 * i, *fn(off, size, flags, pflags, i))
    return bytes(data)


DESC_CASES: Dict[str, Callable] = {
    "desc-offset-neg": lambda o, s, f, p, i: (-(1 << 62), s, f, p),
    "desc-offset-header": lambda o, s, f, p, i: (0, 4096, 0, p),
    "desc-offset-huge": lambda o, s, f, p, i: ((1 << 63) - 1, s, f, p),
    "desc-size-max": lambda o, s, f, p, i: (o, 0xFFFFFFFF, f, p),
    "desc-size-page-plus": lambda o, s, f, p, i: (o, 4097, 0, p),
    "desc-flags-unknown": lambda o, s, f, p, i: (o, s, 0x80, p),
    "desc-flags-all": lambda o, s, f, p, i: (o, s, 0xFFFFFFFF, p),
    "desc-flags-lzo-on-zlib": lambda o, s, f, p, i: (o, s, 2, p),
    "desc-flags-snappy-on-zlib": lambda o, s, f, p, i: (o, s, 4, p),
    "desc-flags-zstd-on-zlib": lambda o, s, f, p, i: (o, s, 0x20, p),
    "desc-raw-short": lambda o, s, f, p, i: (o, s, 0, p),
    "desc-same-page": lambda o, s, f, p, i: (_desc_off(H.kdump()) + 24 * (H.WINDOW // 4096), s, f, p),
    "desc-into-descs": lambda o, s, f, p, i: (_desc_off(H.kdump()), 24 * 5, 1, p),
}


def kdump_zstd_bomb() -> bytes:
    """A real zstd frame under a page (no content size in its header) that inflates to
    hundreds of MiB: RLE blocks of 128 KiB each."""
    blocks = 1000
    frame = b"\x28\xb5\x2f\xfd" + bytes([0x00, 0x58])     # FHD: no FCS, single-segment off; window 
    # RLE block header: last bit, type 1 (RLE), size 128 KiB - 1
    body = b""
    for i in range(blocks):
        last = 1 if i == blocks - 1 else 0
        size = (128 << 10) - 1
        hdr = last | (1 << 1) | (size << 3)
        body += struct.pack("<I", hdr)[:3] + b"\x00"
    frame += body
    return H.kdump(pages={H.PBASE // 4096: (frame[:4095], 0x20)})


def kdump_zlib_nonpage() -> bytes:
    """Every page a valid zlib stream of 100 bytes (short page) or 4097 bytes."""
    pages = {H.PBASE // 4096 + i: (zlib.compress(bytes(100 if i % 2 else 4097)), 1) for i in range(5)}
    return H.kdump(pages=pages)


def kdump_bitmap_full() -> bytes:
    """max_mapnr 2**20 (4 GiB of RAM) with a real 128 KiB bitmap pair of all ones, but
    only 5 descriptors: 2**20 dumpable pages whose descriptors lie past the end."""
    base = H.kdump()
    mapnr = 1 << 20
    bm = b"\xff" * (mapnr // 8)
    blocks = 2 * (len(bm) // 4096)
    head = bytearray(base[:2 * 4096])
    struct.pack_into("<II", head, 436, blocks, mapnr)
    struct.pack_into("<QQ", head, SUB + 88, mapnr, mapnr)
    return bytes(head) + bm + bm + base[_desc_off(base):]


def kdump_sparse_bitmap(bits: int):
    """A kdump file whose header claims 2**bits pages, with bitmaps of that size that
    are holes of a sparse file (20 KB on disk) but for the block with the 5 real pages,
    and their descriptors and data after them: readers must skip the holes (SEEK_DATA),
    not read or allocate terabytes of zeros."""
    base = H.kdump()
    mapnr = 1 << bits
    blocks = 2 * (mapnr // 8 // 4096)
    head = bytearray(base[:2 * 4096])
    struct.pack_into("<II", head, 436, blocks, mapnr & 0xFFFFFFFF)
    struct.pack_into("<QQ", head, SUB + 88, mapnr, mapnr)
    bm = bytearray(4096)
    pfn0 = H.PBASE // 4096
    for i in range(H.WINDOW // 4096):
        bm[(pfn0 + i) // 8] |= 1 << ((pfn0 + i) % 8)
    bm2_off = 2 * 4096 + (blocks // 2) * 4096
    desc_off = 2 * 4096 + blocks * 4096
    tail = base[_desc_off(base):]
    # the descriptors' page offsets move with the table
    shift = desc_off - _desc_off(base)
    tail = bytearray(tail)
    for i in range(H.WINDOW // 4096):
        off, = struct.unpack_from("<q", tail, 24 * i)
        struct.pack_into("<q", tail, 24 * i, off + shift)
    return bytes(head) + bytes(bm), 0, [(bm2_off, bytes(bm)), (desc_off, bytes(tail))]


def elf_sparse_ring(count_bits: int = 26, size_bits: int = 31, head_id: int = None):
    """An ELF whose second PT_LOAD maps 10 GiB of direct-map memory from a sparse file
    (holes read as zeros) and whose printk ring lies in it at the kernel's largest:
    2**26 descriptors and infos, a 2 GiB text ring. A reader may read the newest 2**20
    descriptors and 32 MiB of text (docs/dump-formats.md), never more."""
    dm, span = 0xFFFF888000000000, 10 << 30
    descs, infos, data = dm, dm + (2 << 30), dm + (8 << 30)
    n = 1 << count_bits
    w = H.window(count_bits=count_bits, size_bits=size_bits, descs=descs, infos=infos, data=data,
                 head_id=n + 5 if head_id is None else head_id, tail_id=6)
    head = H.elf(mem=bytes(w), loads=[(H.KBASE, H.PBASE, H.WINDOW, H.WINDOW),
                                      (dm, 1 << 32, span, span)])
    return head, len(head) + span, []


def elf_sparse_ring_big_structs(struct_size: int = 4096):
    """elf_sparse_ring with 2**20 descriptors whose VMCOREINFO sizes of struct prb_desc
    and struct printk_info are a page each (the kernel's are 24 and 88): the arrays are
    4 GiB each, in holes. Reading the newest 2**20 of them would be 8 GiB; a reader
    reads fewer, within the bytes 2**20 of today's structs take."""
    dm, span = 0xFFFF888000000000, 10 << 30
    n = 1 << 20
    w = H.window(count_bits=20, size_bits=31, descs=dm, infos=dm + (4 << 30), data=dm + (8 << 30),
                 head_id=n + 5, tail_id=6)
    text = vmci(**{"SIZE(prb_desc)": str(struct_size), "SIZE(printk_info)": str(struct_size)})
    head = H.elf(text, mem=bytes(w), loads=[(H.KBASE, H.PBASE, H.WINDOW, H.WINDOW), (dm, 1 << 32, span, span)])
    return head, len(head) + span, []


def elf_sparse_log_buf(kind: str):
    """A struct printk_log or plain log_buf of 2 GiB (LOG_BUF_LEN_MAX) in a sparse
    file's holes, with a record at the end and log_first_idx/log_end so that the walk
    spans the whole buffer: read at most 32 MiB (docs/dump-formats.md)."""
    dm, span = 0xFFFF888000000000, 2 << 30
    w = H.window(log_buf_len=span, printk_log=b"", log_end=span + 5)
    struct.pack_into("<Q", w, H.LOG_BUF_PTR - H.KBASE, dm)
    if kind == "printk_log":
        struct.pack_into("<QQ", w, H.LOG_FIRST - H.KBASE, 0, span - 64)
        base = H.VMCOREINFO_PRINTK_LOG
    else:
        base = H.VMCOREINFO_PLAIN
    head = H.elf(base, mem=bytes(w), loads=[(H.KBASE, H.PBASE, H.WINDOW, H.WINDOW), (dm, 1 << 32, span, span)])
    rec = _plog(1000, 40, 20, text=b"hostile printk_log!!") if kind == "printk_log" else b"<6>hello\n"
    return head, len(head) + span, [(len(head) + span - 64, rec)]


def diskdump() -> bytes:
    """The base kdump relabelled DISKDUMP (one bitmap, no sub-header: no VMCOREINFO)."""
    data = bytearray(H.kdump())
    data[0:8] = b"DISKDUMP"
    return bytes(data)


def kdump_cut(at: int) -> bytes:
    return H.kdump()[:at]


# -- flattened -------------------------------------------------------------------------
def flat_records(records: List[Tuple[int, int, bytes]], head: bytes = None, end: bool = True) -> bytes:
    """A makedumpfile -F stream of (offset, claimed size, data) records."""
    if head is None:
        head = bytearray(4096)
        head[0:12] = b"makedumpfile"
        struct.pack_into(">qq", head, 16, 1, 1)
    out = bytearray(head)
    for off, size, data in records:
        out += struct.pack(">qq", off, size) + data
    if end:
        out += struct.pack(">qq", -1, 0)
    return bytes(out)


def flat_cases() -> Dict[str, bytes]:
    k = H.kdump()
    return {
        "flat-size-neg.flat": flat_records([(0, 8192, k[:8192]), (8192, -5, b""), (8192, len(k) - 8192, k[8192:])]),
        "flat-offset-neg.flat": flat_records([(-4096, 16, b"x" * 16), (0, len(k), k)]),
        "flat-size-huge.flat": flat_records([(0, 8192, k[:8192]), (8192, (1 << 62), k[8192:])], end=False),
        "flat-100k-empty.flat": flat_records([(0, len(k), k)] + [(i * 8, 0, b"") for i in range(100_000)]),
        "flat-overlap-desc.flat": flat_records([(0, len(k), k)] + [(8192 + 24 * i, 8, b"\xff" * 8)
                                                                    for i in range(2000)]),
        "flat-cut-in-record.flat": flat_records([(0, len(k), k)], end=False) + b"\x00\x00\x00",
        "flat-version-huge.flat": flat_records([(0, len(k), k)],
                                               head=b"makedumpfile".ljust(16, b"\0") +
                                               struct.pack(">qq", 1 << 62, -1) + bytes(4096 - 32)),
        "flat-elf-inside.flat": flat_records([(0, 64, H.elf()[:64]), (1 << 40, 56, H.elf()[64:120])]),
        "flat-descending.flat": flat_records([(len(k) - 4096 * (i + 1), 4096, k[len(k) - 4096 * (i + 1):
                                                                                len(k) - 4096 * i])
                                              for i in range(len(k) // 4096)]),
    }


# -- split sets ------------------------------------------------------------------------
def split_part(start: int, end: int, mapnr: int = None) -> bytes:
    """The base kdump marked as a --split part covering [start, end)."""
    fields = [(SUB + 12, "<i", 1), (SUB + 80, "<Q", start), (SUB + 88, "<Q", end)]
    return kdump_patch(fields)


SPLIT_SETS: Dict[str, List[Callable[[], bytes]]] = {
    # two parts covering the same range
    "split-overlap": [lambda: split_part(0, 0x2005), lambda: split_part(0x2000, 0x2005)],
    # the same part twice
    "split-twice": [lambda: split_part(0, 0x2005), lambda: split_part(0, 0x2005)],
    # a part and a plain (non-split) dump
    "split-mixed": [lambda: split_part(0, 0x2000), lambda: H.kdump()],
    # 40 empty parts
    "split-40-empty": [(lambda i=i: split_part(i, i)) for i in range(40)],
    # a part with a different block size
    "split-block-size": [lambda: split_part(0, 0x1000),
                         lambda: kdump_patch([(SUB + 12, "<i", 1), (SUB + 80, "<Q", 0x1000),
                                              (SUB + 88, "<Q", 0x2005), (428, "<i", 8192)])],
}


# -- registry -------------------------------------------------------------------------
def _as_file(value) -> Tuple[bytes, int, List[Tuple[int, bytes]]]:
    if isinstance(value, tuple):
        if len(value) == 3:
            return value
        return value[0], value[1], []
    return value, 0, []


def builders() -> Dict[str, Callable[[], object]]:
    """name -> builder of (bytes, apparent size, [(offset, bytes) written past a hole])."""
    out: Dict[str, Callable[[], object]] = {}
    for name, ch in VMCI_CASES.items():
        out[f"vmci-{name}.elf"] = (lambda ch=ch: elf_vmci(**ch))
    for name, ch in {"plog-size-0": {"SIZE(printk_log)": "0"},
                     "plog-size-2e40": {"SIZE(printk_log)": str(1 << 40)},
                     "plog-off-len-huge": {"OFFSET(printk_log.len)": str(1 << 40)},
                     "plog-off-text-len-neg": {"OFFSET(printk_log.text_len)": "-2"},
                     "plog-off-ts-past": {"OFFSET(printk_log.ts_nsec)": "60000"},
                     "plog-first-idx-missing": {"SYMBOL(log_first_idx)": None},
                     "plog-log-buf-unmapped": {"SYMBOL(log_buf)": "ffffffff90000000"}}.items():
        out[f"vmci-{name}.elf"] = (lambda ch=ch: H.elf(
            vmci(H.VMCOREINFO_PRINTK_LOG, **ch),
            mem=bytes(H.window(printk_log=_plog(1000, 40, 20, text=b"hostile printk_log!!"))),
        ))
    out["vmci-many-lines.elf"] = vmci_many_lines
    out["vmci-prb-repeated.elf"] = vmci_prb_repeated
    out["vmci-binary.elf"] = vmci_binary
    # lockless ring
    out["ring-descs-unmapped.elf"] = lambda: ring_pointers(descs=0xFFFFFFFF90000000)
    out["ring-infos-null.elf"] = lambda: ring_pointers(infos=0)
    out["ring-data-top.elf"] = lambda: ring_pointers(data=M64 - 7)
    out["ring-descs-overlap-infos.elf"] = lambda: ring_pointers(descs=H.INFOS)
    out["ring-head-max.elf"] = lambda: ring_ids(M64, M64 - 3)
    out["ring-tail-after-head.elf"] = lambda: ring_ids(2, 10)
    out["ring-ids-full-lap.elf"] = lambda: ring_ids(1 << 40, (1 << 40) - 15)
    out["ring-count-bits-0.elf"] = lambda: ring_bits(0, H.SIZE_BITS)
    out["ring-size-bits-0.elf"] = lambda: ring_bits(H.COUNT_BITS, 0)
    out["ring-count-gt-size.elf"] = lambda: ring_bits(20, 12)
    out["ring-size-bits-26-unmapped.elf"] = lambda: ring_bits(H.COUNT_BITS, 26)
    out["ring-lpos-huge.elf"] = lambda: ring_desc_patch(_lpos(1 << 62, (1 << 62) + 64))
    out["ring-lpos-backwards.elf"] = lambda: ring_desc_patch(_lpos(400, 8))
    out["ring-lpos-span-lap.elf"] = lambda: ring_desc_patch(_lpos(0, 1 << 40))
    out["ring-lpos-all-ones.elf"] = lambda: ring_desc_patch(_lpos(M64, M64))
    out["ring-text-len-max.elf"] = lambda: ring_desc_patch(
        lambda w, d, inf, i: struct.pack_into("<H", w, inf + 16, 0xFFFF))
    out["ring-state-garbage.elf"] = lambda: ring_desc_patch(
        lambda w, d, inf, i: struct.pack_into("<Q", w, d, M64 - i))
    out["ring-seq-garbage.elf"] = lambda: ring_desc_patch(
        lambda w, d, inf, i: struct.pack_into("<Q", w, inf, (M64 - i * 1000)))
    out["ring-ts-max.elf"] = lambda: ring_desc_patch(
        lambda w, d, inf, i: struct.pack_into("<Q", w, inf + 8, M64))
    out["ring-dev-info-no-nul.elf"] = lambda: ring_desc_patch(
        lambda w, d, inf, i: w.__setitem__(slice(inf + 24, inf + 88), b"\xff" * 64))
    out["ring-same-block.elf"] = _full_ring_same_block
    out["ring-2e26-sparse.elf"] = elf_sparse_ring
    out["ring-2e20-page-structs-sparse.elf"] = elf_sparse_ring_big_structs
    out["plog-2G-sparse.elf"] = lambda: elf_sparse_log_buf("printk_log")
    out["plain-2G-sparse.elf"] = lambda: elf_sparse_log_buf("plain")
    out["ring-wrapping-blocks.elf"] = _wrapping_blocks
    out["ring-no-live-text.elf"] = ring_no_live_text
    # printk_log records
    rec = _plog(1000, 40, 20, text=b"hostile printk_log!!")
    out["plog-len-0.elf"] = lambda: printk_log_records(_plog(1, 0, 5) + rec, nxt=0x200)
    out["plog-wrap-marker-loop.elf"] = lambda: printk_log_records(_plog(1, 0, 0) * 4, first=0, nxt=0x300)
    out["plog-first-past-buf.elf"] = lambda: printk_log_records(rec, first=1 << 40)
    out["plog-next-past-buf.elf"] = lambda: printk_log_records(rec, nxt=1 << 40)
    out["plog-first-unaligned.elf"] = lambda: printk_log_records(rec * 3, first=3, nxt=120)
    out["plog-text-past-len.elf"] = lambda: printk_log_records(_plog(1, 24, 4000) + rec, nxt=64)
    out["plog-dict-past-len.elf"] = lambda: printk_log_records(_plog(1, 24, 4, 0xFFFF) + rec, nxt=64)
    out["plog-len-8-chain.elf"] = lambda: printk_log_records(b"".join(
        struct.pack("<QHHHBB", i, 16, 0, 0, 0, 6) for i in range(60)), nxt=0x3C0)
    out["plog-buf-len-0.elf"] = lambda: printk_log_records(rec, log_buf_len=0)
    out["plog-buf-len-7.elf"] = lambda: printk_log_records(rec, log_buf_len=7)
    # plain
    out["plain-len-not-pow2.elf"] = lambda: plain_ring(1000, 9)
    out["plain-len-0.elf"] = lambda: plain_ring(0, 9)
    out["plain-end-neg.elf"] = lambda: plain_ring(0x400, M64)
    out["plain-end-huge.elf"] = lambda: plain_ring(0x400, 1 << 62)
    out["plain-no-newline.elf"] = lambda: plain_ring(0x400, 0x400, b"<6>" + b"A" * 0x3FD)
    # ELF
    out["pn-xnum-2e22-sparse.elf"] = elf_pn_xnum_sparse
    out["pn-xnum-2e22-plus1.elf"] = lambda: elf_pn_xnum_sparse((1 << 22) + 1)
    out["loads-100k-tiny.elf"] = elf_tiny_loads
    out["loads-20k-overlap-2e50.elf"] = elf_overlap_loads
    out["notes-65000-headers.elf"] = elf_many_note_headers
    out["loads-offset-wrap.elf"] = elf_offset_wrap
    out["loads-vaddr-shadow.elf"] = elf_vaddr_over_window
    out["notes-3000-chain.elf"] = elf_note_chain
    out["notes-16M-cut.elf"] = elf_note_count_loop
    out["class32-i386.elf"] = elf_32bit
    out["big-endian-s390x.elf"] = elf_big_endian
    out["machine-s390x.elf"] = lambda: elf_machine(22)
    out["machine-riscv.elf"] = lambda: elf_machine(243)
    out["machine-unknown.elf"] = lambda: elf_machine(0x7777)
    out["machine-unknown-no-arch-keys.elf"] = lambda: elf_machine_no_arch_keys(0x7777)
    out["kd-machine-x80_64-no-arch-keys.kdump"] = lambda: kdump_machine_no_arch_keys(b"x80_64")
    out["kd-machine-nul-no-arch-keys.kdump"] = lambda: kdump_machine_no_arch_keys(b"\0x86_64")
    out["phoff-2e63.elf"] = elf_phoff_huge
    # kdump
    for name, fields in KDUMP_CASES.items():
        out[f"kd-{name}.kdump"] = (lambda fields=fields: kdump_patch(fields))
    for name, fn in DESC_CASES.items():
        out[f"kd-{name}.kdump"] = (lambda fn=fn: kdump_descs(fn))
    out["kd-zstd-rle-bomb.kdump"] = kdump_zstd_bomb
    out["kd-zlib-not-a-page.kdump"] = kdump_zlib_nonpage
    out["kd-bitmap-full-2e20.kdump"] = kdump_bitmap_full
    out["kd-diskdump.kdump"] = diskdump
    out["kd-sparse-bitmap-2e36.kdump"] = lambda: kdump_sparse_bitmap(36)
    out["kd-sparse-bitmap-2e40.kdump"] = lambda: kdump_sparse_bitmap(40)
    for at in (100, 464, 4096 + 50, 4096 + 300, 8192 + 10, 3 * 4096 + 30):
        out[f"kd-cut-{at}.kdump"] = (lambda at=at: kdump_cut(at))
    for name, data in flat_cases().items():
        out[name] = (lambda data=data: data)
    return out


def write_file(path: str, value) -> None:
    data, apparent, extra = _as_file(value)
    with open(path, "wb") as f:
        f.write(data)
        for off, blob in extra:
            f.seek(off)
            f.write(blob)
        if apparent and apparent > f.tell():
            f.truncate(apparent)


def write_all(outdir: str, only: List[str] = None) -> Dict[str, List[str]]:
    """Write every file (and every split set as NAME.partN) into outdir:
    name -> [paths] (one path per file; split sets several)."""
    os.makedirs(outdir, exist_ok=True)
    out: Dict[str, List[str]] = {}
    for name, build in builders().items():
        if only and name not in only:
            continue
        path = os.path.join(outdir, name)
        write_file(path, build())
        out[name] = [path]
    for name, parts in SPLIT_SETS.items():
        if only and name not in only:
            continue
        paths = []
        for i, build in enumerate(parts):
            path = os.path.join(outdir, f"{name}.part{i}")
            write_file(path, build())
            paths.append(path)
        out[name] = paths
    return out


if __name__ == "__main__":
    for name, paths in write_all(sys.argv[1] if len(sys.argv) > 1 else ".", sys.argv[2:]).items():
        print(name, *paths)
