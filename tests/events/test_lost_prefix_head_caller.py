"""A report head whose console prefix was lost in the paste (kept blank, no caller id) and the
report's lines after it with caller ids ("[  100.1][    T5] ..."): the kernel prints a report
from one context, so the first caller id seen continues the report the head opened."""

from triage.analysis import analyze_lines
from triage.events import parse_log

_OOPS = ["BUG: kernel NULL pointer dereference, address: 0000000000000010",
         "#PF: supervisor read access in kernel mode",
         "CPU: 0 PID: 5 Comm: kworker/0:1 Not tainted 5.10.0 #1",
         "RIP: 0010:xfs_buf_alloc+0xaa/0x110 [xfs]",
         "Call Trace:",
         " xfs_foo+0x56/0xea0 [xfs]",
         " process_one_work+0x1/0x2"]


def _caller_lines(msgs, caller="T5", start=1):
    return ["[  100.%06d][ %5s] %s" % (start + i, caller, s) for i, s in enumerate(msgs)]


def _verdict(lines):
    d = analyze_lines(lines)
    return d.verdict.category, d.verdict.culprit.module


def test_caller_lines_right_after_a_callerless_head_continue_it():
    lines = ["   " + _OOPS[0]] + _caller_lines(_OOPS[1:])
    assert _verdict(lines) == ("null_deref", "xfs")
    assert [e.kind for e in parse_log(lines).events] == ["null_deref"]


def test_an_older_callerless_report_is_not_adopted():
    # negative: a caller-less report that ended lines before is not continued by a later
    # caller's lines (its context is left alone; the later lines open their own report)
    lines = ["   " + _OOPS[0], "some prose", "more prose", "and more"] + _caller_lines(
        ["WARNING: CPU: 1 PID: 7 at mm/page_alloc.c:4000 foo+0x1/0x2", "Call Trace:", " bar+0x1/0x2"], "T7")
    kinds = [e.kind for e in parse_log(lines).events]
    assert kinds[0] == "null_deref" and "warning" in kinds


def test_posted_2021_with_its_head_prefix_lost():
    # real log 2021 (caller ids; tests/data/posted): its head line stripped of its console
    # prefix reads as the whole log does
    from _posted import posted_lines
    from triage.events.headers import match_header
    from triage.events.prefix import strip_prefix
    lines = posted_lines("2021")
    i = next(k for k, s in enumerate(lines) if strip_prefix(s)[2] is not None and match_header(strip_prefix(s)[0]))
    cut = list(lines)
    cut[i] = " " + strip_prefix(lines[i])[0]
    assert _verdict(cut) == _verdict(lines) == ("gpu_null_deref", "drm")
