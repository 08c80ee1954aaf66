"""The hung-task detector's blocker line (kernel/hung_task.c debug_show_blocker(), 6.16+):
"INFO: task %s:%d is blocked on a mutex likely owned by task %s:%d.", "... blocked on a
semaphore likely last held by task ...", "... blocked on an rw-semaphore likely owned by
task ...". It is printed only inside a hung-task report, so an excerpt that starts there is
that report with its header cut, not a headerless oops (tuning-half posted log 657)."""

import pytest

from triage.analysis import analyze_lines
from triage.events.headers import match_header

BLOCKER_ONLY = [
    "INFO: task nvidia-modeset/:226 blocked on a semaphore likely last held by task kwin_wayland:1088",
    "task:kwin_wayland state:R running task stack:0 pid:1088 tgid:1088 ppid:1080",
    "Call Trace:",
    " ? osDevReadReg032+0x23/0x70 [nvidia]",
    " ? _regRead+0x113/0x140 [nvidia]",
    " ? kgspRecvPoll_IMPL+0x19c/0x8a0 [nvidia]",
    " ? nvkms_call_rm+0x4e/0x80 [nvidia_modeset]",
]


@pytest.mark.parametrize("line, comm, kind, owner", [
    ("INFO: task ring0:155 is blocked on a mutex likely owned by task gpu-worker:154.", "ring0", "mutex", "gpu-worker"),
    ("INFO: task nvidia-modeset/:226 blocked on a semaphore likely last held by task kwin_wayland:1088",
     "nvidia-modeset/", "semaphore", "kwin_wayland"),
    ("INFO: task kworker/0:1:12 is blocked on an rw-semaphore likely owned by task mount:99",
     "kworker/0:1", "rw-semaphore", "mount"),
    # 6.17+ rw-semaphores name the side each task is on (synthetic, from the format string
    # "INFO: task %s:%d <%s> blocked on an rw-semaphore likely owned by task %s:%d <%s>")
    ("INFO: task modprobe:31634 <writer> blocked on an rw-semaphore likely owned by task kworker/u16:0:12 <reader>",
     "modprobe", "rw-semaphore", "kworker/u16:0"),
    ("INFO: task NvmlTaskRunner:11290 <reader> blocked on an rw-semaphore likely owned by task "
     "VLLM::EngineCor:46249 <writer>", "NvmlTaskRunner", "rw-semaphore", "VLLM::EngineCor"),
])
def test_blocker_line_is_a_hung_task_header(line, comm, kind, owner):
    h = match_header(line)
    assert h is not None and h.kind == "hung_task"
    assert (h.fields["comm"], h.fields["blocker_kind"], h.fields["blocker_comm"]) == (comm, kind, owner)


@pytest.mark.parametrize("line, kind", [
    # debug_show_blocker() when the owner is gone (synthetic, from its format strings)
    ("INFO: task modprobe:2342 is blocked on a mutex, but the owner is not found.", "mutex"),
    ("INFO: task modprobe:2342 is blocked on a semaphore, but the last holder is not found.", "semaphore"),
    ("INFO: task modprobe:2342 is blocked on an rw-semaphore, but the owner is not found.", "rw-semaphore"),
])
def test_owner_not_found_line_is_a_hung_task_header(line, kind):
    h = match_header(line)
    assert h is not None and h.kind == "hung_task"
    assert (h.fields["comm"], h.fields["pid"], h.fields["blocker_kind"]) == ("modprobe", 2342, kind)
    assert "blocker_comm" not in h.fields


def test_other_blocked_wordings_are_not_hung_task_headers():
    for line in ("INFO: task foo:1 blocked on a bus likely owned by task bar:2",
                 "INFO: task foo:1 <sleeper> blocked on an rw-semaphore likely owned by task bar:2 <writer>",
                 "INFO: task foo:1 is blocked on a mutex, but the owner is lost.",
                 "task blocked on a mutex likely owned by task bar:2"):
        h = match_header(line)
        assert h is None or h.kind != "hung_task", line


def test_excerpt_from_the_blocker_line_is_a_hung_task_not_an_oops():
    v = analyze_lines(BLOCKER_ONLY).verdict
    assert v.category == "hung_task"


def test_full_report_still_names_the_blocked_task():
    lines = [
        "[  245.112233] INFO: task ring0:155 blocked for more than 122 seconds.",
        "[  245.112244] task:ring0           state:D stack:0     pid:155   ppid:2      flags:0x00000008",
        "[  245.112250] Call trace:",
        "[  245.112252]  __switch_to+0x108/0x208",
        "[  245.112256]  schedule+0x544/0x11f0",
        "[  245.112262]  __mutex_lock_common+0x410/0x850",
        "[  245.112268]  mutex_lock+0x5c/0x90",
        "[  245.112271]  msm_job_run+0x9c/0x140",
        "[  245.112274]  drm_sched_main+0x514/0x938",
        "[  245.112277]  kthread+0x114/0x138",
        "[  245.112283] INFO: task ring0:155 is blocked on a mutex likely owned by task gpu-worker:154.",
        "[  245.112286] task:gpu-worker      state:D stack:0     pid:154   ppid:2      flags:0x00000008",
        "[  245.112289] Call trace:",
        "[  245.112291]  __switch_to+0x108/0x208",
        "[  245.112300]  dma_fence_default_wait+0x108/0x218",
        "[  245.112309]  active_purge+0x34/0x98",
    ]
    v = analyze_lines(lines).verdict
    assert v.category == "hung_task" and v.culprit.function == "msm_job_run"


def test_rwsem_report_names_the_blocked_tasks_function():
    # hung_task.c check_hung_task() then debug_show_blocker() for an rw-semaphore (6.17+)
    lines = [
        "[  984.000001] INFO: task nvidia-smi:49301 blocked for more than 368 seconds.",
        "[  984.000002]       Tainted: P           OE      6.17.0 #1",
        "[  984.000003] task:nvidia-smi      state:D stack:0     pid:49301 tgid:49301 ppid:1",
        "[  984.000004] Call Trace:",
        "[  984.000005]  <TASK>",
        "[  984.000006]  __schedule+0x1/0x2",
        "[  984.000007]  schedule+0x1/0x2",
        "[  984.000008]  rwsem_down_write_slowpath+0x1/0x2",
        "[  984.000009]  down_write+0x1/0x2",
        "[  984.000010]  os_acquire_rwlock_write+0x1/0x2 [nvidia]",
        "[  984.000011]  rm_ioctl+0x1/0x2 [nvidia]",
        "[  984.000012]  </TASK>",
        "[  984.000013] INFO: task nvidia-smi:49301 <writer> blocked on an rw-semaphore likely owned by task "
        "VLLM::EngineCor:46249 <writer>",
        "[  984.000014] task:VLLM::EngineCor state:S stack:0     pid:46249 tgid:46249 ppid:1",
        "[  984.000015] Call Trace:",
        "[  984.000016]  <TASK>",
        "[  984.000017]  __schedule+0x1/0x2",
        "[  984.000018]  </TASK>",
    ]
    v = analyze_lines(lines).verdict
    assert v.category == "hung_task" and v.culprit.module == "nvidia"
