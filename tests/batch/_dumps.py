"""Real dumps for the batch tests: committed ones, and in sample_dumps/out only those
the generator has declared finished in its READY file (it may be writing others)."""

import os
import signal
import subprocess
from pathlib import Path
from typing import List, Sequence, Tuple

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


def rhel_tree(root: Path, dumps: Sequence[Path], day: int = 1) -> None:
    """Link each dump as `vmcore` into its own RHEL-layout crash directory under root:
    host<i>/127.0.0.1-2026-11-<day><i>-10:00:00/."""
    for i, dump in enumerate(dumps):
        d = root / f"host{i}" / f"127.0.0.1-2026-11-{day}{i}-10:00:00"
        d.mkdir(parents=True)
        (d / "vmcore").symlink_to(dump)


def interrupt_after_first_result(argv: Sequence[str], skip_other_lines: bool = False) -> Tuple[int, str]:
    """Run `argv` (a `triage batch` with progress on), send SIGINT once its first
    progress line (printed per finished dump) appears, and return the exit code and
    the rest of stderr. `skip_other_lines` passes over lines before it (Dask's own
    start-up warnings); otherwise the first line must be progress."""
    p = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        first = p.stderr.readline()
        while skip_other_lines and first and not first.startswith("["):
            first = p.stderr.readline()
        assert first.startswith("[1/"), first
        p.send_signal(signal.SIGINT)
        err = p.stderr.read()
        p.wait(120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(30)
    return p.returncode, err
