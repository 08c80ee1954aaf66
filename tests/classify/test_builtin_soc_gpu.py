"""Built-in SoC GPU drivers named by their function prefixes ([gpu_prefixes] msm,
etnaviv in signatures/lists.toml), and a lock query at the faulting pc passed over
like the lock primitives.

msm's prefixes are the DRM driver's own (msm_gem_, msm_gpu_, adreno_, a6xx_, dpu_, ...),
never `msm_` alone: Qualcomm's built-in pin controller and serial drivers are
msm_gpio_*, msm_pinctrl_*, msm_serial_* (label of posted 444: pinctrl-msm is not the
GPU driver). The oops is quoted from tuning-half posted log 918."""

from triage.analysis import analyze_lines
from triage.classify import load_rules


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
