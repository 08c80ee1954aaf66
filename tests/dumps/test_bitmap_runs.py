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
