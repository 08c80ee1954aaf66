"""A flattened stream's record index stays bounded whatever the stream claims.

Hostile campaign (session 8): a 200 MB stream of 17-byte records (one byte of data
each, 12M records) took 391 MB RSS and 27 s for `triage info`, and under a 300 MB
address-space limit ended in "internal error: MemoryError" (exit 1); a 48 MB stream
of 2M mutually overlapping records took 388 MB and 42 s. Real writers write pages
and caches of KiBs (the committed QEMU stream: 1,266 records of 104 B to 16 KiB).
"""

import random
import struct
import tracemalloc
from array import array

import pytest

from triage.dumps import flattened
from triage.dumps.flattened import FlatStore
from triage.dumps.store import FileStore
from triage.errors import CorruptDumpError

HEAD = b"makedumpfile".ljust(16, b"\0") + struct.pack(">qq", 1, 1) + bytes(4096 - 32)
END = struct.pack(">qq", -1, -1)


def _stream(path, records):
    path.write_bytes(HEAD + b"".join(struct.pack(">qq", off, len(data)) + data for off, data in records) + END)
    return FlatStore(FileStore(str(path)))


def test_records_past_the_limit_are_left_unread_and_partial(tmp_path, monkeypatch):
    monkeypatch.setattr(flattened, "MAX_RECORDS", 1000)
    store = _stream(tmp_path / "vmcore.flat", [(i, bytes([i % 251])) for i in range(5000)])
    assert store.records == 1000
    assert not store.complete
    assert any("more than 1000 records" in p for p in store.problems), store.problems
    assert store.read(0, 1000) == bytes(i % 251 for i in range(1000))
    assert store.read(1000, 10) == b""        # never indexed: past the end of what was read


def test_record_limit_leaves_a_real_writer_alone():
    """4M records at QEMU's ~16 KiB each is a 64 GiB stream."""
    assert flattened.MAX_RECORDS * 16384 >= 64 << 30


def test_many_mutually_overlapping_records_are_damage(tmp_path, monkeypatch):
    monkeypatch.setattr(flattened, "MAX_OVERLAPPING", 100)
    rnd = random.Random(7)
    with pytest.raises(CorruptDumpError, match="overwrite one another"):
        _stream(tmp_path / "vmcore.flat", [(rnd.randrange(4096), b"x" * 64) for _ in range(500)])


def test_a_few_overwritten_headers_are_still_resolved(tmp_path, monkeypatch):
    monkeypatch.setattr(flattened, "MAX_OVERLAPPING", 100)
    store = _stream(tmp_path / "vmcore.flat", [(0, b"a" * 4096), (4096, b"b" * 4096), (0, b"H" * 16)])
    assert store.complete and store.read(0, 20) == b"H" * 16 + b"aaaa"


def test_fallback_sort_is_stable_and_compact():
    """Past 32 interleaved runs the order is a real sort; it held a Python list of every
    record index (~70 bytes a record), now runs of 64K records merged into an array."""
    rnd = random.Random(3)
    n = 300_000
    starts = array("q", (rnd.randrange(1 << 20) for _ in range(n)))
    tracemalloc.start()
    try:
        order = flattened._sorted_order(starts)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert list(order) == sorted(range(n), key=starts.__getitem__)
    assert peak < 32 * n, f"{peak} bytes for {n} records"
