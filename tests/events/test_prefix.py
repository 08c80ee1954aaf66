"""Console prefix stripping (oracle: the prefix formats printk, syslog, journald
and makedumpfile produce, written out by hand below)."""

import pytest

from triage.events import parse_log
from triage.events.prefix import MAX_LINE, sanitize, strip_prefix


@pytest.mark.parametrize("line,text,ts,caller,host", [
    ("[  312.401234] BUG: x", "BUG: x", 312.401234, None, None),
    ("[    0.000000] Linux version 6.1.0", "Linux version 6.1.0", 0.0, None, None),
    ("<4>[  312.401234] BUG: x", "BUG: x", 312.401234, None, None),
    ("<1> [299.836356] BUG: x", "BUG: x", 299.836356, None, None),              # IGT runner / CI dmesg
    ("[ 1992.224966][   T28] INFO: x", "INFO: x", 1992.224966, "T28", None),
    ("[   20.143962][T17530] WARNING: x", "WARNING: x", 20.143962, "T17530", None),
    ("[  150.665887][    C0] CPU: 0", "CPU: 0", 150.665887, "C0", None),
    ("[  150.665887] [    C0] CPU: 0", "CPU: 0", 150.665887, "C0", None),          # makedumpfile width 8
    ("[  150.665887] [  T123] CPU: 0", "CPU: 0", 150.665887, "T123", None),
    ("Jan  3 22:06:01 gpu-node-17 kernel: Out of memory", "Out of memory", None, None, "gpu-node-17"),
    ("Jan 13 22:06:01 h kernel: [ 5.5] BUG: x", "BUG: x", 5.5, None, "h"),
    ("Jan 03 22:06:01.123456 h kernel: BUG: x", "BUG: x", None, None, "h"),           # journal short-precise
    ("[  123.456789] myhost kernel: BUG: x", "BUG: x", 123.456789, None, "myhost"),   # journal short-monotonic
    ("2024-01-03T22:06:01.123456+00:00 h kernel: BUG: x", "BUG: x", None, None, "h"),  # rsyslog RFC 3339
    ("2024-01-03T22:06:01+0000 h kernel: BUG: x", "BUG: x", None, None, "h"),         # journal short-iso
    (" dump_stack+0x5c/0x80", " dump_stack+0x5c/0x80", None, None, None),
    ("Wed 2024-01-03 22:06:01 UTC h kernel: BUG: x", "BUG: x", None, None, "h"),      # journal short-full
    ("[Wed Jan  3 22:06:01 2024] BUG: x", "BUG: x", None, None, None),                 # dmesg -T
    ("2024-01-03T22:06:01,123456+00:00 BUG: x", "BUG: x", None, None, None),           # dmesg --time-format iso
    # a logger's wall-clock date in front of the printk stamp (posted corpus 620)
    ("2024-12-26 16:17:45 [16002.085540] BUG: x", "BUG: x", 16002.08554, None, None),
    # dmesg -T in other locales: opaque, dropped, not parsed
    ("[dim. 19 avril 18:03:30 2026] BUG: x", "BUG: x", None, None, None),
    ("[Sa Apr 19 18:03:30 2026] BUG: x", "BUG: x", None, None, None),
    ("[2026年04月19日 18:03:30] BUG: x", "BUG: x", None, None, None),
    # dmesg -H / --reltime / -d
    ("[  +0.006982] BUG: x", "BUG: x", None, None, None),
    ("[Apr19 18:03] BUG: x", "BUG: x", None, None, None),
    ("[<    0.006982>] BUG: x", "BUG: x", None, None, None),
    ("[    5.123456 <    0.006982>] BUG: x", "BUG: x", 5.123456, None, None),
    # journal -o short-delta, as journalctl 252 prints it (tests/data/journal)
    ("[    3.564353 <    0.000157 >] gpu-node-7 kernel: BUG: x", "BUG: x", 3.564353, None, "gpu-node-7"),
    # a printk message that happens to say "kernel:" after a dmesg -d stamp keeps its text
    ("[    5.123456 <    0.006982>] Booting the kernel: x", "Booting the kernel: x", 5.123456, None, None),
    # dmesg -x
    ("kern  :warn  : [    1.500000] BUG: x", "BUG: x", 1.5, None, None),
    # journal/syslog stamps in any locale, -o short-unix
    ("avril 19 18:03:30 h kernel: BUG: x", "BUG: x", None, None, "h"),
    ("dim. 2026-04-19 18:03:30 CEST h kernel: BUG: x", "BUG: x", None, None, "h"),
    ("1776614407.133267 h kernel: BUG: x", "BUG: x", None, None, "h"),
    # journalctl short with no host name: the empty host column between two blanks (posted 1109)
    ("Mai 29 11:43:58  kernel: nouveau 0000:08:00.0: gr: x", "nouveau 0000:08:00.0: gr: x", None, None, None),
    ("May 29 11:53:24.123456  kernel:       Tainted: G", "      Tainted: G", None, None, None),
    ("avril 19 18:03:30  kernel: BUG: x", "BUG: x", None, None, None),
    # ... three blanks are no empty column
    ("May 29 11:53:24   kernel: BUG: x", "May 29 11:53:24   kernel: BUG: x", None, None, None),
    # the host and the tag alone, date columns cut (posted log 302)
    ("qay kernel: RIP: 0010:nvkm_gr_units+0x9/0x30 [nouveau]", "RIP: 0010:nvkm_gr_units+0x9/0x30 [nouveau]", None, None, "qay"),
    ("pop-os kernel:  snd_compress snd_intel_dspcfg", " snd_compress snd_intel_dspcfg", None, None, "pop-os"),
    # rsyslog's wall broadcast: the tag glued to the message, the line indented (posted log 852)
    (" kernel:NMI watchdog: BUG: soft lockup - CPU#3 stuck for 23s! [java:102195]",
     "NMI watchdog: BUG: soft lockup - CPU#3 stuck for 23s! [java:102195]", None, None, None),
    ("kernel:NMI watchdog: BUG: x", "NMI watchdog: BUG: x", None, None, None),
    # ... but a word that merely starts with "kernel" is not the tag
    ("kernelshark: x", "kernelshark: x", None, None, None),
    # ... but kernel text with "kernel:" after more than one word is not a prefix
    ("Booting paravirtualized kernel: on bare hardware", "Booting paravirtualized kernel: on bare hardware", None, None, None),
    ("Kernel command line: root=/dev/sda1", "Kernel command line: root=/dev/sda1", None, None, None),
    # leading blanks before a prefix are the paste's, not the message's
    ("    [  12.500000] BUG: x", "BUG: x", 12.5, None, None),
    # kernel text that opens with a bracket stays as it is
    ("[drm:amdgpu_job_timedout [amdgpu]] *ERROR* ring gfx timeout", "[drm:amdgpu_job_timedout [amdgpu]] *ERROR* ring gfx timeout", None, None, None),
    ("[  123]     0   123     1234", "[  123]     0   123     1234", None, None, None),
    ("[drm] amdgpu: 12:30", "[drm] amdgpu: 12:30", None, None, None),
])
def test_strip_prefix(line, text, ts, caller, host):
    got_text, got_ts, got_caller, got_host, _ = strip_prefix(line)
    assert (got_text, got_ts, got_caller, got_host) == (text, ts, caller, host)


def test_makedumpfile_continuation_lines_inherit_timestamp():
    log = parse_log([
        "[  312.601234] BUG: kernel NULL pointer dereference, address: 0000000000000010",
        "               #PF: supervisor read access in kernel mode",
        "[  312.601300] RIP: 0010:foo+0x1/0x2 [bar]",
    ])
    assert log.lines[1].text == "#PF: supervisor read access in kernel mode"
    assert log.lines[1].ts == 312.601234
    assert log.events[0].fields["pf"] == ["supervisor read access in kernel mode"]


def test_sanitize_escapes_controls_and_caps_length():
    text, cut = sanitize("\x1b[31mBUG:\x1b[0m a\x00b\x07c")
    assert text == "BUG: a?b?c" and not cut
    text, cut = sanitize("x" * (MAX_LINE * 10))
    assert len(text) == MAX_LINE and cut


def test_rsyslog_escaped_newlines_are_split():
    log = parse_log(["Jan  3 22:06:01 h kernel: Mem-Info:",
                     "Jan  3 22:06:01 h kernel: active_anon:5 inactive_anon:6#012 free:7 free_pcp:1"])
    assert [ln.text for ln in log.lines][-2:] == ["active_anon:5 inactive_anon:6", " free:7 free_pcp:1"]


def test_talosctl_dmesg_columns_are_a_prefix():
    # talosctl dmesg: node, facility, level, bracketed RFC 3339 time, then the kernel text
    msg, ts, _caller, host, _plen = strip_prefix(
        "10.200.70.91: kern:    info: [2025-06-04T04:51:57.572293906Z]: memory: usage 4194304kB, limit 4194304kB, failcnt 2")
    assert msg == "memory: usage 4194304kB, limit 4194304kB, failcnt 2" and host == "10.200.70.91"
    msg, *_ = strip_prefix("node-1: kern:    warning: [2025-06-04T04:51:57Z]: WARNING: CPU: 1 PID: 2 at x.c:3 f+0x1/0x2")
    assert msg.startswith("WARNING: CPU: 1")


def test_kernel_text_with_a_kern_word_is_not_a_talos_prefix():
    # a message that merely contains "x: kern: info:" without the bracketed time stays as it is
    text = "audit: kern: info: something"
    assert strip_prefix(text)[0] == text


def test_openwrt_logread_columns_are_a_prefix():
    # OpenWrt logread (ubox logd): ctime, "<facility>.<level>", the tag, then the printk stamp
    msg, ts, _caller, host, _plen = strip_prefix(
        "Sun Jun  6 16:14:57 2021 kern.warn kernel: [  164.087315] [<c0320a34>] (__vmalloc_node_range) from "
        "[<c020c124>] (module_alloc+0x44/0x4c)")
    assert msg.startswith("[<c0320a34>] (__vmalloc_node_range)") and ts == 164.087315 and host is None
    msg, ts, *_ = strip_prefix("Mon Mar  1 09:00:01 2021 kern.err kernel: Out of memory: Killed process 1 (a)")
    assert msg == "Out of memory: Killed process 1 (a)" and ts is None


def test_logread_lines_of_other_tags_and_bad_levels_stay():
    # only the kernel's own lines lose their columns; a daemon's line and an unknown level are text
    for text in ("Sun Jun  6 16:14:57 2021 daemon.info dnsmasq[1]: started",
                 "Sun Jun  6 16:14:57 2021 kern.loud kernel: x"):
        assert strip_prefix(text)[0] == text


def test_a_date_is_a_prefix_only_before_a_printk_stamp():
    """A bare "YYYY-MM-DD HH:MM:SS " is stripped only when the kernel's own stamp follows;
    without one the line is left as it is (it may be anyone's text)."""
    for line in ("2024-12-26 16:17:45 BUG: x", "2024-12-26 16:17:45 [drm] x", "2024-12-26 16:17:45 [T12] x"):
        assert strip_prefix(line)[0] == line


def test_a_level_and_a_blank_before_other_text_is_not_a_stamp_prefix():
    """Only "<N> [seconds.micros]" loses the blank: text after "<N> " that is no printk
    stamp keeps it, as before."""
    assert strip_prefix("<4> [drm] x")[0] == " [drm] x"
    assert strip_prefix("<4> [Apr19 18:03] x")[1] is None


def test_posted_1109_journal_without_host_rejoins_its_wrapped_gr_error():
    """posted 1109: 'journalctl -p 4' with an empty host column, wrapped at 80 columns: read with
    its prefix, the wrapped 'PGRAPH TLB flush idle' / 'timeout fail' line is rejoined (a learned
    prefix was stripped before and shortened the lines below any wrap width)."""
    from triage.analysis import analyze_lines
    from _posted import posted_lines
    lines = posted_lines("1109")
    kinds = [e.kind for e in parse_log(lines).events]
    assert kinds[0] == "gpu_fault"
    v = analyze_lines(lines).verdict
    assert (v.category, v.culprit.module) == ("gpu_fault", "nouveau")


@pytest.mark.parametrize("line,text,ts,caller", [
    # journalctl --no-hostname -o short-monotonic (or its host column cut): the tag alone after
    # the stamp (posted 024's "[21161.092858] kernel:  dump_stack+0x8b/0xb8")
    ("[21161.092858] kernel: Call Trace:", "Call Trace:", 21161.092858, None),
    ("[21161.092868] kernel:  dump_stack+0x8b/0xb8", " dump_stack+0x8b/0xb8", 21161.092868, None),
    # not a tag: the word inside a message, glued to the colon, or after the kernel's caller column
    ("[    5.123456] Booting the kernel: x", "Booting the kernel: x", 5.123456, None),
    ("[    5.123456] kernel:x", "kernel:x", 5.123456, None),
    ("[    5.123456][    T1] kernel: x", "kernel: x", 5.123456, "T1"),
])
def test_tag_alone_after_a_printk_stamp(line, text, ts, caller):
    got = strip_prefix(line)
    assert (got[0], got[1], got[2], got[3]) == (text, ts, caller, None)


def test_posted_024_stack_pasted_from_its_call_trace_is_an_allocation_failure():
    from triage.analysis import analyze_lines

    from _posted import posted_lines
    lines = posted_lines("024")
    start = next(i for i, s in enumerate(lines) if "Call Trace:" in s)
    assert analyze_lines(lines[start:]).verdict.category == "alloc_failure"
