"""GPU drivers' own fault, hang, job-timeout and failed-reset reports, one line each in
the wording of the driver's format string (the source is cited beside each recogniser in
triage/events/headers.py), and the driver messages deliberately not read as faults.

Oracle: the format strings themselves (drivers/gpu/drm and the out-of-tree Mali kbase),
as printed through dev_printk ("<driver> <device>: "), DRM_DEV_ERROR ("[drm:func
[module]] *ERROR* "), DRM_ERROR without a device, and pr_fmt ("amdgpu: ")."""

import pytest

from triage.events.headers import match_header

FAULTS = [
    # (line, module, kind of report in the headline)
    ("v3d fec00000.v3d: [drm:v3d_reset [v3d]] *ERROR* Resetting GPU for hang.", "v3d", "GPU hang"),
    ("v3d fec00000.v3d: [drm] *ERROR* Resetting GPU for hang.", "v3d", "GPU hang"),
    ("etnaviv-gpu 130000.gpu: recover hung GPU!", "etnaviv", "GPU hang"),
    ("etnaviv-gpu 130000.gpu: hangcheck detected gpu lockup!", "etnaviv", "GPU hang"),
    ("panfrost ff9a0000.gpu: gpu sched timeout, js=1, config=0x7300, status=0x58, head=0x0, tail=0x0, "
     "sched_job=00000000a9a32ff6", "panfrost", "GPU job timeout"),
    ("panfrost ff9a0000.gpu: GPU Fault 0x00000088 (UNKNOWN) at 0x0000000000000000", "panfrost", "GPU fault"),
    ("panfrost ff9a0000.gpu: js fault, js=0, status=DATA_INVALID_FAULT, head=0x6d0f200, tail=0x6d0f200",
     "panfrost", "GPU engine error"),
    ("panfrost ff9a0000.gpu: Unhandled Page fault in AS1 at VA 0x0000000002000000", "panfrost", "GPU page fault"),
    ("panthor fb000000.gpu: [drm] job timeout: pid=1634, comm=weston, seqno=46", "panthor", "GPU job timeout"),
    ("[drm:lima_sched_timedout_job [lima]] *ERROR* gp job timeout", "lima", "GPU job timeout"),
    ("[drm:lima_sched_timedout_job [lima]] *ERROR* lima job timeout", "lima", "GPU job timeout"),
    ("lima 1c40000.gpu: mmu page fault at 0x2017c00 from bus id 0 of type read on ppmmu0", "lima", "GPU page fault"),
    ("[drm:i915_hangcheck_elapsed] *ERROR* Hangcheck timer elapsed... render ring hung", "i915", "GPU hang"),
    ("i915 0000:00:02.0: Resetting chip for hang on rcs0", "i915", "GPU hang"),
    ("i915 0000:00:02.0: [drm] Resetting chip for stopped heartbeat on rcs0", "i915", "GPU hang"),
    ("i915 0000:00:02.0: [drm] Resetting rcs0 for preemption time out", "i915", "GPU hang"),
    ("i915 0000:00:02.0: [drm] *ERROR* Failed to reset chip", "i915", "GPU reset failed"),
    ("drm/i915: Resetting chip after gpu hang", "i915", "GPU hang"),
    ("[drm] GPU crash dump saved to /sys/class/drm/card0/error", "i915", "GPU hang"),
    ("[drm] capturing error event; look for more information in /sys/class/drm/card0/error", "i915", "GPU hang"),
    ("[drm:i915_set_reset_status] *ERROR* render ring hung inside bo (0x1c4000 ctx 0) at 0x1c45f0", "i915",
     "GPU hang"),
    ("[drm:i915_hangcheck_elapsed] *ERROR* stuck on render ring", "i915", "GPU hang"),
    ("xe 0000:03:00.0: [drm] Tile0: GT0: Engine memory cat error: engine_class=vcs, logical_mask: 0x1, guc_id=2",
     "xe", "GPU page fault"),
    ("amdgpu: qcm fence wait loop timeout expired", "amdgpu", "GPU hang"),
    ("kfd: the cp might be in an unrecoverable state due to an unsuccessful queues preemption", "amdgpu", "GPU hang"),
    ("amdgpu 0000:03:00.0: amdgpu: The cp might be in an unrecoverable state due to an unsuccessful queues preemption",
     "amdgpu", "GPU hang"),
    ("amdgpu: sq_intr: error, se 0, data 0x80000, sh 0, priv 1, wave_id 0, simd_id 0, wgp_id 0", "amdgpu",
     "GPU engine error"),
    ("amdgpu 0000:65:00.0: amdgpu: MES failed to respond to msg=RESET", "amdgpu", "GPU hang"),
    ("[drm:amdgpu_mes_reg_write_reg_wait [amdgpu]] *ERROR* MES failed to response msg=3", "amdgpu", "GPU hang"),
    ("amdgpu 0000:65:00.0: amdgpu: Starting gfx_0.0.0 ring reset", "amdgpu", "GPU ring timeout"),
    ("amdgpu 0000:65:00.0: amdgpu: Ring gfx_0.0.0 reset failed", "amdgpu", "GPU reset failed"),
    ("amdgpu 0000:03:00.0: amdgpu: ASIC reset failed with error, -110 for drm dev, 0000:03:00.0", "amdgpu",
     "GPU reset failed"),
    ("[drm:gfx_v10_0_priv_reg_irq [amdgpu]] *ERROR* Illegal register access in command stream", "amdgpu",
     "GPU engine error"),
    ("[drm:amdgpu_dm_atomic_commit_tail [amdgpu]] *ERROR* Waiting for fences timed out!", "amdgpu",
     "GPU job timeout"),
    ("[drm:amdgpu_job_timedout] *ERROR* ring gfx timeout, signaled seq=1, emitted seq=2", "amdgpu",
     "GPU ring timeout"),
    # the timeout handler's other line, its ring line cut off
    ("[drm:amdgpu_job_timedout [amdgpu]] *ERROR* Process information: process Xorg pid 2184 thread Xorg:cs0 pid 2284",
     "amdgpu", "GPU ring timeout"),
    ("[drm:etnaviv_sched_timedout_job [etnaviv]] *ERROR* something new", "etnaviv", "GPU job timeout"),
    ("amdgpu 0000:0b:00.0: amdgpu: Process information: process Xorg pid 2184 thread Xorg:cs0 pid 2284", "amdgpu",
     "GPU ring timeout"),
    ("amdgpu 0000:03:00.0: amdgpu: uncorrectable hardware error(ERREVENT_ATHUB_INTERRUPT) detected!", "amdgpu",
     "GPU hardware error"),
    ("radeon 0000:01:00.0: ring 0 stalled for more than 10240msec", "radeon", "GPU ring timeout"),
    ("radeon 0000:01:00.0:   VM_CONTEXT1_PROTECTION_FAULT_ADDR   0x0001E8B4", "radeon", "GPU page fault"),
    ("nouveau 0000:01:00.0: fifo: channel 3: killed", "nouveau", "GPU fifo fault"),
    ("nouveau 0000:01:00.0: fifo: runlist 0: scheduled for recovery", "nouveau", "GPU fifo fault"),
    ("nouveau 0000:01:00.0: gr: GPC0/TPC0/MP trap: global 00000004 [MULTIPLE_WARP_ERRORS] warp 000f [OOR_ADDR]",
     "nouveau", "GPU engine trap"),
    ("nouveau 0000:01:00.0: fb: trapped read at 00_0001e3c0 on channel 2 [1fb3a000 X[1234]] engine 00 [PGRAPH]",
     "nouveau", "GPU page fault"),
    ("nouveau 0000:01:00.0: Xorg[1234]: failed to idle channel 0 [Xorg[1234]]", "nouveau", "GPU hang"),
    ("adreno 3d00000.gpu: [drm:a6xx_fault_detect_irq] *ERROR* gpu fault ring 0 fence 1a2b status 00800005 rb "
     "0000/0000 ib1 0000000000000000/0000 ib2 0000000000000000/0000", "msm", "GPU engine error"),
    ("msm 5000000.gpu: CP | opcode error | possible opcode=0xDEADDEAD", "msm", "GPU engine error"),
    ("*** fault: iova=00400000, flags=0", "msm", "GPU page fault"),
    ("[drm:vmw_fallback_wait [vmwgfx]] *ERROR* SVGA device lockup.", "vmwgfx", "GPU hang"),
    ("mali 13000000.gpu: GPU Fault 0x00000004 (UNKNOWN) at 0x0000000000000000", "mali_kbase", "GPU fault"),
    ("mali ffe40000.gpu: Resetting GPU (allowing up to 500 ms)", "mali_kbase", "GPU reset"),
    ("amdgpu 0000:62:00.0: amdgpu: Mode2 reset failed!", "amdgpu", "GPU reset failed"),
    ("i915 0000:00:02.0: [drm] *ERROR* rcs0 reset request timed out: {request: 00000001, RESET_CTL: 00000001}",
     "i915", "GPU reset failed"),
    ("i915 0000:00:02.0: [drm] *ERROR* GT0: GUC: Engine reset failed on 0:0 (rcs0) because 0x00000000", "i915",
     "GPU reset failed"),
    ("etnaviv-gpu 130000.gpu: GPU failed to reset: FE not idle, 3D not idle, 2D not idle", "etnaviv",
     "GPU reset failed"),
    ("panfrost ff9a0000.gpu: gpu soft reset timed out", "panfrost", "GPU reset failed"),
    ("kgsl kgsl-3d0: |kgsl_iommu_fault_handler| GPU PAGE FAULT: addr = 7F3C0000 pid= 1234 name=com.example",
     "msm_kgsl", "GPU page fault"),
    ("tegra-host1x 50000000.host1x: cdma_timeout_handler: timeout: 15 (15340000.vic), HW thresh 1200, done 1199",
     "host1x", "GPU job timeout"),
    ("amdgpu 0000:09:00.0: amdgpu: SMU: I'm not done with your previous command: SMN_C2PMSG_66:0x00000028 "
     "SMN_C2PMSG_82:0x00000000", "amdgpu", "GPU hang"),
    ("[drm] GPU recovery disabled.", "amdgpu", "GPU hang"),
    ("amdgpu 0000:03:00.0: amdgpu: Dumping IP State", "amdgpu", "GPU hang"),
    ("amdgpu 0000:03:00.0: amdgpu:   in page starting at address 0x00007f1c00000000 from client 0x1b (UTCL2)",
     "amdgpu", "GPU page fault"),
    ("amdgpu 0000:03:00.0: amdgpu: \t Faulty UTCL2 client ID: CPC (0x5)", "amdgpu", "GPU page fault"),
    ("radeon 0000:01:00.0: VM fault (0x04, vmid 1) at page 123, read from 'TC0' (0x54433000) (72)", "radeon",
     "GPU page fault"),
    ("[drm:adreno_idle [msm]] *ERROR* 5.0.9.0: timeout waiting to drain ringbuffer 0 rptr/wptr = 32C/C", "msm",
     "GPU hang"),
    ("[drm:a5xx_idle [msm]] *ERROR* A530: timeout waiting for GPU to idle: status 00000001 irq 00000000", "msm",
     "GPU hang"),
    ("nouveau 0000:01:00.0: Xorg[1234]: channel 2 killed!", "nouveau", "GPU hang"),
    ("[drm] nouveau 0000:01:00.0: PGRAPH - TRAP_MP_EXEC - TP 0 MP 0: INVALID_OPCODE at 07f8b0 warp 2, opcode 00000000 "
     "00000000", "nouveau", "GPU engine trap"),
    ("[drm] nouveau 0000:01:00.0: PGRAPH_ERROR - nSource: DATA_ERROR, nStatus: BAD_ARGUMENT", "nouveau",
     "GPU engine error"),
    ("[drm] nouveau 0000:01:00.0: Failed to idle channel 1.", "nouveau", "GPU hang"),
    ("nouveau 0000:01:00.0: gr: 00000030 [ILLEGAL_MTHD ILLEGAL_CLASS] ch 2 [003f7a2000 Xorg[1234]] subc 0 "
     "class 0000 mthd 0000 data 00000000", "nouveau", "GPU engine error"),
    ("nouveau 0000:01:00.0: gsp: rc engn:00000001 chid:2 type:31 scope:1 part:233", "nouveau", "GPU engine error"),
    ("i915 0000:00:02.0: [drm] *ERROR* GPU hanging too fast, declaring wedged!", "i915", "GPU hang"),
    ("xe 0000:03:00.0: [drm] *ERROR* CRITICAL: Xe has declared device 0000:03:00.0 as wedged.", "xe", "GPU hang"),
    ("i915 0000:00:02.0: [drm] rcs0 heartbeat {seqno:5:1234, prio:2147483646} not ticking", "i915", "GPU hang"),
    ("xe 0000:03:00.0: [drm:xe_guc_exec_queue_memory_cat_error_handler [xe]] GT0: Engine memory cat error: "
     "engine_class=rcs, logical_mask: 0x1, guc_id=2", "xe", "GPU page fault"),
    # amdgpu/radeon atom.c: the VBIOS interpreter aborted a table whose wait on the GPU never
    # ended (posted 3608: the GPU could not be posted at probe)
    ("[drm:atom_op_jump [amdgpu]] *ERROR* atombios stuck in loop for more than 20secs aborting", "amdgpu", "GPU hang"),
    ("[drm:amdgpu_atom_execute_table_locked [amdgpu]] *ERROR* atombios stuck executing B456 (len 304, WS 4, "
     "PS 0) @ 0xB51B", "amdgpu", "GPU hang"),
    ("[drm:atom_op_jump [radeon]] *ERROR* atombios stuck in loop for more than 5secs aborting", "radeon", "GPU hang"),
]


@pytest.mark.parametrize("line,module,what", FAULTS, ids=[f[0][:48] for f in FAULTS])
def test_gpu_driver_report_is_a_gpu_fault_of_the_driver(line, module, what):
    h = match_header(line)
    assert h is not None and h.kind == "gpu_fault", line
    assert h.fields["module"] == module
    assert h.headline == f"{module}: {what}"


NOT_FAULTS = [
    # the drm core's display timeouts: no GPU job lost, no reset (decided in headers.py)
    "[drm:drm_atomic_helper_wait_for_flip_done [drm_kms_helper]] *ERROR* [CRTC:62:crtc-0] flip_done timed out",
    "[drm:drm_atomic_helper_wait_for_dependencies [drm_kms_helper]] *ERROR* [CRTC:62:crtc-0] commit wait timed out",
    "vc4-drm gpu: [drm] *ERROR* [CRTC:91:crtc-3] hw_done or flip_done timed out",
    # self-tests at init/resume
    "amdgpu 0000:03:00.0: [drm:amdgpu_ring_test_helper [amdgpu]] *ERROR* ring kiq_2.1.0 test failed (-110)",
    "[drm:amdgpu_ib_ring_tests [amdgpu]] *ERROR* IB test failed on gfx (-110).",
    "radeon 0000:01:00.0: radeon: ring 0 test failed (scratch(0x850C)=0xCAFEDEAD)",
    # suspend-time resets of some ASICs, run at every suspend
    "amdgpu 0000:03:00.0: amdgpu: MODE1 reset",
    "amdgpu 0000:03:00.0: amdgpu: GPU mode1 reset",
    "amdgpu 0000:03:00.0: amdgpu: BACO reset",
    # init chatter, firmware loads, a missed interrupt, the CPU's own refused register write
    "nouveau 0000:01:00.0: DRM: VRAM: 2048 MiB",
    "amdgpu 0000:03:00.0: amdgpu: Fetched VBIOS from VFCT",
    # the interpreter's other errors: a table or opcode it does not know, no VBIOS hang
    "[drm:atom_execute_table_locked [radeon]] *ERROR* atombios: unknown opcode 255",
    "[drm] atombios: table 12 not found",
    "amdgpu 0000:03:00.0: amdgpu: ATOM BIOS: 113-D1630200-112",
    "i915 0000:00:02.0: [drm] GuC firmware i915/tgl_guc_70.bin version 70.5.1",
    "[drm:i915_hangcheck_elapsed [i915]] *ERROR* Hangcheck timer elapsed... blt ring idle",
    "nouveau 0000:01:00.0: bus: MMIO write of 00000002 FAULT at 13b154 [ IBUS ]",
    "amdgpu 0000:01:00.0: IH ring buffer overflow (0x00080C10, 0x00000AD0, 0x00000C20)",
    # display-side errors: FIFO underruns, vblank-evasion misses, a DPU frame-done timeout,
    # a missed fence interrupt caught by the fallback timer; an unhandled gr interrupt
    "i915 0000:00:02.0: [drm] *ERROR* CPU pipe A FIFO underrun",
    "[drm:intel_pipe_update_end [i915]] *ERROR* Atomic update failure on pipe A (start=1 end=2) time 1 us",
    "msm_dpu ae01000.display-controller: [drm:dpu_encoder_frame_done_timeout:2398] [dpu error]enc33 frame done timeout",
    "[drm] Fence fallback timer expired on ring gfx",
    "nouveau 0000:01:00.0: gr: intr 00000040",
    # a failed reset of something that is not the GPU's recovery
    "i915 0000:00:02.0: [drm] *ERROR* Failed to reset DDI PHY A",
    "amdgpu 0000:03:00.0: amdgpu: failed to reset connector HDMI-A-1 link",
    # drm_dbg chatter after a device prefix
    "xe 0000:03:00.0: [drm:xe_hw_engine_snapshot_capture [xe]] GT0: Proceeding with manual engine snapshot",
    # firmware loading at init (missing or refused firmware is a setup problem, not a GPU fault)
    "amdgpu 0000:03:00.0: Direct firmware load for amdgpu/navi10_mes.bin failed with error -2",
    "i915 0000:00:02.0: [drm] Failed to load DMC firmware i915/kbl_dmc_ver1_04.bin. Disabling runtime power management.",
    "nouveau 0000:01:00.0: gr: failed to load firmware \"gr/fecs_inst\"",
    "i915 0000:00:02.0: [drm] GuC firmware i915/adlp_guc_70.bin version 70.20.0",
    "amdgpu 0000:03:00.0: amdgpu: SMU is initialized successfully!",
    "[drm] nouveau 0000:01:00.0: Detected an NV50 generation card (0x086f00a2)",
    # a device prefix of a driver that is not a GPU driver
    "nvme 0000:01:00.0: I/O 12 QID 3 timeout, reset controller",
    "xhci_hcd 0000:00:14.0: Timeout while waiting for setup device command",
]


@pytest.mark.parametrize("line", NOT_FAULTS, ids=[l[:48] for l in NOT_FAULTS])
def test_not_a_gpu_fault(line):
    h = match_header(line)
    assert h is None or h.kind != "gpu_fault", (line, h)


NVRM = [
    # (line, header kind, Xid number or None)
    ("NVRM: Xid (PCI:0000:3b:00 GPU-I:01 GPU-CI:00): 31, pid=1234, name=python3, Ch 00000008", "nvrm_xid", 31),
    ("NVRM: Xid (0000:01:00): 16, Head 00000000 Count 00000000", "nvrm_xid", 16),
    ("NVRM: Xid (PCI:0000:01:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.", "nvrm_xid", 79),
    ("NVRM: GPU at PCI:0000:01:00: GPU has fallen off the bus.", "nvrm_xid", 79),
    ("NVRM: _issueRpcAndWait: rpcRecvPoll timedout for fn 76!", "nvrm_xid", 119),
    ("NVRM: GPU 0000:01:00.0: RmInitAdapter failed! (0x62:0xffff:1863)", "gpu_fault", None),
    ("NVRM: RmInitAdapter failed! (0x27:0x38:1193)", "gpu_fault", None),
    ("NVRM: rm_init_adapter(0) failed", "gpu_fault", None),
    ("NVRM: A GPU crash dump has been created. If possible, please run", "gpu_fault", None),
    ("NVRM: Xid (PCI:0000:02:00): 154, GPU recovery action changed from 0x0 (None) to 0x2 (Node Reboot Required)",
     "nvrm_xid", 154),
    ("NVRM: GPU0 nvAssertOkFailedNoLog: Assertion failed: GPU lost from the bus [NV_ERR_GPU_IS_LOST] (0x0000000F) "
     "returned from status @ kernel_gsp.c:123", "nvrm_xid", 79),
    ("NVRM: nvGpuOpsReportFatalError: uvm encountered global fatal error 0x60, requiring os reboot to recover.",
     "gpu_fault", None),
]


NVRM.append(("NVRM: Xid (PCI:0000:01:00):", "nvrm_xid", None))      # the number wrapped onto the next line


@pytest.mark.parametrize("line,kind,xid", NVRM, ids=[n[0][:48] for n in NVRM])
def test_nvrm_reports(line, kind, xid):
    h = match_header(line)
    assert h is not None and h.kind == kind and h.fields["module"] == "nvidia", line
    assert h.fields.get("xid") == xid


@pytest.mark.parametrize("line", [
    "NVRM: nvAssertFailedNoLog: Assertion failed: 0 @ gpu_mgr.c:296",
    "NVRM: os_schedule: Attempted to yield the CPU while in atomic or interrupt context",
    "NVRM: loading NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023",
    "NVRM: GPU at PCI:0000:01:00: GPU-9fe1319c-8dd3-44e4-2b74-de93f8b02c6a",
    "nvidia-modeset: ERROR: GPU:0: Idling display engine timed out: 0x0000c67d:0:0:1128",
])
def test_nvrm_chatter_is_not_a_fault(line):
    assert match_header(line) is None


def test_nouveau_prints_the_gsp_firmwares_xid():
    # nvkm r535.c r535_gsp_msg_os_error_log: nvkm_error(&gsp->subdev, "Xid:%d %s\n", ...);
    # posted 2228: three "gsp: Xid:56 CMDre ..." lines, an NVIDIA Xid reported through nouveau
    h = match_header("nouveau 0000:c1:00.0: gsp: Xid:56 CMDre 00000000 00000218 00102680 00000004 00800003")
    assert h is not None and (h.kind, h.fields["xid"], h.fields["module"]) == ("nvrm_xid", 56, "nouveau")
    from triage.analysis import analyze_lines
    v = analyze_lines(["[ 10.000000] nouveau 0000:01:00.0: gsp: Xid:13 Graphics Exception: ESR 0x404490=0x80000002"]).verdict
    assert (v.category, v.culprit.module) == ("gpu_xid", "nouveau")
    # other gsp lines are not Xids
    for line in ("nouveau 0000:01:00.0: gsp: Xid: none pending", "nouveau 0000:01:00.0: gsp: cmdq: timeout"):
        h = match_header(line)
        assert h is None or h.kind != "nvrm_xid", line
