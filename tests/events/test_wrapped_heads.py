"""Report heads wrapped at the blank after the words only their format string prints, the
numbers moved to the next line (mail and forum wrapping; the trailing blank is dropped):

* mm/oom_kill.c dump_header() "%s invoked oom-killer: gfp_mask=..." cut after the colon
  (tests/events/test_oom_report_wordings.py);
* kernel/hung_task.c check_hung_task() "INFO: task %s:%d blocked for more than %ld seconds."
  cut after "than";
* mm/page_alloc.c warn_alloc() "%s: page allocation failure: order:%u, mode:%#x(%pGg)" cut
  after its colon.

Prose that names the report without the format's words up to the cut stays unread."""

import pytest

from triage.events import parse_log


def _kinds(lines):
    return [ev.kind for ev in parse_log(lines).events]


def test_hung_task_head_cut_after_than():
    evs = parse_log(["[  369.123456] INFO: task kworker/u16:3:1234 blocked for more than",
                     "120 seconds.",
                     "[  369.123500]       Not tainted 6.1.0-18-amd64 #1 Debian 6.1.76-1"]).events
    assert evs[0].kind == "hung_task"
    assert (evs[0].fields["comm"], evs[0].fields["pid"]) == ("kworker/u16:3", 1234)
    assert "seconds" not in evs[0].fields


def test_whole_hung_task_head_keeps_its_seconds():
    ev = parse_log(["[  369.123456] INFO: task kworker/u16:3:1234 blocked for more than 122 seconds."]).events[0]
    assert ev.kind == "hung_task" and ev.fields["seconds"] == 122


@pytest.mark.parametrize("line", [
    "[  369.123456] INFO: task kworker/u16:3:1234 blocked for more than usual",
    "[  369.123456] the task was blocked for more than",
])
def test_not_a_cut_hung_task_head(line):
    assert "hung_task" not in _kinds([line])


def test_allocation_failure_head_cut_after_its_colon():
    evs = parse_log(["[ 5000.000000] kworker/0:1: page allocation failure:",
                     "order:4, mode:0x104020",
                     "[ 5000.000001] CPU: 0 PID: 12 Comm: kworker/0:1 Not tainted 3.10.0-1160.el7.x86_64 #1"]).events
    assert evs[0].kind == "alloc_failure"


@pytest.mark.parametrize("line", [
    "[ 5000.000000] page allocation failure:",
    "[ 5000.000000] we saw a page allocation failure",
])
def test_not_a_cut_allocation_failure_head(line):
    assert "alloc_failure" not in _kinds([line])
