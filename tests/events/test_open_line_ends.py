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

Also scripts/decode_stacktrace.sh's "func+0x../0x.. (path:line path:line) module", one line
per frame, wrapped before or inside its parentheses (posted 3515, 1122, 778 re-wrapped).
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
    ("Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in:",
     "drm_vc4_test_pv_muxing+0x2a4/0x2a4 [vc4]"),
    # (the line opening with DRM's mark, after a client's indent: the rest of the tagged line)
    ("msm_dpu ae01000.display-controller: [drm:hangcheck_handler [msm]]",
     "*ERROR* 67.5.20.1: hangcheck detected gpu lockup rb 2!"),
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
    ("Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in:", "CPU: 14 UID: 0 PID: 311"),
    ("msm_dpu ae01000.display-controller: no tag here", "  *ERROR* 67.5.20.1: hangcheck"),
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


# scripts/decode_stacktrace.sh: "func+0x../0x.. (path:line path:line ...) module" on one line
@pytest.mark.parametrize("pieces", [
    ["RIP: 0010:i915_gem_do_execbuffer", "(./drivers/gpu/drm/i915/gem/i915_gem_object.h:632",
     "drivers/gpu/drm/i915/gem/i915_gem_execbuffer.c:921",
     "drivers/gpu/drm/i915/gem/i915_gem_execbuffer.c:3391) i915"],
    ["? parse_timeline_fences", "(drivers/gpu/drm/i915/gem/i915_gem_execbuffer.c:3292) i915"],
    ["? lock_release (./include/trace/events/lock.h:69", "kernel/locking/lockdep.c:5677)"],
    ["lr : panthor_gem_free_object+0x3c/0x1a8 (include/linux/dma-mapping.h:565",
     "drivers/gpu/drm/panthor/panthor_gem.c:308) panthor"],
])
@pytest.mark.parametrize("indent", ["", "  "])
def test_decoded_frame_locations_are_rejoined(pieces, indent):
    lines = ["Call Trace:", pieces[0]] + [indent + p for p in pieces[1:]] + [END]
    assert _msgs(lines) == ["Call Trace:", " ".join(pieces), END]


@pytest.mark.parametrize("head,nxt", [
    # the group is closed: a path alone on the next line is not its rest
    ("? parse_timeline_fences (drivers/gpu/drm/i915/gem/i915_gem_execbuffer.c:3292) i915",
     "drivers/gpu/drm/i915/gem/i915_gem_execbuffer.c:3543) i915"),
    # an open parenthesis that holds no location
    ("Hardware name: QEMU Standard PC (Q35 + ICH9", "kernel/locking/lockdep.c:5677)"),
    # a line opening with "(" that is not a location group, or after a closed group
    ("? parse_timeline_fences", "(this is a comment)"),
    ("? lock_release (./include/trace/events/lock.h:69)", "(kernel/locking/lockdep.c:5677)"),
    # a new record with a console prefix
    ("? lock_release (./include/trace/events/lock.h:69", "[  5.1] kernel/locking/lockdep.c:5677)"),
])
def test_lines_that_are_not_a_frames_locations_stay_apart(head, nxt):
    lines = ["Call Trace:", head, nxt, END]
    assert _msgs(lines) == lines


@pytest.mark.parametrize("nxt", ["", " ", "\t"])
def test_a_blank_line_after_an_open_location_group_stays_apart(nxt):
    # a decoded frame line cut inside its locations, then an empty or blank line: no join, no
    # IndexError (the open group let any line, even an empty one, into the locations test)
    lines = ["Call Trace:", "? lock_acquire (kernel/locking/lockdep.c:5677)",
             "? lock_release (./include/trace/events/lock.h:69", nxt, "? down_write+0x1/0x2", END]
    assert [s.strip() for s in _msgs(lines)] == [s.strip() for s in lines]


# lockdep print_lock() ", at: %pS" (before 4.15 ", at: [<%p>] %pS") cut inside the site's name
@pytest.mark.parametrize("head,tail", [
    ("ffff8b1654603e08 (&c->mark_lock){++++}-{0:0}, at: bch2_clear_page", "_bits+0x12a/0x140 [bcachefs]"),
    (" #0: ffff8a4e8aaad0a8 (&list->bo_list_mutex){+.+.}-{3:3}, at: amd", "gpu_cs_ioctl+0x903/0x2030 [amdgpu]"),
    ("(&sb->s_type->i_mutex_key#19){+.+.+.}, at: [<ffffffffa04b609d>] xfs_file_buffere",
     "d_aio_write+0x6d/0x320 [xfs]"),
])
def test_lock_site_cut_inside_its_name_is_rejoined(head, tail):
    lines = ["1 lock held by kworker/0:1/42:", head, tail, END]
    assert _msgs(lines) == [lines[0], head + tail, END]


@pytest.mark.parametrize("head,nxt", [
    # the site is whole: the next frame line is another record
    ("ffff8b1654603e08 (&c->mark_lock){++++}-{0:0}, at: bch2_clear_page_bits+0x12a/0x140 [bcachefs]",
     "stack backtrace:"),
    # a name fragment, but what follows does not complete it into a frame
    ("ffff8b1654603e08 (&c->mark_lock){++++}-{0:0}, at: bch2_clear_page", "stack backtrace:"),
    ("ffff8b1654603e08 (&c->mark_lock){++++}-{0:0}, at: bch2_clear_page", " dump_stack+0x10/0x20"),
    # ", at: " in prose, not after a lock's usage bits
    ("the lock was taken, at: boot", "x+0x1/0x2"),
    ("{braces} but no lock, at boot", "x+0x1/0x2"),
])
def test_lock_line_without_a_cut_name_stays_apart(head, nxt):
    lines = ["1 lock held by kworker/0:1/42:", head, nxt, END]
    assert _msgs(lines) == lines
