"""Built-in i915 (Chromebooks, ACRN service OS, embedded x86 images) prints no [i915] tag:
its display and GT subsystems are named by their own multi-word intel_* namespaces
([gpu_prefixes] i915), never by intel_ alone (intel_idle, intel_pstate, intel_iommu and
the platform drivers are core or non-GPU code) nor by one-word verbs (intel_get_)."""

from triage.classify import load_rules


def test_i915_subsystem_namespaces():
    rules = load_rules()
    for fn in ("intel_bios_init", "intel_rps_boost", "intel_sdvo_init", "intel_fbc_update", "intel_pps_on",
               "intel_tc_port_lock", "intel_hdcp_enable", "intel_backlight_setup", "intel_hpd_irq_handler",
               "intel_opregion_register", "intel_dmc_load_program", "intel_ggtt_init_fences",
               "intel_memory_region_create", "intel_power_well_enable", "intel_dsb_commit"):
        assert rules.builtin_gpu_driver(fn) == "i915", fn


def test_other_intel_code_is_not_i915():
    rules = load_rules()
    for fn in ("intel_idle", "intel_pstate_set_pstate", "intel_iommu_map_pages", "intel_pmc_core_probe",
               "intel_get_event_constraints", "intel_th_probe", "intel_vsec_probe", "intel_powerclamp_init",
               "intel_gvt_init", "intel_vgpu_create"):
        assert rules.builtin_gpu_driver(fn) is None, fn
