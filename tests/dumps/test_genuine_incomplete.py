"""Genuine incomplete dumps (issue 11, "damage named"): makedumpfile itself stopped by a
full disk, as kdump-tools leaves vmcore-incomplete behind.

makedumpfile is run on a real in-guest ELF capture under RLIMIT_FSIZE (with SIGXFSZ
ignored its writes fail with EFBIG, the path it takes on ENOSPC: "This is an incomplete
dumpfile"). Every `dmesg`/`info`/`analyze` message must name the input and the damage,
and point at the log kdump saved beside the dump. Oracle: makedumpfile's own exit status
and message (it failed), and the vmcore-dmesg.txt the generator saved with the capture.
"""

import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from _realdumps import DUMP_DIRS  # noqa: E402

MAKEDUMPFILE = shutil.which("makedumpfile")
CAPTURES = [p for top in DUMP_DIRS if top.is_dir() for p in sorted(top.glob("*/capture/vmcore-elf"))][:1]


def _incomplete(tmp_path: Path, flags, limit: int) -> Path:
    d = tmp_path / "127.0.0.1-2026-12-07-00:40:00"
    d.mkdir()
    out = d / "vmcore-incomplete"

    def cap():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    r = subprocess.run([MAKEDUMPFILE, *flags, "-d", "31", str(CAPTURES[0]), str(out)], preexec_fn=cap,
                       capture_output=True, text=True, timeout=600)
    if r.returncode == 0:
        pytest.skip(f"makedumpfile finished within {limit} bytes")
    assert "File too large" in r.stdout + r.stderr, r.stdout[-300:] + r.stderr[-300:]
    return out


def _run(*args):
    return subprocess.run([sys.executable, "-m", "triage", *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300)


@pytest.mark.matrix
@pytest.mark.slow
@pytest.mark.skipif(not MAKEDUMPFILE, reason="makedumpfile not installed")
@pytest.mark.skipif(not CAPTURES, reason="no real ELF capture (sample_dumps/out/*/capture/vmcore-elf)")
@pytest.mark.parametrize("flags,limit", [(["-l"], 1_000_000), (["-l"], 20_000_000), (["-E"], 1_000_000)],
                         ids=["lzo-1MB", "lzo-20MB", "elf-1MB"])
@pytest.mark.parametrize("beside", [True, False], ids=["log-beside", "alone"])
def test_genuine_incomplete_dump_names_damage_and_the_log_beside(tmp_path, flags, limit, beside):
    out = _incomplete(tmp_path, flags, limit)
    saved = CAPTURES[0].parent / "vmcore-elf.vmcore-dmesg.txt"
    if beside:
        if not saved.exists():
            pytest.skip("no vmcore-dmesg.txt saved with the capture")
        shutil.copyfile(saved, out.parent / "vmcore-dmesg.txt")
    for command in ("dmesg", "info", "analyze"):
        r = _run(command, out)
        assert r.returncode in (5, 6), (command, r.returncode, r.stderr)
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
        assert str(out) in r.stderr, r.stderr
        assert any(w in r.stderr for w in ("never written", "truncated", "incomplete")), r.stderr
        if r.returncode == 5:
            assert "cut short before" in r.stderr, r.stderr
            if beside:
                assert f"the kernel log saved beside it is {out.parent / 'vmcore-dmesg.txt'}" in r.stderr, r.stderr
            else:
                assert "no vmcore-dmesg.txt or dmesg.<stamp> lies beside it" in r.stderr, r.stderr
