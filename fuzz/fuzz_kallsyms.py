"""Fuzz target: the kallsyms image scanner and names decoder (triage.facts.kallsyms_scan).

The input is the kernel's _stext (8 bytes, as the scan is told it) followed by
a kernel image slice the scan searches: the seeds are real tables cut to 264
symbols (fuzz/make_facts_seeds.py). After a scan
that finds tables, every name is decoded with the tokens it found; the raw input
is also decoded as a names blob with the real token table of the first seed.
"""

import struct
from pathlib import Path

from _harness import instrumented, run

with instrumented():
    from triage.facts.kallsyms_scan import KallsymsScanError, decode_names, scan_kallsyms

BASE = 0xFFFFFFFF82000000
SEEDS = Path(__file__).resolve().parent / "seeds" / "kallsyms"


def _real_tokens():
    """The token table of a real seed, for decoding arbitrary names blobs."""
    for p in sorted(SEEDS.iterdir()):
        data = p.read_bytes()
        index = struct.unpack("<256H", data[-512:])
        start = data.rfind(b"0\x001\x002\x003\x00") - index[0x30]
        return [data[start + i:data.index(b"\0", start + i)] for i in index]
    return [bytes([i]) for i in range(256)]


TOKENS = _real_tokens()


def test_one(data: bytes) -> None:
    if len(data) < 8:
        return
    (stext,) = struct.unpack("<Q", data[:8])
    image = data[8:]

    def read(vaddr: int, size: int) -> bytes:
        # memory outside the slice reads as zeros, like pages absent from a dump
        o = vaddr - BASE
        if size <= 0:
            return b""
        head = bytes(min(-o, size)) if o < 0 else b""
        return (head + image[max(o, 0):o + size]).ljust(size, b"\0")

    try:
        loc = scan_kallsyms(read, BASE, stext, len(image))
    except KallsymsScanError:
        pass
    else:
        index = struct.unpack("<256H", read(loc.kallsyms_token_index, 512))
        table = read(loc.kallsyms_token_table, index[255] + 65)
        tokens = [table[i:table.index(b"\0", i)] for i in index]
        names = read(loc.kallsyms_names, loc.kallsyms_markers - loc.kallsyms_names)
        assert len(decode_names(names, loc.num_syms, tokens, loc.long_names)) == loc.num_syms
    try:
        decode_names(data[:2048], 256, TOKENS, bool(data[0] & 1))
    except KallsymsScanError:
        pass


if __name__ == "__main__":
    run(test_one)
