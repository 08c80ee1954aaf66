"""Fuzz target: the lockless printk ring decoder (Linux 5.10+), layout of a real 6.1 kernel.

The input is the struct printk_ringbuffer bytes followed by the three arrays; the
ring sizes are taken from the header bytes as the reader does, capped small so
that one execution stays fast (the reader's size checks are covered by fuzz_elf).
"""

from pathlib import Path

from _harness import run
from triage.dumps.vmcoreinfo import parse_vmcoreinfo
from triage.printk.format import record_lines
from triage.printk.lockless import LocklessLayout, decode_lockless, iter_lockless_columns, parse_ring_header

VMCOREINFO_61 = "SYMBOL(prb)=ffffffff834643e0\n" + (
    Path(__file__).resolve().parents[1] / "tests" / "data" / "vmcoreinfo" / "printk-ringbuffer-6.1.txt").read_text()
LAY = LocklessLayout.from_vmcoreinfo(parse_vmcoreinfo(VMCOREINFO_61))
MAX_COUNT_BITS, MAX_SIZE_BITS = 6, 12


def test_one(data: bytes) -> None:
    hdr = parse_ring_header(LAY, data[:LAY.ring_size])
    hdr.count_bits = min(hdr.count_bits, MAX_COUNT_BITS)
    hdr.size_bits = min(hdr.size_bits, MAX_SIZE_BITS)
    count, size = 1 << hdr.count_bits, 1 << hdr.size_bits
    rest = data[LAY.ring_size:]
    nd, ni = count * LAY.desc_size, count * LAY.info_size
    descs = rest[:nd].ljust(nd, b"\0")
    infos = rest[nd:nd + ni].ljust(ni, b"\0")
    ring = rest[nd + ni:nd + ni + size].ljust(size, b"\0")
    records, problems = decode_lockless(LAY, hdr, descs, infos, ring)
    for rec in records:
        record_lines(rec)
    # the column path of `triage dmesg` must agree on every record and problem
    lean_problems = []
    lean = [(ts, text) for tss, texts in iter_lockless_columns(LAY, hdr, descs, infos, ring, (), (), (), lean_problems)
            for ts, text in zip(tss, texts)]
    assert lean == [(rec.ts_nsec, rec.text) for rec in records], "column and record decodes disagree"
    assert lean_problems == problems, "column and record decodes report different problems"

if __name__ == "__main__":
    run(test_one)
