"""Bitmap.runs (the census's list of dumped page frames) agrees with Bitmap.test
bit by bit on a real kdump-compressed dump's bitmap, over the whole map and over
random windows (unaligned starts and ends, past the end)."""

import random
from pathlib import Path

from triage.logsource import open_reader

LZO = Path(__file__).resolve().parents[2] / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"


def _bits(runs):
    out = set()
    for a, b in runs:
        assert a < b
        out.update(range(a, b))
    return out


def test_runs_equal_test_bits():
    with open_reader([str(LZO)]) as r:
        mx = r.max_pfn()
        bm = r._parts[0].bitmap2
        whole = bm.runs(0, mx)
        assert _bits(whole) == {p for p in range(mx) if bm.test(p)}
        assert all(b < c for (_a, b), (c, _d) in zip(whole, whole[1:]))       # sorted, merged
        assert r.pfn_ranges() == whole and len(whole) > 10
        rnd = random.Random(9)
        for _ in range(100):
            a = rnd.randrange(0, mx)
            b = rnd.randrange(a, mx + 100)
            assert _bits(bm.runs(a, b)) == {p for p in range(a, min(b, mx)) if bm.test(p)}, (a, b)


# -- a hostile bitmap: every other page frame dumped (issue 9) ---------------------------
# 4 MiB of 0x55 is 2**25 page frames (128 GiB) in 2**24 runs: the old runs() looped
# over every bit in Python and built one tuple per run (~1.5 GB). Now a whole-map call
# stops at MAX_RUNS with a CorruptDumpError, and the census' windows (4096 frames)
# cost time linear in the bytes, in bounded memory.
HOSTILE_CHILD = r"""
import os, resource, sys, time
from triage.dumps.bitmap import Bitmap, MAX_RUNS
from triage.dumps.store import FileStore
from triage.errors import CorruptDumpError
store = FileStore(sys.argv[1])
bm = Bitmap(store, 0, store.size)
nbits = store.size * 8
t = time.process_time()
try:
    bm.runs(0, nbits)
    raise SystemExit("no error for a whole-map run list")
except CorruptDumpError as exc:
    assert str(MAX_RUNS) in exc.message, exc.message
runs = 0
for lo in range(0, nbits, 1 << 12):
    got = bm.runs(lo, lo + (1 << 12))
    assert len(got) == 1 << 11 and got[0] == (lo, lo + 1), got[:2]
    runs += len(got)
assert runs == nbits // 2
assert bm.next_set(1, nbits) == 2
kb = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]
print(kb, time.process_time() - t)
"""


def test_hostile_mixed_bitmap_is_bounded(tmp_path):
    import os
    import subprocess
    import sys
    path = tmp_path / "bitmap"
    path.write_bytes(b"\x55" * (4 << 20))
    root = Path(__file__).resolve().parents[2]
    p = subprocess.run([sys.executable, "-c", HOSTILE_CHILD, str(path)], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(root)), timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    kb, cpu = p.stdout.split()
    assert int(kb) <= 128 * 1024, f"VmHWM {kb} kB"    # ~50 MiB here; the old code: 2.2 GB
    # 2**24 runs in 2**13 windows: ~3 s of CPU here; the old code took minutes and GBs
    assert float(cpu) < 30, f"{cpu} s of CPU"


def test_next_set_skips_zero_bytes(tmp_path):
    from triage.dumps.bitmap import Bitmap
    from triage.dumps.store import FileStore
    path = tmp_path / "bitmap"
    data = bytearray(3 << 20)
    data[(2 << 20) + 5] = 0x10
    path.write_bytes(bytes(data))
    bm = Bitmap(FileStore(str(path)), 0, len(data))
    want = ((2 << 20) + 5) * 8 + 4
    assert bm.next_set(0, len(data) * 8) == want
    assert bm.next_set(want, len(data) * 8) == want
    assert bm.next_set(want + 1, len(data) * 8) is None
    assert bm.next_set(0, want) is None
    assert bm.runs(0, len(data) * 8) == [(want, want + 1)]
