"""Real dumps for the batch tests: committed ones, and in sample_dumps/out only those
the generator has declared finished in its READY file (it may be writing others)."""

import os
from pathlib import Path
from typing import List

from _realdumps import ROOT, dump_files

OUT = ROOT / "sample_dumps" / "out"


def _ready() -> set:
    ready = OUT / "READY"
    if not ready.is_file():
        return set()
    out = set()
    for line in ready.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            out.add((OUT / line.split()[0]).resolve())
    return out


def finished_dumps() -> List[Path]:
    """Real dump files that are complete on disk, smallest first.

    BATCH_TEST_COMMITTED_ONLY=1 uses only sample_dumps/committed, as a CI checkout has."""
    ready = set() if os.environ.get("BATCH_TEST_COMMITTED_ONLY") else _ready()
    out = []
    for p in dump_files("any"):
        if OUT in p.resolve().parents and p.resolve() not in ready:
            continue
        out.append(p)
    return sorted(out, key=lambda p: p.stat().st_size)
