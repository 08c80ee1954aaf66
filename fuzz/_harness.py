"""Shared plumbing of the atheris fuzz targets (see docs/fuzzing.md).

Each target module defines `test_one(data: bytes)` and calls `run(test_one)` when
run as a script. `test_one` may raise any triage.errors.TriageError (the documented
way to reject bad input); every other exception, a hang (-timeout) or an allocation
past -rss_limit_mb is a crash libFuzzer reports and saves.

Readers are fed from memory (`BytesStore`) so that an execution costs microseconds
and never touches the file system.
"""

import os
import sys
from typing import Callable, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import atheris  # noqa: E402


def instrumented():
    """Context in which a target imports the triage modules it fuzzes, so that atheris
    instruments them for coverage: `with instrumented(): from triage.x import y`."""
    return atheris.instrument_imports(include=["triage"])


# The modules every dump target reaches (readers, translation, printk decoders).
with instrumented():
    import triage.dumps  # noqa: F401
    import triage.dumps.elf  # noqa: F401
    import triage.dumps.flattened  # noqa: F401
    import triage.dumps.kdump  # noqa: F401
    import triage.events  # noqa: F401
    import triage.memory.kernel  # noqa: F401
    import triage.printk.reader  # noqa: F401
    import triage.printk.lockless  # noqa: F401
    import triage.printk.structured  # noqa: F401
    import triage.printk.plain  # noqa: F401
    import triage.printk.format  # noqa: F401

from triage.dumps.store import Store  # noqa: E402
from triage.errors import TriageError  # noqa: E402


class BytesStore(Store):
    """A Store over bytes in memory, standing in for a memory-mapped file."""

    def __init__(self, data: bytes, path: str = "<fuzz>"):
        self.path = path
        self.problems = []
        self._data = data
        self.size = len(data)

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0 or offset >= self.size:
            return b""
        return self._data[offset:offset + length]

    def read_present(self, offset: int, length: int) -> Optional[bytes]:
        if offset < 0 or offset + length > self.size:
            return None
        return self._data[offset:offset + length]

    def buffer(self):
        return self._data


def exercise_reader(reader) -> None:
    """What every CLI command asks of a reader: facts, notes, VMCOREINFO, page reads,
    and the kernel log through the translator when VMCOREINFO allows it."""
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.memory.kernel import KernelMemory
    from triage.printk.format import record_lines
    from triage.printk.reader import read_printk

    facts = reader.facts()
    reader.notes()
    text = reader.vmcoreinfo()
    for pfn in (0, 1, 0x100, 0x1000, 1 << 40):
        try:
            reader.has_page(pfn)
            reader.read_phys(pfn * 4096 + 8, 64)
        except TriageError:
            pass
    if not text:
        return
    info = parse_vmcoreinfo(text)
    mem = KernelMemory(reader, info, facts.arch)
    log = read_printk(mem, info)
    for rec in log.records:
        record_lines(rec)


def run(test_one: Callable[[bytes], None]) -> None:
    """Run `test_one` under atheris with libFuzzer's command line (sys.argv)."""
    def guarded(data: bytes) -> None:
        try:
            test_one(data)
        except TriageError:
            pass
    atheris.Setup(sys.argv, guarded)
    atheris.Fuzz()
