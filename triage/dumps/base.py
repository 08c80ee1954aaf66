"""The one interface every dump-format reader implements.

A reader gives physical memory reads, a page-presence test, the VMCOREINFO text,
the ELF notes (for PRSTATUS registers) and facts about the file. Readers open
their files read-only and memory-map them; they never read a whole dump.
"""

from typing import Dict, List, Optional

from triage.datarecord import DataRecord, Factory


class Note(DataRecord):
    """One ELF note: name (without NUL), type, and descriptor bytes."""

    name: str
    type: int
    desc: bytes


class Damage(str):
    """A problem (DumpFacts.problems) that is damage to the file: a header field, page
    descriptor or program header holding what no writer writes, data of two segments
    overlapping. Any other problem is a cut or an unfinished dump. Said apart because
    "incomplete" sends the reader looking for a full disk, "damaged" for another copy;
    the kind is data, so no caller has to tell the two by the message's words."""

    __slots__ = ()


def with_path(path: str, problem: str) -> str:
    """`problem` prefixed with the file it is about, keeping its kind (Damage or not)."""
    text = f"{path}: {problem}"
    return Damage(text) if isinstance(problem, Damage) else text


class DumpFacts(DataRecord):
    """What a reader knows about its file, for `triage info`."""

    format: str                        # "elf", "kdump", "flattened-kdump", "flattened-elf", "text"
    compression: Optional[str] = None  # "zlib", "lzo", "snappy", "zstd", "mixed", "none"
    arch: Optional[str] = None         # "x86_64", "aarch64", ...
    page_size: Optional[int] = None
    dump_level: Optional[int] = None   # makedumpfile -d value, when the file records it
    pages_present: Optional[int] = None
    pages_total: Optional[int] = None
    complete: bool = True              # False when truncated or flagged incomplete
    problems: List[str] = Factory(list)   # why it is partial, for users (Damage: damage, not a cut)
    vmcoreinfo_source: Optional[str] = None              # e.g. "ELF PT_NOTE", "kdump sub-header"
    writer: Optional[str] = None       # "qemu", "kexec /proc/vmcore", "makedumpfile", ...
    header: Dict[str, object] = Factory(dict)  # format-specific header fields


class DumpReader:
    """Physical-memory view of one dump (possibly several split files)."""

    paths: List[str]

    def facts(self) -> DumpFacts:
        raise NotImplementedError

    def vmcoreinfo(self) -> Optional[str]:
        """The raw VMCOREINFO text, or None when the dump carries none."""
        raise NotImplementedError

    def notes(self) -> List[Note]:
        """All ELF notes (PRSTATUS per CPU, VMCOREINFO, QEMU, ...)."""
        raise NotImplementedError

    def read_phys(self, paddr: int, size: int) -> bytes:
        """Read `size` bytes at physical address `paddr`.

        Raises triage.errors.MemoryReadError when any page is absent
        (excluded by filtering, beyond a truncation, or never dumped).
        """
        raise NotImplementedError

    def has_page(self, pfn: int) -> bool:
        """True when the page frame is present in the dump."""
        raise NotImplementedError

    def header_utsname(self) -> Optional[Dict[str, str]]:
        """The utsname the dump's own header carries (kdump-compressed files written by
        makedumpfile), to be checked against init_uts_ns in memory; None when none."""
        return None

    def virtual_segments(self) -> List[tuple]:
        """(vaddr, paddr, size) ranges the file itself maps, if any (ELF PT_LOAD vaddrs)."""
        return []

    def phys_ranges(self) -> Optional[List[tuple]]:
        """(paddr, memsz, filesz) of each physical range the dump describes (an ELF
        dump's PT_LOADs; bytes past filesz were left out by the writer), or None
        when the format has no such list."""
        return None

    def pfn_ranges(self) -> Optional[List[tuple]]:
        """(first, one past last) page frames the dump holds, from its own index (the
        kdump bitmap), or None when the format has none (then ask has_page)."""
        return None

    def pfn_runs(self, lo: int, hi: int) -> Optional[List[tuple]]:
        """pfn_ranges() within [lo, hi), read from the index for that window only
        (time and memory follow the window, not the machine), or None likewise."""
        return None

    def next_pfn(self, pfn: int, end: int) -> Optional[int]:
        """The first page frame in [pfn, end) the dump holds, by its index; only for
        readers whose pfn_runs() is not None."""
        raise NotImplementedError

    def pfn_count(self, hi: int) -> int:
        """Page frames below `hi` the dump holds, by its index; only for readers
        whose pfn_runs() is not None."""
        raise NotImplementedError

    def max_pfn(self) -> int:
        """One past the highest page frame the dump covers (the kdump header's max_mapnr)."""
        mx = self.facts().header.get("max_mapnr")
        if not isinstance(mx, int) or mx < 0:
            from triage.errors import CorruptDumpError
            raise CorruptDumpError("the dump does not say how many page frames it covers")
        return mx

    def read_phys_bulk(self, paddr: int, size: int) -> bytes:
        """read_phys for large sequential reads (a walk over all of memory); readers
        may serve it without mapping the file's pages into this process."""
        return self.read_phys(paddr, size)

    def release_memory(self) -> None:
        """Drop this process's mapping of the file pages read so far (the page cache
        keeps them), so a walk over all of memory keeps RSS bounded."""

    def close(self) -> None:
        pass

    def __enter__(self) -> "DumpReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
