"""A line that ends where the kernel's format string always goes on was wrapped there by a
client: the next line, if it is what the format prints next, is its rest
(triage.events.paste._open_end, _open_tail, rejoin_wrapped).

Oracle: the format strings, cited in triage/events/paste.py (_OPEN_SUFFIXES): lockdep's
pre-4.15 ", at: [<%p>] %pS", DRM's "] *ERROR* %pV", arm/arm64 "Unable to handle kernel %s at
virtual address %016lx", "stack-protector: Kernel stack is corrupted in: %pB", the hung-task
blocker "... likely owned by task %s:%d". The lines are those of tuning-half posted logs 131,
460, 364, 3614 and 657 as a 72-80 column client wraps them without console prefixes.
Negatives: a next line of another shape, or with its own console prefix, stays apart, and
so does a line that ends alike outside those formats.
"""

import pytest

from triage.events.paste import normalise

END = "---[ end trace 0000000000000000 ]---"


def _msgs(lines):
    return [s for _, s in normalise(lines)]


@pytest.mark.parametrize("head,tail", [
    ("(&sb->s_type->i_mutex_key#19){+.+.+.}, at: [<ffffffffa04b609d>]",
     "xfs_file_buffered_aio_write+0x6d/0x320 [xfs]"),
    ("msm_dpu ae01000.display-controller: [drm:hangcheck_handler [msm]] *ERROR*",
     "67.5.20.1: hangcheck detected gpu lockup rb 2!"),
    ("i915 0000:00:02.0: [drm] *ERROR*", "GPU HANG: ecode 9:1:85dffffb, in Xorg [1234]"),
    ("Unable to handle kernel paging request at virtual address", "ffff8000db950000"),
    ("Unable to handle kernel NULL pointer dereference at virtual address", "00000008, pc : 0x0"),
    ("Kernel panic - not syncing: stack-protector: Kernel stack is corrupted",
     "in: drm_vc4_test_pv_muxing+0x2a4/0x2a4 [vc4]"),
    ("INFO: task nvidia-modeset/:226 blocked on a semaphore likely last held by task", "kwin_wayland:1088"),
    ("INFO: task kworker/u8:3:1234 is blocked on a mutex likely owned by task", "Xorg:987."),
])
@pytest.mark.parametrize("indent", ["", "  "])
def test_the_rest_of_an_open_line_is_rejoined(head, tail, indent):
    lines = ["Hardware name: QEMU Standard PC (Q35 + ICH9, 2009)", head, indent + tail, END]
    assert _msgs(lines) == [lines[0], head + " " + tail, END]


@pytest.mark.parametrize("head,nxt", [
    # the next line has its own console prefix: a new record
    ("[  5.100000] i915 0000:00:02.0: [drm] *ERROR*", "[  5.200000] i915 0000:00:02.0: GPU HANG"),
    # not what the format prints next
    ("Unable to handle kernel paging request at virtual address", "Mem abort info:"),
    ("Kernel panic - not syncing: stack-protector: Kernel stack is corrupted", "CPU: 14 UID: 0 PID: 311"),
    ("INFO: task a:1 blocked on a semaphore likely last held by task", "task:kwin_wayland state:R"),
    ("(&sb->s_type->i_mutex_key#19){+.+.+.}, at: [<ffffffffa04b609d>]", "other info that might help us"),
    # ends alike outside those formats
    (" [<ffffffff8100a0b0>]", "dump_stack+0x10/0x20"),
    ("my mail said *ERROR*", "and then it hung"),
    ("the NMI was sent by task", "foo:12"),
    ("the kernel is not corrupted", "in: x"),
    ("a fault at virtual address", "ffff8000db950000"),
])
def test_another_line_after_an_open_end_stays_apart(head, nxt):
    lines = [head, nxt, END]
    assert _msgs(lines) == lines
