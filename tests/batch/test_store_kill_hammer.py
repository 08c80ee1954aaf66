"""kill -9 the batch many times at random moments while results stream into the store.

Oracle: the progress callback runs only after a result's transaction
committed, so every id it printed must be in the store after the kill; the
final run must end with exactly one row per item (UNIQUE item id) and
re-analyse only what was missing. The analysis here is instant (a stand-in):
what is tested is the store under kills, at a rate of hundreds of commits
per second.
"""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

HELPER = Path(__file__).with_name("_fastbatch.py")
N = 150


def test_many_kills_never_lose_or_duplicate(tmp_path):
    root = tmp_path / "crash"
    for i in range(N):
        d = root / f"h{i:03d}" / "202611201000"
        d.mkdir(parents=True)
        # each log its own crash (a distinct line), or batch would fold identical logs into one analysis
        (d / "dmesg.202611201000").write_text(f"[    0.500000] Hostname: h{i:03d}\n"
                                               f"[    1.000000] Kernel panic - not syncing: {i % 7}\n")
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    rnd = random.Random(11)
    printed = set()
    kills = 0
    for _ in range(8):
        p = subprocess.Popen([sys.executable, str(HELPER), str(root), str(out)], stdout=subprocess.PIPE,
                             text=True, env=env)
        # after a random number of commits, plus a random sliver of time
        want = rnd.randint(1, 12)
        for line in p.stdout:
            if line.startswith("done "):
                printed.add(line[5:].rstrip("\n"))
                want -= 1
                if want == 0:
                    break
        time.sleep(rnd.uniform(0, 0.02))
        if p.poll() is None:
            kills += 1
        p.send_signal(signal.SIGKILL)
        lines, _ = p.communicate()
        printed |= {ln[5:] for ln in lines.splitlines() if ln.startswith("done ")}
        if (out / "triage-batch.sqlite").exists():
            db = sqlite3.connect(out / "triage-batch.sqlite")
            stored = [r[0] for r in db.execute("SELECT item_id FROM results")]
            db.close()
            assert printed <= set(stored)
            assert len(stored) == len(set(stored))
    assert kills >= 5 and 0 < len(printed) < N, (kills, len(printed))
    r = subprocess.run([sys.executable, str(HELPER), str(root), str(out)], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    redone = {ln[5:] for ln in r.stdout.splitlines() if ln.startswith("done ")}
    assert not (redone & printed)                      # nothing reported finished was redone
    db = sqlite3.connect(out / "triage-batch.sqlite")
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT item_id) FROM results").fetchone() == (N, N)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
