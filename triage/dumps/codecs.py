"""Page codecs of makedumpfile's kdump-compressed format.

zlib comes from the standard library; lzo (lzallright), snappy and zstd (cramjam)
are imported on first use so that reading an uncompressed or zlib dump pays
nothing for them. A missing library is a FormatError that names the package.

No decoder may allocate more than one page from an untrusted length: zlib streams
through a decompressobj capped at the page size; snappy and zstd decode into a
page-sized buffer (cramjam's *_into calls fail instead of growing it); lzo has no
capped call in lzallright, so its output is bounded by its input, which the
readers keep under one page (writers only store a page compressed when that makes
it smaller), and by LZO1X's maximum expansion of about 256 times.
"""

import zlib
from typing import Callable, Dict, Optional

from triage.errors import CorruptDumpError, FormatError

# page_desc.flags bits (makedumpfile diskdump_mod.h)
DUMP_DH_COMPRESSED_ZLIB = 0x1
DUMP_DH_COMPRESSED_LZO = 0x2
DUMP_DH_COMPRESSED_SNAPPY = 0x4
DUMP_DH_COMPRESSED_INCOMPLETE = 0x8   # header status bit, not a page flag
DUMP_DH_EXCLUDED_VMEMMAP = 0x10
DUMP_DH_COMPRESSED_ZSTD = 0x20

CODEC_FLAGS = {
    DUMP_DH_COMPRESSED_ZLIB: "zlib",
    DUMP_DH_COMPRESSED_LZO: "lzo",
    DUMP_DH_COMPRESSED_SNAPPY: "snappy",
    DUMP_DH_COMPRESSED_ZSTD: "zstd",
}
_PACKAGES = {"lzo": "lzallright", "snappy": "cramjam", "zstd": "cramjam"}

_cache: Dict[str, Callable[[bytes, int], bytes]] = {}


# The only page_desc.flags values writers use: makedumpfile and QEMU set one codec bit,
# or none for a page stored raw, and never another bit (page_desc.page_flags is apart).
_CODEC_OF_FLAGS = {0: "none", **CODEC_FLAGS}


def codec_name(flags: int) -> Optional[str]:
    """Name of the compression a page_desc.flags value announces ("none" if none);
    None for a value no writer writes (flags_damage says why): a damaged flags field,
    not damaged page data."""
    return _CODEC_OF_FLAGS.get(flags)


def flags_damage(flags: int) -> str:
    """Why a page_desc.flags value is no writer's: several codec bits, unknown bits."""
    codecs = [name for bit, name in CODEC_FLAGS.items() if flags & bit]
    unknown = flags & ~sum(CODEC_FLAGS)
    why = []
    if len(codecs) > 1:
        why.append("several codec bits (" + ", ".join(codecs) + ")")
    if unknown:
        why.append(f"unknown bits {unknown:#x}")
    return " and ".join(why) or "a valid value"


def _zlib(data: bytes, size: int) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(data, size + 1)   # one byte more than a page tells "too long"
    if len(out) > size:
        raise ValueError(f"inflates past {size} bytes")
    return out


def _capped(fn: Callable) -> Callable[[bytes, int], bytes]:
    """A cramjam *_into decoder run into a buffer of exactly one page."""
    def run(data: bytes, size: int) -> bytes:
        out = bytearray(size)
        n = fn(data, out)
        return bytes(out[:n])
    return run


def _load(name: str) -> Callable[[bytes, int], bytes]:
    if name == "zlib":
        return _zlib
    try:
        if name == "lzo":
            import lzallright
            comp = lzallright.LZOCompressor

            def _lzo(data: bytes, size: int) -> bytes:
                return comp.decompress(data, output_size_hint=size)
            return _lzo
        import cramjam
        if name == "snappy":
            return _capped(cramjam.snappy.decompress_raw_into)
        if name == "zstd":
            return _capped(cramjam.zstd.decompress_into)
    except ImportError:
        raise FormatError(f"pages are {name}-compressed; install the Python package "
                          f"'{_PACKAGES[name]}' to read them") from None
    raise FormatError(f"unknown page compression {name}")


def decoder(name: str) -> Callable[[bytes, int], bytes]:
    """The raw decoder of a codec, fn(data, page_size) -> bytes: it may raise anything
    on bad data and its result may have any length (decompress checks both). For
    loops over many pages; FormatError when the codec's package is missing."""
    fn = _cache.get(name)
    if fn is None:
        fn = _cache[name] = _load(name)
    return fn


def decompress(name: str, data: bytes, page_size: int, *, offset: int = None) -> bytes:
    """Decompress one page; the result must be exactly page_size bytes.

    Raises CorruptDumpError (with the file offset) when the data does not decode.
    """
    fn = decoder(name)
    try:
        out = fn(data, page_size)
    except FormatError:
        raise
    except Exception as exc:  # each library has its own error type
        raise CorruptDumpError(f"{name} page data does not decompress ({exc})", offset=offset) from None
    if len(out) != page_size:
        raise CorruptDumpError(f"{name} page decompressed to {len(out)} bytes, expected {page_size}",
                               offset=offset)
    return out
