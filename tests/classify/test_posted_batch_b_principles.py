"""The rule changes of the fresh-2026-12-06b round, each a principle, on the
tuning-half posted logs that showed it (tests/data/posted/README.md)."""

from pathlib import Path

import pytest

from triage.analysis import analyze_lines

POSTED = Path(__file__).resolve().parents[1] / "data" / "posted"


@pytest.mark.parametrize("name, category, module", [
    # a stack pasted from the sanitizer's entry point on: __ubsan_handle_* reports UBSAN
    ("228-nvidia-uvm-ubsan-out-of-bounds-mid-trace-sev.log", "sanitizer", "nvidia_uvm"),
    # DMA-coherent allocators (swiotlb) only hand out memory: the culprit is the driver that asked
    ("230-alloc-failure-order9-fbcapture-tcpdump-3.8.log", "alloc_failure", "fbcapture"),
    # nouveau before nvkm: "[drm] nouveau <pci>: PFIFO - playlist update failed"
    ("243-nouveau-pfifo-playlist-update-failed-idle-channel.log", "gpu_fault", "nouveau"),
    # amdgpu_device_gpu_recover(): "GPU reset begin!" is the recovery from a GPU hang
    ("274-amdgpu-gpu-reset-dmesg-T-russian-before-gmc-bug.log", "gpu_fault", "amdgpu"),
    # arm32 " callee from caller+0x/0x" frames open a headerless report; warn_alloc names it
    ("270-arm32-alloc-failure-brcmfmac-dmesg-H-header-cut.log", "alloc_failure", "brcmfmac"),
    # the WARNING's source file (drivers/gpu/drm/i915/) names the driver when the line is cut before [i915]
    ("236-i915-drm-warn-on-pps-vdd-journal-lowercase-month.log", "warning", "i915"),
])
def test_principle(name, category, module):
    d = analyze_lines((POSTED / name).read_text(encoding="utf-8").splitlines())
    assert d.verdict.category == category
    assert (d.verdict.culprit.module if d.verdict.culprit else None) == module
