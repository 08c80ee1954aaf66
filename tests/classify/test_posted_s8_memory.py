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
