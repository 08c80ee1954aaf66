"""Lines wrapped by a client with a continuation indent, and cut by a terminal at its width
(triage.events.paste.rejoin_wrapped), measured as tools/paste_invariance.py does.

Oracle: triage's verdict on the same committed posted log (tuning half) as it was posted.
Each test re-renders the log's records as a mail or forum client wraps them at 72 columns
with a two-blank continuation indent, or as a terminal shows them cut at 80 columns, and asks
for the same (category, culprit module). Before the change each of these changed verdict.
"""

import os
import sys

import pytest

from triage.events.paste import _looks_wrapped, normalise

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tools"))

import paste_invariance as pi  # noqa: E402
from posted_agreement import DEFAULT_CORPUS, split_half  # noqa: E402

CASES = [("wrap-72-indent", "026-arm32-null-deref-seq-vprintf-htop.log"),
         ("wrap-72-indent", "048-hung-task-nvidia-uvm-retain-elrepo.log"),
         ("wrap-72-indent", "078-amdgpu-no-retry-fault-two-gpus-interleaved.log"),
         ("wrap-72-indent", "123-amdgpu-warning-uvd-v7-ring-insert-nop.log"),
         ("hard-wrap-80", "026-arm32-null-deref-seq-vprintf-htop.log"),
         ("hard-wrap-80", "048-hung-task-nvidia-uvm-retain-elrepo.log"),
         ("hard-wrap-80", "122-amdgpu-warning-rn-clk-mgr-dkms.log"),
         ("hard-wrap-80", "124-amdgpu-warning-irq-put-probe-fail.log")]


@pytest.mark.parametrize("transform,name", CASES)
def test_verdict_holds_when_wrapped(transform, name, rules, labels):
    assert split_half(name) == "tuning"
    lines = pi._read(os.path.join(DEFAULT_CORPUS, name))
    base = pi.verdict(lines, rules)
    assert base[0] != "none", base          # two logs nothing is found in would agree trivially
    # the log as posted is read right (its hand label), so the wrapped paste must be read right
    # too, not merely as wrongly (pi.verdict turns an exception into an "ERROR ..." verdict)
    assert base[:2] == labels[name], base
    got = pi.verdict(pi.TRANSFORMS[transform](pi.records(lines)), rules)
    assert got[:2] == base[:2]


def _console(n):
    return [f"[  {100 + i}.{i:06d}] " + " ".join(f"word{i}x{k}" for k in range(14)) for i in range(n)]


def test_continuation_indent_rejoined():
    lines = _console(6)
    wrapped = pi._word_wrap(72, "  ")(lines)
    assert any(s.startswith("  word") for s in wrapped)
    assert _looks_wrapped(wrapped).indent == "  "
    assert [s for _, s in normalise(wrapped)] == lines


def test_hard_wrap_rejoined_without_a_blank():
    lines = _console(6)
    cut = pi._hard_wrap(80)(lines)
    assert _looks_wrapped(cut).width == 80
    assert [s for _, s in normalise(cut)] == lines


def test_hard_wrap_of_one_long_record_is_rejoined():
    # posted 466 hard-wrapped at 80: two records wrapped (the WARNING line, the module list),
    # the module list over many lines of exactly the width: the tails' own tails count
    mods = " ".join(f"mod{k:03d}_x" for k in range(90))
    lines = ["[293371.377895] ------------[ cut here ]------------",
             "[293371.378837] WARNING: CPU: 3 PID: 4356 at cfg80211_probe_status+0x54c/0x750 [cfg80211]",
             "[293371.380571] Modules linked in: " + mods, "[293371.380600] CPU: 3 PID: 4356 Comm: kworker"]
    cut = pi._hard_wrap(80)(lines)
    assert len(cut) > 10
    assert _looks_wrapped(cut).width == 80
    assert [s for _, s in normalise(cut)] == lines


def test_one_long_record_over_two_lines_is_no_hard_wrap():
    # a single record of two lines and a tail: too little to tell a terminal's width
    lines = ["[  1.000000] " + "x" * 67 + "tail of it", "[  1.100000] next"]
    cut = pi._hard_wrap(80)(lines)
    assert _looks_wrapped(cut).width == 0


def test_word_wrap_of_alike_lines_is_not_a_hard_wrap():
    # every record broken at the same column (one message repeated): a word wrap still,
    # whose tails follow tails shorter than the width; joined with a blank
    lines = [f"[18026.2{i:05d}] Memory cgroup out of memory: Killed process 14{i:04d} (python3) "
             f"total-vm:120832kB, anon-rss:15596kB, file-rss:8924kB, shmem-rss:0kB, UID:0 pgtables:276kB "
             f"oom_score_adj:-997" for i in range(6)]
    wrapped = pi._word_wrap(72)(lines)
    assert _looks_wrapped(wrapped).width == 0
    assert [s for _, s in normalise(wrapped)] == lines


def test_one_wrapped_record_in_a_short_excerpt_is_rejoined(rules):
    # posted 251's single memcg victim line, re-wrapped at 72 columns as a mail client does
    line = ("[ 1836.276684] Memory cgroup out of memory: Killed process 4971 (netdata) total-vm:47820kB, "
            "anon-rss:7560kB, file-rss:0kB, shmem-rss:0kB, UID:201 pgtables:100kB oom_score_adj:1000")
    wrapped = pi._word_wrap(72)([line])
    assert len(wrapped) == 3
    assert [s for _, s in normalise(wrapped)] == [line]
    assert pi.verdict(wrapped, rules)[0] == "oom_kill"


def test_prose_after_a_short_line_is_not_a_tail():
    # a line without a prefix that a word wrap cannot have moved (the line before it had room)
    lines = ["[  12.000001] nouveau 0000:01:00.0: fifo: fault", "any idea what this means?"]
    assert _looks_wrapped(lines).words is False
    assert [s for _, s in normalise(lines)] == lines


@pytest.mark.parametrize("indent", ["  ", "\t", "    "])
def test_one_line_paste_indented(indent, rules):
    line = "NVRM: Xid (PCI:0000:01:00): 79, pid=1234, GPU has fallen off the bus."
    assert [s for _, s in normalise([indent + line])] == [line]
    assert pi.verdict([indent + line], rules)[:2] == ("gpu_xid", "nvidia")


def test_one_frame_keeps_its_blank():
    assert [s for _, s in normalise(["  dump_stack+0x10/0x20"])] == ["  dump_stack+0x10/0x20"]


def test_drm_error_mark_continues_the_line_ending_with_its_tag():
    # posted 460 wrapped at 72 columns, no console prefix: "*ERROR* " is printed only after
    # a "[drm:func]" tag, so a line opening with it is that line's rest
    lines = ["msm_dpu ae01000.display-controller: [drm:hangcheck_handler [msm]]",
             "*ERROR* 67.5.20.1: hangcheck detected gpu lockup rb 2!"]
    assert [s for _, s in normalise(lines)] == [" ".join(lines)]
    lines = ["[  5.1] i915 0000:00:02.0: [drm]", "*ERROR* GPU HANG: ecode 9:1:85dffffb"]
    assert [s for _, s in normalise(lines)] == [" ".join(lines)]
    # not after a line that does not end with the tag, nor a line that merely mentions it
    for first in ("msm_dpu ae01000.display-controller: [drm:hangcheck_handler [msm]] x",
                  "see [drm] docs", "plain line"):
        lines = [first, "*ERROR* something"]
        assert [s for _, s in normalise(lines)] == lines


def test_harness_records_take_a_multi_line_records_continuation_as_its_message():
    # posted 014: the continuation lines of one NVRM record, indented by the stamp's width;
    # re-rendered (dmesg -T, journal cat) they must not carry that indentation as text
    lines = ["[ 1843.308145] NVRM: The NVIDIA GPU 0000:b3:00.0",
             "               NVRM: (PCI ID: 10de:26b5) installed in this system has",
             "               NVRM: fallen off the bus and is not responding to commands."]
    recs = pi.records(lines)
    assert [m for m, _ in recs] == [s.strip()[15:] if i == 0 else s.strip() for i, s in enumerate(lines)]
    assert {ts for _, ts in recs} == {1843.308145}
    # deeper indentation is the message's own
    deep = pi.records(["[   1.000000] a", "                         b"])
    assert deep[1] == ("                         b", None)


def test_warning_line_cut_after_its_file_and_line():
    # real posted log 1531 (a 7.0 amdgpu WARNING wrapped by a mail client after "<file>:<line>")
    from triage.events.parser import parse_log
    log = parse_log([" WARNING: drivers/gpu/drm/amd/amdgpu/../display/amdgpu_dm/dc_fpu.c:58",
                     "          at dc_assert_fp_enabled+0x14/0x20 [amdgpu]",
                     " RIP: 0010:dc_assert_fp_enabled+0x14/0x20 [amdgpu]"])
    ev = log.events[0]
    assert (ev.kind, ev.fields["src_line"], ev.ip.module) == ("warning", 58, "amdgpu")
    # cut inside " at %pS", before ", CPU#"
    ev = parse_log(["WARNING: fs/dcache.c:829 at fast_dput+0x334/0x430", "Modules linked in: ext4"]).events[0]
    assert (ev.kind, ev.ip.function) == ("warning", "fast_dput")


def test_warning_notice_with_a_file_name_in_prose_stays_a_notice():
    from triage.events.parser import parse_log
    assert [e.kind for e in parse_log(["WARNING: deprecated foo.c:12 is used"]).events] == ["notice"]
    assert [e.kind for e in parse_log(["WARNING: foo.c:12"]).events] == ["notice"]   # no directory: not __warn()'s path


def test_a_word_longer_than_any_line_does_not_deny_a_wrap():
    # posted 1711: rsyslog lines wrapped at 72 columns by a client that leaves a word longer
    # than the width where it stands ("O-key=[56] '0100010c...'", 110 characters)
    from triage.events.paste import _movable_overflow
    assert not _movable_overflow("O-key=[56] '" + "0" * 110 + "'")
    assert _movable_overflow("a line of ordinary words " * 5)
    msgs = [f"netfs: fscache_begin_operation: cookie state change wait timed out: cookie->state={i} state={i}"
            for i in range(4)]
    lines = [f"2025-12-03T15:54:24.18953{i}+00:00 ip-172-23-113-43 kernel: {m}" for i, m in enumerate(msgs)]
    wrapped = pi._word_wrap(72)(lines) + ["O-key=[56] '" + "0" * 110 + "'"]
    assert _looks_wrapped(wrapped).words
    assert [s for _, s in normalise(wrapped)][:4] == lines


def test_posted_1711_wrapped_hung_task_is_read():
    from triage.events.parser import parse_log
    from _posted import posted_lines
    assert "hung_task" in [e.kind for e in parse_log(posted_lines("1711")).events]


def test_build_id_tag_broken_at_its_blank_is_rejoined():
    # posted 1409: "[mhi <build id>]" (%pSb) broken by a mail client at the blank inside the tag
    bid = "a96cb91daba500cc77f86bad60c1f332dc3babdf"
    lines = ["kernel:  mhi_fw_load_handler+0x126/0x340 [mhi", bid + "]"]
    assert [s for _, s in normalise(lines)] == [f"kernel:  mhi_fw_load_handler+0x126/0x340 [mhi {bid}]"]
    # a hex line after a frame with a whole tag, or without "]", is not the tag's rest
    for other in (["kernel:  f+0x1/0x2 [mhi]", bid + "]"], ["kernel:  f+0x1/0x2 [mhi", bid]):
        assert [s for _, s in normalise(other)] == other


def test_posted_1409_names_mhi():
    from triage.analysis import analyze_lines
    from _posted import posted_lines
    v = analyze_lines(posted_lines("1409")).verdict
    assert (v.category, v.culprit.module) == ("alloc_failure", "mhi")


def test_old_warning_head_cut_after_its_file_and_line_takes_the_symbol_with_parentheses():
    # posted 239 (4.5) and 799 (4.x): warn_slowpath_common() printed "at %s:%d %pS()"; a mail
    # client wrapped the head after the file:line, so the next line is "func+0x../0x.. [mod]()"
    lines = ["WARNING: CPU: 2 PID: 1757 at include/drm/drm_gem.h:217",
             "evdi_dumb_create+0xdd/0xf0 [evdi]()",
             "Modules linked in: evdi(OE) nouveau"]
    assert [s for _, s in normalise(lines)][0] == \
        "WARNING: CPU: 2 PID: 1757 at include/drm/drm_gem.h:217 evdi_dumb_create+0xdd/0xf0 [evdi]()"
    from triage.events.parser import parse_log
    ev = parse_log(lines).events[0]
    assert (ev.kind, ev.ip.function, ev.ip.module) == ("warning", "evdi_dumb_create", "evdi")


@pytest.mark.parametrize("tail", ["evdi_dumb_create+0xdd/0xf0 [evdi]() extra", "evdi_dumb_create()",
                                  "(evdi_dumb_create+0xdd/0xf0)", "evdi_dumb_create+0xdd/0xf0 [evdi]("])
def test_other_lines_after_a_cut_warning_head_stay_apart(tail):
    lines = ["WARNING: CPU: 2 PID: 1757 at include/drm/drm_gem.h:217", tail]
    assert [s for _, s in normalise(lines)] == lines


@pytest.mark.parametrize("name", ["239-evdi-warning-drm-gem-h-nouveau-loaded-4.5.log",
                                  "799-nouveau-hotplug-trace-tail-then-warning-drm-crtc-h-choose-encoder-dpms-drm-kms-helper-4-x.log"])
def test_posted_old_warning_wrapped_without_stamps_keeps_its_module(name, rules):
    assert split_half(name) == "tuning"
    lines = pi._read(os.path.join(DEFAULT_CORPUS, name))
    wrapped = pi.TRANSFORMS["no-timestamps-wrap-72"](pi.records(lines))
    assert pi.verdict(wrapped, rules)[:2] == pi.verdict(lines, rules)[:2]
