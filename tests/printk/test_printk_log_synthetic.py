"""struct printk_log / struct log buffers (3.5-5.9, CentOS 7 and 8 layouts) from the
synthetic dumps of sample_dumps/synthetic, read through our ELF reader (kexec-style
virtual PT_LOADs) and the page-table walk.

Oracle: the text makedumpfile --dump-dmesg (Debian 1.7.2) prints for the same
guests; tests/dumps/test_synthetic_printk_log.py proves generate's `expected`
equals it. The wrapped variants have a len == 0 wrap record and dropped records.
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sample_dumps" / "synthetic"))
import generate  # noqa: E402

from triage.dumps.elf import ElfReader  # noqa: E402
from triage.logsource import read_dump_log  # noqa: E402
from triage.printk.format import format_record  # noqa: E402
from triage.printk.structured import decode_printk_log, PrintkLogLayout  # noqa: E402


@pytest.fixture(scope="module")
def elves(tmp_path_factory):
    out = tmp_path_factory.mktemp("plog")
    written = generate.generate(str(out), ["elf"], list(generate.VARIANTS))
    return {name: files[0] for name, files in written.items()}


@pytest.mark.parametrize("variant", list(generate.VARIANTS))
@pytest.mark.parametrize("use_segments", [True, False])
def test_text_equals_makedumpfile(elves, variant, use_segments):
    g = generate.make_guest(variant)
    with ElfReader(elves[variant]) as r:
        assert r.virtual_segments(), "kexec-style ELF carries virtual PT_LOADs"
        if not use_segments:
            r.virtual_segments = lambda: []          # force the page-table walk
        log, info, _ = read_dump_log(r)
    assert log.kind == "printk_log" and not log.problems and not log.partial
    assert info.size("printk_log") is not None or info.size("log") is not None
    assert b"".join(format_record(x) for x in log.records).decode() == g.expected


def test_corrupt_chain_keeps_what_was_read(elves):
    """A record whose len points outside the buffer ends the walk with a problem, not an exception."""
    import struct
    variant = "centos8-wrapped"
    with ElfReader(elves[variant]) as r:
        log, info, mem = read_dump_log(r)
        lay = PrintkLogLayout.from_vmcoreinfo(info)
        buf = bytearray(mem.read(mem.read_pointer(info.symbol("log_buf")), mem.read_u32(info.symbol("log_buf_len"))))
        first = mem.read_u32(info.symbol("log_first_idx"))
        nxt = mem.read_u32(info.symbol("log_next_idx"))
    idx = first
    for _ in range(5):
        idx += struct.unpack_from("<H", buf, idx + lay.len)[0]
    struct.pack_into("<H", buf, idx + lay.len, 3)            # shorter than a header
    recs, problems = decode_printk_log(lay, bytes(buf), first, nxt)
    assert [x.text for x in recs] == [x.text for x in log.records[:5]]
    assert problems and "impossible lengths" in problems[0]
