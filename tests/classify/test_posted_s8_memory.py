"""Principles from session 8's memory-exhaustion batches (tests/data/posted, tuning half),
each keyed on a kernel format string or report structure; positive and negative cases."""

from _posted import posted_lines, verdict, verdict_with_function

# x86 before 4.9: dump_stack() -> show_stack() -> show_stack_log_lvl() -> dump_trace(), and the
# trace starts at dump_trace (arch/x86/kernel/dumpstack_64.c); 3005 (SUSE 4.8, order-4 kmalloc of
# nfsd_reply_cache_init [nfsd] at modprobe)
_OLD_X86_ALLOC = [
    "[93348.306369] modprobe: page allocation failure: order:4, mode:0x26040c0(GFP_KERNEL|__GFP_COMP|__GFP_NOTRACK)",
    "[93348.306379] CPU: 2 PID: 30467 Comm: modprobe Not tainted 4.8.0-rc3-3.bug994066-default #1",
    "[93348.306406] Call Trace:",
    "[93348.306437]  [<ffffffff8102eefe>] dump_trace+0x5e/0x310",
    "[93348.306449]  [<ffffffff8102f2cb>] show_stack_log_lvl+0x11b/0x1a0",
    "[93348.306459]  [<ffffffff81030001>] show_stack+0x21/0x40",
    "[93348.306468]  [<ffffffff813a2952>] dump_stack+0x5c/0x7a",
    "[93348.306478]  [<ffffffff81198a4b>] warn_alloc_failed+0xdb/0x150",
    "[93348.306490]  [<ffffffff81198cef>] __alloc_pages_slowpath+0x1af/0xa10",
    "[93348.306501]  [<ffffffff811997a0>] __alloc_pages_nodemask+0x250/0x290",
    "[93348.306530]  [<ffffffff811f43f2>] __kmalloc+0x1d2/0x570",
    "[93348.306589]  [<ffffffffa08f025a>] nfsd_reply_cache_init+0xaa/0x110 [nfsd]",
    "[93348.306649]  [<ffffffffa093f1b6>] init_nfsd+0x56/0xea0 [nfsd]",
    "[93348.306664]  [<ffffffff8100218b>] do_one_initcall+0x4b/0x180",
]


def test_old_x86_stack_walker_frames_are_reporting_frames():
    assert verdict_with_function(_OLD_X86_ALLOC) == ("alloc_failure", "nfsd", "nfsd_reply_cache_init")
    assert verdict(posted_lines("3005")) == ("alloc_failure", "nfsd")


def test_a_request_from_the_core_still_blames_no_module():
    # negative: the same walker frames above a core caller name no module
    lines = _OLD_X86_ALLOC[:9] + ["[93348.306530]  [<ffffffff811f43f2>] alloc_large_system_hash+0x1d2/0x570",
                                  "[93348.306664]  [<ffffffff8100218b>] do_one_initcall+0x4b/0x180"]
    cat, mod, fn = verdict_with_function(lines)
    assert (cat, mod) == ("alloc_failure", None) and fn != "dump_trace"


# mm/oom_kill.c dump_header() "%s invoked oom-killer: gfp_mask=%#x(%pGg), order=%d, ..." and
# mm/page_alloc.c warn_alloc() "%s: page allocation failure: order:%u, mode:%#x(%pGg)" start with
# the task's comm, so no fixed mark finds them behind blanks; the kernel never indents a head
_ALLOC_REPORT = [
    "[  100.000000] kworker/0:1: page allocation failure: order:4, mode:0x40cc0(GFP_KERNEL|__GFP_COMP)",
    "[  100.000001] CPU: 0 PID: 5 Comm: kworker/0:1 Not tainted 5.10.0 #1",
    "[  100.000002] Call Trace:",
    "[  100.000003]  dump_stack+0x5c/0x7a",
    "[  100.000004]  warn_alloc+0xdb/0x150",
    "[  100.000005]  __alloc_pages_slowpath+0x1af/0xa10",
    "[  100.000006]  __alloc_pages_nodemask+0x250/0x290",
    "[  100.000007]  kmalloc_order+0x20/0x50",
    "[  100.000008]  xfs_buf_alloc+0xaa/0x110 [xfs]",
    "[  100.000009]  xfs_foo+0x56/0xea0 [xfs]",
    "[  100.000010] Mem-Info:",
]


def test_an_indented_memory_head_is_read():
    # 2019 (a mail quote that left "    Xorg invoked oom-killer:" indented, wrapped before gfp_mask=)
    assert verdict(posted_lines("2019")) == ("oom_kill", None)
    lines = ["    Xorg invoked oom-killer:", "gfp_mask=0x240c0d0(GFP_TEMPORARY|__GFP_COMP|__GFP_ZERO), order=3,",
             "      __kmalloc+0x1cd/0x1f0", "      alloc_gen8_temp_bitmaps+0x47/0x80 [i915]"]
    assert verdict(lines)[0] == "oom_kill"
    head = "  " + _ALLOC_REPORT[0].split("] ", 1)[1]
    assert verdict([head] + [s.split("] ", 1)[1] for s in _ALLOC_REPORT[1:]]) == ("alloc_failure", "xfs")


def test_an_indented_line_that_only_mentions_the_wording_is_no_head():
    # negative: prose or a frame that contains the words is not a head (match_header decides)
    assert verdict(["    the box says page allocation failure sometimes", "    and then reboots"])[0] == "none"
    # nor is an indented line whose text before the wording is longer than a task's comm (15)
    assert verdict(["Hi all,", "    why does the log say it invoked oom-killer: here, then reboot"])[0] == "none"


def test_a_head_quoted_alone_in_prose_gives_way_to_the_report_it_heads():
    # the poster quotes the head line, indented, then pastes the whole report: one report,
    # the one with the trace (same rule as a record pasted twice with one stamp)
    lines = ["We see this:", "", "    " + _ALLOC_REPORT[0].split("] ", 1)[1], "", "full log:"] + _ALLOC_REPORT
    assert verdict(lines) == ("alloc_failure", "xfs")


def test_vmemmap_alloc_failure_head():
    # mm/sparse-vmemmap.c vmemmap_alloc_block(): warn_alloc(..., "vmemmap alloc failure: order:%u")
    # (1418, Hyper-V memory hot-add): a page allocation failure even without its stack
    from triage.events.headers import match_header
    h = match_header("kworker/0:1: vmemmap alloc failure: order:9, mode:0x4cc0(GFP_KERNEL|__GFP_RETRY_MAYFAIL), "
                     "nodemask=(null),cpuset=/,mems_allowed=0")
    assert h is not None and h.kind == "alloc_failure" and h.fields["order"] == 9 and h.fields["comm"] == "kworker/0:1"
    lines = posted_lines("1418")
    head = next(i for i, s in enumerate(lines) if "Call Trace:" in s)
    assert verdict(lines[:head])[0] == "alloc_failure"
    assert verdict(lines) == ("alloc_failure", None)
    # negative: the words without the warn_alloc shape are no report
    assert match_header("vmemmap alloc failure is handled by the caller") is None
    assert match_header("hv_balloon: vmemmap alloc failure order 9") is None
