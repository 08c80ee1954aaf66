"""kill -9 the batch at random points, re-run: the final table equals one clean run.

Oracle: a clean, uninterrupted `triage batch` run over the same tree (real
dumps and real logs, real analysis). After several SIGKILLs and a final
re-run, the fleet table and every per-dump entry must be identical, and the
store must hold exactly one row per dump.
"""

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _dumps import finished_dumps  # noqa: E402

TRIAGE = [sys.executable, "-m", "triage"]


def build_tree(root: Path):
    dumps = finished_dumps()[:2]
    assert dumps, "no real dumps under sample_dumps/committed or sample_dumps/out"
    n = 0
    for i in range(10):
        d = root / f"host{i}" / f"127.0.0.1-2026-11-{10 + i}-10:00:00"
        d.mkdir(parents=True)
        (d / "vmcore").symlink_to(dumps[i % len(dumps)])
        n += 1
    for serial in sorted({d.parent / "serial.log" for d in dumps}):
        if serial.is_file():
            for i in range(8):
                d = root / f"node{i}-{serial.parent.name}" / f"2026112{i}0900"
                d.mkdir(parents=True)
                # a distinct last line per copy: identical logs would be folded into one analysis
                (d / f"dmesg.2026112{i}0900").write_bytes(serial.read_bytes() + f"copy {i}\n".encode())
                n += 1
    return n


def run(root, out, stdout=subprocess.PIPE):
    return subprocess.Popen(TRIAGE + ["batch", str(root), "--output", str(out), "--jobs", "2",
                                      "--format", "json"],
                            stdout=stdout, stderr=subprocess.PIPE, text=True)


def comparable(doc):
    dumps = [{k: v for k, v in d.items() if k != "duration_s"} for d in doc["dumps"]]
    return dumps, doc["fleet"], doc["summary"]


def first_difference(a, b, where="$"):
    """Path and values of the first place two JSON values differ (None if equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            d = first_difference(a.get(k), b.get(k), f"{where}.{k}")
            if d:
                return d
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{where}[{i}]")
            if d:
                return d
        return None
    return None if a == b else (where, a, b)


def test_sigkill_at_random_points_then_rerun_equals_clean_run(tmp_path):
    root = tmp_path / "crash"
    n = build_tree(root)
    p = run(root, tmp_path / "clean")
    out, err = p.communicate(timeout=900)
    assert p.returncode == 0, err
    clean = json.loads(out)
    assert clean["summary"]["dumps"] == n

    rnd = random.Random(int(os.environ.get("BATCH_KILL_SEED", "5")))
    killed_out = tmp_path / "killed"
    kills = 0
    reported = set()
    for attempt in range(5):
        # stdout (the final JSON, >64 KiB) is not read here: a pipe would block a run that
        # finishes before the kill while this loop waits on stderr
        p = run(root, killed_out, stdout=subprocess.DEVNULL)
        if attempt == 0:
            time.sleep(rnd.uniform(0.05, 0.4))         # during start-up and discovery
        else:
            # after a random number of finished dumps, plus a random sliver
            want, seen = rnd.randint(1, 4), 0
            for line in p.stderr:
                if re.match(r"^\[\d+/\d+\] ", line):
                    reported.update(re.findall(r"^\[\d+/\d+\] \w+ (.+?): ", line))
                    seen += 1
                    if seen >= want:
                        break
            time.sleep(rnd.uniform(0.0, 0.1))
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)      # only the batch parent; workers die with it
            kills += 1
        _, err = p.communicate(timeout=60)
        # a progress line is printed only after its result was committed
        reported |= set(re.findall(r"^\[\d+/\d+\] \w+ (.+?): ", err, re.M))
        stored = set()
        if (killed_out / "triage-batch.sqlite").exists():     # a kill at start-up precedes it
            db = sqlite3.connect(killed_out / "triage-batch.sqlite")
            # a kill between sqlite creating the file and the schema's commit leaves a store
            # with no table yet: nothing was stored (the rerun creates the schema)
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'results'").fetchone():
                stored = {r[0] for r in db.execute("SELECT item_id FROM results")}
            db.close()
        assert reported <= stored                       # nothing finished was lost
    assert kills >= 3, "the batch finished before it could be killed; tree too small"
    partial_rows = len(stored)
    p = run(root, killed_out)
    out, err = p.communicate(timeout=900)
    assert p.returncode == 0, err
    final = json.loads(out)
    # none of it was redone; copies of a stored crash found now are settled from
    # the store too (same_crash), so reused may exceed the rows stored before
    assert final["stats"]["reused"] >= partial_rows
    assert final["stats"]["analysed_now"] + final["stats"]["reused"] == n
    # report paths are relative to each output directory, so they compare equal
    assert first_difference(comparable(final), comparable(clean)) is None
    db = sqlite3.connect(killed_out / "triage-batch.sqlite")
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT item_id) FROM results").fetchone() == (n, n)
    assert not (killed_out / ".triage-tmp").exists()
    # the printed fleet table, too: both stores answer without analysing anything
    tables = []
    for out_dir in (tmp_path / "clean", killed_out):
        r = subprocess.run(TRIAGE + ["batch", str(root), "--output", str(out_dir), "--format", "text"],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        tables.append(r.stdout)
    assert tables[0] == tables[1] and "Same bug across hosts" in tables[0]
