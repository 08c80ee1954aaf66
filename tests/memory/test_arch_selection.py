"""Which translator a dump gets: by its own architecture, never x86_64 by default.

Oracle: the ELF spec's e_machine numbers (62 x86_64, 183 aarch64, 243 RISC-V)
and docs/exit-codes.md (10: unknown or unsupported architecture)."""

import struct
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dumps"))
from test_elf_structures import build_core  # noqa: E402
from triage.dumps.vmcoreinfo import parse_vmcoreinfo
from triage.errors import EXIT_ARCH, UnsupportedArchError
from triage.memory.arch import arch_from_vmcoreinfo, make_translator

VMCI_PLAIN = b"OSRELEASE=9.9.9\nPAGESIZE=4096\nSYMBOL(prb)=ffffffff81000000\n"


def _core(tmp_path, machine, vmcoreinfo=VMCI_PLAIN):
    raw = bytearray(build_core(vmcoreinfo=vmcoreinfo))
    struct.pack_into("<H", raw, 18, machine)          # e_machine
    p = tmp_path / f"core-{machine}"
    p.write_bytes(bytes(raw))
    return p


def _triage(*args):
    return subprocess.run([sys.executable, "-m", "triage", *map(str, args)], capture_output=True)


@pytest.mark.parametrize("cmd", ["dmesg", "analyze", "info"])
def test_unsupported_architecture_exits_10_naming_it(tmp_path, cmd):
    r = _triage(cmd, _core(tmp_path, 243))
    assert r.returncode == EXIT_ARCH == 10, r.stderr
    err = r.stderr.decode()
    assert len(err.strip().splitlines()) == 1 and "riscv64" in err and "Traceback" not in err


def test_unknown_machine_number_is_named(tmp_path):
    """A number no architecture Linux runs on has, with no architecture's keys in
    VMCOREINFO either, is a damaged header (exit 5 naming the field), not an
    architecture triage lacks (exit 10, as for riscv64 above)."""
    r = _triage("dmesg", _core(tmp_path, 4242))
    err = r.stderr.decode()
    assert r.returncode == 5 and "e_machine is 4242" in err and "damaged header" in err, err
    assert len(err.strip().splitlines()) == 1


def test_no_architecture_anywhere_is_not_taken_for_x86_64():
    info = parse_vmcoreinfo(VMCI_PLAIN.decode())
    assert arch_from_vmcoreinfo(info) is None
    with pytest.raises(UnsupportedArchError, match="names no CPU architecture"):
        make_translator(None, info, lambda a, n: bytes(n))


def test_vmcoreinfo_keys_pick_the_architecture():
    x86 = parse_vmcoreinfo("OSRELEASE=6.1.0\nSYMBOL(init_top_pgt)=ffffffff82a0a000\n")
    arm = parse_vmcoreinfo("OSRELEASE=6.1.0\nNUMBER(kimage_voffset)=0xffff800000000000\n")
    assert arch_from_vmcoreinfo(x86) == "x86_64" and arch_from_vmcoreinfo(arm) == "aarch64"
