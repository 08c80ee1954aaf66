"""The result store: re-runs process only new or changed dumps, one row per dump.

Oracle: the store's own contract (docs/batch.md): a row per discovered
item, keyed by path, size, mtime and content fingerprint. The analysis is
a stand-in here (it counts calls), because what is tested is which items
get analysed again, not what the analysis says.
"""

import json
import os
import sqlite3

import pytest

from triage.batch.discover import DumpItem, Location
from triage.batch.session import BatchOptions, run_batch
from triage.batch.store import DB_NAME, Store, fingerprint

CALLS = "calls.log"


def fake_analyze(path):
    # Runs in a forked worker: append to a file so the parent can count calls.
    with open(os.environ["BATCH_TEST_CALLS"], "a") as f:
        f.write(path + "\n")
    with open(path, "rb") as f:
        first = f.readline().decode(errors="replace").strip()
    return {"verdict": {"title": f"title of {first}", "category": "test", "culprit": {}},
            "system": {"hostname": None, "kernel_release": "6.1.0", "uptime_s": 12.0},
            "source": {"partial": False, "problems": []}}


def _tree(root):
    for i in range(3):
        d = root / f"host{i}" / f"127.0.0.1-2026-11-2{i}-10:00:00"
        d.mkdir(parents=True)
        (d / "vmcore-dmesg.txt").write_text(f"[    1.0] crash {i}\n")


def _calls(tmp_path):
    p = tmp_path / CALLS
    return p.read_text().splitlines() if p.exists() else []


def test_rerun_processes_only_new_or_changed(tmp_path, monkeypatch):
    monkeypatch.setenv("BATCH_TEST_CALLS", str(tmp_path / CALLS))
    root, out = tmp_path / "crash", tmp_path / "out"
    _tree(root)
    opts = BatchOptions(outdir=str(out), jobs=2, analyze=fake_analyze)
    r1 = run_batch([str(root)], opts)
    assert [r["status"] for r in r1.records] == ["ok"] * 3
    assert [r["host"] for r in r1.records] == ["host0", "host1", "host2"]
    assert len(_calls(tmp_path)) == 3
    r2 = run_batch([str(root)], opts)
    assert len(_calls(tmp_path)) == 3 and r2.stats["reused"] == 3
    assert r2.records == r1.records
    # change one file's content (same size), add a new dump
    f = root / "host1" / "127.0.0.1-2026-11-21-10:00:00" / "vmcore-dmesg.txt"
    f.write_text("[    1.0] crash X\n")
    os.utime(f, ns=(1, 1))
    d = root / "host3" / "127.0.0.1-2026-11-23-10:00:00"
    d.mkdir(parents=True)
    (d / "vmcore-dmesg.txt").write_text("[    1.0] crash 3\n")
    r3 = run_batch([str(root)], opts)
    again = _calls(tmp_path)[3:]
    assert sorted(os.path.basename(os.path.dirname(os.path.dirname(p))) for p in again) == ["host1", "host3"]
    assert [r["verdict"]["title"] for r in r3.records] == [
        "title of [    1.0] crash 0", "title of [    1.0] crash X",
        "title of [    1.0] crash 2", "title of [    1.0] crash 3"]
    db = sqlite3.connect(out / DB_NAME)
    rows = db.execute("SELECT item_id, COUNT(*) FROM results GROUP BY item_id").fetchall()
    assert len(rows) == 4 and all(n == 1 for _, n in rows)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_unique_item_and_replacement(tmp_path):
    s = Store(str(tmp_path))
    s.put("a", "k1", {"status": "ok", "n": 1})
    s.put("a", "k2", {"status": "error", "n": 2})
    assert s.count() == 1 and s.done() == {"a": "k2"} and s.records(["a"]) == [{"status": "error", "n": 2}]
    s.close()


def test_change_key_follows_size_mtime_and_content(tmp_path):
    p = tmp_path / "vmcore"
    p.write_bytes(b"A" * 300000)
    s = Store(str(tmp_path / "out"))
    item = DumpItem(id=str(p), layout="bare", vmcore=Location(path=str(p), size=300000))
    k1 = s.change_key(item)
    assert s.change_key(item) == k1
    os.utime(p, ns=(5, 5))
    k2 = s.change_key(item)
    assert k2 != k1
    # same size, new content in the tail chunk: the fingerprint differs
    with open(p, "r+b") as f:
        f.seek(299000)
        f.write(b"B")
    os.utime(p, ns=(6, 6))
    assert s.change_key(item) not in (k1, k2)
    # a change in the middle (not in head or tail) is, by design, not seen by the
    # fingerprint alone; size and mtime catch a rewrite
    before = fingerprint(str(p), 300000)
    with open(p, "r+b") as f:
        f.seek(150000)
        f.write(b"C")
    assert fingerprint(str(p), 300000) == before
    s.close()


def test_errors_kept_and_retried_on_request(tmp_path, monkeypatch):
    monkeypatch.setenv("BATCH_TEST_CALLS", str(tmp_path / CALLS))
    root, out = tmp_path / "crash", tmp_path / "out"
    _tree(root)
    (root / "host0" / "127.0.0.1-2026-11-20-10:00:00" / "vmcore").write_bytes(b"garbage")

    def picky(path):
        if path.endswith("vmcore"):
            from triage.errors import FormatError
            raise FormatError("not a dump", path=path)
        return fake_analyze(path)
    opts = BatchOptions(outdir=str(out), jobs=1, analyze=picky)
    r = run_batch([str(root)], opts)
    # the vmcore is unusable but its log is not: partial, verdict from the log
    v = [x for x in r.records if x["vmcore"]][0]
    assert v["status"] == "partial" and "vmcore unusable" in v["problems"][0]
    n = len(_calls(tmp_path))
    run_batch([str(root)], opts)
    assert len(_calls(tmp_path)) == n
    opts.retry_errors = True
    run_batch([str(root)], opts)
    assert len(_calls(tmp_path)) == n       # partial is not an error: nothing to retry
    json.dumps(list(r.records))      # records (read from the scratch database) are JSON data


def test_new_rules_or_version_make_results_stale(tmp_path, monkeypatch):
    from triage.batch.work import analysis_key
    monkeypatch.setenv("BATCH_TEST_CALLS", str(tmp_path / CALLS))
    root, out = tmp_path / "crash", tmp_path / "out"
    _tree(root)
    rules = tmp_path / "rules"
    rules.mkdir()
    k0 = analysis_key()
    assert analysis_key((str(rules),)) == k0           # an empty rule directory changes nothing
    (rules / "site.toml").write_text("# site rules\n")
    k1 = analysis_key((str(rules),))
    assert k1 != k0
    run_batch([str(root)], BatchOptions(outdir=str(out), analyze=fake_analyze, analysis_key=k0))
    run_batch([str(root)], BatchOptions(outdir=str(out), analyze=fake_analyze, analysis_key=k0))
    assert len(_calls(tmp_path)) == 3
    run_batch([str(root)], BatchOptions(outdir=str(out), analyze=fake_analyze, analysis_key=k1))
    assert len(_calls(tmp_path)) == 6


def test_one_batch_per_output_directory(tmp_path, monkeypatch):
    import fcntl
    from triage.errors import InputError
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(InputError, match="another triage batch"):
            run_batch([str(tmp_path)], BatchOptions(outdir=str(out), analyze=fake_analyze))
