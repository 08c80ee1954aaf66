"""`triage batch --redact`: no host name, IP address, user name or process name
of the input survives in any file the batch writes for sharing (fleet reports,
batch.json, the per-dump reports), and one value gets one placeholder across
all of them.

Inputs: real posted kernel logs (tests/data/posted) placed where such logs
live: a kdump directory named after the host's address, a per-host crash
directory, a user's home.
"""

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTED = ROOT / "tests" / "data" / "posted"
TRIAGE = [sys.executable, "-m", "triage"]

# (directory under the root, posted log, names the log or its place reveal)
INPUTS = [
    ("home/alice/crash/10.20.30.40-2026-11-29-15:02:13", "246-amdgpu-null-deref-vm-sdma-commit-journal-nixos.log",
     ("alice", "10.20.30.40", "gaming", "chromium:shlo3")),
    ("crash/gpu-node-7", "222-oom-journald-invoked-short-precise-tumbleweed.log",
     ("gpu-node-7", "systemd-journal")),
    ("crash/gpu-node-7b", "249-oom-invoked-comm-with-space-kvm-vcpu-syslog.log",
     ("gpu-node-7b", "sau-3f41e-or")),
]
SECRETS = [s for _, _, names in INPUTS for s in names]


def _tree(tmp_path):
    root = tmp_path / "in"
    for d, log, _ in INPUTS:
        p = root / d
        p.mkdir(parents=True)
        (p / "dmesg.txt").write_bytes((POSTED / log).read_bytes())
    return root


def _run(root, out, *extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run(TRIAGE + ["batch", str(root), "-o", str(out), "-j", "1", "--no-progress", *extra],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _shared_files(out: Path):
    return [p for p in out.rglob("*") if p.is_file() and p.suffix in (".json", ".txt", ".md", ".html", ".csv")]


@pytest.fixture(scope="module")
def redacted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("redact")
    root = _tree(tmp)
    out = tmp / "out"
    stdout = _run(root, out, "--redact", "--format", "html")
    return root, out, stdout


def test_no_original_value_in_any_output(redacted):
    _, out, stdout = redacted
    texts = {str(p): p.read_text(errors="replace") for p in _shared_files(out)}
    texts["stdout"] = stdout
    assert any("reports" in k for k in texts) and any(k.endswith("batch.json") for k in texts)
    for name, text in texts.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} in {name}"


def test_without_redact_the_values_are_there(tmp_path):
    root = _tree(tmp_path)
    stdout = _run(root, tmp_path / "out")
    assert "10.20.30.40" in stdout and "gpu-node-7" in stdout


def test_one_value_one_placeholder_across_fleet_and_reports(redacted):
    _, out, _ = redacted
    doc = json.loads((out / "batch.json").read_text())
    recs = {Path(r["report"]).name: r for r in doc["dumps"]} if "dumps" in doc else None
    if recs is None:
        recs = {Path(r["report"]).name: r for r in doc["records"]}
    placeholders = re.compile(r"\b(?:host|ip|user|comm)-[0-9a-f]{8}\b")
    for slug, rec in recs.items():
        assert re.fullmatch(r"dump-[0-9a-f]{10}", slug)
        report = (out / "reports" / slug / "report.json").read_text()
        # the fleet's host for this dump is the one its own report shows
        assert rec["host"] in report or rec["host"] == "unknown"
        assert placeholders.search(json.dumps(rec))
    hosts = {r["host"] for r in recs.values()}
    assert len(hosts) == 3          # three hosts, three placeholders (not host-1 in each report)


def test_key_is_private_and_rerun_keeps_placeholders(redacted):
    root, out, stdout = redacted
    key = out / "redact.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = _run(root, out, "--redact", "--format", "json")
    doc = json.loads(again)
    assert doc["stats"]["analysed_now"] == 0                 # results reused
    first = json.loads((out / "batch.json").read_text())
    assert sorted(r["host"] for r in first.get("dumps", first.get("records", []))) == \
        sorted(r["host"] for r in doc.get("dumps", doc.get("records", [])))
    # a plain run does not reuse the redacted results (its reports would stay redacted)
    plain = json.loads(_run(root, out, "--format", "json"))
    assert plain["stats"]["analysed_now"] == 3
