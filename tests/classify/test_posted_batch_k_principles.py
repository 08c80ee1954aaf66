"""The rule changes of the fresh-2026-12-06k round, each a principle, on the
tuning-half posted logs that showed it (tests/data/posted/README.md), with the
negative cases beside them."""

from pathlib import Path

import pytest

from triage.analysis import analyze_lines

POSTED = Path(__file__).resolve().parents[1] / "data" / "posted"


def _verdict(name):
    d = analyze_lines((POSTED / name).read_text(encoding="utf-8").splitlines())
    c = d.verdict.culprit
    return d.verdict.category, (c.module if c else None), (c.function if c else None)


@pytest.mark.parametrize("name, category, module, function", [
    # a NULL callback called from dma_fence_signal_locked(): the fence's owner installed it
    ("604-i915-null-rip-0-dma-fence-signal-request-retire-syslog-mail-quoted.log",
     "gpu_null_deref", "i915", "i915_request_retire"),
    # a write into a freed fence inside dma_fence_add_callback(), on the GPU scheduler's thread
    ("759-arm64-lima-rk3328-refcount-warnings-then-oops-dma-fence-add-callback-drm-sched-wrapped.log",
     "gpu_fault", "gpu_sched", "drm_sched_entity_pop_job"),
    # dma_fence_signal()'s WARN_ON on a NULL fence warns for its caller, as refcount_ checks do
    ("621-dma-fence-signal-warning-null-fence-kfd-process-wq-release-stable-patch.log",
     "warning", "amdgpu", "kfd_process_wq_release"),
])
def test_dma_fence_library_faults_name_the_caller(name, category, module, function):
    assert _verdict(name) == (category, module, function)


@pytest.mark.parametrize("name, category, module, function", [
    # a header inline (dma_fence_is_signaled) compiled into amdgpu is amdgpu's own code:
    # with no trace after it, it stays guilty rather than the workqueue's function
    ("630-amdgpu-null-deref-dma-fence-is-signaled-gpu-recover-journal-summary-then-full.log",
     "gpu_null_deref", "amdgpu", "dma_fence_is_signaled"),
    # a task waiting on a fence is named past the wait (the `locking` list), as before
    ("045-hung-task-arm64-lima-fence-wait.log", "hung_task", "lima", "lima_vm_bo_del"),
])
def test_dma_fence_inlines_and_waits_unchanged(name, category, module, function):
    assert _verdict(name) == (category, module, function)
