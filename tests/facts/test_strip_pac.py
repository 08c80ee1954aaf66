"""arm64 LR with a pointer authentication code (seen on a real Debian 6.1 arm64 dump:
the CPU stopped in arch_timer_read_cntvct_el0, a leaf, with LR 0x9ad3c61e71098e00
for __delay_cycles+0x5c); the DWARF oracle's stack has that caller, frame records do not."""

from triage.facts.collect import _strip_pac

TEXT = (0xFFFFC61E70010000, 0xFFFFC61E71A00000)
PC = 0xFFFFC61E71098D98


def test_signed_lr_gets_the_kernel_address_back():
    assert _strip_pac(0x9AD3C61E71098E00, PC, TEXT) == 0xFFFFC61E71098E00


def test_plain_lr_and_lr_outside_text_are_left_alone():
    assert _strip_pac(0xFFFFC61E71098E00, PC, TEXT) == 0xFFFFC61E71098E00
    assert _strip_pac(0x0000AAAAD0001234, PC, TEXT) == 0x0000AAAAD0001234    # user space: no text
    assert _strip_pac(None, PC, TEXT) is None
    assert _strip_pac(0x9AD3C61E71098E00, PC, (0, 0)) == 0x9AD3C61E71098E00  # text unknown: no guess
