"""Write a guest as an ELF64 vmcore shaped like a kexec /proc/vmcore copy.

Notes first (one NT_PRSTATUS "CORE" note, then VMCOREINFO), then a PT_LOAD for the
kernel image at its runtime virtual address and one PT_LOAD per RAM range at its
direct-map address, as kexec-tools lays them out.
"""

import struct
from typing import BinaryIO, List, Tuple

from guest import PAGE, RAM, Guest

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
IMAGE_SIZE = 0x800000


def note(name: bytes, ntype: int, desc: bytes) -> bytes:
    n = name + b"\0"
    pad = lambda b: b + bytes(-len(b) % 4)
    return struct.pack("<III", len(n), len(desc), ntype) + pad(n) + pad(desc)


def prstatus(pid: int, rip: int) -> bytes:
    """x86_64 elf_prstatus (336 bytes) with pr_pid and RIP set."""
    desc = bytearray(336)
    struct.pack_into("<i", desc, 32, pid)              # pr_pid
    struct.pack_into("<Q", desc, 112 + 16 * 8, rip)    # pr_reg: r15..ss, rip is index 16
    return bytes(desc)


def segments(g: Guest) -> List[Tuple[int, int, int]]:
    """(vaddr, paddr, size) for every PT_LOAD."""
    segs = [(g.text, g.profile.load_phys, IMAGE_SIZE)]
    for a, b in RAM:
        segs.append((g.profile.page_offset + a, a, b - a))
    return segs


def write_elf(g: Guest, out: BinaryIO) -> None:
    notes = note(b"CORE", 1, prstatus(1234, g.crash_rip)) + note(b"VMCOREINFO", 0, g.vmcoreinfo.encode())
    segs = segments(g)
    phnum = 1 + len(segs)
    off = EHDR.size + phnum * PHDR.size
    note_off = off
    data_off = (note_off + len(notes) + PAGE - 1) // PAGE * PAGE
    ident = b"\x7fELF\x02\x01\x01" + bytes(9)
    out.write(EHDR.pack(ident, 4, 62, 1, 0, EHDR.size, 0, 0, EHDR.size, PHDR.size, phnum, 0, 0, 0))
    out.write(PHDR.pack(4, 0, note_off, 0, 0, len(notes), len(notes), 0))
    pos = data_off
    for vaddr, paddr, size in segs:
        out.write(PHDR.pack(1, 7, pos, vaddr, paddr, size, size, 0))
        pos += size
    out.write(notes)
    out.write(bytes(data_off - out.tell()))
    zero = bytes(PAGE)
    for _v, paddr, size in segs:
        for pfn in range(paddr // PAGE, (paddr + size) // PAGE):
            out.write(g.page_bytes(pfn) or zero)
