"""A terminal's hard wrap told from the line lengths alone (triage.events.paste._looks_wrapped,
`_hard_wrapped_at`, and rejoin_wrapped's join of a line of the width to the next).

Oracle: the lines before the wrap. A terminal cuts every line longer than its width into pieces
of exactly the width; copied as shown, a log without console prefixes (`dmesg --notime`,
`journalctl -o cat`), or one whose own lines without a prefix deny the prefixed-line test, is
put back as it was. Negatives: logs whose longest lines are a fixed-width format (Code: bytes,
stack dump rows, one message repeated with other numbers) are left as they are, and so are the
real logs of the repo (tests/events/test_paste.py::test_no_step_changes_the_real_logs_in_the_repo).
"""

import glob
import os
import sys

import pytest

from triage.events.paste import _looks_wrapped, normalise

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tools"))

import paste_invariance as pi  # noqa: E402
from posted_agreement import DEFAULT_CORPUS, split_half  # noqa: E402

def _msgs(lines):
    return [s for _, s in normalise(lines)]


def _posted(name):
    assert split_half(name) == "tuning"
    return pi.records(pi._read(os.path.join(DEFAULT_CORPUS, name)))


@pytest.mark.parametrize("name", ["718-warning-nv-restore-user-channels-french-journal-after-previous-trace-tail.log",
                                  "2111-warning-nv-set-system-power-state-akmods-path-journal-wrapped-140-cols-cut.log"])
def test_hard_wrap_without_console_prefixes_is_rejoined(name):
    # a posted report's messages alone (`dmesg --notime`), cut by a terminal at 80 columns
    msgs = [m for m, _ in _posted(name)]
    cut = pi._hard_wrap(80)(msgs)
    assert len(cut) > len(msgs) + 3
    wrap = _looks_wrapped(cut)
    assert (wrap.width, wrap.bare) == (80, True)
    assert _msgs(cut) == msgs


def test_hard_wrap_of_a_prefixed_log_with_its_own_bare_lines_is_rejoined():
    # posted 778: prefixed records, and lines without a prefix of the log's own
    # (decode_stacktrace.sh's "All code" listing) that deny the prefixed-line test
    lines = pi._console(_posted("778-i915-gem-mmap-page-fault-0x40000-lkp-decode-stacktrace-caller-id-all-code.log"))
    assert any(len(s) > 80 for s in lines)
    cut = pi._hard_wrap(80)(lines)
    assert _looks_wrapped(cut).width == 80
    # (a record's trailing blank goes with its last piece, as for every wrapped line)
    assert [s.rstrip() for s in _msgs(cut)] == [s.rstrip() for s in lines]


@pytest.mark.parametrize("name", ["2511-oom-kill-msgctl11-fork-order1-pagetables-slab-2-6-31-rc1-mail-quoted-twice-"
                                  "wrapped-80.log"])
def test_posted_mem_info_hard_wrapped_by_the_poster_is_rejoined(name):
    # a real paste (tuning half): show_free_areas()' zone lines cut mid-word at the width
    assert split_half(name) == "tuning"
    out = _msgs(pi._read(os.path.join(DEFAULT_CORPUS, name)))
    assert any(s.startswith("Node 0 DMA free:") and s.endswith("all_unreclaimable? no") for s in out)
    assert any(s.startswith("Node 0 DMA: ") and s.endswith("= 3940kB") for s in out)


def test_code_lines_of_several_reports_are_not_a_hard_wrap():
    # three x86 reports without stamps: each Code: line is the longest (64 bytes), then RSP:
    lines = []
    for k in range(3):
        lines += [f"RIP: 0010:func{k}+0x1{k}/0x40", "Code: " + " ".join(f"{(k * 7 + j) % 256:02x}" for j in range(64)),
                  "RSP: 0018:ffffc90000abfd48 EFLAGS: 00010246", "Call Trace:", f" caller{k}+0x10/0x20"]
    assert max(map(len, lines)) == len(lines[1])
    assert _looks_wrapped(lines).width == 0
    assert _msgs(lines) == lines


def test_stack_dump_rows_are_not_a_hard_wrap():
    # arm's __dump_mem() rows: one width, each followed by the next row
    rows = [f"{0x7f60 + 0x20 * k:04x}: " + " ".join(f"{(0x9a918028 + 977 * k * j) & 0xffffffff:08x}" for j in range(8))
            for k in range(6)]
    lines = ["Stack: (0x9a917f60 to 0x9a918000)"] + rows + ["[<80101000>] (ret_fast_syscall) from [<75fd7b80>] (0x75fd7b80)"]
    assert _msgs(lines) == lines


def test_one_message_repeated_is_not_a_hard_wrap():
    # the longest line is one message with other numbers, glued after other text each time
    lines = []
    for k in range(4):
        lines += [f"** {3000 + 377 * k} printk messages dropped ** [   46.{300984 + k:06d}] BUG: KASAN: slab-out-of-"
                  f"bounds in native_queued_spin_lock_slowpath+0x{k:x}", f"Read of size {k + 1} at addr ffff88801"]
    assert _looks_wrapped(lines).width == 0
    assert _msgs(lines) == lines


def test_a_line_of_the_width_before_a_prefixed_record_stays_apart():
    # a hard-wrapped log: a record that ends exactly at the width is followed by a new record
    msgs = [m for m, _ in _posted("718-warning-nv-restore-user-channels-french-journal-after-previous-trace-tail.log")]
    lines = pi._hard_wrap(80)(msgs) + ["x" * 80, "[  13.000000] next record"]
    out = _msgs(lines)
    assert out[-1] == "[  13.000000] next record"
