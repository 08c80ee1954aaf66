"""A real ELF dump cut at many points: every cut gives records + partial, or a TriageError.

Oracle: the full dump's records; a cut dump may only lose records, never change them,
and must say it is partial (the issue's "truncated at any point" requirement).
The cuts are views of the mapped file, so no copy is written.
"""

import mmap
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _realdumps import dump_files, dump_ids  # noqa: E402

from triage.dumps.elf import ElfReader  # noqa: E402
from triage.errors import TriageError  # noqa: E402
from triage.logsource import read_dump_log  # noqa: E402

ELF = dump_files("elf")[:2]


@pytest.mark.skipif(not ELF, reason="no real ELF dumps")
@pytest.mark.parametrize("dump", ELF, ids=dump_ids(ELF))
def test_cut_anywhere(dump):
    with ElfReader(str(dump)) as r:
        full, _, _ = read_dump_log(r)
        data_end = max(s.offset + s.filesz for s in r._segs)    # end of the memory data
    full_set = {(x.seq, x.text) for x in full.records}
    size = dump.stat().st_size
    rnd = random.Random(7)
    cuts = sorted({rnd.randrange(1, size) for _ in range(40)} | {16, 63, 64, 200, 4096, data_end - 1})
    outcomes = {"records": 0, "error": 0}
    f = open(dump, "rb")
    view = memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
    for cut in cuts:
        try:
            r = ElfReader(str(dump), data=view[:cut])
            log, _, _ = read_dump_log(r)
            facts = r.facts()
        except TriageError:
            outcomes["error"] += 1
            continue
        outcomes["records"] += 1
        assert facts.complete == (cut >= data_end), cut
        got = {(x.seq, x.text) for x in log.records}
        assert got <= full_set, cut
        assert log.partial or len(got) == len(full_set) or not facts.complete
    f.close()            # the mapping goes with the views when they are collected
    assert outcomes["records"] and outcomes["error"]
