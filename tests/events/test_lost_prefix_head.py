"""A report's head behind the blank of a lost console prefix.

The kernel prints a report's head at a message's start, never indented. A pasted line
that lost its stamp or syslog columns but kept the blank after them (" INFO: task
kworker/u8:2:1186 blocked for more than 505 seconds.", tuning-half posted log 1109, a
journal paste) is that head, not a continuation line or a frame. So is a head a paste
indented on its own, behind up to eight blanks (markdown's four, a mail's quote indent:
"     WARNING: CPU: 0 PID: 9 at drivers/gpu/drm/drm_fb_helper.c:381 ...", tuning-half
posted log 1325): no kernel format string puts blanks before a head (grep of kernel/, mm/,
lib/, arch/*/mm, arch/x86/kernel, drivers/gpu of 6.12)."""

import pytest

from triage.events import parse_log

HUNG = ["Mai 29 11:53:24  kernel:       Tainted: G        W         5.1.4-1-MANJARO #1",
        "Mai 29 11:53:24  kernel: Call Trace:",
        "Mai 29 11:53:24  kernel:  schedule+0x32/0x80",
        "Mai 29 11:53:24  kernel:  nv50_disp_atomic_commit_tail+0x72/0x690 [nouveau]"]


def _kinds(lines):
    return [(e.kind, e.line) for e in parse_log(lines).events]


@pytest.mark.parametrize("head", [" INFO: task kworker/u8:2:1186 blocked for more than 505 seconds.",
                                  "  INFO: task kworker/u8:2:1186 blocked for more than 505 seconds.",
                                  "     INFO: task kworker/u8:2:1186 blocked for more than 505 seconds.",
                                  "        INFO: task kworker/u8:2:1186 blocked for more than 505 seconds."])
def test_head_behind_a_lost_prefix_or_a_paste_indent_opens_its_report(head):
    assert _kinds([head] + HUNG)[0] == ("hung_task", 1)
    ev = parse_log([head] + HUNG).events[0]
    assert ev.fields.get("comm", ev.comm) is not None
    assert [f.function for f in ev.frames][-1] == "nv50_disp_atomic_commit_tail"


def test_posted_1109_hung_task_line_without_its_prefix():
    from _posted import posted_lines
    kinds = [e.kind for e in parse_log(posted_lines("1109")).events]
    assert "hung_task" in kinds and "oops_other" not in kinds


@pytest.mark.parametrize("line", [
    # deeper than a paste indents a line is the log's own layout (a frame, a lockdep line, a
    # hung task's Tainted:), never a head
    "         INFO: task kworker/u8:2:1186 blocked for more than 505 seconds.",
    # an indented line that is no head
    " INFO task is fine", " BUGS: none",
])
def test_other_indented_lines_open_nothing(line):
    # (after a flush line: a one-line paste indented as a whole is dedented)
    assert _kinds(["some chatter", line]) == []


def test_a_frame_is_still_a_frame():
    lines = ["[  1.0] INFO: task a:1 blocked for more than 120 seconds.", "[  1.0] Call Trace:",
             "[  1.0]  schedule+0x32/0x80", "[  1.0]  bug_wait+0x1/0x2 [foo]"]
    evs = parse_log(lines).events
    assert [e.kind for e in evs] == ["hung_task"]
    assert [f.function for f in evs[0].frames] == ["schedule", "bug_wait"]


def test_posted_1325_warning_quoted_with_its_own_indent():
    """The fbdev helper's WARNING of tuning-half posted log 1325 (quoted twice, its head
    line indented by five blanks after the unquoting): warning in drm_kms_helper, its label."""
    from _posted import posted_lines, verdict
    assert verdict(posted_lines("1325")) == ("warning", "drm_kms_helper")


@pytest.mark.parametrize("line", ["     WARNING: do not unplug the device while flashing",
                                  "    INFO: the system will reboot now"])
def test_indented_prose_with_a_head_word_is_no_report(line):
    from triage.analysis import analyze_lines
    assert analyze_lines(["some chatter", line]).verdict.category == "none"
