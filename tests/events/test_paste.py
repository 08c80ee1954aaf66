"""Logs as users paste them (triage.events.paste and the per-line stamps of
triage.events.prefix).

Oracle: the parse of the same real log, unmodified. Each test takes a real
kernel log from the repo (Debian 6.1 vmcore-dmesg and serial logs made by
sample_dumps/generate; posted CentOS/arm64 logs in tests/data/logs), applies
what a mail client, a forum, `dmesg -T/-H` or journalctl does to it, and
checks that the events, the guilty frame, the category and the culprit module
come out as for the original. The journalctl outputs in tests/data/journal are
journalctl's own (tools/make_journal_fixtures.py), not hand-written formats.
"""

import glob
import os
import re

import pytest

from triage.classify import classify, load_rules
from triage.events import parse_log
from triage.events import paste

DATA = os.path.join(os.path.dirname(__file__), "..", "data")
REAL = sorted(glob.glob(os.path.join(DATA, "logs", "*.log"))) + [os.path.join(DATA, "journal", "gpu_alloc_null.vmcore-dmesg.txt")]
JOURNAL_MODES = ["short", "short-iso", "short-iso-precise", "short-precise", "short-monotonic", "short-unix",
                 "short-full", "short-delta", "verbose", "export", "json", "json-pretty", "json-seq", "json-sse", "cat",
                 "with-unit"]
_TS = re.compile(r"^\[ *\d+\.\d+\] ")


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def _lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def _summary(lines, rules):
    log = parse_log(lines)
    top = classify(log, rules)[0]
    crash = [e for e in log.events if e.kind not in ("meminfo",)]
    return {
        "kinds": [e.kind for e in crash],
        "ip": [e.ip.function if e.ip else None for e in crash],
        "frames": [[f.function for f in e.frames] for e in crash],
        "title": top.title, "category": top.category, "module": top.culprit.module,
        "modules": [m.name for m in log.facts.modules or []],
    }


def _wrap(lines, width=72):
    """A mail client's greedy word wrap."""
    out = []
    for line in lines:
        while len(line) > width:
            k = line.rfind(" ", 0, width)
            if k <= 0:
                break
            out.append(line[:k])
            line = line[k + 1:]
        out.append(line)
    return out


def _nbsp(lines):
    """An HTML mail client keeping runs of blanks: all but the last blank of a run
    become no-break spaces ("[\u00a0\u00a0 28.848701]", as in posted log 305)."""
    return [re.sub(r" {2,}", lambda m: "\u00a0" * (len(m.group()) - 1) + " ", s) for s in lines]


PASTES = {
    "html-nbsp": _nbsp,
    "html-nbsp-wrapped-72": lambda ls: _nbsp(_wrap(ls)),
    "indented": lambda ls: ["    " + s for s in ls],
    "tab-indented": lambda ls: ["\t" + s for s in ls],
    "mail-quoted": lambda ls: ["> " + s for s in ls],
    "mail-quoted-twice": lambda ls: [">> " + s for s in ls],
    "mail-quoted-spaced": lambda ls: ["> > " + s for s in ls],
    "crlf": lambda ls: [s + "\r" for s in ls],
    "dmesg-T-fr": lambda ls: [_TS.sub("[dim. 19 avril 18:03:30 2026] ", s) for s in ls],
    "dmesg-T-de": lambda ls: [_TS.sub("[So Apr 19 18:03:30 2026] ", s) for s in ls],
    "dmesg-T-en": lambda ls: [_TS.sub("[Sun Apr 19 18:03:30 2026] ", s) for s in ls],
    "dmesg-H-comma": lambda ls: [_TS.sub("[  +0,006982] ", s) for s in ls],
    "grep-n": lambda ls: [f"{1000 + i}{':' if i % 3 else '-'}{s}" for i, s in enumerate(ls)],
    "markdown-bold": lambda ls: ["**" + s + "**" if _TS.match(s) and i % 5 == 0 else s for i, s in enumerate(ls)],
    "dmesg-H": lambda ls: [_TS.sub("[  +0.006982] ", s) if i % 7 else _TS.sub("[Apr19 18:03] ", s)
                           for i, s in enumerate(ls)],
    "syslog-fr": lambda ls: [_TS.sub("avril 19 18:03:30 gpu-node-7 kernel: ", s) for s in ls],
    "wrapped-72": _wrap,
    "wrapped-78": lambda ls: _wrap(ls, 78),
    "quoted-and-wrapped": lambda ls: ["> " + s for s in _wrap(ls, 70)],
}


@pytest.mark.parametrize("form", sorted(PASTES))
@pytest.mark.parametrize("path", REAL, ids=os.path.basename)
def test_pasted_form_parses_like_the_original(path, form, rules):
    lines = _lines(path)
    if form.startswith(("dmesg-", "syslog-")) and not any(_TS.match(s) for s in lines):
        pytest.skip("no printk timestamps to replace")
    want = _summary(lines, rules)
    got = _summary(PASTES[form](lines), rules)
    if form.startswith(("dmesg-", "syslog-")):
        # without a clock, only the crash itself is compared (time-window rules may differ)
        for k in ("kinds", "ip", "frames", "modules"):
            assert got[k] == want[k], (form, k)
        assert (got["category"], got["module"]) == (want["category"], want["module"])
    else:
        assert got == want


@pytest.mark.parametrize("mode", JOURNAL_MODES)
def test_journalctl_output_modes(mode, rules):
    src = _summary(_lines(os.path.join(DATA, "journal", "gpu_alloc_null.vmcore-dmesg.txt")), rules)
    got = _summary(_lines(os.path.join(DATA, "journal", f"gpu_alloc_null.{mode}.txt")), rules)
    assert src["category"] == "gpu_alloc_fail_null_deref" and src["module"] == "nvidia"
    for k in ("kinds", "ip", "frames", "title", "category", "module", "modules"):
        assert got[k] == src[k], (mode, k)


# -- each step on its own ------------------------------------------------------

def _run(step, lines):
    return list(step(iter(enumerate(lines, 1))))


def test_strip_cr():
    assert _run(paste.strip_cr, ["a\r", "b", "c\r\r"]) == [(1, "a"), (2, "b"), (3, "c")]


def test_unbreak_spaces():
    nbsp = "[\u00a0\u00a0 28.848701] nouveau 0000:03:00.0: fifo: fault 00 [READ] at"
    got = _run(paste.unbreak_spaces, [nbsp, "[   28.848710] plain"])
    assert got == [(1, "[   28.848701] nouveau 0000:03:00.0: fifo: fault 00 [READ] at"), (2, "[   28.848710] plain")]
    # a line without one is passed on as the same object
    item = (7, "[   1.0] no no-break space here")
    assert next(paste.unbreak_spaces(iter([item]))) is item


def test_unquote_only_when_most_lines_are_quoted():
    assert _run(paste.unquote, ["> a", ">> b", "> > c", "reply"]) == [(1, "a"), (2, "b"), (3, "c"), (4, "reply")]
    # a diff (patch, pull request) that adds a quoted log
    assert _run(paste.unquote, ["+> a", "+> b"]) == [(1, "a"), (2, "b")]
    # a log with the odd ">" line is not a quoted mail
    text = ["[ 1.0] a", "[ 1.1] b", "> c"]
    assert _run(paste.unquote, text) == list(enumerate(text, 1))


def test_strip_markup_drops_a_blockquote_marker_before_a_console_line():
    # posted 1208: only the first line quoted ("> "), the rest of the dmesg -H paste not
    first = "> [ +14.888230] mali fb000000.gpu: Unhandled Page fault in AS1 at VA 0x00007FE0DA65CB80"
    text = [first, "              Reason: Memory is not mapped on the GPU",
            "[  +0.000145] mali fb000000.gpu: queue not bound when handling fatal event"]
    assert _run(paste.strip_markup, text) == [(1, first[2:]), (2, text[1]), (3, text[2])]
    assert _run(paste.strip_markup, [">> [  12.3] BUG: x", "> kernel: Call Trace:"]) == \
        [(1, "[  12.3] BUG: x"), (2, "kernel: Call Trace:")]
    # a ">" before anything that is not a console line is left: prose, a shell's
    # continuation prompt, a kernel line's own text
    for line in ("> c", "> Call Trace:", ">", "> ", ">echo 1 > /proc/sys/kernel/sysrq"):
        assert _run(paste.strip_markup, [line]) == [(1, line)]


def test_posted_1208_partly_quoted_dmesg_h_is_read():
    from triage.analysis import analyze_lines
    from _posted import posted_lines
    v = analyze_lines(posted_lines("1208")).verdict
    assert (v.category, v.culprit.module) == ("gpu_fault", "mali_kbase")


def test_strip_line_numbers_of_grep_n():
    text = ["1261929:Apr 13 18:52:32 ifserv kernel: BUG: unable to handle kernel paging request at ffffea0003d852",
            "1262024-Apr 13 18:52:32 ifserv kernel: IP: [<ffffffff81116e22>] unmap_single_vma+0x2d9/0x6b8", "--"]
    assert [s for _, s in _run(paste.strip_line_numbers, text)] == [t.split(":", 1)[1] if i == 0 else t.split("-", 1)[1]
                                                                   for i, t in enumerate(text[:2])]
    # times, ISO dates and stack words at line start are not line numbers
    for text in (["18:03:30 h kernel: a", "18:03:31 h kernel: b"], ["2024-01-03T22:06:01 h kernel: a"] * 2):
        assert _run(paste.strip_line_numbers, text) == list(enumerate(text, 1))


def test_strip_markup_only_around_console_lines():
    assert _run(paste.strip_markup, ["**[   29.775289] BUG: x**"]) == [(1, "[   29.775289] BUG: x")]
    # the kernel's own line (syzkaller corpus 132.txt) stays as it is
    own = "** 2395 printk messages dropped ** [   96.027166] BUG fasync_cache (Tainted: G    B          ): kasan"
    assert _run(paste.strip_markup, [own]) == [(1, own)]


def test_a_one_line_paste_behind_one_blank_is_dedented_unless_a_frame():
    # posted 1903: a lone vmalloc error line behind the poster's blank ("no kernel log" before)
    line = (" kworker/u17:5: vmalloc error: size 0, failed to allocate pages, mode:0x10dc2(GFP_KERNEL|"
            "__GFP_HIGHMEM|__GFP_NORETRY|__GFP_ZERO), nodemask=(null),cpuset=/,mems_allowed=0")
    assert _run(paste.dedent, [line]) == [(1, line[1:])]
    assert _run(paste.dedent, ["\t" + line[1:]]) == [(1, line[1:])]
    # a frame's blank is its own, one blank or two
    for frame in (" dump_stack+0x10/0x20", "  dump_stack+0x10/0x20"):
        assert _run(paste.dedent, [frame]) == [(1, frame)]
    from triage.analysis import analyze_lines
    from _posted import posted_lines
    assert analyze_lines(posted_lines("1903")).verdict.category == "alloc_failure"


def test_dedent_removes_only_shared_indentation():
    assert _run(paste.dedent, ["    a", "      b", "    c"]) == [(1, "a"), (2, "  b"), (3, "c")]
    text = ["[ 1.0] Call Trace:", " dump_stack+0x1/0x2"]
    assert _run(paste.dedent, text) == list(enumerate(text, 1))


@pytest.mark.parametrize("pair,joined", [
    (["[  12.3] Code: 48 8b 45 f0 48 89 c7 e8 12 34 56 78 48 8b 45 f0 48 8b 40 08 48", "85 c0 74 0e <48> 8b 00"],
     "[  12.3] Code: 48 8b 45 f0 48 89 c7 e8 12 34 56 78 48 8b 45 f0 48 8b 40 08 48 85 c0 74 0e <48> 8b 00"),
    (["[  12.3] Modules linked in: nvidia_uvm(POE) nvidia_drm(POE) nvidia_modeset(POE)", "nvidia(POE) snd_hda_codec"],
     "[  12.3] Modules linked in: nvidia_uvm(POE) nvidia_drm(POE) nvidia_modeset(POE) nvidia(POE) snd_hda_codec"),
    (["[  12.3]  amdgpu_job_timedout+0x1a4/", "0x220 [amdgpu]"], "[  12.3]  amdgpu_job_timedout+0x1a4/0x220 [amdgpu]"),
    (["[  12.3]  amdgpu_device_gpu_recover.cold+0x5c2/0x8f0", "[amdgpu]"],
     "[  12.3]  amdgpu_device_gpu_recover.cold+0x5c2/0x8f0 [amdgpu]"),
    # lockdep's lock line cut before its acquisition site (posted 357; 4.x prints "[<addr>] f+..")
    (["[   57.207521] ffff888016edc518 (&cli->mutex){+.+.}-{3:3}, at:", "nouveau_bo_move+0x4bf/0x2ec0 [nouveau]"],
     "[   57.207521] ffff888016edc518 (&cli->mutex){+.+.}-{3:3}, at: nouveau_bo_move+0x4bf/0x2ec0 [nouveau]"),
    (["[  5.1]  (&dev->struct_mutex){+.+.+.}, at:", "[<ffffffffa01b2f6c>] i915_gem_fault+0x5c/0x5e0 [i915]"],
     "[  5.1]  (&dev->struct_mutex){+.+.+.}, at: [<ffffffffa01b2f6c>] i915_gem_fault+0x5c/0x5e0 [i915]"),
    # __warn()'s header cut after "at" and after the file:line (posted 612, a 72-column mail)
    (["[  129.374284] WARNING: CPU: 14 PID: 1710 at", "drivers/gpu/drm/amd/dc/core/dc_link.c:3153",
      "dc_link_allocate_mst_payload+0x1f7/0x220 [amdgpu]"],
     "[  129.374284] WARNING: CPU: 14 PID: 1710 at drivers/gpu/drm/amd/dc/core/dc_link.c:3153 "
     "dc_link_allocate_mst_payload+0x1f7/0x220 [amdgpu]"),
    # cut after the file:line only (an 80-column Bugzilla wrap)
    (["[ 2164.138004] WARNING: CPU: 8 PID: 10745 at lib/list_debug.c:55", "__list_del_entry_valid+0x89/0xd0"],
     "[ 2164.138004] WARNING: CPU: 8 PID: 10745 at lib/list_debug.c:55 __list_del_entry_valid+0x89/0xd0"),
    # no CONFIG_DEBUG_BUGVERBOSE: "at %pS" moved to the next line
    (["[  5.0] WARNING: CPU: 0 PID: 1 at", "foo_probe+0x10/0x20 [foo]"],
     "[  5.0] WARNING: CPU: 0 PID: 1 at foo_probe+0x10/0x20 [foo]"),
])
def test_rejoin_wrapped_tails(pair, joined):
    assert _run(paste.rejoin_wrapped, pair) == [(1, joined)]


@pytest.mark.parametrize("lines", [
    ["[  5.0] WARNING: CPU: 0 PID: 1 at", "[  5.1] Modules linked in: foo"],          # next line has a stamp
    ["[  5.0] WARNING: CPU: 0 PID: 1 at", "Modules linked in: foo bar"],               # not a location
    ["[  5.0] WARNING: CPU: 0 PID: 1 at", "CPU: 0 PID: 1 Comm: swapper/0"],
    ["[  5.0] WARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2", "g+0x1/0x2"],                # header complete
    ["[  5.0] WARNING: CPU: 0 PID: 1 at a.c:1", "Modules linked in: foo"],             # a symbol must follow
])
def test_complete_or_unrelated_warn_lines_stay_apart(lines):
    assert _run(paste.rejoin_wrapped, lines) == list(enumerate(lines, 1))


@pytest.mark.parametrize("pair", [
    ["[  12.3] Code: 48 8b 45 f0", "[  12.4] 85 c0"],                            # the next line has its own stamp
    ["[  12.3] Code: 48 8b 45 f0 48 89 c7 e8 12 34 56 78 48 8b 45 f0 48 8b 40 08 48", "executing program"],
    ["[  12.3]  dump_stack+0x1/0x2", "SYZFAIL: failed to recv rpc"],
    ["[  12.3] Modules linked in: a b", "CPU: 0 PID: 1 Comm: x"],
    ["[  12.3]  ? SyS_shutdown+0x1b0/0x1b0", " executing program"],
    # after ", at:" only a whole frame without a stamp of its own is the rest of the line
    ["[  57.2] ffff888016edc518 (&cli->mutex){+.+.}-{3:3}, at:", "[  57.3] nouveau_bo_move+0x4bf/0x2ec0 [nouveau]"],
    ["[  57.2] ffff888016edc518 (&cli->mutex){+.+.}-{3:3}, at:", "nouveau_bo_move+0x4bf/0x2ec0:"],
    ["[  57.2] ffff888016edc518 (&cli->mutex){+.+.}-{3:3}, at:", "--------------------------------------------------------"],
])
def test_rejoin_leaves_separate_lines_alone(pair):
    assert _run(paste.rejoin_wrapped, pair) == list(enumerate(pair, 1))


def test_no_step_changes_the_real_logs_in_the_repo():
    """Measured false-positive rate of every step of paste.normalise (no-break spaces, journal,
    unquote, line numbers, markup, dedent, glued lines, learned prefix, rejoin, reversed order):
    on every real log here (syzkaller's corpus, serial, vmcore-dmesg) they change nothing."""
    files = sorted(glob.glob(os.path.join(DATA, "syzkaller", "*.txt"))) + REAL[:-1] \
        + sorted(glob.glob(os.path.join(DATA, "analyze", "*.log")))
    changed = []
    for f in files:
        with open(f, "rb") as fp:
            text = fp.read().decode("utf-8", "replace")
        if "/syzkaller/" in f:
            text = text.partition("\n\n")[2]
        raw = list(enumerate(text.replace("\r", "").split("\n"), 1))
        # the pipeline itself, not a copy of its chain (which had left out unreverse)
        out = list(paste.normalise(line for _, line in raw))
        if out != raw:
            changed.append(os.path.basename(f))
    assert len(files) > 350 and changed == []


def test_line_numbers_follow_the_input():
    log = parse_log(["[ 1.0] a", "[  12.3]  amdgpu_job_timedout+0x1a4/", "0x220 [amdgpu]", "[ 2.0] BUG: kernel NULL pointer dereference, address: 0000000000000000"])
    assert [e.line for e in log.events] == [4]


def test_json_record_with_byte_array_message():
    rec = '{"_TRANSPORT":"kernel","_SOURCE_MONOTONIC_TIMESTAMP":"5000000","MESSAGE":[66,85,71,58,32,120]}'
    assert _run(paste.decode_journal, [rec]) == [(1, "[    5.000000] BUG: x")]


def test_decode_journal_json_sse_and_lookalikes():
    rec = 'data: {"_TRANSPORT":"kernel","MESSAGE":"BUG: x","_SOURCE_MONOTONIC_TIMESTAMP":"5000000"}'
    assert _run(paste.decode_journal, [rec, "", rec]) == [(1, "[    5.000000] BUG: x"), (3, "[    5.000000] BUG: x")]
    # a plain log line that starts with "data:" is not an event stream, and blank lines stay
    plain = ["data: 0x1234 mismatch", "", "[    1.000000] BUG: y"]
    assert _run(paste.decode_journal, plain) == [(1, plain[0]), (2, ""), (3, plain[2])]


def test_unclosed_json_pretty_record_passes_through_bounded():
    lines = ["{"] + ['\t"X" : "y",'] * (paste.MAX_RECORD_LINES + 10)
    out = _run(paste.decode_journal, lines)
    assert [s for _, s in out] == lines


def test_windows_stay_bounded_on_blank_runs():
    # a million blank lines before any text: the look-ahead window holds a bounded number of them
    head, _ = paste._window(iter(enumerate([""] * 1_000_000, 1)))
    assert len(head) <= paste.WINDOW * 16


def test_frame_whose_module_tag_a_terminal_cut():
    from triage.events.frames import parse_trace_line
    # the last line of a real posted excerpt (042-...): cut inside "[nvidia]"
    fr = parse_trace_line("[<ffffffffc10610c0>] _nv043989rm+0x10/0x40 [nv")
    assert fr is not None and (fr.function, fr.offset, fr.module) == ("_nv043989rm", 0x10, None)
    assert parse_trace_line(" foo+0x10/0x40 [nvidia>").module is None


def test_dedent_log_blocks_indented_between_prose_paragraphs():
    # posted 732 (tuning): a commit message quoting its log as paragraphs indented by two
    # blanks, prose paragraphs between them ("This causes a timeout trying to bring up ...")
    text = ["  nouveau 0000:01:00.0: disp: chid 0 mthd 0000 data 00000400 00001000 00000002", "",
            "This causes a timeout trying to bring up the GR ctx:", "",
            "  nouveau 0000:01:00.0: timeout",
            "  WARNING: CPU: 0 PID: 12 at drivers/gpu/drm/nouveau/nvkm/engine/gr/ctxgf100.c:1547 "
            "gf100_grctx_generate+0x7b2/0x850 [nouveau]",
            "  ..."]
    out = [s for _, s in _run(paste.dedent, text)]
    assert out[4] == "nouveau 0000:01:00.0: timeout" and out[5].startswith("WARNING: CPU: 0 PID: 12 at ")
    assert out[2] == text[2]                          # the prose stays as it is
    # a flush header with its indented frames in one paragraph is a report, not a quoted block
    report = ["WARNING: CPU: 0 PID: 14459 at kernel/irq/irqdesc.c:666", "Call trace:",
              " handle_irq_desc+0x20/0x58 (P)", "", "The warning occurs because ...", "",
              "  tegra186_pmc_wake_syscore_resume+0xe4/0x15c"]
    assert _run(paste.dedent, report) == list(enumerate(report, 1))
    # a paragraph of console-prefixed lines is log, not prose: the indented one beside it stays
    stamped = ["[   41.6] WARNING: CPU: 4 PID: 794 at kernel/locking/mutex.c:587 __mutex_lock+0x670/0x878", "",
               "  host1x_intr_start+0x54/0xf8 [host1x]"]
    assert _run(paste.dedent, stamped) == list(enumerate(stamped, 1))
    from tests.events.test_posted_wordings import _culprit
    assert _culprit("732") == ("gpu_fault", "nouveau")


def test_split_glued_separates_syslog_records_run_together():
    # posted log 863: a tracker lost the line breaks of a journal paste
    line = ("Jan 31 22:06:05 debian gnome-session[1109]: JS LOG: remove ConnectionMonitor"
            "Jan 31 22:06:16 debian kernel: ------------[ cut here ]------------"
            "Jan 31 22:06:16 debian kernel: WARNING: CPU: 6 PID: 130 at x.c:1 f+0x1/0x2 [m]()")
    got = list(paste.split_glued(iter([(7, line)])))
    assert [n for n, _ in got] == [7, 7, 7]
    assert [s for _, s in got] == [
        "Jan 31 22:06:05 debian gnome-session[1109]: JS LOG: remove ConnectionMonitor",
        "Jan 31 22:06:16 debian kernel: ------------[ cut here ]------------",
        "Jan 31 22:06:16 debian kernel: WARNING: CPU: 6 PID: 130 at x.c:1 f+0x1/0x2 [m]()"]
    # posted log 869: records run together in a paragraph, a blank between them
    got = list(paste.split_glued(iter([(1, "Jul 19 05:19:24 h kernel: a. Jul 19 05:19:24 h kernel: b.")])))
    assert [s for _, s in got] == ["Jul 19 05:19:24 h kernel: a.", "Jul 19 05:19:24 h kernel: b."]


@pytest.mark.parametrize("line", [
    # a date inside kernel text, but not followed by the line's own host and a tag
    "Jan  3 22:06:01 h kernel: rtc_cmos 00:00: setting system clock to Jan  3 22:06:01 UTC",
    "Jan  3 22:06:01 h kernel: clock Jan  3 22:06:01 other kernel: not this host",
    # the host appears again, with no date before it
    "Jan  3 22:06:01 h kernel: eth0: link h kernel: up and running for a while now",
    # no syslog head at the start: left alone
    "[  12.5] Jan  3 22:06:01 h kernel: x Jan  3 22:06:02 h kernel: y",
])
def test_split_glued_leaves_single_records_alone(line):
    assert list(paste.split_glued(iter([(1, line)]))) == [(1, line)]


def test_glued_real_journal_parses_like_the_original(rules):
    # oracle: journalctl's own short output of a real vmcore-dmesg (tests/data/journal),
    # with every line break removed as a tracker does
    path = os.path.join(DATA, "journal", "gpu_alloc_null.short.txt")
    lines = _lines(path)
    glued = ["".join(lines)]
    assert _summary(glued, rules) == _summary(lines, rules)


def test_dedent_reads_past_the_flush_tails_of_a_mail_clients_wrap():
    # real log 1911 (a commit message, one blank before every line, wrapped at ~72 columns by
    # the mail client, whose tails start flush): the tails are the block's own lines
    text = [" kworker/11:1H: page allocation failure: order:0,",
            "mode:0xa20(GFP_ATOMIC), nodemask=(null),cpuset=/,mems_allowed=0-1",
            " Hardware name: HP ProLiant XL420 Gen9/ProLiant XL420 Gen9, BIOS U19",
            "12/27/2015",
            " Call Trace:",
            "  dump_stack+0xa0/0xea"]
    out = [s for _, s in _run(paste.dedent, text)]
    assert out[0] == "kworker/11:1H: page allocation failure: order:0," and out[5] == " dump_stack+0xa0/0xea"
    from _posted import posted_lines, verdict
    assert verdict(posted_lines("1911")) == ("alloc_failure", None)


def test_dedent_keeps_indentation_when_a_flush_line_is_no_wrap_tail():
    # negative: a flush header after a short indented frame is a line of its own (the frames'
    # blank is theirs), so nothing is shared
    text = [" dump_stack+0xa0/0xea", "kworker/11:1H: page allocation failure: order:0, mode:0xa20",
            " warn_alloc+0x8a/0x12d"]
    assert _run(paste.dedent, text) == list(enumerate(text, 1))


def test_arm32_unwinder_line_cut_after_from_is_rejoined():
    # arch/arm/kernel/traps.c dump_backtrace_entry(): "[<%08lx>] (%ps) from [<%08lx>] (%pS)" is
    # one line; a mail client's wrap after "from" (real log 2328 wrapped at 72) leaves the
    # caller's half alone on the next line
    text = ["[13690.144004] [<8008e6c8>](__alloc_pages_nodemask) from",
            "[<7f0aef7c>](mt7601u_rx_tasklet+0x114/0x46c [mt7601u])",
            "[13690.150000] [<80012c5c>] (show_stack) from",
            "[<80584a6c>] (dump_stack+0x24/0x28)"]
    out = [s for _, s in paste.normalise(text)]
    assert out == [text[0] + " " + text[1], text[2] + " " + text[3]]
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
    import paste_invariance as pi
    from _posted import posted_lines, verdict
    lines = posted_lines("2328")
    assert verdict(pi.TRANSFORMS["wrap-72"](pi.records(lines))) == verdict(lines) == ("alloc_failure", "mt7601u")


def test_prose_ending_in_from_is_not_joined_to_an_unwinder_line():
    # negative: only an arm32 unwinder half ("[<addr>] (func) from") takes the caller's half
    text = ["[   12.000000] copied from", "[<80584a6c>] (dump_stack+0x24/0x28)"]
    assert [s for _, s in paste.normalise(text)] == text
