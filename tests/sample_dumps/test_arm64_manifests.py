"""The arm64 dump manifests (out-arm64/, out-arm64-16k*/) agree with their dumps
and serial consoles, as out/ does (sample_dumps/check_manifest checks them all).

Oracle: each guest's serial console (ignore_loglevel) and the peer tools'
--dump-dmesg output recorded beside the dumps, re-read now.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dumpgen.check import check_entry, check_manifest

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dumps"
ARM64 = sorted(SAMPLE.glob("out-arm64*/manifest.json")) + \
    [Path(d) / "manifest.json" for d in os.environ.get("TRIAGE_ARM64_DUMP_DIRS", "").split(":") if d]
ARM64 = [m for m in dict.fromkeys(ARM64) if m.is_file()]


@pytest.mark.matrix
@pytest.mark.skipif(not ARM64, reason="no arm64 dumps (sample_dumps/generate --arch arm64)")
@pytest.mark.parametrize("manifest", ARM64, ids=[m.parent.name for m in ARM64])
def test_arm64_manifest_agrees_with_serial_logs(manifest):
    assert check_manifest(manifest) == []


@pytest.mark.matrix
@pytest.mark.skipif(not ARM64, reason="no arm64 dumps (sample_dumps/generate --arch arm64)")
def test_arm64_null_deref_wording_is_required():
    """arm64 says "Unable to handle kernel NULL pointer dereference": the check
    accepts that wording but still fails a log that lacks the oops."""
    import json
    import copy
    for m in ARM64:
        for e in json.loads(m.read_text())["dumps"]:
            if e["expected"]["category"] == "null_deref":
                assert check_entry(e, m.parent) == []
                bad = copy.deepcopy(e)
                bad["expected"]["category"] = "kernel_bug"   # needs "kernel BUG at", absent
                assert any("lacks 'kernel BUG at '" in msg for msg in check_entry(bad, m.parent))
                return
    pytest.skip("no arm64 null_deref dump")


def test_check_manifest_script_defaults_to_every_generated_manifest():
    r = subprocess.run([sys.executable, str(SAMPLE / "check_manifest")], capture_output=True, text=True,
                       timeout=600)
    names = {l.rsplit(":", 1)[0] for l in r.stdout.splitlines() if l.endswith(": OK") or "problem" in l}
    want = {str(SAMPLE / "manifest.json")} | {str(p) for p in SAMPLE.glob("out*/manifest.json")}
    assert names == want, r.stdout + r.stderr
    assert r.returncode == 0, r.stdout
