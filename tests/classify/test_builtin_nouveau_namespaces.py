"""Built-in nouveau (arm64 Tegra boards, some x86 configs) prints no [nouveau] tag: its frames
are named by nouveau's own namespaces ([gpu_prefixes] nouveau): nvkm's chip codenames, the
VBIOS parser (nvbios_*) and dispnv50's display-class functions (head507d_, wndwc37e_, ...).
Names that only share a first word stay unnamed (forcedeth's nv_*, mxm-wmi's mxm_wmi_*)."""

from triage.analysis import analyze_lines
from triage.classify import load_rules


def test_nouveau_namespaces():
    rules = load_rules()
    for fn in ("nvbios_rd32", "nvbios_outp_match", "head507d_mode", "wndwc37e_image_set", "curs507a_update",
               "corec37d_init", "nv84_fence_emit", "nvc0_fence_context_new", "gf104_clk_new", "g92_pcie_version",
               "mxm_shadow_rom", "nv_crtc_mode_set", "gm20b_pmu_init"):
        assert rules.builtin_gpu_driver(fn) == "nouveau", fn


def test_names_sharing_only_a_first_word_are_not_nouveau():
    rules = load_rules()
    for fn in ("nv_open", "nv_do_interrupt", "mxm_wmi_call_mxds", "nvme_probe", "nvmem_register",
               "head_init", "core_sys_select", "base64_encode", "init_dummy_netdev"):
        assert rules.builtin_gpu_driver(fn) is None, fn
    # init_ is no namespace of nouveau's; but init_rdauxr itself (a VBIOS script opcode, static in
    # nvkm/subdev/bios/init.c) is defined nowhere else: named by its whole name
    # ([generated_gpu_functions]), not by the prefix
    assert rules.builtin_gpu_driver("init_rdauxr") == "nouveau"


def test_builtin_nouveau_display_oops_is_a_gpu_fault():
    v = analyze_lines([
        "[   20.000000] Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008",
        "[   20.000100] Internal error: Oops: 96000004 [#1] PREEMPT SMP",
        "[   20.000200] Modules linked in:",
        "[   20.000300] pc : head507d_mode+0x40/0x200",
        "[   20.000400] lr : nv50_head_flush_set+0x6c/0x120",
        "[   20.000500] Call trace:",
        "[   20.000600]  head507d_mode+0x40/0x200",
        "[   20.000700]  nv50_head_flush_set+0x6c/0x120",
        "[   20.000800]  nv50_disp_atomic_commit_tail+0x4a0/0x6b0",
    ]).verdict
    assert v.category == "gpu_null_deref"
    assert (v.culprit.module, v.culprit.function) == ("nouveau", "head507d_mode")
