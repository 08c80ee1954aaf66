"""A sanitizer's report head cut by a wrapping client after its "in" (triage.events.paste).

mm/kasan/report.c prints "BUG: KASAN: %s in %pS", mm/kfence/report.c "BUG: KFENCE: <kind> in
%pS", mm/kmsan/report.c "BUG: KMSAN: %s in %pSb", kernel/kcsan/report.c "BUG: KCSAN: %s in %pS":
the kernel never ends that line at "in", so a line that does was cut by the paste, and a next
line that is nothing but a %pS symbol is its rest (the rule __warn()'s header cut after "at"
already follows). Oracle: the hand label of posted 2026 (tuning half), and the kernel's formats.
"""

import pytest

from triage.events.paste import normalise

from _posted import posted_lines, verdict_with_function


def _joined(lines):
    return [s for _, s in normalise(lines)]


def test_posted_2026_kasan_head_wrapped_after_in_names_its_site():
    # "BUG: KASAN: use-after-free in" / "__drm_fb_helper_initial_config_and_unlock.cold+0x1f3/0x291"
    # / "[drm_kms_helper]": the excerpt is the head alone, wrapped twice by the mailer
    assert verdict_with_function(posted_lines("2026")) == (
        "kasan", "drm_kms_helper", "__drm_fb_helper_initial_config_and_unlock.cold")


@pytest.mark.parametrize("head,symbol", [
    ("BUG: KASAN: slab-use-after-free in", "nouveau_fence_signal+0x2c/0x90 [nouveau]"),
    ("BUG: KASAN: double-free or invalid-free in", "kfree+0x6a/0x2f0"),
    ("BUG: KFENCE: out-of-bounds read in", "amdgpu_vm_bo_update+0x1c4/0x8a0 [amdgpu]"),
    ("BUG: KMSAN: uninit-value in", "drm_mode_setcrtc+0x9a/0x1e0"),
    ("BUG: KCSAN: data-race in", "ttm_bo_release+0x3d/0x410 [ttm]"),
])
def test_sanitizer_head_cut_after_in_takes_the_symbol(head, symbol):
    assert _joined([head, symbol, "Read of size 8 at addr ffff888100000000 by task X/1"])[0] == f"{head} {symbol}"


@pytest.mark.parametrize("lines", [
    # a whole head: the next line is the access line, not the head's rest
    ["BUG: KASAN: use-after-free in f+0x1/0x2", "g+0x3/0x4"],
    # the next line is no %pS symbol (prose, an access line, a frame of the trace with its blank)
    ["BUG: KASAN: use-after-free in", "the function below"],
    ["BUG: KASAN: use-after-free in", "Read of size 8 at addr ffff888100000000 by task X/1"],
    ["BUG: KASAN: use-after-free in", " dump_stack+0x9d/0xce"],
    # KCSAN's two-function form prints %ps (no offsets): nothing to recognise it by
    ["BUG: KCSAN: data-race in", "foo / bar"],
    # not a sanitizer head: prose that ends in "in"
    ["BUG: something happened in", "f+0x1/0x2"],
    ["UBSAN: shift-out-of-bounds in", "f+0x1/0x2"],
])
def test_other_lines_are_not_joined(lines):
    assert _joined(lines) == lines
