"""CLI papercuts from issue 11, each as a user meets it: one line on stderr and the
exit code docs/exit-codes.md gives.

Oracles: the documented exit codes; for the inputs that must still analyse
(compressed, NUL-ridden), the verdict of the same log or dump given plain.
"""

import bz2
import functools
import gzip
import json
import lzma
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.cli import cli
from triage.errors import EXIT_OUTPUT

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "analyze"
GPU_DUMP = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"
OOM_DUMP = ROOT / "sample_dumps" / "committed" / "oom_panic-qemu-flat-zlib-nokaslr" / "vmcore.flat"
GPU_LOG = DATA / "gpu_alloc_null.serial.log"


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("TRIAGE_DEBUG", None)
    return env


def _run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "triage", *map(str, args)], capture_output=True, text=True,
                          env=kw.pop("env", _env()), timeout=300, **kw)


def _one_line(r, code: int) -> None:
    assert r.returncode == code, (r.returncode, r.stderr)
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("triage: error:"), r.stderr
    assert "Traceback" not in r.stderr


def _verdict(*args):
    r = _run("analyze", "--format", "json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@functools.lru_cache(maxsize=None)
def _plain_verdict(path: Path):
    return _verdict(path)


# -- unreadable input ------------------------------------------------------------------

def _as_nobody_works() -> bool:
    """Whether a child dropped to uid 65534 can still run this Python and import triage."""
    if os.geteuid() != 0:
        return False
    try:
        r = subprocess.run([sys.executable, "-c", "import triage.cli"], env=_env(), cwd="/",
                           preexec_fn=lambda: os.setuid(65534), capture_output=True, timeout=60)
    except OSError:
        return False
    return r.returncode == 0


@pytest.mark.parametrize("command", ["analyze", "dmesg", "info"])
def test_unreadable_file_is_one_line_exit_3(tmp_path, command):
    """Permission denied: exit 3 and one line, never click's own path check (exit 2)."""
    tmp_path.chmod(0o755)
    p = tmp_path / "vmcore"
    p.write_bytes(GPU_DUMP.read_bytes()[:4096])
    p.chmod(0)
    if os.geteuid() != 0:
        r = _run(command, p)
    elif _as_nobody_works():
        # root reads anything: run the child as nobody
        r = _run(command, p, preexec_fn=lambda: os.setuid(65534), cwd="/")
    elif Path("/sys/bus/pci/rescan").exists():
        # a write-only sysfs attribute refuses reading even to root (kernfs: EACCES)
        r = _run(command, "/sys/bus/pci/rescan")
    else:
        pytest.skip("running as root, nobody cannot reach this Python, and no write-only sysfs file")
    _one_line(r, 3)
    assert "permission denied" in r.stderr.lower()


# -- --debug ---------------------------------------------------------------------------

def test_debug_after_the_subcommand(tmp_path):
    r = _run("analyze", tmp_path / "nope", "--debug")
    assert r.returncode != 2, r.stderr                      # accepted, not a usage error
    assert "Traceback" in r.stderr and "InputError" in r.stderr
    r = _run("signatures", "list", "--debug")
    assert r.returncode == 0 and "gpu-alloc-fail-null-deref" in r.stdout
    _one_line(_run("analyze", tmp_path / "nope"), 3)        # without it: one line


# -- output ----------------------------------------------------------------------------

def test_output_dash_is_stdout():
    res = CliRunner().invoke(cli, ["analyze", "-o", "-", "--format", "json", str(GPU_LOG)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["verdict"]["category"] == "gpu_alloc_fail_null_deref"
    assert not Path("-").exists()


@pytest.mark.parametrize("args", [["analyze", GPU_DUMP], ["dmesg", GPU_DUMP], ["info", GPU_DUMP],
                                  ["signatures", "list"]])
def test_disk_full_on_stdout_is_an_output_error(args):
    if not stat.S_ISCHR(os.stat("/dev/full").st_mode):
        pytest.skip("/dev/full is not the full device here")
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "triage", *map(str, args)], stdout=full, stderr=subprocess.PIPE,
                           text=True, env=_env(), timeout=300)
    assert r.returncode == EXIT_OUTPUT, r.stderr
    assert r.stderr.count("\n") == 1 and "No space left on device" in r.stderr and "internal" not in r.stderr


def test_disk_full_on_output_file_keeps_the_device():
    """-o /dev/full: an output error, and the device is written in place, never replaced by a file."""
    if not stat.S_ISCHR(os.stat("/dev/full").st_mode):
        pytest.skip("/dev/full is not the full device here")
    r = _run("analyze", "-o", "/dev/full", GPU_LOG)
    _one_line(r, EXIT_OUTPUT)
    assert "No space left on device" in r.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_closed_pipe_is_an_output_error_and_quiet(tmp_path):
    """`triage dmesg big.log | head -1`: EXIT_OUTPUT (docs/exit-codes.md), no traceback, no message."""
    big = tmp_path / "big.log"
    line = GPU_LOG.read_bytes().splitlines(keepends=True)[0]
    big.write_bytes(line * ((4 << 20) // len(line) + 1))      # far more than a pipe buffer
    r = subprocess.run(f"set -o pipefail; {sys.executable} -m triage dmesg {big} | head -1",
                       shell=True, executable="/bin/bash", capture_output=True, env=_env(), timeout=300)
    assert r.stdout == line
    assert r.returncode == EXIT_OUTPUT, r.stderr
    assert r.stderr == b""


# -- signatures ------------------------------------------------------------------------

def test_signatures_test_unknown_rule_says_so():
    res = CliRunner().invoke(cli, ["signatures", "test", "no-such-rule"])
    assert res.exit_code == 2
    assert "no rule with id 'no-such-rule'" in res.output


def test_triage_signatures_naming_a_missing_dir(tmp_path):
    env = _env()
    env["TRIAGE_SIGNATURES"] = str(tmp_path / "gone")
    r = _run("analyze", GPU_LOG, env=env)
    _one_line(r, 8)
    assert "gone" in r.stderr and "TRIAGE_SIGNATURES" in r.stderr


# -- what counts as a kernel log -------------------------------------------------------

def test_text_that_is_not_a_kernel_log_is_exit_4():
    for p in (ROOT / "setup.cfg", ROOT / ".ci" / "run"):
        r = _run("analyze", p)
        _one_line(r, 4)
        assert "not a kernel log" in r.stderr and str(p) in r.stderr


def test_every_posted_kernel_log_is_a_kernel_log():
    """The posted-log corpus (real kernel logs as people pasted them: quoted, indented,
    dmesg -T/-H, journal, no timestamps) is never taken for "not a kernel log"."""
    from triage.analysis import analyze_path, load_ruleset
    rules = load_ruleset()
    logs = sorted((ROOT / "tests" / "data" / "posted").glob("*.log"))
    assert len(logs) > 100
    for p in logs:
        analyze_path(str(p), rules=rules)       # FormatError would fail the test


def test_unprefixed_kernel_log_is_still_a_log(tmp_path):
    """`dmesg` of a kernel without CONFIG_PRINTK_TIME: no prefix, but kernel messages."""
    import re
    text = re.sub(r"(?m)^\[ *\d+\.\d+\] ", "", GPU_LOG.read_text(errors="replace"))
    p = tmp_path / "dmesg"
    p.write_text(text)
    assert _verdict(p)["verdict"]["category"] == "gpu_alloc_fail_null_deref"


def test_runs_of_nuls_in_a_log(tmp_path):
    """Runs of NULs (a console reset, zero-filled blocks of a file cut by a crash), well past 1%
    of the bytes sniffed, do not make the log binary: the verdict is the clean log's."""
    clean = GPU_LOG.read_bytes()
    lines = clean.split(b"\n")
    nul = b"\0" * 8192
    dirty = b"\n".join(ln + (nul if i % 7 == 0 else b"") for i, ln in enumerate(lines)) + nul
    p = tmp_path / "serial.log"
    p.write_bytes(nul + dirty)
    assert dirty.count(b"\0") * 100 > len(dirty)
    want = _plain_verdict(GPU_LOG)["verdict"]
    got = _verdict(p)["verdict"]
    assert (got["category"], got["title"], got["culprit"]) == (want["category"], want["title"], want["culprit"])


def test_all_nul_file_is_not_text(tmp_path):
    p = tmp_path / "zeros"
    p.write_bytes(b"\0" * 100000)
    _one_line(_run("analyze", p), 4)


# -- compressed inputs -----------------------------------------------------------------

def _compressors():
    import zstandard
    return {".gz": lambda b: gzip.compress(b, 1), ".xz": lzma.compress, ".bz2": bz2.compress,
            ".zst": lambda b: zstandard.ZstdCompressor(level=1).compress(b)}


@pytest.mark.parametrize("suffix", [".gz", ".xz", ".bz2", ".zst"])
def test_compressed_inputs(tmp_path, suffix):
    """A whole-file-compressed dump and log analyse as the plain ones do, under their own name.
    (The 22 MB dump only for the fast codecs: xz and bz2 take minutes to compress it here;
    the decompression path is the same for a dump and a log.)"""
    comp = _compressors()[suffix]
    for src in ((GPU_DUMP, GPU_LOG) if suffix in (".gz", ".zst") else (GPU_LOG,)):
        p = tmp_path / (src.name + suffix)
        p.write_bytes(comp(src.read_bytes()))
        want, got = _plain_verdict(src), _verdict(p)
        assert str(p.parent / "triage-") not in json.dumps(got) and "/triage-" not in json.dumps(got)
        # the same verdict, naming the compressed file where the plain one names itself
        assert json.loads(json.dumps(got["verdict"]).replace(str(p), str(src))) == want["verdict"]
        assert got["source"]["path"] == str(p)
        assert (got["source"]["kind"], got["source"]["format"]) == (want["source"]["kind"], want["source"]["format"])


def test_damaged_compressed_input_names_it(tmp_path):
    data = gzip.compress(GPU_DUMP.read_bytes())
    p = tmp_path / "vmcore.gz"
    p.write_bytes(data[: len(data) // 2])
    r = _run("analyze", p)
    _one_line(r, 5)
    assert str(p) in r.stderr and "gzip" in r.stderr and "/triage-" not in r.stderr   # not the temporary copy


# -- several inputs --------------------------------------------------------------------

def test_several_dumps_point_at_batch():
    """Two dumps that are not the parts of one --split dump: one line, exit 4, as
    dmesg and info say it (it was a four-line click usage error, exit 2, which a
    damaged split set given to analyze also got), naming the file and pointing at batch."""
    r = _run("analyze", GPU_DUMP, OOM_DUMP)
    _one_line(r, 4)
    assert "triage batch" in r.stderr and "not part of a --split dump" in r.stderr
    assert str(GPU_DUMP) in r.stderr or str(OOM_DUMP) in r.stderr


def test_several_logs_point_at_batch():
    r = _run("analyze", GPU_LOG, DATA / "sysrq.serial.log")
    assert r.returncode == 2 and "triage batch" in r.stderr
