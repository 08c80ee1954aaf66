"""Which modules are GPU drivers ([lists] gpu_modules): the drivers/gpu tree and the modules
built from NVIDIA's GPU driver source (nvidia, nvidia-uvm, nvidia-modeset, nvidia-drm,
nvidia-peermem, the vGPU host driver). Not the separate projects that only pin GPU memory for
another device's DMA through the driver's P2P API: GPUDirect Storage's nvidia-fs, GDRCopy's
gdrdrv, Mellanox's nv_peer_mem. A BUG() in nvidia-fs's own bookkeeping is a kernel BUG in that
module (tuning-half posted 1040, labelled kernel_bug/nvidia_fs), not a GPU driver fault."""

from triage.analysis import analyze_lines
from triage.classify import load_rules

from _posted import posted_lines

BUG = [
    "[1534406.053426] kernel BUG at /var/lib/dkms/nvidia-fs/2.26.6/build/nvfs-stat.c:407!",
    "[1534406.062266] invalid opcode: 0000 [#6] PREEMPT SMP NOPTI",
    "[1534406.068801] CPU: 3 PID: 277798 Comm: python3 Tainted: G      D    OE      6.8.0-1040-nvidia #43-Ubuntu",
    "[1534406.079912] Hardware name: NVIDIA DGXH100/DGXH100, BIOS 1.1.3 10/30/2023",
    "[1534406.088080] RIP: 0010:nvfs_update_free_gpustat+0x73/0xe0 [nvidia_fs]",
    "[1534406.190000] Call Trace:",
    "[1534406.190100]  <TASK>",
    "[1534406.190200]  nvfs_pin_gpu_pages+0x2d0/0x5a0 [nvidia_fs]",
    "[1534406.190300]  nvfs_map+0x1f0/0x300 [nvidia_fs]",
    "[1534406.190400]  __x64_sys_ioctl+0x95/0xd0",
]


def test_scope_of_gpu_modules():
    rules = load_rules()
    for m in ("nvidia", "nvidia_uvm", "nvidia_modeset", "nvidia_drm", "nvidia_peermem", "amdgpu", "i915"):
        assert rules.in_list("gpu_modules", m), m
    for m in ("nvidia_fs", "gdrdrv", "nv_peer_mem"):
        assert not rules.in_list("gpu_modules", m), m


def test_bug_in_gpudirect_storage_module_is_a_kernel_bug():
    v = analyze_lines(BUG).verdict
    assert v.category == "kernel_bug"
    assert v.culprit.module == "nvidia_fs"


def test_bug_in_the_nvidia_driver_is_a_gpu_fault():
    lines = [l.replace("[nvidia_fs]", "[nvidia]").replace("nvfs_", "_nv012345rm_") for l in BUG]
    v = analyze_lines(lines).verdict
    assert v.category == "gpu_fault"
    assert v.culprit.module == "nvidia"


def test_posted_1040_whole_log():
    v = analyze_lines(posted_lines("1040")).verdict
    assert (v.category, v.culprit.module) == ("kernel_bug", "nvidia_fs")


def test_gvt_g_module_is_a_gpu_driver():
    """kvmgt.ko is i915's GVT-g (drivers/gpu/drm/i915/gvt); the corpus labels its oops
    gpu_null_deref/kvmgt (931)."""
    assert load_rules().in_list("gpu_modules", "kvmgt")
    v = analyze_lines([
        "[  100.000000] BUG: kernel NULL pointer dereference, address: 0000000000000018",
        "[  100.000100] #PF: supervisor read access in kernel mode",
        "[  100.000200] Oops: 0000 [#1] PREEMPT SMP NOPTI",
        "[  100.000300] RIP: 0010:intel_vgpu_detach_regions+0x2a/0x90 [kvmgt]",
        "[  100.000400] Call Trace:",
        "[  100.000500]  <TASK>",
        "[  100.000600]  intel_vgpu_close_device+0x57/0xd0 [kvmgt]",
        "[  100.000700]  vfio_device_fops_release+0x2a/0x60",
    ]).verdict
    assert (v.category, v.culprit.module) == ("gpu_null_deref", "kvmgt")


def test_every_drivers_gpu_module_is_a_gpu_module():
    """The modules of DRM bridges, panels, encoders and tiny drivers are built from drivers/gpu
    (6.12 Makefiles) like the GPU drivers themselves."""
    rules = load_rules()
    for m in ("imx8qxp_pixel_combiner", "samsung_dsim", "adv7511", "tda998x", "panel_simple", "ti_sn65dsi86",
              "lontium_lt9611", "rcar_lvds", "dw_hdmi", "vga_switcheroo", "ssd130x", "gm12u320"):
        assert rules.in_list("gpu_modules", m), m
    # the panel quirk tables and the KUnit objects are no drivers; sound, media and input are not drivers/gpu
    for m in ("drm_panel_orientation_quirks", "gpu_buddy_tests", "xe_test", "snd_hda_intel", "uvcvideo",
              "hid_multitouch", "lvds"):
        assert not rules.in_list("gpu_modules", m), m


BRIDGE_NULL = [   # the shape of tuning-half posted 2218 (i.MX8QXP pixel combiner, rmmod)
    "Unable to handle kernel NULL pointer dereference at virtual address 0000000000000010",
    "Internal error: Oops: 0000000096000004 [#1] PREEMPT SMP",
    "Modules linked in: imx8qxp_pixel_combiner(-) imx8qxp_pixel_link imx8qxp_ldb",
    "pc : imx8qxp_pc_bridge_remove+0x28/0x60 [imx8qxp_pixel_combiner]",
    "Call trace:",
    " imx8qxp_pc_bridge_remove+0x28/0x60 [imx8qxp_pixel_combiner]",
    " platform_remove+0x28/0x44",
    " device_release_driver_internal+0x1b0/0x254",
]


def test_null_dereference_in_a_drm_bridge_driver_is_a_gpu_null_dereference():
    v = analyze_lines(BRIDGE_NULL).verdict
    assert (v.category, v.culprit.module) == ("gpu_null_deref", "imx8qxp_pixel_combiner")


def test_null_dereference_in_a_sound_driver_stays_a_null_dereference():
    lines = [l.replace("imx8qxp_pixel_combiner", "snd_soc_fsl_sai").replace("imx8qxp_pc_bridge_remove",
                                                                            "fsl_sai_remove") for l in BRIDGE_NULL]
    v = analyze_lines(lines).verdict
    assert (v.category, v.culprit.module) == ("null_deref", "snd_soc_fsl_sai")


def test_posted_2218_is_a_gpu_null_dereference():
    from _posted import verdict
    assert verdict(posted_lines("2218")) == ("gpu_null_deref", "imx8qxp_pixel_combiner")


def test_built_in_bridge_and_panel_drivers_are_named_by_their_prefix():
    """A built-in DRM bridge or panel driver prints no [module] tag: its function prefix names it
    ([gpu_prefixes], from the 6.12 sources: at least half of each driver's functions carry its
    module name, and no other drivers/gpu module uses it)."""
    rules = load_rules()
    for fn, drv in (("samsung_dsim_resume", "samsung_dsim"), ("rcar_lvds_clk_enable", "rcar_lvds"),
                    ("tda998x_bridge_mode_set", "tda998x"), ("panel_simple_prepare", "panel_simple"),
                    ("adv7511_bridge_enable", "adv7511"), ("vga_switcheroo_register_client", "vga_switcheroo")):
        assert rules.builtin_gpu_driver(fn) == drv, fn
    # not other subsystems' names, nor cirrus_ (sound/ codecs use it too); nor adv7511_ alone: the
    # V4L2 driver drivers/media/i2c/adv7511-v4l2.c defines adv7511_get_edid and adv7511_log_status
    for fn in ("samsung_i2s_probe", "rcar_gen3_phy_usb2_init", "cirrus_scodec_get_speaker_id", "panel_bridge_attach_x",
               "lvds_enable", "adv7511_get_edid", "adv7511_log_status", "mtk_dp_phy_init"):
        assert rules.builtin_gpu_driver(fn) in (None, "drm"), fn


def test_posted_2402_and_2427_built_in_display_drivers():
    from _posted import verdict
    assert verdict(posted_lines("2402")) == ("gpu_null_deref", "samsung_dsim")
    assert verdict(posted_lines("2427")) == ("gpu_fault", "rcar_lvds")
