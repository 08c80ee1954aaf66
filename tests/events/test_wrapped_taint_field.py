"""lib/dump_stack.c dump_stack_print_info() prints "CPU: %d PID: %d Comm: %.20s %s%s %s %.*s":
the taint field print_tainted() gives is a fixed-width run of flag letters and blanks, always
followed by the release. A word wrap breaks at the blanks inside the run and moves the later
flags to the next line; that line (flags, then the release) is the rest of the CPU line, and
the report keeps every flag (the L that says a soft lockup was reported before, the D of an
earlier oops). A cut CPU line followed by anything else stays as it is."""

import pytest

from triage.events import parse_log

_STALL = ["[ 4990.525762] rcu: INFO: rcu_sched self-detected stall on CPU",
          "[ 4990.525777] NMI backtrace for cpu 12"]
_TRACE = ["[ 4990.525781] Call Trace:",
          "[ 4990.525787]  dump_stack+0x6b/0x83",
          "[ 4990.525797]  rcu_dump_cpu_stacks+0xa2/0xd0",
          "[ 4990.525829] RIP: 0010:__drm_dbg+0x21/0x90 [drm]"]


def _taint(cpu_lines):
    ev = next(e for e in parse_log(_STALL + cpu_lines + _TRACE).events if e.kind == "rcu_stall")
    return ev.taint or ""


@pytest.mark.parametrize("cut, rest", [
    # 5.10 form, broken at the blanks between G and L
    ("[ 4990.525779] CPU: 12 PID: 19156 Comm: Xwayland Tainted: G", "L    5.10.0-8-amd64 #1 Debian 5.10.46-4"),
    # 6.x form with UID and Kdump, broken after the first flags
    ("[ 4990.525779] CPU: 12 UID: 1000 PID: 19156 Comm: Xwayland Kdump: loaded Tainted: G   D",
     "L     6.12.9-amd64 #1 Debian 6.12.9-1"),
])
def test_flags_moved_to_the_next_line_rejoin(cut, rest):
    assert "L" in _taint([cut, rest])


def test_a_cut_cpu_line_before_another_line_stays_apart():
    # the next line is the hardware name, not the rest of the taint field
    evs = parse_log(_STALL + ["[ 4990.525779] CPU: 12 PID: 19156 Comm: Xwayland Tainted: G",
                              "Hardware name: System manufacturer System Product Name/ROG ZENITH"] + _TRACE).events
    ev = next(e for e in evs if e.kind == "rcu_stall")
    assert "L" not in (ev.taint or "") and "Hardware" not in (ev.taint or "")


def test_a_whole_cpu_line_takes_no_next_line():
    # the release is on the line: the field is complete, a following flag-like line is not its rest
    assert _taint(["[ 4990.525779] CPU: 12 PID: 19156 Comm: Xwayland Tainted: G    5.10.0-8-amd64 #1",
                   "L    5.10.0-8-amd64 #1 Debian 5.10.46-4"]).strip() == "G"


def test_posted_4500_wrapped_at_72_columns_keeps_the_l_flag():
    # the real report the rule was found on (tuning 4500, 5.10 syslog): wrap-72 of
    # tools/paste_invariance.py breaks its CPU line inside the taint field, after "G"; the
    # rejoined line gives the stall its L again, as the whole log does
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
    import paste_invariance as pi
    from _posted import posted_lines

    lines = posted_lines("4500")
    wrapped = pi.TRANSFORMS["wrap-72"](pi.records(lines))
    assert any(s.rstrip().endswith("Tainted: G") for s in wrapped)     # the field was cut
    for form in (lines, wrapped):
        ev = next(e for e in parse_log(form).events if e.kind == "rcu_stall")
        assert "L" in (ev.taint or ""), ev.taint
