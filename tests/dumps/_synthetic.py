"""Shared helpers for the dump-format tests: the synthetic generator and makedumpfile.

The synthetic generator (sample_dumps/synthetic) writes guests whose page contents
are known; makedumpfile (Debian 1.7.2) converts them into its own formats, and
pyelftools reads makedumpfile's ELF output (-E) as an independent oracle.
"""

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC = ROOT / "sample_dumps" / "synthetic"
DATA = ROOT / "tests" / "data" / "synthetic"
REAL_OUT = ROOT / "sample_dumps" / "out"

if str(SYNTHETIC) not in sys.path:
    sys.path.insert(0, str(SYNTHETIC))

import generate  # noqa: E402

MAKEDUMPFILE = shutil.which("makedumpfile")
needs_makedumpfile = pytest.mark.skipif(MAKEDUMPFILE is None, reason="makedumpfile is not installed")


def makedumpfile(*args: str, stdout=None) -> None:
    """Run makedumpfile; fail the test with its output when it fails."""
    p = subprocess.run([MAKEDUMPFILE, *args], stdout=stdout or subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    if p.returncode != 0:
        raise AssertionError(f"makedumpfile {' '.join(args)} failed: {p.stderr.decode()[-2000:]}")


def elf_oracle_pages(path: str) -> Dict[int, bytes]:
    """pfn -> page bytes of every page an ELF vmcore holds, read with pyelftools."""
    from elftools.elf.elffile import ELFFile
    pages = {}
    with open(path, "rb") as f:
        ef = ELFFile(f)
        for seg in ef.iter_segments():
            if seg["p_type"] != "PT_LOAD" or not seg["p_filesz"]:
                continue
            data = seg.data()
            base = seg["p_paddr"]
            for i in range(0, seg["p_filesz"] - 4095, 4096):
                pages[(base + i) // 4096] = data[i:i + 4096]
    return pages


@pytest.fixture(scope="session")
def synthetic_elf(tmp_path_factory) -> Dict[str, Path]:
    """ELF vmcores of the synthetic variants (generated once per session)."""
    out = tmp_path_factory.mktemp("synthetic")
    written = generate.generate(str(out), ["elf"], list(generate.VARIANTS))
    return {name: Path(files[0]) for name, files in written.items()}


@pytest.fixture(scope="session")
def mdf_set(synthetic_elf, tmp_path_factory) -> Dict[str, Path]:
    """makedumpfile conversions of centos8-dynamic: the oracle ELF (-E) and the formats we read."""
    if MAKEDUMPFILE is None:
        pytest.skip("makedumpfile is not installed")
    src = str(synthetic_elf["centos8-dynamic"])
    out = tmp_path_factory.mktemp("mdf")
    files = {}
    for key, args in {"E": ["-E", "-d", "31"], "c": ["-c", "-d", "31"], "l": ["-l", "-d", "31"],
                      "raw": ["-d", "31"], "c0": ["-c", "-d", "0"],
                      "c30": ["-c", "-d", "30"]}.items():
        files[key] = out / f"dump.{key}"
        makedumpfile(*args, src, str(files[key]))
    for key, args in {"cF": ["-c", "-d", "31", "-F"], "EF": ["-E", "-d", "31", "-F"]}.items():
        files[key] = out / f"dump.{key}"
        with open(files[key], "wb") as f:
            makedumpfile(*args, src, stdout=f)
    split = [out / f"split.{i}" for i in range(3)]
    makedumpfile("-c", "-d", "31", "--split", src, *map(str, split))
    files.update({f"split{i}": p for i, p in enumerate(split)})
    return files


def ring_infos_desc_offset(path) -> int:
    """File offset of the kdump page descriptor of the page holding the dump's
    printk_info array (a page the log reader cannot do without)."""
    from triage.dumps.kdump import KdumpReader
    from triage.dumps.store import FileStore
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.memory.kernel import KernelMemory
    from triage.printk.lockless import LocklessLayout, parse_ring_header
    with KdumpReader([FileStore(str(path))]) as r:
        info = parse_vmcoreinfo(r.vmcoreinfo())
        km = KernelMemory(r, info, r.facts().arch)
        lay = LocklessLayout.from_vmcoreinfo(info, km.pointer_size)
        hdr = parse_ring_header(lay, km.read(km.read_pointer(info.symbol("prb")), lay.ring_size))
        pfn = km.translate(hdr.infos)[0] // r.page_size
        return r._part_for(pfn).desc_offset(pfn)
