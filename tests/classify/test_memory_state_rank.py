"""A page in an impossible state (Bad page map/state) is a defect and outranks an
OOM kill beside it; a WARNING beside an OOM kill still does not."""

from triage.analysis import analyze_lines

from _posted import posted_lines

OOM = ["[  100.000000] stress invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
       "[  100.100000] Out of memory: Killed process 243 (stress) total-vm:1048576kB, anon-rss:900000kB, "
       "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:2000kB oom_score_adj:0"]


def test_posted_1437_bad_page_map_in_oom_reaper_after_the_kill():
    lines = posted_lines("1437")
    assert analyze_lines(lines).verdict.category == "kernel_bug"


def test_bad_page_state_after_an_oom_kill_is_the_verdict():
    d = analyze_lines(OOM + ["[  101.000000] BUG: Bad page state in process kworker/0:1  pfn:1a2b3",
                             "[  101.000100] page:ffffea000068acc0 refcount:0 mapcount:1 mapping:0000000000000000 index:0x0",
                             "[  101.000200] Call Trace:",
                             "[  101.000300]  dump_stack+0x6d/0x8b",
                             "[  101.000400]  bad_page.cold+0x63/0x94",
                             "[  101.000500]  free_pcp_prepare+0x1d0/0x200"])
    assert d.verdict.category == "kernel_bug"


def test_a_warning_beside_an_oom_kill_leaves_the_oom_verdict():
    d = analyze_lines(OOM + ["[  101.000000] WARNING: CPU: 0 PID: 1 at mm/page_alloc.c:4000 __alloc_pages+0x1/0x2",
                             "[  101.000100] Modules linked in: ext4"])
    assert d.verdict.category == "oom_kill"
