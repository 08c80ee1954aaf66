"""Batch details on real dumps and logs: the same crash at several paths is analysed
once, --split parts are one dump, symlinked directories are followed without
looping, Ctrl-C says how to resume, shards merge into the full run, the
progress line never grows a path.

Oracles: `triage analyze` on the same files (verdicts), a plain full batch run
(rows of the shards' merge, the resumed run), makedumpfile itself (it writes
the --split parts), the directory tree (which links lead where).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _dumps import finished_dumps, interrupt_after_first_result, rhel_tree  # noqa: E402
from _realdumps import ROOT  # noqa: E402

TRIAGE = [sys.executable, "-m", "triage"]
COMMITTED = ROOT / "sample_dumps" / "committed"


def batch(*args, timeout=900, **kw):
    return subprocess.run(TRIAGE + ["batch", *map(str, args)], capture_output=True, text=True, timeout=timeout, **kw)


def analyze_json(*paths):
    r = subprocess.run(TRIAGE + ["analyze", *map(str, paths), "--format", "json"], capture_output=True, text=True,
                       timeout=600)
    return json.loads(r.stdout)


def rows(doc):
    return sorted((d["id"], d["status"], (d["verdict"] or {}).get("category"), (d["verdict"] or {}).get("title"))
                  for d in doc["dumps"])


def serial_log() -> Path:
    for p in finished_dumps():
        s = p.parent / "serial.log"
        if s.is_file() and s.stat().st_size > 1000:
            return s
    pytest.skip("no serial.log beside the real dumps")


def core(verdict: dict) -> dict:
    """A verdict without its next steps, whose crash/drgn command lines name the
    path that was analysed (each copy's own for a crash found again)."""
    return {k: v for k, v in verdict.items() if k != "next_steps"}


def identifiable_dump() -> Path:
    """The smallest real dump whose crash identity can be read from its headers
    (ELF or kdump-compressed, with BUILD-ID and CRASHTIME): flattened streams
    and QEMU dumps without CRASHTIME are keyed by path alone."""
    from triage.dumps import detect, open_dump
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    for p in finished_dumps():
        if detect(str(p)) not in ("elf", "kdump"):
            continue
        with open_dump(str(p)) as reader:
            info = parse_vmcoreinfo(reader.vmcoreinfo() or "")
        if info.build_id and info.crash_time is not None:
            return p
    pytest.skip("no real dump with BUILD-ID and CRASHTIME")


def test_same_crash_at_several_paths_is_analysed_once(tmp_path):
    dump = identifiable_dump()
    root = tmp_path / "crash"
    for host in ("web1", "web2", "web3"):
        d = root / host / "127.0.0.1-2026-11-20-10:00:00"
        d.mkdir(parents=True)
        (d / "vmcore").symlink_to(dump)
    cut = root / "web4" / "127.0.0.1-2026-11-21-10:00:00"
    cut.mkdir(parents=True)
    (cut / "vmcore").write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])   # a different input
    log = serial_log().read_bytes()
    for host in ("node1", "node2"):
        d = root / host / "202611200900"
        d.mkdir(parents=True)
        (d / "dmesg.202611200900").write_bytes(log)
    r = batch(root, "-o", tmp_path / "out", "--format", "json", "--no-progress", "-j", "1")
    doc = json.loads(r.stdout)
    by = {d["id"]: d for d in doc["dumps"]}
    assert doc["stats"]["same_crash"] == 3 and doc["stats"]["analysed_now"] == 6
    # three analyses ran (dump, its cut copy, the log); the cut copy ends as its own
    # row (an error: no report), the other two wrote the only report directories
    cut_row = by[str(cut / "vmcore")]
    reports = 2 + (cut_row["status"] != "error")
    assert len(list((tmp_path / "out" / "reports").iterdir())) == reports
    first = str(root / "web1/127.0.0.1-2026-11-20-10:00:00/vmcore")
    oracle = analyze_json(dump)
    for host in ("web2", "web3"):
        d = by[str(root / host / "127.0.0.1-2026-11-20-10:00:00/vmcore")]
        assert d["same_crash_as"] == first and core(d["verdict"]) == core(oracle["verdict"])
        assert d["analyzed"] == d["id"] and d["host"] in (host, oracle["system"]["hostname"])
        # the shared result's crash/drgn command lines name this copy, not the first
        steps = "\n".join(d["verdict"]["next_steps"])
        assert d["id"] in steps and first not in steps, steps
        assert d["verdict"]["next_steps"] == [x.replace(str(dump), d["id"]) for x in oracle["verdict"]["next_steps"]]
    assert cut_row["same_crash_as"] is None
    assert by[str(root / "node2/202611200900/dmesg.202611200900")]["same_crash_as"] == \
        str(root / "node1/202611200900/dmesg.202611200900")
    # a fourth copy found on a later run is settled from the store, not analysed
    d = root / "web5" / "127.0.0.1-2026-11-22-10:00:00"
    d.mkdir(parents=True)
    (d / "vmcore").symlink_to(dump)
    r = batch(root, "-o", tmp_path / "out", "--format", "json", "--no-progress")
    again = json.loads(r.stdout)
    assert again["stats"]["analysed_now"] == 0 and again["stats"]["same_crash"] == 1
    assert core({x["id"]: x for x in again["dumps"]}[str(d / "vmcore")]["verdict"]) == core(oracle["verdict"])


def test_split_parts_in_one_directory_are_one_dump(tmp_path):
    """makedumpfile --split parts (with --splitblock-size, so that each part really
    holds a slice of memory: without it this small dump all lands in part 1) in a
    RHEL directory with the log saved beside them: ONE item, the parts and the log,
    read clean. Oracle: the same parts put back together by makedumpfile
    --reassemble and analysed as one file. Parts 1 and 3 alone: still one item with
    the log, partial, the verdict from the log."""
    if not shutil.which("makedumpfile"):
        pytest.skip("makedumpfile not installed")
    src = COMMITTED / "gpu_alloc_null-kdump-lzo" / "vmcore"
    d = tmp_path / "crash" / "127.0.0.1-2026-11-20-10:00:00"
    d.mkdir(parents=True)
    parts = [d / f"vmcore-{i}" for i in (1, 2, 3)]
    r = subprocess.run(["makedumpfile", "-l", "-d", "31", "--splitblock-size", "4", "--split", str(src),
                        *map(str, parts)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    from triage.dumps.kdump_header import parse_header
    from triage.dumps.store import FileStore
    spans = []
    for p in parts:
        store = FileStore(str(p))
        try:
            h = parse_header(store)
        finally:
            store.close()
        spans.append(h.end_pfn - h.start_pfn)
    assert all(n > 0 for n in spans), spans             # every part holds pages
    log = COMMITTED / "gpu_alloc_null-kdump-lzo" / "vmcore-dmesg.txt"
    shutil.copy(log, d / "vmcore-dmesg.txt")
    whole = tmp_path / "reassembled"
    r = subprocess.run(["makedumpfile", "--reassemble", *map(str, parts), str(whole)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    oracle = analyze_json(whole)
    assert oracle["source"]["partial"] is False
    miss = tmp_path / "crash" / "127.0.0.1-2026-11-21-10:00:00"
    miss.mkdir()
    for name in ("vmcore-1", "vmcore-3", "vmcore-dmesg.txt"):
        shutil.copy(d / name, miss / name)
    r = batch(tmp_path / "crash", "-o", tmp_path / "out", "--format", "json", "--no-progress")
    doc = json.loads(r.stdout)
    assert len(doc["dumps"]) == 2, [x["id"] for x in doc["dumps"]]     # no separate log items
    by = {x["id"]: x for x in doc["dumps"]}
    item = by[str(d / "vmcore-1")]
    assert item["paths"] == [str(p) for p in parts] + [str(d / "vmcore-dmesg.txt")]
    assert item["layout"] == "rhel" and item["log"] == str(d / "vmcore-dmesg.txt")
    assert item["status"] == "ok" and item["problems"] == [] and item["disagreements"] == []
    assert core(item["verdict"]) == core(oracle["verdict"])
    assert core(item["verdict"]) == core(analyze_json(parts[1], parts[0], parts[2])["verdict"])
    cut = by[str(miss / "vmcore-1")]
    assert cut["log"] == str(miss / "vmcore-dmesg.txt") and cut["status"] == "partial"
    assert any("no split file given" in p for p in cut["problems"]), cut["problems"]
    assert cut["verdict"]["title"] == oracle["verdict"]["title"]


def test_symlinked_directories_followed_with_cycles_detected(tmp_path):
    log = serial_log().read_bytes()
    real = tmp_path / "nfs" / "node7" / "202611200900"
    real.mkdir(parents=True)
    (real / "dmesg.202611200900").write_bytes(log)
    root = tmp_path / "crash"
    root.mkdir()
    (root / "node7").symlink_to(tmp_path / "nfs" / "node7")          # followed
    (root / "again").symlink_to(tmp_path / "nfs" / "node7")          # the same directory: once
    (real / "up").symlink_to(root)                                   # a cycle back to the root
    (root / "self").symlink_to(".")                                  # a cycle onto itself
    r = batch(root, "-o", tmp_path / "out", "--format", "json", "--no-progress", timeout=300)
    doc = json.loads(r.stdout)
    assert [d["id"] for d in doc["dumps"]] == [str(root / "again/202611200900/dmesg.202611200900")] or \
        [d["id"] for d in doc["dumps"]] == [str(root / "node7/202611200900/dmesg.202611200900")]
    reasons = {s["path"]: s["reason"] for s in doc["skipped"]}
    assert any("link back to" in why for why in reasons.values()), reasons
    assert any("already walked" in why for why in reasons.values()), reasons


def test_a_directory_reached_directly_and_by_link_is_walked_by_its_real_path(tmp_path):
    """A link that sorts before the directory it points to (`a-alias -> real`), a
    root given again inside another root, a FIFO named like a dump: the item keeps
    its real path, the skips say what happened, nothing blocks."""
    log = serial_log().read_bytes()
    root = tmp_path / "crash"
    real = root / "real" / "202611200900"
    real.mkdir(parents=True)
    (real / "dmesg.202611200900").write_bytes(log)
    (root / "a-alias").symlink_to("real")
    fifo = root / "real" / "127.0.0.1-2026-11-20-10:00:00"
    fifo.mkdir()
    os.mkfifo(fifo / "vmcore")
    r = batch(root, "-o", tmp_path / "out", "--format", "json", "--no-progress", timeout=300)
    doc = json.loads(r.stdout)
    assert [d["id"] for d in doc["dumps"]] == [str(real / "dmesg.202611200900")]
    reasons = {s["path"]: s["reason"] for s in doc["skipped"]}
    assert reasons[str(root / "a-alias")] == f"directory already walked as {root / 'real'}"
    assert reasons[str(fifo / "vmcore")] == "not a regular file"
    r = batch(root / "real", root, "-o", tmp_path / "out2", "--format", "json", "--no-progress", timeout=300)
    doc = json.loads(r.stdout)
    assert [d["id"] for d in doc["dumps"]] == [str(real / "dmesg.202611200900")]
    reasons = {s["path"]: s["reason"] for s in doc["skipped"]}
    assert reasons[str(root / "real")] == f"directory already walked as {root / 'real'}"     # not "a link back"


@pytest.mark.slow
def test_ctrl_c_says_how_many_are_done_and_a_rerun_resumes(tmp_path):
    log = serial_log().read_bytes()
    root = tmp_path / "crash"
    n = 12
    for i in range(n):
        d = root / f"node{i:02d}" / "202611200900"
        d.mkdir(parents=True)
        # distinct logs (one extra line each): distinct crashes, none folded onto another
        (d / "dmesg.202611200900").write_bytes(log + f"[99999.000000] copy {i}\n".encode())
    code, err = interrupt_after_first_result(
        TRIAGE + ["batch", str(root), "-o", str(tmp_path / "out"), "-j", "1", "--format", "json"])
    assert code == 130, err
    line = [ln for ln in err.splitlines() if "run again to resume" in ln]
    assert line and "Traceback" not in err, err
    done, left = (int(x.split()[0]) for x in line[0].split(": ")[-1].split(";")[0].split(", "))
    assert done >= 1 and done + left == n and left >= 1
    r = batch(root, "-o", tmp_path / "out", "--format", "json", "--no-progress")
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["stats"]["analysed_now"] == left and len(doc["dumps"]) == n


def test_shards_merge_into_the_full_run(tmp_path):
    root = tmp_path / "crash"
    dumps = finished_dumps()[:3]
    rhel_tree(root, dumps, day=2)
    log = serial_log().read_bytes()
    for i in range(4):
        d = root / f"node{i}" / "202611200900"
        d.mkdir(parents=True)
        (d / "dmesg.202611200900").write_bytes(log + f"[99999.000000] copy {i}\n".encode())
    full = json.loads(batch(root, "-o", tmp_path / "full", "--format", "json", "--no-progress").stdout)
    ids = set()
    for k in range(3):
        part = json.loads(batch(root, "-o", tmp_path / f"shard{k}", "--shard", f"{k}/3", "--format", "json",
                                "--no-progress").stdout)
        mine = {d["id"] for d in part["dumps"]}
        assert not (mine & ids)                       # the slices do not overlap
        ids |= mine
        again = json.loads(batch(root, "-o", tmp_path / f"again{k}", "--shard", f"{k}/3", "--format", "json",
                                 "--no-progress").stdout)
        assert {d["id"] for d in again["dumps"]} == mine      # deterministic
    assert ids == {d["id"] for d in full["dumps"]}
    r = batch("--merge", *[tmp_path / f"shard{k}" for k in range(3)], "-o", tmp_path / "merged",
              "--format", "json")
    merged = json.loads(r.stdout)
    assert rows(merged) == rows(full)
    assert merged["fleet"]["by_title"] == full["fleet"]["by_title"]
    for d in merged["dumps"]:
        assert (tmp_path / "merged" / d["report"] / "report.txt").is_file()
    bad = batch("--merge", root, "-o", tmp_path / "m2")
    assert bad.returncode == 3 and "not a triage batch directory" in bad.stderr
    assert batch(root, "--shard", "3/3", "-o", tmp_path / "x").returncode == 2


def test_merge_refuses_unusable_or_running_shards_and_takes_any_directory_name(tmp_path):
    """--merge sources: a directory whose name holds '?' and '#' (SQLite URI syntax:
    the store was opened elsewhere, read-write, creating a stray file), a store
    that is not a database, a shard whose batch still runs (its lock is held).
    Unusable sources are one line, exit 3, before anything is written."""
    from triage.batch.session import lock_outdir
    log = serial_log().read_bytes()
    root = tmp_path / "crash"
    for i in range(3):
        d = root / f"node{i}" / "202611200900"
        d.mkdir(parents=True)
        (d / "dmesg.202611200900").write_bytes(log + f"[99999.000000] copy {i}\n".encode())
    odd = tmp_path / "shard?k=1#0"
    full = json.loads(batch(root, "-o", tmp_path / "full", "--format", "json", "--no-progress").stdout)
    assert batch(root, "-o", odd, "--format", "json", "--no-progress").returncode == 0
    before = set(os.listdir(tmp_path))
    r = batch("--merge", odd, "-o", tmp_path / "m1", "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert rows(json.loads(r.stdout)) == rows(full)
    assert set(os.listdir(tmp_path)) == before | {"m1"}         # nothing created beside it
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "triage-batch.sqlite").write_bytes(b"not a database\n" * 100)
    r = batch("--merge", odd, garbage, "-o", tmp_path / "m2")
    assert r.returncode == 3 and "cannot read this batch store" in r.stderr and len(r.stderr.splitlines()) == 1
    assert not (tmp_path / "m2").exists()
    lock = lock_outdir(str(odd))                 # what a running batch holds
    try:
        r = batch("--merge", odd, "-o", tmp_path / "m3")
    finally:
        lock.close()
    assert r.returncode == 3 and "still running" in r.stderr and not (tmp_path / "m3").exists()


def test_a_damaged_result_store_is_one_line(tmp_path):
    (tmp_path / "crash").mkdir()
    (tmp_path / "crash" / "dmesg.txt").write_bytes(serial_log().read_bytes())
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "triage-batch.sqlite").write_bytes(b"\0garbage" * 512)
    r = batch(tmp_path / "crash", "-o", tmp_path / "out", "--no-progress")
    assert r.returncode == 3 and "move it away" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_progress_path_is_cut_from_the_left_and_never_grows():
    from triage.cli.batch import shorten_path
    for p in ("/var/crash/a/vmcore", "x" * 60, "/" + "d/" * 50 + "vmcore"):
        s = shorten_path(p, 60)
        assert len(s) <= min(len(p), 60)
        assert p.endswith(s.lstrip("…"))
    assert shorten_path("/var/crash/a/vmcore", 60) == "/var/crash/a/vmcore"
    long = "/archive/" + "sub/" * 30 + "10.0.0.7-2026-11-20-10:00:00/vmcore"
    assert shorten_path(long, 60).endswith("/10.0.0.7-2026-11-20-10:00:00/vmcore")


def test_progress_bar_fits_the_terminal_it_redraws_on():
    """On a terminal the bar is redrawn with \\r: a line wider than the terminal wraps
    and every redraw leaves a line behind. Each drawn line fits, for narrow and
    wide terminals, and the path is still cut from the left."""
    import io
    from types import SimpleNamespace
    from triage.cli.batch import _Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    item = SimpleNamespace(id="/archive/" + "sub/" * 30 + "10.0.0.7-2026-11-20-10:00:00/vmcore")
    for cols in (40, 60, 80, 200):
        out = Tty()
        bar = _Progress(out)
        bar.columns = lambda cols=cols: cols
        for n in (1, 2):
            bar(n, 2, item, {"status": "partial", "verdict": {"title": "t"}})
        lines = [seg for seg in out.getvalue().replace("\n", "\r").split("\r") if seg]
        assert len(lines) == 2 and all(len(seg) <= cols - 1 for seg in lines), (cols, lines)
        assert all(seg.rstrip().endswith("/vmcore") for seg in lines)
        if cols >= 80:
            assert "10.0.0.7-2026-11-20-10:00:00/vmcore" in lines[0]


def test_jobs_zero_is_explained():
    r = subprocess.run(TRIAGE + ["batch", "--help"], capture_output=True, text=True, timeout=60)
    assert "0 (the default) means one per CPU" in " ".join(r.stdout.split())
