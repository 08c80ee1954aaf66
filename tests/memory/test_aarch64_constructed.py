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


BASE = {"PAGESIZE": "4096", "NUMBER(VA_BITS)": "48", "NUMBER(kimage_voffset)": "0xffff7fffc8000000",
        "NUMBER(PHYS_OFFSET)": "0x40000000", "SYMBOL(swapper_pg_dir)": "ffff800009650000",
        "NUMBER(TCR_EL1_T1SZ)": "16"}


@pytest.mark.parametrize("key,value,words", [
    ("PAGESIZE", "8192", "PAGESIZE"),
    ("NUMBER(VA_BITS)", "64", "VA_BITS"),
    ("NUMBER(VA_BITS)", None, "VA_BITS"),
    ("NUMBER(TCR_EL1_T1SZ)", "40", "TCR_EL1_T1SZ"),
    ("NUMBER(kimage_voffset)", None, "kimage_voffset"),
    ("NUMBER(PHYS_OFFSET)", None, "PHYS_OFFSET"),
    ("SYMBOL(swapper_pg_dir)", None, "swapper_pg_dir"),
])
def test_implausible_or_missing_values_are_refused_by_name(key, value, words):
    """Every value from the dump is bounded before it sizes a loop or a table."""
    from triage.errors import NoLogError
    d = dict(BASE)
    if value is None:
        del d[key]
    else:
        d[key] = value
    text = "OSRELEASE=6.1.0\n" + "".join(f"{k}={v}\n" for k, v in d.items())
    with pytest.raises(NoLogError, match=words):
        make_translator("aarch64", parse_vmcoreinfo(text), lambda a, n: bytes(n))


def test_tables_that_map_nothing_leave_the_layout_unverified_not_wrong():
    text = "OSRELEASE=6.1.0\n" + "".join(f"{k}={v}\n" for k, v in BASE.items())
    tr = make_translator("aarch64", parse_vmcoreinfo(text), lambda a, n: bytes(n))
    assert tr.layout["check"].startswith("unverified")
    with pytest.raises(MemoryReadError):
        tr.translate(0xffff800010000000)      # not linear, not image: needs the (empty) tables
