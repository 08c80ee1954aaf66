"""The dump manifests agree with the dumps and with the guests' serial consoles.

Oracle: the serial console of each guest, captured with ignore_loglevel (every
record the crashed kernel printed), plus makedumpfile --dump-dmesg / vmcore-dmesg
output wherever those tools can read the dump.
"""
import json
import subprocess
from pathlib import Path

import pytest

from dumpgen.check import check_manifest
from dumpgen.committed import BUDGET_BYTES, COMMITTED
from dumpgen.dumpfile import identify
from dumpgen.serial_log import parse_serial_file

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dumps"
COMMITTED_MANIFEST = SAMPLE / "manifest.json"
MATRIX_MANIFEST = SAMPLE / "out" / "manifest.json"


def _entries(path):
    return json.loads(path.read_text())["dumps"]


def test_committed_manifest_agrees_with_serial_logs():
    assert check_manifest(COMMITTED_MANIFEST) == []


def test_committed_set_has_the_required_dumps():
    es = _entries(COMMITTED_MANIFEST)
    by_cat = {}
    for e in es:
        by_cat.setdefault(e["expected"]["category"], []).append(e)
    gpu = [e for e in by_cat.get("gpu_alloc_fail_null_deref", [])
           if e["capture"] == "in-guest-kdump" and e["compression"] == "lzo"]
    assert gpu, "no in-guest lzo kdump of the GPU allocation failure + NULL deref"
    d = SAMPLE / gpu[0]["path"]
    assert d.name == "vmcore" and (d.parent / "vmcore-dmesg.txt").is_file()
    assert gpu[0]["expected"]["culprit_module"] == "nvidia"
    assert "alloc_failure" in gpu[0]["expected"]["events"]
    assert by_cat.get("oom_panic"), "no OOM panic dump"
    assert any(e["format"] == "flattened-kdump" and e["capture"] == "qemu-dump-guest-memory"
               and e["compression"] == "zlib" for e in es)
    assert any(e["kaslr"] is False for e in es) and any(e["kaslr"] is True for e in es)


def test_committed_set_fits_the_budget():
    total = sum(p.stat().st_size for p in COMMITTED.rglob("*") if p.is_file())
    assert 0 < total <= BUDGET_BYTES
    du = subprocess.run(["du", "-sk", str(COMMITTED)], capture_output=True, text=True)
    if du.returncode == 0:
        assert int(du.stdout.split()[0]) * 1024 <= BUDGET_BYTES


def test_serial_log_facts_of_the_gpu_dump():
    """The GPU dump's serial log: a vmalloc failure report with Mem-Info from
    nvidia, then a NULL dereference whose RIP is in nvidia."""
    gpu = next(e for e in _entries(COMMITTED_MANIFEST)
               if e["expected"]["category"] == "gpu_alloc_fail_null_deref")
    serial = SAMPLE / gpu["oracles"]["serial_log"]
    text = serial.read_text(errors="replace")
    assert "vmalloc error: size" in text and "Mem-Info:" in text
    assert "RIP: 0010:nv_gpu_init_channel" in text
    facts = parse_serial_file(serial)
    names = [e.name for e in facts.events]
    assert names.index("alloc_failure") < names.index("null_deref")
    assert facts.kernel_release == gpu["kernel_release"]


def test_committed_dump_headers():
    for e in _entries(COMMITTED_MANIFEST):
        fmt, comp = identify(SAMPLE / e["path"])
        assert (fmt, comp) == (e["format"], e["compression"])


def test_makedumpfile_oracle_matches_serial_for_kdump(tmp_path):
    """makedumpfile --dump-dmesg reads the in-guest kdump; its log ends with the
    same oops the serial console printed (checked again, independently of
    the manifest, by running makedumpfile now)."""
    import shutil
    if not shutil.which("makedumpfile"):
        pytest.skip("makedumpfile not installed")
    gpu = next(e for e in _entries(COMMITTED_MANIFEST) if e["capture"] == "in-guest-kdump")
    out = tmp_path / "dmesg.txt"
    r = subprocess.run(["makedumpfile", "--dump-dmesg", str(SAMPLE / gpu["path"]), str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    log = out.read_text(errors="replace")
    assert "BUG: kernel NULL pointer dereference" in log
    serial = (SAMPLE / gpu["oracles"]["serial_log"]).read_text(errors="replace")
    oops = next(l for l in serial.splitlines() if "BUG: kernel NULL pointer dereference" in l)
    assert oops.strip() in log


@pytest.mark.matrix
def test_matrix_manifest_agrees_with_serial_logs():
    if not MATRIX_MANIFEST.is_file():
        pytest.skip("no regenerated matrix (run sample_dumps/generate)")
    assert check_manifest(MATRIX_MANIFEST) == []


@pytest.mark.matrix
def test_matrix_covers_every_category():
    if not MATRIX_MANIFEST.is_file():
        pytest.skip("no regenerated matrix (run sample_dumps/generate)")
    from dumpgen.scenarios import SCENARIOS
    es = _entries(MATRIX_MANIFEST)
    got = {e["scenario"] for e in es}
    full = set(SCENARIOS) <= got
    if not full:
        pytest.skip(f"partial matrix (e.g. --ci): {sorted(got)}")
    cats = {e["expected"]["category"] for e in es}
    assert {s.expected_category for s in SCENARIOS.values()} <= cats


def test_check_catches_a_manifest_that_disagrees(tmp_path):
    """The check is not vacuous: a wrong category, culprit or KASLR flag in an
    otherwise real entry is reported."""
    import copy
    from dumpgen.check import check_entry
    good = next(e for e in _entries(COMMITTED_MANIFEST) if e["capture"] == "in-guest-kdump")
    assert check_entry(good, SAMPLE) == []
    for field, value in (("category", "gpf"), ("culprit_module", "acme_storage")):
        bad = copy.deepcopy(good)
        bad["expected"][field] = value
        assert any(field in msg for msg in check_entry(bad, SAMPLE))
    bad = copy.deepcopy(good)
    bad["kaslr"] = not good["kaslr"]
    assert any("kaslr" in msg for msg in check_entry(bad, SAMPLE))
    bad = copy.deepcopy(good)
    bad["compression"] = "zlib"
    assert any("header says" in msg for msg in check_entry(bad, SAMPLE))


def _has_vmcoreinfo(path: Path) -> bool:
    """VMCOREINFO text sits in the ELF notes or the kdump sub-header, both near the
    start of the file (a flattened file adds a 4 KiB header and record heads; a
    QEMU paging=true ELF has ~65k program headers, 3.5 MiB, before its notes)."""
    with open(path, "rb") as f:
        head = f.read(8 << 20)
    return b"OSRELEASE=" in head and b"SYMBOL(prb)=" in head


def test_committed_dumps_carry_vmcoreinfo():
    """QEMU needs -device vmcoreinfo plus the guest's qemu_fw_cfg module for this."""
    for e in _entries(COMMITTED_MANIFEST):
        p = SAMPLE / e["path"]
        assert _has_vmcoreinfo(p), e["path"]
        with open(p, "rb") as f:
            assert f"OSRELEASE={e['kernel_release']}".encode() in f.read(1 << 20)


@pytest.mark.matrix
def test_matrix_dumps_carry_vmcoreinfo():
    if not MATRIX_MANIFEST.is_file():
        pytest.skip("no regenerated matrix (run sample_dumps/generate)")
    missing = [e["path"] for e in _entries(MATRIX_MANIFEST)
               if not _has_vmcoreinfo(MATRIX_MANIFEST.parent / e["path"])]
    assert missing == []
