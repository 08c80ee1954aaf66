"""A blocked-task report (hung task, workqueue lockup, a netdevice waiting for its references)
reports a wait that began earlier: an earlier failure report of the same boot is what the task
waited on, and is the verdict (engine._waited_on_first). Positives are the tuning half's posted
logs and lines built from the kernel's and the NVIDIA driver's formats; the negatives keep the
blocked report when it came first, when its own stack names another module, when the earlier
report is out of reach in time, and across a reboot."""

import pytest

from triage.analysis import analyze_lines, analyze_path

from _posted import posted_path


@pytest.mark.parametrize("prefix, category, module", [
    # six Xid 45 lines, then a hung task whose stack is cut
    ("659", "gpu_xid", "nvidia"),
    # a percpu_ref underflow WARNING, then unregister_netdevice waiting on the refcount
    ("916", "warning", None),
    # two OOM kills, then "BUG: workqueue lockup" of the pools the allocators wait on
    ("4202", "oom_kill", None),
])
def test_the_report_the_task_waited_on_is_the_verdict(prefix, category, module):
    d = analyze_path(posted_path(prefix))
    assert (d.verdict.category, d.verdict.culprit.module) == (category, module)


# NVIDIA kernel_rc.c's Xid line, then kernel/hung_task.c check_hung_task()'s report
_XID = "[  100.000000] NVRM: Xid (PCI:0000:61:00): 45, pid=1496, name=python3, Ch 0000000a"


def _hung(ts: float, frames=()) -> list:
    lines = [f"[{ts:12.6f}] INFO: task worker:620917 blocked for more than 120 seconds.",
             f"[{ts:12.6f}]       Tainted: P           OE     5.15.0-97-generic #107-Ubuntu",
             f'[{ts:12.6f}] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.',
             f"[{ts:12.6f}] task:worker         state:D stack:    0 pid:620917 ppid:     1 flags:0x00000000"]
    if frames:
        lines.append(f"[{ts:12.6f}] Call Trace:")
        lines += [f"[{ts:12.6f}]  {f}" for f in frames]
    return lines


def test_an_xid_before_a_hung_task_is_the_verdict():
    v = analyze_lines([_XID] + _hung(221.0)).verdict
    assert (v.category, v.culprit.module) == ("gpu_xid", "nvidia")


@pytest.mark.parametrize("frames, category, module", [
    # its stack waits in the driver of the Xid: the Xid is what it waited on
    (["os_acquire_mutex+0x2a/0x40 [nvidia]", "_nv042330rm+0x10/0x20 [nvidia]", "nvidia_ioctl+0x5e3/0x8a0 [nvidia]",
      "__x64_sys_ioctl+0x95/0xd0"], "gpu_xid", "nvidia"),
    # its stack says it waits in xfs: the Xid of the GPU is not what it waited on
    (["xlog_grant_head_wait+0xb8/0x230 [xfs]", "xfs_log_reserve+0xc4/0x1d0 [xfs]",
      "xfs_trans_reserve+0x17b/0x200 [xfs]", "vfs_write+0xb9/0x270"], "hung_task", "xfs"),
], ids=["same-driver-follows-its-xid", "another-module-stays"])
def test_the_module_a_hung_task_waits_in_decides(frames, category, module):
    stack = ["__schedule+0x2d1/0x870", "schedule+0x55/0xf0", *frames, "do_syscall_64+0x5c/0xc0"]
    v = analyze_lines([_XID] + _hung(221.0, stack)).verdict
    assert (v.category, v.culprit.module) == (category, module)


def test_a_hung_task_before_the_other_report_stays():
    # the Xid comes after the task blocked: it cannot be what the task waited on
    v = analyze_lines(_hung(100.0) + [_XID.replace("  100.000000", "  130.000000")]).verdict
    assert v.category == "hung_task"


def test_a_report_out_of_reach_in_time_is_not_waited_on():
    # 3600 s before a task blocked for 120 s: past CAUSE_WINDOW_S plus the blocked time
    v = analyze_lines([_XID] + _hung(3700.0)).verdict
    assert v.category == "hung_task"


def test_a_report_before_a_reboot_is_not_waited_on():
    # the clock goes back: a new boot, whose hung task cannot wait on the old boot's Xid
    v = analyze_lines([_XID.replace("  100.000000", " 5000.000000")] + _hung(150.0)).verdict
    assert v.category == "hung_task"
