"""Real dumps for the batch tests: committed ones, and the generated ones the generator
has finished (listed in the manifest.json of a sample_dumps/out* set; it may be writing
others)."""

import os
import signal
import subprocess
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from _realdumps import SAMPLE, dump_files, finished_generated_dumps, generated_sets


def _crashes() -> Dict[Path, str]:
    """Every usable real dump -> the crash it holds (its generator run directory, or its
    directory under the committed set): the formats made of one run are one crash."""
    sets = [] if os.environ.get("BATCH_TEST_COMMITTED_ONLY") else generated_sets()
    out = {p: f"{top.name}/{run}" for top in sets for p, run in finished_generated_dumps([top])}
    for p in dump_files("any"):
        # dump_files walks sample_dumps/out too: there only what a manifest lists counts
        if not any(d.parent == SAMPLE and d.name.startswith("out") for d in p.parents):
            out.setdefault(p, str(p.parent))
    return out


def finished_dumps(one_per_crash: bool = False) -> List[Path]:
    """Real dump files that are complete on disk, smallest first.

    one_per_crash keeps the smallest dump of each crash (each generator run is one
    boot, captured in several formats): distinct crashes, none folded onto another.
    BATCH_TEST_COMMITTED_ONLY=1 uses only sample_dumps/committed, as a CI checkout has."""
    found = sorted(_crashes().items(), key=lambda pc: (pc[0].stat().st_size, str(pc[0])))
    if not one_per_crash:
        return [p for p, _crash in found]
    seen, kept = set(), []
    for p, crash in found:
        if crash not in seen:
            seen.add(crash)
            kept.append(p)
    return kept


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
