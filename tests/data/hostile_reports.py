"""An event-dense hostile log: a WARNING report every 10 lines, each carrying
terminal escapes, control characters and invalid UTF-8. Shared by the bounded
memory test (tests/events/test_hostile.py) and bench/analyze_many_events_bench.py,
so the benchmark measures the shape the test bounds."""

from typing import BinaryIO

WARN = (b"[%(ts)12.6f] ------------[ cut here ]------------\n"
        b"[%(ts)12.6f] WARNING: CPU: 3 PID: %(pid)d at drivers/gpu/drm/acme/acme_drv.c:%(ln)d "
        b"acme_submit+0x%(off)x/0x200 [acme]\n"
        b"[%(ts)12.6f] Modules linked in: acme(OE) nvidia(POE) ext4\n"
        b"[%(ts)12.6f] RIP: 0010:acme_submit+0x%(off)x/0x200 [acme]\n"
        b"[%(ts)12.6f] Call Trace:\n"
        b"[%(ts)12.6f]  acme_ioctl+0x55/0x90 [acme]\n"
        b"[%(ts)12.6f]  __x64_sys_ioctl+0x8d/0xd0\n"
        b"[%(ts)12.6f] ---[ end trace %(pid)016x ]---\n"
        b"[%(ts)12.6f] acme: \x1b[31mred\x1b]0;title\x07 \x00\x08\x7f ctl %(pid)d\n"
        b"[%(ts)12.6f] acme: bad utf-8 \xff\xfe\xc3\x28 %(pid)d\n")
ALLOC = (b"[%(ts)12.6f] python3: page allocation failure: order:4, mode:0x6040c0(GFP_KERNEL|__GFP_COMP), "
         b"nodemask=(null)\n")


def write_warnings(fp: BinaryIO, reports: int, alloc_every: int = 0) -> None:
    """Write `reports` WARNING reports (10 lines each); with `alloc_every`, a
    page allocation failure line after every that many reports."""
    for i in range(reports):
        v = {b"ts": 100 + i * 0.001, b"pid": 1000 + i, b"ln": i % 5000, b"off": 16 + i % 256}
        fp.write(WARN % v)
        if alloc_every and i % alloc_every == 0:
            fp.write(ALLOC % v)
