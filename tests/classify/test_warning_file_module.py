"""A WARNING's or BUG's own file names the module of built-in DRM code over the function
name: "WARNING: ... at drivers/gpu/drm/drm_bridge.c:708 drm_atomic_helper_commit_modeset_enables"
is drm.ko's drm_bridge.c (inlined into a KMS-helper function), so the module is drm, not the
drm_kms_helper the name prefix guesses. [gpu_source_dirs] maps the top-level drm_*.c files to
drm, except the helper libraries built as modules of their own (drivers/gpu/drm/Makefile).

Lines quoted from tuning-half posted log 911 (omapdrm on a Nokia N900, DRM built in)."""

from triage.analysis import analyze_lines
from triage.classify import load_rules

from _posted import posted_lines

N900 = [
    "[    6.626617] ------------[ cut here ]------------",
    "[    6.631774] WARNING: CPU: 0 PID: 18 at drivers/gpu/drm/drm_bridge.c:708 "
    "drm_atomic_helper_commit_modeset_enables+0x134/0x268",
    "[    6.643768] Modules linked in:",
    "[    6.647033] CPU: 0 PID: 18 Comm: kworker/0:1 Tainted: G     U            5.8.0-omap3 #2",
    "[    6.658966] Hardware name: Nokia RX-51 board",
    "[    6.669097] [<c010bf18>] (unwind_backtrace) from [<c010a0f4>] (show_stack+0x10/0x14)",
    "[    6.677429] [<c010a0f4>] (show_stack) from [<c0124f18>] (__warn+0xbc/0xd4)",
    "[    6.684844] [<c0124f18>] (__warn) from [<c0124f90>] (warn_slowpath_fmt+0x60/0xb8)",
    "[    6.692901] [<c0124f90>] (warn_slowpath_fmt) from [<c040c0e8>] "
    "(drm_atomic_helper_commit_modeset_enables+0x134/0x268)",
    "[    6.704254] [<c040c0e8>] (drm_atomic_helper_commit_modeset_enables) from [<c045442c>] "
    "(omap_atomic_commit_tail+0xb4/0xc0)",
    "[    7.123687] ---[ end trace 415544dc9303b330 ]---",
]


def test_source_dirs_name_drm_core_and_its_helper_modules():
    rules = load_rules()
    assert rules.gpu_driver_by_source("drivers/gpu/drm/drm_bridge.c") == "drm"
    assert rules.gpu_driver_by_source("drivers/gpu/drm/drm_atomic_helper.c") == "drm_kms_helper"
    assert rules.gpu_driver_by_source("drivers/gpu/drm/drm_gem_shmem_helper.c") == "drm_shmem_helper"
    assert rules.gpu_driver_by_source("drivers/gpu/drm/display/drm_dp_helper.c") == "drm_display_helper"
    assert rules.gpu_driver_by_source("drivers/gpu/drm/ttm/ttm_bo.c") == "ttm"
    assert rules.gpu_driver_by_source("drivers/gpu/drm/scheduler/sched_main.c") == "gpu_sched"
    assert rules.gpu_driver_by_source("drivers/gpu/drm/i915/display/intel_dp.c") == "i915"
    # host1x.ko is built from drivers/gpu/host1x ([generated_gpu_source_dirs], tools/gpu_namespaces.py)
    assert rules.gpu_driver_by_source("drivers/gpu/host1x/dev.c") == "host1x"
    assert rules.gpu_driver_by_source("include/drm/drm_print.h") is None


def test_builtin_warning_is_named_by_its_file():
    v = analyze_lines(N900).verdict
    assert v.category == "warning" and v.culprit.module == "drm"
    assert v.culprit.function == "drm_atomic_helper_commit_modeset_enables"


def test_without_a_file_the_name_prefix_still_decides():
    lines = [l.replace("at drivers/gpu/drm/drm_bridge.c:708 ", "at ") for l in N900]
    v = analyze_lines(lines).verdict
    assert v.category == "warning" and v.culprit.module == "drm_kms_helper"


def test_a_tagged_frame_keeps_its_module():
    lines = [l.replace("drm_atomic_helper_commit_modeset_enables+0x134/0x268",
                       "drm_atomic_helper_commit_modeset_enables+0x134/0x268 [drm_kms_helper]") for l in N900]
    v = analyze_lines(lines).verdict
    assert v.culprit.module == "drm_kms_helper"


def test_posted_911_whole_log_is_drm_s_warning():
    # the real log N900 is quoted from (labels.toml: warning, drm)
    v = analyze_lines(posted_lines("911")).verdict
    assert v.category == "warning" and v.culprit.module == "drm"
    assert v.culprit.function == "drm_atomic_helper_commit_modeset_enables"


def test_every_drivers_gpu_directory_names_its_module():
    """The other drivers/gpu directories and the modules their Makefiles build; the longest
    prefix wins (i915/gvt/ is kvmgt's inside i915/)."""
    rules = load_rules()
    for path, mod in (("drivers/gpu/drm/i915/gvt/kvmgt.c", "kvmgt"), ("drivers/gpu/drm/i915/i915_gem.c", "i915"),
                      ("drivers/gpu/drm/panthor/panthor_mmu.c", "panthor"), ("drivers/gpu/drm/tegra/dc.c", "tegra_drm"),
                      ("drivers/gpu/drm/rockchip/rockchip_drm_vop2.c", "rockchipdrm"),
                      ("drivers/gpu/drm/meson/meson_crtc.c", "meson_drm"), ("drivers/gpu/drm/exynos/exynos_drm_fimd.c", "exynosdrm"),
                      ("drivers/gpu/drm/mediatek/mtk_drm_crtc.c", "mediatek_drm"), ("drivers/gpu/drm/imx/dcss/dcss-crtc.c", "imx_dcss"),
                      ("drivers/gpu/drm/imx/ipuv3/ipuv3-crtc.c", "imxdrm"), ("drivers/gpu/drm/omapdrm/omap_gem.c", "omapdrm"),
                      ("drivers/gpu/drm/arm/display/komeda/komeda_kms.c", "komeda"), ("drivers/gpu/drm/arm/malidp_hw.c", "mali_dp"),
                      ("drivers/gpu/drm/hisilicon/hibmc/hibmc_drm_drv.c", "hibmc_drm"), ("drivers/gpu/drm/xen/xen_drm_front.c", "drm_xen_front"),
                      ("drivers/gpu/drm/hyperv/hyperv_drm_modeset.c", "hyperv_drm"), ("drivers/gpu/drm/imagination/pvr_vm.c", "powervr")):
        assert rules.gpu_driver_by_source(path) == mod, path
        assert rules.in_list("gpu_modules", mod), mod
    # drivers/gpu/drm/bridge and panel files name their own modules ([generated_gpu_source_dirs],
    # tools/gpu_namespaces.py from the Kbuild files); files outside drivers/gpu name no GPU module
    assert rules.gpu_driver_by_source("drivers/gpu/drm/bridge/ti-sn65dsi86.c") == "ti_sn65dsi86"
    assert rules.gpu_driver_by_source("drivers/gpu/drm/panel/panel-simple.c") == "panel_simple"
    for path in ("drivers/soc/tegra/pmc.c", "drivers/video/fbdev/core/fbmem.c"):
        assert rules.gpu_driver_by_source(path) is None, path
