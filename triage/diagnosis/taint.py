"""Kernel taint letters: the oops line's `Tainted:` string and per-module markers.

Table from kernel/panic.c `taint_flags[]` (bit order), which prints a letter
per set bit (or a space / 'G' for bit 0 clear).
"""

import re
from typing import Dict, List, Optional

# letter -> (bit, meaning)
TAINT_FLAGS: Dict[str, tuple] = {
    "P": (0, "proprietary module loaded"),
    "F": (1, "module force-loaded"),
    "S": (2, "CPU out of specification / SMP-unsafe kernel"),
    "R": (3, "module force-unloaded"),
    "M": (4, "machine check exception occurred"),
    "B": (5, "bad page referenced or unexpected page flags"),
    "U": (6, "taint requested by userspace"),
    "D": (7, "kernel died recently (an earlier OOPS or BUG)"),
    "A": (8, "ACPI table overridden by user"),
    "W": (9, "kernel issued a warning"),
    "C": (10, "staging driver loaded"),
    "I": (11, "working around a severe firmware bug"),
    "O": (12, "out-of-tree module loaded"),
    "E": (13, "unsigned module loaded"),
    "L": (14, "soft lockup occurred"),
    "K": (15, "kernel live patched"),
    "X": (16, "auxiliary taint (distribution-defined)"),
    "T": (17, "kernel built with the struct randomization plugin"),
    "N": (18, "in-kernel test module loaded"),
    "J": (19, "userspace used a mutating debug operation in fwctl"),
}


def taint_letters(taint: Optional[str]) -> List[str]:
    """The set taint letters of a `Tainted:` string, in kernel bit order.

    Accepts the fixed-width form ("G    W  O"), the compact one ("POE"),
    and the "Not tainted" case (no letters).
    """
    if not taint or taint.strip().lower().startswith("not tainted"):
        return []
    if "[" in taint:  # verbose form: "[P]=PROPRIETARY_MODULE, [O]=OOT_MODULE"
        present = set(re.findall(r"\[([A-Z])\]", taint))
    else:
        # the flags end where the release begins ("G    W  O      6.1.0 #1")
        present = set(re.split(r"[0-9#(]", taint, maxsplit=1)[0])
    present = {ch for ch in present if ch in TAINT_FLAGS}
    return sorted(present, key=lambda ch: TAINT_FLAGS[ch][0])


def decode_taint(taint: Optional[str]) -> List[str]:
    """Human lines, one per set flag: "P: proprietary module loaded"."""
    return [f"{ch}: {TAINT_FLAGS[ch][1]}" for ch in taint_letters(taint)]


def module_taint(letters: Optional[str]) -> Dict[str, Optional[bool]]:
    """What per-module markers ("POE") say about the module; None when unknown."""
    if letters is None:
        return {"out_of_tree": None, "proprietary": None, "unsigned": None}
    return {
        "out_of_tree": "O" in letters,
        "proprietary": "P" in letters,
        "unsigned": "E" in letters,
    }
