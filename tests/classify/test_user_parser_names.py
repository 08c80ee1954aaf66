"""The [parser] table of signatures/lists.toml (triage.events.reporters.ParserNames: panic()'s
frames, the stack dumpers above a panic's stack, the reports that panic on purpose, the reasons
die() panics with, the lines that open a report only after a header of their own, the arm32
interrupt entries, NVIDIA's GSP stack dump, the boot banners and shutdown lines that tell an
unexpected reboot, the outermost trace frames that tell a newest-first paste, the
generic "BUG: <what>" wordings of atomic_sleep and lockdep reports, the message-start wordings
a logger prefix is learned from) is read from the run's signature set.

Each test edits one key in a user's --signatures copy of the built-in files (a later file
replaces a [parser] key whole) and checks that the diagnosis of the same log changes from the
built-in one, which is the oracle, and that the next analysis with the built-in set alone is as
before (nothing left in the process). On the code before [parser] these lists were constants of
triage/events and the copy changed nothing."""

import re
import shutil
from pathlib import Path
from typing import Optional, Tuple

import pytest

from triage.analysis import analyze_lines, load_ruleset
from triage.classify.rules import builtin_dir, load_files
from triage.errors import SignatureError
from triage.events.reporters import PARSER_KEYS


def _copy_with(tmp_path: Path, key: str, value: str) -> Path:
    """A user's copy of the built-in signatures/ whose lists.toml sets [parser] `key` = `value`."""
    d = tmp_path / "sigs"
    d.mkdir(parents=True)
    for f in Path(str(builtin_dir())).glob("*.toml"):
        shutil.copy(f, d / f.name)
    p = d / "lists.toml"
    text, n = re.subn(rf"(?ms)^{key} = \[.*?\]\n", lambda _: f"{key} = {value}\n", p.read_text(), count=1)
    assert n == 1, key
    p.write_text(text)
    return d


def _verdict(lines, sig_dir: Optional[Path] = None) -> Tuple[str, Optional[str], Optional[str]]:
    rules = load_ruleset([str(sig_dir)] if sig_dir is not None else [])
    v = analyze_lines(lines, rules=rules).verdict
    return v.category, (v.culprit.module if v.culprit else None), (v.culprit.function if v.culprit else None)


def _changes(tmp_path, lines, key, value, before, after):
    assert _verdict(lines) == before
    assert _verdict(lines, _copy_with(tmp_path, key, value)) == after
    assert _verdict(lines) == before


# a bare stack panic() dumped, called by a driver's work item (its "Kernel panic" line cut)
PANIC_STACK = ["[  10.1] CPU: 1 PID: 77 Comm: kworker/1:1 Tainted: G           O      6.1.0 #1",
               "[  10.2] Call Trace:", "[  10.3]  <TASK>",
               "[  10.4]  dump_stack_lvl+0x44/0x5c", "[  10.5]  panic+0x118/0x2f0",
               "[  10.6]  frob_reset_timeout+0x3c/0x50 [frob]", "[  10.7]  process_one_work+0x1e5/0x3b0",
               "[  10.8]  worker_thread+0x50/0x3a0"]
PANIC = ("panic_other", None, None)
NOT_PANIC = ("kernel_bug", "frob", "frob_reset_timeout")


def test_panic_functions(tmp_path):
    _changes(tmp_path, PANIC_STACK, "panic_functions", '["vpanic"]', PANIC, NOT_PANIC)


def test_stack_dumpers(tmp_path):
    _changes(tmp_path, PANIC_STACK, "stack_dumpers", '["show_stack"]', PANIC, NOT_PANIC)


def test_panicking_reports(tmp_path):
    _changes(tmp_path, PANIC_STACK, "panicking_reports", '["frob_"]', PANIC, NOT_PANIC)


def test_panic_frames(tmp_path):
    # the OOM killer's panic_on_oom: [[report_frames]] names out_of_memory only below panic()
    lines = ["[  10.1] CPU: 1 PID: 77 Comm: stress Tainted: G           O      6.1.0 #1",
             "[  10.2] Call Trace:", "[  10.3]  <TASK>",
             "[  10.4]  dump_stack_lvl+0x44/0x5c", "[  10.5]  panic+0x118/0x2f0",
             "[  10.6]  out_of_memory.cold+0x2f/0x7e", "[  10.7]  __alloc_pages_slowpath.constprop.0+0xc3f/0xd40",
             "[  10.8]  __alloc_pages+0x2fb/0x320"]
    _changes(tmp_path, lines, "panic_frames", "['^no_such_panic$']", ("oom_panic", None, None), ("oom_kill", None, None))


# NVIDIA's GSP RPC poll dumped its stack (kernel_gsp.c), without the Xid 119 line
GSP = ["[  20.1] CPU: 8 UID: 0 PID: 1185 Comm: nv_queue Tainted: G           OE      6.16.3 #1",
       "[  20.2] Call Trace:", "[  20.3]  <TASK>",
       "[  20.4]  os_dump_stack+0xe/0x20 [nvidia]", "[  20.5]  osAssertFailed+0x12/0x30 [nvidia]",
       "[  20.6]  _kgspLogXid119+0x1b6/0x1d0 [nvidia]", "[  20.7]  _kgspRpcRecvPoll+0x650/0x820 [nvidia]",
       "[  20.8]  _issueRpcAndWait+0xdd/0x970 [nvidia]"]
XID = ("gpu_xid", "nvidia", None)
OOPS_IN_DUMP = ("gpu_fault", "nvidia", "os_dump_stack")


@pytest.mark.parametrize("key, value", [("nvidia_dump_stack", '["nv_dump_stack"]'),
                                        ("nvidia_assert", '["nvAssertFailed"]'),
                                        ("nvidia_gsp_rpc_poll", '["_kgspRpcRecvPoll"]')])
def test_nvidia_gsp_stack_dump(tmp_path, key, value):
    _changes(tmp_path, GSP, key, value, XID, OOPS_IN_DUMP)


def test_die_panic_reasons(tmp_path):
    # an oops cut before its header, then the panic oops_end() gives: the report proper stays
    lines = ["[  30.1] RIP: 0010:frob_irq+0x12/0x40 [frob]",
             "[  30.2] Code: 48 8b 47 08 <0f> 0b cc cc cc cc 0f 1f 44 00 00 55",
             "[  30.3] RSP: 0018:ffffc90000003f28 EFLAGS: 00010046",
             "[  30.4] Call Trace:", "[  30.5]  <IRQ>",
             "[  30.6]  __handle_irq_event_percpu+0x4a/0x180", "[  30.7]  handle_irq_event+0x34/0x70",
             "[  30.8]  handle_edge_irq+0x9f/0x240", "[  30.9]  __common_interrupt+0x40/0xb0",
             "[  31.0]  </IRQ>", "[  31.1] ---[ end trace 0000000000000000 ]---",
             "[  31.2] Kernel panic - not syncing: Fatal exception in interrupt"]
    _changes(tmp_path, lines, "die_panic_reasons", '["Oops"]', ("kernel_bug", "frob", "frob_irq"),
             ("panic_other", None, None))


def test_oops_exit_frames(tmp_path):
    # an oops cut before its header (the 2nd register dump oops_end() prints after the end
    # marker), then the may-sleep BUG its task prints on the way out through the oops exit
    # path: that BUG is the oops' after-effect, the oops is the report (posted 3007's shape)
    regs = ["RIP: 0010:frob_copy+0x18/0xf0 [frob]", "Code: 48 8b 47 08 <0f> 0b cc cc cc cc 0f 1f 44 00",
            "RSP: 0018:ffffb439c3e377d0 EFLAGS: 00010246"]
    lines = [f"[  30.{i:03d}] {s}" for i, s in enumerate(
        regs + ["Call Trace:", " frob_ioctl+0x4d/0x70 [frob]", " __x64_sys_ioctl+0x16/0x20",
                " do_syscall_64+0x5c/0xb0", "Modules linked in: frob", "---[ end trace baab6af74a9fa532 ]---"]
        + regs + ["BUG: sleeping function called from invalid context at include/linux/percpu-rwsem.h:38",
                  "in_atomic(): 0, irqs_disabled(): 1, pid: 12717, name: Xorg",
                  "CPU: 2 PID: 12717 Comm: Xorg Tainted: G      D           5.3.0 #1", "Call Trace:",
                  " dump_stack+0x85/0xc0", " ___might_sleep.cold+0xac/0xbc", " exit_signals+0x30/0x2d0",
                  " do_exit+0xcb/0xcd0", " rewind_stack_do_exit+0x17/0x20"])]
    _changes(tmp_path, lines, "oops_exit_frames", '["no_such_exit"]', ("kernel_bug", "frob", "frob_copy"),
             ("kernel_bug", None, "exit_signals"))


def test_lost_header_openers(tmp_path):
    # powerpc bad_page_fault()'s die line without the "BUG: Unable to handle kernel data access"
    # line before it: the diagnosis says the log starts after the report's header
    lines = ["[ 1234.567890] Oops: Kernel access of bad area, sig: 11 [#1]",
             "[ 1234.567900] BE PAGE_SIZE=64K MMU=Hash SMP NR_CPUS=2048 NUMA pSeries",
             "[ 1234.567910] CPU: 3 PID: 4242 Comm: frobd Tainted: G           O      5.15.0 #1",
             "[ 1234.567920] NIP:  c008000001a2b3c4 LR: c008000001a2b3a0 CTR: 0000000000000000",
             "[ 1234.567930] NIP [c008000001a2b3c4] frob_read+0x44/0x80 [frob]",
             "[ 1234.567940] LR [c008000001a2b3a0] frob_read+0x20/0x80 [frob]",
             "[ 1234.567950] Call Trace:",
             "[ 1234.567960] [c0000000fe1cbb40] [c008000001a2b3a0] frob_read+0x20/0x80 [frob] (unreliable)",
             "[ 1234.567970] [c0000000fe1cbb80] [c000000000551234] vfs_read+0xd4/0x1f0"]

    def header_missing(d=None):
        problems = analyze_lines(lines, rules=load_ruleset([str(d)] if d else [])).source.problems
        return any("after the report's header" in p for p in problems)

    assert header_missing()
    assert not header_missing(_copy_with(tmp_path, "lost_header_openers", '["Internal error: Oops - BUG"]'))
    assert header_missing()


def test_irq_entries(tmp_path):
    # arm32 RCU stall: the frames up to gic_handle_irq ran in the timer interrupt; the
    # "Exception stack(" after them starts the interrupted code, which stalled
    lines = ["[  50.0] INFO: rcu_sched self-detected stall on CPU",
             "[  50.1] \t0-...: (2100 ticks this GP) idle=5a2/1/0 softirq=1234/1234 fqs=1050",
             "[  50.2] \t (t=2100 jiffies g=4321 c=4320 q=88)",
             "[  50.3] CPU: 0 PID: 88 Comm: frobd Tainted: G           O    4.19.0 #1",
             "[  50.4] Hardware name: BCM2835",
             "[  50.5] [<c010f0a8>] (unwind_backtrace) from [<c010b8c8>] (show_stack+0x10/0x14)",
             "[  50.6] [<c010b8c8>] (show_stack) from [<c0180000>] (rcu_dump_cpu_stacks+0xa0/0xd0)",
             "[  50.7] [<c0180000>] (rcu_dump_cpu_stacks) from [<c0181000>] (rcu_check_callbacks+0x600/0x800)",
             "[  50.8] [<c0181000>] (rcu_check_callbacks) from [<c0182000>] (update_process_times+0x34/0x5c)",
             "[  50.9] [<c0182000>] (update_process_times) from [<c0183000>] (tick_sched_timer+0x50/0x90)",
             "[  51.0] [<c0183000>] (tick_sched_timer) from [<c0184000>] (__hrtimer_run_queues+0x150/0x2a0)",
             "[  51.1] [<c0184000>] (__hrtimer_run_queues) from [<c0185000>] (hrtimer_interrupt+0xf0/0x250)",
             "[  51.2] [<c0185000>] (hrtimer_interrupt) from [<c0186000>] (frobtimer_irq+0x20/0x30 [frobtimer])",
             "[  51.3] [<c0186000>] (frobtimer_irq [frobtimer]) from [<c0187000>] (__handle_irq_event_percpu+0x60/0x150)",
             "[  51.4] [<c0187000>] (__handle_irq_event_percpu) from [<c0188000>] (handle_irq_event+0x40/0x60)",
             "[  51.5] [<c0188000>] (handle_irq_event) from [<c0189000>] (__handle_domain_irq+0x60/0xb0)",
             "[  51.6] [<c0189000>] (__handle_domain_irq) from [<c0101000>] (gic_handle_irq+0x3c/0x48)",
             "[  51.7] [<c0101000>] (gic_handle_irq) from [<c0100b0c>] (__irq_svc+0x6c/0xa8)",
             "[  51.8] Exception stack(0xc1201f08 to 0xc1201f50)",
             "[  51.9] 1f00:                   00000001 00000000 00000000 00000000 c1200000 c1200000",
             "[  52.0] 1f20: 00000000 00000000 00000000 00000000 00000000 c1201f5c c1201f60 c1201f58",
             "[  52.1] 1f40: bf000100 bf000120 60000013 ffffffff",
             "[  52.2] [<c0100b0c>] (__irq_svc) from [<bf000120>] (frob_poll+0x20/0x40 [frob])",
             "[  52.3] [<bf000120>] (frob_poll [frob]) from [<bf000200>] (frob_thread+0x30/0x60 [frob])",
             "[  52.4] [<bf000200>] (frob_thread [frob]) from [<bf000300>] (frob_main+0x30/0x60 [frob])"]
    _changes(tmp_path, lines, "irq_entries", '["el1_irq"]', ("rcu_stall", "frob", "frob_poll"),
             ("rcu_stall", "frobtimer", "frobtimer_irq"))


# rule unexpected-reboot's examples: a boot after log content with no crash and no shutdown
# line, and a clean restart
UNEXPECTED = ["[  100.100000] audit: type=1400 audit(1.1:2): apparmor=\"DENIED\" operation=\"open\"",
              "SeaBIOS (version 1.8.2-20171012_061934-google)",
              "Booting from Hard Disk 0...",
              "early console in extract_kernel",
              "[    0.000000] Linux version 4.15.0-rc1+ (syzkaller@ci) (gcc version 7.1.1) #1 SMP"]
CLEAN = ["[  100.100000] systemd-shutdown[1]: Syncing filesystems and block devices.",
         "[  100.200000] reboot: Restarting system",
         "[    0.000000] Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP"]


def test_boot_banners(tmp_path):
    _changes(tmp_path, UNEXPECTED, "boot_banners", '["Booting from Floppy"]', ("unknown", None, None),
             ("none", None, None))
    assert analyze_lines(UNEXPECTED).verdict.title == "unexpected kernel reboot"


def test_shutdown_lines(tmp_path):
    _changes(tmp_path, CLEAN, "shutdown_lines", '["reboot: Power down"]', ("none", None, None),
             ("unknown", None, None))
    d = _copy_with(tmp_path / "again", "shutdown_lines", '["reboot: Power down"]')
    assert analyze_lines(CLEAN, rules=load_ruleset([str(d)])).verdict.title == "unexpected kernel reboot"


def test_trace_tails(tmp_path):
    # a hung task pasted newest first (journalctl -r) without timestamps or a "Call Trace:"
    # line: only the syscall entry before the other frames says the paste is reversed
    fwd = ["INFO: task frobd:77 blocked for more than 120 seconds.",
           "      Tainted: G           O      6.1.0 #1",
           "task:frobd           state:D stack:0     pid:77    ppid:2      flags:0x00004000",
           " __schedule+0x2c4/0x890", " schedule+0x5d/0xd0",
           " frob_wait_idle+0x8c/0xd0 [frob]", " frob_ioctl+0x20/0x40 [frob]",
           " __x64_sys_ioctl+0x8b/0xc0", " do_syscall_64+0x3b/0x90",
           " entry_SYSCALL_64_after_hwframe+0x63/0xcd"]
    assert _verdict(fwd) == ("hung_task", "frob", "frob_wait_idle")
    _changes(tmp_path, fwd[::-1], "trace_tails", '["cpu_startup_entry"]', ("hung_task", "frob", "frob_wait_idle"),
             ("hung_task", None, None))


def test_atomic_sleep_bugs(tmp_path):
    # an x86 oops cut before its header, then the sleeping-in-atomic BUG its exiting task prints
    # (its after-effect, read so only as an atomic_sleep report): the oops stays the verdict
    lines = ["[   5.00] RIP: 0010:frob_read+0x14/0x40 [frob]",
             "[   5.01] Code: 48 8b 47 08 <8b> 40 10 c3 0f 1f 44 00 00 55 48 89 e5",
             "[   5.02] RSP: 0018:ffffc90000a3fd48 EFLAGS: 00010246",
             "[   5.03] Call Trace:", "[   5.04]  <TASK>",
             "[   5.05]  vfs_read+0xb0/0x2a0", "[   5.06]  ksys_read+0x5f/0xe0", "[   5.07]  do_syscall_64+0x3b/0x90",
             "[   5.08]  entry_SYSCALL_64_after_hwframe+0x63/0xcd", "[   5.09]  </TASK>",
             "[   5.10] Modules linked in: frob(O)",
             "[   5.11] CR2: 0000000000000010",
             "[   5.12] ---[ end trace 0000000000000000 ]---",
             "[   5.13] BUG: sleeping function called from invalid context at include/linux/percpu-rwsem.h:49",
             "[   5.14] in_atomic(): 0, irqs_disabled(): 1, non_block: 0, pid: 77, name: frobd",
             "[   5.15] CPU: 1 PID: 77 Comm: frobd Tainted: G      D    O      6.1.0 #1"]
    _changes(tmp_path, lines, "atomic_sleep_bugs", '["scheduling while atomic"]', ("null_deref", "frob", "frob_read"),
             ("kernel_bug", None, None))


def test_lockdep_bugs(tmp_path):
    # kernel/locking/spinlock_debug.c spin_dump(): "BUG: spinlock bad magic on CPU#%d, %s/%d"
    lines = ["[  40.1] BUG: spinlock bad magic on CPU#1, frobd/77",
             "[  40.2]  lock: frob_lock+0x0/0x20 [frob], .magic: 00000000, .owner: <none>/-1, .owner_cpu: 0",
             "[  40.3] CPU: 1 PID: 77 Comm: frobd Tainted: G           O      6.1.0 #1",
             "[  40.4] Call Trace:", "[  40.5]  <TASK>",
             "[  40.6]  dump_stack_lvl+0x44/0x5c", "[  40.7]  do_raw_spin_lock+0x9c/0xc0",
             "[  40.8]  _raw_spin_lock+0x2c/0x40", "[  40.9]  frob_update+0x2c/0x90 [frob]",
             "[  41.0]  frob_ioctl+0x20/0x40 [frob]", "[  41.1]  __x64_sys_ioctl+0x8b/0xc0"]
    _changes(tmp_path, lines, "lockdep_bugs", '["rwlock"]', ("lockdep", "frob", "frob_update"),
             ("kernel_bug", "frob", "frob_update"))


def test_message_anchors(tmp_path):
    # an OOM excerpt behind a logger prefix no rule names, whose only anchors are the memory
    # reports' own wordings: the prefix is learned from them, or the excerpt reads as no crash
    body = ["Mem-Info:", "active_anon:1012345 inactive_anon:2345 isolated_anon:0",
            "Free swap  = 0kB", "Total swap = 0kB",
            "Out of memory: Killed process 4242 (java) total-vm:8123456kB, anon-rss:4012345kB, file-rss:0kB, "
            "shmem-rss:0kB, UID:1000 pgtables:8000kB oom_score_adj:0",
            "oom_reaper: reaped process 4242 (java), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"]
    lines = [f"2026/12/07 10:00:{i:02d} | node7 | K | {s}" for i, s in enumerate(body)]
    _changes(tmp_path, lines, "message_anchors", '["no such wording"]', ("oom_kill", None, None),
             ("none", None, None))


def test_every_parser_key_has_a_test():
    tested = {"panic_functions", "stack_dumpers", "panicking_reports", "panic_frames", "nvidia_dump_stack",
              "nvidia_assert", "nvidia_gsp_rpc_poll", "die_panic_reasons", "lost_header_openers", "irq_entries",
              "boot_banners", "shutdown_lines", "trace_tails", "atomic_sleep_bugs", "lockdep_bugs",
              "message_anchors", "oops_exit_frames"}
    assert tested == set(PARSER_KEYS)


@pytest.mark.parametrize("body, message", [
    ('[parser]\nfrob_names = ["x"]\n', "unknown key 'frob_names'"),
    ('[parser]\npanic_functions = "panic"\n', "'panic_functions' must be a non-empty list"),
    ('[parser]\npanic_functions = []\n', "'panic_functions' must be a non-empty list"),
    ("[parser]\npanic_frames = ['panic']\n", "must start with '^'"),
    ("[parser]\npanic_frames = ['^(panic']\n", "missing"),
    ('parser = 3\n', "[parser] must be a table"),
])
def test_a_malformed_parser_table_is_refused_naming_the_file(tmp_path, body, message):
    d = tmp_path / "sigs"
    d.mkdir()
    (d / "mine.toml").write_text(body)
    with pytest.raises(SignatureError) as exc:
        load_ruleset([str(d)])
    assert message in str(exc.value) and "mine.toml" in str(exc.value)


def test_a_file_set_without_the_parser_table_is_refused(tmp_path):
    # the built-in lists.toml without its [parser] table: no default stands in for it
    f = tmp_path / "lists.toml"
    text = Path(str(builtin_dir() / "lists.toml")).read_text()
    start = text.index("\n[parser]\n")
    f.write_text(text[:start] + text[text.index("\n[[report_frames]]\n", start):])
    with pytest.raises(SignatureError, match=r"\[parser\] lacks panic_frames, stack_dumpers"):
        load_files([f])
