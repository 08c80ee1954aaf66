"""Inputs a new user meets that the first papercut round missed (issue 11, verification):

- a file that exists but cannot be read must reach triage's own check (exit 3, one line):
  click's Path type checks readability itself (exit 2, a usage error) unless told not to;
- a root directory given to `batch`/`harvest` that cannot be listed is an input error,
  not a silent "0 dumps";
- a log that begins with a long run of NULs (logrotate copytruncate leaves a hole where
  the writer's offset points; a crash leaves zero-filled blocks) is still a log, and a
  hole costs no time;
- a dump cut inside its signature or its first header points at the log beside it.

Oracles: the documented exit codes (docs/exit-codes.md); the verdict of the same log
given plain; the committed real dump and the vmcore-dmesg.txt kdump saved with it.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from triage.cli import cli

ROOT = Path(__file__).resolve().parents[2]
GPU_DIR = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo"
GPU_DUMP = GPU_DIR / "vmcore"
GPU_BESIDE = GPU_DIR / "vmcore-dmesg.txt"
GPU_LOG = ROOT / "tests" / "data" / "analyze" / "gpu_alloc_null.serial.log"


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("TRIAGE_DEBUG", None)
    return env


def _run(*args):
    return subprocess.run([sys.executable, "-m", "triage", *map(str, args)], capture_output=True, text=True,
                          env=_env(), timeout=300)


def _one_line(r, code: int) -> str:
    assert r.returncode == code, (r.returncode, r.stderr)
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("triage: error:"), r.stderr
    return r.stderr


# -- unreadable input: click must not check it first ----------------------------------------

INPUT_COMMANDS = ["analyze", "dmesg", "info", "shell", "batch", "harvest"]


@pytest.mark.parametrize("name", INPUT_COMMANDS)
def test_input_arguments_leave_readability_to_triage(name):
    """click.Path(readable=True), its default, answers an unreadable file with a usage
    error (exit 2) before triage can say "permission denied" (exit 3)."""
    cmd = cli.get_command(click.Context(cli), name)
    paths = [p for p in cmd.params if isinstance(p.type, click.Path) and
             (isinstance(p, click.Argument) or p.name == "vmlinux")]
    assert paths, name
    for p in paths:
        assert not p.type.readable, f"{name} {p.name}: click checks readability itself"


@pytest.mark.parametrize("command", ["analyze", "info"])
def test_path_os_access_calls_unreadable_is_not_a_usage_error(monkeypatch, command):
    """Whoever runs the test (root reads anything): os.access saying "unreadable" must not
    make click refuse the path; triage opens it and reads it."""
    real_access = os.access
    target = str(GPU_DUMP if command == "info" else GPU_LOG)
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **k:
                        False if str(p) == target and mode & os.R_OK else real_access(p, mode, *a, **k))
    res = CliRunner().invoke(cli, [command, target])
    assert res.exit_code == 0, res.output
    assert "not readable" not in res.output


def test_unlistable_batch_root_is_an_input_error(monkeypatch, tmp_path):
    from triage.batch.discover import discover
    from triage.errors import InputError
    root = tmp_path / "crash"
    root.mkdir()
    real = os.scandir

    def scandir(p="."):
        if os.fspath(p) == str(root):
            raise PermissionError(13, "Permission denied", str(root))
        return real(p)
    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(InputError) as err:
        discover([str(root)])
    assert err.value.exit_code == 3 and "permission denied" in str(err.value)


# -- NUL runs ahead of the log -----------------------------------------------------------------

def _verdict(path) -> str:
    r = _run("analyze", "--format", "json", path)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["verdict"]["category"]


@pytest.mark.parametrize("nuls", [65536, 300_000])
def test_log_after_a_long_nul_run_is_a_log(tmp_path, nuls):
    """A head of 64 KiB and more of NULs used to be "neither a vmcore nor a text kernel log"."""
    p = tmp_path / "kern.log"
    p.write_bytes(b"\0" * nuls + GPU_LOG.read_bytes())
    assert _verdict(p) == _verdict(GPU_LOG) == "gpu_alloc_fail_null_deref"
    r = _run("dmesg", p)
    assert r.returncode == 0 and "nv_gpu_init_channel" in r.stdout, r.stderr


def test_nothing_but_nuls_is_not_a_log(tmp_path):
    p = tmp_path / "kern.log"
    p.write_bytes(b"\0" * 200_000)
    assert "neither a vmcore nor a text kernel log" in _one_line(_run("analyze", p), 4)


def test_hole_ahead_of_the_log_costs_no_time(tmp_path):
    """logrotate copytruncate: 8 GiB of hole, then the log. Reading the hole as NULs took
    minutes; time must follow the bytes present."""
    p = tmp_path / "messages"
    with open(p, "wb") as f:
        f.truncate(8 << 30)
        f.seek(8 << 30)
        f.write(GPU_LOG.read_bytes())
    with open(p, "rb") as f:
        try:
            sparse = os.lseek(f.fileno(), 0, os.SEEK_DATA) >= (8 << 30) - (1 << 20)
        except (AttributeError, OSError):
            sparse = False
    if not sparse:
        pytest.skip("this file system does not report holes (SEEK_DATA)")
    t = time.monotonic()
    assert _verdict(p) == "gpu_alloc_fail_null_deref"
    assert time.monotonic() - t < 60


# -- a dump cut at its very start --------------------------------------------------------------

def _cut_copy(tmp_path: Path, size: int, beside: bool) -> Path:
    d = tmp_path / "127.0.0.1-2026-12-06-14:29:22"
    d.mkdir()
    with open(GPU_DUMP, "rb") as f:
        (d / "vmcore").write_bytes(f.read(size))
    if beside:
        shutil.copyfile(GPU_BESIDE, d / "vmcore-dmesg.txt")
    return d / "vmcore"


@pytest.mark.skipif(not GPU_DUMP.exists(), reason="committed dump missing")
@pytest.mark.parametrize("size,says", [(2, "dump signature"), (7, "dump signature"),
                                       (100, "disk_dump_header"), (4095, "sub-header")])
@pytest.mark.parametrize("command", ["dmesg", "info", "analyze"])
def test_dump_cut_in_its_first_header_names_it_and_the_log_beside(tmp_path, size, says, command):
    p = _cut_copy(tmp_path, size, beside=True)
    err = _one_line(_run(command, p), 5)
    assert str(p) in err and says in err, err
    assert f"the kernel log saved beside it is {p.parent / 'vmcore-dmesg.txt'}" in err, err


@pytest.mark.skipif(not GPU_DUMP.exists(), reason="committed dump missing")
def test_dump_cut_in_its_signature_without_log_beside(tmp_path):
    p = _cut_copy(tmp_path, 5, beside=False)
    err = _one_line(_run("dmesg", p), 5)
    assert "dump signature" in err and "beside" not in err, err


def test_elf_cut_inside_e_ident(tmp_path):
    p = tmp_path / "vmcore"
    p.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    assert "e_ident" in _one_line(_run("info", p), 5)


# -- FIFOs and devices: refused, never waited on or read forever ----------------------------------

@pytest.mark.parametrize("command", ["analyze", "dmesg", "info", "shell"])
def test_fifo_without_writer_is_refused_not_waited_on(tmp_path, command):
    """open(2) of a FIFO nobody writes to blocks: analyze and dmesg hung until killed."""
    fifo = tmp_path / "vmcore"
    os.mkfifo(fifo)
    r = subprocess.run([sys.executable, "-m", "triage", command, str(fifo)], capture_output=True, text=True,
                       env=_env(), timeout=60)
    assert "not a regular file" in _one_line(r, 3)


@pytest.mark.parametrize("command", ["analyze", "dmesg"])
def test_piped_log_is_refused_not_half_read(tmp_path, command):
    """A pipe was sniffed (its first 64 KiB consumed) and then opened again: dmesg printed
    nothing and exited 0, analyze called it an empty file."""
    r = subprocess.run(["sh", "-c", f'cat "$0" | "$1" -m triage {command} /dev/stdin', str(GPU_LOG), sys.executable],
                       capture_output=True, text=True, env=_env(), timeout=60)
    assert "not a regular file" in _one_line(r, 3)


def test_endless_device_is_refused(tmp_path):
    link = tmp_path / "vmcore"
    link.symlink_to("/dev/zero")
    assert "not a regular file" in _one_line(_run("dmesg", link), 3)
