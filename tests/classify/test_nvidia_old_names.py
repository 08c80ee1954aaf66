"""NVIDIA driver names the module tag alone does not give.

* nvidia-drm's functions are nv_drm_*/__nv_drm_* (open-gpu-kernel-modules
  kernel-open/nvidia-drm), a prefix no function of the 5.10/6.12 kernel source has: a frame
  whose "[nvidia_drm]" tag a terminal cut is still nvidia-drm's (tuning-half posted 3319).
* The 2.4-era NVIDIA module was NVdriver, and its oopses reach us decoded by ksymoops
  (">>EIP; addr <[NVdriver]_nv_rmsym_01050+14/40>"): a GPU module (posted 3316).
"""

import pytest

from triage.analysis import analyze_lines
from triage.classify import load_rules

from _posted import posted_lines

RULES = load_rules()


def test_nv_drm_functions_are_nvidia_drm():
    assert RULES.builtin_gpu_driver("nv_drm_atomic_commit") == "nvidia_drm"
    assert RULES.builtin_gpu_driver("__nv_drm_gem_user_memory_handle_vma_fault") == "nvidia_drm"


@pytest.mark.parametrize("fn", ["nv_adma_host_init", "nv_swncq_qc_issue", "nvidia_bugs", "nv_dram_probe"])
def test_other_nv_functions_are_not_nvidia_drm(fn):
    # sata_nv's nv_adma_/nv_swncq_ and the x86 quirk nvidia_bugs are in-tree core code
    assert RULES.builtin_gpu_driver(fn) != "nvidia_drm"


CUT_WARNING = [
    "host kernel: Unhandled error in nv_drm_gem_fault: -22",
    "host kernel: WARNING: CPU: 13 PID: 1595 at /build/nvidia/nvidia-drm/nvidia-drm-gem.c:1>",
    "host kernel: Modules linked in: nvidia_drm(POE) nvidia_modeset(POE) nvidia(POE) drm_kms_help>",
    "host kernel: RIP: 0010:nv_drm_gem_fault+0x8c/0x90 [nvidia_>",
    "host kernel: Call Trace:",
    "host kernel:  __do_fault+0x38/0xd0",
    "host kernel:  handle_mm_fault+0x1496/0x1a40",
]


def test_cut_tag_of_an_nv_drm_frame_names_nvidia_drm():
    v = analyze_lines(CUT_WARNING).verdict
    assert (v.category, v.culprit.module) == ("warning", "nvidia_drm")


def test_cut_tag_of_another_function_is_not_nvidia_drm():
    lines = [l.replace("nv_drm_gem_fault", "vm_fault_helper") for l in CUT_WARNING]
    v = analyze_lines(lines).verdict
    assert v.culprit.module != "nvidia_drm"


KSYMOOPS = [
    "Apr 23 04:20:13 test kernel: Unable to handle kernel NULL pointer dereference at virtual address 00000000",
    "Apr 23 04:20:13 test kernel: Oops: 0000",
    "Apr 23 04:20:13 test kernel: EIP:    0010:[<d898ef58>]",
    "Apr 23 04:20:13 test kernel: Call Trace: [<dda21004>] [<d898f2fb>]",
    "",
    ">>EIP; d898ef58 <[{mod}]{fn}+14/40>   <=====",
    "Trace; dda21004 <[{mod}].bss.end+5024385/5051381>",
    "Trace; c0119b53 <update_process_times+23/90>",
]


def _ksymoops(mod: str, fn: str):
    return [l.format(mod=mod, fn=fn) for l in KSYMOOPS]


def test_ksymoops_eip_in_nvdriver_is_a_gpu_null_deref():
    v = analyze_lines(_ksymoops("NVdriver", "_nv_rmsym_01050")).verdict
    assert (v.category, v.culprit.module, v.culprit.function) == ("gpu_null_deref", "NVdriver", "_nv_rmsym_01050")


def test_ksymoops_eip_in_another_module_is_that_modules_null_deref():
    v = analyze_lines(_ksymoops("lp", "lp_write")).verdict
    assert (v.category, v.culprit.module, v.culprit.function) == ("null_deref", "lp", "lp_write")


def test_posted_3316_and_3319():
    v = analyze_lines(posted_lines("3316")).verdict
    assert (v.category, v.culprit.module) == ("gpu_null_deref", "NVdriver")
    v = analyze_lines(posted_lines("3319")).verdict
    assert (v.category, v.culprit.module) == ("warning", "nvidia_drm")


def test_ksymoops_lines_parse_as_frames():
    from triage.events.frames import parse_ip_line, parse_trace_line
    ip = parse_ip_line(">>EIP; d898ef58 <[NVdriver]_nv_rmsym_01050+14/40>   <=====")
    assert (ip.function, ip.offset, ip.module) == ("_nv_rmsym_01050", 0x14, "NVdriver")
    fr = parse_trace_line("Trace; c0119b53 <update_process_times+23/90>")
    assert (fr.function, fr.module, fr.reliable) == ("update_process_times", None, False)
    # a section offset is no symbol; ordinary "Trace;" prose is no frame
    assert parse_trace_line("Trace; dda21004 <[NVdriver].bss.end+5024385/5051381>") is None
    assert parse_trace_line("Trace; see the attached file") is None
    assert parse_ip_line(">>EIP; d898ef58") is None
