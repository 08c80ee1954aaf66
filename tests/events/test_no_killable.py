"""mm/oom_kill.c out_of_memory() with no victim: since 4.12 it prints the warning
"Out of memory and no killable processes..." and, for a system-wide OOM only,
panic("System is deadlocked on memory") right after it. A memory cgroup's OOM
returns. The bare warning is a panic only while nothing shows the kernel lived on."""

from triage.events.parser import parse_log


def _kinds(lines):
    return [e.kind for e in parse_log(lines).events]


def test_bare_warning_at_the_end_of_the_excerpt_is_the_panic():
    # real log 811 (a kdump kernel that crashed): the excerpt ends at the warning
    assert _kinds(["[    4.548703] Node 0 DMA free:484kB min:4kB low:4kB high:4kB",
                   "[    4.923156] Out of memory and no killable processes..."]) == ["panic"]


def test_deadlocked_panic_after_it_is_one_panic():
    assert _kinds(["[    4.923156] Out of memory and no killable processes...",
                   "[    4.923200] Kernel panic - not syncing: System is deadlocked on memory"]) == ["panic"]


def test_shell_prompt_after_it_means_a_cgroup_oom_that_returned():
    # real log 1405 (tests/data/posted, Fedora, memory.max lowered on a parent cgroup)
    lines = ["[root@fedora ~]# echo 1000 > /sys/fs/cgroup/test1/memory.max",
             "[  108.130895] bash invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL),",
             "order=0, oom_score_adj=0",
             "...",
             "[  108.260164] Out of memory and no killable processes...",
             "[root@fedora ~]# cat /sys/fs/cgroup/test1/test2/memory.max",
             "8192"]
    assert "panic" not in _kinds(lines)
    assert "oom_invoked" in _kinds(lines)


def test_kernel_lines_a_second_later_mean_it_returned():
    lines = ["[  108.260164] Out of memory and no killable processes...",
             "[  111.000000] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex"]
    assert _kinds(lines) == ["oom_invoked"]


def test_other_cpus_lines_in_the_same_instant_keep_the_panic():
    lines = ["[  108.260164] Out of memory and no killable processes...",
             "[  108.260170] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex"]
    assert _kinds(lines) == ["panic"]


def test_the_old_panic_wording_is_always_a_panic():
    lines = ["[28663.625375] Kernel panic - not syncing: Out of memory and no killable processes...",
             "[root@host ~]# uptime"]
    assert _kinds(lines) == ["panic"]


def test_posted_811_and_1405_whole_logs():
    # the real logs the first and third tests quote: 811's warning ends the excerpt (labels.toml:
    # oom_panic), 1405's is followed by shell prompts (labels.toml: oom_kill, no panic)
    from _posted import posted_lines, verdict
    assert _kinds(posted_lines("811")) == ["panic"]
    assert verdict(posted_lines("811")) == ("oom_panic", None)
    assert "panic" not in _kinds(posted_lines("1405")) and "oom_invoked" in _kinds(posted_lines("1405"))
    assert verdict(posted_lines("1405")) == ("oom_kill", None)


def test_the_panics_own_trace_seconds_later_keeps_the_panic():
    # real log 3015 (tests/data/posted, 5.8 on a serial console at ~20 ms a line): the
    # panic's trace and registers run on for more than a second after the warning
    lines = ["[  261.362982] Out of memory and no killable processes...",
             "[  261.391982] Kernel panic - not syncing: System is deadlocked on memory",
             "[  261.501318] Call Trace:",
             "[  262.017892]  pagecache_get_page+0x15e/0x550",
             "[  262.536172] Kernel Offset: 0x31600000 from 0xffffffff81000000",
             "[  262.588968] ---[ end Kernel panic - not syncing: System is deadlocked on memory ]---"]
    assert _kinds(lines) == ["panic"]


def test_without_the_panic_line_a_trace_seconds_later_still_means_it_returned():
    # negative: the bare warning (no panic line) followed by kernel lines 1 s later
    lines = ["[  261.362982] Out of memory and no killable processes...",
             "[  262.536172] Call Trace:",
             "[  262.588968]  dump_stack+0x9d/0xe0"]
    assert "panic" not in _kinds(lines)


def test_posted_3015_whole_log():
    from _posted import posted_lines, verdict
    assert verdict(posted_lines("3015")) == ("oom_panic", None)


# A system-wide OOM with no victim panics after its first warning: a warning the kernel lived
# through earlier in the same run (a memory cgroup's OOM retrying its charge) makes a later
# identical warning one more of those, also when the excerpt ends on it (posted 5309).
_REPEATED = ["[   71.328523] a.out invoked oom-killer: gfp_mask=0x7080c0(GFP_KERNEL_ACCOUNT|__GFP_ZERO), order=0, oom_score_adj=0",
             "[   71.328785] Out of memory and no killable processes...",
             "[   71.329194] a.out invoked oom-killer: gfp_mask=0x7080c0(GFP_KERNEL_ACCOUNT|__GFP_ZERO), order=0, oom_score_adj=0",
             "[   99.833413] Out of memory and no killable processes..."]


def test_a_repeat_of_a_warning_the_kernel_lived_through_is_not_the_panic():
    assert "panic" not in _kinds(_REPEATED)
    # the first warning alone at the excerpt's end is still the panic (as 811)
    assert _kinds(_REPEATED[:2])[-1] == "panic"


def test_a_repeat_with_its_deadlocked_panic_after_it_is_still_the_panic():
    # negative: the survived warning does not hide the panic line when it is printed
    lines = _REPEATED + ["[   99.833500] Kernel panic - not syncing: System is deadlocked on memory"]
    assert _kinds(lines)[-1] == "panic"


def test_a_warning_lived_through_before_a_reboot_does_not_count():
    # negative: stamps going back mean a new boot; its bare warning at the end is the panic
    lines = _REPEATED[:3] + ["[    4.923156] Out of memory and no killable processes..."]
    assert _kinds(lines)[-1] == "panic"


def test_posted_5309_whole_log():
    from _posted import posted_lines, verdict
    assert "panic" not in _kinds(posted_lines("5309"))
    assert verdict(posted_lines("5309"))[0] == "oom_kill"
