"""Newest-first pastes (`journalctl -r`, `dmesg | tac`) are put back in time order
before parsing (triage.events.paste.unreverse)."""

import os

import pytest

from triage.analysis import analyze_lines
from triage.events import paste
from triage.events.paste import normalise, unreverse

POSTED = os.path.join(os.path.dirname(__file__), "..", "data", "posted")


def _lines(name):
    with open(os.path.join(POSTED, name), encoding="utf-8") as fp:
        return fp.read().splitlines()


def _verdict(lines):
    d = analyze_lines(lines)
    return d.verdict.category, (d.verdict.culprit.module if d.verdict.culprit else None), d.verdict.title


# Real journal and dmesg pastes in time order; `journalctl -r` prints the same
# records newest first, which is what reversing their lines gives.
@pytest.mark.parametrize("name", [
    "222-oom-journald-invoked-short-precise-tumbleweed.log",     # journal short-precise, OOM trace
    "246-amdgpu-null-deref-vm-sdma-commit-journal-nixos.log",     # journal short, oops without a trace
    "262-hung-task-python-amdgpu-bo-create-fence-wait-dmesg-T.log",  # dmesg -T, hung task in amdgpu
    "231-alloc-failure-order4-nvme-core-dmesg-T.log",
])
def test_reversed_paste_reads_like_the_original(name):
    fwd = _lines(name)
    rev = fwd[::-1]
    assert [s for _, s in unreverse(enumerate(rev, 1))] == fwd
    assert _verdict(rev) == _verdict(fwd)


def test_time_order_paste_is_left_alone():
    for name in ("001-vgpu-kvm-gup-longterm-null.log", "222-oom-journald-invoked-short-precise-tumbleweed.log",
                 "265-rcu-sched-self-detected-chrome-proprietary-taint-journal.log"):
        fwd = _lines(name)
        assert list(unreverse(enumerate(fwd, 1))) == list(enumerate(fwd, 1))


def test_continuation_lines_stay_after_their_record():
    # raspberrypi/linux#3872: Mem-Info is one printk record over several lines
    fwd = [
        "[  500.647279] Mem-Info:",
        "[  500.648511] active_anon:240 inactive_anon:7360 isolated_anon:0",
        "                active_file:22429 inactive_file:8028 isolated_file:256",
        "                unevictable:3569 dirty:17048 writeback:2622",
        "[  500.649001] Node 0 active_anon:960kB inactive_anon:29440kB",
    ]
    rev = [fwd[4], fwd[1], fwd[2], fwd[3], fwd[0]]     # what journalctl -r prints
    assert [s for _, s in unreverse(enumerate(rev, 1))] == fwd


def test_reversed_lines_are_renumbered_in_time_order():
    rev = _lines("231-alloc-failure-order4-nvme-core-dmesg-T.log")[::-1]
    assert [n for n, _ in normalise(rev)] == list(range(1, len(rev) + 1))


def test_too_long_to_hold_is_passed_on(monkeypatch):
    monkeypatch.setattr(paste, "MAX_REVERSE_LINES", 8)
    rev = _lines("222-oom-journald-invoked-short-precise-tumbleweed.log")[::-1]
    assert [s for _, s in unreverse(enumerate(rev, 1))] == rev


def test_a_reboot_is_not_a_reversal():
    # signatures/oops.toml unexpected-reboot example: timestamps fall back to 0 at the next boot
    lines = ["[  100.100000] systemd-shutdown[1]: Syncing filesystems and block devices.",
             "[  100.200000] reboot: Restarting system",
             "[    0.000000] Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP"]
    assert [s for _, s in unreverse(enumerate(lines, 1))] == lines
