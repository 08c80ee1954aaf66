"""Fuzz target: the kdump page bitmap's run list and next-set-bit search
(triage.dumps.bitmap: what the page census asks per window), checked bit by bit.

Input: 2 bytes of window start and 2 of window length (bits, at most 8191), 1 byte choosing the
chunk size (so that windows cross chunk boundaries) and 1 the run limit, then the
bitmap bytes. runs() must list exactly the set bits of the window, sorted and
merged, or raise CorruptDumpError when they form more runs than the limit;
next_set() must name the first set bit. Seeds: real bitmaps of the committed lzo
dump (fuzz/seeds/bitmap).
"""

import struct

from _harness import BytesStore, instrumented, run

with instrumented():
    from triage.dumps.bitmap import Bitmap
    from triage.errors import CorruptDumpError


def test_one(data: bytes) -> None:
    if len(data) < 6:
        return
    start, length, chunk, limit = struct.unpack_from("<HHBB", data)
    raw = data[6:]
    bm = Bitmap(BytesStore(raw), 0, len(raw))
    bm.chunk = 1 << (chunk % 17)          # 1 byte .. the real 64 KiB
    end = start + length % 8192
    # byte indexing, not one big int: shifting an 8 KiB int per bit made the oracle
    # quadratic (53 exec/s)
    bits = [b for b in range(start, min(end, 8 * len(raw))) if raw[b >> 3] >> (b & 7) & 1]
    want = []
    for b in bits:
        if want and want[-1][1] == b:
            want[-1] = (want[-1][0], b + 1)
        else:
            want.append((b, b + 1))
    limit = limit + 1
    try:
        got = bm.runs(start, end, limit)
    except CorruptDumpError:
        assert len(want) > limit, (len(want), limit)
    else:
        assert got == want, (got[:4], want[:4])
    first = bm.next_set(start, end)
    assert first == (bits[0] if bits else None), (first, bits[:2])


if __name__ == "__main__":
    run(test_one)
