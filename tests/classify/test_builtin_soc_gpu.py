"""Built-in SoC GPU drivers named by their function prefixes ([gpu_prefixes] msm,
etnaviv in signatures/lists.toml), and a lock query at the faulting pc passed over
like the lock primitives.

msm's prefixes are the DRM driver's own (msm_gem_, msm_gpu_, adreno_, a6xx_, dpu_, ...),
never `msm_` alone: Qualcomm's built-in pin controller and serial drivers are
msm_gpio_*, msm_pinctrl_*, msm_serial_* (label of posted 444: pinctrl-msm is not the
GPU driver). The oops is quoted from tuning-half posted log 918."""

from triage.analysis import analyze_lines
from triage.classify import load_rules

from _posted import posted_lines


def test_msm_drm_prefixes_name_msm():
    rules = load_rules()
    for fn in ("msm_gem_shrinker_count", "msm_gpu_submit", "msm_atomic_commit_tail", "msm_devfreq_suspend",
               "adreno_suspend", "a6xx_gmu_set_oob", "a5xx_recover", "dpu_encoder_frame_done_timeout",
               "mdp5_crtc_atomic_flush", "msm_drv_shutdown", "msm_job_run"):
        assert rules.builtin_gpu_driver(fn) == "msm", fn


def test_qualcomm_non_gpu_msm_names_are_not_msm():
    rules = load_rules()
    for fn in ("msm_gpio_get_direction", "msm_pinctrl_probe", "msm_pinmux_set_mux", "msm_serial_probe",
               "msm_uart_irq", "msm_console_write", "msm_restart", "msm_get_mctrl"):
        assert rules.builtin_gpu_driver(fn) is None, fn


def test_etnaviv_prefix():
    rules = load_rules()
    assert rules.builtin_gpu_driver("etnaviv_gem_free_object") == "etnaviv"
    assert rules.builtin_gpu_driver("etna_something") is None


SHRINKER_OOPS = [
    "[10027.553044] Unable to handle kernel NULL pointer dereference at virtual address 0000000000000068",
    "[10027.693900] Internal error: Oops: 96000006 [#1] PREEMPT SMP",
    "[10027.738261] CPU: 3 PID: 214 Comm: kswapd0 Tainted: G S                5.4.40 #1",
    "[10027.745766] Hardware name: Qualcomm Technologies, Inc. SC7180 IDP (DT)",
    "[10027.757409] pc : mutex_is_locked+0x14/0x2c",
    "[10027.761626] lr : msm_gem_shrinker_count+0x70/0xec",
    "[10027.851748] Call trace:",
    "[10027.854264]  mutex_is_locked+0x14/0x2c",
    "[10027.858121]  msm_gem_shrinker_count+0x70/0xec",
    "[10027.862603]  shrink_slab+0xc0/0x4b4",
    "[10027.866187]  shrink_node+0x4a8/0x818",
    "[10027.869860]  kswapd+0x624/0x890",
    "[10027.873097]  kthread+0x11c/0x12c",
    "[10027.876424]  ret_from_fork+0x10/0x18",
    "[10027.880102] Code: f9000bf3 910003fd aa0003f3 d503201f (f9400268)",
    "[10027.891518] Kernel panic - not syncing: Fatal exception",
]


def test_lock_query_at_the_pc_is_passed_over_to_the_builtin_gpu_caller():
    v = analyze_lines(SHRINKER_OOPS).verdict
    assert v.category == "gpu_null_deref"
    assert (v.culprit.module, v.culprit.function) == ("msm", "msm_gem_shrinker_count")


def test_a_core_caller_of_a_lock_query_stays_core():
    lines = [l.replace("msm_gem_shrinker_count", "super_cache_count") for l in SHRINKER_OOPS]
    v = analyze_lines(lines).verdict
    assert v.category == "null_deref"
    assert v.culprit.module in (None, "") and v.culprit.function == "super_cache_count"


def test_posted_918_whole_log_blames_msm():
    # the real log SHRINKER_OOPS is quoted from (labels.toml: gpu_null_deref, msm)
    v = analyze_lines(posted_lines("918")).verdict
    assert v.category == "gpu_null_deref"
    assert (v.culprit.module, v.culprit.function) == ("msm", "msm_gem_shrinker_count")


def test_msm_drm_device_functions_name_msm():
    """The drm_driver file operations and the other msm.ko functions named after the DRM
    device (msm_drv.c, msm_rd.c, msm_gem_submit.c, the DPU/MDP4 registration)."""
    rules = load_rules()
    for fn in ("msm_open", "msm_postclose", "msm_rd_dump_submit", "msm_submit_retire", "msm_fop_show_fdinfo",
               "msm_file_private_set_sysprof", "msm_fault_handler", "msm_update_fence", "msm_use_mmu",
               "msm_alloc_stolen_fb", "msm_dpu_register", "msm_mdp4_unregister", "_dpu_plane_set_qos_ctrl",
               "_a6xx_get_gmu_registers"):
        assert rules.builtin_gpu_driver(fn) == "msm", fn


def test_qualcomm_platform_msm_names_are_not_msm():
    """Names the Qualcomm platform code also uses in older and vendor kernels (mach-msm's
    irq/pm/clock code, drivers/video/msm's framebuffer, the interconnect) stay unnamed."""
    rules = load_rules()
    for fn in ("msm_irq_ack", "msm_pm_enter", "msm_clk_get", "msm_fb_probe", "msm_ioremap",
               "msm_icc_get", "msm_perf_init", "msm_release_port", "msm_restart_probe"):
        assert rules.builtin_gpu_driver(fn) is None, fn


MSM_OPEN_OOPS = [   # quoted from tuning-half posted log 1220 (KernelCI arm32, addresses stripped)
    "[    4.623229] 8<--- cut here ---",
    "[    4.631111] Unable to handle kernel NULL pointer dereference at virtual address 00000088",
    "[    4.665947] Workqueue: events deferred_probe_work_func",
    "[    4.670532] PC is at msm_open+0x64/0x90",
    "[    4.675656] LR is at _raw_write_unlock+0x20/0x4c",
    "[    4.949553] [] (msm_open) from [] (drm_file_alloc+0x134/0x21c)",
    "[    4.957703] [] (drm_file_alloc) from [] (drm_client_init+0xa8/0x124)",
    "[    4.965162] [] (drm_client_init) from [] (drm_fb_helper_init.part.0+0x30/0x3c)",
    "[    4.973411] [] (drm_fb_helper_init.part.0) from [] (msm_fbdev_init+0x50/0xb4)",
]


def test_builtin_msm_open_null_deref_is_msm():
    v = analyze_lines(MSM_OPEN_OOPS).verdict
    assert v.category == "gpu_null_deref"
    assert (v.culprit.module, v.culprit.function) == ("msm", "msm_open")


def test_a_core_open_at_the_pc_stays_core():
    lines = [l.replace("msm_open", "chrdev_open").replace("msm_fbdev_init", "fbcon_init") for l in MSM_OPEN_OOPS]
    v = analyze_lines(lines).verdict
    assert v.category == "null_deref"
    assert v.culprit.module in (None, "")


def test_posted_1220_whole_log_blames_msm():
    v = analyze_lines(posted_lines("1220")).verdict
    assert v.category == "gpu_null_deref"
    assert v.culprit.module == "msm"
