"""GPU driver and memory report wordings checked format string by format string against the
6.12 and 5.10 kernel sources (session 10, helper fl; tools/format_sweep.py plus a wider sweep
of the error-level print calls whose formats the tool's keyword filter skips: ECC, RAS, MES,
GuC CT, "failed to respond").

The lines below are synthetic: each is built from the format string named beside it (its
conversions filled in, printed through the driver's dev_printk/DRM/GuC prefix). That is
acceptable here only because the format strings are the oracle; the posted corpus holds few
or none of these lines. signatures/lists.toml [[gpu_fault_wordings]] and
[[gpu_driverless_wordings]] cite the same functions."""

import pytest

from _gpu_wordings import assert_core_oops_outranks, assert_gpu_chatter, assert_gpu_report_read
from triage.analysis import analyze_lines
from triage.events.headers import match_header

# (line as the driver prints it, module, headline)
GPU_REPORTS = [
    # amdgpu mes_v12_0.c mes_v12_0_submit_pkt_and_poll_completion "MES(%d) failed to respond to
    # msg=%s (%s)" / "...msg=%s" / "...msg=%d" (mes_v11_0's form has no pipe number)
    ("amdgpu 0000:03:00.0: amdgpu: MES(0) failed to respond to msg=REMOVE_QUEUE", "amdgpu", "GPU hang"),
    ("amdgpu 0000:03:00.0: amdgpu: MES(1) failed to respond to msg=MISC (WAIT_REG_MEM)", "amdgpu", "GPU hang"),
    ("amdgpu 0000:03:00.0: amdgpu: MES(0) failed to respond to msg=14", "amdgpu", "GPU hang"),
    # i915 gt/uc/intel_guc_ct.c ct_deadlocked: CT_ERROR = guc_err(guc, "CT: " fmt)
    ("i915 0000:00:02.0: [drm] *ERROR* GT0: GUC: CT: Communication stalled for 1501 ms, desc status=0x0,0x0",
     "i915", "GPU hang"),
    # xe_guc_ct.c guc_ct_send_locked (xe_gt_err: "Tile%u: GT%u: " tag)
    ("xe 0000:03:00.0: [drm] *ERROR* Tile0: GT0: No forward process on H2G, reset required", "xe", "GPU hang"),
    # xe_guc_submit.c: the job-timeout path's waits on the GuC, each followed by xe_gt_reset_async()
    ("xe 0000:03:00.0: [drm] Tile0: GT0: Schedule disable failed to respond", "xe", "GPU hang"),
    ("xe 0000:03:00.0: [drm] Tile0: GT0: Schedule enable failed to respond", "xe", "GPU hang"),
    ("xe 0000:03:00.0: [drm] Pending enable failed to respond", "xe", "GPU hang"),
    # xe_guc_ct.c parse_g2h_msg / g2h_read; i915 intel_guc_ct.c ct_write / ct_read
    ("xe 0000:03:00.0: [drm] *ERROR* Tile0: GT0: G2H channel broken on read, origin=1, reset required", "xe",
     "GPU fault"),
    ("xe 0000:03:00.0: [drm] *ERROR* Tile0: GT0: G2H channel broken on read, avail=3, len=5, reset required",
     "xe", "GPU fault"),
    ("i915 0000:00:02.0: [drm] *ERROR* GT0: GUC: CT: Corrupted descriptor head=12 tail=40 status=0x1",
     "i915", "GPU fault"),
    # amdgpu gfx_v8_0.c gfx_v8_0_cp_ecc_error_irq (DRM_ERROR); amdgpu_kms.c amdgpu_driver_open_kms
    ("[drm:gfx_v8_0_cp_ecc_error_irq [amdgpu]] *ERROR* CP EDC/ECC error detected.", "amdgpu",
     "GPU hardware error"),
    ("[drm:amdgpu_driver_open_kms [amdgpu]] *ERROR* RAS Intr triggered, device disabled!!", "amdgpu",
     "GPU hardware error"),
    # amdgpu_ras.c amdgpu_ras_interrupt_poison_consumption_handler; amdkfd kfd_int_process_v9.c
    # event_interrupt_poison_consumption_v9 through RAS_EVENT_LOG ("{%llu}" event id first)
    ("amdgpu 0000:03:00.0: amdgpu: GPU reset for gfx RAS poison consumption is issued!", "amdgpu",
     "GPU hardware error"),
    ("amdgpu 0000:03:00.0: amdgpu: {12}poison is consumed by client 3, kick off gpu reset flow", "amdgpu",
     "GPU hardware error"),
    # the amdgpu VM-fault report's other lines: gfxhub/mmhub *_print_l2_protection_fault_status
    ("amdgpu 0000:03:00.0: amdgpu: \t MORE_FAULTS: 0x1", "amdgpu", "GPU page fault"),
    ("amdgpu 0000:03:00.0: amdgpu: \t WALKER_ERROR: 0x0", "amdgpu", "GPU page fault"),
    ("amdgpu 0000:03:00.0: amdgpu: \t PERMISSION_FAULTS: 0x3", "amdgpu", "GPU page fault"),
    ("amdgpu 0000:03:00.0: amdgpu: \t MAPPING_ERROR: 0x0", "amdgpu", "GPU page fault"),
    # mmhub_v4_1_0.c mmhub_v4_1_0_print_l2_protection_fault_status
    ("amdgpu 0000:03:00.0: amdgpu: MMVM_L2_PROTECTION_FAULT_STATUS_LO32:0x00301031", "amdgpu", "GPU page fault"),
    # gmc_v10_0 " in process %s pid %d thread %s pid %d", gmc_v11/v12 the same with ")",
    # gmc_v9_0 " for process %s pid %d thread %s pid %d)", gmc_v8_0 without ")"
    ("amdgpu 0000:03:00.0: amdgpu:  in process blender pid 4321 thread blender:cs0 pid 4330", "amdgpu",
     "GPU page fault"),
    ("amdgpu 0000:03:00.0: amdgpu:  in process blender pid 4321 thread blender:cs0 pid 4330)", "amdgpu",
     "GPU page fault"),
    ("amdgpu 0000:03:00.0: amdgpu:  for process python3 pid 77 thread python3 pid 78)", "amdgpu",
     "GPU page fault"),
    ("amdgpu 0000:03:00.0:  for process Xorg pid 77 thread Xorg:cs0 pid 80", "amdgpu", "GPU page fault"),
    # gmc_v9_0_process_interrupt (GC 9.4.3) "  cookie node_id %d fault from die %s%d%s"
    ("amdgpu 0000:03:00.0: amdgpu:   cookie node_id 2 fault from die AID0.XCD1", "amdgpu", "GPU page fault"),
    # psp_v11_0.c psp_v11_0_mode1_reset
    ("amdgpu 0000:03:00.0: amdgpu: psp mode 1 reset failed!", "amdgpu", "GPU reset failed"),
    # msm adreno/a6xx_gmu.c a6xx_gmu_irq "GMU watchdog expired", after the GPU's device prefix
    ("adreno 3d00000.gpu: GMU watchdog expired", "msm", "GPU hang"),
    # ...and as printed: the GMU is an unbound platform device, so dev_printk() names the bus
    # ("platform"); its dev_err()s and a6xx_hfi_irq's "GMU firmware fault" name msm by wording
    ("platform 3d6a000.gmu: GMU watchdog expired", "msm", "GPU hang"),
    ("platform 3d6a000.gmu: GMU firmware fault", "msm", "GPU fault"),
    # its DRM_DEV_ERROR()s name msm by their "[drm:func [msm]]" tag (a6xx_gmu.c a6xx_gmu_set_oob
    # "Timeout waiting for GMU OOB set %s: 0x%x"); built in, by the function's a6xx_ prefix
    ("platform 3d6a000.gmu: [drm:a6xx_gmu_set_oob [msm]] *ERROR* Timeout waiting for GMU OOB set GPU_SET: 0x0",
     "msm", "GPU hang"),
    ("platform 506a000.gmu: [drm:a6xx_gmu_set_oob] *ERROR* Timeout waiting for GMU OOB set BOOT_SLUMBER: 0x800000",
     "msm", "GPU hang"),
    # powervr (drivers/gpu/drm/imagination) pvr_power.c pvr_watchdog_worker / pvr_power_reset (drm_err)
    ("powervr fd00000.gpu: [drm] *ERROR* FW stalled, trying hard reset", "powervr", "GPU hang"),
    ("powervr fd00000.gpu: [drm] *ERROR* GPU device lost", "powervr", "GPU reset failed"),
    # radeon cik.c cik_vm_decode_fault, si.c/ni.c *_vm_decode_fault: printk() without a device
    ("VM fault (0x04, vmid 1) at page 12345, read from 'TC0' (0x54433000) (72)", "radeon", "GPU page fault"),
    ("VM fault (0x0c, vmid 3) at page 0, write from CB (64)", "radeon", "GPU page fault"),
]


@pytest.mark.parametrize("line,module,what", GPU_REPORTS, ids=[g[0][:60] for g in GPU_REPORTS])
def test_source_gpu_report_is_read(line, module, what):
    assert_gpu_report_read(line, module, what)


# Messages of the same sources decided not to be a GPU fault (label none in the posted corpus's
# rules: driver error chatter without a crash), each with the reason.
CHATTER = [
    # amdgpu_fence.c amdgpu_fence_fallback: DRM_WARN only when amdgpu_fence_process() found
    # fences signalled that no interrupt had reported: the GPU finished the work, an interrupt
    # was lost (MSI/IOMMU trouble), no job hung
    "[drm] Fence fallback timer expired on ring gfx",
    "amdgpu 0000:03:00.0: [drm] Fence fallback timer expired on ring sdma0",
    # GuC requests that timed out and are returned to their caller as -ETIME; no reset follows
    # (i915 ct_send, xe guc_ct_send_recv, xe guc_exec_queue_suspend_wait)
    "i915 0000:00:02.0: [drm] *ERROR* GT0: GUC: CT: No response for request 0x4505 (fence 123)",
    "xe 0000:03:00.0: [drm] *ERROR* Tile0: GT0: Timed out wait for G2H, fence 12, action 4505, done no",
    "xe 0000:03:00.0: [drm] Tile0: GT0: Suspend fence, guc_id=3, failed to respond",
    # corrected or not yet consumed RAS errors; the gfx_v9_4_2 ECC status register dump
    "amdgpu 0000:03:00.0: amdgpu: 2 correctable hardware errors detected in total in gfx block",
    "amdgpu 0000:03:00.0: amdgpu: {12}socket: 0, die: 0 2 deferred hardware errors detected in umc block",
    "amdgpu 0000:03:00.0: amdgpu: {12}Poison is created",
    "amdgpu 0000:03:00.0: GFX UTCL2 Mem Ecc Status: 0x1!",
    # the VM-fault report's "\t RW: 0x%lx": too short to tell apart on its own
    "amdgpu 0000:03:00.0: amdgpu: \t RW: 0x0",
    # psp mode1 resets run at suspend too; only a failed one is a failure
    "amdgpu 0000:03:00.0: amdgpu: psp mode 1 reset not supported now!",
    "amdgpu 0000:03:00.0: amdgpu: psp mode1 reset succeed",
    # PSP command failures are firmware-load chatter at init (TA loading)
    "amdgpu 0000:03:00.0: amdgpu: psp gfx command LOAD_TA(0x1) failed and response status is (0x7)",
    # the same words from a device that is not a GPU's
    "nvme 0000:01:00.0: MORE_FAULTS: 0x1",
    "iwlwifi 0000:00:14.3: Schedule disable failed to respond",
    "mlx5_core 0000:3b:00.0: in process foo pid 1 thread foo pid 2",
    # the GMU's HFI message timeout (a6xx_hfi.c a6xx_hfi_wait_for_ack, -ETIMEDOUT to the caller,
    # like the GuC's request timeouts above) and its other interrupt bits
    "platform 3d6a000.gmu: [drm:a6xx_hfi_send_msg.constprop.0 [msm]] *ERROR* Message HFI_H2F_MSG_GX_BW_PERF_VOTE "
    "id 25 timed out waiting for response",
    "platform 3d6a000.gmu: GMU AHB bus error",
    # another device's prefix before a DRM tag whose message is no fault (a6xx_gmu.c
    # a6xx_gmu_hfi_start "Unable to start the HFI queues", a power-up failure at resume), and a
    # tag-like text that is no DRM tag
    "platform 3d6a000.gmu: [drm:a6xx_gmu_hfi_start [msm]] *ERROR* Unable to start the HFI queues",
    "usb 1-1: [drm:foo] GPU hang",
    # a "VM fault" that is not radeon's decode line
    "kvm: VM fault (0x04) in guest",
    "VM fault (0x04, vmid 1) at page 12345",
]


@pytest.mark.parametrize("line", CHATTER, ids=[c[:60] for c in CHATTER])
def test_source_chatter_is_not_a_crash(line):
    assert_gpu_chatter(line)


def test_a_vm_fault_report_cut_before_its_first_line_is_still_read():
    # a paste that starts at the report's task line (gmc_v10_0_process_interrupt)
    lines = [
        "amdgpu 0000:03:00.0: amdgpu:  in process blender pid 4321 thread blender:cs0 pid 4330",
        "amdgpu 0000:03:00.0: amdgpu:   in page starting at address 0x0000800100200000 from client 10",
        "amdgpu 0000:03:00.0: amdgpu: GCVM_L2_PROTECTION_FAULT_STATUS:0x00301031",
        "amdgpu 0000:03:00.0: amdgpu: \t MORE_FAULTS: 0x1",
    ]
    v = analyze_lines([f"[  101.{i:06d}] {l}" for i, l in enumerate(lines)]).verdict
    assert (v.category, v.culprit.module, v.title) == ("gpu_fault", "amdgpu", "amdgpu: GPU page fault")


@pytest.mark.parametrize("line", [g[0] for g in GPU_REPORTS[::3]], ids=[g[0][:60] for g in GPU_REPORTS[::3]])
@pytest.mark.parametrize("where", ["before", "after"])
def test_a_core_oops_is_never_blamed_on_the_gpu(line, where):
    # the GPU report is context; the core crash is the verdict, with no GPU module blamed
    assert_core_oops_outranks(line, where)


# -- memory reporters (mm/oom_kill.c, mm/page_alloc.c, mm/memcontrol.c, mm/vmalloc.c, mm/percpu.c,
# mm/slub.c of 5.10 and 6.12): every report-opening format is read already; these pin the
# follow-up and precursor lines the sweep decided are not reports of their own.

# 6.12 mm/vmalloc.c alloc_vmap_area: pr_warn("vmalloc_node_range for size %lu failed: Address
# range restricted to %#lx - %#lx\n") is the precursor of __vmalloc_node_range_noprof()'s
# warn_alloc() "vmalloc error: size %lu, vm_struct allocation failed" (5.x wrote "vmap allocation
# for size %lu failed: use vmalloc=<size> to increase size", decided the same way in
# test_source_sweep_wordings): alone it is no report, and it must not take that report's place
_VMAP_PRECURSOR = ("vmalloc_node_range for size 8192 failed: Address range restricted to "
                   "0xffffffffc0000000 - 0xffffffffff000000")


def test_the_vmap_range_precursor_alone_is_not_a_report():
    assert analyze_lines([f"[  101.000000] {_VMAP_PRECURSOR}"]).verdict.category == "none"


def test_the_vmap_range_precursor_leaves_the_vmalloc_report_its_caller():
    lines = [
        _VMAP_PRECURSOR,
        "insmod: vmalloc error: size 8192, vm_struct allocation failed, mode:0xcc0(GFP_KERNEL), "
        "nodemask=(null),cpuset=/,mems_allowed=0",
        "CPU: 1 PID: 812 Comm: insmod Tainted: G           O       6.12.0 #1",
        "Call Trace:",
        " <TASK>",
        " dump_stack_lvl+0x5d/0x80",
        " warn_alloc+0x164/0x190",
        " __vmalloc_node_range_noprof+0x1c6/0x8f0",
        " execmem_alloc+0x3f/0x90",
        " load_module+0x8ef/0x2030",
        " init_module_from_file+0x89/0xe0",
        " </TASK>",
    ]
    v = analyze_lines([f"[  101.{i:06d}] {l}" for i, l in enumerate(lines)]).verdict
    assert v.category == "alloc_failure", v.title
    assert v.culprit.function not in (None, "alloc_vmap_area"), v.title


@pytest.mark.parametrize("line", [
    # mm/oom_kill.c __oom_kill_process: printed after "Killed process ..." for a process sharing
    # the victim's mm that cannot be killed; mm/memcontrol.c mem_cgroup_print_oom_group: printed
    # after the victim's kill line when memory.oom.group is set. Follow-ups, never openers
    "oom killer 1234 (stress) has mm pinned by 1235 (foo)",
    "Tasks in /user.slice/foo are going to be killed due to memory.oom.group set",
])
def test_oom_follow_up_lines_alone_are_not_a_report(line):
    assert analyze_lines([f"[  101.000000] {line}"]).verdict.category == "none"


def test_oom_follow_up_lines_stay_in_their_kill():
    lines = [
        "Memory cgroup out of memory: Killed process 1234 (stress) total-vm:123456kB, anon-rss:12345kB, "
        "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1234kB oom_score_adj:0",
        "Tasks in /user.slice/foo are going to be killed due to memory.oom.group set",
        "Memory cgroup out of memory: Killed process 1240 (worker) total-vm:1234kB, anon-rss:123kB, "
        "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:12kB oom_score_adj:0",
        "oom killer 1240 (worker) has mm pinned by 1241 (helper)",
    ]
    v = analyze_lines([f"[  101.{i:06d}] {l}" for i, l in enumerate(lines)]).verdict
    assert (v.category, v.culprit.module) == ("oom_kill", None), v.title
