"""makedumpfile as the oracle of the page census: run `makedumpfile -d 31
--message-level 31` on a dump and read its per-class page counts (used by
tests/facts/test_census.py and bench/census_bench.py).

makedumpfile (1.7.2) reads an ELF's program headers as if they followed the ELF
header; QEMU's dump-guest-memory writes section headers there first, so for QEMU
dumps makedumpfile gets a copy whose program headers are moved (same headers,
same memory bytes).
"""

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[2]

# makedumpfile report line -> census key
REPORT = {"Pages filled with zero": "zero", "Non-private cache pages": "cache",
          "Private cache pages": "cache_private", "User process data pages": "user",
          "Free pages": "free", "Hwpoison pages": "hwpoison", "Offline pages": "offline",
          "Total pages": "total_pages", "Original pages": "original", "Memory Hole": "memory_hole"}


# makedumpfile's words when it cannot read a dump's configuration at all (no page
# counts to compare): Debian 12's 1.7.2 on 16K pages with 52-bit VAs, upstream's
# own page-table walk on them
CANNOT_READ = ("not supported", "Can't convert a virtual address")


class MakedumpfileFailed(AssertionError):
    """makedumpfile exited non-zero; `refused` is its line saying it cannot read
    the dump's configuration (CANNOT_READ), else None."""

    def __init__(self, text: str):
        super().__init__(text[-2000:])
        self.refused = next((ln.strip() for ln in text.splitlines() if any(w in ln for w in CANNOT_READ)),
                            None)


def arm64_makedumpfile() -> Tuple[Optional[List[str]], str]:
    """(command, "") running Debian's arm64 makedumpfile on this host under
    qemu-user, or (None, why not). It is the one `sample_dumps/generate --arch
    arm64` unpacks into its sysroot (sample_dumps/cache/sysroot-arm64;
    TRIAGE_ARM64_SYSROOT names another) and runs the same way for its dmesg
    oracle; the host's x86 makedumpfile cannot read arm64 dumps.
    TRIAGE_ARM64_MAKEDUMPFILE names another arm64 makedumpfile binary (a static
    build of upstream's, which reads 16K-page dumps Debian 12's 1.7.2 declines)."""
    root = Path(os.environ.get("TRIAGE_ARM64_SYSROOT") or ROOT / "sample_dumps" / "cache" / "sysroot-arm64")
    own = os.environ.get("TRIAGE_ARM64_MAKEDUMPFILE")
    binary = Path(own) if own and Path(own).is_file() else \
        next((p for p in (root / "usr/bin/makedumpfile", root / "usr/sbin/makedumpfile") if p.is_file()), None)
    if binary is None:
        return None, (f"no arm64 makedumpfile in {root} (made by sample_dumps/generate --arch arm64; "
                      "TRIAGE_ARM64_SYSROOT names another sysroot)")
    runner = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
    if runner is None:
        return None, "no qemu-aarch64(-static) to run the arm64 makedumpfile (Debian: qemu-user-static)"
    return [runner, "-L", str(root), str(binary)], ""


def makedumpfile_counts(dump: Path, tmp: Path, extra: Optional[List[str]] = None,
                        command: Sequence[str] = ("makedumpfile",)) -> Dict[str, int]:
    """The page counts makedumpfile -d 31 reports for `dump` (its output goes to
    `tmp`); `command` runs another makedumpfile (arm64_makedumpfile()'s)."""
    out = tmp / "filtered"
    if out.exists():
        out.unlink()
    cmd = list(command) + ["-d", "31", "--message-level", "31"] + (extra or []) + [str(dump), str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    text = (res.stdout + res.stderr).replace("\r", "\n")
    if out.exists():
        out.unlink()            # only the report is wanted: a filtered copy can be ~100 MB
    if res.returncode != 0:
        raise MakedumpfileFailed(text)
    counts = {}
    for label, key in REPORT.items():
        m = re.search(rf"^\s*{re.escape(label)}\s*:\s*0x([0-9a-f]+)", text, re.M)
        assert m, f"no {label!r} in makedumpfile's report"
        counts[key] = int(m.group(1), 16)
    return counts


def phdrs_after_ehdr(dump: Path, tmp: Path) -> Path:
    """`dump` itself when its program headers follow the ELF header, else a copy
    with them moved there (and the section headers dropped)."""
    with open(dump, "rb") as f:
        eh = bytearray(f.read(64))
        phoff, = struct.unpack_from("<Q", eh, 32)
        if phoff == 64:
            return dump
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    first_data = min(struct.unpack_from("<Q", ph, i * phentsize + 8)[0] for i in range(phnum))
    assert 64 + len(ph) <= first_data, "no room to move the program headers"
    copy = tmp / "moved-phdrs.elf"
    shutil.copyfile(dump, copy)
    struct.pack_into("<QQ", eh, 32, 64, 0)            # e_phoff, e_shoff
    struct.pack_into("<H", eh, 52, 64)                # e_ehsize
    struct.pack_into("<HHH", eh, 58, 0, 0, 0)         # e_shentsize, e_shnum, e_shstrndx
    with open(copy, "r+b") as f:
        f.write(eh)
        f.write(ph)
    return copy


