"""A tar of many empty logs: no worker per item, and memory that does not grow per item.

Oracle: the batch contract (docs/batch.md, "Many small items"): an item that
discovery already judged (an empty log) is recorded without forking a worker,
and the batch's peak memory is bounded whatever the number of items (the
standard: the tool runs on hosts that just died of memory exhaustion): from
2,000 to 20,000 members it may grow by SQLite's page caches filling (a few
MiB in all), not by ~6.5 KiB per item as when every record, the discovery
list and the fleet views were held. Both are read from the kernel: the
child's rusage from wait4 (peak RSS of the batch and of its reaped workers).
"""

import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

TRIAGE = [sys.executable, "-m", "triage"]


def empty_log_tar(path, n):
    with tarfile.open(path, "w") as tf:
        for i in range(n):
            info = tarfile.TarInfo(f"h{i}/vmcore-dmesg.txt")
            info.size = 0
            tf.addfile(info, io.BytesIO(b""))


# `python -m triage` that writes its own peak RSS (VmHWM) to $TRIAGE_HWM_FILE at exit.
# wait4's ru_maxrss will not do: exec keeps the high-water mark of the memory it
# replaces, and with vfork that is the spawning process's (pytest's, tens of MiB
# and growing), which would hide the batch's own peak. VmHWM is the new image's.
_HWM = ("import atexit, os, runpy\n"
        "def hwm():\n"
        "    with open('/proc/self/status') as f, open(os.environ['TRIAGE_HWM_FILE'], 'w') as out:\n"
        "        out.write(next(l.split()[1] for l in f if l.startswith('VmHWM:')))\n"
        "atexit.register(hwm)\n"
        "runpy.run_module('triage', run_name='__main__', alter_sys=True)\n")


def batch_peak_kb(tar, out):
    """(peak RSS in KiB of the batch process itself, the batch.json document)."""
    hwm = out.parent / f"{out.name}.hwm"
    p = subprocess.Popen([sys.executable, "-c", _HWM, "batch", str(tar), "-o", str(out), "--no-progress", "-j", "1",
                          "--format", "json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env={**os.environ, "TRIAGE_HWM_FILE": str(hwm)})
    err = p.stderr.read().decode()
    p.wait()
    p.stderr.close()
    assert p.returncode == 9, err           # every empty log is an error row
    return int(hwm.read_text()), json.loads((out / "batch.json").read_text())


@pytest.mark.parametrize("small,big", [(2000, 12000), pytest.param(2000, 50000, marks=pytest.mark.slow)])
def test_empty_logs_fork_no_worker_and_memory_is_bounded(tmp_path, small, big):
    peaks = {}
    for n in (small, big):
        tar = tmp_path / f"d{n}.tar"
        empty_log_tar(tar, n)
        peaks[n], doc = batch_peak_kb(tar, tmp_path / f"out{n}")
        assert doc["summary"]["dumps"] == doc["summary"]["error"] == n
        assert len(doc["dumps"]) == len(doc["fleet"]["errors"]) == len(doc["fleet"]["by_host"]) == n
        assert {d["error"] for d in doc["dumps"]} == {"empty log file"}
        assert doc["stats"]["analysed_now"] == n
        # no worker was forked: the batch reaped no child at all
        assert doc["stats"]["peak_rss_kb"]["largest_worker"] == 0
        tar.unlink()
    per_item = (peaks[big] - peaks[small]) / (big - small)
    # measured (VmHWM): 57.4 MiB at 2,000 members, 59.0 at 8,000, 58.1 at 20,000, 59.0
    # at 50,000: 0.03 KiB per item; 6.46 KiB per item (2,000 -> 20,000) when the
    # records, the discovery list and the fleet views were held in memory
    assert per_item < 1.0, f"{per_item:.2f} KiB per item ({peaks})"


def test_resume_after_grouped_commits_repeats_nothing(tmp_path):
    """A second run over the same archive reuses every stored row, writes no new one."""
    tar = tmp_path / "d.tar"
    empty_log_tar(tar, 2500)        # more than one commit group
    _, first = batch_peak_kb(tar, tmp_path / "out")
    _, again = batch_peak_kb(tar, tmp_path / "out")
    assert again["stats"]["reused"] == 2500 and again["stats"]["analysed_now"] == 0
    strip = lambda doc: [{k: v for k, v in d.items() if k != "duration_s"} for d in doc["dumps"]]  # noqa: E731
    assert strip(again) == strip(first)
    import sqlite3
    db = sqlite3.connect(tmp_path / "out" / "triage-batch.sqlite")
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT item_id) FROM results").fetchone() == (2500, 2500)
    db.close()


@pytest.mark.slow
def test_sigkill_inside_commit_groups_loses_and_repeats_nothing(tmp_path):
    """kill -9 while empty-log rows are being committed in groups, several times, then
    finish: every progress line printed before a kill names a stored row, and the
    final document equals a clean run's, one row per item."""
    import re
    import signal
    import sqlite3
    n = 8000
    tar = tmp_path / "d.tar"
    empty_log_tar(tar, n)
    _, clean = batch_peak_kb(tar, tmp_path / "clean")
    out = tmp_path / "killed"
    kills = 0
    for want in (1, 1500, 3200):
        p = subprocess.Popen(TRIAGE + ["batch", str(tar), "-o", str(out), "-j", "1", "--format", "json"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        reported = set()
        for line in p.stderr:
            m = re.match(r"^\[\d+/\d+\] \w+ (.+?): ", line)
            if m:
                reported.add(m.group(1))
                if len(reported) >= want:
                    break
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            kills += 1
        p.communicate(timeout=60)
        db = sqlite3.connect(out / "triage-batch.sqlite")
        stored = {r[0] for r in db.execute("SELECT item_id FROM results")}
        db.close()
        assert len(stored) % 1000 == 0 or len(stored) == n     # whole groups only
        assert reported <= stored                               # nothing reported was lost
    assert kills >= 2, "the batch finished before it could be killed"
    _, final = batch_peak_kb(tar, out)
    strip = lambda doc: [{k: v for k, v in d.items() if k != "duration_s"} for d in doc["dumps"]]  # noqa: E731
    assert strip(final) == strip(clean) and final["summary"] == clean["summary"]
    db = sqlite3.connect(out / "triage-batch.sqlite")
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT item_id) FROM results").fetchone() == (n, n)
    db.close()
