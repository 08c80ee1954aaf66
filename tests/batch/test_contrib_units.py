"""The shipped integration (contrib/): systemd units pass `systemd-analyze verify`,
the capture-kernel hooks only leave their marker.

`systemd-analyze verify` also checks that ExecStart's binary exists. The unit
names /usr/bin/triage, where a package installs the console script; this
machine runs triage from the source tree and may have no /usr/bin/triage, so
the test verifies a copy whose ExecStart points at a stub executable in a
temporary directory (and checks that the shipped line is exactly
`/usr/bin/triage harvest`). A negative control (an unknown key) proves that
verify really parses the files it is given.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRIB = ROOT / "contrib"
ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed (apt-get install systemd)")


def verify(*paths, env=None):
    return subprocess.run([ANALYZE, "verify", "--man=no", *map(str, paths)], capture_output=True, text=True,
                          timeout=120, cwd=paths[0].parent, env=env)


def staged(tmp_path: Path, bogus: str = "") -> list:
    stub = tmp_path / "bin" / "triage"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    out = []
    for unit in sorted((CONTRIB / "systemd").iterdir()):
        text = unit.read_text()
        if unit.suffix == ".service":
            assert "\nExecStart=/usr/bin/triage harvest\n" in text
            text = text.replace("/usr/bin/triage", str(stub))
        dest = tmp_path / unit.name
        dest.write_text(text + bogus)
        out.append(dest)
    return out


@needs_systemd
def test_units_pass_systemd_analyze_verify(tmp_path):
    units = staged(tmp_path)
    assert {u.suffix for u in units} == {".service", ".path"}
    r = verify(*units)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr


@needs_systemd
def test_verify_would_catch_a_broken_unit(tmp_path):
    units = staged(tmp_path, bogus="\n[Service]\nNoSuchSetting=1\n")
    r = verify(*[u for u in units if u.suffix == ".service"])
    assert "NoSuchSetting" in r.stderr


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


def test_service_never_runs_in_the_capture_kernel():
    text = (CONTRIB / "systemd" / "triage-harvest.service").read_text()
    assert "ConditionPathExists=!/proc/vmcore" in text
    assert "Type=oneshot" in text
    after = [ln for ln in text.splitlines() if ln.startswith("After=")][0].split("=", 1)[1].split()
    assert {"kdump.service", "kdump-tools.service"} <= set(after)
    path = (CONTRIB / "systemd" / "triage-harvest.path").read_text()
    assert "PathChanged=/var/crash" in path and "Unit=triage-harvest.service" in path


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
