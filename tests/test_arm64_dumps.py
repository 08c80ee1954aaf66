"""Real arm64 dumps (Debian's 6.1 arm64 kernel under qemu-system-aarch64), read on this host.

They come from `sample_dumps/generate --arch arm64` (sample_dumps/out-arm64, or
the directories in TRIAGE_ARM64_DUMP_DIRS). Oracles: the arm64 makedumpfile's
--dump-dmesg output recorded next to each dump where it reads the dump (the
makedumpfile formats), else the serial console (ignore_loglevel); the
manifest's expected category and culprit module (from the serial log); the
serial log's `Linux version` line for info.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realdumps import (check_analyze_matches_manifest, check_dmesg_against_oracles,  # noqa: E402
                        manifest_entries, run_triage)

ROOT = Path(__file__).resolve().parents[1]
DIRS = [Path(p) for p in os.environ.get("TRIAGE_ARM64_DUMP_DIRS", "").split(":") if p] \
    or sorted((ROOT / "sample_dumps").glob("out-arm64*"))


ENTRIES = manifest_entries(DIRS, "arm64")
IDS = [e["path"] for _d, e in ENTRIES]
needs_dumps = pytest.mark.skipif(not ENTRIES, reason="no arm64 dumps (sample_dumps/generate --arch arm64)")


def _normalise_mdf(text: bytes) -> bytes:
    return re.sub(rb"\\xffffff([0-9a-f]{2})", rb"\\x\1", text)


@needs_dumps
@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_dmesg_equals_arm64_makedumpfile_or_serial(entry):
    check_dmesg_against_oracles(*entry, normalise_mdf=_normalise_mdf)


@needs_dumps
@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_info_says_aarch64_and_verified_layout(entry):
    base, e = entry
    r = run_triage("info", "--json", base / e["path"])
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["arch"] == "aarch64" and d["osrelease"] == e["kernel_release"]
    serial = (base / e["oracles"]["serial_log"]).read_text(errors="replace")
    assert d["version"] == re.search(r"Linux version \S+ .*?(#\d+ .*)", serial).group(1).strip()
    lay = d["address_layout"]
    assert lay["check"] == "verified against swapper_pg_dir"
    assert lay["page_size"] == d["page_size"] in (4096, 16384, 65536)
    if lay["page_size"] == 4096:          # Debian's arm64 flavour: 48-bit VA, 4 levels
        assert (lay["va_bits"], lay["levels"], lay["entry_format"]) == (48, 4, "48-bit")
    # the console's own account of the layout (panic prints PHYS_OFFSET on arm64)
    m = re.search(r"PHYS_OFFSET: (0x[0-9a-f]+)", serial)
    if m:
        assert int(lay["phys_offset"], 16) == int(m.group(1), 16)


@needs_dumps
@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_analyze_category_and_culprit(entry):
    check_analyze_matches_manifest(*entry)


def _raw_pagesize(dump: Path):
    """PAGESIZE straight from the file's bytes (ELF notes and the kdump
    sub-header keep VMCOREINFO uncompressed): no triage code involved."""
    import mmap
    with open(dump, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        m = re.search(rb"\nPAGESIZE=(\d+)\n", data)
        return int(m.group(1)) if m else None


OOM = [(d, e) for d, e in ENTRIES if e["expected"]["category"] == "oom_panic"]


@pytest.mark.skipif(not OOM, reason="no arm64 oom_panic dump")
@pytest.mark.parametrize("entry", OOM, ids=[e["path"] for _d, e in OOM])
def test_oom_consumers_in_kb_by_the_dumps_page_size(entry):
    # the OOM task table counts pages; arm64's page size is the dump's to say
    base, e = entry
    r = run_triage("analyze", "--format", "json", base / e["path"])
    assert r.returncode == 0, r.stderr
    top = json.loads(r.stdout)["crash"]["oom"]["consumers"][0]
    serial = (base / e["oracles"]["serial_log"]).read_text(errors="replace")
    # the task table row: [  pid  ]   uid  tgid total_vm      rss ...
    row = re.search(r"\[\s*%d\]\s+\d+\s+%d\s+\d+\s+(\d+)\s" % (top["pid"], top["pid"]), serial)
    assert row and top["rss_pages"] == int(row.group(1))
    assert top["rss_kb"] == top["rss_pages"] * _raw_pagesize(base / e["path"]) // 1024


@needs_dumps
def test_batch_over_an_arm64_dump_dir(tmp_path):
    base = ENTRIES[0][0]
    # one scenario directory: every format of one crash
    run_dir = (base / ENTRIES[0][1]["path"]).parents[0]
    while run_dir.parent != base:
        run_dir = run_dir.parent
    r = subprocess.run([sys.executable, "-m", "triage", "batch", "-o", str(tmp_path / "b"), "-j", "1",
                        "--format", "json", "--no-progress", str(run_dir)],
                       capture_output=True, timeout=1800)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    fleet = json.loads(r.stdout)
    expected = {e["expected"]["category"] for d, e in ENTRIES if (d / e["path"]).is_relative_to(run_dir)}
    assert len(expected) == 1
    text = json.dumps(fleet)
    assert next(iter(expected)) in text
