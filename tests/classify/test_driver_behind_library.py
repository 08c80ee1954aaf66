"""A task blocked inside a GPU library (drm, ttm, gpu_sched: gpu_helper_libs) waits on
the work of the driver that called it: the hung-task verdict names that driver. The
library stays the culprit when the core called it, and for reports other than a
blocked task (an oops in gpu_sched is gpu_sched's)."""

from triage.analysis import analyze_lines

from _posted import posted_lines, verdict

HUNG = ["[  242.1] INFO: task kworker/2:0:62785 blocked for more than 966 seconds.",
        "[  242.2] Call Trace:",
        "[  242.3]  __schedule+0x3c8/0xc18",
        "[  242.4]  schedule+0x3c/0x120",
        "[  242.5]  schedule_timeout+0xdc/0x130",
        "[  242.6]  dma_fence_default_wait+0x1f4/0x238"]


def test_posted_1340_v3d_timeout_handler_stuck_in_drm_sched_stop():
    lines = posted_lines("1340")
    assert verdict(lines) == ("hung_task", "v3d")


def test_amdgpu_reset_stuck_in_the_scheduler_names_amdgpu():
    assert verdict(HUNG + ["[  242.7]  drm_sched_stop+0x13c/0x220 [gpu_sched]",
                            "[  242.8]  drm_sched_entity_flush+0x10/0x20 [gpu_sched]",
                            "[  242.9]  amdgpu_device_gpu_recover+0x2b0/0x9a0 [amdgpu]",
                            "[  243.0]  process_one_work+0x158/0x3b8"]) == ("hung_task", "amdgpu")


def test_library_entered_from_the_core_stays_the_library():
    assert verdict(HUNG + ["[  242.7]  drm_atomic_helper_commit+0x118/0x120 [drm_kms_helper]",
                            "[  242.8]  drm_mode_atomic_ioctl+0x8f0/0xa20 [drm]",
                            "[  242.9]  drm_ioctl+0x1d8/0x410 [drm]",
                            "[  243.0]  __x64_sys_ioctl+0x91/0xc0"]) == ("hung_task", "drm_kms_helper")


def test_an_oops_in_the_scheduler_stays_the_schedulers():
    d = analyze_lines(["[  10.0] BUG: kernel NULL pointer dereference, address: 0000000000000008",
                       "[  10.1] RIP: 0010:drm_sched_stop+0x40/0x220 [gpu_sched]",
                       "[  10.2] Call Trace:",
                       "[  10.3]  drm_sched_stop+0x40/0x220 [gpu_sched]",
                       "[  10.4]  amdgpu_device_gpu_recover+0x2b0/0x9a0 [amdgpu]"])
    assert d.verdict.culprit.module == "gpu_sched"
