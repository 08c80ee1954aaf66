"""An RCU stall (or hard lockup) report tainted L (TAINT_SOFTLOCKUP, set by kernel/watchdog.c
when it reports a soft lockup) came after a soft lockup was reported: the soft lockup of the
same CPU in the log is the first report of the loop (engine._soft_lockup_first). The positive
is the tuning half's posted 4500 and lines built from the kernel's formats; the negatives keep
the stall when it is not tainted L and when the soft lockup is another CPU's."""

from triage.analysis import analyze_lines, analyze_path

from _posted import posted_path


def test_posted_rcu_stall_tainted_l_before_its_soft_lockup():
    # 5.10: "rcu_sched self-detected stall on CPU" (CPU 12, Tainted: G L), then
    # "watchdog: BUG: soft lockup - CPU#12 stuck for 22s! [Xwayland:19156]" in amdgpu_gem_create_ioctl
    d = analyze_path(posted_path("4500"))
    assert (d.verdict.category, d.verdict.culprit.module) == ("soft_lockup", "amdgpu")


def _stall(taint: str, cpu: int = 3) -> list:
    # kernel/rcu/tree_stall.h print_cpu_stall() and the NMI backtrace it triggers
    return [
        "[ 1000.000000] rcu: INFO: rcu_sched self-detected stall on CPU",
        f"[ 1000.000001] rcu: \t{cpu}-....: (5250 ticks this GP) idle=0ee/1/0x4000000000000000 softirq=1/1 fqs=2600",
        f"[ 1000.000002] NMI backtrace for cpu {cpu}",
        f"[ 1000.000003] CPU: {cpu} PID: 4242 Comm: spinner Tainted: {taint} 5.10.0-8-amd64 #1 Debian 5.10.46-4",
        "[ 1000.000004] Call Trace:",
        "[ 1000.000005]  <IRQ>",
        "[ 1000.000006]  dump_stack+0x6b/0x83",
        "[ 1000.000007]  nmi_cpu_backtrace.cold+0x32/0x69",
        "[ 1000.000008]  rcu_dump_cpu_stacks+0xa2/0xd0",
        "[ 1000.000009]  rcu_sched_clock_irq.cold+0x1ff/0x3d6",
        "[ 1000.000010]  update_process_times+0x8c/0xc0",
        "[ 1000.000011]  </IRQ>",
        "[ 1000.000012] RIP: 0010:spin_helper+0x21/0x90 [foo]",
        "[ 1000.000013]  spin_ioctl+0x123/0x310 [foo]",
        "[ 1000.000014]  __x64_sys_ioctl+0x83/0xb0",
        "[ 1000.000015]  do_syscall_64+0x33/0x80",
    ]


def _lockup(cpu: int = 3) -> list:
    # kernel/watchdog.c watchdog_timer_fn() "BUG: soft lockup - CPU#%d stuck for %us! [%s:%d]"
    return [
        f"[ 1024.000000] watchdog: BUG: soft lockup - CPU#{cpu} stuck for 22s! [spinner:4242]",
        "[ 1024.000001] Modules linked in: foo",
        f"[ 1024.000002] CPU: {cpu} PID: 4242 Comm: spinner Tainted: G             L    5.10.0-8-amd64 #1",
        "[ 1024.000003] RIP: 0010:spin_ioctl+0x1e9/0x310 [foo]",
        "[ 1024.000004] Call Trace:",
        "[ 1024.000005]  __x64_sys_ioctl+0x83/0xb0",
        "[ 1024.000006]  do_syscall_64+0x33/0x80",
    ]


def test_a_stall_tainted_l_gives_way_to_the_soft_lockup_of_its_cpu():
    v = analyze_lines(_stall("G             L   ") + _lockup()).verdict
    assert (v.category, v.culprit.module) == ("soft_lockup", "foo")


def test_a_stall_not_tainted_l_stays_first():
    v = analyze_lines(_stall("G                 ") + _lockup()).verdict
    assert v.category == "rcu_stall"


def test_a_soft_lockup_of_another_cpu_is_not_the_stalls():
    v = analyze_lines(_stall("G             L   ", cpu=3) + _lockup(cpu=5)).verdict
    assert v.category == "rcu_stall"
