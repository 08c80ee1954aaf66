"""Dumps written at other dump levels than -d 31 are complete, not partial (issue 11).

makedumpfile leaves excluded pages out of the file: in an ELF (-E) as p_filesz < p_memsz,
in the kdump-compressed format as a clear bit in the 2nd bitmap. Pages excluded as
zero pages (dump level bit 1) read as zeros there. Every level must read as a
complete dump with the whole log.

Inputs: the real in-guest ELF captures of the generated matrix (capture/vmcore-elf)
and, when TRIAGE_EXTRA_DUMP_DIRS names the logflood directory, its raw /proc/vmcore
copy (vmcore.kexec-elf), rewritten here by makedumpfile at several levels. Oracle:
makedumpfile --dump-dmesg run on each rewritten file (byte-identical output).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from _realdumps import DUMP_DIRS  # noqa: E402

MAKEDUMPFILE = shutil.which("makedumpfile")


def _sources():
    out = []
    for top in DUMP_DIRS:
        if not top.is_dir():
            continue
        out += sorted(top.glob("*/capture/vmcore-elf"))[:2]
        out += sorted(top.glob("vmcore.kexec-elf"))
    return out


SOURCES = _sources()
# (makedumpfile format flags, dump level): -E ELF and -l lzo, zero pages only (1), zero
# and free (17), everything makedumpfile can leave out (31), user pages only (8)
LEVELS = [(["-E"], 1), (["-E"], 17), (["-E"], 8), (["-l"], 1), (["-c"], 17)]


@pytest.mark.matrix
@pytest.mark.slow
@pytest.mark.skipif(not MAKEDUMPFILE, reason="makedumpfile not installed")
@pytest.mark.skipif(not SOURCES, reason="no real ELF capture (sample_dumps/out/*/capture/vmcore-elf)")
@pytest.mark.parametrize("flags,level", LEVELS, ids=[f"{f[0]}-d{lv}" for f, lv in LEVELS])
@pytest.mark.parametrize("src", SOURCES, ids=[str(p.relative_to(p.parents[2])) for p in SOURCES])
def test_dump_level_is_complete_and_whole(tmp_path, src, flags, level):
    out = tmp_path / "vmcore"
    r = subprocess.run([MAKEDUMPFILE, *flags, "-d", str(level), str(src), str(out)], capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0 or not out.exists():
        pytest.skip(f"makedumpfile could not rewrite {src}: {r.stderr.strip()[-200:]}")
    oracle = tmp_path / "oracle.txt"
    r = subprocess.run([MAKEDUMPFILE, "--dump-dmesg", str(out), str(oracle)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    got = subprocess.run([sys.executable, "-m", "triage", "dmesg", str(out)], capture_output=True, env=env,
                         timeout=600)
    assert got.returncode == 0 and not got.stderr, got.stderr
    assert got.stdout == oracle.read_bytes()
    info = subprocess.run([sys.executable, "-m", "triage", "info", "--json", str(out)], capture_output=True,
                          text=True, env=env, timeout=600)
    assert info.returncode == 0, info.stderr
    facts = json.loads(info.stdout)
    assert facts["complete"] is True, facts
