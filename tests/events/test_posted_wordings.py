"""Wordings found in real posted logs (tests/data/posted, tuning half) that the
reader used to miss. Each case quotes lines of a posted log; the oracle is the
kernel's own format string named in the comment."""

from triage.classify import classify, load_rules
from triage.classify.guilty import candidates
from triage.events import parse_log
from triage.events.headers import match_header
from triage.events.prefix import strip_prefix

from _posted import posted_lines as _posted


def _top(lines):
    log = parse_log(lines)
    return log, classify(log, load_rules())[0]


def _culprit(prefix):
    """(category, culprit module) of the top finding of posted log `prefix`."""
    top = _top(_posted(prefix))[1]
    return top.category, top.culprit.module


def test_syslog_stamp_without_host_is_stripped():
    # 115: "Feb  2 08:03:20 kernel: [37937.168911] ..." (syslogd not logging the host)
    msg, ts, _caller, host, _plen = strip_prefix(
        "Feb  2 08:03:20 kernel: [37937.168911] [drm:amdgpu_job_timedout [amdgpu]] *ERROR* ring gfx_0.0.0 timeout")
    assert msg.startswith("[drm:amdgpu_job_timedout") and ts == 37937.168911 and host is None
    # a host is still taken when there is one
    assert strip_prefix("Jan  3 22:06:01 gpu-node-17 kernel: Mem-Info:")[3] == "gpu-node-17"


def test_amdgpu_ring_timeout_in_hostless_syslog():
    log, top = _top(_posted("115"))
    assert top.category == "gpu_fault" and top.culprit.module == "amdgpu"


def test_killed_process_with_uid_after_comm():
    # 175: "Killed process 799153 (node), UID 1000, total-vm:606096kB, ..."
    h = match_header("Killed process 799153 (node), UID 1000, total-vm:606096kB, anon-rss:68308kB, "
                     "file-rss:13648kB, shmem-rss:0kB")
    assert h is not None and h.kind == "oom_kill" and h.fields["victim_comm"] == "node"
    assert _top(_posted("175"))[1].category == "oom_kill"


def test_alloc_failure_2_6_wording():
    # mm/page_alloc.c 2.6.x: "%s: page allocation failure. order:%d, mode:0x%x" (189)
    h = match_header("swapper: page allocation failure. order:3, mode:0x4020")
    assert h is not None and h.kind == "alloc_failure" and h.fields["order"] == 3
    assert _culprit("189") == ("alloc_failure", "wl")


def test_task_table_rows_alone_are_an_oom_report():
    # 202: dump_tasks() rows without the header line
    log, top = _top(_posted("202"))
    assert log.events[0].kind == "oom_invoked" and top.category == "oom_kill"


def test_user_register_dump_then_memcg_lines_are_an_oom_report():
    # 209: the allocating task's user registers ("RIP: 0033:"), then
    # mm/memcontrol.c's "memory: usage %llukB, limit %llukB, failcnt %lu"
    log, top = _top(_posted("209"))
    assert top.category == "oom_kill"
    assert all(ev.kind != "oops_other" for ev in log.events)


def test_kernel_rip_still_starts_a_headerless_oops():
    lines = ["RIP: 0010:nv_gpu_init_channel+0x2a/0x60 [nvidia]",
             "Code: 48 8b 47 08 <48> 8b 00 c3",
             "Call Trace:",
             " nv_trigger_write+0x1c/0x40 [nvidia]"]
    log = parse_log(lines)
    assert log.events and log.events[0].fields.get("header_missing")


def test_all_questionable_trace_falls_back_to_module_frames():
    # 020: every frame printed with '?' (4.12 unwinder); the allocation came from i915
    log, top = _top(_posted("020"))
    assert top.category == "alloc_failure" and top.culprit.module == "i915"
    names = [f.function for f in candidates(log.events[0], "trace")]
    assert names and all(f.module for f in candidates(log.events[0], "trace"))
    assert "hrtimer_forward" not in names    # a questionable core frame is not a caller


def test_bare_syslog_tag_is_stripped():
    # 017: journal lines whose date and host columns the poster cut
    assert strip_prefix("kernel: systemd invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0")[0] \
        .startswith("systemd invoked oom-killer")
    assert strip_prefix("kernel:  dump_stack_lvl+0x5d/0x80")[0] == " dump_stack_lvl+0x5d/0x80"
    assert strip_prefix("kernelx: foo")[0] == "kernelx: foo"


def test_time_only_stamp_without_host_is_stripped():
    msg = strip_prefix("22:39:31 kernel: i915 0000:00:02.0: [drm] GPU HANG: ecode 12:1:0020fffe, in Xorg [1676]")[0]
    assert msg.startswith("i915 0000:00:02.0: ")


def test_nouveau_dma_pusher_is_a_fifo_fault():
    # nvkm/engine/fifo: "DMA_PUSHER - ch %d [%s] get ... (err: %s) push ..."
    h = match_header("nouveau 0000:01:00.0: fifo: DMA_PUSHER - ch 4 [sddm-greeter[429]] get 0000216000 put "
                     "0000216088 ib_get 00000007 ib_put 00000008 state 80000024 (err: INVALID_CMD) push 00406040")
    assert h is not None and h.kind == "gpu_fault" and h.fields["module"] == "nouveau"


def test_nouveau_gr_engine_errors_are_gpu_faults():
    # nvkm/engine/gr/gf100.c and nv50.c format strings
    for line in ("nouveau 0000:01:00.0: gr: DATA_ERROR 00000012 [RT_LINEAR_WITH_ZETA]",
                 "nouveau 0000:01:00.0: gr: DATA_ERROR 0000000d [BEGIN_END_ACTIVE] ch 3 [003fa2a000 X[462]] "
                 "subc 3 class 8297 mthd 15e0 data 00000000",
                 "nouveau 0000:01:00.0: gr: ILLEGAL_MTHD ch 2 [007fb48000 Xorg[977]] subc 0 class a097 mthd 0104 "
                 "data 00000000",
                 "nouveau 0000:01:00.0: gr: ILLEGAL_CLASS ch 2 [007fb48000 Xorg[977]] subc 0 class a097 mthd 0000 "
                 "data 00000000"):
        h = match_header(line)
        assert h is not None and h.kind == "gpu_fault" and h.fields["module"] == "nouveau", line
    # the engine's set-up chatter is not an error report
    for line in ("nouveau 0000:01:00.0: gr: firmware unavailable",
                 "nouveau 0000:01:00.0: gr: using external firmware",
                 "nouveau 0000:01:00.0: gr: 00100000 [] ch 3 [003fa2a000 X[462]] subc 3 class 8297 mthd 15e0 data 0"):
        assert match_header(line) is None, line


def test_near_null_paging_request_is_a_null_dereference():
    # an address below vm.mmap_min_addr (65536) is NULL plus a member offset
    h = match_header("BUG: unable to handle page fault for address: 0000000000001a81")
    assert h.kind == "null_deref" and h.fields["address"] == 0x1a81
    h = match_header("BUG: unable to handle kernel paging request at 0000000000010000")
    assert h.kind == "paging_fault"
    h = match_header("BUG: unable to handle kernel paging request at ffffc90019ecd000")
    assert h.kind == "paging_fault"


def test_amdgpu_vm_fault_status_line_alone_is_a_gpu_page_fault():
    # gfxhub_v2+: "GCVM_L2_PROTECTION_FAULT_STATUS:0x%08X", gmc_v9: "VM_L2_PROTECTION_FAULT_STATUS:0x%08X"
    for line in ("amdgpu 0000:2b:00.0: amdgpu: GCVM_L2_PROTECTION_FAULT_STATUS:0x00701031",
                 "amdgpu 0000:c6:00.0: amdgpu: VM_L2_PROTECTION_FAULT_STATUS:0x00301031"):
        h = match_header(line)
        assert h is not None and h.kind == "gpu_fault" and h.fields["module"] == "amdgpu"


def test_arm32_alloc_failure_blames_the_first_frame_outside_the_allocator():
    # 186: unwind_backtrace (arm32's dump_stack bottom) <- warn_alloc_failed <- __alloc_pages_nodemask
    # <- __netdev_alloc_frag <- __netdev_alloc_skb <- rx_submit: the request came from rx_submit
    top = _top(_posted("186"))[1]
    assert top.category == "alloc_failure" and top.culprit.function == "rx_submit"


def test_arm32_unwinder_lines_without_blanks_before_the_parentheses():
    # 2328 (vendor 4.1 on a Vybrid): "[<8008e6c8>](__alloc_pages_nodemask) from [<7f0aef7c>]
    # (mt7601u_rx_tasklet+0x114/0x46c [mt7601u])" with no blank before "(": the order-3 RX
    # allocation of the USB Wi-Fi driver
    top = _top(_posted("2328"))[1]
    assert (top.category, top.culprit.module) == ("alloc_failure", "mt7601u")
    from triage.events.frames import arm32_caller, parse_trace_line
    f = parse_trace_line("[<80012c5c>](show_stack) from [<80584a6c>](dump_stack+0x24/0x28)")
    assert f is not None and f.function == "show_stack"
    c = arm32_caller("[<8008e6c8>](__alloc_pages_nodemask) from [<7f0aef7c>](mt7601u_rx_tasklet+0x114/0x46c [mt7601u])")
    assert c is not None and (c.function, c.module) == ("mt7601u_rx_tasklet", "mt7601u")
    # a bracketed address and a parenthesis in prose are not a frame
    assert parse_trace_line("[<80012c5c>](see above) from the log") is None


def test_powerpc_watchdog_hard_lockup():
    # arch/powerpc/kernel/watchdog.c: "Watchdog CPU:%d Hard LOCKUP" (105, POWER9)
    h = match_header("Watchdog CPU:59 Hard LOCKUP")
    assert h is not None and h.kind == "hard_lockup" and h.fields["cpu"] == 59
    assert _top(_posted("105"))[1].category == "hard_lockup"


def test_user_cs_is_told_by_its_privilege_level():
    from triage.events.parser import _user_cs
    assert _user_cs("RIP: 0033:0x7fdc36338205") and _user_cs("RIP: 0023:0xf7f1c549")
    assert not _user_cs("RIP: 0010:exit_thread+0x12/0xc0")
    assert not _user_cs("RIP: e030:xen_hypercall_xen_version+0xa/0x20")    # Xen PV kernel CS
    assert not _user_cs("RIP: 0010:[<ffffffff8003ab2c>]  [<ffffffff8003ab2c>] foo+0x1c/0x40")


def test_victim_line_sizes_with_digit_group_separators():
    # 287: "Out of memory: Killed process 7899 (python) total-vm:26,184,840kB, anon-rss:153,700,88kB, ..."
    # mm/oom_kill.c prints the sizes as bare %lu; separators come from whoever displayed the line
    h = match_header("Out of memory: Killed process 7899 (python) total-vm:26,184,840kB, "
                     "anon-rss:153,700,88kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:38964kB oom_score_adj:0")
    assert h is not None and h.kind == "oom_kill"
    assert h.fields["victim_pid"] == 7899 and h.fields["total_vm_kb"] == 26184840
    assert h.fields["anon_rss_kb"] == 15370088
    # the posted log, dmesg -T with markdown fences glued to it, is an OOM kill
    _log, top = _top(_posted("287"))
    assert top.category == "oom_kill"


def test_victim_line_still_needs_numeric_sizes():
    # separators are tolerated, words are not: this is not the kernel's victim line
    assert match_header("Killed process 12 (sh) total-vm:lots kB, anon-rss:some kB, file-rss:0kB") is None
    h = match_header("Out of memory: Killed process 5 (a) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB")
    assert h.fields["total_vm_kb"] == 1 and h.fields["shmem_rss_kb"] == 4


def test_kms_helper_functions_and_files_name_drm_kms_helper():
    # 281: "WARNING: ... at drivers/gpu/drm/drm_atomic_helper.c:1612 drm_atomic_helper_commit_hw_done+0x89/0x90"
    # with no [module] tag: the KMS helper library is the drm_kms_helper module (drivers/gpu/drm/Makefile)
    rules = load_rules()
    assert rules.builtin_gpu_driver("drm_atomic_helper_commit_hw_done") == "drm_kms_helper"
    assert rules.builtin_gpu_driver("__drm_atomic_helper_crtc_duplicate_state") == "drm_kms_helper"
    assert rules.builtin_gpu_driver("drm_helper_probe_single_connector_modes") == "drm_kms_helper"
    assert rules.gpu_driver_by_source("drivers/gpu/drm/drm_atomic_helper.c") == "drm_kms_helper"
    _log, top = _top(_posted("281"))
    assert top.category == "warning" and top.culprit.module == "drm_kms_helper"


def test_builtin_nouveau_is_named_by_its_chip_codename_prefixes():
    # nvkm's functions carry the codename of the chip whose file holds them
    # (drivers/gpu/drm/nouveau/nvkm/subdev/pmu/gm20b.c: gm20b_pmu_init)
    rules = load_rules()
    for fn in ("gm20b_pmu_init", "g84_gr_tlb_flush", "mcp77_fb_new", "gk20a_gr_new", "r535_gsp_msgq_wait",
               "nv41_vmm_flush", "nv50_disp_atomic_commit_tail", "gt215_pmu_init", "ad102_gsp_new"):
        assert rules.builtin_gpu_driver(fn) == "nouveau", fn
    # forcedeth's nv_ functions, an MCP CAN driver and other codename-like words are not nouveau
    for fn in ("nv_napi_poll", "nv_do_interrupt", "mcp251x_open", "gpio_request", "gfs2_glock_put", "g_serial_init"):
        assert rules.builtin_gpu_driver(fn) is None, fn


def test_drm_core_and_ambiguous_helpers_stay_drm():
    # the DRM core's own functions and files are drm; drm_dp_* moved between modules (5.19),
    # so its name alone does not say drm_kms_helper
    rules = load_rules()
    assert rules.builtin_gpu_driver("drm_gem_object_free") == "drm"
    assert rules.builtin_gpu_driver("drm_atomic_commit") == "drm"
    assert rules.builtin_gpu_driver("drm_dp_dpcd_read") == "drm"
    # the DRM core's files are drm.ko's ([gpu_source_dirs] drm, p7): a file names its module
    assert rules.gpu_driver_by_source("drivers/gpu/drm/drm_atomic.c") == "drm"
    assert rules.builtin_gpu_driver("drm_atomic_helperish") == "drm"


_OOPS_TAIL = [
    "[    3.173595] Modules linked in: amdgpu(+) ttm",
    "[    3.173609] CR2: 0000000000000000",
    "[    3.173615] ---[ end trace 06b7945e94c2b724 ]---",
    "[    3.423597] RIP: 0010:enable_disp_power_gating_v2_1+0x48/0x150 [amdgpu]",
    "[    3.423631] RSP: 0018:ffffbc5f405d7810 EFLAGS: 00010246",
    "[    3.423694] CR2: 0000000000000000 CR3: 0000000213a88000 CR4: 00000000003406e0",
]
_ATOMIC_SLEEP = "[    3.423704] BUG: sleeping function called from invalid context at ./include/linux/percpu-rwsem.h:38"


def test_page_fault_summary_and_its_after_effect():
    # 198: the excerpt starts in an oops' tail: the lone "CR2: %016lx" page-fault summary
    # (arch/x86/mm/fault.c), the end marker, the registers printed again, then the
    # sleeping-in-atomic BUG of the oopsing task's exit: the oops is the crash
    _log, top = _top(_OOPS_TAIL + [_ATOMIC_SLEEP])
    assert top.category == "gpu_null_deref" and top.culprit.module == "amdgpu"
    _log, top = _top(_posted("198"))
    assert top.category == "gpu_null_deref" and top.culprit.module == "amdgpu"


def test_register_dump_without_summary_stays_a_leftover():
    # no lone CR2 line: nothing says the tail was a page-fault oops, so the report with
    # its own header is the crash (the tail of an earlier report the log was cut from)
    tail = [ln for ln in _OOPS_TAIL if not ln.endswith("CR2: 0000000000000000")]
    _log, top = _top(tail + [_ATOMIC_SLEEP])
    assert top.category == "kernel_bug"
    # a sleeping-in-atomic BUG long after the oops is a report of its own
    later = _OOPS_TAIL + ["[    9.0] usb 1-1: new high-speed USB device"] * 5 + [_ATOMIC_SLEEP]
    _log, top = _top(later)
    assert top.category == "kernel_bug"


def test_amdgpu_driver_tag_after_device_prefix():
    # amdgpu.h dev_fmt "amdgpu: " (5.x on) repeats the driver after the device (434, 435):
    # "amdgpu 0000:c5:00.0: amdgpu: GPU reset begin!. Source:  3"
    h = match_header("amdgpu 0000:c5:00.0: amdgpu: GPU reset begin!. Source:  3")
    assert h is not None and h.kind == "gpu_fault" and h.fields["module"] == "amdgpu"
    h = match_header("amdgpu 0000:28:00.0: amdgpu: [drm] ring gfx_0.0.0 timeout, signaled seq=1, emitted seq=3")
    assert h is not None and h.kind == "gpu_fault"
    # the tags are dropped, not the message: chatter after them stays chatter
    for line in ("amdgpu 0000:c5:00.0: amdgpu: [drm] VRAM is lost due to GPU reset!",
                 "amdgpu 0000:c5:00.0: amdgpu: SMU is resumed successfully!",
                 "amdgpu 0000:c5:00.0: amdgpu: [drm] AMDGPU device coredump file has been created"):
        assert match_header(line) is None, line
    for n in ("434", "435"):
        assert _culprit(n) == ("gpu_fault", "amdgpu"), n


def test_gpu_recovery_completion_is_a_gpu_reset():
    # amdgpu_device_gpu_recover() "GPU reset(%d) succeeded!" (432), amdgpu_do_asic_reset() and
    # radeon_gpu_reset() "GPU reset succeeded, trying to resume": printed only by a recovery
    for line in ("amdgpu 0000:c3:00.0: amdgpu: GPU reset(5) succeeded!",
                 "amdgpu 0000:05:00.0: amdgpu: GPU reset succeeded, trying to resume",
                 "radeon 0000:01:00.0: GPU reset succeeded, trying to resume"):
        h = match_header(line)
        assert h is not None and h.kind == "gpu_fault" and h.headline.endswith("GPU reset"), line
    # the same words from a device that is not a GPU driver's are not a GPU fault
    assert match_header("nvme 0000:01:00.0: GPU reset succeeded, trying to resume") is None
    assert _culprit("432") == ("gpu_fault", "amdgpu")


def test_new_warning_wording_with_module_tag():
    # 6.16+ __warn(): "WARNING: %s:%d at %pS, CPU#%d: %s/%d"; %pS of module code carries
    # " [mod]" before the comma (418)
    h = match_header("WARNING: drivers/gpu/drm/amd/amdgpu/amdgpu_dma_buf.c:219 at "
                     "amdgpu_dma_buf_map+0x18f/0x220 [amdgpu], CPU#0: kwin_wayla:cs0/3455")
    assert h is not None and h.kind == "warning" and h.fields["src_line"] == 219
    assert h.ip.function == "amdgpu_dma_buf_map" and h.ip.module == "amdgpu"
    # core code keeps no tag, and the tag never swallows the CPU field
    h = match_header("WARNING: fs/dcache.c:829 at fast_dput+0x334/0x430, CPU#0: syz.0.17/6007")
    assert h.kind == "warning" and h.ip.module is None and h.fields["cpu"] == 0
    assert _culprit("418") == ("warning", "amdgpu")


def test_facility_column_before_kernel_tag_after_a_stamp():
    # 407: "[Feb 09 10:20:44] kern kernel: msm 5100000.mdp: ..." (a bracketed date, the
    # syslog facility, the tag); also with a level and with the tag alone
    assert strip_prefix("[Feb 09 10:20:44] kern kernel: msm 5100000.mdp: x")[0] == "msm 5100000.mdp: x"
    assert strip_prefix("[Feb 09 10:20:44] kern.warn kernel: [    1.5] x")[:2] == ("x", 1.5)
    assert strip_prefix("[Feb 09 10:20:44] kernel: x")[0] == "x"
    # a word that only starts like the tag, or a facility without the tag, is message text
    assert strip_prefix("[Feb 09 10:20:44] kernelx: x")[0] == "kernelx: x"
    assert strip_prefix("[Feb 09 10:20:44] kern x")[0] == "kern x"


def test_soc_gpu_driver_device_prefix_and_msm_hangcheck():
    # msm_gpu.c "%s: hangcheck detected gpu lockup rb %d!" / "%s: hangcheck recover!" after the
    # platform device's dev_printk prefix "msm 5100000.mdp: " (407)
    h = match_header("msm 5100000.mdp: [drm:hangcheck_handler] *ERROR* A320: hangcheck detected gpu lockup rb 0!")
    assert h is not None and h.kind == "gpu_fault" and h.fields["module"] == "msm"
    h = match_header("msm_dpu ae01000.display-controller: [drm:recover_worker] *ERROR* 67.5.10.1: hangcheck recover!")
    assert h is not None and h.fields["module"] == "msm"       # msm's sub-driver names its module
    # radeon_fence.c "GPU lockup (current fence id ...)"
    h = match_header("radeon 0000:01:00.0: GPU lockup (current fence id 0x00000000000002ce last fence id "
                     "0x00000000000002d1 on ring 0)")
    assert h is not None and h.kind == "gpu_fault" and h.fields["module"] == "radeon"
    # the same driver's chatter is not a fault; a non-GPU platform device is not a GPU driver
    for line in ("msm 5100000.mdp: [drm:adreno_recover] *ERROR* gpu hw init failed: -22",
                 "panfrost 13040000.gpu: clock rate = 511999970",
                 "dwc2 fe980000.usb: GPU lockup"):
        assert match_header(line) is None, line
    assert _culprit("407") == ("gpu_fault", "msm")


def test_radeon_soft_reset_is_a_gpu_reset():
    # r600/evergreen/si/cik_gpu_soft_reset() "GPU softreset: 0x%08X" (448)
    h = match_header("radeon 0000:01:00.0: GPU softreset: 0x00000049")
    assert h is not None and h.kind == "gpu_fault" and h.fields["module"] == "radeon"
    # the status dump that follows it is not a second fault
    assert match_header("radeon 0000:01:00.0:   GRBM_STATUS               = 0xE7DE0028") is None
    assert _culprit("448") == ("gpu_fault", "radeon")


def test_msm_adreno_fault_handler_line():
    # a6xx_fault_handler(): "*** gpu fault: ttbr0=%.16llx iova=%.16lx dir=%s type=%s source=%s ..."
    # with no device prefix (451, a retyped paste whose stamps lost their brackets)
    h = match_header("*** gpu fault: ttbr0=00000001e7d67000 iova=00000001033f0000 dir=READ type=TRANSLATION "
                     "source=CCU (0,0,0,1)")
    assert h is not None and h.kind == "gpu_fault" and h.fields["module"] == "msm"
    assert match_header("gpu fault: something") is None
    assert _culprit("451") == ("gpu_fault", "msm")


def test_mali_kbase_device_prefix_and_job_slot_fault():
    # ARM's Mali kbase: platform driver "mali", module mali_kbase; "t6xx: GPU fault 0x%x from job slot %d" (453)
    h = match_header("mali ffe40000.gpu_mali_vulkan: t6xx: GPU fault 0x4002 from job slot 0")
    assert h is not None and h.kind == "gpu_fault" and h.fields["module"] == "mali_kbase"
    for line in ("mali ffe40000.gpu_mali_vulkan:   SHADER_CONFIG=0x00020000   L2_MMU_CONFIG=0x00000000",
                 "mali ffe40000.gpu_mali_vulkan: Reset complete"):
        assert match_header(line) is None, line
    assert _culprit("453") == ("gpu_fault", "mali_kbase")


def test_xe_job_timeout_after_gt_tags_and_bare_iso_stamp():
    # xe_guc_submit.c "Timedout job: ..." / "Engine reset: engine_class=..." after the
    # xe_gt_printk tags "Tile0: GT0: " (455); the poster's ISO stamps have no fraction or zone
    assert strip_prefix("2026-09-13T22:23:00 xe 0000:3d:00.0: [drm] x")[0] == "xe 0000:3d:00.0: [drm] x"
    assert strip_prefix("2024-01-03T22:06:01,123456+00:00 x")[0] == "x"
    for line in ("xe 0000:3d:00.0: [drm] Tile0: GT0: Timedout job: seqno=1523, lrc_seqno=1523, guc_id=9, flags=0x20 in python [2693]",
                 "xe 0000:0b:00.0: [drm] Tile0: GT0: Engine reset: engine_class=ccs, logical_mask: 0x1, guc_id=2, state=0x3"):
        h = match_header(line)
        assert h is not None and h.kind == "gpu_fault" and h.fields["module"] == "xe", line
    # the same tags before chatter stay chatter
    assert match_header("xe 0000:03:00.0: [drm] Tile0: GT0: Using GuC firmware from xe/bmg_guc_70.bin") is None
    assert _culprit("455") == ("gpu_fault", "xe")


def test_openwrt_logread_prefix():
    # busybox/OpenWrt logread: "Fri Aug 28 08:33:06 2020 kern.warn kernel: [293371.377895] ..." (466)
    msg, ts, _c, host, _p = strip_prefix("Fri Aug 28 08:33:06 2020 kern.warn kernel: [293371.377895] WARNING: x")
    assert msg == "WARNING: x" and ts == 293371.377895 and host is None
    # a daemon's line in the same log keeps its text (only the kernel tag is a kernel line's prefix)
    assert strip_prefix("Fri Aug 28 08:33:06 2020 daemon.info hostapd: wlan0: STA")[0].startswith("Fri Aug 28")
    assert _culprit("466") == ("warning", "cfg80211")


def test_warning_without_file_and_line():
    # kernel/panic.c __warn() with CONFIG_DEBUG_BUGVERBOSE off: "WARNING: CPU: %d PID: %d at %pS" (466)
    h = match_header("WARNING: CPU: 3 PID: 4356 at cfg80211_probe_status+0x54c/0x750 [cfg80211]")
    assert h is not None and h.kind == "warning" and h.ip.function == "cfg80211_probe_status"
    assert h.ip.module == "cfg80211" and h.fields["pid"] == 4356
    # the usual wording with a file still takes the file
    h = match_header("WARNING: CPU: 1 PID: 35 at drivers/gpu/drm/i915/intel_pm.c:3603 skl_update_other_pipe_wm+0x1ba/0x1c0 [i915]()")
    assert h.fields.get("file") == "drivers/gpu/drm/i915/intel_pm.c"


def test_slub_unable_to_allocate_is_an_allocation_failure():
    # 515 (tuning): mm/slub.c slab_out_of_memory() "SLUB: Unable to allocate memory on node %d (gfp=0x%x)"
    # after a show_mem tail whose page-allocation-failure header is cut off
    log, top = _top(_posted("515"))
    assert top is not None and top.category == "alloc_failure"
    hdr = match_header("SLUB: Unable to allocate memory on node -1, gfp=0x900(GFP_NOWAIT|__GFP_ZERO)")
    assert hdr is not None and hdr.kind == "alloc_failure"
    assert hdr.fields["node"] == -1 and hdr.fields["gfp_mask"] == "0x900"
    hdr = match_header("SLAB: Unable to allocate memory on node 0 (gfp=0x20)")
    assert hdr is not None and hdr.kind == "alloc_failure" and hdr.fields["gfp_mask"] == "0x20"


def test_slub_lines_join_the_allocation_failure_report_before_them():
    # the slab lines come after the page allocator's own report: one report, whose
    # caller (a module's frame) still names the culprit; repeated slab lines add no report
    lines = ["[  1.000000] kworker/0:1: page allocation failure: order:3, mode:0x20",
             "[  1.000001] Call Trace:",
             "[  1.000002]  dump_stack+0x1/0x2",
             "[  1.000003]  warn_alloc+0x1/0x2",
             "[  1.000004]  __alloc_pages_nodemask+0x1/0x2",
             "[  1.000005]  new_slab+0x1/0x2",
             "[  1.000006]  rx_refill+0x1/0x2 [mynic]",
             "[  1.000007]  net_rx_action+0x1/0x2"]
    lines += ["[  1.1%05d] Node 0 DMA: 0*4kB 0*8kB = 0kB" % i for i in range(300)]
    lines += ["[  1.200000] SLUB: Unable to allocate memory on node -1 (gfp=0x20)",
              "[  1.200001]   cache: kmalloc-1024, object size: 1024, buffer size: 1024, default order: 3, min order: 0",
              "[  1.200002] SLUB: Unable to allocate memory on node -1 (gfp=0x20)"]
    log, top = _top(lines)
    assert [e.kind for e in log.events] == ["alloc_failure"]
    assert top.category == "alloc_failure" and top.culprit.module == "mynic"


def test_slub_debug_reports_are_not_allocation_failures():
    # SLUB's debugging reports and other words about allocation stay what they are
    for text in ("SLUB kmalloc-64: Poison overwritten", "=============================================",
                 "SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=8, Nodes=1",
                 "mlx5_core 0000:01:00.0: Unable to allocate memory for the command interface"):
        hdr = match_header(text)
        assert hdr is None or hdr.kind != "alloc_failure", text


def test_old_arm32_trace_cut_after_a_line_keeps_its_caller():
    # 544 (tuning): the old arm32 unwinder prints "[<a>] (callee+..) from [<b>] (caller+.. [mod])";
    # the excerpt ends on such a line, so its caller (the driver that asked) is the last frame
    log, top = _top(_posted("544"))
    assert top.category == "alloc_failure" and top.culprit.module == "mt7601Usta"
    # a complete trace does not get the caller twice
    lines = ["[  1.0] x: page allocation failure: order:5, mode:0x20",
             "[  1.1] [<c1>] (warn_alloc_failed+0x0/0x1) from [<c2>] (__alloc_pages_nodemask+0x1/0x2)",
             "[  1.2] [<c2>] (__alloc_pages_nodemask+0x1/0x2) from [<bf>] (drv_alloc+0x1/0x2 [drv])",
             "[  1.3] [<bf>] (drv_alloc+0x1/0x2 [drv]) from [<c3>] (ret_fast_syscall+0x0/0x30)",
             "[  1.4] Mem-info:"]
    log, top = _top(lines)
    names = [f.function for f in log.events[0].frames]
    assert names == ["warn_alloc_failed", "__alloc_pages_nodemask", "drv_alloc", "ret_fast_syscall"]
    assert top.culprit.module == "drv"


def test_rhel5_colon_module_frames_and_stale_words_between_allocators():
    # 508 (tuning): 2.6.18 x86_64 printk_address() wrote module symbols ":module:func+0x/0x",
    # and printed every text address on the stack without '?': may_open between two
    # allocator frames is a stale word, not the caller that asked
    log, top = _top(_posted("508"))
    assert top.category == "alloc_failure" and top.culprit.module == "ip_conntrack"
    assert top.culprit.function == "alloc_hashtable"
    from triage.events.frames import parse_trace_line
    fr = parse_trace_line("  [<ffffffff884a9aa0>] :ip_conntrack:alloc_hashtable+0x33/0x7a")
    assert fr.function == "alloc_hashtable" and fr.module == "ip_conntrack" and fr.offset == 0x33
    assert parse_trace_line("Name: foo: bar+0x1/0x2") is None


def test_a_lone_frame_after_the_allocators_is_still_the_caller():
    # stale_between passes over a frame only when allocator frames sit on both sides
    head = ["[  1.0] x: page allocation failure: order:4, mode:0xd0",
            "[  1.1] Call Trace:",
            "[  1.2]  warn_alloc+0x1/0x2",
            "[  1.3]  __alloc_pages_nodemask+0x1/0x2",
            "[  1.4]  kmalloc_order+0x1/0x2",
            "[  1.5]  drv_probe+0x1/0x2 [drv]"]
    # called by an allocator and calling one: part of the allocator, not the caller that asked
    log, top = _top(head + ["[  1.6]  __get_free_pages+0x1/0x2", "[  1.7]  other_init+0x1/0x2 [other]"])
    assert top.culprit.function == "other_init" and top.culprit.module == "other"
    log, top = _top(head + ["[  1.6]  pci_device_probe+0x1/0x2"])
    assert top.culprit.function == "drv_probe" and top.culprit.module == "drv"
    # a helper that calls back into drivers (usb_hcd_submit_urb, device_for_each_child) is
    # skipped as a culprit but does not make the driver between it and the allocator stale
    for helper in ("usb_hcd_submit_urb", "device_for_each_child", "__kmalloc"):
        log, top = _top(head + [f"[  1.6]  {helper}+0x1/0x2", "[  1.7]  other_init+0x1/0x2 [other]"])
        assert top.culprit.function == "drv_probe" and top.culprit.module == "drv", helper


def test_bare_stack_below_warn_alloc_is_an_allocation_failure():
    # 511 (tuning): an arm32 excerpt cut right below warn_alloc: its first frame is
    # __vmalloc_node_range, the function that calls warn_alloc(); no pc, no fault decode
    log, top = _top(_posted("511"))
    assert log.events[0].kind == "vmalloc_failure" and top.category == "alloc_failure"
    assert top.culprit.module is None
    stack = ["[  5.1]  __alloc_pages_slowpath.constprop.0+0x1/0x2",
             "[  5.2]  __alloc_pages+0x1/0x2",
             "[  5.3]  drv_rx_refill+0x1/0x2 [drv]",
             "[  5.4]  drv_poll+0x1/0x2 [drv]"]
    log, top = _top(stack)
    assert log.events[0].kind == "alloc_failure" and top.culprit.module == "drv"


def test_bare_stack_through_the_allocator_is_not_an_allocation_failure():
    # the allocator deeper in the stack (a task blocked in reclaim), or a faulting
    # location in it (an oops inside the allocator), is not warn_alloc()'s backtrace
    deeper = ["[  5.0]  __schedule+0x1/0x2",
              "[  5.1]  schedule+0x1/0x2",
              "[  5.2]  __alloc_pages_slowpath.constprop.0+0x1/0x2",
              "[  5.3]  __alloc_pages+0x1/0x2",
              "[  5.4]  drv_rx_refill+0x1/0x2 [drv]"]
    assert parse_log(deeper).events[0].kind != "alloc_failure"
    oops = ["[  5.0] RIP: 0010:__alloc_pages_slowpath.constprop.0+0x40/0x900",
            "[  5.1] Call Trace:",
            "[  5.2]  __alloc_pages_slowpath.constprop.0+0x40/0x900",
            "[  5.3]  __alloc_pages+0x1/0x2",
            "[  5.4]  drv_rx_refill+0x1/0x2 [drv]"]
    assert parse_log(oops).events[0].kind not in ("alloc_failure", "vmalloc_failure")


def _kasan_then_oops(fault_addr):
    return ["[  9.000000] ==================================================================",
            "[  9.000001] BUG: KASAN: slab-out-of-bounds in drv_rx+0x40/0x90 [drv]",
            "[  9.000002] Write of size 8 at addr ffff888012345678 by task kworker/0:1/12",
            "[  9.000003] Call Trace:",
            "[  9.000004]  kasan_report+0x1/0x2",
            "[  9.000005]  drv_rx+0x40/0x90 [drv]",
            "[  9.000006]  process_one_work+0x1/0x2",
            "[  9.000007] The buggy address belongs to the object at ffff888012345600",
            "[  9.000008] Memory state around the buggy address:",
            "[  9.000009]  ffff888012345500: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
            "[  9.000010]  ffff888012345580: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
            "[  9.000011] >ffff888012345600: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 fc",
            "[  9.000012]                                                                 ^",
            "[  9.000013]  ffff888012345680: fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc",
            "[  9.000014] ==================================================================",
            f"[  9.000100] BUG: unable to handle page fault for address: {fault_addr}",
            "[  9.000101] #PF: supervisor write access in kernel mode",
            "[  9.000102] Oops: 0002 [#1] PREEMPT SMP KASAN NOPTI",
            "[  9.000103] RIP: 0010:other_fn+0x10/0x20 [other]",
            "[  9.000104] Call Trace:",
            "[  9.000105]  other_caller+0x1/0x2 [other]",
            "[  9.000200] Kernel panic - not syncing: Fatal exception"]


def test_an_oops_at_the_address_kasan_just_reported_is_that_access():
    # 364 (tuning): 'BUG: KASAN: vmalloc-out-of-bounds ... Write of size 1 at addr
    # ffff8000db950000', then 'Unable to handle kernel paging request at virtual address
    # ffff8000db950000' and the panic: KASAN let the access go on, and it faulted
    log, top = _top(_posted("364"))
    assert top.category == "kasan" and top.culprit.module == "spi_tegra210_quad"
    log, top = _top(_kasan_then_oops("ffff888012345678"))
    assert top.category == "kasan" and top.culprit.module == "drv"
    log, top = _top(_kasan_then_oops("ffff88801234567c"))      # inside the 8-byte access
    assert top.category == "kasan"


def test_an_oops_elsewhere_after_a_kasan_report_stays_the_cause():
    # a fault at another address is another bug; the fatal oops stays the verdict (the
    # report is more than a burst's few lines before it)
    log, top = _top(_kasan_then_oops("ffff888012345680"))
    assert top.category == "paging_fault" and top.culprit.module == "other"
    log, top = _top(_kasan_then_oops("ffffc90000a3f000"))
    assert top.category == "paging_fault" and top.culprit.module == "other"


def test_lockdep_site_wrapped_after_at_names_the_driver():
    # 357 (tuning): the mail client cut "(&cli->mutex){+.+.}-{3:3}, at:" from its site
    # "nouveau_bo_move+0x4bf/0x2ec0 [nouveau]", and faddr2line output follows
    log, top = _top(_posted("357"))
    assert top.category == "lockdep" and top.culprit.module == "nouveau"
    assert top.culprit.function == "nouveau_bo_move"


def test_nvgpu_log_format_fault_reports():
    # nvgpu (NVIDIA's Jetson GPU driver, out of tree) prints through os/linux/log.c
    # LOG_FMT "nvgpu: %s %33s:%-4d [%s]  %s": 714 (tuning) is its MMU-fault report
    # without timestamps, which the reader refused as 'not a kernel log'
    assert _culprit("714") == ("gpu_fault", "nvgpu")
    hdr = match_header("nvgpu: 17000000.gpu gv11b_mm_mmu_fault_handle_buf_valid_entry:532  [ERR]  "
                       "page fault error: err_type = 0x8, fault_status = 0x200")
    assert hdr is not None and hdr.kind == "gpu_fault" and hdr.fields["module"] == "nvgpu"
    # its other messages are not faults (OE4T/meta-tegra#1613: a failed comptag allocation at power-on)
    for text in ("nvgpu: 17000000.gpu               nvgpu_dma_print_err:101  [INFO]  DMA alloc FAILED: "
                 "[sysmem] size=257490944 aligned=257490944 flags:PHYSICALLY_ADDRESSED",
                 "nvgpu: 17000000.gpu            nvgpu_cbc_init_support:91   [ERR]  Failed to allocate comptags"):
        assert match_header(text) is None, text
    assert "nvgpu" in load_rules().lists["gpu_modules"]


def test_oom_summary_line_alone_is_the_kill_it_announces():
    # mm/oom_kill.c dump_oom_summary() (4.19+): "oom-kill:constraint=%s,nodemask=%*pbl,...,task=%s,pid=%d,uid=%d",
    # printed from oom_kill_process() for the chosen victim only; 829 is that line grepped out of dmesg
    log, top = _top(_posted("829"))
    assert [e.kind for e in log.events] == ["oom_kill"]
    assert top.category == "oom_kill" and log.events[0].fields["victim_comm"] == "java"
    assert log.events[0].fields["victim_pid"] == 7134 and log.events[0].fields["memcg"] is False
    memcg = parse_log(["[   11.000001] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
                       "oom_memcg=/a,task_memcg=/a,task=java,pid=77,uid=0"])
    assert memcg.events[0].fields["memcg"] is True
    assert classify(memcg, load_rules())[0].rule.id == "oom-kill-memcg"
    # followed by its victim line: one kill, not two
    both = parse_log(["[   11.000001] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
                      "oom_memcg=/a,task_memcg=/a,task=java,pid=77,uid=0",
                      "[   11.000002] Memory cgroup out of memory: Killed process 77 (java) total-vm:2676kB, "
                      "anon-rss:84kB, file-rss:1468kB, shmem-rss:4kB, UID:0 pgtables:40kB oom_score_adj:0"])
    assert [e.kind for e in both.events] == ["oom_kill"] and both.events[0].fields["anon_rss_kb"] == 84
    # inside a full report the summary stays a part of it (no second event)
    full = parse_log(["[   11.000000] java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
                      "[   11.000001] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
                      "global_oom,task_memcg=/,task=java,pid=77,uid=0"])
    assert [e.kind for e in full.events] == ["oom_invoked"]


def test_no_killable_processes_is_the_oom_killers_panic():
    # mm/oom_kill.c out_of_memory(): with no victim, 3.x panic("Out of memory and no killable
    # processes...") and, since 4.12, pr_warn() of the same words then panic("System is deadlocked
    # on memory") unless the OOM is a memory cgroup's or sysrq's. 811 quotes the warning alone.
    log, top = _top(_posted("811"))
    assert top.category == "oom_panic"
    two = parse_log(["[    4.923156] Out of memory and no killable processes...",
                     "[    4.923200] Kernel panic - not syncing: System is deadlocked on memory"])
    assert [e.kind for e in two.events] == ["panic"]
    assert classify(two, load_rules())[0].category == "oom_panic"
    alone = parse_log(["Kernel panic - not syncing: System is deadlocked on memory"])
    assert classify(alone, load_rules())[0].category == "oom_panic"
    # a memory cgroup's OOM with nothing to kill returns without a panic: not an oom_panic
    memcg = parse_log(["[ 1.0] a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
                       "[ 1.1] memory: usage 132kB, limit 132kB, failcnt 9",
                       "[ 1.2] Out of memory and no killable processes..."])
    assert [e.kind for e in memcg.events] == ["oom_invoked"]
    assert classify(memcg, load_rules())[0].category == "oom_kill"
    # other panics keep their own reason
    assert match_header("Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009").fields.get("oom") is None


def test_no_killable_processes_then_another_report_is_no_panic():
    # 017: the line ends one memory cgroup's OOM report and the next report follows: the
    # kernel lived on, so the warning was not followed by the panic (memcg OOM)
    log, top = _top(_posted("017"))
    assert top.category == "oom_kill"
    assert "panic" not in [e.kind for e in log.events]


def test_linux_2_4_oom_and_allocation_wordings():
    # 2.4 mm/page_alloc.c: "__alloc_pages: %u-order allocation failed (gfp=0x%x/%i)";
    # 2.2-2.6 arch/*/mm/fault.c out_of_memory: "VM: killing process %s". A log of only these
    # lines (a 2.4 router, posted log 819) was rejected as not a kernel log.
    h = match_header("__alloc_pages: 0-order allocation failed (gfp=0x1d2/0)")
    assert h is not None and h.kind == "alloc_failure" and h.fields == {"order": 0, "gfp_mask": "0x1d2"}
    h = match_header("VM: killing process gammu-smsd")
    assert h is not None and h.kind == "oom_kill" and h.fields["victim_comm"] == "gammu-smsd"
    log, top = _top(["__alloc_pages: 0-order allocation failed (gfp=0x1d2/0)",
                     "VM: killing process gammu-smsd",
                     "__alloc_pages: 0-order allocation failed (gfp=0xf0/0)"])
    assert top.category == "oom_kill"
    assert _top(["__alloc_pages: 3-order allocation failed (gfp=0x20/0)"])[1].category == "alloc_failure"
    # other "VM:" lines and a different function's failure are not these reports
    assert match_header("VM: terminating process foo") is None
    assert match_header("vmap: 0-order allocation failed") is None


def test_gsp_rpc_poll_stack_dump_is_the_xid_119_report():
    # 277 (tuning): the Xid 119 report's own stack, dumped by the driver (kernel_gsp.c:
    # _kgspRpcRecvPoll -> _kgspLogXid119 -> osAssertFailed -> os_dump_stack), without the Xid line
    log, top = _top(_posted("277"))
    assert (top.category, top.culprit.module) == ("gpu_xid", "nvidia")
    assert log.events[0].kind == "nvrm_xid" and log.events[0].fields["xid"] == 119


def test_gsp_rpc_poll_frames_without_the_driver_dump_stay_an_oops():
    # the RPC poll in a trace that the driver did not dump itself (no os_dump_stack above it)
    lines = ["CPU: 8 UID: 0 PID: 1185 Comm: nv_queue Tainted: G           OE      6.16.3 #1",
             "Call Trace:",
             " <TASK>",
             " _kgspRpcRecvPoll+0x650/0x820 [nvidia]",
             " _issueRpcAndWait+0xdd/0x970 [nvidia]",
             " rpcRmApiControl_GSP+0x76f/0x940 [nvidia]"]
    assert _top(lines)[0].events[0].kind == "oops_other"
    # os_dump_stack called from elsewhere in the driver is not the GSP report either
    lines[3] = " os_dump_stack+0xe/0x20 [nvidia]"
    lines.insert(4, " osAssertFailed+0x12/0x30 [nvidia]")
    assert _top(lines)[0].events[0].kind == "oops_other"


def test_gsp_timeout_banner_without_the_xid_line():
    # kernel_gsp.c _kgspLogXid119 / _kgspLogRpcTimeout: NV_PRINTF(LEVEL_ERROR,
    # "********************************* GSP Timeout **********************************\\n")
    h = match_header("NVRM: GPU6 _kgspLogRpcTimeout: ********************************* GSP Timeout "
                     "**********************************")
    assert h is not None and h.kind == "nvrm_xid" and h.fields["xid"] == 119
    h = match_header("NVRM: _kgspLogXid119: ********************************* GSP Timeout "
                     "**********************************")
    assert h is not None and h.fields["xid"] == 119
    # a sentence about GSP timeouts is not the banner
    assert match_header("NVRM: GPU0 _kgspFoo: GSP Timeout soon") is None


def test_untagged_nvidia_prefixed_kernel_functions_are_not_the_nvidia_driver():
    # The NVIDIA driver is out of tree and never built in: only its blob's obfuscated
    # symbols name it without a [module] tag. The kernel has nvidia_* functions of its
    # own (Debian 6.1 vmlinux: arch/x86/kernel/early-quirks.c nvidia_bugs and
    # nvidia_hpet_check, drivers/pci/quirks.c nvidia_ion_ahci_fixup,
    # drivers/iommu/arm/arm-smmu/arm-smmu-nvidia.c nvidia_smmu_context_fault).
    rules = load_rules()
    assert rules.builtin_gpu_driver("_nv011740rm") == "nvidia"
    for fn in ("nvidia_smmu_context_fault", "nvidia_smmu_global_fault", "nvidia_bugs", "nvidia_hpet_check",
               "nvidia_ion_ahci_fixup"):
        assert rules.builtin_gpu_driver(fn) is None, fn
    # 702 (tuning): arm64 NULL dereference in the built-in SMMU glue, 'Modules linked in:' empty
    assert _culprit("702") == ("null_deref", None)
    # an untagged blob symbol on a 4.4 'IP:' line still names nvidia (720, tuning)
    assert _culprit("720") == ("gpu_null_deref", "nvidia")


def test_a_bare_proc_pid_stack_listing_is_not_an_oops():
    # 728 (tuning): a CentOS 7 user's /proc/<pid>/stack of a process spinning in
    # nvidia_uvm ("[<addr>] func+0x../0x.. [mod]" lines, fs/proc/base.c proc_pid_stack):
    # no RIP, no #PF, no Code:, no CPU/taint line, no '?' frame, no reporting frame
    log = parse_log(_posted("728"))
    assert log.events == []
    assert _culprit("728")[0] == "none"
    # headerless stacks that do show a report stay reports: a WARNING's arm32 unwind
    # ("(f) from (g)", 420) and warn_alloc()'s caller at the top of a bare stack (511)
    assert _culprit("420")[0] == "warning"
    assert _culprit("511")[0] == "alloc_failure"
    # the same frame lines with one '?' frame are a printk'd trace cut from its report
    lines = _posted("728")
    lines[3] = lines[3].replace("] uvm_push_end_and_wait", "] ? uvm_push_end_and_wait")
    assert parse_log(lines).events and parse_log(lines).events[0].fields.get("header_missing")


def test_victim_line_with_its_sizes_cut():
    # mm/oom_kill.c __oom_kill_process(): "%s: Killed process %d (%s) total-vm:%lukB, ..." with
    # "Out of memory" or "Memory cgroup out of memory" as %s; 823 posts it cut after the comm
    h = match_header("Out of memory: Killed process 5017 (test) ")
    assert h is not None and h.kind == "oom_kill" and h.fields["victim_comm"] == "test"
    assert h.fields["memcg"] is False and h.fields["sizes_cut"] is True
    h = match_header("Memory cgroup out of memory: Killed process 1849 (java)")
    assert h is not None and h.kind == "oom_kill" and h.fields["memcg"] is True
    assert _culprit("823")[0] == "oom_kill"
    # without the OOM killer's prefix a bare "Killed process N (comm)" is any program's
    # wording: only the full kernel line (with its sizes) is taken then
    assert match_header("Killed process 5017 (test)") is None
    assert match_header("Killed process 5017 (test) total-vm:2676kB, anon-rss:84kB, file-rss:1468kB").kind == "oom_kill"


def test_headerless_2_6_allocator_stack_and_mempool_requester():
    # 2.6.x mm/page_alloc.c __alloc_pages(): printk("%s: page allocation failure. order:%d,
    # mode:0x%x") then dump_stack(), so its backtrace starts at __alloc_pages; 814 (RHEL 4
    # 2.6.9) is that backtrace without the header line. mm/mempool.c only fills the pool of
    # its owner (here dm_mod's kcopyd), so the requester is the frame after it.
    log, top = _top(_posted("814"))
    assert top.category == "alloc_failure" and top.culprit.module == "dm_mod"
    bare = parse_log([" [<c013fa77>] __alloc_pages+0x28b/0x29d", " [<c013faa1>] __get_free_pages+0x18/0x24",
                      " [<f8bb1322>] resize_pool+0x3a/0xa2 [dm_mod]"])
    assert [e.kind for e in bare.events] == ["alloc_failure"]
    # a bare stack that starts elsewhere is not read as an allocation failure
    other = parse_log([" [<c013fa77>] ext3_get_block+0x28b/0x29d", " [<c013faa1>] __get_free_pages+0x18/0x24"])
    assert [e.kind for e in other.events] != ["alloc_failure"]


def test_2_6_9_victim_line_is_an_oom_kill():
    # 869 (RHEL 4 era): mm/oom_kill.c of 2.4 and 2.6.9, "Out of Memory: Killed process %d (%s)."
    h = match_header("Out of Memory: Killed process 2368 (jserver).")
    assert h is not None and h.kind == "oom_kill"
    assert (h.fields["victim_pid"], h.fields["victim_comm"]) == (2368, "jserver")
    # 2.4: "..., saved process %d (%s)." when the victim was not the allocating task
    h = match_header("Out of Memory: Killed process 12 (a b), saved process 13 (c).")
    assert h is not None and h.fields["victim_comm"] == "a b"
    assert _top(["Jul 19 05:19:24 asl131 kernel: Out of Memory: Killed process 2368 (jserver)."])[1].category == "oom_kill"


def test_2_6_9_victim_wording_needs_its_full_stop():
    # the format string ends the comm's parenthesis with "." or ", saved process": a line cut
    # after the parenthesis, or a sentence quoting the wording, is not the kernel's line
    assert match_header("Out of Memory: Killed process 2368 (jserver)") is None
    assert match_header("Out of Memory: Killed process 2368 (jserver) because of x") is None


def test_arm64_serror_is_a_hardware_error_report():
    # arch/arm64/kernel/traps.c arm64_serror_panic(): "SError Interrupt on CPU%d, code
    # 0x%016lx -- %s" on each CPU, then "Kernel panic - not syncing: Asynchronous SError
    # Interrupt": arm64's asynchronous external abort, a hardware/bus error report (705, tuning)
    hdr = match_header("SError Interrupt on CPU0, code 0xbf40c000 -- SError")
    assert hdr is not None and hdr.kind == "hw_error" and hdr.fields["cpu"] == 0
    assert _culprit("705") == ("mce", None)
    # other lines naming SError are not the report
    assert match_header("SError: reserved") is None
    assert match_header("Some SError Interrupt text") is None


def test_an_xid_line_retyped_without_the_colon_after_nvrm():
    # posted 2116: "NVRM Xid (PCI:0000:0b:00) : 32, Channel ID 00000009 intr 00008000", typed
    # from the screen of a mining rig
    h = match_header("NVRM Xid (PCI:0000:0b:00) : 32, Channel ID 00000009 intr 00008000")
    assert h is not None and (h.kind, h.fields["xid"]) == ("nvrm_xid", 32)
    h = match_header("NVRM Xid (PCI:0000:0b:00): 79, GPU has fallen off the bus.")
    assert h is not None and h.fields["xid"] == 79 and h.fields.get("fallen_off_bus")
    # the same hand-typed blank before the number's colon, with NVRM's colon kept: the number
    # is read (it was taken for an Xid line cut before its number)
    h = match_header("NVRM: Xid (PCI:0000:0b:00) : 32, Channel ID 00000009 intr 00008000")
    assert h is not None and h.fields["xid"] == 32 and not h.fields.get("number_cut")
    # prose about Xids, and a retyped line with no number, are not an Xid report
    assert match_header("NVRM Xid (PCI:0000:0b:00) : see the catalogue") is None
    assert match_header("NVRM Xid errors keep coming") is None


def test_lock_held_returning_to_user_names_the_acquisition_site():
    # kernel/locking/lockdep.c lockdep_sys_exit(): "BUG: lock held when returning to user
    # space!" before 4.15, "WARNING: ..." since; the held lock's "at:" site took the lock and
    # never released it (syzkaller titles it "... in <that function>"). Posted 2209, wrapped
    # by a mail client after "at: amdgpu_cs_ioctl+0x903/0x2030".
    assert _top(_posted("2209"))[1].culprit.module == "amdgpu"
    for head in ("WARNING", "BUG"):
        lines = [f"[  155.950690] {head}: lock held when returning to user space!",
                 "[  155.950695] app/4850 is leaving the kernel with locks still held!",
                 "[  155.950697] 1 lock held by app/4850:",
                 "[  155.950698]  #0: ffff8a4e8aaad0a8 (&list->bo_list_mutex){+.+.}-{3:3}, at: amdgpu_cs_ioctl+0x903/0x2030 [amdgpu]"]
        top = _top(lines)[1]
        assert (top.category, top.culprit.module, top.culprit.function) == ("lockdep", "amdgpu", "amdgpu_cs_ioctl"), head
    # an "at:" line of another lockdep report kind (a held-locks list under a hung task) is not
    # read as this report's site
    lines = ["[  10.0] WARNING: suspicious RCU usage",
             "[  10.1]  #0: ffff8a4e8aaad0a8 (&list->bo_list_mutex){+.+.}-{3:3}, at: amdgpu_cs_ioctl+0x903/0x2030 [amdgpu]"]
    assert _top(lines)[1].culprit.function != "amdgpu_cs_ioctl"
