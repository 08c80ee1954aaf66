"""Fuzz target: a --split kdump set. The first two bytes say where the input splits
into the two files, so mutations reach the cross-file checks (ranges, max_mapnr)."""

from _harness import BytesStore, exercise_reader, run
from triage.dumps.kdump import KdumpReader


def test_one(data: bytes) -> None:
    if len(data) < 2:
        return
    cut = 2 + int.from_bytes(data[:2], "little") * 8 % max(1, len(data) - 2)
    parts = [BytesStore(data[2:cut], "<part0>"), BytesStore(data[cut:], "<part1>")]
    with KdumpReader(parts) as reader:
        exercise_reader(reader)


if __name__ == "__main__":
    run(test_one)
