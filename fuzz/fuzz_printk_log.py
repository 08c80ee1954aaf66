"""Fuzz target: the struct printk_log buffer decoder (Linux 3.5-5.9).

Input: 2 bytes log_first_idx, 2 bytes log_next_idx, 1 byte choosing a layout
(real 64-bit layouts with and without dict_len/caller_id), then the buffer.
"""

from _harness import run
from triage.printk.format import record_lines
from triage.printk.structured import PrintkLogLayout, decode_printk_log

LAYOUTS = [
    PrintkLogLayout(size=16, ts_nsec=0, len=8, text_len=10, dict_len=12),                 # 3.11-5.9
    PrintkLogLayout(size=16, ts_nsec=0, len=8, text_len=10, dict_len=12, caller_id=None),
    PrintkLogLayout(size=24, ts_nsec=0, len=8, text_len=10, dict_len=12, caller_id=16),   # 5.1+ caller id
    PrintkLogLayout(size=16, ts_nsec=0, len=8, text_len=10),
]


def test_one(data: bytes) -> None:
    if len(data) < 6:
        return
    first = int.from_bytes(data[0:2], "little")
    nxt = int.from_bytes(data[2:4], "little")
    lay = LAYOUTS[data[4] % len(LAYOUTS)]
    buf = data[5:]
    if not buf:
        return
    records, _problems = decode_printk_log(lay, buf, first % (len(buf) + 8), nxt % (len(buf) + 8))
    for rec in records:
        record_lines(rec)


if __name__ == "__main__":
    run(test_one)
