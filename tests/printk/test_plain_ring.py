"""The plain character ring of kernels before 3.5, built here to the kernel's rules
(kernel/printk.c of 3.4: log_end counts every character, index = log_end & (len-1)).
No real pre-3.5 dump exists in this project; the oracle is the text written."""

import struct

from triage.dumps.vmcoreinfo import parse_vmcoreinfo
from triage.printk.plain import decode_plain, read_plain, split_plain
from triage.printk.reader import buffer_kind


def _write(text: bytes, size: int):
    buf = bytearray(size)
    for i, b in enumerate(text):
        buf[i & (size - 1)] = b
    return bytes(buf), len(text)


def test_unwrapped_and_wrapped():
    lines = b"".join(b"<6>[    %d.000000] line %d\n" % (i, i) for i in range(40))
    buf, end = _write(lines, 1 << 12)
    assert decode_plain(buf, end) == lines
    buf, end = _write(lines, 1 << 9)                  # wraps: only the newest 512 bytes survive
    text = decode_plain(buf, end)
    assert len(text) == 512 and lines.endswith(text)
    recs = split_plain(text)
    assert recs[-1].text == b"<6>[    39.000000] line 39" and recs[-1].level == 6
    assert recs[-1].ts_nsec == 39 * 10**9


class _Mem:
    pointer_size = 8

    def __init__(self, blobs):
        self.blobs = blobs

    def read(self, addr, size):
        for base, data in self.blobs.items():
            if base <= addr and addr + size <= base + len(data):
                return data[addr - base:addr - base + size]
        raise AssertionError(hex(addr))

    def read_pointer(self, addr):
        return struct.unpack("<Q", self.read(addr, 8))[0]

    def read_u32(self, addr):
        return struct.unpack("<I", self.read(addr, 4))[0]

    def read_tolerant(self, addr, size):
        return self.read(addr, size), []


def test_read_plain_through_memory():
    text = b"<4>old line\n<6>newer line\n"
    buf, end = _write(text, 1 << 10)
    info = parse_vmcoreinfo("SYMBOL(log_buf)=1000\nSYMBOL(log_buf_len)=2000\nSYMBOL(log_end)=3000\n")
    assert buffer_kind(info) == "plain"
    mem = _Mem({0x1000: struct.pack("<Q", 0x9000), 0x2000: struct.pack("<I", 1 << 10),
                0x3000: struct.pack("<I", end), 0x9000: buf})
    got, problems, partial = read_plain(mem, info)
    assert got == text and not problems and not partial
