"""The drivers/gpu modules and namespaces generated from the kernel's own source
(tools/gpu_namespaces.py over Debian's linux-source-6.12 and -5.10: signatures/lists.toml
[lists] gpu_modules' generated block, [generated_gpu_prefixes], [generated_gpu_source_dirs]).

Every module drivers/gpu's Kbuild files build is a GPU module: the display bridges, panels and
SoC encoders too (samsung_dsim, rcar_lvds, imx8qxp_pixel_combiner, adv7511, ti_sn65dsi86).
Built in, such a driver is named by a function prefix that only its own functions start with
in both trees; a core or other driver's function sharing a shorter prefix (samsung_, rcar_,
ti_, hdmi_, get_) is not a GPU driver's, nor is a macro-defined sysfs show function
(Intel PT's psb_period_show beside gma500's psb_*). Frames quoted from tuning-half posted
logs 2402 (Exynos3250, 5.9-next) and 2427 (R-Car, dual-link LVDS)."""

from _diag_helpers import arm64_oops
from triage.analysis import analyze_lines
from triage.classify import load_rules

SAMSUNG_DSIM = [
    "8<--- cut here ---",
    "Unable to handle kernel NULL pointer dereference at virtual address 00000650",
    "pgd = (ptrval)",
    "[00000650] *pgd=00000000",
    "Internal error: Oops: 5 [#1] PREEMPT SMP ARM",
    "Modules linked in:",
    "CPU: 1 PID: 1 Comm: swapper/0 Not tainted 5.9.0-rc2-next-20200824-00017-g3e9b20f7eb0d #1576",
    "Hardware name: Samsung Exynos (Flattened Device Tree)",
    "PC is at samsung_dsim_resume+0x18/0x120",
    "LR is at genpd_runtime_resume+0x160/0x278",
    "[<c064f590>] (samsung_dsim_resume) from [<c0685020>] (genpd_runtime_resume+0x160/0x278)",
    "[<c0685020>] (genpd_runtime_resume) from [<c0677e84>] (__rpm_callback+0xbc/0x124)",
    "[<c0677e84>] (__rpm_callback) from [<c0677f0c>] (rpm_callback+0x20/0x80)",
    "[<c0677f0c>] (rpm_callback) from [<c0676aec>] (rpm_resume+0x388/0x714)",
    "[<c063dcec>] (mipi_dsi_host_register) from [<c064d90c>] (samsung_dsim_bind+0x368/0x40c)",
    "[<c064d90c>] (samsung_dsim_bind) from [<c06449f8>] (exynos_dsi_bind+0x78/0x88)",
]


def test_builtin_samsung_dsim_null_deref_is_its_gpu_null_deref():
    v = analyze_lines(SAMSUNG_DSIM).verdict
    assert (v.category, v.culprit.module, v.culprit.function) == ("gpu_null_deref", "samsung_dsim",
                                                                   "samsung_dsim_resume")


def test_bridge_panel_and_encoder_modules_are_gpu_modules():
    rules = load_rules()
    for mod in ("samsung_dsim", "rcar_lvds", "imx8qxp_pixel_combiner", "adv7511", "ti_sn65dsi86", "panel_simple",
                "dw_hdmi", "tda998x", "anx7625", "panel_edp", "drm_mipi_dsi", "lontium_lt9611"):
        assert rules.in_list("gpu_modules", mod), mod
    # built from drivers/video/fbdev too (omapfb's omapdss and its panels): not named a GPU driver
    for mod in ("omapdss", "panel_sony_acx565akm", "vgaarb"):
        assert not rules.in_list("gpu_modules", mod), mod


def test_builtin_bridge_and_encoder_functions_name_their_module():
    rules = load_rules()
    for fn, mod in (("samsung_dsim_resume", "samsung_dsim"), ("rcar_lvds_clk_enable", "rcar_lvds"),
                    ("imx8qxp_pc_bridge_remove", "imx8qxp_pixel_combiner"), ("adv7533_attach_dsi", "adv7511"),
                    ("ti_sn65dsi86_probe", "ti_sn65dsi86"), ("panel_simple_prepare", "panel_simple"),
                    ("tda998x_bridge_enable", "tda998x"), ("__samsung_dsim_wait", "samsung_dsim")):
        assert rules.builtin_gpu_driver(fn) == mod, fn


def test_core_functions_sharing_a_short_prefix_are_no_gpu_drivers():
    rules = load_rules()
    for fn in ("samsung_clk_register_pll", "samsung_pinctrl_probe", "rcar_gen3_phy_usb2_init", "rcar_i2c_master_xfer",
               "ti_sci_cmd_get_clock", "hdmi_infoframe_pack", "get_random_bytes", "dw_pcie_host_init",
               "psb_period_show", "sync_file_create", "tc_setup_cb_call", "mipi_csis_probe", "lvds_enable"):
        assert rules.builtin_gpu_driver(fn) is None, fn
    # nor out-of-tree modules' namespaces, whose frames lose their [module] tag in trimmed pastes:
    # OpenZFS's spl_*/dbuf_* (amdgpu's DC has spl_*, xen-front dbuf_*), the old HECI driver (xe's heci_)
    for fn in ("spl_kmem_cache_alloc", "spl_panic", "dbuf_read", "dbuf_hold_impl", "heci_read_msg"):
        assert rules.builtin_gpu_driver(fn) is None, fn


def test_a_core_null_deref_with_a_shared_first_word_stays_core():
    v = analyze_lines(arm64_oops("samsung_clk_register_pll", "samsung_cmu_register_one")).verdict
    assert v.category == "null_deref"
    assert v.culprit is None or v.culprit.module is None


def test_builtin_rcar_lvds_paging_fault_is_its_gpu_fault():
    lines = arm64_oops("rcar_lvds_clk_enable", "rcar_du_crtc_atomic_enable", "ffffffffffffff18")
    lines[0] = lines[0].replace("NULL pointer dereference", "paging request")
    v = analyze_lines(lines).verdict
    assert (v.category, v.culprit.module) == ("gpu_fault", "rcar_lvds")


def test_source_paths_name_bridges_and_panels():
    rules = load_rules()
    assert rules.gpu_driver_by_source("drivers/gpu/drm/bridge/samsung-dsim.c") == "samsung_dsim"
    assert rules.gpu_driver_by_source("drivers/gpu/drm/bridge/adv7511/adv7511_drv.c") == "adv7511"
    assert rules.gpu_driver_by_source("drivers/gpu/drm/panel/panel-simple.c") == "panel_simple"
    assert rules.gpu_driver_by_source("drivers/gpu/drm/renesas/rcar-du/rcar_lvds.c") == "rcar_lvds"
    # the hand-curated entries keep deciding what they name
    assert rules.gpu_driver_by_source("drivers/gpu/drm/drm_bridge.c") == "drm"
    assert rules.gpu_driver_by_source("drivers/gpu/drm/amd/display/dc/core/dc.c") == "amdgpu"
    assert rules.gpu_driver_by_source("drivers/video/fbdev/omap2/omapfb/dss/dsi.c") is None


def test_a_warning_in_a_builtin_panel_names_it():
    lines = [
        "[    3.100000] ------------[ cut here ]------------",
        "[    3.100100] WARNING: CPU: 0 PID: 1 at drivers/gpu/drm/panel/panel-simple.c:345 panel_simple_prepare_once+0x40/0x80",
        "[    3.100200] Modules linked in:",
        "[    3.100300] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.6.0 #1",
        "[    3.100400] pc : panel_simple_prepare_once+0x40/0x80",
        "[    3.100500] lr : panel_simple_resume+0x30/0x60",
        "[    3.100600] Call trace:",
        "[    3.100700]  panel_simple_prepare_once+0x40/0x80",
        "[    3.100800]  panel_simple_resume+0x30/0x60",
        "[    3.100900] ---[ end trace 0000000000000000 ]---",
    ]
    v = analyze_lines(lines).verdict
    assert (v.category, v.culprit.module) == ("warning", "panel_simple")
