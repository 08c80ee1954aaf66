"""A trace-read report (hung task, allocation failure) whose reliable frames are all helpers
(scheduling and locking primitives, allocators) lost its callers: the frame-pointer chain broke
below the last primitive, at a module built without frame pointers (the NVIDIA binary core on
3.10-4.x kernels), whose frames the unwinder printed as '?'. The first module frame among the
'?' words after the last reliable frame is then the culprit; '?' words above it, and '?' core
words, are not (triage.classify.guilty._chain_broken_below)."""

from triage.analysis import analyze_lines

HUNG_NVIDIA_C7 = [   # a CentOS 7 hung task whose nvidia callers are all '?' (3.10 x86_64)
    "Jun  1 10:00:00 host kernel: INFO: task nvidia-smi:4321 blocked for more than 120 seconds.",
    'Jun  1 10:00:00 host kernel: "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.',
    "Jun  1 10:00:00 host kernel: nvidia-smi      D ffff8817d4c2a000     0  4321      1 0x00000084",
    "Jun  1 10:00:00 host kernel: Call Trace:",
    "Jun  1 10:00:00 host kernel: [<ffffffff816a94c9>] schedule+0x29/0x70",
    "Jun  1 10:00:00 host kernel: [<ffffffff816a6fd9>] schedule_timeout+0x239/0x2c0",
    "Jun  1 10:00:00 host kernel: [<ffffffff816a8d9e>] __down_common+0xaa/0x104",
    "Jun  1 10:00:00 host kernel: [<ffffffff816a8e15>] __down+0x1d/0x1f",
    "Jun  1 10:00:00 host kernel: [<ffffffff810b61a1>] down+0x41/0x50",
    "Jun  1 10:00:00 host kernel: [<ffffffffc0b3c1ab>] ? os_acquire_mutex+0x4b/0x50 [nvidia]",
    "Jun  1 10:00:00 host kernel: [<ffffffffc0b1e2f0>] ? _nv038505rm+0xc/0x30 [nvidia]",
    "Jun  1 10:00:00 host kernel: [<ffffffffc0b1f2f0>] ? rm_ioctl+0x58/0xb0 [nvidia]",
    "Jun  1 10:00:00 host kernel: [<ffffffff8121a5e0>] ? do_vfs_ioctl+0x350/0x560",
    "Jun  1 10:00:00 host kernel: [<ffffffff816b4fc9>] ? system_call_fastpath+0x16/0x1b",
]


def _verdict(lines):
    v = analyze_lines(lines).verdict
    return v.category, v.culprit.module if v.culprit else None, v.culprit.function if v.culprit else None


def test_hung_task_below_a_broken_chain_names_the_module():
    assert _verdict(HUNG_NVIDIA_C7) == ("hung_task", "nvidia", "os_acquire_mutex")


def test_module_words_above_the_last_reliable_frame_are_stale():
    # the same nvidia words, but only between the primitives: nothing below the chain
    lines = HUNG_NVIDIA_C7[:6] + HUNG_NVIDIA_C7[9:11] + HUNG_NVIDIA_C7[6:9] + HUNG_NVIDIA_C7[12:]
    cat, mod, _ = _verdict(lines)
    assert cat == "hung_task" and mod is None


def test_a_reliable_caller_stays_the_culprit():
    # the chain did not break: the core caller the unwinder vouched for is named
    lines = HUNG_NVIDIA_C7[:9] + [
        "Jun  1 10:00:00 host kernel: [<ffffffff812b61a1>] jbd2_log_wait_commit+0xa1/0x110",
    ] + HUNG_NVIDIA_C7[9:]
    assert _verdict(lines) == ("hung_task", None, "jbd2_log_wait_commit")


def test_questionable_core_words_alone_name_nothing():
    lines = [l for l in HUNG_NVIDIA_C7 if "[nvidia]" not in l]
    cat, mod, _ = _verdict(lines)
    assert cat == "hung_task" and mod is None


ALLOC_C7 = [   # a 3.10 allocation failure whose requester's frames are '?' below the allocator
    "[ 5000.000000] kworker/0:1: page allocation failure: order:4, mode:0x104020",
    "[ 5000.000001] CPU: 0 PID: 12 Comm: kworker/0:1 Tainted: P           OE  ------------   3.10.0-1160.el7.x86_64 #1",
    "[ 5000.000002] Call Trace:",
    "[ 5000.000003]  [<ffffffff81781fba>] dump_stack+0x19/0x1b",
    "[ 5000.000004]  [<ffffffff811c1d10>] warn_alloc_failed+0x110/0x180",
    "[ 5000.000005]  [<ffffffff811c68ff>] __alloc_pages_nodemask+0x9df/0xbe0",
    "[ 5000.000006]  [<ffffffff81214c88>] alloc_pages_current+0x98/0x110",
    "[ 5000.000007]  [<ffffffff811e089e>] kmalloc_order+0x1e/0x50",
    "[ 5000.000008]  [<ffffffff811e08fa>] kmalloc_order_trace+0x2a/0xa0",
    "[ 5000.000009]  [<ffffffffc0a1b2c3>] ? os_alloc_mem+0x63/0xf0 [nvidia]",
    "[ 5000.000010]  [<ffffffffc0a1c2c3>] ? _nv011212rm+0x20/0x40 [nvidia]",
    "[ 5000.000011]  [<ffffffff810b61a1>] ? process_one_work+0x17a/0x440",
]


def test_allocation_failure_below_a_broken_chain_names_the_requester():
    assert _verdict(ALLOC_C7) == ("alloc_failure", "nvidia", "os_alloc_mem")


def test_allocation_failure_without_module_words_stays_core():
    lines = [l for l in ALLOC_C7 if "[nvidia]" not in l]
    cat, mod, _ = _verdict(lines)
    assert cat == "alloc_failure" and mod is None
