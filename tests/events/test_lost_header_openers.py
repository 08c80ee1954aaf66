"""Report lines the kernel prints only after a header line of its own: a report they open lost
that header, and the diagnosis says so (triage.events.parser._mark_lost_header):

* kasan_non_canonical_hook()'s "KASAN: null-ptr-deref in range [...]" runs after x86
  die_addr()'s "general protection fault" line;
* arm's bug_handler() dies with "Oops - BUG" only after report_bug() printed "kernel BUG at";
* powerpc's bad_page_fault() dies with "Kernel access of bad area" after its "BUG: Unable to
  handle kernel ..." line;
* x86 die_addr()'s "0x%lx: %04lx [#%d]" tail (of "general protection fault, probably for
  non-canonical address 0x%lx: ...") wrapped onto a line of its own.

An x86 "invalid opcode" die line alone is not one of them: a truly invalid instruction dies
with no line before it (with ud2 marked at RIP it is BUG(): tests/events/test_bug_die_lines.py). Tuning-half posted logs, cut after the header."""

import pytest

from triage.analysis import analyze_lines
from triage.diagnosis.diagnose import HEADER_MISSING
from triage.events import parse_log

from _posted import posted_lines as _posted


def _from(lines, marker):
    i = next(k for k, s in enumerate(lines) if marker in s)
    return lines[i + 1:]


def test_kasan_range_line_after_a_cut_gpf_header():
    lines = _posted("951")
    d = analyze_lines(_from(lines, "general protection fault"))
    assert (d.verdict.category, d.verdict.culprit.module) == ("gpu_null_deref", "drm")
    assert HEADER_MISSING in d.source.problems
    assert HEADER_MISSING not in analyze_lines(lines).source.problems


def test_arm_oops_bug_die_line_after_a_cut_kernel_bug_line():
    lines = _posted("254")
    d = analyze_lines(_from(lines, "kernel BUG at"))
    assert d.verdict.category == "kernel_bug"
    assert HEADER_MISSING in d.source.problems
    assert HEADER_MISSING not in analyze_lines(lines).source.problems


def test_powerpc_bad_area_die_line_after_a_cut_header():
    lines = _posted("335")
    d = analyze_lines(_from(lines, "Faulting instruction address"))
    assert (d.verdict.category, d.verdict.culprit.module) == ("gpu_fault", "nouveau")
    assert HEADER_MISSING in d.source.problems


def test_x86_invalid_opcode_die_line_is_a_header_of_its_own():
    lines = ["[  5.000000] invalid opcode: 0000 [#1] SMP NOPTI",
             "[  5.000001] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0 #1",
             "[  5.000002] RIP: 0010:f+0x1/0x20"]
    d = analyze_lines(lines)
    assert d.verdict.category == "kernel_bug" and HEADER_MISSING not in d.source.problems


def test_wrapped_gpf_die_line_tail_opens_the_gpf():
    # 2220: "general protection fault, probably for non-canonical address" wrapped before its
    # "0x%lx: %04lx [#%d]" tail; an excerpt that starts at the tail still names the GPF
    lines = _posted("2220")
    assert lines[1].startswith("0xd2ff1d88269987a: 0000 [#1]")
    log = parse_log(lines[1:])
    assert log.events[0].kind == "gpf" and log.events[0].fields["address"] == 0xd2ff1d88269987a
    d = analyze_lines(lines[1:])
    assert d.verdict.category == analyze_lines(lines).verdict.category == "gpf"
    assert HEADER_MISSING in d.source.problems


@pytest.mark.parametrize("line", ["0xd2ff1d88269987a: 0000", "0x10: deadbeef [#1]", "Oops: 0000 [#1] SMP"])
def test_other_lines_are_no_gpf_die_tail(line):
    log = parse_log([line, "CPU: 0 PID: 1 Comm: t Not tainted 6.1.0 #1", "RIP: 0010:f+0x1/0x20"])
    assert all(e.kind != "gpf" for e in log.events)
