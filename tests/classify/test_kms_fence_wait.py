"""drm_atomic_helper_wait_for_fences() only waits (dma_fence_wait) on the fences of the atomic
state its driver's commit_tail passes: like dma_fence_wait itself it is a wait primitive
([skip] locking), so a task blocked there is named by the driver that waits, not by the KMS
helper library. The helper's functions that check something of their own (the vblank wait's
timeout WARNING, labelled by its site in the corpus: 281, 1129, 1133) are not waits here."""

from triage.analysis import analyze_lines
from triage.classify import load_rules

from _posted import posted_lines

HUNG = [   # the hung-task part of tuning-half posted log 1109 (nouveau, 5.1)
    "[ 3000.000000] INFO: task kworker/u8:2:1186 blocked for more than 505 seconds.",
    "[ 3000.000100]       Tainted: G        W         5.1.4-1-MANJARO #1",
    "[ 3000.000200] Call Trace:",
    "[ 3000.000300]  ? __schedule+0x30b/0x8b0",
    "[ 3000.000400]  schedule+0x32/0x80",
    "[ 3000.000500]  schedule_timeout+0x311/0x4a0",
    "[ 3000.000600]  ? nouveau_fence_is_signaled+0x39/0x40 [nouveau]",
    "[ 3000.000700]  dma_fence_default_wait+0x204/0x280",
    "[ 3000.000800]  dma_fence_wait_timeout+0x105/0x120",
    "[ 3000.000900]  drm_atomic_helper_wait_for_fences+0x38/0xc0 [drm_kms_helper]",
    "[ 3000.001000]  nv50_disp_atomic_commit_tail+0x72/0x690 [nouveau]",
    "[ 3000.001100]  process_one_work+0x1eb/0x410",
    "[ 3000.001200]  worker_thread+0x2d/0x3d0",
    "[ 3000.001300]  kthread+0x112/0x130",
]


def test_fence_wait_helper_is_a_wait():
    locking = load_rules().skip["locking"]
    assert any(p.search("drm_atomic_helper_wait_for_fences") for p in locking)
    for fn in ("drm_atomic_helper_wait_for_vblanks", "drm_atomic_helper_wait_for_flip_done",
               "drm_atomic_helper_commit_tail", "drm_atomic_helper_wait_for_fences_x"):
        assert not any(p.search(fn) for p in locking), fn


def test_task_blocked_on_commit_fences_is_named_by_the_driver():
    v = analyze_lines(HUNG).verdict
    assert v.category == "hung_task"
    assert (v.culprit.module, v.culprit.function) == ("nouveau", "nv50_disp_atomic_commit_tail")


def test_task_blocked_in_another_kms_helper_wait_is_the_drivers_too():
    # not a wait primitive ([skip] locking), so the helper is the guilty frame; but a blocked
    # task in a GPU library waits on the work of the driver below it (gpu_helper_libs,
    # test_driver_behind_library.py): the flip nouveau never completed
    lines = [l.replace("drm_atomic_helper_wait_for_fences+0x38/0xc0", "drm_atomic_helper_wait_for_flip_done+0x38/0xc0")
             .replace("dma_fence_default_wait+0x204/0x280", "wait_for_completion_timeout+0x204/0x280")
             .replace("dma_fence_wait_timeout+0x105/0x120", "__wait_for_common+0x105/0x120") for l in HUNG]
    v = analyze_lines(lines).verdict
    assert v.category == "hung_task"
    assert (v.culprit.module, v.culprit.function) == ("nouveau", "nv50_disp_atomic_commit_tail")


def test_posted_1109_whole_log_names_nouveau():
    v = analyze_lines(posted_lines("1109")).verdict
    assert v.culprit.module == "nouveau"
