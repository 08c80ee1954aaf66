"""aarch64 translation on constructed page tables, checked against drgn's walker.

Only the layouts no Debian kernel here produces (see aarch64_tables.py). The
oracle is drgn's own aarch64 page-table walker reading the same physical bytes
through set_linux_kernel_custom (no debuginfo needed)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aarch64_tables import CONFIGS, build  # noqa: E402
from triage.dumps.vmcoreinfo import parse_vmcoreinfo
from triage.errors import MemoryReadError
from triage.memory.arch import make_translator

drgn = pytest.importorskip("drgn")


def _drgn_program(kernel):
    prog = drgn.Program(drgn.Platform(drgn.Architecture.AARCH64,
                                      drgn.PlatformFlags.IS_64_BIT | drgn.PlatformFlags.IS_LITTLE_ENDIAN))
    t = kernel.tables
    prog.add_memory_segment(0, 1 << 52, lambda addr, count, off, phys: t.read_phys(addr, count), True)
    prog.set_linux_kernel_custom(kernel.vmcoreinfo.encode(), False)
    return prog


@pytest.mark.parametrize("cfg", CONFIGS, ids=[c.name for c in CONFIGS])
def test_translation_matches_drgn(cfg):
    kernel = build(cfg)
    prog = _drgn_program(kernel)
    tr = make_translator("aarch64", parse_vmcoreinfo(kernel.vmcoreinfo), kernel.tables.read_phys)
    assert tr.layout["levels"] == cfg.levels
    assert tr.layout["check"].startswith("verified")
    assert ("before 5.4" in tr.layout["layout"]) == cfg.before_5_4
    assert tr.layout["entry_format"] == ("48-bit" if not cfg.pa52 else "LPA" if cfg.page_size == 65536 else "LPA2")
    for v in kernel.probes:
        expected = prog.read(v, 8)
        paddr, left = tr.translate(v)
        assert left >= 8
        assert kernel.tables.read_phys(paddr, 8) == expected, (hex(v), hex(paddr))
    for v in kernel.unmapped:
        with pytest.raises(drgn.FaultError):
            prog.read(v, 8)
        with pytest.raises(MemoryReadError):
            tr.translate(v)


def test_high_physical_addresses_are_reached():
    """The LPA/LPA2 configurations really put pages above 2**48 (else the entry
    formats would be untested)."""
    for cfg in CONFIGS:
        if not cfg.pa52:
            continue
        kernel = build(cfg)
        tr = make_translator("aarch64", parse_vmcoreinfo(kernel.vmcoreinfo), kernel.tables.read_phys)
        assert max(tr.translate(v)[0] for v in kernel.probes) >= 1 << 48, cfg.name
