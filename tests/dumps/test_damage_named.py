"""Damage named (issue 11): a flipped header byte of a real dump is reported with the
field it hit; a dump cut before its log points at the log saved beside it; the ELF
from makedumpfile -E -d 31 (excluded zero pages as p_filesz < p_memsz) is complete.

Oracle: the real dumps the generator made (sample_dumps/committed, sample_dumps/out),
with one byte changed at a documented offset of the format (makedumpfile's
diskdump_mod.h, the ELF specification).
"""

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from triage.dumps.elf import ElfReader
from triage.dumps.kdump import KdumpReader
from triage.dumps.store import FileStore, Store
from triage.errors import TriageError

ROOT = Path(__file__).resolve().parents[2]
KDUMP = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"
sys.path.insert(0, str(ROOT / "tests"))
from _realdumps import dump_files  # noqa: E402
from _synthetic import ring_infos_desc_offset  # noqa: E402


class Patched(Store):
    """A real dump file with some bytes replaced, read in place (no 100 MB copies)."""

    def __init__(self, path: Path, patches: dict):
        self.inner = FileStore(str(path))
        self.path, self.size, self.problems = str(path), self.inner.size, []
        self.patches = patches

    def _apply(self, offset: int, data: bytes) -> bytes:
        if not data:
            return data
        out = bytearray(data)
        for at, val in self.patches.items():
            if offset <= at < offset + len(out):
                out[at - offset] = val
        return bytes(out)

    def read(self, offset, length):
        return self._apply(offset, self.inner.read(offset, length))

    def read_present(self, offset, length):
        data = self.inner.read_present(offset, length)
        return None if data is None else self._apply(offset, data)

    def close(self):
        self.inner.close()


def _kdump_problem(patches: dict) -> str:
    """All the kdump reader says about the patched committed dump: problems or error."""
    try:
        with KdumpReader([Patched(KDUMP, patches)]) as r:
            return " | ".join(r.facts().problems)
    except TriageError as exc:
        return str(exc)


def _flip(offset: int, xor: int = 0x10) -> dict:
    with open(KDUMP, "rb") as f:
        f.seek(offset)
        return {offset: f.read(1)[0] ^ xor}


UTS = 12                     # struct new_utsname at offset 12: 6 fields of 65 bytes
BLOCK = 4096                 # the committed dump's block_size
# (offset, xor, the field the message must name)
KDUMP_FIELDS = [
    (8, 0x40, "header_version"),
    (UTS, 0x20, "utsname.sysname"),
    (UTS + 2 * 65, 0x01, "utsname.release"),
    (UTS + 4 * 65, 0x20, "utsname.machine"),
    (411, 0x80, "timestamp"),        # tv_sec moved by 2^31 s: decades off the crash time
    (425, 0x01, "status"),
    (429, 0x01, "block_size"),
    (432, 0x01, "sub_hdr_size"),
    (436, 0x01, "bitmap_blocks"),
    (442, 0x01, "max_mapnr"),
    (460, 0x04, "nr_cpus"),
    (BLOCK + 3, 0x01, "phys_base"),          # sub-header phys_base vs NUMBER(phys_base)
    (BLOCK + 8, 0x40, "dump_level"),
    (BLOCK + 45, 0x01, "size_vmcoreinfo"),
    (BLOCK + 61, 0x01, "size_note"),
    (BLOCK + 96 + 3, 0x01, "max_mapnr"),     # max_mapnr_64 of the v6 sub-header
]


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
def test_unflipped_committed_dump_is_clean():
    assert _kdump_problem({}) == ""


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
@pytest.mark.parametrize("offset,xor,field", KDUMP_FIELDS, ids=[f[2] + f"@{f[0]}" for f in KDUMP_FIELDS])
def test_flipped_kdump_header_byte_names_the_field(offset, xor, field):
    with open(KDUMP, "rb") as f:
        f.seek(offset)
        orig = f.read(1)[0]
    said = _kdump_problem({offset: orig ^ xor})
    assert field in said, said


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
def test_flipped_bitmap_byte_is_named():
    """A flipped byte in the 2nd (dumpable) bitmap moves every later descriptor."""
    with KdumpReader([FileStore(str(KDUMP))]) as r:
        h = r._parts[0].hdr
        at = h.bitmap_offset + h.bitmap_bytes + 100       # inside the 2nd bitmap, low memory
    said = _kdump_problem(_flip(at, 0x01))
    assert "2nd bitmap" in said, said


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
def test_flipped_header_cli_exit_6_names_field(tmp_path):
    """End to end: the copy with a flipped nr_cpus prints its log, exits 6, names nr_cpus."""
    p = tmp_path / "vmcore"
    shutil.copyfile(KDUMP, p)
    with open(p, "r+b") as f:
        f.seek(460)
        f.write(bytes([f.read(1)[0] ^ 0x04]))
    r = subprocess.run([sys.executable, "-m", "triage", "dmesg", str(p)], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 6, r.stderr
    assert "Kernel panic" in r.stdout or "BUG:" in r.stdout
    assert len(r.stderr.splitlines()) == 1 and "nr_cpus" in r.stderr and str(p) in r.stderr


ELF_REAL = [p for p in dump_files("elf") if "mdf-elf" in p.name or p.name == "vmcore-elf"]
# (offset, new byte, the field the message must name) in an ELF64 header
ELF_FIELDS = [
    (6, 2, "EI_VERSION"),
    (7, 0x61, "EI_OSABI"),
    (18, 0x3F, "e_machine"),
    (20, 2, "e_version"),
    (54, 0x39, "program header size"),      # e_phentsize: the reader cannot go on
]


@pytest.mark.skipif(not ELF_REAL, reason="no makedumpfile -E dump in sample_dumps/out")
@pytest.mark.parametrize("offset,val,field", ELF_FIELDS, ids=[f[2] for f in ELF_FIELDS])
def test_flipped_elf_header_byte_names_the_field(offset, val, field):
    try:
        with ElfReader(str(ELF_REAL[0]), data=Patched(ELF_REAL[0], {offset: val})) as r:
            f = r.facts()
            said = " | ".join(f.problems)
            assert not f.complete
    except TriageError as exc:
        said = str(exc)
    assert field in said, said


@pytest.mark.skipif(not ELF_REAL, reason="no makedumpfile -E dump in sample_dumps/out")
def test_elf_load_offset_into_headers_is_named():
    with open(ELF_REAL[0], "rb") as f:
        head = f.read(4096)
    phoff = struct.unpack_from("<Q", head, 32)[0]
    at = phoff + 56 + 8          # p_offset of program header 1 (the first PT_LOAD)
    patches = {at + i: b for i, b in enumerate(struct.pack("<Q", 16))}
    with ElfReader(str(ELF_REAL[0]), data=Patched(ELF_REAL[0], patches)) as r:
        said = " | ".join(r.facts().problems)
    assert "program header 1 field p_offset" in said, said


@pytest.mark.parametrize("dump", ELF_REAL, ids=[str(p.relative_to(ROOT)) for p in ELF_REAL])
def test_makedumpfile_E_d31_is_complete_and_reads_zero_tails(dump):
    """makedumpfile -E -d 31 writes excluded pages as p_filesz < p_memsz: the dump is
    not partial, and the tail reads as zeros, as crash reads it."""
    with ElfReader(str(dump)) as r:
        f = r.facts()
        assert f.complete, f.problems
        tails = [s for s in r._segs if s.filesz < s.memsz]
        assert tails and f.header["segments_with_excluded_tail"] == len(tails)
        s = tails[0]
        assert r.read_phys(s.paddr + s.filesz, 4096) == bytes(4096)
    res = subprocess.run([sys.executable, "-m", "triage", "dmesg", str(dump)], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert res.returncode == 0 and not res.stderr, res.stderr
    oracle = dump.parent / (dump.name + ".makedumpfile-dmesg.txt")
    if oracle.exists():
        # makedumpfile --dump-dmesg on the same file: same records, same order
        want = [ln for ln in oracle.read_text(errors="replace").splitlines() if ln.startswith("[")]
        assert want[-1] in res.stdout.splitlines()


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
@pytest.mark.parametrize("beside", ["vmcore-dmesg.txt", "dmesg.202612061429", None])
def test_dump_cut_before_log_points_at_the_log_beside_it(tmp_path, beside):
    d = tmp_path / "127.0.0.1-2026-12-06-14:29:22" if beside != "dmesg.202612061429" else tmp_path / "202612061429"
    d.mkdir()
    name = "dump.202612061429" if beside == "dmesg.202612061429" else "vmcore"
    with open(KDUMP, "rb") as src, open(d / name, "wb") as dst:
        dst.write(src.read(3_000_000))         # headers, bitmaps, descriptors, not the log
    if beside:
        shutil.copyfile(KDUMP.parent / "vmcore-dmesg.txt", d / beside)
    r = subprocess.run([sys.executable, "-m", "triage", "dmesg", str(d / name)], capture_output=True,
                       text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 5
    line, = r.stderr.splitlines()
    assert "cut short before its kernel log" in line and str(d / name) in line
    if beside:
        assert line.endswith(f"the kernel log saved beside it is {d / beside}")
    else:
        assert "no vmcore-dmesg.txt or dmesg.<stamp> lies beside it" in line


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
@pytest.mark.parametrize("cut,says", [
    (300, "file ends inside the disk_dump_header"),
    (5000, "cut short before its VMCOREINFO (the vmcoreinfo area at 0x1348 lies beyond the end of the file)"),
    (20000, "cut short before its kernel log (file ends inside the page bitmaps)"),
    (400000, "cut short before its kernel log (file is truncated inside the page descriptor table"),
    (15000000, "cut short before its kernel log (file is truncated: page data should extend to offset"),
])
def test_truncated_real_dump_names_where_it_was_cut(tmp_path, cut, says):
    p = tmp_path / "vmcore"
    with open(KDUMP, "rb") as src:
        p.write_bytes(src.read(cut))
    r = subprocess.run([sys.executable, "-m", "triage", "dmesg", str(p)], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 5
    line, = r.stderr.splitlines()
    assert line.startswith(f"triage: error: {p}: ") and says in line, line


def _ring_infos_desc_offset() -> int:
    """File offset of the page descriptor of the page holding the committed dump's
    printk_info array (the first page the log reader needs)."""
    return ring_infos_desc_offset(KDUMP)


def _log_error(patches: dict) -> str:
    from triage.logsource import read_dump_log
    with KdumpReader([Patched(KDUMP, patches)]) as r:
        with pytest.raises(TriageError) as exc:
            read_dump_log(r)
        return str(exc.value)


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
def test_page_descriptor_offset_past_the_end_is_damage_not_a_cut():
    """A flipped high byte of one page descriptor's offset: the file is whole (its last
    descriptors end at its end), so this is a damaged descriptor, named with its
    offset, not 'beyond the truncated end of the file' nor 'cut short'."""
    at = _ring_infos_desc_offset() + 6
    said = _log_error({at: 0x7F})
    assert "has a damaged page descriptor (offset 0x7f" in said and "whose page data is whole" in said, said
    assert "cut short" not in said and "truncated" not in said, said
    assert said.startswith(f"{KDUMP}: its kernel log cannot be read (")


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
def test_sub_hdr_size_past_the_end_is_named_not_a_cut():
    """sub_hdr_size 0xffff (two flipped bytes) puts the bitmaps 256 MiB into a 22 MB
    file whose sub-header areas end in block 2: the field is named, not 'file ends
    inside the page bitmaps' (a truncation)."""
    said = _kdump_problem({432: 0xFF, 433: 0xFF})
    assert "header field sub_hdr_size is 65535 blocks, but the sub-header's areas end in block 2" in said, said
    assert "file ends inside the page bitmaps" not in said, said
    # a file really cut inside its bitmaps still says so
    assert "file ends inside the page bitmaps" in _cut_problem(20000)


def _cut_problem(size: int) -> str:
    class Cut(Patched):
        def __init__(self):
            super().__init__(KDUMP, {})
            self.size = size

        def read(self, offset, length):
            return self.inner.read(offset, max(0, min(length, size - offset)))

        def read_present(self, offset, length):
            return None if offset + length > size else self.inner.read_present(offset, length)
    with KdumpReader([Cut()]) as r:
        return " | ".join(r.facts().problems)


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
def test_damaged_vmcoreinfo_area_points_at_the_log_beside(tmp_path):
    """size_vmcoreinfo with a flipped high byte: named (exit 5) and, as for the other
    damage that leaves no log, pointing at the vmcore-dmesg.txt beside the dump (the
    error came from reading VMCOREINFO, after the open, and had no hint)."""
    d = tmp_path / "127.0.0.1-2026-12-06-14:29:22"
    d.mkdir()
    p = d / "vmcore"
    shutil.copyfile(KDUMP, p)
    shutil.copyfile(KDUMP.parent / "vmcore-dmesg.txt", d / "vmcore-dmesg.txt")
    with open(p, "r+b") as f:
        f.seek(BLOCK + 43)
        f.write(b"\x7f")
    r = subprocess.run([sys.executable, "-m", "triage", "dmesg", str(p)], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 5, r.stderr
    line, = r.stderr.splitlines()
    assert "size_vmcoreinfo" in line and line.endswith(f"the kernel log saved beside it is {d / 'vmcore-dmesg.txt'}")


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
@pytest.mark.parametrize("field,at,value", [("offset_vmcoreinfo", BLOCK + 32, -1),
                                            ("offset_vmcoreinfo", BLOCK + 32, 0),
                                            ("offset_note", BLOCK + 48, -(1 << 63))])
def test_sub_header_area_offset_before_the_file_is_named(field, at, value):
    """A negative (or zero: block 0 is the header) offset with a non-zero size was
    silently taken as "no such area" (exit 0, complete), while one past the end was
    named partial (hostile campaign, session 8)."""
    patches = dict(zip(range(at, at + 8), struct.pack("<q", value)))
    with KdumpReader([Patched(KDUMP, patches)]) as r:
        r.vmcoreinfo()
        r.notes()
        facts = r.facts()
    assert not facts.complete
    assert any(f"sub-header field {field} is {value:#x}" in p for p in facts.problems), facts.problems
