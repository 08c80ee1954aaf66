"""A report head glued to a paste's mark: markdown's backtick or bold ("`BUG: kernel NULL
pointer dereference, address: ...", "**BUG: ..."), a quote character. The head still starts a
word, so it is read, and its own line's address decides the NULL dereference (without it the x86
die line "Oops: 0000 [#1]" alone made it a plain page fault). A head word inside another word
("ODEBUG: free active", "my_BUG: ...") stays no head."""

import pytest

from triage.analysis import analyze_lines
from triage.events import parse_log

TAIL = ["#PF: supervisor read access in kernel mode",
        "Oops: 0000 [#1] PREEMPT SMP NOPTI",
        "RIP: 0010:amdgpu_vm_bo_update+0x5e/0x190 [amdgpu]",
        "Call Trace:",
        " amdgpu_cs_ioctl+0x2a/0xd0 [amdgpu]"]


@pytest.mark.parametrize("mark", ["`", "**", '"', "'", "`[  12.345678] "])
def test_head_glued_to_a_paste_mark(mark):
    v = analyze_lines([mark + "BUG: kernel NULL pointer dereference, address: 0000000000000040"] + TAIL).verdict
    assert (v.category, v.culprit.module) == ("gpu_null_deref", "amdgpu")


def test_warning_head_glued_to_a_backtick():
    evs = parse_log(["`WARNING: CPU: 0 PID: 9 at drivers/gpu/drm/drm_fb_helper.c:381 "
                     "drm_fb_helper_damage_work+0x1c0/0x20c [drm_kms_helper]`"]).events
    assert [e.kind for e in evs] == ["warning"]


@pytest.mark.parametrize("line", ["ODEBUG: free active (active state 0) object type: timer_list",
                                  "my_BUG: kernel NULL pointer dereference, address: 0000000000000040",
                                  "xWARNING: CPU: 0 PID: 9 at drivers/gpu/drm/drm_fb_helper.c:381 f+0x1/0x2"])
def test_head_word_inside_a_word_is_no_head(line):
    kinds = [e.kind for e in parse_log(["[   10.000000] " + line]).events]
    assert "null_deref" not in kinds and "warning" not in kinds
