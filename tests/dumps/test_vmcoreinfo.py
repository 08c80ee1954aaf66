"""VMCOREINFO parsing: text as the kernel writes it (kernel/vmcore_info.c) and real dumps' notes."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _realdumps import dump_files  # noqa: E402

from triage.dumps.vmcoreinfo import parse_vmcoreinfo  # noqa: E402
from triage.errors import NoLogError  # noqa: E402

SAMPLE = (
    "OSRELEASE=6.1.0-57-amd64\nBUILD-ID=6a2b4ac7\nPAGESIZE=4096\n"
    "SYMBOL(prb)=ffffffff9cc643e0\nSIZE(printk_info)=88\nOFFSET(printk_info.text_len)=16\n"
    "LENGTH(printk_info_device)=48\nNUMBER(phys_base)=-438304768\nNUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129\n"
    "KERNELOFFSET=1a200000\nCRASHTIME=1764424800"     # last line without newline, as the kernel appends it
)


def test_kinds_and_values():
    info = parse_vmcoreinfo(SAMPLE + "\0\0\0")
    assert info.osrelease == "6.1.0-57-amd64"
    assert info.build_id == "6a2b4ac7"
    assert info.page_size == 4096
    assert info.symbol("prb") == 0xFFFFFFFF9CC643E0
    assert info.size("printk_info") == 88
    assert info.offset("printk_info.text_len") == 16
    assert info.length("printk_info_device") == 48
    assert info.number("phys_base") == -438304768
    assert info.kernel_offset == 0x1A200000
    assert info.crash_time == 1764424800
    assert info.symbol("missing") is None


def test_garbage():
    with pytest.raises(NoLogError):
        parse_vmcoreinfo("\0\0 no keys here")
    info = parse_vmcoreinfo("SYMBOL(x)=zz\nSIZE(y)=12")
    assert info.symbol("x") is None and info.size("y") == 12


@pytest.mark.skipif(not dump_files("any"), reason="no real dumps")
def test_real_note():
    from triage.logsource import open_reader
    with open_reader([str(dump_files("any")[0])]) as r:
        info = parse_vmcoreinfo(r.vmcoreinfo())
    # Keys every x86_64 5.10+ kernel exports and the walk depends on.
    for key in ("prb", "init_top_pgt", "init_uts_ns", "_stext"):
        assert info.symbol(key) is not None, key
    assert info.number("phys_base") is not None and info.kernel_offset is not None
    assert info.symbol("_stext") & 0xFFF == 0


@pytest.mark.parametrize("value", ["-99999999999999", "-1", str(1 << 70), "253402300800"])
def test_impossible_crashtime_is_absent(value):
    """A CRASHTIME no clock can show (negative, past year 9999) is damage, treated as
    absent like a non-numeric one: `info` and `analyze` turned it into a datetime and
    ended in an internal error (OverflowError, ValueError)."""
    assert parse_vmcoreinfo(f"OSRELEASE=6.1.0\nCRASHTIME={value}\n").crash_time is None
    assert parse_vmcoreinfo("OSRELEASE=6.1.0\nCRASHTIME=253402300799\n").crash_time == 253402300799
