"""Mem-Info zone lines: free memory against the min watermark.

Oracle: the numbers printed by show_mem() in real logs — a Debian 6.1 guest
(tests/data/analyze/gpu_alloc_null.serial.log) and a syzkaller console
(google/syzkaller pkg/report/testdata/linux/report/198, Apache-2.0) where other
output interleaves and `Node 0 ` is printed as its own record.
"""

from pathlib import Path

from triage.events.model import LogLine
from triage.diagnosis.meminfo import parse_zone_line, usable, zone_blocks

DATA = Path(__file__).resolve().parents[1] / "data" / "analyze"

SYZ_198 = [
    "Mem-Info:",
    " ? __lock_is_held+0xb6/0x140",
    "active_anon:60328 inactive_anon:64 isolated_anon:0",
    "Node 0 ",
    " ? debug_check_no_locks_freed+0x3c0/0x3c0",
    "DMA free:15908kB min:164kB low:204kB high:244kB active_anon:0kB inactive_anon:0kB",
    " ? check_noncircular+0x20/0x20",
    "lowmem_reserve[]: 0 2868 6378 6378",
]


def test_interleaved_zone_line():
    zones = [z for i, t in enumerate(SYZ_198, 1) if (z := parse_zone_line(i, t))]
    assert [(z.node, z.zone, z.free_kb, z.min_kb, z.low_kb, z.high_kb) for z in zones] == \
        [(0, "DMA", 15908, 164, 204, 244)]


def test_not_zone_lines():
    assert parse_zone_line(1, "Node 0 active_anon:5808kB inactive_anon:11272kB") is None
    assert parse_zone_line(2, "Node 0 DMA: 0*4kB 0*8kB 1*128kB (U) = 15232kB") is None


def test_real_6_1_block():
    text = (DATA / "gpu_alloc_null.serial.log").read_text(errors="replace").splitlines()
    lines = [LogLine(i, t.split("] ", 1)[-1]) for i, t in enumerate(text, 1)]
    blocks = zone_blocks(lines)
    assert len(blocks) == 1
    assert [z.zone for z in blocks[0]] == ["DMA", "DMA32"]
    dma32 = usable(blocks[0])
    assert [z.zone for z in dma32] == ["DMA32"] and not dma32[0].below_min
    assert dma32[0].free_kb > 20 * dma32[0].min_kb
