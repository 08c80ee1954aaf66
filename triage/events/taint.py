"""Kernel taint letters (kernel/panic.c taint_flags) decoded for humans."""

from typing import List

TAINT_LETTERS = {
    "P": "proprietary module loaded",
    "F": "module force-loaded",
    "S": "CPU out of spec / SMP-unsafe",
    "R": "module force-unloaded",
    "M": "machine check occurred",
    "B": "bad page referenced",
    "U": "taint requested by user space",
    "D": "kernel died recently (oops or BUG)",
    "A": "ACPI table overridden",
    "W": "kernel issued a warning",
    "C": "staging driver loaded",
    "I": "firmware bug workaround applied",
    "O": "out-of-tree module loaded",
    "E": "unsigned module loaded",
    "L": "soft lockup occurred",
    "K": "kernel live-patched",
    "X": "auxiliary (distribution) taint",
    "T": "built with struct randomization",
    "N": "in-kernel test module loaded",
    "J": "fwctl mutating command used",
}


def decode_taint(taint: str) -> List[str]:
    """"P  B D W  OE" -> ["P: proprietary module loaded", ...]; "G"/spaces carry no flag."""
    out: List[str] = []
    seen = set()
    for ch in (taint or "")[:40]:
        if ch in TAINT_LETTERS and ch not in seen:
            seen.add(ch)
            out.append(f"{ch}: {TAINT_LETTERS[ch]}")
    return out
