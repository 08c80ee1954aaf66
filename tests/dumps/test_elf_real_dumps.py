"""ElfReader on real QEMU / kdump ELF dumps.

Oracles: qemu-cmdline.txt (vCPU count -> PRSTATUS notes, memory size), the
serial console's "Linux version" line (-> OSRELEASE), and the raw ELF header
bytes (PN_XNUM).
"""

import re
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _realdumps import dump_files, dump_ids, serial_log_for  # noqa: E402

from triage.dumps.elf import ElfReader  # noqa: E402
from triage.dumps.vmcoreinfo import parse_vmcoreinfo  # noqa: E402
from triage.errors import CorruptDumpError, MemoryReadError  # noqa: E402

ELF = dump_files("elf")
pytestmark = pytest.mark.skipif(not ELF, reason="no real ELF dumps generated (sample_dumps/out)")


def _cmdline(dump):
    from _realdumps import cmdline_of
    return cmdline_of(dump)


@pytest.mark.parametrize("dump", ELF, ids=dump_ids(ELF))
def test_facts_and_notes(dump):
    with ElfReader(str(dump)) as r:
        facts = r.facts()
        info = parse_vmcoreinfo(r.vmcoreinfo())
        notes = r.notes()
    assert facts.arch == "x86_64" and facts.page_size == 4096
    assert facts.complete and not facts.problems
    assert facts.vmcoreinfo_source == "ELF PT_NOTE"
    smp = re.search(r"-smp (\d+)", _cmdline(dump))
    if smp and "qemu" in dump.name:
        assert sum(1 for n in notes if n.name == "CORE" and n.type == 1) == int(smp.group(1))
        assert all(len(n.desc) == 336 for n in notes if n.name == "CORE")  # x86_64 elf_prstatus
    from _realdumps import serial_is_oracle
    serial = serial_log_for(dump)
    if serial and serial_is_oracle(dump):
        m = re.search(rb"Linux version (\S+)", serial.read_bytes())
        assert m and info.osrelease == m.group(1).decode()
    mem = re.search(r"-m (\d+)", _cmdline(dump))
    if mem and "qemu" in dump.name:
        # QEMU dumps all guest RAM: present pages cover at least 90% of -m.
        assert facts.pages_present * 4096 >= int(mem.group(1)) * (1 << 20) * 0.9 * (0.8 if "paging" in dump.name else 1)


@pytest.mark.parametrize("dump", [d for d in ELF if "paging" in d.name] or ELF[:1],
                         ids=dump_ids([d for d in ELF if "paging" in d.name] or ELF[:1]))
def test_pn_xnum_extended_phnum(dump):
    """QEMU paging dumps have more than 65535 PT_LOADs: e_phnum is PN_XNUM."""
    raw = dump.open("rb").read(64)
    (e_phnum,) = struct.unpack_from("<H", raw, 56)
    with ElfReader(str(dump)) as r:
        loads = r.facts().header["pt_load"]
    if e_phnum == 0xFFFF:
        assert loads > 0xFFFF
    else:
        assert loads <= e_phnum


@pytest.mark.parametrize("dump", ELF[:1], ids=dump_ids(ELF[:1]))
def test_absent_physical_address(dump):
    with ElfReader(str(dump)) as r:
        with pytest.raises(MemoryReadError):
            r.read_phys(1 << 50, 16)
        assert not r.has_page((1 << 50) >> 12)
        seg = max(r._segs, key=lambda x: x.filesz)
        assert r.has_page((seg.paddr + seg.filesz // 2) >> 12)


@pytest.mark.parametrize("dump", ELF[:1], ids=dump_ids(ELF[:1]))
def test_truncated_copies(dump, tmp_path):
    """Header truncation is corruption; data truncation is partial with MemoryReadError past the end."""
    src = dump.open("rb")
    short = tmp_path / "head"
    short.write_bytes(src.read(40))
    with pytest.raises(Exception) as ei:
        ElfReader(str(short))
    assert type(ei.value).__name__ in ("CorruptDumpError", "FormatError")
    src.seek(0)
    cut = tmp_path / "cut"
    size = dump.stat().st_size
    with open(cut, "wb") as out:
        out.write(src.read(size // 2))
    with ElfReader(str(cut)) as r:
        facts = r.facts()
        assert not facts.complete and "truncated" in facts.problems[0]
        last = max(r._segs, key=lambda s: s.paddr + s.memsz)
        with pytest.raises(MemoryReadError):
            r.read_phys(last.paddr + last.memsz - 4096, 8)


def test_not_a_core(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HH", 2, 62) + bytes(60))
    from triage.errors import FormatError
    with pytest.raises(FormatError):
        ElfReader(str(p))
    p.write_bytes(b"\x7fELF\x09\x01\x01" + bytes(100))
    with pytest.raises(CorruptDumpError):
        ElfReader(str(p))
