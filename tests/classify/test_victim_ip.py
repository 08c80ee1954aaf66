"""A fault inside the slab allocator's allocation path ([skip] heap_alloc, used as the
fault sections' victim_ip in signatures/lists.toml) is a corrupted freelist: the caller
only asked for memory, so no module is blamed, a GPU driver least of all (posted 1103,
1216). The guilty function is still the caller, as syzkaller names it; a fault in kfree,
whose caller hands it a pointer, still blames that caller."""

import pytest

from triage.analysis import analyze_lines
from triage.classify import load_rules
from triage.errors import SignatureError

from _posted import posted_lines


def _verdict(ip: str, caller: str):
    return analyze_lines([
        "[ 3404.198300] BUG: unable to handle page fault for address: ffff9d3a00000010",
        "[ 3404.198310] #PF: supervisor read access in kernel mode",
        "[ 3404.198320] Oops: 0000 [#1] PREEMPT SMP NOPTI",
        "[ 3404.198330] CPU: 3 PID: 1234 Comm: Xorg Tainted: G        W          6.1.0-18-amd64 #1",
        f"[ 3404.198336] RIP: 0010:{ip}",
        "[ 3404.198400] Call Trace:",
        "[ 3404.198410]  <TASK>",
        f"[ 3404.198420]  {caller}",
        "[ 3404.198430]  nouveau_gem_ioctl_pushbuf+0x1a0/0x1650 [nouveau]",
        "[ 3404.198440]  drm_ioctl_kernel+0xc6/0x170 [drm]",
        "[ 3404.198450]  </TASK>",
        "[ 3404.198460] Modules linked in: nouveau(E) drm_ttm_helper ttm drm_kms_helper drm",
    ]).verdict


@pytest.mark.parametrize("ip", ["kmem_cache_alloc_trace+0x95/0x260", "__kmalloc+0xa9/0x3e0",
                                "___slab_alloc+0x4c1/0x7a0", "kmalloc_trace+0x2a/0xa0"])
def test_fault_inside_the_allocator_blames_no_caller_module(ip):
    v = _verdict(ip, "nouveau_fence_new+0x3c/0x80 [nouveau]")
    assert v.category == "paging_fault"
    assert v.culprit.module in (None, "")
    assert v.culprit.function == "nouveau_fence_new"          # syzkaller's title function


@pytest.mark.parametrize("prefix, category, function", [
    ("1103", "gpf", "nvif_object_ctor"),                 # __kmalloc+0xa9, hardened freelist
    ("1216", "paging_fault", "nouveau_fence_new"),       # kmem_cache_alloc_trace+0x95, netconsole
])
def test_the_posted_allocator_faults_blame_no_module(prefix, category, function):
    # the real logs the synthetic one above stands for (labels.toml: culprit_module = "")
    v = analyze_lines(posted_lines(prefix)).verdict
    assert v.category == category
    assert v.culprit.module in (None, "")
    assert v.culprit.function == function


def test_fault_in_kfree_still_blames_the_caller_that_passed_the_pointer():
    v = _verdict("kfree+0x5b/0x130", "nouveau_fence_del+0x20/0x40 [nouveau]")
    assert v.culprit.module == "nouveau"
    assert v.category == "gpu_fault"


def test_fault_in_the_driver_itself_still_blames_it():
    v = _verdict("nouveau_fence_new+0x3c/0x80 [nouveau]", "nouveau_gem_new+0x10/0x90 [nouveau]")
    assert (v.category, v.culprit.module) == ("gpu_fault", "nouveau")


def test_heap_alloc_list_and_sections():
    rules = load_rules()
    pats = rules.skip["heap_alloc"]
    for fn in ("__kmalloc", "kmem_cache_alloc_trace", "___slab_alloc", "kmalloc_trace", "get_freepointer"):
        assert any(p.search(fn) for p in pats), fn
    for fn in ("kfree", "kmem_cache_free", "krealloc", "__alloc_pages", "nouveau_fence_new"):
        assert not any(p.search(fn) for p in pats), fn
    for kind in ("null_deref", "paging_fault", "gpf", "oops_other"):
        assert rules.section(kind, None).victim_ip == ("heap_alloc",), kind
    # a BUG_ON in an allocator (bad flags from the caller) is the caller's: not a victim section
    assert rules.section("kernel_bug", None).victim_ip == ()


def test_victim_ip_naming_an_unknown_list_is_refused(tmp_path):
    (tmp_path / "extra.toml").write_text('[section]\ngpf = { read = "ip_then_trace", victim_ip = ["nope"] }\n')
    with pytest.raises(SignatureError, match="victim_ip"):
        load_rules(extra_dirs=(str(tmp_path),))


def test_a_rule_that_sets_its_own_skip_keeps_the_kinds_victim_ip_and_stale_between():
    # RuleSet.section(kind, rule): a rule's own guilty/skip/anchor/prefer take precedence, and
    # what the rule does not set (victim_ip, stale_between) stays the kind's [section]; it
    # was dropped for every rule with its own skip list
    from dataclasses import replace
    rules = load_rules()
    some = rules.rules[0]
    base = rules.section("paging_fault")
    assert base.victim_ip
    sec = rules.section("paging_fault", replace(some, guilty=None, anchor=None, prefer=None, skip=["report"]))
    assert sec.skip == ("report",) and sec.victim_ip == base.victim_ip
    base = rules.section("alloc_failure")
    assert base.stale_between
    sec = rules.section("alloc_failure", replace(some, guilty="trace", anchor=None, prefer=None,
                                                               skip=["report", "alloc"]))
    assert sec.read == "trace" and sec.stale_between == base.stale_between
