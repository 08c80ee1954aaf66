"""Fuzz target (hypothesis) for ElfReader: damaged headers, notes and truncation give a
TriageError or a working reader, never another exception.

Seeds: the small cores of test_elf_structures (ELF32/64, PN_XNUM) and, when
generated, the first 64 KiB of a real QEMU dump's headers.
"""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _realdumps import dump_files  # noqa: E402
from test_elf_structures import build_core  # noqa: E402

from triage.dumps.elf import ElfReader  # noqa: E402
from triage.errors import TriageError  # noqa: E402

N = int(os.environ.get("TRIAGE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=N, deadline=None, suppress_health_check=list(HealthCheck))

SEEDS = [build_core(), build_core(elf64=False), build_core(xnum=True), build_core(big=True, elf64=False)]
_real = [d for d in dump_files("elf") if "paging" not in d.name]
if _real:
    with open(_real[0], "rb") as f:
        SEEDS.append(f.read(1 << 16))


def _exercise(data: bytes) -> None:
    try:
        r = ElfReader("fuzz", data=data)
    except TriageError:
        return
    try:
        r.facts()
        r.vmcoreinfo()
        for s in r._segs[:4]:
            try:
                r.read_phys(s.paddr, 64)
            except TriageError:
                pass
        r.virtual_segments()
    except TriageError:
        pass


@FUZZ
@given(st.sampled_from(range(len(SEEDS))),
       st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=12),
       st.one_of(st.none(), st.integers(0, 1 << 16)))
def test_flipped_and_truncated(seed, flips, cut):
    data = bytearray(SEEDS[seed])
    for pos, val in flips:
        data[pos % len(data)] = val
    if cut is not None:
        data = data[:cut]
    _exercise(bytes(data))


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes(raw):
    _exercise(b"\x7fELF" + raw)
