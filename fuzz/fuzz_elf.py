"""Fuzz target: the ELF vmcore reader (headers, PN_XNUM, notes, PT_LOAD map) and the log behind it."""

from _harness import BytesStore, exercise_reader, run
from triage.dumps.elf import ElfReader


def test_one(data: bytes) -> None:
    with ElfReader("<fuzz>", data=BytesStore(data)) as reader:
        exercise_reader(reader)


if __name__ == "__main__":
    run(test_one)
