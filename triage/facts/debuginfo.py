"""Find a DWARF vmlinux that matches a dump, where distributions install it.

Looked for under a search root (default `/`), in this order:

    usr/lib/debug/.build-id/xx/rest.debug      (the dump's BUILD-ID from VMCOREINFO)
    usr/lib/debug/boot/vmlinux-<release>       (Debian/Ubuntu -dbg/-dbgsym packages)
    usr/lib/debug/lib/modules/<release>/vmlinux (RHEL/Fedora kernel-debuginfo)
    boot/vmlinux-<release>
    lib/modules/<release>/build/vmlinux        (a kernel build tree)

A candidate is used only when it matches the dump: the same GNU build id as
VMCOREINFO's BUILD-ID, or, when the dump has no BUILD-ID (kernels before 5.9),
a `Linux version <release> ` banner in the file; and only when it has DWARF
(a .debug_info section: /boot/vmlinux-<release> is often stripped, and drgn
would take its ELF symbols alone, with no types). Every candidate
that exists but does not match is reported with the reason. debuginfod is
asked (through drgn's own finder, triage.facts.program) only when the user
configured it with DEBUGINFOD_URLS; nothing here touches the network.
"""

import mmap
import os
import struct
from dataclasses import dataclass, field
from typing import List, Optional

from triage.dumps.kdump import parse_elf_notes

MAX_SECTIONS = 1 << 16        # vmlinux has ~80 sections; debug files a few more
MAX_NOTE_BYTES = 1 << 20
NT_GNU_BUILD_ID = 3
SHT_NOTE = 7
SHT_NOBITS = 8
ELF_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
SECTION_HEADER = struct.Struct("<IIQQQQIIQQ")


@dataclass
class Search:
    """What the debuginfo search found: `path` (None when nothing matched), how, and
    every candidate rejected, each as `path: reason`."""

    path: Optional[str] = None
    how: Optional[str] = None            # "--vmlinux", "search", "debuginfod"
    rejected: List[str] = field(default_factory=list)


def candidates(root: str, release: Optional[str], build_id: Optional[str]) -> List[str]:
    """The standard debuginfo paths for the dump's release and build id, under `root`."""
    out = []
    if build_id and len(build_id) > 2 and all(c in "0123456789abcdef" for c in build_id.lower()):
        bid = build_id.lower()
        out.append(os.path.join(root, "usr/lib/debug/.build-id", bid[:2], bid[2:] + ".debug"))
    # a release is one path component: anything else in VMCOREINFO is not followed
    if release and "/" not in release and release not in (".", ".."):
        out += [os.path.join(root, "usr/lib/debug/boot", "vmlinux-" + release),
                os.path.join(root, "usr/lib/debug/lib/modules", release, "vmlinux"),
                os.path.join(root, "boot", "vmlinux-" + release),
                os.path.join(root, "lib/modules", release, "build/vmlinux")]
    return out


def _sections(mm: "mmap.mmap"):
    """(type, offset, size, name) of each ELF64 little-endian section; [] when not ELF64."""
    if len(mm) < ELF_HEADER.size or mm[:4] != b"\x7fELF" or mm[4] != 2 or mm[5] != 1:
        return []
    h = ELF_HEADER.unpack_from(mm, 0)
    shoff, shentsize, shnum = h[6], h[11], h[12]
    if shnum == 0 and shoff and shoff + SECTION_HEADER.size <= len(mm):
        shnum = SECTION_HEADER.unpack_from(mm, shoff)[5]       # extended numbering: sh_size of section 0
    if not shoff or shentsize < SECTION_HEADER.size or not 0 < shnum <= MAX_SECTIONS \
            or shoff + shnum * shentsize > len(mm):
        return []
    raw = [SECTION_HEADER.unpack_from(mm, shoff + i * shentsize)[:6] for i in range(shnum)]
    shstrndx = h[13]
    if shstrndx == 0xFFFF and raw:
        shstrndx = SECTION_HEADER.unpack_from(mm, shoff)[7]     # extended: sh_link of section 0
    names_off, names_size = (raw[shstrndx][4], raw[shstrndx][5]) if shstrndx < len(raw) else (0, 0)
    if names_off + names_size > len(mm):
        names_size = 0

    def name(at: int) -> str:
        if not 0 <= at < names_size:
            return ""
        end = mm.find(b"\0", names_off + at, names_off + names_size)
        return mm[names_off + at:end if end >= 0 else names_off + names_size].decode("latin-1")
    return [(stype, off, size, name(noff)) for noff, stype, _flags, _addr, off, size in raw]


def elf_build_id(path: str) -> Optional[str]:
    """The GNU build id (hex) of an ELF64 file's note sections; None when it has none."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        for stype, off, size, _ in _sections(mm):
            if stype != SHT_NOTE or size > MAX_NOTE_BYTES or off + size > len(mm):
                continue
            for note in parse_elf_notes(mm[off:off + size], off):
                if note.name == "GNU" and note.type == NT_GNU_BUILD_ID and note.desc:
                    return bytes(note.desc).hex()
    return None


def has_dwarf(path: str) -> bool:
    """Whether the ELF file has a non-empty .debug_info (or zlib-compressed .zdebug_info) section."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return any(name in (".debug_info", ".zdebug_info") and size > 0 and stype != SHT_NOBITS
                   for stype, _off, size, name in _sections(mm))


def _has_banner(path: str, release: str) -> bool:
    """Whether the file holds `Linux version <release> ` (linux_banner) anywhere."""
    needle = b"Linux version " + release.encode() + b" "
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return mm.find(needle) >= 0


def mismatch(path: str, release: Optional[str], build_id: Optional[str]) -> Optional[str]:
    """Why the file at `path` is not the dump's vmlinux; None when it matches."""
    try:
        if not os.path.isfile(path):
            return "not a regular file"
        if os.path.getsize(path) == 0:
            return "empty file"
        got = elf_build_id(path)
        if build_id:
            if got is None:
                return "not an ELF file with a GNU build id"
            if got != build_id.lower():
                return f"build id {got} is not the dump's {build_id.lower()}"
        elif not release:
            return "the dump has neither BUILD-ID nor OSRELEASE in VMCOREINFO to match against"
        elif not _has_banner(path, release):
            return f"no 'Linux version {release}' banner in the file (the dump has no BUILD-ID)"
        if not has_dwarf(path):
            return "no DWARF in it (no .debug_info section: a stripped vmlinux)"
        return None
    except (OSError, ValueError) as exc:
        return f"cannot read it: {getattr(exc, 'strerror', None) or exc}"


def find_vmlinux(release: Optional[str], build_id: Optional[str], root: str = "/") -> Search:
    """The first standard-path vmlinux under `root` matching the dump (see the module docstring)."""
    found = Search()
    for path in candidates(root, release, build_id):
        if not os.path.lexists(path):
            continue
        why = mismatch(path, release, build_id)
        if why is None:
            found.path, found.how = path, "search"
            return found
        found.rejected.append(f"{path}: {why}")
    return found
