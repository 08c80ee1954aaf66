"""Large, wrapped lockless rings: dumps made by bench/make_logflood_dump.py.

The guest wrote N numbered lines ("triage-bench: flood line I ...") to /dev/kmsg
and crashed, so the numbers are the oracle: the dump must hold a gap-free run
of them ending at N-1, each with the exact text, followed by the crash report.
Point TRIAGE_EXTRA_DUMP_DIRS at the output directory to run these.
"""

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _realdumps import cmdline_of, dump_files, dump_ids, scenario_file  # noqa: E402

from triage.logsource import open_log  # noqa: E402

FLOOD = [d for d in dump_files("any") if "logflood" in cmdline_of(d)]
LINE = re.compile(rb"^triage-bench: flood line (\d+) the quick brown fox jumps over the lazy dog "
                  rb"0123456789 abcdefghijklmnop$")


@pytest.mark.skipif(not FLOOD, reason="no log-flood dump (bench/make_logflood_dump.py; TRIAGE_EXTRA_DUMP_DIRS)")
@pytest.mark.parametrize("dump", FLOOD, ids=dump_ids(FLOOD))
def test_flood_run_is_complete(dump):
    cmd = cmdline_of(dump)
    src = open_log([str(dump)])
    assert not src.partial and not src.problems
    nums = []
    for rec in src.records:
        m = LINE.match(rec.text)
        if m:
            nums.append(int(m.group(1)))
        else:
            assert not rec.text.startswith(b"triage-bench: flood line"), rec.text
    assert nums, "no flood lines found"
    assert nums == list(range(nums[0], nums[0] + len(nums)))
    expected_last = int(re.search(r"flooding (\d+) lines", scenario_file(dump, "serial.log").read_text(errors="replace")).group(1)) - 1
    assert nums[-1] == expected_last
    if "log_buf_len=8M" in cmd:
        assert nums[0] > 0 and len(nums) > 50000     # the 8 MiB ring wrapped, and holds tens of thousands
    assert any(b"Kernel panic" in r.text for r in src.records[-40:])
    seqs = [r.seq for r in src.records]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
