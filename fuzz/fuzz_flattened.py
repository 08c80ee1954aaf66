"""Fuzz target: makedumpfile's flattened stream (record index, overlaps) and the reader inside it."""

from _harness import BytesStore, exercise_reader, run
from triage.dumps import _kind_of
from triage.dumps.elf import ElfReader
from triage.dumps.flattened import FlatStore
from triage.dumps.kdump import KdumpReader


def test_one(data: bytes) -> None:
    flat = FlatStore(BytesStore(data))
    inner = _kind_of(flat.read(0, 16))
    if inner == "elf":
        reader = ElfReader("<fuzz>", data=flat, format_name="flattened-elf")
    elif inner == "kdump":
        reader = KdumpReader([flat], format_name="flattened-kdump")
    else:
        return
    with reader:
        exercise_reader(reader)


if __name__ == "__main__":
    run(test_one)
