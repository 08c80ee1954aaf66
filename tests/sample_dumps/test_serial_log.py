"""The generator's serial-log parser (the manifest's expected category and
culprit) on arm64's wording of the acme_storage BUG() and wild-pointer oopses.

Inputs: the crashed kernel's records of two real arm64 6.1 guests
(`generate --arch arm64 --scenarios gpf,kernel_bug`), cut to the banner, the
command line and the crash (data/arm64-6.1-*.serial.log, verbatim lines).
"""
from pathlib import Path

from dumpgen.check import CATEGORY_TEXT
from dumpgen.scenarios import SCENARIOS
from dumpgen.serial_log import parse_serial_file

DATA = Path(__file__).resolve().parent / "data"


def test_arm64_bug_panics_with_oops_bug_fatal_exception():
    # arm64's die() panics with "Oops - BUG: Fatal exception" after a BUG():
    # the parser once read that as an unknown panic (category unknown, no culprit)
    f = parse_serial_file(DATA / "arm64-6.1-kernel_bug.serial.log")
    assert f.panic_message == "Oops - BUG: Fatal exception"
    assert (f.category, f.culprit_module) == ("kernel_bug", "acme_storage")
    assert [e.name for e in f.events] == ["kernel_bug"]


def test_arm64_wild_pointer_is_a_paging_fault():
    # 0xdead4ead00000000 is a general protection fault on x86_64; arm64 has no
    # #GP and reports the translation fault as a paging request
    f = parse_serial_file(DATA / "arm64-6.1-gpf.serial.log")
    assert (f.category, f.culprit_module) == ("paging_fault", "acme_storage")
    assert SCENARIOS["gpf"].category_for("arm64") == "paging_fault"
    assert SCENARIOS["gpf"].category_for("x86_64") == "gpf"
    text = (DATA / "arm64-6.1-gpf.serial.log").read_text()
    assert all(any(n in text for n in (item if isinstance(item, tuple) else (item,)))
               for item in CATEGORY_TEXT["paging_fault"])
