"""Damage named, the header bytes the first round left silent (issue 11, verification).

Every byte of the committed kdump header and of a real makedumpfile -E program header
table was flipped; these flips changed nothing anyone could see:
- a kdump header's utsname: bytes after a field's terminating NUL, or inside the
  version and host name strings (checked against init_uts_ns in the dump's memory);
- an ELF PT_LOAD's p_type (the segment vanished) or p_offset (its bytes shifted);
- and `triage analyze` said only "partial input", never what was damaged.

Oracles: the real dumps; the layouts of makedumpfile's diskdump_mod.h and the ELF spec.
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
from triage.dumps.store import FileStore

ROOT = Path(__file__).resolve().parents[2]
KDUMP = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "dumps"))
from _realdumps import dump_files  # noqa: E402
from test_damage_named import Patched  # noqa: E402

UTS = 12
NODENAME, VERSION, DOMAIN = UTS + 65, UTS + 3 * 65, UTS + 5 * 65


def _byte(path: Path, at: int) -> int:
    with open(path, "rb") as f:
        f.seek(at)
        return f.read(1)[0]


def _kdump_problems(patches: dict) -> str:
    with KdumpReader([Patched(KDUMP, patches)]) as r:
        return " | ".join(r.facts().problems)


def _run(*args):
    return subprocess.run([sys.executable, "-m", "triage", *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300)


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
@pytest.mark.parametrize("at,field", [(UTS + 20, "sysname"), (NODENAME + 30, "nodename"),
                                      (UTS + 2 * 65 + 40, "release"), (VERSION + 64, "version"),
                                      (DOMAIN + 10, "domainname")])
def test_utsname_padding_byte_is_named(at, field):
    assert _byte(KDUMP, at) == 0          # padding after the terminator, in the real dump
    said = _kdump_problems({at: 0x01})
    assert f"utsname.{field} has non-zero bytes after its terminating NUL" in said, said


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
def test_utsname_control_byte_is_named():
    said = _kdump_problems({DOMAIN + 1: 0x07})
    assert "utsname.domainname holds bytes that are no text" in said, said


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
def test_unflipped_utsname_is_clean():
    with KdumpReader([FileStore(str(KDUMP))]) as r:
        assert r._parts[0].hdr.utsname_damage == []


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
@pytest.mark.parametrize("command", ["info", "analyze", "dmesg"])
@pytest.mark.parametrize("field,at", [("version", VERSION + 1),      # "#1 SMP ..." -> "#0 SMP ..."
                                      ("nodename", NODENAME + 1)])   # "(none)" -> "(oone)"
def test_utsname_string_flip_is_caught_against_memory(tmp_path, command, field, at):
    """A printable flip inside the version or host name string: only init_uts_ns in
    memory shows it, and every command that reads memory names it alike (dmesg said
    nothing: it read the log but never compared the header with init_uts_ns)."""
    p = tmp_path / "vmcore"
    shutil.copyfile(KDUMP, p)
    with open(p, "r+b") as f:
        f.seek(at)
        f.write(bytes([_byte(KDUMP, at) ^ 0x01]))
    r = _run(command, p)
    assert r.returncode == 6, r.stderr
    assert f"utsname.{field}" in r.stderr and "init_uts_ns" in r.stderr and str(p) in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    if command == "dmesg":
        assert r.stdout == _run("dmesg", KDUMP).stdout          # the log itself is whole
        assert "printed the whole log" in r.stderr and "partial" not in r.stderr, r.stderr


@pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")
def test_analyze_warning_names_the_damage(tmp_path):
    """`analyze` on a dump with a flipped nr_cpus: the one stderr line says which field."""
    p = tmp_path / "vmcore"
    shutil.copyfile(KDUMP, p)
    with open(p, "r+b") as f:
        f.seek(460)
        f.write(bytes([_byte(KDUMP, 460) ^ 0x04]))
    r = _run("analyze", p)
    assert r.returncode == 6, r.stderr
    assert r.stderr.count("\n") == 1 and "nr_cpus" in r.stderr and str(p) in r.stderr, r.stderr


ELF_REAL = [p for p in dump_files("elf") if "mdf-elf" in p.name or p.name == "vmcore-elf"]


def _phdr(path: Path, i: int) -> int:
    with open(path, "rb") as f:
        head = f.read(64)
    return struct.unpack_from("<Q", head, 32)[0] + 56 * i


def _elf_problems(path: Path, patches: dict) -> str:
    with ElfReader(str(path), data=Patched(path, patches)) as r:
        return " | ".join(r.facts().problems)


@pytest.mark.skipif(not ELF_REAL, reason="no makedumpfile -E dump in sample_dumps/out")
def test_pt_load_type_flip_is_named():
    at = _phdr(ELF_REAL[0], 2)            # a PT_LOAD (header 0 is the PT_NOTE)
    assert _byte(ELF_REAL[0], at) == 1
    said = _elf_problems(ELF_REAL[0], {at: 0})
    assert "program header 2 field p_type is 0x0" in said, said


@pytest.mark.skipif(not ELF_REAL, reason="no makedumpfile -E dump in sample_dumps/out")
@pytest.mark.parametrize("xor", [0x01, 0x10])
def test_pt_load_offset_flip_is_named(xor):
    at = _phdr(ELF_REAL[0], 2) + 8        # p_offset, lowest byte
    said = _elf_problems(ELF_REAL[0], {at: _byte(ELF_REAL[0], at) ^ xor})
    assert "field p_offset or p_filesz" in said and "overlaps" in said, said


@pytest.mark.parametrize("dump", dump_files("elf"), ids=lambda p: str(p.relative_to(ROOT)))
def test_real_elf_dumps_have_no_header_problem(dump):
    """The new checks hold for every real ELF here, QEMU paging dumps (one frame's bytes
    shared by its mappings) included."""
    with ElfReader(str(dump)) as r:
        assert not [p for p in r.facts().problems if "program header" in p], r.facts().problems


@pytest.mark.skipif(not ELF_REAL, reason="no makedumpfile -E dump in sample_dumps/out")
def test_all_zero_program_headers_are_unwritten_not_flipped():
    """makedumpfile -E stopped by a full disk leaves its program headers zero: that is an
    incomplete dump, not a damaged p_type."""
    with open(ELF_REAL[0], "rb") as f:
        phnum = struct.unpack_from("<H", f.read(64), 56)[0]
    last = _phdr(ELF_REAL[0], phnum - 1)
    said = _elf_problems(ELF_REAL[0], {last + k: 0 for k in range(56)})
    assert f"program header {phnum - 1} was never written" in said and "p_type" not in said, said


class _Hidden(Patched):
    """The real file with some pages missing (read_present says so), as a flattened
    stream or a cut file leaves the pages behind it."""

    def __init__(self, path, pages):
        super().__init__(path, {})
        self.pages = pages

    def read_present(self, offset, length):
        if any(p in self.pages for p in range(offset // 4096, (offset + length - 1) // 4096 + 1)):
            return None
        return super().read_present(offset, length)


@pytest.mark.slow
@pytest.mark.skipif(not ELF_REAL, reason="no makedumpfile -E dump in sample_dumps/out")
def test_ring_found_but_no_record_readable_is_cut_before_the_log():
    """The ring's descriptors read, its text pages do not: an error naming that no record
    could be read (the CLI then says "cut short before its kernel log" and points at the
    log beside it), not exit 6 after printing nothing."""
    from triage.errors import TriageError
    from triage.logsource import read_dump_log
    with ElfReader(str(ELF_REAL[0])) as r:
        log, _info, _mem = read_dump_log(r)
        texts = [rec.text for rec in log.records if len(rec.text) > 20]
    data = ELF_REAL[0].read_bytes()
    pages = set()                  # every page holding a record's text: the text_data ring
    for t in texts:
        at = data.find(t)
        while at >= 0:
            pages.update(range(at // 4096, (at + len(t)) // 4096 + 1))
            at = data.find(t, at + 1)
    with ElfReader(str(ELF_REAL[0]), data=_Hidden(ELF_REAL[0], pages)) as r:
        with pytest.raises(TriageError) as err:
            read_dump_log(r)
    assert "no printk record could be read" in str(err.value), str(err.value)
