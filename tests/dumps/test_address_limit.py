"""A dump larger than the address-space limit is read, not refused, and a hole after
a flattened stream ends its walk.

Hostile campaign (session 8), run as the brief says (`prlimit --as=1500M`): every
dump file larger than the limit was "cannot map file: [Errno 12] Cannot allocate
memory" (exit 3), a real 4 GiB dump as much as a sparse hostile one, although the
mapping costs no memory. Now FileStore reads such a file by pread(2) (the ELF reader
parses it through the store). And 1 MiB of the committed flattened stream followed by
a hole of 1 TiB never finished (no limit: the walk read 16 bytes of zeros at a time),
nor did it on main.
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
import hostile_dumps  # noqa: E402
from child_cli import run_child  # noqa: E402

from triage.dumps import flattened  # noqa: E402
from triage.dumps.flattened import FlatStore  # noqa: E402
from triage.dumps.store import FileStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "sample_dumps" / "committed"
DUMPS = {"kdump": COMMITTED / "gpu_alloc_null-kdump-lzo" / "vmcore",
         "flattened": COMMITTED / "oom_panic-qemu-flat-zlib-nokaslr" / "vmcore.flat"}
LIMIT = 1 << 30          # 1 GiB of address space: the interpreter and triage fit, 4 GiB do not


def _padded(tmp_path, data: bytes, name: str) -> Path:
    p = tmp_path / name
    with open(p, "wb") as f:
        f.write(data)
        f.truncate(4 << 30)          # sparse: 4 GiB of file, a few MB on disk
    return p


@pytest.mark.parametrize("kind", ["kdump", "flattened", "elf"])
def test_dump_larger_than_the_address_limit_is_read(tmp_path, kind):
    if kind == "elf":
        data = hostile_dumps.elf()
    else:
        if not DUMPS[kind].exists():
            pytest.skip("committed dump missing")
        data = DUMPS[kind].read_bytes()
    plain = tmp_path / "plain"
    plain.write_bytes(data)
    big = _padded(tmp_path, data, "vmcore")
    want = run_child(["dmesg", str(plain)], tmp_path, as_limit=LIMIT)
    assert want.rc == 0 and want.stdout, want.stderr
    got = run_child(["dmesg", str(big)], tmp_path, as_limit=LIMIT)
    assert got.rc == 0, got.stderr
    assert got.stdout == want.stdout


def test_pread_store_reads_as_the_mapping(tmp_path, monkeypatch):
    data = os.urandom(1 << 16)
    p = tmp_path / "f"
    p.write_bytes(data)
    mapped = FileStore(str(p))
    monkeypatch.setattr("mmap.mmap", lambda *a, **k: (_ for _ in ()).throw(OSError(12, "Cannot allocate memory")))
    unmapped = FileStore(str(p))
    assert mapped.mapped and not unmapped.mapped
    for off, n in [(0, 10), (100, 5000), ((1 << 16) - 3, 10), (1 << 16, 1), (-1, 4)]:
        assert unmapped.read(off, n) == mapped.read(off, n)
        assert unmapped.read_present(off, n) == mapped.read_present(off, n)
    assert unmapped[5:9] == data[5:9] and unmapped[7] == data[7]


def test_hole_after_a_flattened_stream_ends_the_walk(tmp_path):
    """16 MiB of hole: a million 16-byte steps before; now it stops after a run of
    MAX_EMPTY_RUN empty records and says so (the walk on main read a 1 TiB hole for
    hours)."""
    if not DUMPS["flattened"].exists():
        pytest.skip("committed dump missing")
    p = tmp_path / "vmcore.flat"
    with open(p, "wb") as f:
        f.write(DUMPS["flattened"].read_bytes()[:1 << 20])
        f.truncate(17 << 20)
    store = FlatStore(FileStore(str(p)))
    assert not store.complete
    assert any(f"{flattened.MAX_EMPTY_RUN} empty records in a row" in m for m in store.problems), store.problems
