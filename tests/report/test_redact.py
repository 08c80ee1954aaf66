"""--redact: host names, IP addresses, user names and process names become
stable placeholders in every format; no original value survives."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.cli import cli
from triage.redact import Redactor

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "sample_dumps" / "committed"
FORMATS = ("text", "json", "markdown", "html")

# A syslog excerpt as a user would save it: host field, an NVIDIA Xid naming the
# process, and the real NULL dereference of the committed gpu_alloc_null serial log.
SYSLOG_HEAD = """\
Nov 29 15:02:12 gpu-node-7 kernel: [ 9912.112233] NVRM: Xid (PCI:0000:3b:00): 31, pid=4411, name=trainer, Ch 00000008, intr 00000000. MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_0 faulted @ 0x7f1c_00000000. Fault is of type FAULT_PDE ACCESS_TYPE_VIRT_READ
"""


def _run(*args):
    r = CliRunner().invoke(cli, ["analyze", *map(str, args)], catch_exceptions=False)
    assert r.exit_code in (0, 6), r.output
    return r.output


def _syslog_input(tmp_path: Path) -> Path:
    serial = (COMMITTED / "gpu_alloc_null-kdump-lzo" / "serial.log").read_text(errors="replace").splitlines()
    start = next(i for i, ln in enumerate(serial) if "vmalloc error" in ln)
    # up to the capture kernel's boot banner: the oops went straight into kdump
    end = next(i for i, ln in enumerate(serial) if i > start and "Linux version" in ln)
    body = [f"Nov 29 15:02:13 gpu-node-7 kernel: {ln}" for ln in serial[start - 3:end] if ln.startswith("[")]
    # where such logs live: a user's home, a kdump directory named after the host's address
    d = tmp_path / "home" / "alice" / "crash" / "10.20.30.40-2026-11-29-15:02:13" / "fe80::5054:ff:fe12:3456"
    d.mkdir(parents=True)
    p = d / "kern.log"
    p.write_text(SYSLOG_HEAD + "\n".join(body) + "\n")
    return p


SECRETS = ["gpu-node-7", "10.20.30.40", "fe80::5054:ff:fe12:3456", "alice", "trainer"]


def test_no_original_value_survives_in_any_format(tmp_path):
    p = _syslog_input(tmp_path)
    for fmt in FORMATS:
        plain = _run(p, "--format", fmt)
        red = _run(p, "--format", fmt, "--redact")
        for secret in SECRETS + ["Comm: init"]:
            # the oracle: the value is in the report without --redact, and gone with it
            assert secret in plain, (fmt, secret)
            assert secret not in red, (fmt, secret)
        assert "host-1" in red and "ip-1" in red and "user-1" in red and "comm-1" in red, fmt
        assert not re.search(r"(?<![\w.-])init(?![\w-]|\.\w)", red.replace("comm-1", "")), fmt


def test_placeholders_are_stable_within_a_report(tmp_path):
    p = _syslog_input(tmp_path)
    d = json.loads(_run(p, "--format", "json", "--redact"))
    assert d["system"]["hostname"] == "host-1"
    assert d["crash"]["task"]["comm"] == "comm-1"
    texts = [e["text"] for e in d["evidence"]]
    assert any("Comm: comm-1" in t for t in texts) and any("comm-1: vmalloc error" in t for t in texts)
    assert any("name=comm-2" in e["text"] for e in d["contributing"] + d["timeline"])
    assert "user-1" in d["source"]["path"] and "ip-1" in d["source"]["path"] and "ip-2" in d["source"]["path"]
    # the verdict itself is untouched
    assert (d["verdict"]["category"], d["verdict"]["culprit"]["module"]) == ("gpu_alloc_fail_null_deref", "nvidia")
    assert d["verdict"]["culprit"]["function"] == "nv_gpu_init_channel.constprop.0.isra.0"


@pytest.mark.parametrize("dump,comm", [("gpu_alloc_null-kdump-lzo/vmcore", "init"),
                                       ("oom_panic-qemu-flat-zlib-nokaslr/vmcore.flat", "hog")])
def test_real_dumps_lose_their_comm(dump, comm):
    path = COMMITTED / dump
    if not path.is_file():
        pytest.skip("committed dump missing")
    for fmt in FORMATS:
        red = _run(path, "--format", fmt, "--redact")
        assert not re.search(rf"(?<![\w.-]){comm}(?![\w-]|\.\w)", red), fmt
        assert "comm-1" in red


def test_redactor_leaves_kernel_numbers_alone():
    r = Redactor()
    for text in ("RIP: 0010:nv_gpu_init_channel+0x27/0x40 [nvidia]", "nvidia 0000:3b:00.0: probe",
                 "eth0: MAC 52:54:00:12:34:56", "[   15:38:14] time", "BIOS 1.16.2-debian-1.16.2-1",
                 "Code: 44 00 00 0f 1f 44 00 00", "RSP: 0018:ffffd4f480013a38 EFLAGS: 00000296"):
        r.learn_text(text)
        assert r.apply(text) == text
    assert r.apply("peer 192.168.1.20 and ::1 and 2001:db8::7") == "peer ip-1 and ip-2 and ip-3"
    assert r.apply("again 192.168.1.20") == "again ip-1"
    r.learn("comm", "sh")
    assert r.apply("Comm: sh Tainted") == "Comm: comm-1 Tainted"
    assert r.apply("run nvidia-bug-report.sh; shmem") == "run nvidia-bug-report.sh; shmem"


def test_kernel_thread_named_like_its_function_keeps_the_trace_readable():
    r = Redactor(keep={"khugepaged"})
    r.learn_text("CPU: 3 PID: 61 Comm: khugepaged Not tainted 6.1.0-57-amd64 #1")
    r.learn_text("CPU: 0 PID: 812 Comm: trainer Not tainted 6.1.0-57-amd64 #1")
    assert r.apply(" khugepaged+0x12/0x40") == " khugepaged+0x12/0x40"
    assert r.apply("Comm: trainer") == "Comm: comm-1"
