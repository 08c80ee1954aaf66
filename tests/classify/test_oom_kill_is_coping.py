"""An OOM kill is the kernel coping with a shortage as designed: at equal severity a report
of the kernel itself failing beside it (a soft lockup, a hung task) is the verdict, whichever
comes first. Reports of lower severity (a WARNING, a page allocation failure) still leave the
OOM verdict. A task found blocked after the kill waited on it: the kill is the verdict then
(test_waited_on_first.py)."""

from triage.analysis import analyze_lines

from _posted import posted_lines

MEMCG = ["[  100.000000] Memory cgroup out of memory: Killed process 808 (repro) total-vm:1048576kB, "
         "anon-rss:900000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:2000kB oom_score_adj:0"]
GLOBAL = ["[  100.000000] stress invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
          "[  100.100000] Out of memory: Killed process 243 (stress) total-vm:1048576kB, anon-rss:900000kB, "
          "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:2000kB oom_score_adj:0"]
LOCKUP = ["[  124.000000] watchdog: BUG: soft lockup - CPU#0 stuck for 23s! [repro:806]",
          "[  124.000100] RIP: 0010:shrink_lruvec+0x1a0/0x5c0",
          "[  124.000200] Call Trace:",
          "[  124.000300]  shrink_node+0x2c0/0x6a0",
          "[  124.000400]  do_try_to_free_pages+0xd0/0x3a0"]
HUNG = ["[  300.000000] INFO: task kworker/0:1:62 blocked for more than 120 seconds.",
        "[  300.000100] Call Trace:",
        "[  300.000200]  __schedule+0x2cf/0x640",
        "[  300.000300]  schedule+0x29/0xd0",
        "[  300.000400]  jbd2_log_wait_commit+0xa1/0x110"]


def _category(lines):
    return analyze_lines(lines).verdict.category


def test_posted_1917_soft_lockup_in_memcg_reclaim_after_the_kill():
    assert _category(posted_lines("1917")) == "soft_lockup"


def test_posted_1406_soft_lockup_during_a_memcg_group_kill():
    assert _category(posted_lines("1406")) == "soft_lockup"


def test_soft_lockup_after_a_memcg_kill_is_the_verdict():
    assert _category(MEMCG + LOCKUP) == "soft_lockup"


def test_hung_task_before_a_global_oom_kill_is_the_verdict():
    early = [line.replace("[  300.", "[   50.") for line in HUNG]
    assert _category(early + GLOBAL) == "hung_task"


def test_hung_task_after_a_global_oom_kill_waited_on_it():
    # a task blocked 120 s after the kill waits on the memory the kill was freeing: the
    # earlier report is the verdict (engine._waited_on_first; posted tuning 4202, an OOM
    # livelock then a workqueue lockup, is labelled oom_kill)
    assert _category(GLOBAL + HUNG) == "oom_kill"


def test_the_oom_kill_alone_is_the_verdict():
    assert analyze_lines(MEMCG).verdict.title == "memory cgroup out of memory: process killed"


def test_a_page_allocation_failure_beside_an_oom_kill_leaves_the_oom_verdict():
    assert _category(GLOBAL + ["[  101.000000] kworker/0:1: page allocation failure: order:0, "
                               "mode:0x40cc0(GFP_KERNEL|__GFP_COMP), nodemask=(null)"]) == "oom_kill"
