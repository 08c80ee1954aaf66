"""Fuzz targets (hypothesis) for the kdump-compressed and flattened readers.

Property: whatever the bytes, open_dump + facts + vmcoreinfo + notes + page reads
either work or raise a TriageError subclass; never another exception.
Seeds are the committed synthetic files; mutations hit the headers, bitmaps,
descriptor table and flattened record headers.
"""

import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _synthetic import DATA
from triage.dumps import detect, open_dump
from triage.errors import TriageError

SEEDS = [(DATA / n).read_bytes() for n in ("centos7-wrapped.kdump-zstd", "centos8-dynamic.mdf-c-d31.flat",
                                           "centos8-dynamic.mdf-l-d31.kdump")]
SETTINGS = dict(max_examples=int(os.environ.get("TRIAGE_FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def run_reader(data: bytes) -> None:
    fd, path = tempfile.mkstemp(prefix="fuzz-")
    try:
        os.write(fd, data)
        os.close(fd)
        try:
            detect(path)
            with open_dump(path) as r:
                r.facts()
                r.vmcoreinfo()
                r.notes()
                for pfn in (0, 1, 0x9, 0x100, 0x1000, 0x1c00, 0x1fff, 0x2000, 1 << 40):
                    try:
                        r.has_page(pfn)
                        r.read_phys(pfn * 4096 + 10, 100)
                    except TriageError:
                        pass
        except TriageError:
            pass
    finally:
        os.unlink(path)


mutation = st.tuples(st.integers(min_value=0, max_value=40000), st.integers(min_value=0, max_value=255))


@settings(**SETTINGS)
@given(seed=st.sampled_from(range(len(SEEDS))), muts=st.lists(mutation, min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.integers(min_value=0, max_value=250000)))
def test_fuzz_mutated_headers(seed, muts, cut):
    data = bytearray(SEEDS[seed])
    for off, val in muts:
        if off < len(data):
            data[off] = val
    if cut is not None:
        data = data[:cut]
    run_reader(bytes(data))


@settings(**SETTINGS)
@given(prefix=st.sampled_from([b"KDUMP   ", b"DISKDUMP", b"makedumpfile\0\0\0\0", b"\x7fELF"]),
       body=st.binary(min_size=0, max_size=9000))
def test_fuzz_random_bodies(prefix, body):
    run_reader(prefix + body)
