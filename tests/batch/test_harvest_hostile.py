"""`triage harvest` runs as root at boot in directories other users may write to:
what they can plant there must not make it read, write or wait where it should not.

Oracles: the file system (targets of planted links unchanged, no file written
outside the crash directories, new inodes for the reports), a spy on every
open() harvest's own process makes (nothing opened in a directory others may
write to), and the wall clock (a hanging analysis is cut at --timeout; the next
dump still gets its report).
"""

import builtins
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_harvest import KDUMP_FILES, copy_dir, harvest, kdump_dirs, snapshot  # noqa: E402

from triage.batch import harvest as hv  # noqa: E402
from triage.batch.work import analysis_key  # noqa: E402

LOG = "vmcore-dmesg.txt"


def opts(**kw):
    return hv.HarvestOptions(analysis_key=analysis_key(), facts=False, settle_s=0, **kw)


def test_planted_directory_link_is_not_followed(tmp_path):
    """A link in the crash directory to a directory elsewhere (here a root-owned 0755
    tree holding a kdump directory): harvest must neither read there nor write a
    report there. Before, the walk followed it and wrote elsewhere/.../triage.json."""
    src = kdump_dirs(1)[0]
    outside = tmp_path / "elsewhere"
    far = copy_dir(src, outside / "127.0.0.1-2026-12-01-10:00:00", files=(LOG,))
    os.chmod(outside, 0o755)
    crash = tmp_path / "crash"
    real = copy_dir(src, crash / "127.0.0.1-2026-12-02-10:00:00", files=(LOG,))
    (crash / "evil").symlink_to(outside)
    before = snapshot(outside)
    r = harvest(crash, "--no-facts")
    assert r.returncode == 0, r.stderr
    assert snapshot(outside) == before                    # nothing written (or left) there
    assert not (far / "triage.json").exists()
    assert (real / "triage.json").is_file()               # the real directory still gets its report
    assert "evil" in r.stderr and "symbolic link" in r.stderr and "not followed" in r.stderr
    assert [ln.split(": ")[0] for ln in r.stdout.splitlines()] == [str(real / LOG)]


def test_nothing_is_opened_in_a_directory_others_may_write_to(tmp_path, monkeypatch):
    """In a world-writable directory, a file with an unknown name that holds a kernel
    log (before: opened to sniff it), a vmcore-named file (before: its header read
    for --split) and a link to a FIFO: harvest opens none of them and warns once."""
    src = kdump_dirs(1)[0]
    crash = tmp_path / "crash"
    wild = crash / "127.0.0.1-2026-12-01-10:00:00"
    wild.mkdir(parents=True)
    (wild / "notes").write_bytes((src / LOG).read_bytes())
    (wild / "vmcore").write_bytes(b"KDUMP   " + bytes(8192))
    os.mkfifo(tmp_path / "fifo")
    (wild / "pipe").symlink_to(tmp_path / "fifo")
    os.chmod(wild, 0o1777)
    good = copy_dir(src, crash / "127.0.0.1-2026-12-02-10:00:00", files=(LOG,))
    opened = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, *a, **kw):
        opened.append(str(file))
        return real_open(file, *a, **kw)

    def spy_os_open(path, *a, **kw):
        opened.append(str(path))
        return real_os_open(path, *a, **kw)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    outcomes = hv.harvest([str(crash)], opts())
    monkeypatch.undo()
    # the directory itself is opened (O_NOFOLLOW, to check its owner and mode), nothing in it
    assert not [p for p in opened if p.startswith(str(wild) + os.sep)], opened
    by_dir = {o.directory: o for o in outcomes}
    assert by_dir[str(wild)].action == "skipped" and "writable" in by_dir[str(wild)].message
    assert by_dir[str(good)].action == "new" and (good / "triage.json").is_file()
    assert sorted(p.name for p in wild.iterdir()) == ["notes", "pipe", "vmcore"]


@pytest.mark.parametrize("where", ["trusted", "world-writable"])
def test_fifo_named_vmcore_does_not_block(tmp_path, where):
    """A FIFO where the dump should be: opening it for reading would block boot
    until a writer came. It is not a dump; the log beside it still is."""
    src = kdump_dirs(1)[0]
    d = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00", files=(LOG,))
    os.mkfifo(d / "vmcore")
    if where == "world-writable":
        os.chmod(d, 0o777)
    t0 = time.monotonic()
    r = harvest(tmp_path / "crash", "--no-facts")
    assert time.monotonic() - t0 < 100 and "Traceback" not in r.stderr
    assert stat.S_ISFIFO((d / "vmcore").lstat().st_mode)
    if where == "trusted":
        assert r.returncode == 0, r.stderr
        doc = json.loads((d / "triage.json").read_text())
        assert doc["harvest"]["files"][0][0] == LOG
    else:
        assert not (d / "triage.json").exists() and "writable" in r.stderr


def test_hardlinked_report_is_replaced_not_written_through(tmp_path):
    """triage.json / triage.txt hard links to another file (same file system):
    the rename gives the report a new inode; the other file keeps its bytes."""
    src = kdump_dirs(1)[0]
    d = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00", files=(LOG,))
    victims = {}
    for name in ("triage.json", "triage.txt"):
        v = tmp_path / f"victim-{name}"
        v.write_text("do not touch\n")
        os.link(v, d / name)
        victims[name] = (v, v.stat().st_ino)
    r = harvest(tmp_path / "crash", "--no-facts")
    assert r.returncode == 0, r.stderr
    for name, (v, ino) in victims.items():
        assert v.read_text() == "do not touch\n" and v.stat().st_nlink == 1
        assert (d / name).stat().st_ino != ino
    assert json.loads((d / "triage.json").read_text())["harvest"]["status"] == "ok"


def test_planted_temporary_names_are_never_used(tmp_path, monkeypatch):
    """Whatever holds the temporary name harvest picks (a link to a victim, a file):
    O_EXCL|O_NOFOLLOW refuse it, harvest takes another name, the victim is
    untouched, the planted entries stay as they were; a temporary report a killed
    run left behind is removed."""
    src = kdump_dirs(1)[0]
    d = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00", files=(LOG,))
    victim = tmp_path / "victim"
    victim.write_text("secret\n")
    planted = {".triage.txt.00000000000000aa.tmp": "link", ".triage.json.00000000000000bb.tmp": "file"}
    for name, kind in planted.items():
        if kind == "link":
            (d / name).symlink_to(victim)
        else:
            (d / name).write_text("planted\n")
    stale = d / ".triage.json.0123456789abcdef.tmp"        # a killed run's leftover
    stale.write_text("{}")
    names = iter([".triage.txt.00000000000000aa.tmp", ".triage.txt.00000000000000cc.tmp",
                  ".triage.json.00000000000000bb.tmp", ".triage.json.00000000000000dd.tmp"])
    monkeypatch.setattr(hv, "_temp_name", lambda name: next(names))
    monkeypatch.setattr(hv, "_TEMP_RE", __import__("re").compile(r"^\.triage\.json\.0123456789abcdef\.tmp$"))
    [out] = hv.harvest([str(tmp_path / "crash")], opts())
    assert out.action == "new", out
    assert victim.read_text() == "secret\n"
    assert (d / ".triage.txt.00000000000000aa.tmp").is_symlink()
    assert (d / ".triage.json.00000000000000bb.tmp").read_text() == "planted\n"
    assert not stale.exists()
    assert sorted(p.name for p in d.iterdir()) == sorted([LOG, "triage.json", "triage.txt", ".triage.lock",
                                                          *planted])


def test_a_hanging_dump_is_cut_at_the_timeout_and_the_next_goes_on(tmp_path):
    """The per-dump runner bounds harvest in time: an analysis that never returns is
    killed at --timeout and becomes an error report; the other dump gets its own."""
    src = kdump_dirs(1)[0]
    crash = tmp_path / "crash"
    hang = copy_dir(src, crash / "127.0.0.1-2026-12-01-10:00:00", files=(LOG,))
    good = copy_dir(src, crash / "127.0.0.1-2026-12-02-10:00:00", files=(LOG,))

    def analyze(path):
        if str(hang) in str(path):
            time.sleep(3600)
        from triage.batch.work import default_analyze
        return default_analyze(path)

    t0 = time.monotonic()
    outs = {o.directory: o for o in hv.harvest([str(crash)], opts(analyze=analyze, timeout_s=3))}
    took = time.monotonic() - t0
    assert took < 120, took
    assert outs[str(hang)].status == "error" and "timed out after 3 s" in outs[str(hang)].message
    assert json.loads((hang / "triage.json").read_text())["harvest"]["status"] == "error"
    assert outs[str(good)].status == "ok" and (good / "triage.json").is_file()


def test_reports_are_written_through_the_directory_descriptor_with_o_nofollow(tmp_path):
    """strace of a real run: every report file is created with O_CREAT|O_EXCL|O_NOFOLLOW
    relative to a descriptor (openat(dirfd, ...)), the dumps and logs are opened
    O_RDONLY only, and the crash directory is opened with O_NOFOLLOW."""
    import shutil
    if shutil.which("strace") is None:
        pytest.skip("strace not installed")
    src = kdump_dirs(1)[0]
    d = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00", files=KDUMP_FILES)
    trace = tmp_path / "trace"
    r = subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat,open,rename,renameat,renameat2",
                        "-o", str(trace), sys.executable, "-m", "triage", "harvest", str(tmp_path / "crash")],
                       capture_output=True, text=True, timeout=900)
    if "ptrace" in r.stderr or "Operation not permitted" in r.stderr and r.returncode != 0:
        pytest.skip(f"strace cannot trace here: {r.stderr.strip()[:200]}")
    assert r.returncode == 0, r.stderr
    lines = trace.read_text().splitlines()
    for name in ("vmcore", "vmcore-dmesg.txt"):
        opens = [ln for ln in lines if f'{d / name}"' in ln and "open" in ln]
        assert opens, name
        assert all("O_RDONLY" in ln and "O_WRONLY" not in ln and "O_RDWR" not in ln for ln in opens), opens
    lock = [ln for ln in lines if '".triage.lock"' in ln]
    assert lock and all("O_NOFOLLOW" in ln and "AT_FDCWD" not in ln for ln in lock), lock
    creates = [ln for ln in lines if ".triage." in ln and "O_CREAT" in ln and ln not in lock]
    assert len(creates) == 2, creates
    for ln in creates:
        assert "openat(" in ln and "AT_FDCWD" not in ln
        assert "O_EXCL" in ln and "O_NOFOLLOW" in ln and "O_WRONLY" in ln
    dir_opens = [ln for ln in lines if f'"{d}"' in ln and "O_DIRECTORY" in ln and "O_NOFOLLOW" in ln]
    assert dir_opens
    renames = [ln for ln in lines if "rename" in ln and ".triage." in ln]
    assert len(renames) == 2 and all("AT_FDCWD" not in ln for ln in renames), renames


def test_a_dump_still_being_copied_in_is_waited_for(tmp_path):
    """The path unit starts harvest when a crash directory appears; `cp -r` is then
    still writing the vmcore and nothing would start harvest again when it ends.
    With --settle 3, harvest waits until the files have been still for 3 s and
    reports the whole dump (before: the half-copied file, a wrong or error report)."""
    import threading
    src = kdump_dirs(1)[0]
    d = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00", files=(LOG,))
    data = (src / "vmcore").read_bytes()
    chunks = 8
    step = len(data) // chunks + 1
    started = threading.Event()

    def copy_slowly():
        with open(d / "vmcore", "wb") as f:
            for i in range(chunks):
                f.write(data[i * step:(i + 1) * step])
                f.flush()
                started.set()
                time.sleep(0.3)

    t = threading.Thread(target=copy_slowly)
    t.start()
    try:
        assert started.wait(60)
        # 3 s of quiet, ten times the writer's pause: a loaded machine does not end the wait early
        outs = hv.harvest([str(tmp_path / "crash")], hv.HarvestOptions(analysis_key=analysis_key(), facts=False,
                                                                         settle_s=3))
    finally:
        t.join()
    [out] = outs
    doc = json.loads((d / "triage.json").read_text())
    assert doc["harvest"]["files"][0][:2] == ["vmcore", len(data)], doc["harvest"]["files"]
    assert out.status == "ok" and doc["harvest"]["status"] == "ok"


def test_settle_ignores_times_in_the_future_and_is_bounded(tmp_path):
    """A dump whose mtime lies in the future (another clock) does not make harvest
    wait; a file that keeps changing makes it wait no longer than settle_max_s."""
    src = kdump_dirs(1)[0]
    d = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00", files=(LOG,))
    future = time.time() + 7 * 86400
    os.utime(d / LOG, (future, future))
    # its ctime is now: young. With settle 1 s the wait is about 1 s, not a week.
    t0 = time.monotonic()
    hv.harvest([str(tmp_path / "crash")], hv.HarvestOptions(analysis_key=analysis_key(), facts=False,
                                                            settle_s=1, settle_max_s=120))
    assert time.monotonic() - t0 < 60
    assert (d / "triage.json").is_file()
    (d / "triage.json").unlink()
    t0 = time.monotonic()
    hv.harvest([str(tmp_path / "crash")], hv.HarvestOptions(analysis_key=analysis_key(), facts=False,
                                                            settle_s=3600, settle_max_s=2))
    assert time.monotonic() - t0 < 60 and (d / "triage.json").is_file()


def test_many_new_crash_directories_within_a_small_descriptor_limit(tmp_path):
    """60 new crash directories under RLIMIT_NOFILE 40: no directory stays open while
    the dumps are analysed (before: 'Too many open files' for the later ones, then
    an internal error), every one gets its report."""
    import resource
    src = kdump_dirs(1)[0]
    crash = tmp_path / "crash"
    for i in range(60):
        copy_dir(src, crash / f"10.5.0.{i}-2026-12-05-10:00:00", files=(LOG,))

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))

    r = subprocess.run([sys.executable, "-m", "triage", "harvest", "--settle", "0", "--no-facts", str(crash)],
                       capture_output=True, text=True, timeout=900, preexec_fn=low_limit)
    assert r.returncode == 0, r.stderr[-2000:]
    assert len(r.stdout.splitlines()) == 60 and r.stderr == ""
    assert len(list(crash.glob("*/triage.json"))) == 60


def test_a_crash_directory_replaced_during_the_analysis_is_not_written(tmp_path):
    """The directory is opened again to write (no descriptor is held during the
    analysis): when it is no longer the one planned (moved away and another put
    in its place, by ABRT or by someone else), nothing is written, neither into
    the newcomer nor after the moved one, and the outcome says why; the next run
    finds the moved directory wherever it went."""
    src = kdump_dirs(1)[0]
    crash = tmp_path / "crash"
    d = copy_dir(src, crash / "127.0.0.1-2026-12-01-10:00:00", files=(LOG,))
    moved = tmp_path / "moved"

    def analyze(path):
        from triage.batch.work import default_analyze
        diag = default_analyze(path)
        os.rename(d, moved)                 # in the worker: the file system is shared
        d.mkdir(mode=0o755)
        return diag

    [out] = hv.harvest([str(crash)], opts(analyze=analyze))
    assert out.action == "failed" and "replaced" in out.message, out
    assert list(d.iterdir()) == [] and not (moved / "triage.json").exists()


def test_a_lock_on_the_directory_itself_cannot_stop_the_report(tmp_path):
    """Any user may open a 0755 crash directory and flock it. Harvest locks a 0600
    file inside instead, which only root can open: a lock held on the directory
    (here by this test) does not stop the report (before: 'another triage
    harvest is writing here; skipped', every boot). A harvest that does hold the
    lock file makes another wait, then give up on that directory with exit 9."""
    import fcntl
    src = kdump_dirs(1)[0]
    d = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00", files=(LOG,))
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = harvest(tmp_path / "crash", "--no-facts")
        assert r.returncode == 0 and (d / "triage.json").is_file(), r.stderr
    finally:
        os.close(fd)
    assert stat.S_IMODE((d / ".triage.lock").stat().st_mode) == 0o600
    (d / "triage.json").unlink()
    fd = os.open(d / ".triage.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = harvest(tmp_path / "crash", "--no-facts")
        assert r.returncode == 9 and "another triage harvest is writing here" in r.stderr, r.stderr
        assert not (d / "triage.json").exists()
    finally:
        os.close(fd)


def test_the_crash_root_itself_may_be_a_link(tmp_path):
    """/var/crash as a link to a bigger disk (an admin's choice, not a plant): the
    root given is followed, only links below it are not."""
    src = kdump_dirs(1)[0]
    real = copy_dir(src, tmp_path / "data" / "crash" / "127.0.0.1-2026-12-01-10:00:00", files=(LOG,))
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "crash").symlink_to(tmp_path / "data" / "crash")
    r = harvest(tmp_path / "var" / "crash", "--no-facts")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert (real / "triage.json").is_file()
