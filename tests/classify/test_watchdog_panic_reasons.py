"""A panic whose message is a lockup detector's own (softlockup_panic, hung_task_panic,
panic_on_rcu_stall) says which report made the kernel panic, also when that report is
missing from the excerpt or could not be read. When the report is read, it stays the
verdict with its guilty function."""

from triage.analysis import analyze_lines

from _posted import posted_lines


def _verdict(lines):
    v = analyze_lines(lines).verdict
    return v.category, v.title


def test_posted_1407_softlockup_panic_whose_lockup_report_is_unread():
    assert _verdict(posted_lines("1407"))[0] == "soft_lockup"


def test_bare_watchdog_panics_name_their_detector():
    assert _verdict(["[  130.0] Kernel panic - not syncing: softlockup: hung tasks"])[0] == "soft_lockup"
    assert _verdict(["[  250.0] Kernel panic - not syncing: hung_task: blocked tasks"])[0] == "hung_task"
    assert _verdict(["[  300.0] Kernel panic - not syncing: RCU Stall"])[0] == "rcu_stall"


def test_other_panics_stay_panic_other():
    assert _verdict(["[  130.0] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009"])[0] \
        == "panic_other"


def test_a_read_lockup_report_keeps_its_guilty_function():
    assert _verdict(["[  130.0] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [sh:340]",
                     "[  130.1] RIP: 0010:crashme_spin+0x10/0x20 [crashme]",
                     "[  130.2] Kernel panic - not syncing: softlockup: hung tasks"]) \
        == ("soft_lockup", "BUG: soft lockup in crashme_spin [crashme]")
