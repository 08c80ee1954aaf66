"""Report wordings of kernel generations 3.10 .. 6.x, x86_64 and arm64.

Oracles: the labelled fixtures in tests/data/logs (hand-written in the exact
wording of each kernel generation, see the file names), the real 6.1 serial
console captures in tests/data/analyze (QEMU crashes made by
sample_dumps/dumpgen), and single lines in the wording of kernel/printk
format strings."""

import os

import pytest

from triage.events import decode_taint, parse_log, parse_text, read_log_file

LOGS = os.path.join(os.path.dirname(__file__), "..", "data", "logs")
REAL = os.path.join(os.path.dirname(__file__), "..", "data", "analyze")


def load(name):
    return read_log_file(os.path.join(LOGS, name))


def kinds(log):
    return [e.kind for e in log.events]


def test_centos7_310_null_deref_ip_line_and_old_trace():
    log = load("centos7-3.10-nvidia-null-deref.log")
    ev = log.events[0]
    assert ev.kind == "null_deref" and ev.fields["address"] == 0
    assert (ev.ip.function, ev.ip.offset, ev.ip.size, ev.ip.module) == ("_nv012345rm", 0x1c3, 0x2a0, "nvidia")
    assert ev.frames[0].function == "_nv012340rm" and not ev.frames[0].reliable
    assert [f.function for f in ev.frames if f.reliable][:2] == ["rm_ioctl", "nvidia_ioctl"]
    assert (ev.cpu, ev.pid, ev.comm) == (12, 48211, "python")          # "Kdump: loaded" is not part of Comm
    assert ev.taint == "P           OE"
    mods = {m.name: m.taint for m in ev.fields["modules"]}
    assert mods["nvidia"] == "POE" and mods["xfs"] == ""
    assert log.facts.last_unloaded == "ipmi_devintf"
    assert log.facts.kernel_release == "3.10.0-1160.el7.x86_64"
    assert log.facts.taint == "P           OE"
    assert log.facts.cmdline.startswith("BOOT_IMAGE=/vmlinuz-3.10.0")
    assert log.facts.hardware.startswith("Supermicro")
    assert ev.fields["code"].startswith("48 89 e5")
    assert "Oops: 0000 [#1] SMP" in ev.fields["oops"]


def test_centos8_418_alloc_failure_meminfo_then_null_deref():
    log = load("centos8-4.18-nvidia-alloc-fail-null-deref.log")
    assert kinds(log) == ["alloc_failure", "meminfo", "null_deref", "panic"]
    af, mi, nd, panic = log.events
    assert af.fields["order"] == 4 and af.fields["gfp_mask"] == "0x6040c0" and af.fields["comm"] == "python3"
    assert af.fields["gfp_flags"] == "GFP_KERNEL|__GFP_COMP"
    assert any(f.module == "nvidia" for f in af.frames)
    info = mi.fields["meminfo"]
    assert info["counters"]["free"] == 98765 and info["counters"]["active_anon"] == 61234567
    assert info["zones"][0] == {"node": 0, "zone": "Normal", "free_kb": 190000, "min_kb": 45056,
                                "low_kb": 56320, "high_kb": 67584}
    assert info["pages"]["pages_RAM"] == 67108864
    assert nd.fields["address"] == 0x10 and nd.ip.function == "nv_alloc_pages"
    assert nd.ts - af.ts == pytest.approx(0.2, abs=1e-3)
    assert panic.fields["reason"] == "Fatal exception"
    assert log.facts.mem_total_kb == 267910856


def test_arm64_510_wording():
    log = load("arm64-5.10-null-deref-mlx5.log")
    ev = log.events[0]
    assert ev.kind == "null_deref" and ev.fields["address"] == 8
    assert ev.ip.function == "mlx5e_tx_reporter_timeout_recover" and ev.ip.module == "mlx5_core"
    assert ev.fields["esr"] == "0x96000006"
    assert ev.frames[1].function == "devlink_health_reporter_recover"
    assert log.facts.arch == "arm64"
    assert log.events[-1].kind == "panic" and log.events[-1].fields["reason"] == "Oops: Fatal exception"


def test_centos7_oom_kill_syslog_two_line_victim_and_task_table():
    log = load("centos7-3.10-oom-kill-syslog.log")
    assert kinds(log) == ["oom_invoked", "meminfo", "oom_kill"]
    inv, mi, kill = log.events
    assert inv.fields["gfp_mask"] == "0x201da" and inv.fields["order"] == 0 and inv.fields["comm"] == "python"
    assert inv.fields["tasks"]["count"] == 3
    assert inv.fields["tasks"]["top"][0]["name"] == "python" and inv.fields["tasks"]["top"][0]["rss"] == 64012345
    assert mi.fields["meminfo"]["swap"]["total_swap_kb"] == 0
    assert kill.fields["victim_pid"] == 31337 and kill.fields["score"] == 953
    assert kill.fields["anon_rss_kb"] == 256049380          # merged from the "Killed process" line
    assert log.lines[0].host == "gpu-node-17"


@pytest.mark.parametrize("line,kind,fields", [
    ("BUG: unable to handle kernel NULL pointer dereference at           (null)", "null_deref", {"address": 0}),
    ("BUG: unable to handle kernel NULL pointer dereference at 0000000000000010", "null_deref", {"address": 16}),
    ("BUG: kernel NULL pointer dereference, address: 0000000000000008", "null_deref", {"address": 8}),
    ("Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000", "null_deref", {"address": 0}),
    ("BUG: unable to handle kernel paging request at ffff88002bde1e40", "paging_fault", {}),
    ("BUG: unable to handle page fault for address: ffffa0c2c0000000", "paging_fault", {}),
    ("Unable to handle kernel paging request at virtual address dead000000000108", "paging_fault", {}),
    ("general protection fault: 0000 [#1] SMP", "gpf", {}),
    ("general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI",
     "gpf", {"address": 0xdead000000000100}),
    ("Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] SMP KASAN",
     "gpf", {}),
    ("kernel BUG at mm/slub.c:305!", "kernel_bug", {"file": "mm/slub.c", "src_line": 305}),
    ("WARNING: CPU: 1 PID: 2 at net/core/dev.c:3 foo+0x1/0x2 [bar]", "warning", {"file": "net/core/dev.c"}),
    ("WARNING: at net/core/dev.c:2343 skb_warn_bad_offload+0xcd/0xda()", "warning", {"src_line": 2343}),
    ("WARNING: fs/dcache.c:829 at fast_dput+0x334/0x430, CPU#0: syz.0.17/6007", "warning", {"src_line": 829}),
    ("watchdog: BUG: soft lockup - CPU#3 stuck for 22s! [kworker/3:1:4321]", "soft_lockup",
     {"cpu": 3, "seconds": 22, "comm": "kworker/3:1", "pid": 4321}),
    ("BUG: soft lockup - CPU#0 stuck for 67s! [swapper/0:0]", "soft_lockup", {"seconds": 67}),
    ("NMI watchdog: Watchdog detected hard LOCKUP on cpu 5", "hard_lockup", {"cpu": 5}),
    ("watchdog: Watchdog detected hard LOCKUP on cpu 2", "hard_lockup", {"cpu": 2}),
    ("INFO: task kworker/u64:2:1234 blocked for more than 120 seconds.", "hung_task",
     {"comm": "kworker/u64:2", "pid": 1234, "seconds": 120}),
    ("INFO: rcu_sched self-detected stall on CPU", "rcu_stall", {"self_detected": True}),
    ("rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", "rcu_stall", {"flavor": "rcu_preempt"}),
    ("BUG: KASAN: slab-use-after-free in tcp_sendmsg+0x1/0x2", "kasan", {"bug_type": "slab-use-after-free"}),
    # lockdep print_held_locks_bug(), check_hung_task()'s can't-die wording, netdev_wait_allrefs(),
    # generic_shutdown_super(), print_unlock_imbalance_bug() since 4.x
    ("WARNING: syz-executor.0/1234 still has locks held!", "lockdep", {}),
    ("BUG: kworker/0:1/77 still has locks held!", "lockdep", {}),
    ("INFO: task syz-executor:1234 can't die for more than 143 seconds.", "hung_task", {"pid": 1234}),
    ("unregister_netdevice: waiting for lo to become free. Usage count = 2", "hung_task", {"no_function": True}),
    ("VFS: Busy inodes after unmount of sda1. Self-destruct in 5 seconds.  Have a nice day...", "kernel_bug_other",
     {"no_function": True}),
    ("WARNING: bad unlock balance detected!", "lockdep", {}),
    ("BUG: Bad page cache in process syz  pfn:12345", "bad_page", {"pfn": 0x12345}),
    ("INFO: suspicious RCU usage.", "lockdep", {}),
    ("[ INFO: suspicious RCU usage. ]", "lockdep", {}),
    # 2.6.34-2.6.3x lockdep_rcu_dereference() banner (posted 3709)
    ("[ INFO: suspicious rcu_dereference_check() usage. ]", "lockdep", {}),
    ("unreferenced object 0xffff888012345678 (size 32):", "leak", {}),
    # 4.0-4.3 spelling (lib/kasan/report.c of those kernels)
    ("BUG: KASan: use after free in tfw_http_msg_free+0x2c9/0x340 [tempesta_fw] at addr ffff880d59947040", "kasan",
     {"bug_type": "use-after-free"}),
    ("BUG: KASan: out of bounds access in foo+0x1/0x2 at addr ffff880d59947040", "kasan", {"bug_type": "out-of-bounds"}),
    ("BUG: KMSAN: uninit-value in foo+0x1/0x2", "kmsan", {}),
    ("BUG: KCSAN: data-race in foo / bar", "kcsan", {"functions": ["foo", "bar"]}),
    ("BUG: KFENCE: out-of-bounds read in foo+0x1/0x2", "kfence", {}),
    ("UBSAN: array-index-out-of-bounds in drivers/x.c:12:3", "ubsan", {"file": "drivers/x.c:12:3"}),
    ("WARNING: possible circular locking dependency detected", "lockdep", {}),
    ("mce: [Hardware Error]: CPU 3: Machine Check Exception: 5 Bank 7: be00000000800400", "mce", {}),
    ("{1}[Hardware Error]: Hardware error from APEI Generic Hardware Error Source: 1", "hw_error", {}),
    ("NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, name=python3, GPU has fallen off the bus.", "nvrm_xid",
     {"xid": 79, "fallen_off_bus": True, "pci": "0000:3b:00"}),
    ("NVRM: Xid (0000:03:00): 13, Graphics Exception", "nvrm_xid", {"xid": 13}),
    ("NVRM: GPU at 0000:01:00.0 has fallen off the bus.", "nvrm_xid", {"fallen_off_bus": True}),
    ("amdgpu 0000:03:00.0: amdgpu: [gfxhub0] retry page fault (src_id:0 ring:0 vmid:8 pasid:32770)", "gpu_fault",
     {"module": "amdgpu"}),
    ("i915 0000:00:02.0: [drm] GPU HANG: ecode 12:1:85dffffb, in Xorg [1234]", "gpu_fault", {"module": "i915"}),
    ("nouveau 0000:01:00.0: fifo: fault 00 [READ] at 0000000000000000 engine 00 [GR]", "gpu_fault",
     {"module": "nouveau"}),
    ("sysrq: Trigger a crash", "sysrq", {}),
    ("SysRq : Trigger a crash", "sysrq", {}),
    ("BUG: Bad page state in process kworker/0:1  pfn:1a2b3", "bad_page", {"pfn": 0x1a2b3}),
    ("list_del corruption, ffff8881134f0c80->next is LIST_POISON1 (dead000000000100)", "list_corruption", {}),
    ("Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: foo+0x9c/0xa0", "panic",
     {"stack_protector": True}),
    ("Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled", "panic", {"oom": True}),
    ("Kernel panic - not syncing: panic_on_warn set ...", "panic", {"panic_on_warn": True}),
    ("Kernel panic - not syncing: sysrq triggered crash", "panic", {"sysrq": True}),
    ("bash invoked oom-killer: gfp_mask=0x6200ca(GFP_HIGHUSER_MOVABLE), nodemask=(null), order=0, oom_score_adj=0",
     "oom_invoked", {"order": 0, "gfp_flags": "GFP_HIGHUSER_MOVABLE"}),
    ("Out of memory: Killed process 1234 (stress) total-vm:8388608kB, anon-rss:8000000kB, file-rss:0kB, "
     "shmem-rss:0kB, UID:0 pgtables:16000kB oom_score_adj:0", "oom_kill", {"victim_comm": "stress"}),
    ("Memory cgroup out of memory: Killed process 77 (java) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:0kB",
     "oom_kill", {"memcg": True}),
    # alone, the reaper's line is the OOM kill of the task it reaped (parser: reaper_only)
    ("oom_reaper: reaped process 1234 (stress), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB", "oom_kill",
     {"victim_pid": 1234, "reaper_only": True}),
    ("oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/a,task_memcg=/a,"
     "task=java,pid=77,uid=0", "oom_kill", {"constraint": "CONSTRAINT_MEMCG", "victim_comm": "java", "memcg": True}),
    ("swapper/0: page allocation failure: order:2, mode:0x104020", "alloc_failure", {"order": 2, "gfp_mask": "0x104020"}),
    ("modprobe: vmalloc error: size 1073741824, vm_struct allocation failed, mode:0xdc0(GFP_KERNEL|__GFP_ZERO)",
     "vmalloc_failure", {"size": 1073741824, "comm": "modprobe"}),
    ("insmod: vmalloc: allocation failure: 34359738352 bytes, mode:0x24000c0", "vmalloc_failure", {"size": 34359738352}),
])
def test_single_line_wordings(line, kind, fields):
    log = parse_log([f"[  100.000000] {line}"])
    assert [e.kind for e in log.events] == [kind]
    for k, v in fields.items():
        assert log.events[0].fields[k] == v, k


@pytest.mark.parametrize("line", [
    # the lines under the banner (and today's "%s:%d %s!" body line) are no report of their own
    "kernel/cgroup.c:4459 invoked rcu_dereference_check() without protection!",
    "include/linux/cgroup.h:481 suspicious rcu_dereference_check() usage!",
    "[ rcu_dereference_check() usage. ]",
])
def test_rcu_lockdep_body_lines_are_not_headers(line):
    assert parse_log([f"[  100.000000] {line}"]).events == []


def test_irq_boundaries_and_questionable_frames():
    log = parse_text("""[  130.000100] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [sh:340]
[  130.000500] Call Trace:
[  130.000501]  <IRQ>
[  130.000502]  watchdog_timer_fn+0x1a0/0x200
[  130.000503]  </IRQ>
[  130.000504]  <TASK>
[  130.000600]  ? crashme_spin+0x1/0x2 [crashme]
[  130.000700]  vfs_write+0xb7/0x280
[  130.000701]  </TASK>""")
    fr = log.events[0].frames
    assert [(f.function, f.context, f.reliable) for f in fr] == [
        ("watchdog_timer_fn", "irq", True), ("crashme_spin", "task", False), ("vfs_write", "task", True)]


def test_caller_ids_untangle_interleaved_reports():
    log = parse_text("""[  10.000000][ T100] BUG: kernel NULL pointer dereference, address: 0000000000000000
[  10.000001][ T200] INFO: task a:200 blocked for more than 120 seconds.
[  10.000002][ T100] RIP: 0010:foo_write+0x1/0x2 [foo]
[  10.000003][ T200] Call Trace:
[  10.000004][ T100] Call Trace:
[  10.000005][ T200]  schedule+0x1/0x2
[  10.000006][ T100]  vfs_write+0x1/0x2
[  10.000007][ T200]  bar_wait+0x1/0x2""")
    nd, hung = log.events
    assert nd.ip.function == "foo_write" and [f.function for f in nd.frames] == ["vfs_write"]
    assert [f.function for f in hung.frames] == ["schedule", "bar_wait"]


def test_taint_decoding():
    assert decode_taint("P           OE") == ["P: proprietary module loaded", "O: out-of-tree module loaded",
                                              "E: unsigned module loaded"]
    assert decode_taint("G") == []


def test_real_61_serial_console_gpu_alloc_null():
    """Real QEMU 6.1 crash: vmalloc failure in nvidia-named test module, then a NULL deref in it."""
    log = read_log_file(os.path.join(REAL, "gpu_alloc_null.serial.log"))
    ks = [e.kind for e in log.events]
    assert ks[:4] == ["vmalloc_failure", "meminfo", "null_deref", "panic"]
    vm = log.events[0]
    assert vm.fields["size"] == 68719476736 and vm.comm == "init" and vm.fields["comm"] == "init"
    nd = log.events[2]
    assert nd.ip.function == "nv_gpu_init_channel.constprop.0.isra.0" and nd.ip.module == "nvidia"
    assert log.facts.kernel_release.startswith("6.1.0")
    assert {m.name: m.taint for m in log.facts.modules}["nvidia"] == "POE"


def test_real_61_serial_console_sysrq():
    log = read_log_file(os.path.join(REAL, "sysrq.serial.log"))
    assert [e.kind for e in log.events][:2] == ["sysrq", "panic"]
    assert log.events[1].fields["sysrq"] is True


def test_real_61_oom_panic_serial_console():
    """Real QEMU 6.1 crash with vm.panic_on_oom=1 (sample_dumps/dumpgen scenario oom_panic)."""
    log = read_log_file(os.path.join(LOGS, "real-6.1-oom-panic.serial.log"))
    assert [e.kind for e in log.events] == ["oom_invoked", "meminfo", "panic"]
    inv = log.events[0]
    assert (inv.fields["comm"], inv.fields["gfp_mask"], inv.fields["order"]) == ("hog", "0x140dca", 0)
    info = inv.fields["meminfo"]
    assert info["counters"]["free"] == 429
    dma32 = [z for z in info["zones"] if z["zone"] == "DMA32"][0]
    assert dma32["free_kb"] == 820 and dma32["min_kb"] == 840          # below the min watermark
    assert inv.fields["tasks"]["top"][0]["name"] == "hog" and inv.fields["tasks"]["top"][0]["rss"] == 13282
    assert log.events[2].fields["oom"] is True


def test_headlines_keep_the_kernels_wording():
    # the WARNING: prefix lockdep prints since 4.x stays (BUG: before), as syzkaller titles them
    assert parse_text("WARNING: bad unlock balance detected!").events[0].fields["headline"] == \
        "WARNING: bad unlock balance"
    assert parse_text("BUG: bad unlock balance detected!").events[0].fields["headline"] == "BUG: bad unlock balance"
    assert parse_text("INFO: task a.out:12 can't die for more than 143 seconds.").events[0].fields["headline"] == \
        "INFO: task can't die"


def test_one_line_report_does_not_cut_the_open_block():
    # netdev_wait_allrefs() prints every 10 s, also in the middle of a hung-task report
    log = parse_text("\n".join([
        "INFO: task syz:12 blocked for more than 143 seconds.",
        "Call Trace:",
        " __schedule+0x1/0x2",
        "unregister_netdevice: waiting for lo to become free. Usage count = 2",
        " copy_net_ns+0x1/0x2",
    ]))
    assert [e.kind for e in log.events] == ["hung_task", "hung_task"]
    assert [f.function for f in log.events[0].frames] == ["__schedule", "copy_net_ns"]


def test_kcsan_title_names_both_racing_functions():
    from triage.classify import classify, load_rules
    log = parse_text("BUG: KCSAN: data-race in tcp_poll / tcp_set_state\n\nwrite to 0xffff888 of 1 bytes by task 1 on cpu 0:\n"
                     " tcp_set_state+0x1/0x2\n")
    assert classify(log, load_rules())[0].title == "KCSAN: data-race in tcp_poll / tcp_set_state"
