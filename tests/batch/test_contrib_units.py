"""The shipped integration (contrib/): systemd units pass `systemd-analyze verify`
as shipped, the service's command lines do what they say when run by hand, the
capture-kernel hooks only leave their marker.

`systemd-analyze verify` also checks that ExecStart's binary exists: the service
runs `/usr/bin/env triage harvest` (triage from systemd's default PATH, where pip
puts it, /usr/local/bin or /usr/bin), so the shipped files verify unmodified on a
machine where triage is not installed yet, as a reviewer's clean clone is. A
negative control (an unknown key) proves that verify really parses the files.
"""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRIB = ROOT / "contrib"
ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed (apt-get install systemd)")
SERVICE = CONTRIB / "systemd" / "triage-harvest.service"
# systemd's default PATH for services (systemd.exec(5), merged /usr).
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"


def verify(*paths, env=None):
    return subprocess.run([ANALYZE, "verify", "--man=no", *map(str, paths)], capture_output=True, text=True,
                          timeout=120, cwd=paths[0].parent, env=env)


def units() -> list:
    return sorted((CONTRIB / "systemd").iterdir())


@needs_systemd
def test_units_pass_systemd_analyze_verify():
    """Every file under contrib/systemd, as shipped, one by one and together."""
    shipped = units()
    assert {u.suffix for u in shipped} == {".service", ".path", ".timer"}
    for u in shipped:
        r = verify(u)
        assert r.returncode == 0 and r.stderr.strip() == "", (u.name, r.stderr)
    r = verify(*shipped)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr


@needs_systemd
def test_verify_would_catch_a_broken_unit(tmp_path):
    for u in units():
        (tmp_path / u.name).write_text(u.read_text() + "\n[Service]\nNoSuchSetting=1\n")
    r = verify(tmp_path / SERVICE.name)
    assert "NoSuchSetting" in r.stderr
    # and a missing program: verify checks ExecStart's binary
    (tmp_path / SERVICE.name).write_text(SERVICE.read_text().replace("/usr/bin/env triage", "/nonexistent/triage"))
    r = verify(tmp_path / SERVICE.name)
    assert r.returncode != 0 and "/nonexistent/triage" in r.stderr


def _service_lines(key: str) -> list:
    return [ln.split("=", 1)[1] for ln in SERVICE.read_text().splitlines() if ln.startswith(key + "=")]


def test_service_command_lines_work_by_hand(tmp_path):
    """Run ExecStartPre= and ExecStart= as systemd would (its default PATH, the unit's
    Environment=, cwd /), in a private mount namespace whose /var is a temporary
    tree: a RHEL kdump directory in /var/crash with the marker a capture-kernel
    hook left, an ABRT problem directory in /var/spool/abrt. The marker is gone,
    both dumps get their reports, and a second start writes nothing."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare (a private /var in a mount namespace)")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare -m not permitted here: {probe.stderr.decode().strip()[:200]}")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_harvest import copy_dir, kdump_dirs, snapshot
    src = kdump_dirs(1)[0]
    var = tmp_path / "var"
    crash = copy_dir(src, var / "crash" / "192.168.0.7-2026-12-01-10:00:00", files=("vmcore-dmesg.txt",))
    abrt = copy_dir(src, var / "spool" / "abrt" / "vmcore-192.168.0.8-2026-12-02-10:00:00",
                    files=("vmcore-dmesg.txt",))
    (var / "crash" / ".triage-pending").write_text("kdump-status=0\n")
    (var / "tmp").mkdir()
    # `triage` on PATH: the console script pip would install, here running this source tree
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "triage").write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m triage \"$@\"\n")
    (bindir / "triage").chmod(0o755)
    env = {"PATH": f"{bindir}:{SYSTEMD_PATH}", "LANG": "C.UTF-8"}
    for assignment in _service_lines("Environment"):
        k, v = assignment.split("=", 1)
        env[k] = v
    script = ["set -e", f"mount --make-rprivate / && mount --bind {shlex.quote(str(var))} /var"]
    for key in ("ExecStartPre", "ExecStart"):
        for line in _service_lines(key):
            ignore = line.startswith("-")
            cmd = line.lstrip("-@:+!")
            script.append(f"{cmd}" + (" || true" if ignore else ""))

    def start():
        return subprocess.run(["unshare", "-m", "sh", "-c", "\n".join(script)], cwd="/", env=env,
                              capture_output=True, text=True, timeout=900)

    r = start()
    assert r.returncode == 0, r.stderr
    assert not (var / "crash" / ".triage-pending").exists()
    lines = r.stdout.splitlines()
    assert [ln.split(": ")[0] for ln in lines] == ["/var/crash/192.168.0.7-2026-12-01-10:00:00/vmcore-dmesg.txt",
                                                  "/var/spool/abrt/vmcore-192.168.0.8-2026-12-02-10:00:00/"
                                                  "vmcore-dmesg.txt"], r.stdout
    for d in (crash, abrt):
        assert (d / "triage.json").is_file() and (d / "triage.txt").is_file()
    before = snapshot(var)
    r = start()
    assert r.returncode == 0 and r.stdout == "", r.stderr
    assert snapshot(var) == before


@needs_systemd
def test_kdump_tools_drop_in_verifies_merged_into_a_service(tmp_path):
    """A drop-in's lines are appended to the unit they extend: verify them that way
    (kdump-tools-dump.service itself exists only where kdump-tools is installed)."""
    drop_in = (CONTRIB / "kdump-tools" / "kdump-tools-dump.service.d" / "triage.conf").read_text()
    unit = tmp_path / "kdump-tools-dump.service"
    unit.write_text("[Unit]\nDescription=stand-in for kdump-tools-dump.service\n\n"
                    "[Service]\nType=oneshot\nExecStart=/bin/true\n\n" + drop_in)
    r = verify(unit)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr


def test_service_never_runs_in_the_capture_kernel_nor_holds_the_boot():
    """A oneshot service ordered after kdump and kdump-tools, kept out of the capture
    kernel; started by a boot timer (not wanted by multi-user.target, which would
    wait for every dump's analysis) and by the path unit watching the crash
    directories; the timer and the path unit are kept out of the capture kernel too."""
    text = SERVICE.read_text()
    assert "ConditionPathExists=!/proc/vmcore" in text
    assert "Type=oneshot" in text
    after = [ln for ln in text.splitlines() if ln.startswith("After=")][0].split("=", 1)[1].split()
    assert {"kdump.service", "kdump-tools.service"} <= set(after)
    assert "WantedBy=" not in text and "RequiredBy=" not in text
    path = (CONTRIB / "systemd" / "triage-harvest.path").read_text()
    assert "PathChanged=/var/crash" in path and "PathChanged=/var/spool/abrt" in path
    assert "PathExists=/var/crash/.triage-pending" in path and "Unit=triage-harvest.service" in path
    timer = (CONTRIB / "systemd" / "triage-harvest.timer").read_text()
    assert "OnBootSec=" in timer and "Unit=triage-harvest.service" in timer
    for unit in (path, timer):
        assert "ConditionPathExists=!/proc/vmcore" in unit


@pytest.mark.skipif(shutil.which("systemctl") is None, reason="systemctl not installed")
def test_enabling_the_service_enables_the_timer_and_the_path_unit(tmp_path):
    """`systemctl --root DIR enable` works offline on a directory tree: enabling the
    service (as docs/harvest.md says) hooks the timer into timers.target and the
    path unit into paths.target, and nothing into multi-user.target."""
    unitdir = tmp_path / "etc" / "systemd" / "system"
    unitdir.mkdir(parents=True)
    for u in units():
        shutil.copy(u, unitdir / u.name)
    r = subprocess.run(["systemctl", f"--root={tmp_path}", "enable", "triage-harvest.service"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    links = sorted(str(p.relative_to(unitdir)) for p in unitdir.rglob("*") if p.is_symlink())
    assert links == ["paths.target.wants/triage-harvest.path", "timers.target.wants/triage-harvest.timer"]


def test_kdump_post_hook_only_leaves_a_marker(tmp_path):
    """Run the RHEL kdump_post hook with POSIX sh (dash here; the initramfs has a
    similar small shell) against stand-ins for /sysroot and /kdumproot."""
    sysroot = tmp_path / "sysroot"
    (sysroot / "var" / "crash" / "127.0.0.1-2026-12-01-10:00:00").mkdir(parents=True)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    env = dict(os.environ, KDUMP_ROOTS=f"{sysroot} {tmp_path / 'kdumproot'}")
    r = subprocess.run(["sh", str(CONTRIB / "kdump" / "kdump-post-triage.sh"), "0"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    marker = sysroot / "var" / "crash" / ".triage-pending"
    assert marker.read_text() == "kdump-status=0\n"
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert after == sorted(before + [marker.relative_to(tmp_path)])
    conf = (CONTRIB / "kdump" / "kdump.conf.example").read_text()
    assert "\nkdump_post /usr/local/sbin/kdump-post-triage.sh\n" in conf


def _unit_command(line: str) -> list:
    """An Exec*= value as the argv systemd runs: the "-" prefix dropped, quotes
    split as systemd does for this simple case, "$$" turned into "$"."""
    import shlex
    return [a.replace("$$", "$") for a in shlex.split(line.split("=", 1)[1].lstrip("-@:+!"))]


def test_kdump_tools_hook_leaves_its_marker_before_the_dump(tmp_path):
    """Debian's /etc/init.d/kdump-tools start (the ExecStart of kdump-tools-dump.service
    in the capture kernel) runs `kdump-config savecore` and then `reboot -f` in the
    same process: an ExecStartPost= would never run. So the drop-in's command is an
    ExecStartPre=; run it as systemd would, with KDUMP_COREDIR from
    /etc/default/kdump-tools (here a temporary directory, created if missing)."""
    text = (CONTRIB / "kdump-tools" / "kdump-tools-dump.service.d" / "triage.conf").read_text()
    lines = [ln for ln in text.splitlines() if ln.startswith("Exec")]
    assert [ln.split("=", 1)[0] for ln in lines] == ["ExecStartPre"]
    assert lines[0].split("=", 1)[1].startswith("-")           # never fails the dump
    argv = _unit_command(lines[0])
    for shell in ("sh", "busybox sh"):
        if shutil.which(shell.split()[0]) is None:
            continue
        coredir = tmp_path / shell.replace(" ", "-") / "crash"
        r = subprocess.run(shell.split() + argv[1:], env={"PATH": os.environ["PATH"], "KDUMP_COREDIR": str(coredir)},
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert (coredir / ".triage-pending").read_text() == "kdump-tools\n"
        assert sorted(p.name for p in coredir.iterdir()) == [".triage-pending"]


@pytest.mark.parametrize("shell", ["sh", "bash", "busybox sh"])
def test_kdump_post_hook_runs_in_small_shells(tmp_path, shell):
    """The dracut initramfs runs kdump_post with its own shell (bash or busybox): the
    hook parses and runs in each; a non-zero dump status is recorded, the marker
    lands under whichever of /sysroot or /kdumproot holds the crash directory, and
    with no crash directory at all nothing is created."""
    if shutil.which(shell.split()[0]) is None:
        pytest.skip(f"{shell} not installed")
    hook = str(CONTRIB / "kdump" / "kdump-post-triage.sh")
    assert subprocess.run(shell.split() + ["-n", hook], timeout=60).returncode == 0
    kroot = tmp_path / "kdumproot"
    (kroot / "data" / "crash").mkdir(parents=True)
    env = dict(os.environ, KDUMP_ROOTS=f"{tmp_path / 'sysroot'} {kroot}", KDUMP_PATH="/data/crash")
    r = subprocess.run(shell.split() + [hook, "1"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (kroot / "data" / "crash" / ".triage-pending").read_text() == "kdump-status=1\n"
    assert not (tmp_path / "sysroot").exists()
