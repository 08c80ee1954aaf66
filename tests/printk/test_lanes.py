"""triage.printk.lanes: columns of fixed-width fields as one big int, checked field by
field against struct on random records (the oracle: struct.unpack_from of each field)."""

import random
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.printk.test_fuzz_printk import FUZZ
from triage.printk import lanes

pytestmark = pytest.mark.skipif(not lanes.usable(8), reason="lanes need a little-endian host")

WIDTH_CODES = {2: "<H", 4: "<I", 8: "<Q"}


@FUZZ
@given(st.binary(min_size=24 * 40, max_size=24 * 40), st.integers(0, 20), st.integers(1, 19),
       st.sampled_from([(0, 8), (8, 8), (16, 8), (4, 4), (20, 4), (2, 2), (22, 2)]))
def test_pack_column_and_to_list_equal_struct(buf, first, k, field):
    off, width = field
    want = [struct.unpack_from(WIDTH_CODES[width], buf, (first + r) * 24 + off)[0] for r in range(k)]
    for b in (buf, bytearray(buf), memoryview(buf)):
        v = lanes.pack_column(b, first, k, 24, off, width)
        assert lanes.Lanes(k, width).to_list(v) == want


def test_pack_column_refuses_unaligned_fields():
    buf = bytes(24 * 4)
    assert lanes.pack_column(buf, 0, 4, 24, 3, 8) is None       # not aligned to its width
    assert lanes.pack_column(buf, 0, 4, 20, 0, 8) is None       # records not a multiple of it
    assert lanes.pack_column(buf, 0, 4, 24, 20, 8) is None      # past the record
    assert lanes.pack_column(buf, 0, 4, 24, 0, 3) is None       # no such width


def test_nonzero_finds_the_lanes_and_stops_at_its_limit():
    ln = lanes.Lanes(300, 8)
    rng = random.Random(7)
    for picks in ([], [0], [299], [0, 1, 2], sorted(rng.sample(range(300), 40))):
        v = sum(rng.randrange(1, 1 << 64) << (64 * i) for i in picks)
        assert ln.nonzero(v, 64) == picks
        if picks:
            assert ln.nonzero(v, len(picks) - 1) is None
            assert ln.nonzero(v, len(picks)) == picks


def test_masks_splats_and_iota():
    ln = lanes.Lanes(5, 4)
    assert ln.to_list(ln.iota()) == [0, 1, 2, 3, 4]
    assert ln.to_list(ln.splat(0xABCD)) == [0xABCD] * 5
    assert ln.to_list(ln.full) == [0xFFFFFFFF] * 5
    assert ln.to_list(ln.mask([(1, 3), (4, 5)])) == [0, 0xFFFFFFFF, 0xFFFFFFFF, 0, 0xFFFFFFFF]
