"""ElfReader on small ELF cores built here to the ELF spec (what real dumps cannot cover:
ELF32, big-endian, program headers after section headers, PN_XNUM with a
hand-set count, p_filesz < p_memsz, the makedumpfile incomplete flag).
Oracle: the bytes we place at known physical addresses."""

import struct

import pytest

from triage.dumps.elf import ElfReader
from triage.errors import CorruptDumpError, MemoryReadError


def _note(name: bytes, ntype: int, desc: bytes, e: str) -> bytes:
    name0 = name + b"\0"
    pad = lambda b: b + bytes(-len(b) % 4)  # noqa: E731
    return struct.pack(e + "III", len(name0), len(desc), ntype) + pad(name0) + pad(desc)


def build_core(elf64=True, big=False, xnum=False, loads=((0x1000, b"A" * 0x2000, 0x2000),),
               vmcoreinfo=b"OSRELEASE=9.9.9\nPAGESIZE=4096\nCRASHTIME=1700000000", e_flags=0,
               phdrs_after_shdr=False):
    """An ET_CORE with one PT_NOTE and PT_LOADs (paddr, bytes, memsz)."""
    e = ">" if big else "<"
    notes = _note(b"VMCOREINFO", 0, vmcoreinfo, e) + _note(b"CORE", 1, bytes(336), e)
    ehsize, phent, shent = (64, 56, 64) if elf64 else (52, 32, 40)
    nph = 1 + len(loads)
    shoff = ehsize if (xnum or phdrs_after_shdr) else 0
    phoff = ehsize + (shent if shoff else 0)
    data_off = phoff + nph * phent
    body = notes
    ph = b""
    off = data_off
    if elf64:
        ph += struct.pack(e + "IIQQQQQQ", 4, 0, off, 0, 0, len(notes), len(notes), 4)
    else:
        ph += struct.pack(e + "IIIIIIII", 4, off, 0, 0, len(notes), len(notes), 0, 4)
    off += len(notes)
    for paddr, data, memsz in loads:
        if elf64:
            ph += struct.pack(e + "IIQQQQQQ", 1, 7, off, 0, paddr, len(data), memsz, 0)
        else:
            ph += struct.pack(e + "IIIIIIII", 1, off, 0, paddr, len(data), memsz, 7, 0)
        body += data
        off += len(data)
    ident = b"\x7fELF" + bytes([2 if elf64 else 1, 2 if big else 1, 1]) + bytes(9)
    e_phnum = 0xFFFF if xnum else nph
    if elf64:
        hdr = ident + struct.pack(e + "HHIQQQIHHHHHH", 4, 62, 1, 0, phoff, shoff, e_flags, ehsize,
                                  phent, e_phnum, shent, 1 if shoff else 0, 0)
        sh = struct.pack(e + "IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, nph, 0, 0) if shoff else b""
    else:
        hdr = ident + struct.pack(e + "HHIIIIIHHHHHH", 4, 3, 1, 0, phoff, shoff, e_flags, ehsize,
                                  phent, e_phnum, shent, 1 if shoff else 0, 0)
        sh = struct.pack(e + "IIIIIIIIII", 0, 0, 0, 0, 0, 0, 0, nph, 0, 0) if shoff else b""
    return hdr + sh + ph + body


@pytest.mark.parametrize("elf64", [True, False])
@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("xnum", [False, True])
def test_layouts(tmp_path, elf64, big, xnum):
    p = tmp_path / "core"
    p.write_bytes(build_core(elf64=elf64, big=big, xnum=xnum,
                             loads=((0x1000, b"A" * 0x1000 + b"B" * 0x1000, 0x2000),
                                    (0x10000, b"C" * 0x1000, 0x3000))))
    with ElfReader(str(p)) as r:
        assert r.vmcoreinfo().startswith("OSRELEASE=9.9.9")
        assert r.read_phys(0x1ffe, 4) == b"AABB"
        assert r.read_phys(0x10000, 2) == b"CC"
        # inside p_memsz, beyond p_filesz: zeros, as crash reads them (makedumpfile -E
        # leaves excluded zero pages out this way)
        assert r.read_phys(0x10ffe, 4) == b"CC\0\0"
        assert r.read_phys(0x11000, 0x2000) == bytes(0x2000)
        assert not r.has_page(0x11)
        with pytest.raises(MemoryReadError, match="not in the dump"):
            r.read_phys(0x5000, 1)
        f = r.facts()
        assert f.header["elf_class"] == (64 if elf64 else 32)
        assert f.header["cpus_prstatus"] == 1
        assert f.pages_present == 3 and f.pages_total == 5
        assert f.complete


def test_phdrs_after_section_headers(tmp_path):
    p = tmp_path / "core"
    p.write_bytes(build_core(phdrs_after_shdr=True))
    with ElfReader(str(p)) as r:
        assert r.read_phys(0x1000, 1) == b"A"


def test_incomplete_flag_and_truncation(tmp_path):
    p = tmp_path / "core"
    raw = build_core(e_flags=1, loads=((0x1000, b"A" * 0x2000, 0x2000),))
    p.write_bytes(raw[:-0x1000])
    with ElfReader(str(p)) as r:
        f = r.facts()
        assert not f.complete
        assert any("incomplete" in x for x in f.problems)
        assert any("truncated" in x for x in f.problems)
        assert r.read_phys(0x1000, 0x1000) == b"A" * 0x1000
        with pytest.raises(MemoryReadError, match="truncated"):
            r.read_phys(0x2000, 1)


def test_damaged_headers(tmp_path):
    raw = bytearray(build_core())
    p = tmp_path / "core"
    bad = bytearray(raw)
    bad[32:40] = struct.pack("<Q", 1 << 40)           # e_phoff far beyond EOF
    p.write_bytes(bad)
    with pytest.raises(CorruptDumpError, match="program header table"):
        ElfReader(str(p))
    bad = bytearray(raw)
    bad[54:56] = struct.pack("<H", 40)                # e_phentsize
    p.write_bytes(bad)
    with pytest.raises(CorruptDumpError, match="program header size"):
        ElfReader(str(p))


# -- program header entries of other types (issue 11, "damage named") ------------------
# The table is read in chunks and only PT_LOAD/PT_NOTE entries are decoded; the others
# must still be named. Once they were skipped unseen, and both findings below went
# silent (their tests, on real dumps only, skipped where no dump had been generated).

def _problems(tmp_path, raw: bytes):
    p = tmp_path / "core"
    p.write_bytes(raw)
    r = ElfReader(str(p))
    try:
        return r.facts().problems
    finally:
        r.close()


def _three_loads() -> bytearray:
    return bytearray(build_core(loads=[(0x1000 * (k + 1), bytes([65 + k]) * 0x1000, 0x1000) for k in range(3)]))


def test_flipped_p_type_is_named(tmp_path):
    raw = _three_loads()
    struct.pack_into("<I", raw, 64 + 2 * 56, 7)            # PT_LOAD -> PT_TLS
    said = "; ".join(_problems(tmp_path, bytes(raw)))
    assert "program header 2 field p_type is 0x7, neither PT_LOAD nor PT_NOTE" in said, said


def test_unwritten_program_headers_are_named(tmp_path):
    """makedumpfile -E writes the table last: stopped by a full disk, it leaves zeros."""
    raw = _three_loads()
    raw[64 + 2 * 56:64 + 4 * 56] = bytes(2 * 56)
    said = "; ".join(_problems(tmp_path, bytes(raw)))
    assert "program headers 2-3 were never written" in said and "p_type" not in said, said
    raw[64 + 3 * 56:64 + 4 * 56] = _three_loads()[64 + 3 * 56:64 + 4 * 56]
    said = "; ".join(_problems(tmp_path, bytes(raw)))
    assert "program header 2 was never written" in said, said


def test_many_odd_program_headers_are_counted(tmp_path):
    raw = bytearray(build_core(loads=[(0x1000 * (k + 1), bytes([65 + k]) * 0x1000, 0x1000) for k in range(5)]))
    for k in (1, 2, 3, 4, 5):
        struct.pack_into("<I", raw, 64 + k * 56, 0x6474E550 + k)
    said = _problems(tmp_path, bytes(raw))
    assert sum("field p_type is" in s for s in said) == 3, said
    assert "2 more program headers have a p_type neither PT_LOAD nor PT_NOTE" in said, said
    clean = _problems(tmp_path, bytes(_three_loads()))
    assert not any("p_type" in s or "never written" in s for s in clean), clean


# -- a p_offset past the end of a whole file (damaged real dumps, issue 11) ------------

def test_p_offset_past_the_end_of_a_whole_file_is_named(tmp_path):
    """The file ends where a segment's data ends and one PT_LOAD's p_offset points past
    it: a damaged p_offset, named, not 'file is truncated'. A file cut inside a segment
    still says truncated."""
    raw = _three_loads()
    struct.pack_into("<Q", raw, 64 + 2 * 56 + 8, 1 << 40)
    said = "; ".join(_problems(tmp_path, bytes(raw)))
    assert f"program header 2 (PT_LOAD) field p_offset {1 << 40:#x} puts its data past the end" in said, said
    assert "truncated" not in said, said
    cut = "; ".join(_problems(tmp_path, bytes(_three_loads()[:-0x800])))
    assert "file is truncated: 2048 bytes" in cut and "p_offset" not in cut, cut


def test_whole_copy_of_the_same_frames_is_read_before_a_damaged_one(tmp_path):
    """makedumpfile -E writes the kernel image twice (text mapping and direct map, same
    paddr): when the first copy's p_offset is damaged, the frames read from the other."""
    raw = bytearray(build_core(loads=[(0x1000, b"K" * 0x1000, 0x1000), (0x1000, b"K" * 0x1000, 0x1000)]))
    struct.pack_into("<Q", raw, 64 + 1 * 56 + 8, 1 << 40)
    p = tmp_path / "core"
    p.write_bytes(bytes(raw))
    with ElfReader(str(p)) as r:
        assert r.read_phys(0x1000, 0x1000) == b"K" * 0x1000
        assert any("program header 1 (PT_LOAD) field p_offset" in s for s in r.facts().problems)


@pytest.mark.parametrize("big", [False, True])
def test_flipped_ei_data_is_named(tmp_path, big):
    """A core whose EI_DATA byte says the other byte order reads e_type as 0x400: the
    flipped byte is named (exit 5), not 'ELF file of type 1024, not a core dump'."""
    raw = bytearray(build_core(big=big))
    raw[5] = 1 if big else 2
    p = tmp_path / "core"
    p.write_bytes(bytes(raw))
    with pytest.raises(CorruptDumpError, match=r"e_ident\[EI_DATA\] is \d .*damaged EI_DATA"):
        ElfReader(str(p))
