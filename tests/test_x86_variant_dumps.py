"""Real x86_64 dumps of other kernels and paging modes than sample_dumps/out.

`sample_dumps/generate --suite bullseye` writes Debian 11's 5.10 kernel's dumps
to sample_dumps/out-5.10, `--la57` Debian 12's 6.1 with 5-level paging to
sample_dumps/out-la57 (TRIAGE_X86_VARIANT_DUMP_DIRS, colon-separated, names
other directories). Oracles, all from the same files the generator made:
makedumpfile --dump-dmesg's output recorded beside each dump where it reads the
dump, else the serial console (ignore_loglevel); the manifest's expected
category and culprit (parsed from the serial log); the kernel-image formula
(vaddr - __START_KERNEL_map + phys_base) for page-table walks; and the raw
VMCOREINFO text for the paging mode.
"""

import json
import mmap
import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realdumps import check_analyze_matches_manifest, check_dmesg_against_oracles, manifest_entries, run_triage  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DIRS = [Path(p) for p in os.environ.get("TRIAGE_X86_VARIANT_DUMP_DIRS", "").split(":") if p] \
    or [d for d in sorted((ROOT / "sample_dumps").glob("out-*")) if "arm64" not in d.name]


ENTRIES = manifest_entries(DIRS, "x86_64")
IDS = [f"{d.name}/{e['path']}" for d, e in ENTRIES]
pytestmark = [pytest.mark.matrix, pytest.mark.slow,
              pytest.mark.skipif(not ENTRIES, reason="no out-5.10/out-la57 dumps "
                                 "(sample_dumps/generate --suite bullseye, --la57)")]


def _vmcoreinfo_number(dump: Path, name: str):
    """NUMBER(name) straight from the file's bytes: ELF notes and the kdump
    sub-header keep VMCOREINFO uncompressed, so no triage code is involved."""
    with open(dump, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        m = re.search(rb"NUMBER\(" + re.escape(name.encode()) + rb"\)=(-?\d+)\n", data)
        return int(m.group(1)) if m else None


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_dmesg_equals_makedumpfile_or_serial(entry):
    check_dmesg_against_oracles(*entry)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_analyze_category_and_culprit(entry):
    check_analyze_matches_manifest(*entry)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_info_release_and_paging_mode(entry):
    base, e = entry
    dump = base / e["path"]
    r = run_triage("info", "--json", dump)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert (d["arch"], d["osrelease"]) == ("x86_64", e["kernel_release"])
    # --la57 guests really run with 5-level paging, the others with 4
    assert _vmcoreinfo_number(dump, "pgtable_l5_enabled") == (1 if e.get("la57") else 0)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_page_table_walk_agrees_with_kernel_image_formula(entry):
    """The kernel image is mapped both ways: the 4- or 5-level walk from
    init_top_pgt must land where vaddr - __START_KERNEL_map + phys_base says."""
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.logsource import open_reader
    from triage.memory.x86_64 import X86_64Translator

    base, e = entry
    with open_reader([str(base / e["path"])]) as rd:
        info = parse_vmcoreinfo(rd.vmcoreinfo())
        tr = X86_64Translator(info, rd.read_phys)
        assert tr.levels == (5 if e.get("la57") else 4)
        names = [n for n in ("init_top_pgt", "_stext", "prb", "init_uts_ns", "swapper_pg_dir")
                 if info.symbol(n) is not None]
        assert len(names) >= 3, names
        phys_base = info.number("phys_base")
        for n in names:
            va = info.symbol(n)
            assert tr.walk(va)[0] == va - 0xFFFFFFFF80000000 + phys_base, n
