"""The RCU 'Voluntary context switch within RCU read-side critical section!'
WARNING (kernel/rcu/tree_plugin.h rcu_note_context_switch) names the task's code
that slept, past the scheduler and sleep helpers (rule
warning-rcu-voluntary-switch, [skip] sleep_checks). The skip list is the rule's
own: any other report in rcu_note_context_switch still names it."""

from triage.analysis import analyze_lines
from triage.diagnosis.diagnose import SourceInfo

SRC = SourceInfo(path="x.log", kind="log", format="text")


def test_sleeper_is_guilty():
    d = analyze_lines([
        "[   22.592081] Voluntary context switch within RCU read-side critical section!",
        "[   22.592083] WARNING: CPU: 0 PID: 9 at kernel/rcu/tree_plugin.h:318 rcu_note_context_switch+0x5e0/0x660",
        "[   22.592154] RIP: 0010:rcu_note_context_switch+0x5e0/0x660",
        "[   22.592162] Call Trace:",
        "[   22.592187]  __schedule+0xc0/0x1410",
        "[   22.592196]  schedule+0x5e/0xd0",
        "[   22.592199]  msleep+0x2d/0x40",
        "[   22.592203]  foo_hw_poll+0x106/0x2a0 [foo]",
        "[   22.592218]  notifier_call_chain+0x5a/0xd0",
    ], SRC)
    assert d.verdict.category == "warning"
    assert d.verdict.culprit.module == "foo"


def test_other_reports_in_rcu_note_context_switch_name_it():
    d = analyze_lines([
        "[  412.553044] BUG: kernel NULL pointer dereference, address: 0000000000000010",
        "[  412.553160] Oops: 0000 [#1] PREEMPT SMP NOPTI",
        "[  412.553220] RIP: 0010:rcu_note_context_switch+0x2c/0x90",
        "[  412.553240] Call Trace:",
        "[  412.553260]  __schedule+0xc0/0x1410",
        "[  412.553280]  schedule+0x5e/0xd0",
        "[  412.553300]  foo_hw_poll+0x106/0x2a0 [foo]",
    ], SRC)
    assert d.verdict.category == "null_deref"
    assert d.verdict.culprit.module in (None, "", "-")
    assert "rcu_note_context_switch" in d.verdict.title
