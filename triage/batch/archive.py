"""Read tar archives of crash directories in place, as streams.

Compressed tars (gzip, xz, zstd) cannot be seeked, so every operation is one
forward pass: listing reads the headers, reading a log member stops at it,
and extracting a vmcore member copies it in chunks into a size-checked file.
Nothing is ever held whole in memory except a log member under a size cap.
"""

import bz2  # noqa: F401 - tarfile's "r|*" needs it importable
import contextlib
import lzma
import shutil
import subprocess
import tarfile
import zlib
from typing import IO, Callable, Dict, Iterator, List, Optional, Tuple

from triage.errors import CorruptDumpError, FormatError, InputError

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".tar.bz2", ".tar")
_CHUNK = 1 << 20
_STREAM_ERRORS = (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError)


def is_archive(name: str) -> bool:
    """True for the tar archive names batch reads."""
    return name.endswith(ARCHIVE_SUFFIXES)


@contextlib.contextmanager
def _open_stream(path: str) -> Iterator[tarfile.TarFile]:
    f = open(path, "rb")
    try:
        if path.endswith((".tar.zst", ".tzst")):
            try:
                import zstandard
            except ImportError as exc:    # pragma: no cover - a declared dependency
                raise FormatError("reading .tar.zst needs the 'zstandard' package", path=path) from exc
            reader = zstandard.ZstdDecompressor().stream_reader(f)
            with tarfile.open(fileobj=reader, mode="r|") as tf:
                yield tf
        elif path.endswith(".tar"):
            # An uncompressed tar can be seeked: member bodies are skipped, not read.
            with tarfile.open(fileobj=f, mode="r:") as tf:
                yield tf
        else:
            with tarfile.open(fileobj=f, mode="r|*") as tf:
                yield tf
    except _STREAM_ERRORS as exc:
        raise FormatError(f"not a readable tar archive: {exc}", path=path) from exc
    except Exception as exc:
        if type(exc).__name__ == "ZstdError":
            raise FormatError(f"not a readable tar archive: zstd: {exc}", path=path) from exc
        raise
    finally:
        f.close()


def list_members(path: str) -> List[Tuple[str, int]]:
    """(name, size) of every regular file in the archive, in archive order."""
    members, err, _ = scan_members(path)
    if err is not None:
        raise err
    return members


def scan_members(path: str, keep: Optional[Callable[[str, int], bool]] = None,
                 budget: int = 0) -> Tuple[List[Tuple[str, int]], Optional[FormatError], Dict[str, bytes]]:
    """Like list_members, but a damaged archive gives the members read before
    the damage and the error, instead of nothing.

    Members for which `keep(name, size)` is true are read in the same pass
    (a compressed tar cannot be seeked: reading a log now saves decompressing
    the archive again for it), up to `budget` bytes in all.
    """
    out: List[Tuple[str, int]] = []
    kept: Dict[str, bytes] = {}

    def sink(name: str, size: int, data: Optional[bytes]) -> None:
        out.append((name, size))
        if data is not None:
            kept[name] = data
    err = scan_members_into(path, sink, keep, budget)
    return out, err, kept


def scan_members_into(path: str, sink: Callable[[str, int, Optional[bytes]], None],
                      keep: Optional[Callable[[str, int], bool]] = None, budget: int = 0) -> Optional[FormatError]:
    """scan_members one member at a time: `sink(name, size, bytes or None)` for each
    regular file, in archive order; returns the error of a damaged archive (the
    members before the damage were given) or None."""
    try:
        with _open_stream(path) as tf:
            for m in tf:
                # tarfile keeps every member it read: ~0.5 KiB each, for nothing here
                tf.members.clear()
                if not m.isfile():
                    continue
                data = None
                try:
                    if keep is not None and m.size <= budget and keep(m.name, m.size):
                        fo = tf.extractfile(m)
                        if fo is not None:
                            data = fo.read()
                            budget -= m.size
                except BaseException:
                    sink(m.name, m.size, None)      # listed, as the archive is, up to the damage
                    raise
                sink(m.name, m.size, data)
    except FormatError as exc:
        return exc
    except OSError as exc:
        return FormatError(f"cannot read archive: {exc.strerror or exc}", path=path)
    return None


def _find(tf: tarfile.TarFile, member: str, path: str) -> Tuple[tarfile.TarInfo, IO[bytes]]:
    for m in tf:
        if m.name == member and m.isfile():
            fo = tf.extractfile(m)
            if fo is None:
                break
            return m, fo
    raise InputError(f"member {member!r} not found in archive", path=path)


def read_member(path: str, member: str, limit: int) -> bytes:
    """The bytes of one member, read from the stream; InputError above `limit` bytes."""
    with _open_stream(path) as tf:
        info, fo = _find(tf, member, path)
        if info.size > limit:
            raise InputError(f"member {member!r} is {info.size} bytes, over the {limit}-byte log limit", path=path)
        return fo.read()


def extract_member(path: str, member: str, dest: str, limit: int) -> str:
    """Copy one member into the new file `dest`; InputError when it exceeds `limit` bytes.

    The check is made on the header size before any byte is written, and again
    while copying (a lying header cannot overrun the temporary space).
    """
    with _open_stream(path) as tf:
        info, fo = _find(tf, member, path)
        if info.size > limit:
            raise InputError(f"member {member!r} needs {info.size >> 20} MiB, over the "
                             f"{limit >> 20} MiB temporary-space limit", path=path)
        written = 0
        with open(dest, "xb") as out:
            while True:
                chunk = fo.read(_CHUNK)
                if not chunk:
                    break
                written += len(chunk)
                if written > limit:
                    raise InputError(f"member {member!r} exceeds the temporary-space limit", path=path)
                out.write(chunk)
    return dest




_OUTER = {b"\xfd7zXZ\x00": "xz", b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\x28\xb5\x2f\xfd": "zstd",
          b"\x04\x22\x4d\x18": "lz4"}


def outer_compression(path: str) -> Optional[str]:
    """The whole-file compression kdump-tools may add to a dump (KDUMP_COMPRESSION), or None."""
    with open(path, "rb") as f:
        head = f.read(6)
    for magic, name in _OUTER.items():
        if head.startswith(magic):
            return name
    return None


def _copy_bounded(src, out, limit: int, path: str) -> None:
    """Copy the stream `src` to `out`; InputError once more than `limit` bytes came."""
    written = 0
    while True:
        chunk = src.read(_CHUNK)
        if not chunk:
            return
        written += len(chunk)
        if written > limit:
            raise InputError(f"decompressed dump exceeds the {limit >> 20} MiB "
                             "temporary-space limit", path=path)
        out.write(chunk)


def _lz4_tool(path: str, dest: str, limit: int) -> str:
    proc = subprocess.Popen(["lz4", "-dc", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with open(dest, "xb") as out:
            _copy_bounded(proc.stdout, out, limit, path)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    err = proc.communicate()[1]     # end of output: let the tool finish and report
    if proc.returncode:
        raise CorruptDumpError(f"lz4 stream is damaged: {err.decode(errors='replace').strip()}", path=path)
    return dest


def decompress_file(path: str, dest: str, limit: int) -> str:
    """Stream-decompress a whole-file-compressed dump into `dest`, at most `limit` bytes."""
    kind = outer_compression(path)
    with open(path, "rb") as raw:
        if kind == "xz":
            src = lzma.open(raw)
        elif kind == "gzip":
            import gzip
            src = gzip.open(raw)
        elif kind == "bzip2":
            src = bz2.open(raw)
        elif kind == "zstd":
            import zstandard
            src = zstandard.ZstdDecompressor().stream_reader(raw)
        elif kind == "lz4" and shutil.which("lz4"):
            # no lz4 frame reader in the standard library: the lz4 tool streams it
            return _lz4_tool(path, dest, limit)
        else:
            raise FormatError(f"outer {kind or 'unknown'} compression is not supported; "
                              "decompress the file first", path=path)
        try:
            with src, open(dest, "xb") as out:
                _copy_bounded(src, out, limit, path)
        except (EOFError, zlib.error, lzma.LZMAError, OSError) as exc:
            raise CorruptDumpError(f"{kind} stream is damaged: {exc}", path=path) from exc
    return dest
