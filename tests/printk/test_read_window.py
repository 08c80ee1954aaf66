"""_read_window edge cases found by fuzzing (fuzz/fuzz_elf.py)."""

import subprocess
import sys
from pathlib import Path

from triage.printk.lockless import RingWindow, _read_window

ROOT = Path(__file__).resolve().parents[2]
CRASH = ROOT / "tests" / "data" / "fuzz_regressions" / "elf-empty-live-text-window.elf"


class _NoMemory:
    """Memory that must not be read: an empty window needs no byte."""

    def read(self, addr, n):
        raise AssertionError(f"read {n} bytes at {addr:#x}")

    def read_into(self, addr, n, buf, at):
        raise AssertionError(f"read {n} bytes at {addr:#x}")


def test_an_empty_window_reads_nothing_and_is_all_zeros():
    # start != 0 and length 0: before, the one piece was keyed by its start and the
    # caller's piece 0 was looked up: KeyError (an internal error on the fuzzer's input)
    got, missing, unread = _read_window(_NoMemory(), 0x1000, 1 << 20, 4096, 0, whole=True)
    assert isinstance(got, RingWindow) and len(got) == 1 << 20
    assert bytes(got[4096:4104]) == bytes(8) and missing == [] and unread == [(0, 1 << 20)]


def test_the_fuzzer_input_is_a_partial_dump_not_an_internal_error():
    r = subprocess.run([sys.executable, "-m", "triage", "dmesg", str(CRASH)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode in (5, 6, 7), r.stderr
    assert r.stderr.count("\n") == 1 and "internal error" not in r.stderr, r.stderr
