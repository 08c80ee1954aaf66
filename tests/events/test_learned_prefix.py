"""A logger prefix learned from the log itself (triage.events.learnprefix), and the verdict's
invariance under the ways users paste logs (tools/paste_invariance.py).

Oracle for the transformation tests: triage's verdict on the same committed posted log as it
was posted (tuning half of tests/data/posted). Each test re-renders the log's records behind
a logger prefix no rule names, or in a container runtime's JSON, and asks for the same
(category, culprit module). Before the learner existed every one of these changed verdict.
"""

import itertools
import json
import os
import re
import sys

import pytest

from triage.events import learnprefix
from triage.events.paste import normalise

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tools"))

import paste_invariance as pi  # noqa: E402
from posted_agreement import DEFAULT_CORPUS, split_half  # noqa: E402

# Tuning-half logs of the kinds issue 8 is judged on: NVIDIA oops and Xid, i915 hang, amdgpu
# fault, OOM kill, allocation failure.
FIXED = ["004-nvidia-375-old-null-deref-rm.log", "010-i915-gpu-hang-dmesg-T-chinese.log",
         "038-nvidia-xid32-31-optimus.log", "068-oom-killer-oracle-cloud-journald-ext4.log",
         "074-amdgpu-gpu-fault-147-ih-overflow.log", "020-alloc-failure-i915-gem-mail-wrapped.log",
         # OOM excerpts whose only anchors are the memory reports' own wordings: 2.6.9's "Out of
         # Memory: Killed process" (869), dump_unreclaimable_slab's "Unreclaimable slab info:" (1904)
         "869-oom-kill-rhel4-numa-out-of-memory-killed-process-lines-glued-in-paragraph.log",
         "1904-oom-killed-lightdm-pscsi-kmalloc-192-unreclaimable-elided.log",
         # 2.6.9 traces behind klogd's "[sym+dec/dec]" address column (frames.KLOGD_ADDR)
         "3422-alloc-failure-order3-rsync-pdflush-swapper-e1000-rx-stack-pointer-garbage-syslog-2-6-9-ac11.log"]
UNKNOWN = ["unknown-slash-date-level", "unknown-pipe", "unknown-host-pipe", "unknown-rfc5424",
           "unknown-kernel-pid0", "unknown-cri", "unknown-level-tag", "unknown-docker-json"]


def test_fixed_logs_are_tuning_half():
    assert all(split_half(name) == "tuning" for name in FIXED)


@pytest.mark.parametrize("name", FIXED)
def test_verdict_holds_behind_unknown_prefixes(name, rules, labels):
    lines = pi._read(os.path.join(DEFAULT_CORPUS, name))
    base = pi.verdict(lines, rules)
    assert base[0] != "none"
    # the log as posted is read right (its hand label): the prefixed pastes must be read right
    # too, not merely as wrongly (pi.verdict turns an exception into an "ERROR ..." verdict)
    assert base[:2] == labels[name], base
    recs = pi.records(lines)
    for t in UNKNOWN:
        got = pi.verdict(pi.TRANSFORMS[t](recs), rules)
        assert got[:2] == base[:2], (t, got, base)


def _norm(lines):
    return [s for _, s in normalise(lines)]


def test_learned_prefix_stripped_and_varying_fields_generalised():
    body = ["BUG: kernel NULL pointer dereference, address: 0000000000000008",
            "CPU: 3 PID: 1234 Comm: Xorg Tainted: P           O      6.1.0 #1",
            "Hardware name: ASUS System Product Name/PRIME X570-P, BIOS 4021 08/09/2021",
            "RIP: 0010:nv_drm_gem_free+0x12/0x40 [nvidia_drm]",
            "Call Trace:",
            " <TASK>",
            " drm_gem_object_release_handle+0x3b/0x80 [drm]",
            " idr_for_each+0x50/0xd0",
            " </TASK>"]
    lines = [f"2026/12/07 04:00:{i:02d}.{i * 37:03d} node-7 [kern.err] {s}" for i, s in enumerate(body)]
    assert _norm(lines) == body
    rx = learnprefix.learn(lines)
    # the constant parts stay literal, the clock is a class
    assert "node" in rx.pattern and "kern" in rx.pattern and "[0-9]{1," in rx.pattern
    # no group with a quantifier: the learned regex cannot backtrack badly
    assert re.search(r"\)[*+?{]", rx.pattern) is None


def test_prefix_before_a_printk_stamp_keeps_the_stamp():
    lines = [f"host-3 | [  {100 + i}.000{i}] {s}" for i, s in
             enumerate(["Call Trace:", " dump_stack+0x10/0x20", " panic+0x100/0x300", "Modules linked in: nvidia(PO)"])]
    assert _norm(lines) == [s[len("host-3 | "):] for s in lines]


def test_words_and_colon_before_an_anchor_are_message_text():
    # RHEL 4's "Out of Memory: Killed process" (not an anchor) and a subsystem's own prefix
    lines = ["Out of Memory: Killed process 2368 (jserver).", "Out of Memory: Killed process 2369 (jserver).",
             "nvme nvme0: Call Trace: is not printed here", "nvme nvme0: Call Trace: again"]
    assert _norm(lines) == lines


def test_text_after_a_printk_stamp_is_never_a_prefix():
    # lockdep prints frames inside its own lines: text before them is message text
    lines = ["[ 2870707.887144] hardirqs last  enabled at (91): [<ffffffff81693456>] _raw_spin_unlock_irqrestore+0x36/0x60",
             "[ 2870707.887153] hardirqs last disabled at (92): [<ffffffff8169337d>] _raw_spin_lock_irq+0x1d/0x50",
             "[ 2870707.887160] softirqs last  enabled at (0): [<ffffffff81075af4>] copy_process+0x5b4/0x1b50",
             "[ 2870707.887165] softirqs last disabled at (0): [<          (null)>]           (null)"]
    assert learnprefix.learn(lines) is None
    assert _norm(lines) == lines


def test_a_minority_prefix_is_not_learned():
    lines = ["Call Trace:", " dump_stack+0x10/0x20", " panic+0x100/0x300", " do_exit+0x10/0x90",
             "Modules linked in: nvidia(PO)", "she wrote | Call Trace:"]
    assert learnprefix.learn(lines) is None
    assert _norm(lines) == lines


def test_memory_bounded_without_anchors():
    taken = itertools.count()

    def endless():
        for i in range(10 ** 7):
            next(taken)
            yield i, f"user-space chatter line {i}"
    out = learnprefix.strip_learned(endless())
    next(iter(out))
    assert next(taken) <= learnprefix.LEARN_WINDOW + 1


def test_container_json_record_is_its_log_line():
    rec = {"log": "[  12.345678] NVRM: Xid (PCI:0000:01:00): 79, pid=1234, GPU has fallen off the bus.\n",
           "stream": "stdout", "time": "2026-12-07T04:00:00.123456789Z"}
    assert _norm([json.dumps(rec)]) == [rec["log"].rstrip("\n")]
    # a JSON line that is no log record passes through
    other = json.dumps({"level": 3, "count": 7})
    assert _norm([other]) == [other]


def test_wordings_inside_other_text_are_not_anchors():
    # syzkaller 144/649: "ODEBUG: " holds "BUG: "; a user-space trap line names a
    # "general protection fault" after the task's name
    lines = [f"[   36.8{i}] ODEBUG: Out of memory. ODEBUG disabled" for i in range(3)]
    lines += [f"traps: syz-executor229[36{i}] general protection fault ip:7feb96eb56a1 sp:20000fd0 error:0"
              for i in range(4)]
    assert learnprefix.learn(lines) is None
    assert _norm(lines) == lines


def test_a_line_of_nothing_but_the_prefix_is_an_empty_record():
    # a blank line of the log behind the prefix must not stay "[WARN]": read as a frame's
    # module tag, it named a module "WARN" (syzkaller 74)
    body = ["INFO: task syz-executor:3615 blocked for more than 143 seconds.", "Call Trace:",
            " __schedule+0x10/0x20", " schedule+0x10/0x20", "", "Modules linked in:"]
    lines = ["[WARN] " + s for s in body]
    assert _norm(lines) == body


def test_a_prefix_most_lines_lack_is_not_a_loggers():
    # the anchor lines agree, but a logger puts its prefix before every line: here most lines
    # open with the message, so "note | " is text of the log, not a prefix
    lines = ["note | Call Trace:", "note | Modules linked in: drm", "note | Hardware name: QEMU"]
    lines += [f"plain chatter line {i}" for i in range(6)]
    assert _norm(lines) == lines


def test_clock_runs_are_classes_even_when_the_anchors_agree():
    # the anchors fall within one hour; the lines after it still carry the prefix
    lines = [f"2026-12-07T04:00:0{i}.123456789Z stdout F Call Trace:" for i in range(3)]
    lines += [f"2026-12-07T05:1{i}:00.000000001Z stdout F  dump_stack+0x10/0x20" for i in range(3)]
    assert _norm(lines) == ["Call Trace:"] * 3 + [" dump_stack+0x10/0x20"] * 3


@pytest.mark.parametrize("body", [
    # arm32's unwinder, new and old formats (posted 270, 420): the frame starts at the caller
    [" unwind_backtrace from show_stack+0x18/0x1c", " show_stack from dump_stack_lvl+0x90/0xac",
     " dump_stack_lvl from warn_alloc+0x110/0x19c"],
    ["[<80018724>] (unwind_backtrace) from [<80014058>] (show_stack+0x20/0x24)",
     "[<80014058>] (show_stack) from [<80320044>] (dump_stack+0xd4/0x118)",
     "[<80320044>] (dump_stack) from [<80025300>] (warn_slowpath_common+0x98/0xc8)"],
    # OOM victim lines alone (posted 175) and show_mem's zone lines (515)
    ["Killed process 799153 (node), UID 1000, total-vm:606096kB, anon-rss:68308kB",
     "Killed process 799402 (node), UID 1000, total-vm:642596kB, anon-rss:102060kB"],
    ["lowmem_reserve[]: 0 0 0 0", "active_anon:830108 inactive_anon:104416 isolated_anon:0",
     "Free swap  = 0kB", "Total swap = 0kB"],
])
def test_anchors_of_frames_and_memory_reports(body):
    lines = [f"host-3 | {s}" for s in body]
    assert _norm(lines) == body


def test_a_colon_left_of_a_cut_away_column_is_a_prefix():
    # posted 1022: the poster cut the stamp and host off every line, leaving the tag's ": "
    body = ["------------[ cut here ]------------", "nouveau 0000:01:00.0: timeout",
            "WARNING: CPU: 3 PID: 1970 at drivers/gpu/drm/nouveau/nvkm/engine/fifo/gpfifogf100.c:90 "
            "gf100_fifo_gpfifo_engine_fini+0x168/0x1b0 [nouveau]",
            "Modules linked in: nouveau drm", "RIP: 0010:gf100_fifo_gpfifo_engine_fini+0x168/0x1b0 [nouveau]",
            "Call Trace:", " nvkm_fifo_chan_child_fini+0x79/0xf0 [nouveau]"]
    assert _norm([": " + s for s in body]) == body
    # words before the colon are still message text ("foo: Call Trace:", test above)
    lines = ["drm: Call Trace:", "drm: Modules linked in: x", "drm: RIP: 0010:f+0x1/0x2"]
    assert _norm(lines) == lines


def test_padded_table_columns_are_one_prefix():
    # posted 235: a log aggregator's table export, columns padded with runs of blanks
    # as wide as the column ("UTC | host      |     | "), the padding varying with the value
    def row(frac, msg):
        return (f"1763319381553\t2025-11-16T18:56:21.553Z\t2025-11-16 18:56:21.{frac} +0000 UTC"
                f"{' ' * (7 - len(frac))}| rasp-wbibfd42j           |                         | {msg}")
    body = ["pc : vc_sm_release_resource+0x54/0xf8 [vc_sm_cma]", "lr : vc_sm_release_resource+0x50/0xf8 [vc_sm_cma]",
            "sp : ffffffc08190bcd0", "x29: ffffffc08190bcd0 x28: ffffffc08197ed70 x27: ffffffc08197ed78",
            "Call trace:", " vc_sm_release_resource+0x54/0xf8 [vc_sm_cma]"]
    fracs = ["553823", "553848", "55399", "553895", "553939", "553966"]
    assert _norm([row(f, s) for f, s in zip(fracs, body)]) == body


def test_posted_235_table_export_names_the_module():
    from triage.analysis import analyze_lines
    from _posted import posted_lines
    v = analyze_lines(posted_lines("235")).verdict
    assert v.culprit.module == "vc_sm_cma"


def test_memory_report_wordings_are_anchors_only_at_a_message_start():
    # mm/oom_kill.c, mm/slab_common.c, mm/memcontrol.c, mm/slub.c print these at a message's
    # start: behind an unknown logger's prefix the prefix is learned...
    body = ["Out of memory and no killable processes...", "Unreclaimable slab info:",
            "memory: usage 524288kB, limit 524288kB, failcnt 42", "Memory cgroup stats for /a:",
            "SLUB: Unable to allocate memory on node -1, gfp=0xa20(GFP_ATOMIC)"]
    lines = [f"2026/12/07 04:00:0{i}.123 node-7 [kern.err] " + s for i, s in enumerate(body)]
    assert _norm(lines) == body
    # ...but quoted inside other words they are message text (negative)
    prose = [f"user{i} wrote: the log said Out of memory and no killable processes..." for i in range(4)]
    assert _norm(prose) == prose
