"""Fuzz targets (hypothesis) for the printk decoders: any bytes in, records or a TriageError out.

Run longer with TRIAGE_FUZZ_EXAMPLES=20000 python3 -m pytest tests/printk/test_fuzz_printk.py.
The seeds are struct layouts as exported by a real Debian 6.1 kernel (VMCOREINFO of
sample_dumps/out/sysrq-128M); the bytes are random or randomly damaged.
"""

import os
import struct
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.dumps.vmcoreinfo import parse_vmcoreinfo
from triage.errors import TriageError
from triage.printk.format import format_record, record_lines
from triage.printk.lockless import LocklessLayout, RingHeader, decode_lockless, parse_ring_header
from triage.printk.plain import decode_plain, split_plain
from triage.printk.structured import PrintkLogLayout, decode_printk_log

N = int(os.environ.get("TRIAGE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=N, deadline=None, suppress_health_check=list(HealthCheck))

VMCOREINFO_61 = "SYMBOL(prb)=ffffffff9cc643e0\n" + (
    Path(__file__).resolve().parents[2] / "tests" / "data" / "vmcoreinfo" / "printk-ringbuffer-6.1.txt").read_text()
LAY = LocklessLayout.from_vmcoreinfo(parse_vmcoreinfo(VMCOREINFO_61))
COUNT_BITS, SIZE_BITS = 4, 9


M64 = (1 << 64) - 1


def _valid_ring(texts, base=0):
    """A small well-formed ring holding `texts`, built to the kernel's layout rules.

    Logical positions start at `base`; the kernel starts at -(ring size), so they
    cross 2**64 early in every boot."""
    count, size = 1 << COUNT_BITS, 1 << SIZE_BITS
    descs, infos, data = bytearray(count * 24), bytearray(count * 88), bytearray(size)
    lpos = base
    for i, t in enumerate(texts[:count]):
        blk = 8 + len(t)
        blk = (blk + 7) & ~7
        if (lpos % size) + blk >= size:         # wrap (as the kernel: ending at the edge wraps too)
            begin, lpos = lpos, lpos + (size - lpos % size)
        else:
            begin = lpos
        start = lpos % size
        data[start:start + 8] = struct.pack("<Q", i)
        data[start + 8:start + 8 + len(t)] = t
        nxt = lpos + blk
        struct.pack_into("<QQQ", descs, i * 24, (2 << 62) | i, begin & M64, nxt & M64)
        struct.pack_into("<QQHBBI", infos, i * 88, i, i * 1000, len(t), 0, 6 << 5, i)
        lpos = nxt
    hdr = RingHeader(COUNT_BITS, 0, 0, max(0, min(len(texts), count) - 1), 0, SIZE_BITS, 0)
    return hdr, bytes(descs), bytes(infos), bytes(data)


@FUZZ
@given(st.lists(st.binary(min_size=0, max_size=40), min_size=1, max_size=16),
       st.one_of(st.just(0), st.just((1 << 64) - (1 << SIZE_BITS)),
                 st.integers((1 << 64) - 4 * (1 << SIZE_BITS), (1 << 64) - 8).map(lambda v: v & ~7)))
def test_wellformed_ring_roundtrip(texts, base):
    hdr, d, i, data = _valid_ring(texts, base)
    recs, problems = decode_lockless(LAY, hdr, d, i, data)
    fitting = texts[:16]
    # texts that do not fit in the 512-byte ring overwrite older ones; compare what survives
    if sum(((8 + len(t) + 7) & ~7) for t in fitting) <= (1 << SIZE_BITS) // 2:
        assert [r.text for r in recs] == fitting
        assert [r.level for r in recs] == [6] * len(fitting)
    for r in recs:
        assert format_record(r).endswith(b"\n")
        list(record_lines(r))


@FUZZ
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=16),
       st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2047), st.integers(0, 255)), max_size=40),
       st.integers(0, (1 << 62) - 1), st.integers(0, (1 << 62) - 1))
def test_damaged_ring_never_crashes(texts, flips, head, tail):
    hdr, d, i, data = _valid_ring(texts)
    arrays = [bytearray(d), bytearray(i), bytearray(data)]
    for which, pos, val in flips:
        if which < 3:
            a = arrays[which]
            a[pos % len(a)] = val
        else:
            hdr.head_id, hdr.tail_id = head, tail
    try:
        recs, _ = decode_lockless(LAY, hdr, bytes(arrays[0]), bytes(arrays[1]), bytes(arrays[2]))
        for r in recs:
            format_record(r, caller=True)
    except TriageError:
        pass


@FUZZ
@given(st.binary(min_size=0, max_size=200), st.integers(0, 7))
def test_ring_header_bytes(raw, ptr):
    try:
        hdr = parse_ring_header(LAY, raw)
        assert hdr.count_bits <= 28 and 4 <= hdr.size_bits <= 31
    except TriageError:
        pass


PLOG = PrintkLogLayout(size=16, ts_nsec=0, len=8, text_len=10, dict_len=12)


@FUZZ
@given(st.binary(min_size=1, max_size=2048), st.integers(0, 4096), st.integers(0, 4096))
def test_printk_log_random(buf, first, nxt):
    try:
        recs, problems = decode_printk_log(PLOG, buf, first, nxt)
        for r in recs:
            format_record(r)
    except TriageError:
        pass


@FUZZ
@given(st.lists(st.tuples(st.binary(max_size=60), st.binary(max_size=30)), min_size=1, max_size=30),
       st.integers(0, 2000), st.lists(st.tuples(st.integers(0, 1023), st.integers(0, 255)), max_size=10))
def test_printk_log_wrapped_and_damaged(items, start, flips):
    """A 1 KiB printk_log buffer written the kernel's way (wrap marker len=0), then damaged."""
    size = 1024
    buf = bytearray(size)
    idx = start % (size - 64)
    idx -= idx % 8
    first = idx
    written = []
    for text, dct in items:
        reclen = (16 + len(text) + len(dct) + 7) & ~7
        if idx + reclen + 16 > size:
            buf[idx:idx + 16] = bytes(16)
            idx = 0
        if idx <= first < idx + reclen + 16 and written:
            break
        struct.pack_into("<QHHH", buf, idx, len(written), reclen, len(text), len(dct))
        buf[idx + 16:idx + 16 + len(text) + len(dct)] = text + dct
        written.append(text)
        idx += reclen
    nxt = idx
    recs, problems = decode_printk_log(PLOG, bytes(buf), first, nxt)
    assert [r.text for r in recs] == written and not problems
    for pos, val in flips:
        buf[pos] = val
    try:
        decode_printk_log(PLOG, bytes(buf), first, nxt)
    except TriageError:
        pass


@FUZZ
@given(st.binary(max_size=4096), st.integers(0, 1 << 33))
def test_plain_buffer(buf, log_end):
    if buf:
        buf = buf + bytes((1 << (len(buf) - 1).bit_length()) - len(buf))
    text = decode_plain(buf, log_end) if buf else b""
    split_plain(text)


@FUZZ
@given(st.text(max_size=500))
def test_vmcoreinfo_text(text):
    try:
        parse_vmcoreinfo(text)
    except TriageError:
        pass
