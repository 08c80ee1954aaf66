"""16K kdump block_size on a real 16K-page arm64 guest.

No real 16K-block kdump file can be made here: QEMU writes arm64 kdump files in
64K blocks whatever the guest's granule, and every Debian makedumpfile (1.7.2
in bookworm, 1.7.6 in trixie) refuses Debian's 16K kernel ("PAGE SIZE 0x4000
and VA Bits 52 not supported": its table knows 16K only with 36, 47 or 48-bit
VAs). So the real 16K guest's memory (Debian 6.12.118+deb12-arm64-16k, its QEMU
ELF) is rewritten as a kdump-compressed file with 16K blocks, its own
VMCOREINFO and notes, by sample_dumps/synthetic/kdump_writer.py.

Oracles: the guest's serial console (every record it printed, ignore_loglevel)
and triage's reading of the QEMU ELF it came from (itself checked against that
console by tests/test_arm64_dumps.py).
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "sample_dumps" / "synthetic"))
from _realdumps import is_suffix_run, serial_kernel_lines, unindent  # noqa: E402

ELFS = sorted(p for d in ROOT.glob("sample_dumps/out-arm64-16k*") for p in d.glob("*/vmcore.qemu-elf"))
BLOCK = 16384


def _rewrite(elf: Path, out: Path, codec: str) -> None:
    import elf_writer
    import kdump_writer
    from elftools.elf.elffile import ELFFile
    from triage.logsource import open_reader
    with open(elf, "rb") as f:
        ranges = [(s["p_paddr"], s["p_paddr"] + s["p_filesz"]) for s in ELFFile(f).iter_segments()
                  if s["p_type"] == "PT_LOAD" and s["p_filesz"]]
    reader = open_reader(str(elf))
    try:
        assert reader.page_size == BLOCK
        vmci = reader.vmcoreinfo().encode()
        notes = b"".join(elf_writer.note(n.name.encode(), n.type, n.desc)
                         for n in reader.notes() if n.name != "VMCOREINFO")
        ram = [pfn for a, b in ranges for pfn in range(a // BLOCK, b // BLOCK)]
        spec = kdump_writer.KdumpSpec(codec=codec, utsname=("Linux", "guest", "", "", "aarch64", ""),
                                      dump_level=1, block_size=BLOCK, nr_cpus=2)
        with open(out, "wb") as f:
            kdump_writer.write_kdump(f, max(b for _a, b in ranges) // BLOCK, ram,
                                     lambda pfn: reader.read_phys(pfn * BLOCK, BLOCK), vmci, notes, spec)
    finally:
        reader.close()


def _triage(*args):
    return subprocess.run([sys.executable, "-m", "triage", *map(str, args)], capture_output=True, timeout=600)


@pytest.mark.matrix
@pytest.mark.slow
@pytest.mark.skipif(not ELFS, reason="no 16K arm64 dumps (sample_dumps/generate --arch arm64 "
                                      "--kernel-abi 6.12.118+deb12-arm64-16k --no-kdump --ram 256)")
@pytest.mark.parametrize("elf", ELFS, ids=[p.parent.parent.name + "/" + p.parent.name for p in ELFS])
@pytest.mark.parametrize("codec", ["zlib", "none"])
def test_16k_blocks_give_the_same_log(elf, codec, tmp_path):
    out = tmp_path / "vmcore.kdump16k"
    _rewrite(elf, out, codec)
    import json
    info = json.loads(_triage("info", "--json", out).stdout)
    assert (info["format"], info["page_size"], info["arch"]) == ("kdump", BLOCK, "aarch64")
    assert info["complete"] and not info["problems"]
    assert info["address_layout"]["check"] == "verified against swapper_pg_dir"
    got, want = _triage("dmesg", out), _triage("dmesg", elf)
    assert got.returncode == 0 and want.returncode == 0, got.stderr
    assert got.stdout == want.stdout
    ok, why = is_suffix_run(unindent(got.stdout), serial_kernel_lines(elf.parent / "serial.log"))
    assert ok, why
