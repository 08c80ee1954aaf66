"""Reservation locks (dma_resv_lock, ttm_bo_reserve, ttm_eu_reserve_buffers,
drm_exec) take the ww_mutex of the caller's buffers: a task hung in one is named
by the driver that asked for the lock, as with mutex_lock."""

from _posted import posted_lines, verdict

HEAD = ["[  242.1] INFO: task Xorg:797 blocked for more than 120 seconds.",
        "[  242.2] Call Trace:",
        "[  242.3]  __schedule+0x2b9/0x6c0",
        "[  242.4]  schedule+0x42/0xb0",
        "[  242.5]  __ww_mutex_lock.isra.0+0x261/0x7f0",
        "[  242.6]  ww_mutex_lock+0x38/0x90"]


def test_posted_1309_qxl_cursor_update_waits_in_ttm_eu_reserve_buffers():
    lines = posted_lines("1309")
    assert verdict(lines) == ("hung_task", "qxl")


def test_dma_resv_lock_for_amdgpu_names_amdgpu():
    assert verdict(HEAD + ["[  242.7]  dma_resv_lock+0x20/0x40",
                            "[  242.8]  amdgpu_bo_reserve+0x30/0x70 [amdgpu]",
                            "[  242.9]  amdgpu_gem_va_ioctl+0x1e0/0x400 [amdgpu]"]) == ("hung_task", "amdgpu")


def test_ttm_own_work_after_the_lock_stays_ttm():
    # the lock was taken inside ttm's own eviction: ttm's work, not a caller's reservation
    assert verdict(HEAD + ["[  242.7]  ttm_bo_reserve+0x20/0x40 [ttm]",
                            "[  242.8]  ttm_mem_evict_first+0x180/0x3c0 [ttm]",
                            "[  242.9]  ttm_bo_mem_space+0x1f0/0x2c0 [ttm]"]) == ("hung_task", "ttm")
