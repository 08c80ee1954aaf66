"""Fuzz target: the plain character ring of kernels before 3.5 (wrap by log_end, `<N>[ s.us]` prefixes)."""

from _harness import run
from triage.printk.format import record_lines
from triage.printk.plain import decode_plain, split_plain


def test_one(data: bytes) -> None:
    if len(data) < 5:
        return
    log_end = int.from_bytes(data[:4], "little")
    buf = data[4:]
    size = 1 << (len(buf) - 1).bit_length()
    buf = buf.ljust(size, b"\0")
    for rec in split_plain(decode_plain(buf, log_end)):
        record_lines(rec)


if __name__ == "__main__":
    run(test_one)
