"""Backing stores: the byte space a dump reader parses, independent of how it is stored.

A plain file is a memory-mapped `FileStore`. A makedumpfile flattened stream is a
`FlatStore` (triage.dumps.flattened) that presents the file the stream describes,
read in place. Readers only use the small interface below, so every format reader
works on both.
"""

import errno
import mmap
import os
import stat
from typing import List, Optional

from triage.errors import InputError


class Store:
    """Random-access, read-only bytes of one (possibly virtual) dump file."""

    path: str
    size: int                     # logical size of the file the store presents
    complete: bool = True         # False when the underlying data is known to be cut short
    problems: List[str]

    def read(self, offset: int, length: int) -> bytes:
        """Bytes at offset; holes read as zeros; short only past `size`."""
        raise NotImplementedError

    def read_present(self, offset: int, length: int) -> Optional[bytes]:
        """Bytes at offset when every byte is backed by data in the file, else None."""
        raise NotImplementedError

    def present_extent(self, offset: int, length: int) -> int:
        """Bytes from `offset` (at most `length`) up to the last one backed by data.

        Holes before that read as zeros, as in the file the store presents; past it the
        data is missing (a truncated file). Bounds loops over ranges a header claims."""
        return max(0, min(length, self.size - offset))

    def next_present(self, offset: int) -> Optional[int]:
        """The first offset at or after `offset` backed by data, None when there is none:
        lets a walk over a hole-riddled range skip the holes in one step."""
        return max(0, offset) if offset < self.size else None

    # Sequence-style access (len, [i], [a:b]) so readers written against an mmap,
    # such as triage.dumps.elf.ElfReader(data=...), can parse a store directly.
    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(self.size)
            if step != 1:
                raise ValueError("stores support only contiguous slices")
            return self.read(start, stop - start)
        if key < 0:
            key += self.size
        b = self.read(key, 1)
        if not b:
            raise IndexError("store offset out of range")
        return b[0]

    def release(self, offset: int, length: int) -> None:
        """Hint that a range read once (a bitmap being counted) will not be needed soon."""

    def close(self) -> None:
        pass


def open_checked(path: str) -> int:
    """Open `path` read-only; InputError for missing, unreadable, directory or empty files."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot stat: {exc.strerror}", path=path) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory, not a dump file", path=path)
    if not stat.S_ISREG(st.st_mode):
        raise InputError("not a regular file", path=path)
    if st.st_size == 0:
        raise InputError("file is empty", path=path)
    try:
        return os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", path=path) from None


def _map_refused(exc: BaseException) -> bool:
    """ENOMEM from mmap: the address-space limit (ulimit -v, RLIMIT_AS) is smaller
    than the file. The mapping would use no memory; the file is read by pread(2)."""
    return isinstance(exc, OSError) and exc.errno == errno.ENOMEM


class FileStore(Store):
    """A regular file, memory-mapped read-only; read by pread(2) where the address-space
    limit leaves no room to map it (a dump larger than `ulimit -v`), so memory use is
    the same either way."""

    def __init__(self, path: str):
        self.path = path
        self.problems = []
        fd = open_checked(path)
        self._mm = None
        try:
            self.size = os.fstat(fd).st_size
            self._mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            if not _map_refused(exc):
                os.close(fd)
                raise InputError(f"cannot map file: {exc}", path=path) from None
        # kept open for lseek(SEEK_DATA): next_present finds the holes of a sparse file
        self._fd = fd
        if self._mm is None:
            return
        try:
            # Dump reads are scattered (record headers, descriptors, single pages):
            # read-ahead would only multiply the bytes brought in from disk.
            self._mm.madvise(mmap.MADV_RANDOM)
        except (AttributeError, OSError, ValueError):
            pass

    @property
    def mapped(self) -> bool:
        """Whether the file is memory-mapped (else read by pread)."""
        return self._mm is not None

    def _pread(self, offset: int, length: int) -> bytes:
        parts = []
        while length > 0:
            chunk = os.pread(self._fd, min(length, 1 << 30), offset)
            if not chunk:
                break
            parts.append(chunk)
            offset += len(chunk)
            length -= len(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0 or offset >= self.size:
            return b""
        if self._mm is None:
            return self._pread(offset, min(length, self.size - offset))
        return self._mm[offset:offset + length]

    def read_present(self, offset: int, length: int) -> Optional[bytes]:
        if offset < 0 or offset + length > self.size:
            return None
        if self._mm is None:
            data = self._pread(offset, length)
            return data if len(data) == length else None
        return self._mm[offset:offset + length]

    def next_present(self, offset: int) -> Optional[int]:
        """The next offset holding data: a sparse file's holes (a few KB on disk whose
        header claims a bitmap of terabytes) are skipped in one step, as a flattened
        stream's are; without SEEK_DATA every offset counts as data."""
        if offset >= self.size:
            return None
        offset = max(0, offset)
        seek_data = getattr(os, "SEEK_DATA", None)
        if seek_data is None or self._fd is None:
            return offset
        try:
            return os.lseek(self._fd, offset, seek_data)
        except OSError as exc:
            # ENXIO: only a hole from here to the end; any other error: the offset is data
            return None if exc.errno == errno.ENXIO else offset

    def buffer(self):
        """The read-only mapping itself, for struct.unpack_from over many small fields
        (None when the file is read by pread)."""
        return self._mm

    def release(self, offset: int, length: int) -> None:
        """Drop our mapping of a range we walked (the page cache keeps it): a walk that
        touches one small field per page would otherwise grow RSS by a page each time.

        The walk goes through the mapping rather than pread(2) because MADV_RANDOM
        also stops the kernel's asynchronous read-ahead, which a pread walk would
        trigger from the marker pages left by an earlier buffered read of the file head.
        """
        if self._mm is None:
            return
        start = offset - offset % mmap.PAGESIZE
        end = offset + length - (offset + length) % mmap.PAGESIZE
        if end > start:
            try:
                self._mm.madvise(mmap.MADV_DONTNEED, start, end - start)
            except (AttributeError, OSError, ValueError):
                pass

    def close(self) -> None:
        mm, self._mm = getattr(self, "_mm", None), None
        if mm is not None:
            mm.close()
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            os.close(fd)

