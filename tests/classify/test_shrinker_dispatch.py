"""Reclaim dispatches to other subsystems' shrinkers (mm/shrinker.c, mm/vmscan.c before 6.7:
do_shrink_slab() calls shrinker->count_objects()/scan_objects()). A CPU that stalls inside a
shrinker serves that shrinker's operation, not the allocation that started reclaim: the lockup
verdict names the shrinker callback (do_shrink_slab is a stall anchor, like process_one_work).
A lockup whose own RIP is not a helper keeps its RIP, and a stall with no shrinker on the stack
is still named by the thread's entry (kthread's callee)."""

from typing import List

from _posted import posted_lines, verdict_with_function as _verdict

HEAD = ["[ 3950.44] watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [khugepaged:36]",
        "[ 3950.45] CPU: 1 PID: 36 Comm: khugepaged Tainted: G        W          6.1.0 #107"]
RECLAIM = ["[ 3950.50]  do_shrink_slab+0x49/0x490",
           "[ 3950.51]  shrink_slab+0x113/0x400",
           "[ 3950.52]  shrink_node+0x556/0xd10",
           "[ 3950.53]  do_try_to_free_pages+0x203/0x8c0",
           "[ 3950.54]  try_to_free_pages+0x166/0x320",
           "[ 3950.55]  __alloc_pages_slowpath.constprop.120+0x59d/0x1250",
           "[ 3950.56]  __alloc_pages+0x43f/0x460",
           "[ 3950.57]  alloc_charge_hpage+0x138/0x310",
           "[ 3950.58]  collapse_huge_page+0xfc/0xec0",
           "[ 3950.59]  khugepaged+0x653/0xaf0",
           "[ 3950.60]  kthread+0x160/0x190",
           "[ 3950.61]  ret_from_fork+0x1f/0x30"]


def _lockup(rip: str, inner: List[str], reclaim: List[str] = RECLAIM) -> List[str]:
    return HEAD + [f"[ 3950.47] RIP: 0010:{rip}", "[ 3950.48] Call Trace:"] + inner + reclaim


def test_posted_2514_lockup_inside_the_nfsd_shrinker_names_nfsd():
    assert _verdict(posted_lines("2514"))[:2] == ("soft_lockup", "nfsd")


def test_helper_rip_in_a_module_shrinker_names_the_shrinker():
    assert _verdict(_lockup("_raw_spin_lock+0x20/0x40",
                            ["[ 3950.49]  acme_cache_count+0x3f/0x70 [acme]"])) \
        == ("soft_lockup", "acme", "acme_cache_count")


def test_a_non_helper_rip_is_still_the_code_that_spun():
    assert _verdict(_lockup("acme_walk_list+0x20/0x40 [acme]",
                            ["[ 3950.49]  acme_cache_count+0x3f/0x70 [acme]"]))[1:] \
        == ("acme", "acme_walk_list")


def test_without_a_shrinker_the_thread_entry_names_the_stall():
    no_shrinker = [ln for ln in RECLAIM if "shrink" not in ln]
    assert _verdict(_lockup("_raw_spin_lock+0x20/0x40", [], no_shrinker)) \
        == ("soft_lockup", None, "khugepaged")
