"""Page codecs: each decoder against the reference encoder of another library.

Oracles: zlib (stdlib), lzallright's LZO1X compressor, cramjam's raw snappy and
zstd compressors.
"""

import builtins
import zlib

import pytest

from triage.dumps import codecs
from triage.errors import CorruptDumpError, FormatError

PAGE = bytes(range(256)) * 12 + b"kernel page " * 85 + bytes(4)


def _encoders():
    import cramjam
    import lzallright
    return {
        "zlib": zlib.compress,
        "lzo": lambda b: bytes(lzallright.LZOCompressor().compress(b)),
        "snappy": lambda b: bytes(cramjam.snappy.compress_raw(b)),
        "zstd": lambda b: bytes(cramjam.zstd.compress(b)),
    }


@pytest.mark.parametrize("name", ["zlib", "lzo", "snappy", "zstd"])
def test_roundtrip(name):
    assert len(PAGE) == 4096
    assert codecs.decompress(name, _encoders()[name](PAGE), 4096) == PAGE


@pytest.mark.parametrize("name", ["zlib", "lzo", "snappy", "zstd"])
def test_garbage_is_corrupt_with_offset(name):
    with pytest.raises(CorruptDumpError) as exc:
        codecs.decompress(name, b"\xff" * 40, 4096, offset=0x1234)
    assert exc.value.offset == 0x1234


def test_wrong_length_is_corrupt():
    with pytest.raises(CorruptDumpError):
        codecs.decompress("zlib", zlib.compress(b"x" * 100), 4096)


def test_flag_names():
    assert codecs.codec_name(0x1) == "zlib"
    assert codecs.codec_name(0x2) == "lzo"
    assert codecs.codec_name(0x4) == "snappy"
    assert codecs.codec_name(0x20) == "zstd"
    assert codecs.codec_name(0) == "none"


def test_missing_library_names_the_package(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *a, **kw):
        if name in ("cramjam", "lzallright"):
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(codecs, "_cache", {})
    with pytest.raises(FormatError, match="cramjam"):
        codecs.decompress("zstd", b"x", 4096)
    with pytest.raises(FormatError, match="lzallright"):
        codecs.decompress("lzo", b"x", 4096)
