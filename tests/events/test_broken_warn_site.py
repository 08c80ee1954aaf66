"""A __warn() head whose site the paste broke: only __warn() prints "WARNING: CPU: %d PID: %d
at " (kernel/panic.c, 3.11-6.18), so the line is a WARN report whatever happened to the
"%s:%d %pS" after it: blanks a copy inserted into the file name, a terminal cutting the line
inside the file or the symbol. A cut symbol is no function name (%pS always prints "+0x").

Lines quoted from tuning-half posted log 1230 (blanks inserted by the copy) and cut forms of
posted 1022's header."""

import pytest

from triage.analysis import analyze_lines
from triage.events.headers import match_header

from _posted import posted_lines


@pytest.mark.parametrize("line, file, function", [
    # posted 1230: "intel_dis play.c" (a blank inserted into the file name)
    ("WARNING: CPU: 1 PID: 30 at drivers/gpu/drm/i915/display/intel_dis play.c:14382 "
     "verify_single_dpll_state.isra.115+0x28f/0x320 [i915]",
     "drivers/gpu/drm/i915/display/intel_dis", "verify_single_dpll_state.isra.115"),
    # cut at 80 columns inside the file name, and right after "at"
    ("WARNING: CPU: 3 PID: 1970 at drivers/gpu/drm/nouveau/nvkm/engine/fifo/gpfif",
     "drivers/gpu/drm/nouveau/nvkm/engine/fifo/gpfif", None),
    ("WARNING: CPU: 3 PID: 1970 at ", None, None),
    ("WARNING: CPU: 3 PID: 1970 at", None, None),
])
def test_broken_site_is_still_a_warning(line, file, function):
    h = match_header(line)
    assert h is not None and h.kind == "warning"
    assert (h.fields["cpu"], h.fields.get("file")) == (int(line.split()[2]), file)
    assert (h.ip.function if h.ip else None) == function


def test_symbol_cut_inside_its_name_is_no_function():
    h = match_header("WARNING: CPU: 1 PID: 30 at drivers/gpu/drm/i915/display/intel_display.c:14382 verify_sing")
    assert h.kind == "warning" and h.fields["src_line"] == 14382 and h.ip is None
    # whole symbols still read, with and without a module tag, and 3.x's "()"
    for rest, fn in (("verify+0x28f/0x320 [i915]", "verify"), ("dev_x+0x1/0x2()", "dev_x"), ("f+0x28", "f")):
        assert match_header("WARNING: CPU: 0 PID: 1 at kernel/a.c:12 " + rest).ip.function == fn


@pytest.mark.parametrize("line", [
    "WARNING: CPU: x PID: 1 at kernel/a.c:1 f+0x1/0x2",      # not __warn's numbers
    "WARNING: CPU: 1 PID: 2",                                 # no "at": not the head
    "WARNING: CPUs are running at reduced speed",             # a notice
])
def test_other_warning_lines_are_not_a_warn_report(line):
    h = match_header(line)
    assert h is None or h.kind != "warning"


def test_cut_symbol_takes_the_rip_function():
    lines = ["[ 25.1] WARNING: CPU: 1 PID: 30 at drivers/gpu/drm/i915/display/intel_display.c:14382 verify_sin",
             "[ 25.1] Modules linked in: i915 drm",
             "[ 25.1] RIP: 0010:verify_single_dpll_state.isra.115+0x28f/0x320 [i915]",
             "[ 25.1] Call Trace:",
             "[ 25.1]  intel_atomic_commit_tail+0xde4/0x1520 [i915]"]
    v = analyze_lines(lines).verdict
    assert (v.category, v.culprit.module, v.culprit.function) == \
        ("warning", "i915", "verify_single_dpll_state.isra.115")


def test_posted_1230_blank_inserted_site_is_an_i915_warning():
    v = analyze_lines(posted_lines("1230")).verdict
    assert (v.category, v.culprit.module) == ("warning", "i915")
