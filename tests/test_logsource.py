"""open_log(): the kernel log of a dump or a text file, for the analysis layer.

Oracles: the serial console (dump lines), the file itself (text passthrough),
the serial "Linux version" line (release, version string).
"""

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realdumps import boot_dumps, is_suffix_run, serial_kernel_lines, serial_log_for  # noqa: E402

from triage.errors import FormatError, InputError  # noqa: E402
from triage.logsource import open_log  # noqa: E402

ELF = boot_dumps("any")


@pytest.mark.skipif(not ELF, reason="no real dumps generated")
def test_dump_source():
    dump = ELF[0]
    src = open_log(str(dump))
    serial = serial_log_for(dump)
    assert src.kind == "dump" and src.buffer_kind == "lockless" and not src.partial
    ok, why = is_suffix_run(src.lines, serial_kernel_lines(serial))
    assert ok, why
    m = re.search(r"Linux version (\S+) .*?(#\d+ .*)", serial.read_text(errors="replace"))
    assert src.kernel_release == m.group(1) and src.kernel_version == m.group(2).strip()
    assert src.arch == "x86_64" and src.facts.format
    assert len(src.records) <= len(src.lines)


def test_text_source(tmp_path):
    p = tmp_path / "vmcore-dmesg.txt"
    p.write_bytes(b"[    0.000000] Linux version 5.14.0\r\n[    1.5] BUG: x\n")
    src = open_log(str(p))
    assert src.kind == "text" and src.lines == ["[    0.000000] Linux version 5.14.0", "[    1.5] BUG: x"]
    assert src.facts is None and not src.partial


def test_errors(tmp_path):
    with pytest.raises(InputError):
        open_log(str(tmp_path))
    (tmp_path / "b").write_bytes(bytes(range(256)))
    with pytest.raises(FormatError):
        open_log(str(tmp_path / "b"))
