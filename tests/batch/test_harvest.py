"""`triage harvest` on a real kdump directory in the RHEL layout, and its safety rules.

Oracles:
  * `triage analyze DUMP --format json` on the very same file: the report
    harvest writes beside it must carry the same verdict (title, category) and
    the same partial/ok status (analyze exit 6 <-> partial);
  * the generator's scenario (sample_dumps/dumpgen/scenarios.py): the crash each
    real dump was made to show;
  * the file system itself: inode and mtime of every report (a second run
    writes nothing), the targets of planted symlinks (never written through),
    a read-only bind mount over the dumps (they are opened read-only), a
    read-only bind mount over a crash directory and a 64 KiB tmpfs (soft
    failure with a clear message, exit 9, no temporary file left).
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _dumps import finished_dumps  # noqa: E402
from test_real_archive import expected_category, scenario_of  # noqa: E402

TRIAGE = [sys.executable, "-m", "triage"]
HAVE_DRGN = importlib.util.find_spec("drgn") is not None
KDUMP_FILES = ("vmcore", "vmcore-dmesg.txt", "kexec-dmesg.log")
SOURCE = {}     # crash directory made by the fixture -> the generator's dump it copies


def kdump_dirs(n=3):
    """Crash directories as kdump wrote them in the generator's guests (vmcore +
    vmcore-dmesg.txt), one per scenario where possible."""
    out, seen = [], set()
    for vmcore in finished_dumps():
        d = vmcore.parent
        if vmcore.name == "vmcore" and (d / "vmcore-dmesg.txt").is_file():
            s = scenario_of(vmcore)
            if s not in seen:
                seen.add(s)
                out.append(d)
    if not out:
        pytest.skip("no in-guest kdump directory (vmcore + vmcore-dmesg.txt) among the real dumps")
    return out[:n]


def harvest(*args, **kw):
    """`triage harvest ARGS` with --settle 0: the files a test has just copied are
    young, and the default would wait 10 s for them (test_settle checks the wait)."""
    return subprocess.run(TRIAGE + ["harvest", "--settle", "0", *map(str, args)], capture_output=True,
                          text=True, timeout=900, **kw)


def analyze_oracle(path, fmt="json"):
    """(status, document) of `triage analyze` on the same file. No debuginfo search:
    harvest reads the dump facts from the dump's own BTF, as batch does."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}     # the file width, not a terminal's
    r = subprocess.run(TRIAGE + ["analyze", str(path), "--format", fmt, "--no-debuginfo-search"],
                       capture_output=True, text=True, timeout=600, env=env)
    status = {0: "ok", 6: "partial"}.get(r.returncode, "error")
    if fmt != "json":
        return status, r.stdout
    return status, json.loads(r.stdout) if r.stdout.strip() else None


def snapshot(root: Path):
    """(inode, mtime_ns, size) of every file under root, and the set of names."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        out[str(p)] = (st.st_ino, st.st_mtime_ns, st.st_size)
    return out


def copy_dir(src: Path, dest: Path, files=KDUMP_FILES):
    dest.mkdir(parents=True)
    os.chmod(dest, 0o755)
    for name in files:
        if (src / name).is_file():
            shutil.copy2(src / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def crashdir(tmp_path_factory):
    """/var/crash of a RHEL host: real kdump directories, one cut to 60 % as
    vmcore-incomplete beside its vmcore-dmesg.txt (what kdump leaves when the
    disk fills)."""
    root = tmp_path_factory.mktemp("harvest") / "var" / "crash"
    dirs = kdump_dirs()
    made = []
    for i, d in enumerate(dirs):
        made.append(copy_dir(d, root / f"10.0.0.{i + 1}-2026-12-0{i + 1}-10:00:00"))
        SOURCE[made[-1]] = d / "vmcore"
    cut = root / "10.0.0.9-2026-12-09-10:00:00"
    cut.mkdir()
    os.chmod(cut, 0o755)
    data = (dirs[0] / "vmcore").read_bytes()
    (cut / "vmcore-incomplete").write_bytes(data[: int(len(data) * 0.6)])
    shutil.copy2(dirs[0] / "vmcore-dmesg.txt", cut / "vmcore-dmesg.txt")   # kdump saves it first
    made.append(cut)
    return root, made


@pytest.fixture(scope="module")
def first_run(crashdir):
    root, made = crashdir
    r = harvest(root)
    return r


def dump_in(d: Path) -> Path:
    return d / "vmcore" if (d / "vmcore").exists() else d / "vmcore-incomplete"


def test_reports_beside_each_dump_match_triage_analyze(crashdir, first_run):
    root, made = crashdir
    r = first_run
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == len(made), r.stdout          # one line per new dump
    for d in made:
        dump = dump_in(d)
        doc = json.loads((d / "triage.json").read_text())
        text = (d / "triage.txt").read_text()
        if dump.name == "vmcore-incomplete":
            # unreadable cut dump: the verdict comes from the log saved beside it
            assert analyze_oracle(dump)[0] in ("error", "partial")
            _, oracle = analyze_oracle(d / "vmcore-dmesg.txt")
            status = "partial"
            # and the report beside the dump says so: the reader of triage.txt must know
            flat = " ".join(text.split())
            assert doc["source"]["partial"] is True, doc["source"]
            assert "PARTIAL INPUT: vmcore unusable (" in flat and "verdict taken from vmcore-dmesg.txt" in flat
        else:
            status, oracle = analyze_oracle(dump)
        assert oracle is not None
        assert doc["verdict"]["category"] == oracle["verdict"]["category"], d
        assert doc["verdict"]["title"] == oracle["verdict"]["title"], d
        assert doc["harvest"]["status"] == status, d
        assert text.splitlines()[0] == oracle["verdict"]["title"]
        if dump.name == "vmcore":
            # the very report analyze gives, dump facts included (task, stack, modules, zones)
            assert {k: v for k, v in doc.items() if k != "harvest"} == oracle, d
            assert text == analyze_oracle(dump, "text")[1], d
            if HAVE_DRGN:       # without drgn both say the facts could not be read
                assert "Loaded modules" in text and (doc.get("dump") or {}).get("tasks"), d
        line = [ln for ln in lines if ln.startswith(str(dump) + ":")]
        assert len(line) == 1 and oracle["verdict"]["title"] in line[0]
        assert f"[{oracle['verdict']['category']}]" in line[0]
        h = doc["harvest"]
        assert h["triage_version"] and h["rules"]
        assert [f[0] for f in h["files"]][0] == dump.name
        if d in SOURCE and expected_category(SOURCE[d]):
            assert doc["verdict"]["category"] == expected_category(SOURCE[d]), d
    # the incomplete dump gets a partial report
    cut = made[-1]
    doc = json.loads((cut / "triage.json").read_text())
    assert doc["harvest"]["status"] == "partial"
    assert "(partial)" in [ln for ln in lines if "vmcore-incomplete" in ln][0]


def test_second_run_writes_nothing(crashdir, first_run, tmp_path):
    root, made = crashdir
    before = snapshot(root)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    tmp_before = tmpdir.stat().st_mtime_ns
    r = harvest(root, env=dict(os.environ, TMPDIR=str(tmpdir)))
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""
    assert snapshot(root) == before                   # same inodes, mtimes, sizes; no temp files
    assert tmpdir.stat().st_mtime_ns == tmp_before    # not even a temporary directory made and removed


def test_changed_dump_is_analysed_again(tmp_path):
    src = kdump_dirs(1)[0]
    d = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00")
    other = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-02-10:00:00", files=("vmcore-dmesg.txt",))
    assert harvest(tmp_path / "crash").returncode == 0
    json_ino = (other / "triage.json").stat().st_ino
    st = (d / "vmcore").stat()
    os.utime(d / "vmcore", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    r = harvest(tmp_path / "crash")
    assert r.returncode == 0
    assert r.stdout.splitlines() and all(ln.startswith(str(d / "vmcore")) for ln in r.stdout.splitlines())
    assert (other / "triage.json").stat().st_ino == json_ino
    # a new triage version, other rules, or reports made without the dump facts re-analyse too
    for key, old in (("rules", "older-rules"), ("triage_version", "0.0.1"), ("rules", None)):
        doc = json.loads((other / "triage.json").read_text())
        doc["harvest"][key] = old if old is not None else doc["harvest"][key].replace("+facts", "")
        (other / "triage.json").write_text(json.dumps(doc))
        r = harvest(tmp_path / "crash")
        [line] = r.stdout.splitlines()
        assert line.startswith(str(other / "vmcore-dmesg.txt") + ": "), (key, old)
    assert harvest(tmp_path / "crash").stdout == ""
    r = harvest(tmp_path / "crash", "--no-facts")         # --no-facts reports differ: made again
    assert len(r.stdout.splitlines()) == 2


def test_planted_symlinks_are_replaced_never_followed(tmp_path):
    src = kdump_dirs(1)[0]
    d = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00")
    victim_json = tmp_path / "etc-shadow"
    victim_txt = tmp_path / "etc-passwd"
    victim_json.write_text("root:secret\n")
    victim_txt.write_text("root:x:0:0\n")
    (d / "triage.json").symlink_to(victim_json)
    (d / "triage.txt").symlink_to(victim_txt)
    r = harvest(tmp_path / "crash")
    assert r.returncode == 0, r.stderr
    assert victim_json.read_text() == "root:secret\n" and victim_txt.read_text() == "root:x:0:0\n"
    for name in ("triage.json", "triage.txt"):
        assert not (d / name).is_symlink() and (d / name).is_file()
    assert "symbolic link" in r.stderr
    # a link planted where the temporary name will be: O_EXCL|O_NOFOLLOW refuse it,
    # and the temporary names are unpredictable anyway; nothing but our files appear
    assert sorted(p.name for p in d.iterdir()) == sorted(list(KDUMP_FILES) + ["triage.json", "triage.txt",
                                                                            ".triage.lock"])


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_group_or_world_writable_crash_dir_is_skipped(tmp_path, mode):
    src = kdump_dirs(1)[0]
    d = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00", files=("vmcore-dmesg.txt",))
    os.chmod(d, mode)
    r = harvest(tmp_path / "crash")
    assert r.returncode == 0 and r.stdout == ""
    assert "writable" in r.stderr and "skipped" in r.stderr
    assert not (d / "triage.json").exists() and not (d / "triage.txt").exists()


def test_symlinked_crash_dir_is_skipped(tmp_path):
    src = kdump_dirs(1)[0]
    real = copy_dir(src, tmp_path / "elsewhere" / "127.0.0.1-2026-12-01-10:00:00", files=("vmcore-dmesg.txt",))
    (tmp_path / "crash").mkdir()
    (tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00").symlink_to(real)
    r = harvest(tmp_path / "crash")
    assert "symbolic link" in r.stderr and not (real / "triage.json").exists()


def test_errors_exit_9_and_bounded_memory(tmp_path):
    """A garbage vmcore is an error report; --memory-limit 40 cannot map a 20 MiB dump
    plus Python, so the real dump's analysis is stopped by the runner's RLIMIT_AS
    (the same runner whose time limit tests/batch/test_runner.py checks)."""
    src = kdump_dirs(1)[0]
    bad = tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00"
    bad.mkdir(parents=True)
    os.chmod(bad, 0o755)
    (bad / "vmcore").write_bytes(b"\x7fELF" + os.urandom(8000))
    big = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-02-10:00:00", files=("vmcore",))
    r = harvest(tmp_path / "crash", "--memory-limit", "40")
    assert r.returncode == 9 and "Traceback" not in r.stderr
    [line] = [ln for ln in r.stdout.splitlines() if ln.startswith(str(bad / "vmcore") + ": ")]
    assert line.startswith(f"{bad / 'vmcore'}: error: ") and line.count(str(bad)) == 1, line
    assert "error" in (bad / "triage.txt").read_text()
    doc = json.loads((big / "triage.json").read_text())
    assert doc["harvest"]["status"] == "error" and "memory" in doc["harvest"]["error"].lower()
    before = snapshot(tmp_path / "crash")
    r = harvest(tmp_path / "crash", "--memory-limit", "40")
    assert r.returncode == 9 and r.stdout == "" and snapshot(tmp_path / "crash") == before
    # still errors, not analysed again: each is named (with the earlier error), or exit 9
    # would say "2 of 2 dumps ended as errors" and leave the reader to guess which
    for d, why in ((bad, json.loads((bad / "triage.json").read_text())["harvest"]["error"]),
                   (big, doc["harvest"]["error"])):
        [line] = [ln for ln in r.stderr.splitlines() if f": {d / 'vmcore'}: " in ln]
        assert line.startswith(f"triage: harvest: error: {d / 'vmcore'}: no report could be made (")
        assert why.split(": ", 1)[-1][:40] in line and "remove triage.json" in line, (line, why)


def test_retry_errors_analyses_error_reports_again(tmp_path):
    """An error report made at boot (here: a memory limit too small for the dump) stays
    while the dump and triage stay the same; --retry-errors analyses it again, and only
    it: the dumps with a good report are left alone, as a plain run leaves them."""
    src = kdump_dirs(1)[0]
    good = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-03-10:00:00", files=("vmcore-dmesg.txt",))
    assert harvest(tmp_path / "crash").returncode == 0
    big = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-02-10:00:00", files=("vmcore",))
    r = harvest(tmp_path / "crash", "--memory-limit", "40")
    assert r.returncode == 9, r.stderr
    assert json.loads((big / "triage.json").read_text())["harvest"]["status"] == "error"
    assert json.loads((good / "triage.json").read_text())["harvest"]["status"] == "ok"
    good_ino = (good / "triage.json").stat().st_ino
    assert "--retry-errors" in [ln for ln in harvest(tmp_path / "crash").stderr.splitlines()
                                if str(big / "vmcore") in ln][0]
    r = harvest(tmp_path / "crash", "--retry-errors")
    assert r.returncode == 0, r.stderr
    [line] = r.stdout.splitlines()                            # the error report only
    assert line.startswith(f"{big / 'vmcore'}: ") and ": error:" not in line, line
    doc = json.loads((big / "triage.json").read_text())
    status, oracle = analyze_oracle(big / "vmcore")
    assert doc["harvest"]["status"] == status and doc["verdict"]["title"] == oracle["verdict"]["title"]
    assert (good / "triage.json").stat().st_ino == good_ino
    before = snapshot(tmp_path / "crash")
    r = harvest(tmp_path / "crash", "--retry-errors")       # no error report left: nothing to do
    assert r.returncode == 0 and r.stdout == "" and snapshot(tmp_path / "crash") == before


def test_abrt_problem_directory(tmp_path):
    """ABRT's abrt-harvest-vmcore copies /var/crash/<dir> to /var/spool/abrt/vmcore-<dir>.new,
    adds its own small files (analyzer, type, component, time, uuid...) and renames it to
    vmcore-<dir> when done (abrt/abrt src/hooks/abrt_harvest_vmcore.py.in)."""
    src = kdump_dirs(1)[0]
    d = copy_dir(src, tmp_path / "abrt" / "vmcore-127.0.0.1-2026-12-01-10:00:00")
    for name, text in (("analyzer", "vmcore"), ("type", "vmcore"), ("component", "kernel"),
                       ("time", "1796000000"), ("uuid", "0" * 40)):
        (d / name).write_text(text)
    copying = copy_dir(src, tmp_path / "abrt" / "vmcore-127.0.0.1-2026-12-02-10:00:00.new",
                       files=("vmcore-dmesg.txt",))
    r = harvest(tmp_path / "abrt")
    assert r.returncode == 0, r.stderr
    assert not (copying / "triage.json").exists()         # ABRT is still copying it
    doc = json.loads((d / "triage.json").read_text())
    assert doc["verdict"]["category"] == analyze_oracle(d / "vmcore")[1]["verdict"]["category"]


def _mount(*args):
    return subprocess.run(["mount", *map(str, args)], capture_output=True, text=True)


def _need_mount(tmp_path):
    probe = tmp_path / "probe"
    probe.mkdir()
    if os.geteuid() != 0 or _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", probe).returncode != 0:
        pytest.skip("needs root and mount (read-only bind mounts, a tiny tmpfs)")
    subprocess.run(["umount", str(probe)], check=True)


def test_dumps_are_opened_read_only(tmp_path):
    """A read-only bind mount over each dump file: any open for writing would fail."""
    _need_mount(tmp_path)
    src = kdump_dirs(1)[0]
    d = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00")
    mounted = []
    try:
        for name in ("vmcore", "vmcore-dmesg.txt"):
            p = d / name
            assert _mount("--bind", p, p).returncode == 0
            mounted.append(p)
            assert _mount("-o", "remount,ro,bind", p).returncode == 0
        with pytest.raises(OSError):
            open(d / "vmcore", "r+b")
        r = harvest(tmp_path / "crash")
        assert r.returncode == 0, r.stderr
        assert json.loads((d / "triage.json").read_text())["harvest"]["status"] == "ok"
    finally:
        for p in reversed(mounted):
            subprocess.run(["umount", str(p)])


def test_read_only_crash_dir_fails_softly(tmp_path):
    _need_mount(tmp_path)
    src = kdump_dirs(1)[0]
    d = copy_dir(src, tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00")
    assert _mount("--bind", d, d).returncode == 0
    try:
        assert _mount("-o", "remount,ro,bind", d).returncode == 0
        r = harvest(tmp_path / "crash")
        assert r.returncode == 9 and "Traceback" not in r.stderr
        assert "cannot write the report here: Read-only file system" in r.stderr
        assert "(analysis:" not in r.stderr         # seen from the mount before spending time on the dump
    finally:
        subprocess.run(["umount", str(d)])
    assert sorted(p.name for p in d.iterdir()) == sorted(KDUMP_FILES)


@pytest.mark.parametrize("left_kib", [0, 8])
def test_full_disk_fails_softly(tmp_path, left_kib):
    """A 64 KiB tmpfs as the crash directory, filled up (0 KiB left: known from the
    file system before analysing) or nearly (8 KiB left: ENOSPC while writing the
    report): a message, exit 9, and no half-written or temporary file stays."""
    _need_mount(tmp_path)
    src = kdump_dirs(1)[0]
    d = tmp_path / "crash" / "127.0.0.1-2026-12-01-10:00:00"
    d.mkdir(parents=True)
    assert _mount("-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", d).returncode == 0
    try:
        (d / "vmcore").symlink_to(src / "vmcore")        # the dump lives elsewhere; its link costs no block
        fd = os.open(d / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        size = (d / "filler").stat().st_size
        os.truncate(d / "filler", max(0, size - (left_kib << 10)))
        r = harvest(tmp_path / "crash")
        assert r.returncode == 9 and "Traceback" not in r.stderr
        assert "No space left on device" in r.stderr
        assert ("(analysis: ok)" in r.stderr) == (left_kib > 0), r.stderr
        assert not [p.name for p in d.iterdir() if p.name.startswith(".triage.") and p.name.endswith(".tmp")]
        assert not (d / "triage.json").exists()
        (d / "filler").unlink()                           # space again: the next boot's run succeeds
        r = harvest(tmp_path / "crash")
        assert r.returncode == 0 and (d / "triage.json").is_file()
    finally:
        subprocess.run(["umount", str(d)])


def test_abrt_carries_the_reports_along(tmp_path):
    """A kdump directory ABRT copies after harvest reported it (a path-unit run
    before abrt-vmcore.service, a later copy). What abrt-harvest-vmcore does
    (abrt/abrt src/hooks/abrt_harvest_vmcore.py.in): copy the kdump directory with
    shutil.copytree to <spool>/vmcore-<name>.new, remove the original (CopyVMcore
    = no), add its own files, chown 0:0, chmod 0700/0600, rename to vmcore-<name>.
    The copy's report is up to date (copytree keeps mtimes): the path unit's next
    run, over both directories, analyses nothing again."""
    src = kdump_dirs(1)[0]
    crash, spool = tmp_path / "crash", tmp_path / "abrt"
    name = "127.0.0.1-2026-12-01-10:00:00"
    d = copy_dir(src, crash / name, files=("vmcore", "vmcore-dmesg.txt"))
    r = harvest(crash, "--no-facts")
    assert r.returncode == 0 and (d / "triage.json").is_file(), r.stderr
    spool.mkdir(mode=0o755)
    new = spool / f"vmcore-{name}.new"
    shutil.copytree(d, new)
    shutil.rmtree(d)
    for k, v in (("analyzer", "vmcore"), ("type", "vmcore"), ("component", "kernel"), ("uid", "0")):
        (new / k).write_text(v)
    os.chmod(new, 0o700)
    for p in new.iterdir():
        os.chmod(p, 0o600)
    new.rename(spool / f"vmcore-{name}")
    before = snapshot(spool)
    r = harvest(crash, spool, "--no-facts")
    assert r.returncode == 0 and r.stdout == "", (r.stdout, r.stderr)
    assert snapshot(spool) == before


def test_journal_priorities_only_when_connected_to_the_journal(tmp_path):
    """Under systemd, stdout and stderr are journal streams and JOURNAL_STREAM names
    their device:inode: each line then starts with its syslog priority (<5> a new
    report, <4> partial or a warning, <3> an error), which journald strips and
    stores (`journalctl -p err -u triage-harvest`). Not connected: no prefix."""
    src = kdump_dirs(1)[0]
    crash = tmp_path / "crash"
    good = copy_dir(src, crash / "127.0.0.1-2026-12-01-10:00:00", files=("vmcore-dmesg.txt",))
    bad = crash / "127.0.0.1-2026-12-02-10:00:00"
    bad.mkdir(mode=0o755)
    (bad / "vmcore").write_bytes(b"\x7fELF" + bytes(4000))
    wild = copy_dir(src, crash / "127.0.0.1-2026-12-03-10:00:00", files=("vmcore-dmesg.txt",))
    os.chmod(wild, 0o777)

    def run(journal: bool):
        for p in crash.rglob("triage.*"):
            p.unlink()
        (r_out, w_out), (r_err, w_err) = os.pipe(), os.pipe()
        st = os.fstat(w_err) if journal else None
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        if journal:
            # stdout and stderr as one journal stream, as systemd connects them
            os.close(w_out)
            w_out = os.dup(w_err)
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        p = subprocess.Popen(TRIAGE + ["harvest", str(crash), "--no-facts", "--settle", "0"], stdout=w_out,
                             stderr=w_err, env=env)
        os.close(w_out)
        os.close(w_err)
        with os.fdopen(r_out) as f1, os.fdopen(r_err) as f2:
            out, err = f1.read(), f2.read()
        assert p.wait(timeout=600) == 9
        return out.splitlines(), err.splitlines()

    out, err = run(journal=False)
    assert not [ln for ln in out + err if ln.startswith("<")]
    _, lines = run(journal=True)          # one stream: both outputs arrive on the stderr pipe
    by_start = {ln.split(": ")[0]: ln for ln in lines if not ln.startswith("<") or "triage: harvest" not in ln}
    assert by_start[f"<5>{good / 'vmcore-dmesg.txt'}"]
    assert by_start[f"<3>{bad / 'vmcore'}"].startswith(f"<3>{bad / 'vmcore'}: error: ")
    assert [ln for ln in lines if ln.startswith("<4>triage: harvest: warning: ") and str(wild) in ln]
    assert [ln for ln in lines if ln.startswith("<3>triage: harvest: 1 of 3 dumps ended as errors")]
