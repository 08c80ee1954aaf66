"""A report pasted from x86's page-fault die line on ("Oops: 0000 [#1]", 6.12+ "Oops: Oops:
0000 [#1]"), its "BUG: ..." and "#PF:" lines cut: arch/x86/mm/fault.c page_fault_oops() is
the only x86 caller of die("Oops"), so it is a kernel page fault, a NULL dereference when
the register dump's CR2 is near NULL. The logs are tuning-half posted logs (779, 778) with
the lines before the die line removed, as a poster who copies from there pastes them."""

import pytest

from triage.analysis import analyze_lines
from triage.events import parse_log

from _posted import posted_lines as _posted


def _from_die_line(lines):
    i = next(k for k, s in enumerate(lines) if "Oops: " in s)
    return lines[i:]


def test_die_line_with_cr2_near_null_is_a_null_dereference():
    d = analyze_lines(_from_die_line(_posted("779")))       # CR2: 0000000000000010
    assert (d.verdict.category, d.verdict.culprit.module) == ("gpu_null_deref", "i915")


def test_die_line_with_cr2_elsewhere_is_a_page_fault():
    d = analyze_lines(_from_die_line(_posted("778")))       # CR2: 0000000000040000
    assert (d.verdict.category, d.verdict.culprit.module) == ("gpu_fault", "i915")


@pytest.mark.parametrize("line, kind", [
    ("Oops: Oops: 0000 [#1] SMP NOPTI", "null_deref"),      # 6.12+, no CR2 in the excerpt: assumed
    ("Oops: 0002 [#1] PREEMPT SMP PTI", "null_deref"),
    # other architectures' die lines are not x86 page faults; powerpc's __bad_page_fault()
    # die("Kernel access of bad area") is a page fault of its own (test_arch_fault_lines.py)
    ("Oops: Kernel access of bad area, sig: 11 [#1]", "null_deref"),
    ("Oops: Exception in kernel mode, sig: 5 [#1]", "oops_other"),
    ("Oops: 0010 ilc:3 [#1] SMP", "oops_other"),
])
def test_die_line_alone(line, kind):
    log = parse_log(["[  1.000000] " + line, "[  1.000001] CPU: 0 PID: 1 Comm: x Not tainted 6.1.0 #1"])
    assert log.events[0].kind == kind
    assert bool(log.events[0].fields.get("address_unknown")) == (kind == "null_deref")
