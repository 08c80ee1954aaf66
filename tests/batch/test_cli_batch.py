"""`triage batch` on the command line: formats, files written, progress, exit codes.

Oracle: the CLI contract in docs/batch.md and docs/exit-codes.md, run on a
real serial-console kernel log from the dump generator (sample_dumps).
"""

import csv
import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _realdumps import DUMP_DIRS  # noqa: E402

TRIAGE = [sys.executable, "-m", "triage"]


def serial_logs():
    out = []
    for top in DUMP_DIRS:
        if top.is_dir():
            out += sorted(top.rglob("serial.log"))
    out = [p for p in out if p.stat().st_size > 1000]
    assert out, "no serial.log under sample_dumps"
    return out


def tree(tmp_path, garbage=False):
    root = tmp_path / "crash"
    for i, log in enumerate(serial_logs()[:2] * 2):
        d = root / f"host{i}" / f"20261120100{i}"
        d.mkdir(parents=True)
        (d / f"dmesg.20261120100{i}").write_bytes(log.read_bytes())
    if garbage:
        d = root / "bad" / "127.0.0.1-2026-11-20-10:00:00"
        d.mkdir(parents=True)
        (d / "vmcore").write_bytes(b"\x7fELF" + os.urandom(5000))
    return root


def test_formats_and_files(tmp_path):
    root = tree(tmp_path)
    out = tmp_path / "out"
    r = subprocess.run(TRIAGE + ["batch", str(root), "-o", str(out), "--format", "csv"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 4 and all(row["status"] == "ok" for row in rows)
    for view in ("by_title", "by_host", "by_kernel", "by_culprit", "early_boot", "repeat_hosts", "errors"):
        assert (out / f"fleet-{view}.csv").is_file()
    doc = json.loads((out / "batch.json").read_text())
    assert doc["summary"]["dumps"] == 4
    # plain progress lines when stderr is not a terminal, one per dump
    assert len([ln for ln in r.stderr.splitlines() if ln.startswith("[")]) == 4
    for fmt, marker in (("text", "Same bug across hosts"), ("markdown", "# triage batch")):
        r = subprocess.run(TRIAGE + ["batch", str(root), "-o", str(out), "--format", fmt],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0 and marker in r.stdout
        assert r.stderr == ""                      # nothing new to analyse: no progress


def test_errors_exit_9_and_progress_bar_on_a_terminal(tmp_path):
    root = tree(tmp_path, garbage=True)
    master, slave = pty.openpty()
    p = subprocess.Popen(TRIAGE + ["batch", str(root), "-o", str(tmp_path / "out"), "--format", "json"],
                         stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out, _ = p.communicate(timeout=300)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    tty = b"".join(chunks).decode(errors="replace")
    assert p.returncode == 9
    assert "\r[" in tty and "5/5" in tty and "1 of 5 dumps ended as errors" in tty
    doc = json.loads(out)
    [bad] = [d for d in doc["dumps"] if d["status"] == "error"]
    assert "bad/" in bad["id"] and bad["error"]


def test_missing_root_is_exit_3(tmp_path):
    r = subprocess.run(TRIAGE + ["batch", str(tmp_path / "nope"), "-o", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 3 and "no such file" in r.stderr


def test_memory_limit_is_enforced_on_a_real_dump(tmp_path):
    """--memory-limit caps the worker's address space: 40 MiB cannot map a 20 MiB
    dump plus Python; the item must not come back ok, and must say why."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _dumps import finished_dumps
    dump = finished_dumps()[0]
    d = tmp_path / "crash" / "web1" / "127.0.0.1-2026-11-20-10:00:00"
    d.mkdir(parents=True)
    (d / "vmcore").symlink_to(dump)
    r = subprocess.run(TRIAGE + ["batch", str(tmp_path / "crash"), "-o", str(tmp_path / "tight"),
                                 "--memory-limit", "40", "--format", "json", "--no-progress"],
                       capture_output=True, text=True, timeout=300)
    [item] = json.loads(r.stdout)["dumps"]
    assert item["status"] == "error" and r.returncode == 9
    assert "memory" in item["error"].lower(), item["error"]
    r = subprocess.run(TRIAGE + ["batch", str(tmp_path / "crash"), "-o", str(tmp_path / "roomy"),
                                 "--format", "json", "--no-progress"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and json.loads(r.stdout)["dumps"][0]["status"] in ("ok", "partial")
