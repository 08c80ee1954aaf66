"""The SoC display and GPU drivers of drivers/gpu/drm built into board kernels are named by
their own function namespaces ([gpu_prefixes] in signatures/lists.toml): a built-in driver
prints no [module] tag. The prefixes are multi-word namespaces no core or non-GPU symbol of
the checked Debian kernels starts with; the platform drivers sharing a vendor's first word
(tegra_i2c_, meson_gpio_, sun4i_i2s_, mtk_pinctrl_, omap_i2c_, rockchip_pcie_) stay unnamed."""

from _diag_helpers import arm64_oops
from triage.analysis import analyze_lines
from triage.classify import load_rules


def test_soc_drm_functions_name_their_driver():
    rules = load_rules()
    for fn, drv in (("tegra_drm_open", "tegra_drm"), ("tegra_plane_atomic_check", "tegra_drm"),
                    ("host1x_syncpt_wait", "host1x"), ("host1x_cdma_update", "host1x"),
                    ("vop_crtc_atomic_enable", "rockchipdrm"), ("vop2_plane_atomic_update", "rockchipdrm"),
                    ("rockchip_drm_bind", "rockchipdrm"), ("meson_crtc_irq", "meson_drm"),
                    ("sun4i_tcon_mode_set", "sun4i_tcon"), ("sun8i_mixer_bind", "sun8i_mixer"),
                    ("dcss_crtc_atomic_enable", "imx_dcss"), ("malidp_de_irq", "mali_dp"),
                    ("exynos_drm_crtc_finish_update", "exynosdrm"), ("mtk_drm_crtc_atomic_flush", "mediatek_drm"),
                    ("omap_gem_pin", "omapdrm"), ("imx_drm_bind", "imxdrm"), ("tidss_crtc_atomic_flush", "tidss"),
                    ("kbase_jd_done_worker", "mali_kbase"), ("kbasep_js_remove_job", "mali_kbase")):
        assert rules.builtin_gpu_driver(fn) == drv, fn
        assert rules.in_list("gpu_modules", drv), drv


def test_platform_drivers_of_the_same_vendors_are_not_gpu():
    rules = load_rules()
    for fn in ("tegra_i2c_xfer", "tegra_pmc_probe", "tegra_dc_update_windows", "host1x_client_register",
               "tegra_sor_config_dp_clk", "tegra_dsi_init_hw", "tegra_hdmi_setup", "tegra_dpaux_prepare", "tegra_fb_suspend",
               "omap_irq_soft_reset",
               "meson_gpio_irq_handler", "sun4i_i2s_probe", "mtk_pinctrl_probe", "omap_i2c_xfer",
               "rockchip_pcie_probe", "exynos_tmu_probe", "armada_3700_periph_clock_probe", "pvr_probe",
               "sti_cpufreq_init", "imx_pinctrl_probe"):
        assert rules.builtin_gpu_driver(fn) is None, fn


def _oops(pc: str, caller: str):
    """An arm64 NULL-pointer oops in `pc` under a DRM atomic commit's worker."""
    return arm64_oops(pc, caller, tail=("drm_atomic_helper_commit_tail+0x5c/0xb0", "process_one_work+0x1d0/0x320"))


def test_builtin_rockchip_vop_null_deref_is_a_gpu_driver_fault():
    v = analyze_lines(_oops("vop_crtc_atomic_flush", "vop_plane_atomic_update")).verdict
    assert v.category == "gpu_null_deref"
    assert v.culprit.module == "rockchipdrm"


def test_builtin_tegra_i2c_null_deref_stays_core():
    v = analyze_lines(_oops("tegra_i2c_xfer", "tegra_i2c_xfer_msg")).verdict
    assert v.category == "null_deref"
    assert v.culprit.module in (None, "")


EXYNOS_DSI_OOPS = [   # quoted from tuning-half posted log 1306 (Exynos, 5.9-next, built-in exynosdrm)
    "8<--- cut here ---",
    "Unable to handle kernel NULL pointer dereference at virtual address 00000280",
    "Internal error: Oops: 5 [#1] PREEMPT SMP ARM",
    "Modules linked in:",
    "PC is at __mutex_lock+0x54/0xb18",
    "LR is at lock_is_held_type+0x80/0x138",
    "[<c0afc920>] (__mutex_lock) from [<c0afd400>] (mutex_lock_nested+0x1c/0x24)",
    "[<c0afd400>] (mutex_lock_nested) from [<c064d4b8>] (__exynos_dsi_host_attach+0x20/0x6c)",
    "[<c064d4b8>] (__exynos_dsi_host_attach) from [<c064d914>] (exynos_dsi_host_attach+0x70/0x194)",
    "[<c064d914>] (exynos_dsi_host_attach) from [<c0656b64>] (s6e8aa0_probe+0x1b0/0x218)",
]


def test_builtin_exynos_dsi_null_deref_is_exynosdrm():
    rules = load_rules()
    assert rules.builtin_gpu_driver("exynos_dsi_host_attach") == "exynosdrm"
    assert rules.builtin_gpu_driver("exynos_dp_bridge_attach") is None
    v = analyze_lines(EXYNOS_DSI_OOPS).verdict
    assert v.category == "gpu_null_deref"
    assert v.culprit.module == "exynosdrm"


def test_posted_1306_whole_log_is_exynosdrm():
    # the real log EXYNOS_DSI_OOPS is quoted from (labels.toml: gpu_null_deref, exynosdrm)
    from _posted import posted_lines
    v = analyze_lines(posted_lines("1306")).verdict
    assert (v.category, v.culprit.module, v.culprit.function) == (
        "gpu_null_deref", "exynosdrm", "__exynos_dsi_host_attach")
