"""Coverage sweep of GPU driver and mm format strings (session 6, helper g3).

Every print call in drivers/gpu (amd, i915, xe, nouveau, radeon, msm, panfrost, panthor,
lima, v3d, vc4, etnaviv, vmwgfx, qxl, virtio, ast, mgag200, tegra, host1x) of the 6.12 and
5.10 kernel sources whose format string speaks of a timeout, hang, fault, lost device,
reset or fatal error was turned into a synthetic log line (the format's conversions
filled in, printed through the driver's dev_printk/DRM/nvkm prefix) and fed to the event
parser. The reports of a GPU fault, hang, job timeout, lost device or failed reset that
it did not read are below with their source function; so are the messages of the sweep
decided to be chatter (display and link timeouts, init/resume resets and firmware boots,
TLB-flush waits). The same for mm/oom_kill.c, mm/page_alloc.c, mm/percpu.c and Android's
low memory killer.

Oracle: the format strings (the driver source functions named beside each line and in
signatures/lists.toml [[gpu_fault_wordings]] / triage/events/headers.py)."""

import pytest

from _gpu_wordings import CORE_OOPS, assert_core_oops_outranks, assert_gpu_chatter, assert_gpu_report_read
from triage.analysis import analyze_lines
from triage.events.headers import match_header

# (line as the driver prints it, module, headline kind)
GPU_REPORTS = [
    # amdgpu smu_cmn.c smu_cmn_send_msg_without_waiting
    ("amdgpu 0000:03:00.0: amdgpu: SMU is in hanged state, failed to send smu message!", "amdgpu", "GPU hang"),
    # amdgpu powerplay smu9_smumgr.c smu9_wait_for_response (pr_err, amdgpu pr_fmt)
    ("amdgpu: No response from smu", "amdgpu", "GPU hang"),
    # amdkfd kfd_device_queue_manager.c add_queue_mes
    ("amdgpu 0000:03:00.0: amdgpu: MES might be in unrecoverable state, issue a GPU reset", "amdgpu", "GPU hang"),
    # amdgpu_amdkfd_gfx_v9.c kgd_gfx_v9_hqd_destroy
    ("amdgpu: CP HQD dequeue request time out", "amdgpu", "GPU hang"),
    ("amdgpu: CP HQD IQ timer status time out", "amdgpu", "GPU hang"),
    # amdkfd set_queue_as_reset
    ("amdgpu 0000:03:00.0: amdgpu: queue id 0x2 at pasid 0x8001 is reset", "amdgpu", "GPU hang"),
    # amdgpu_device.c amdgpu_device_ip_check_soft_reset
    ("amdgpu 0000:03:00.0: amdgpu: IP block:gfx_v10_0 is hung!", "amdgpu", "GPU hang"),
    # gfx_v9_4_2.c gfx_v9_4_2_query_sq_timeout_status
    ("amdgpu 0000:03:00.0: amdgpu: GFX Watchdog Timeout: SE 0, SH 0, CU 3", "amdgpu", "GPU hang"),
    # amdgpu_device.c amdgpu_device_should_recover_gpu (asked by the job-timeout path)
    ("amdgpu 0000:03:00.0: amdgpu: Timeout, but no hardware hang detected.", "amdgpu", "GPU job timeout"),
    # its 4.x wording, DRM_INFO without a device (amdgpu_device_gpu_recover)
    ("[drm] No hardware hang detected. Did some blocks stall?", "amdgpu", "GPU job timeout"),
    # gfx_v10_0.c gfx_v10_0_bad_op_irq; sdma_v3_0.c sdma_v3_0_process_illegal_inst_irq
    ("[drm:gfx_v10_0_bad_op_irq [amdgpu]] *ERROR* Illegal opcode in command stream", "amdgpu", "GPU engine error"),
    ("[drm:sdma_v3_0_process_illegal_inst_irq [amdgpu]] *ERROR* Illegal instruction in SDMA command stream",
     "amdgpu", "GPU engine error"),
    # amdgpu_ras.c amdgpu_bad_page_notifier; vcn_v2_6 query_poison_by_instance
    ("amdgpu 0000:03:00.0: amdgpu: Uncorrectable error detected in UMC inst: 1, chan_idx: 3", "amdgpu",
     "GPU hardware error"),
    ("amdgpu 0000:03:00.0: amdgpu: Poison detected in VCN0, sub_block1", "amdgpu", "GPU hardware error"),
    # amdgpu_device.c amdgpu_device_health_check (gpu_recover)
    ("amdgpu 0000:03:00.0: amdgpu: device lost from bus!", "amdgpu", "GPU hardware error"),
    # amdgpu_device.c amdgpu_pci_slot_reset
    ("[drm:amdgpu_pci_slot_reset [amdgpu]] *ERROR* PCIe error recovery failed, err:-22", "amdgpu",
     "GPU reset failed"),
    # amdgpu_device.c amdgpu_device_gpu_recover; amdkfd kfd_signal_reset_event
    ("amdgpu 0000:03:00.0: amdgpu: GPU reset end with ret = 0", "amdgpu", "GPU reset"),
    ("amdgpu 0000:03:00.0: amdgpu: Guilty job already signaled, skipping HW reset", "amdgpu", "GPU reset"),
    ("amdgpu 0000:03:00.0: amdgpu: Queues reset on process Xorg tid 1234 thread Xorg pid 1234", "amdgpu",
     "GPU reset"),
    # i915_gpu_error.c capture; intel_reset.c intel_wedge_me; intel_guc.c intel_guc_crash_process_msg
    ("i915 0000:00:02.0: [drm] Got hung context on rcs0 with active request 1234:56 [0x1234] not yet started",
     "i915", "GPU hang"),
    ("i915 0000:00:02.0: [drm] *ERROR* GT0: intel_gt_reset_global timed out, cancelling all in-flight rendering.",
     "i915", "GPU hang"),
    ("i915 0000:00:02.0: [drm] *ERROR* GT0: GUC: Crash dump notification", "i915", "GPU fault"),
    # intel_reset.c intel_gt_reset
    ("i915 0000:00:02.0: [drm] *ERROR* GT0: Failed to initialise HW following reset (-5)", "i915",
     "GPU reset failed"),
    # xe_guc.c guc_handle_mmio_msg; xe_gt.c gt_reset; xe_wait_user_fence.c
    ("xe 0000:03:00.0: [drm] *ERROR* Tile0: GT0: Received early GuC crash dump notification!", "xe", "GPU fault"),
    ("xe 0000:03:00.0: [drm] *ERROR* Tile0: GT0: reset failed (-ETIMEDOUT)", "xe", "GPU reset failed"),
    ("xe 0000:03:00.0: [drm] exec queue reset detected", "xe", "GPU reset"),
    # xe_device.c xe_device_declare_wedged, the device prefix cut by the poster (tuning log 1629)
    ("[drm] *ERROR* CRITICAL: Xe has declared device 0000:00:02.0 as wedged.", "xe", "GPU hang"),
    # i915_gpu_error.c i915_error_state_store (pr_info, DRM_INFO before 5.x)
    ("GPU hangs can indicate a bug anywhere in the entire gfx stack, including userspace.", "i915", "GPU hang"),
    ("[drm] GPU hangs can indicate a bug anywhere in the entire gfx stack, including userspace.", "i915",
     "GPU hang"),
    ("The GPU crash dump is required to analyze GPU hangs, so please always attach it.", "i915", "GPU hang"),
    # the same notices in 3.x/4.x (DRM_INFO; "gpu" in lower case), and 3.11-4.x i915_irq.c
    # i915_hangcheck_elapsed() DRM_INFO("%s on %s\n", stuck ? "stuck" : "no progress", ring)
    ("[drm] The gpu crash dump is required to analyze gpu hangs, so please always attach it.", "i915", "GPU hang"),
    ("[drm] Please file a _new_ bug report on bugs.freedesktop.org against DRI -> DRM/Intel", "i915", "GPU hang"),
    ("[drm] stuck on render ring", "i915", "GPU hang"),
    ("[drm] stuck on blitter ring", "i915", "GPU hang"),
    ("[drm] no progress on bsd ring", "i915", "GPU hang"),
    # gt/intel_gt_requests.c intel_gt_watchdog_work
    ("Fence expiration time out i915-0000:00:02.0:kwin_wayland[1234]:2a!", "i915", "GPU job timeout"),
    # nvkm fifo gf100/gk104/channv50, gr gf100/nv40, xtensa
    ("nouveau 0000:01:00.0: fifo: PGRAPH engine fault on channel 2, recovering...", "nouveau", "GPU fifo fault"),
    ("nouveau 0000:01:00.0: fifo: DROPPED_MMU_FAULT 00000200", "nouveau", "GPU fifo fault"),
    ("nouveau 0000:01:00.0: fifo: FB_FLUSH_TIMEOUT", "nouveau", "GPU fifo fault"),
    ("nouveau 0000:01:00.0: fifo: channel 3 [Xorg[1234]] kick timeout", "nouveau", "GPU hang"),
    ("nouveau 0000:01:00.0: fifo: tsg 3 [Xorg[1234]] kick timeout", "nouveau", "GPU hang"),
    ("nouveau 0000:01:00.0: fifo: channel 3 [Xorg[1234]] unload timeout", "nouveau", "GPU hang"),
    ("nouveau 0000:01:00.0: fifo: runlist 0 update timeout", "nouveau", "GPU hang"),
    ("nouveau 0000:01:00.0: fifo: runlist update timeout", "nouveau", "GPU hang"),
    ("nouveau 0000:01:00.0: gr: wait for idle timeout (en: 1, ctxsw: 0, busy: 1)", "nouveau", "GPU hang"),
    ("nouveau 0000:01:00.0: gr: FECS watchdog timeout", "nouveau", "GPU hang"),
    ("nouveau 0000:01:00.0: gr: ctxprog timeout 00000000", "nouveau", "GPU hang"),
    ("nouveau 0000:01:00.0: msvld: Watchdog interrupt, engine hung.", "nouveau", "GPU hang"),
    # msm a6xx_hfi.c a6xx_hfi_irq, a2xx_gpu.c a2xx_irq, adreno_gpu.c adreno_wait_ring, a5xx_preempt.c
    ("msm_dpu ae01000.display-controller: [drm:a6xx_hfi_irq [msm]] *ERROR* GMU firmware fault", "msm",
     "GPU fault"),
    ("adreno 3d00000.gpu: GMU firmware fault", "msm", "GPU fault"),
    ("msm 30000000.qcom,mdss: MMU_PAGE_FAULT: 00000042", "msm", "GPU page fault"),
    ("msm_dpu ae01000.display-controller: [drm:adreno_wait_ring [msm]] *ERROR* timeout waiting for space in "
     "ringbuffer 0", "msm", "GPU hang"),
    ("msm_dpu ae01000.display-controller: [drm:a5xx_preempt_timer [msm]] *ERROR* A530: preemption timed out",
     "msm", "GPU hang"),
    # panfrost_gpu.c panfrost_gpu_irq_handler, panfrost_mmu.c wait_ready
    ("panfrost ff9a0000.gpu: There were multiple GPU faults - some have not been reported", "panfrost",
     "GPU fault"),
    ("panfrost ff9a0000.gpu: AS_ACTIVE bit stuck", "panfrost", "GPU hang"),
    # panthor_sched.c, panthor_gpu.c, panthor_fw.c, panthor_device.c
    ("panthor fb000000.gpu: [drm] CSG slot 2 progress timeout", "panthor", "GPU job timeout"),
    ("panthor fb000000.gpu: [drm] GPU Fault in protected mode", "panthor", "GPU fault"),
    ("panthor fb000000.gpu: [drm] *ERROR* FW ping timeout, scheduling a reset", "panthor", "GPU hang"),
    ("panthor fb000000.gpu: [drm] *ERROR* Soft reset timeout", "panthor", "GPU reset failed"),
    ("panthor fb000000.gpu: [drm] *ERROR* FW slow reset failed (couldn't start the FW )", "panthor",
     "GPU reset failed"),
    ("panthor fb000000.gpu: [drm] *ERROR* Failed to boot MCU after reset, making device unusable.", "panthor",
     "GPU reset failed"),
    # lima_gp.c / lima_pp.c soft and hard resets
    ("lima 1c40000.gpu: gp soft reset time out", "lima", "GPU reset failed"),
    ("lima 1c40000.gpu: gp hard reset timeout", "lima", "GPU reset failed"),
    ("lima 1c40000.gpu: pp0 reset time out", "lima", "GPU reset failed"),
    # etnaviv_gpu.c dump_mmu_fault (6.x, 5.x)
    ("etnaviv-gpu 130000.gpu: MMU 0 fault (slave not present) addr 0x0000fe00", "etnaviv", "GPU page fault"),
    ("etnaviv-gpu 130000.gpu: MMU 0 fault addr 0x0000fe00", "etnaviv", "GPU page fault"),
    # vc4_gem.c vc4_reset (DRM_INFO without a device; drm_info with one)
    ("vc4-drm gpu: [drm] Resetting GPU.", "vc4", "GPU hang"),
    ("[drm] Resetting GPU.", "vc4", "GPU hang"),
    # panthor_sched.c cs_slot_process_fatal/fault_event_locked (first line of the record)
    ("panthor fb000000.gpu: [drm] CSG slot 0 CS slot: 1", "panthor", "GPU fault"),
    # lima_gp.c / lima_pp.c irq handlers
    ("lima 1c40000.gpu: gp error irq state=1 status=2", "lima", "GPU engine error"),
    ("lima 1c40000.gpu: pp0 error irq state=1 status=2", "lima", "GPU engine error"),
    # msm a6xx_gpu.c a6xx_cp_hw_err_irq
    ("adreno 3d00000.gpu: CP ucode error interrupt", "msm", "GPU engine error"),
    ("adreno 3d00000.gpu: CP AHB error interrupt", "msm", "GPU engine error"),
    # amdgpu_gfx.c amdgpu_gfx_cp_ecc_error_irq
    ("[drm:amdgpu_gfx_cp_ecc_error_irq [amdgpu]] *ERROR* CP ECC ERROR IRQ", "amdgpu", "GPU hardware error"),
    # third pass (error names, exceptions): nvkm fifo gk104, ce/gt215 and sec/g98, v3d_irq.c,
    # lima_mmu.c, amdkfd kfd_events.c, i915/xe GuC exception, i915 5.x+ crash-dump notice
    ("nouveau 0000:01:00.0: fifo: BIND_ERROR 01 [BIND_ERROR_SUBCH_MISMATCH]", "nouveau", "GPU fifo fault"),
    ("nouveau 0000:01:00.0: fifo: PIO_ERROR", "nouveau", "GPU fifo fault"),
    ("nouveau 0000:01:00.0: fifo: LB_ERROR", "nouveau", "GPU fifo fault"),
    ("nouveau 0000:01:00.0: ce0: DISPATCH_ERROR 0001 [ILLEGAL_MTHD] ch 2 [003f7a2000 Xorg[1234]] subc 0 mthd 0100 "
     "data 00000000", "nouveau", "GPU engine error"),
    ("v3d fec00000.v3d: GMP violation", "v3d", "GPU page fault"),
    ("lima 1c40000.gpu: mmu gpmmu irq bus error", "lima", "GPU engine error"),
    ("amdgpu 0000:03:00.0: Process 1234 (pasid 0x8001) got unhandled exception", "amdgpu", "GPU fault"),
    ("i915 0000:00:02.0: [drm] *ERROR* GT0: GUC: Exception notification", "i915", "GPU fault"),
    ("xe 0000:03:00.0: [drm] *ERROR* Tile0: GT0: Received early GuC exception notification!", "xe", "GPU fault"),
    ("GPU crash dump saved to /sys/class/drm/card0/error", "i915", "GPU hang"),
    # host1x syncpt.c host1x_syncpt_wait
    ("tegra-host1x 50000000.host1x: host1x_syncpt_wait: syncpoint id 18 (15340000.vic) stuck waiting 2, "
     "timeout=-1", "host1x", "GPU job timeout"),
]


@pytest.mark.parametrize("line,module,what", GPU_REPORTS, ids=[g[0][:56] for g in GPU_REPORTS])
def test_swept_gpu_report_is_read(line, module, what):
    assert_gpu_report_read(line, module, what)


# Messages of the sweep decided not to be a GPU fault, with the reason.
CHATTER = [
    # nvidia-modeset nvkms-dma.c nvDmaWaitEvo... (the EVO push buffer wait): "Error while waiting
    # for GPU progress: 0x%08x:%d ..." names the display channel's class (c67d = the display
    # core channel): the display engine did not consume its methods, a display timeout like
    # "Flip event timeout on head %u" (nvidia-drm-modeset.c)
    "nvidia-modeset: ERROR: GPU:0: Error while waiting for GPU progress: 0x0000c67d:0 2:0:4048:4040",
    "nvidia-modeset: ERROR: GPU:0: Flip event timeout on head 0",
    # nouveau display (nvkm disp nv50.c channel init/fini, dispnv50 core notifier)
    "nouveau 0000:01:00.0: disp: ch 1 timeout: 00000001",
    "nouveau 0000:01:00.0: DRM: core notifier timeout",
    # i915 display and power management
    "i915 0000:00:02.0: [drm] *ERROR* Fault errors on pipe A: 0x00000080",
    "i915 0000:00:02.0: [drm] *ERROR* timed out waiting for Punit PM Demand Response",
    "i915 0000:00:02.0: [drm] *ERROR* PSR idle timed out 0x1, atomic update may fail",
    "msm_dpu ae01000.display-controller: [drm:_dpu_crtc_wait_for_frame_done [msm]] *ERROR* frame done wait "
    "timed out, ret:-110",
    "[drm:amdgpu_dm_process_dmub_aux_transfer_sync [amdgpu]] *ERROR* wait_for_completion_timeout timeout!",
    # multimedia firmware boot at init/resume (vcn/uvd/vce *_start): the block did not start
    "amdgpu 0000:03:00.0: amdgpu: VCN[0] is not responding, trying to reset the VCPU!!!",
    "[drm:uvd_v4_2_start [amdgpu]] *ERROR* UVD not responding, giving up!!!",
    # resets that run at suspend/resume and init: amdgpu mode1 (soc21_asic_mode1_reset), radeon
    # rs600_asic_reset (also from rs600_resume), psp mode1; amdgpu_do_asic_reset's "VRAM is lost
    # due to GPU reset!" (amdgpu_drv_delayed_reset_work_handler runs it at an XGMI hive's load)
    "amdgpu 0000:03:00.0: amdgpu: GPU smu mode1 reset",
    "radeon 0000:01:00.0: GPU reset succeed",
    "amdgpu 0000:03:00.0: amdgpu: psp mode1 reset succeed",
    "amdgpu 0000:03:00.0: amdgpu: [drm] VRAM is lost due to GPU reset!",
    # init failures and firmware loads
    "amdgpu 0000:03:00.0: amdgpu: Fatal error during GPU init",
    "amdgpu 0000:03:00.0: Direct firmware load for amdgpu/navi10_gpu_info.bin failed with error -2",
    # TLB and cache flush waits, no job lost by themselves
    "xe 0000:03:00.0: [drm] Tile0: GT0: TLB invalidation fence timeout, seqno=12 recv=11",
    "amdgpu 0000:03:00.0: amdgpu: Timeout waiting for VM flush hub: 0!",
    "lima 1c40000.gpu: mmu command 2 timeout",
]


@pytest.mark.parametrize("line", CHATTER, ids=[c[:56] for c in CHATTER])
def test_swept_chatter_is_not_a_crash(line):
    assert_gpu_chatter(line)


@pytest.mark.parametrize("line", [g[0] for g in GPU_REPORTS[::4]], ids=[g[0][:56] for g in GPU_REPORTS[::4]])
@pytest.mark.parametrize("where", ["before", "after"])
def test_a_real_oops_still_outranks_a_swept_gpu_report(line, where):
    assert_core_oops_outranks(line, where)


MEMORY = [
    # mm/oom_kill.c 2.6.19-2.6.24 oom_kill_process
    (["Out of Memory: Kill process 2345 (java) score 1234 and children."], "oom_kill",
     "out of memory: process killed by the OOM killer"),
    # 2.6.2x-2.6.35 the constrained kills (out_of_memory's CONSTRAINT_MEMORY_POLICY / CPUSET)
    (["No available memory (MPOL_BIND): Killed process 2345 (java)."], "oom_kill",
     "out of memory: process killed by the OOM killer"),
    (["No available memory in cpuset: Killed process 2345 (java)."], "oom_kill",
     "out of memory: process killed by the OOM killer"),
    (["No available memory (MPOL_BIND): kill process 2345 (java) score 0 or a child"], "oom_kill",
     "out of memory: process killed by the OOM killer"),
    # 2.6.18-2.6.2x out_of_memory: panic("out of memory. panic_on_oom is selected\n")
    (["Kernel panic - not syncing: out of memory. panic_on_oom is selected"], "oom_panic",
     "kernel panic: out of memory. panic_on_oom is selected"),
    # mm/percpu.c pcpu_alloc
    (["percpu: allocation failed, size=4096 align=8 atomic=0, alloc from reserved chunk failed"], "alloc_failure",
     "page allocation failure"),
    # mm/oom_kill.c oom_kill_process (4.x-6.x): the chosen victim was already dying
    (["Out of memory: OOM victim 2345 (java) is already exiting. Skip killing the task"], "oom_kill",
     "out of memory: process killed by the OOM killer"),
    (["Memory cgroup out of memory: OOM victim 2345 (java) is already exiting. Skip killing the task"], "oom_kill",
     "memory cgroup out of memory: process killed"),
    # drivers/staging/android/lowmemorykiller.c: 2.6.3x lowmem_shrink (bare printk, then with
    # pr_fmt), 3.10-4.11 lowmem_scan; lmkd (tag lowmemorykiller), Android 10+ and older
    (["send sigkill to 2345 (com.android.browser), adj 12, size 4567"], "oom_kill",
     "out of memory: process killed by Android's low memory killer"),
    (["lowmemorykiller: send sigkill to 2345 (com.android.browser), adj 900, size 4567"], "oom_kill",
     "out of memory: process killed by Android's low memory killer"),
    (["lowmemorykiller: Killing 'com.android.chrome' (12345), adj 900,",
      "   to free 45678kB on behalf of 'kswapd0' (85) because",
      "   cache 123456kB is below limit 135000kB for oom_score_adj 900",
      "   Free memory is 4567kB above reserved"], "oom_kill",
     "out of memory: process killed by Android's low memory killer"),
    (["lowmemorykiller: Kill 'com.android.chrome' (12345), uid 10100, oom_score_adj 900 to free 123456kB rss, "
      "4567kB swap; reason: low watermark is breached"], "oom_kill",
     "out of memory: process killed by Android's low memory killer"),
    (["lowmemorykiller: Kill 'com.android.chrome' (12345), uid 10100, oom_adj 900 to free 123456kB"], "oom_kill",
     "out of memory: process killed by Android's low memory killer"),
]


@pytest.mark.parametrize("lines,category,title", MEMORY, ids=[m[0][0][:56] for m in MEMORY])
def test_swept_memory_report_is_read(lines, category, title):
    v = analyze_lines([f"[  101.{i:06d}] {l}" for i, l in enumerate(lines)]).verdict
    assert (v.category, v.title) == (category, title), lines


@pytest.mark.parametrize("line", [
    # the low memory killer's own tuning chatter, not a kill
    "lowmemorykiller: lowmem_shrink 128, 200da, ofree 12345 67890, ma 900",
    "lowmemorykiller: Using psi monitors for memory pressure detection",
    # mm/util.c __vm_enough_memory (strict overcommit refused a user mapping: ENOMEM, no kill)
    "__vm_enough_memory: pid: 2345, comm: java, bytes: 4096 not enough memory for the allocation",
    # mm/vmalloc.c alloc_vmap_area's "vmap allocation for size %lu failed" is the precursor of the
    # warn_alloc() report ("vmalloc: allocation failure: ..." / "vmalloc error: size ...", with the
    # stack) that __vmalloc_node_range prints right after it: read alone it would take that
    # report's place (posted 070 and 519 lose their guilty function module_alloc)
    "vmap allocation for size 1052672 failed: use vmalloc=<size> to increase size",
    # the page-fault path's OOM retry (mm/oom_kill.c pagefault_out_of_memory): a warning
    "Huh VM_FAULT_OOM leaked out to the #PF handler. Retrying PF",
])
def test_swept_memory_chatter_is_not_a_crash(line):
    assert analyze_lines([f"[  101.000000] {line}"]).verdict.category == "none", line


def test_a_real_oops_outranks_a_low_memory_kill():
    lines = ["lowmemorykiller: Killing 'com.android.chrome' (12345), adj 900,"] + CORE_OOPS
    v = analyze_lines([f"[  {100 + i}.000000] {l}" for i, l in enumerate(lines)]).verdict
    assert v.category == "null_deref"


# NVIDIA resman (open-gpu-kernel-modules src/nvidia/src/kernel/gpu/rc and gsp): signatures/
# lists.toml [[nvrm_fault_wordings]]
NVRM_REPORTS = [
    ("NVRM: krcWatchdog_IMPL: RC watchdog: GPU is probably locked!  Notify Timeout Seconds: 7", "GPU hang"),
    ("NVRM: RC watchdog: GPU is probably locked!  Notify Timeout Seconds: 7", "GPU hang"),
    ("NVRM: GPU0 _krcRcResetCallback: Gpu marked for reset. Triggering TDR.", "GPU hang"),
    ("NVRM: GPU0 kgspHealthCheck_TU102: ****************************** GSP-CrashCat Report "
     "*******************************", "GPU fault"),
    ("NVRM: GPU0 kgspService_TU102: NV_PGSP_FALCON_IRQSTAT_FATAL_ERROR PRI error pending (mask: 0x1)", "GPU fault"),
    # rpc.c _issueRpcAndWait, both forms of the format
    ("NVRM: GPU0 _issueRpcAndWait: rpcSendMessage failed with status 0x0000000f for fn 10 sequence 24013!",
     "GPU fault"),
    ("NVRM: _issueRpcAndWait: rpcSendMessage failed with status 0x0000000f for fn 76!", "GPU fault"),
]

# the follow-on lines of a failed GSP RPC: not reports of their own
NVRM_FOLLOW_ON = [
    "NVRM: GPU0 rpcRmApiFree_GSP: GspRmFree failed: hClient=0xc1d00312; hObject=0x5c000037; "
    "paramsStatus=0x00000000; status=0x0000000f",
    "NVRM: GPU0 nvAssertFailedNoLog: Assertion failed: (status == NV_OK) || "
    "(status == NV_ERR_GPU_IN_FULLCHIP_RESET) @ rs_client.c:844",
]


@pytest.mark.parametrize("line", NVRM_FOLLOW_ON, ids=[n[:56] for n in NVRM_FOLLOW_ON])
def test_nvrm_follow_on_line_is_no_report(line):
    assert match_header(line) is None
    assert analyze_lines([f"[  101.000000] {line}"]).verdict.category == "none"


@pytest.mark.parametrize("line,what", NVRM_REPORTS, ids=[n[0][:56] for n in NVRM_REPORTS])
def test_swept_nvrm_report_is_read(line, what):
    h = match_header(line)
    assert h is not None and h.kind == "gpu_fault" and h.headline == f"nvidia: {what}", line
    v = analyze_lines([f"[  101.000000] {line}"]).verdict
    assert (v.category, v.culprit.module, v.title) == ("gpu_fault", "nvidia", f"nvidia: {what}")


# kgspHealthCheck_TU102 / _kgspIsHeartbeatTimedOut / _kgspRpcRecvPoll: the GSP stopped
# answering, the condition the driver reports as Xid 119 (posted 870, 2112 label it gpu_xid)
GSP_HEARTBEAT = [
    "NVRM: GPU0 kgspHealthCheck_TU102: GSP RM heartbeat timed out",
    "NVRM: GPU0 _kgspIsHeartbeatTimedOut: LibOS heartbeat timed out",
    "NVRM: GPU0 _kgspIsHeartbeatTimedOut: Heartbeat timed out, currentTimeMs 322227881 heartbeat 0 "
    "heartbeatWithOffsetMs 318098841 diff 4129040 timeout 5200",
    "NVRM: GPU0 _kgspRpcRecvPoll: GSP RM heartbeat timed out",
]


@pytest.mark.parametrize("line", GSP_HEARTBEAT)
def test_gsp_heartbeat_timeout_is_the_xid_119_condition(line):
    h = match_header(line)
    assert h is not None and (h.kind, h.fields["xid"], h.fields["module"]) == ("nvrm_xid", 119, "nvidia"), line
    v = analyze_lines([f"[  101.000000] {line}"]).verdict
    assert (v.category, v.culprit.module) == ("gpu_xid", "nvidia")


@pytest.mark.parametrize("line", [
    "NVRM: GPU0 kgspHealthCheck_TU102: heartbeat check skipped",       # not a timeout
    "i915 0000:00:02.0: [drm] rcs0 heartbeat timed out",                # another driver's words
])
def test_other_heartbeat_words_are_not_an_nvidia_xid(line):
    h = match_header(line)
    assert h is None or h.kind != "nvrm_xid", line


@pytest.mark.parametrize("line", [n[0] for n in NVRM_REPORTS[::3]], ids=[n[0][:56] for n in NVRM_REPORTS[::3]])
def test_an_xid_names_the_failure_before_the_resmans_own_words(line):
    # the resman reports the same failure by an Xid: a log with both is the Xid's (also an
    # application Xid, ranked medium: rule nvrm-fault-report ranks below every Xid rule)
    xid = "NVRM: Xid (PCI:0000:01:00): 13, pid=1234, name=python3, Graphics Exception: ESR 0x504648=0x102001f"
    for lines in ([xid, line], [line, xid]):
        v = analyze_lines([f"[  {100 + i}.000000] {l}" for i, l in enumerate(lines)]).verdict
        assert v.category == "gpu_xid", (lines, v.title)


@pytest.mark.parametrize("line", [
    "NVRM: GPU at PCI:0000:01:00: GPU-12345678-1234-1234-1234-123456789012",
    "NVRM: GPU Board Serial Number: 0",
    "NVRM: os_schedule: Attempted to yield the CPU while in atomic or interrupt context",
    "NVRM: GPU0 _kgspInitLibosLogDecoder: Failed to load gsp_log_*.bin, no GSP-RM logs will be printed (non-fatal)",
])
def test_nvrm_chatter_is_not_a_crash(line):
    assert analyze_lines([f"[  101.000000] {line}"]).verdict.category == "none", line


def test_a_malformed_nvrm_table_is_refused(tmp_path):
    from triage.classify.rules import builtin_dir, load_files
    from triage.errors import SignatureError
    # a well-formed table is a known key, checked like [[gpu_fault_wordings]]; a malformed one is refused
    (tmp_path / "extra.toml").write_text('[[nvrm_fault_wordings]]\nheadline = "GPU hang"\ncontains = ["x"]\n')
    load_files([builtin_dir() / "lists.toml", tmp_path / "extra.toml"])
    (tmp_path / "extra.toml").write_text('[[nvrm_fault_wordings]]\nheadline = "GPU hang"\ncontains = [1]\n')
    with pytest.raises(SignatureError):
        load_files([builtin_dir() / "lists.toml", tmp_path / "extra.toml"])


# nouveau 3.7-4.2: core/core/printk.c nv_printk_() "nouveau %c[%8s][%s]%s %s" (a subdev's line)
# and "nouveau %c[%8s] %s" (a client's); the messages are those of the later nvkm
# ("fifo: SCHED_ERROR ..."): nvc0/nve0_fifo.c intr_sched, intr_fault, nv50/nvc0_graph.c TRAP,
# nouveau_fbcon.c nouveau_fbcon_gpu_lockup, nouveau_chan.c nouveau_channel_idle
NOUVEAU_3X = [
    ("nouveau E[   PFIFO][0000:01:00.0] SCHED_ERROR [ CTXSW_TIMEOUT ]", "GPU fifo fault"),
    ("nouveau E[   PFIFO][0000:01:00.0] read fault at 0x0000296000 [PAGE_NOT_PRESENT] from PGRAPH/GPC0/PE_2 "
     "on channel 0x007fa3b000 [Xorg[1234]]", "GPU fifo fault"),
    ("nouveau E[  PGRAPH][0000:01:00.0] TRAP ch 2 [0x003fb57000 X[1234]]", "GPU engine trap"),
    ("nouveau E[  PGRAPH][0000:01:00.0][0x0000902d] DATA_ERROR", "GPU engine error"),
    ("nouveau E[     DRM] GPU lockup - switching to software fbcon", "GPU hang"),
    ("nouveau E[     DRM] failed to idle channel 0xcccc0000 [Xorg[1234]]", "GPU hang"),
]


@pytest.mark.parametrize("line,what", NOUVEAU_3X, ids=[n[0][:56] for n in NOUVEAU_3X])
def test_nouveau_3x_printk_form_is_read(line, what):
    h = match_header(line)
    assert h is not None and h.kind == "gpu_fault" and h.headline == f"nouveau: {what}", line
    assert analyze_lines([f"[  101.000000] {line}"]).verdict.category == "gpu_fault"


@pytest.mark.parametrize("line", [
    "nouveau  [  DEVICE][0000:01:00.0] BOOT0  : 0x0e7000a1",
    "nouveau  [     DRM] VRAM: 1024 MiB",
    "nouveau  [     PFB][0000:01:00.0] RAM type: GDDR5",
    "nouveau E[     DRM] failed to create ce channel, -22",
])
def test_nouveau_3x_chatter_is_not_a_crash(line):
    assert analyze_lines([f"[  101.000000] {line}"]).verdict.category == "none", line


def test_slub_sheaf_refill_frames_are_the_allocator():
    # mm/slub.c 6.18+ per-CPU sheaves: an order-0 failure inside the sheaf refill names the
    # caller of kmalloc, here drm_suballoc_new (drm_suballoc.c, drm_suballoc_helper.ko), as the
    # first frame outside the allocator (the corpus rule for allocation failures)
    trace = ["chrome: page allocation failure: order:0, mode:0xc0cc0(GFP_KERNEL|__GFP_COMP|__GFP_NOMEMALLOC)",
             "CPU: 3 PID: 1234 Comm: chrome Not tainted 7.0.0-rc1 #1", "Call Trace:", " <TASK>",
             " dump_stack_lvl+0x5d/0x80", " warn_alloc+0x164/0x190", " __alloc_frozen_pages_noprof+0x1234/0x1300",
             " allocate_slab+0x100/0x400", " refill_objects+0x50/0x200", " __pcs_replace_empty_main+0x80/0x300",
             " __kmalloc_cache_noprof+0x300/0x400", " drm_suballoc_new+0x90/0x300{tag}",
             " amdgpu_sa_bo_new+0x20/0x40 [amdgpu]", " </TASK>"]
    for tag in (" [drm_suballoc_helper]", ""):
        lines = [l.replace("{tag}", tag) for l in trace]
        v = analyze_lines([f"[  1.{i:06d}] {l}" for i, l in enumerate(lines)]).verdict
        assert (v.category, v.culprit.module, v.culprit.function) == (
            "alloc_failure", "drm_suballoc_helper", "drm_suballoc_new"), (tag, v.title)
