"""Report wordings of the newest kernels (6.13 up to 7.x), checked format string by format
string against the kernel source (session 9, helper fc).

No kernel this project can run prints these lines, so the lines below are synthetic: each is
built from the format string named beside it, its conversions filled in. The posted corpus
holds few logs of these kernels; the tests keep their wordings read."""

import pytest

from triage.analysis import analyze_lines
from triage.events.headers import match_header


def _ts(lines):
    return [f"[  100.{i:06d}] {line}" for i, line in enumerate(lines)]


# -- kernel/panic.c __warn() and lib/bug.c __report_bug() ---------------------------------

@pytest.mark.parametrize("line, file, cpu, function", [
    # 6.19+ __warn() without a file (CONFIG_DEBUG_BUGVERBOSE off): "WARNING: at %pS, CPU#%d: %s/%d"
    ("WARNING: at dc_commit_state+0x12/0x340 [amdgpu], CPU#3: Xorg/1234", None, 3, "dc_commit_state"),
    ("WARNING: at fast_dput+0x334/0x430, CPU#0: syz.0.17/6007", None, 0, "fast_dput"),
    # ...cut by the terminal after the symbol
    ("WARNING: at dc_commit_state+0x12/0x340 [amdgpu]", None, None, "dc_commit_state"),
    # CONFIG_DEBUG_BUGVERBOSE_DETAILED (6.16+): WARN_ON_ONCE(cond) passes "[" #condition "] ",
    # which the arch glues to __FILE__; in the 6.16-6.18 header and in the 6.19+ one
    ("WARNING: CPU: 3 PID: 1234 at [!dc->debug.disable_z10] drivers/gpu/drm/amd/display/dc/core/dc.c:1234 "
     "dc_commit_state+0x12/0x340 [amdgpu]", "drivers/gpu/drm/amd/display/dc/core/dc.c", 3, "dc_commit_state"),
    ("WARNING: [!bio] block/blk-throttle.c:205 at tg_dispatch+0x1/0x2, CPU#1: fio/77",
     "block/blk-throttle.c", 1, "tg_dispatch"),
    # a condition with blanks, a colon and brackets of its own
    ("WARNING: [a[i] != b ? c : d] fs/x.c:12 at f+0x1/0x2, CPU#1: t/7", "fs/x.c", 1, "f"),
])
def test_warn_header_forms(line, file, cpu, function):
    h = match_header(line)
    assert h is not None and h.kind == "warning", line
    assert h.fields.get("file") == file
    assert h.fields.get("cpu") == cpu
    assert h.ip is not None and h.ip.function == function


@pytest.mark.parametrize("line", [
    # notices that only look alike: free text, a bracket that is no WARN_ON condition
    "WARNING: [Firmware Bug]: TSC_DEADLINE disabled due to Errata; please update microcode",
    "WARNING: at least one CPU is vulnerable to Spectre",
    "WARNING: [x] no file follows",
])
def test_warn_lookalikes_stay_notices(line):
    h = match_header(line)
    assert h is not None and h.kind == "notice"


def test_warn_without_file_blames_the_driver():
    # 6.19+ __warn() "WARNING: at %pS, CPU#%d: %s/%d", then show_regs()
    d = analyze_lines(_ts([
        "------------[ cut here ]------------",
        "WARNING: at intel_display_power_put+0x12/0x340 [i915], CPU#3: kworker/3:1/1234",
        "Modules linked in: i915 drm_display_helper ttm",
        "RIP: 0010:intel_display_power_put+0x12/0x340 [i915]",
        "Call Trace:",
        " <TASK>",
        " intel_atomic_commit_tail+0x100/0x3000 [i915]",
        " </TASK>",
        "---[ end trace 0000000000000000 ]---",
    ]))
    assert (d.verdict.category, d.verdict.culprit.module) == ("warning", "i915")


def test_condition_line_before_the_7_0_header():
    # lib/bug.c __report_bug() since the BUG_FORMAT rework: CUT_HERE, then the condition
    # (WARN_CONDITION_STR: "[" cond "] ") through __warn_printf(), then __warn()'s header
    d = analyze_lines(_ts([
        "------------[ cut here ]------------",
        "[!drm_modeset_is_locked(&crtc->mutex)] ",
        "WARNING: drivers/gpu/drm/amd/amdgpu/amdgpu_dm.c:1234 at dm_commit+0x12/0x340 [amdgpu], CPU#3: Xorg/1234",
        "Modules linked in: amdgpu drm_ttm_helper ttm",
        "RIP: 0010:dm_commit+0x12/0x340 [amdgpu]",
    ]))
    assert (d.verdict.category, d.verdict.culprit.module) == ("warning", "amdgpu")


# -- arch/x86/kernel/traps.c exc_general_protection() ------------------------------------

@pytest.mark.parametrize("line", [
    # a #GP with a selector error code: "segment-related " GPFSTR through die_addr(), with
    # __die_header()'s "Oops: " before it since 6.10 and without it before
    "Oops: segment-related general protection fault: 0000 [#1] PREEMPT SMP NOPTI",
    "segment-related general protection fault: 0000 [#1] SMP",
])
def test_segment_related_gpf(line):
    h = match_header(line)
    assert h is not None and h.kind == "gpf"


def test_segment_lookalike_is_no_gpf():
    h = match_header("segment-related stuff happened")
    assert h is None or h.kind != "gpf"


# -- mm/page_alloc.c and mm/slub.c allocator frames of 6.14+ ------------------------------

def _alloc_failure(frames):
    # warn_alloc() "%s: page allocation failure: order:%u, mode:%#x(%pGg), nodemask=%*pbl"
    return _ts([
        "kworker/u64:3: page allocation failure: order:3, mode:0x52820(GFP_ATOMIC|__GFP_NOWARN|"
        "__GFP_NORETRY|__GFP_COMP), nodemask=(null),cpuset=/,mems_allowed=0",
        "CPU: 2 UID: 0 PID: 4321 Comm: kworker/u64:3 Tainted: G           OE      6.15.2-arch1-1 #1 PREEMPT(full) ",
        "Call Trace:",
        " <IRQ>",
        " dump_stack_lvl+0x5d/0x80",
        " warn_alloc+0x164/0x190",
        " __alloc_pages_slowpath.constprop.0+0xa4d/0xc40",
    ] + [" " + f for f in frames] + [" </IRQ>"])


@pytest.mark.parametrize("frames, module, function", [
    # SLUB's alloc_slab_page() through alloc_frozen_pages() (6.15+): the driver that kmalloc'd
    (["__alloc_frozen_pages_noprof+0x2f5/0x320", "alloc_frozen_pages_noprof+0x80/0x180",
      "alloc_slab_page+0x5a/0xa0", "allocate_slab+0x81/0x130", "___slab_alloc+0x1d/0xa0",
      "__kmalloc_noprof+0x2b0/0x380", "rtw89_pci_rxbd_recalc+0x30/0x110 [rtw89_pci]",
      "rtw89_pci_napi_poll+0x100/0x1000 [rtw89_pci]"], "rtw89_pci", "rtw89_pci_rxbd_recalc"),
    # get_zeroed_page_noprof() (6.10+) straight from a driver
    (["__alloc_frozen_pages_noprof+0x2f5/0x320", "alloc_pages_mpol+0x80/0x180",
      "alloc_pages_noprof+0x5a/0xa0", "get_zeroed_page_noprof+0x11/0x40",
      "amdgpu_x_init+0x30/0x110 [amdgpu]"], "amdgpu", "amdgpu_x_init"),
    # negative: an allocation the core kernel made itself stays the core kernel's
    (["__alloc_frozen_pages_noprof+0x2f5/0x320", "alloc_pages_mpol+0x80/0x180",
      "alloc_pages_noprof+0x5a/0xa0", "pipe_write+0x30/0x110", "vfs_write+0x100/0x300"],
     None, "pipe_write"),
])
def test_frozen_page_allocator_frames_are_skipped(frames, module, function):
    v = analyze_lines(_alloc_failure(frames)).verdict
    assert v.category == "alloc_failure"
    assert (v.culprit.module, v.culprit.function) == (module, function)


# -- drivers/gpu/drm/xe: a GPU page fault xe could not service ---------------------------

@pytest.mark.parametrize("line", [
    # xe_pagefault.c xe_pagefault_queue_work (6.18+) "Fault response: Unsuccessful %pe" after
    # xe_gt_printk's "Tile%u: GT%u: "
    "xe 0000:43:00.0: [drm] Tile0: GT0: Fault response: Unsuccessful -EINVAL",
    # xe_gt_pagefault.c pf_queue_work_func (6.8-6.17) drm_dbg "Fault response: Unsuccessful %d"
    "xe 0000:03:00.0: [drm:pf_queue_work_func [xe]] Fault response: Unsuccessful -22",
])
def test_xe_unserviced_page_fault(line):
    h = match_header(line)
    assert h is not None and h.kind == "gpu_fault" and h.headline == "xe: GPU page fault"
    assert h.fields["module"] == "xe"


def test_fault_response_of_no_gpu_driver_is_no_gpu_fault():
    h = match_header("mlx5_core 0000:3b:00.0: Fault response: Unsuccessful -22")
    assert h is None or h.kind != "gpu_fault"


# -- kernel/locking/percpu-rwsem.c: the wait under __percpu_down_read() (5.8+) ------------

@pytest.mark.parametrize("waiter, function", [
    (["percpu_rwsem_wait+0x1/0x2", "__percpu_down_read+0x1/0x2"], "mnt_want_write"),
    # negative: without the lock frames the first frame under schedule() is the one to blame
    ([], "mnt_want_write"),
    (["percpu_counter_sum+0x1/0x2"], "percpu_counter_sum"),
])
def test_hung_task_in_percpu_rwsem_blames_the_caller(waiter, function):
    # hung_task.c check_hung_task() "INFO: task %s:%d blocked for more than %ld seconds."
    d = analyze_lines(_ts([
        "INFO: task fsfreeze:4930 blocked for more than 122 seconds.",
        "      Not tainted 6.12.0 #1",
        "task:fsfreeze      state:D stack:0     pid:4930 tgid:4930 ppid:1",
        "Call Trace:",
        " <TASK>",
        " __schedule+0x1/0x2",
        " schedule+0x1/0x2",
    ] + [" " + f for f in waiter] + [
        " mnt_want_write+0x1/0x2",
        " do_renameat2+0x1/0x2",
        " </TASK>",
    ]))
    assert (d.verdict.category, d.verdict.culprit.function) == ("hung_task", function)


# -- mm/cma.c cma_alloc(): a contiguous allocation that failed ----------------------------

@pytest.mark.parametrize("line, area, pages, ret", [
    # 5.x pr_err("%s: alloc failed, req-size: %zu pages, ret: %d\n", __func__, ...), pr_fmt "cma: "
    ("cma: cma_alloc: alloc failed, req-size: 148 pages, ret: -16", "", 148, -16),
    # 5.1x-6.x pr_err_ratelimited("%s: %s: alloc failed, req-size: %lu pages, ret: %d\n",
    # __func__, cma->name, ...)
    ("cma: cma_alloc: linux,cma: alloc failed, req-size: 148 pages, ret: -16", "linux,cma", 148, -16),
    ("cma: __cma_alloc: reserved: alloc failed, req-size: 4 pages, ret: -12", "reserved", 4, -12),
])
def test_cma_alloc_failure(line, area, pages, ret):
    h = match_header(line)
    assert h is not None and h.kind == "alloc_failure"
    assert (h.fields["cma_area"], h.fields["pages"], h.fields["errno"]) == (area, pages, ret)
    assert analyze_lines(_ts([line, "cma: number of available pages: 3@125+20@172=> 23 free of 81920 total pages"])
                         ).verdict.category == "alloc_failure"


@pytest.mark.parametrize("line", [
    "cma: Reserved 256 MiB at 0x00000000f0000000 on node -1",   # cma_declare_contiguous_nid()
    "cma: number of available pages: 3@125+20@172=> 23 free of 81920 total pages",
    "imx-vpu 2040000.vpu: cma alloc failed, req-size: 148 pages",  # not mm/cma.c's words
])
def test_other_cma_lines_are_no_alloc_failure(line):
    h = match_header(line)
    assert h is None or h.kind != "alloc_failure"
