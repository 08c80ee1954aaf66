"""Fuzz target: the kdump-compressed reader (header, sub-header, bitmaps, descriptors, codecs)."""

from _harness import BytesStore, exercise_reader, run
from triage.dumps.kdump import KdumpReader


def test_one(data: bytes) -> None:
    with KdumpReader([BytesStore(data)]) as reader:
        exercise_reader(reader)


if __name__ == "__main__":
    run(test_one)
