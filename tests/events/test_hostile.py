"""Hostile logs: control characters, terminal escapes, invalid UTF-8, 100 MB
lines, regex-backtracking bait and a million lines. Oracle: the parser must not
raise, must keep line lengths and memory bounded, must keep recognising the
real report that follows the junk, and must count what it cut."""

import io
import os
import subprocess
import sys
import time

import pytest

from triage.classify import classify, load_rules
from triage.events import iter_lines, parse_log
from triage.events.parser import MAX_EVENTS, MAX_KEPT_LINES
from triage.events.prefix import MAX_LINE

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
from hostile_reports import write_warnings  # noqa: E402

OOPS = [b"[  52.001122] BUG: kernel NULL pointer dereference, address: 0000000000000000\n",
        b"[  52.001600] CPU: 0 PID: 301 Comm: sh Not tainted 6.1.0-18-amd64 #1\n",
        b"[  52.001800] RIP: 0010:crashme_write+0x1a/0x40 [crashme]\n"]


class EndlessLine(io.RawIOBase):
    """A stream holding one `size`-byte line of junk, then a real oops; never in memory at once."""

    def __init__(self, size: int):
        self.left = size
        self.tail = b"\n" + b"".join(OOPS)

    def readable(self):
        return True

    def read(self, n=-1):
        if self.left > 0:
            k = min(n if n > 0 else 1 << 16, self.left)
            self.left -= k
            return b"\x1b[31m\xff\xfeA" * (k // 8) + b"B" * (k % 8)
        out, self.tail = self.tail[:n], self.tail[n:]
        return out


def test_100mb_line_is_capped_counted_and_the_oops_after_it_found():
    log = parse_log(iter_lines(EndlessLine(100 * 1024 * 1024)))
    assert log.truncated_lines == 1
    assert max(len(ln.text) for ln in log.lines) <= MAX_LINE
    assert [e.kind for e in log.events] == ["null_deref"]
    assert log.events[0].ip.function == "crashme_write"


def test_invalid_utf8_escapes_and_controls():
    junk = [b"\xff\xfe\xfd garbage \x00\x01\x02\x7f", b"\x1b]0;owned\x07\x1b[2J\x1b[H", b"\xc3\x28 \xa0\xa1",
            b"[ 1.0] CPU: 0 PID: 1 Comm: \x1b[31mevil\x1b[0m\x07 Not tainted 6.1.0 #1"]
    stream = io.BytesIO(b"\n".join(junk) + b"\n" + b"".join(OOPS))
    log = parse_log(iter_lines(stream))
    for ln in log.lines:
        assert "\x1b" not in ln.text and "\x00" not in ln.text and "\x07" not in ln.text
    assert [e.kind for e in log.events] == ["null_deref"]
    top = classify(log, load_rules())[0]
    assert top.category == "null_deref" and top.title == "BUG: kernel NULL pointer dereference in crashme_write [crashme]"


BAIT = [
    "BUG: " + "a" * 8000,
    "BUG: unable to handle kernel NULL pointer dereference at " + " " * 8000,
    "CPU: 1 PID: 1 Comm: " + "x " * 4000,
    "Modules linked in: " + "a(" * 4000,
    "[" + " " * 8000,
    "[ 1.0][" + " " * 8000,
    "NVRM: Xid (" + "0" * 8000,
    "WARNING: CPU: 1 PID: 1 at " + "a" * 8000,
    "WARNING: " + "a:1 " * 2000,
    " " + "a" * 4000 + "+0x",
    " [<" + "f" * 4000,
    "x invoked oom-killer: gfp_mask=0x" + "1" * 8000,
    "Out of memory: Kill process 1 (" + "(" * 8000,
    "Killed process 1 (" + ")" * 8000,
    "UBSAN: " + "a " * 4000,
    "oom-kill:constraint=" + "a=b," * 2000,
    "Jan  3 22:06:01 " + "h" * 8000,
    "2024-01-03T22:06:01 " + "h" * 8000,
    "amdgpu 0000:03:00.0: " + "page fault " * 800,
    "INFO: task " + "a:" * 4000,
    "[ pid ]   uid  tgid total_vm      rss name",
    "[" + " 1" * 4000,
    "Mem-Info:",
    "Node 0 Normal free:" + "1" * 8000,
]


def test_regex_backtracking_bait_is_fast():
    lines = ["[ 1.0] BUG: kernel NULL pointer dereference, address: 0000000000000000"] + BAIT * 40
    start = time.process_time()
    log = parse_log(lines)
    classify(log, load_rules())
    # catastrophic backtracking on any of these would take minutes, not seconds
    assert time.process_time() - start < 20
    assert log.events[0].kind == "null_deref"


PEAK_KB_EXPR = "int([l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1])"


@pytest.mark.slow
def test_million_lines_bounded_memory(tmp_path):
    """1M lines / ~100 MB with an oops every 5000 lines: peak RSS stays far below the input size."""
    path = tmp_path / "million.log"
    block = open(os.path.join(os.path.dirname(__file__), "..", "data", "logs",
                              "centos8-4.18-nvidia-alloc-fail-null-deref.log"), "rb").read()
    with open(path, "wb") as fp:
        for i in range(1_000_000):
            if i % 5000 == 0:
                fp.write(block)
            fp.write(b"[%12.6f] audit: type=1400 audit(%d.1:2): apparmor=\"DENIED\" name=\"/x/%d\"\n" % (i / 100, i, i))
    # VmHWM, not ru_maxrss: exec keeps the forking pytest process's high-water mark in ru_maxrss
    code = ("import sys; from triage.events import read_log_file; "
            "log=read_log_file(sys.argv[1]); "
            "print(len(log.events), %s)" % PEAK_KB_EXPR)
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True).stdout
    events, rss_kb = map(int, out.split())
    assert events == 200 * 4
    assert rss_kb < 250 * 1024, f"peak RSS {rss_kb} kB"


@pytest.mark.slow
def test_million_event_dense_lines_bounded_memory(tmp_path):
    """1M lines with a WARNING report every 10 lines (100k reports, the shape of
    bench/analyze_many_events_bench.py): parse + classify peak RSS stays bounded.
    Before the compact line store, shared frames/modules and the per-rule match
    cap this peaked at ~560 MB, then ~160 MB with every report kept as an event;
    with the parser's event cap (MAX_EVENTS) it is ~60 MB."""
    path = tmp_path / "dense.log"
    with open(path, "wb") as fp:
        write_warnings(fp, 100_000)
        fp.write(b"".join(OOPS))
    code = ("import sys; from triage.events import read_log_file; from triage.classify import classify, load_rules; "
            "log=read_log_file(sys.argv[1]); m=classify(log, load_rules()); "
            "w=[e for e in log.events if e.kind=='warning']; "
            "print(len(w), log.dropped_events, len(log.lines), m[0].event.kind, "
            "log.lines.line(log.events[-1].line).text[:4], %s)" % PEAK_KB_EXPR)
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True).stdout
    warnings, dropped, stored, top, last_text, rss_kb = out.split()
    # every report is accounted for (the oracle: 100k were written): kept or counted
    # as dropped; the kept ones and the stored lines stay within the caps; the final
    # oops is kept and ranks first
    assert int(warnings) + int(dropped) == 100_000
    assert int(warnings) <= MAX_EVENTS + 512
    assert int(stored) <= MAX_KEPT_LINES + 50 * (MAX_EVENTS + 512), stored
    assert top == "null_deref" and last_text == "BUG:"
    assert int(rss_kb) < 120 * 1024, f"peak RSS {rss_kb} kB"
