"""The BTF parser against bpftool (libbpf), an independent reader, on the BTF blob
of a real dump; and its refusal of damaged blobs with a stated reason.

The blob is read from the committed Debian 6.1 dump (between kallsyms
__start_BTF and __stop_BTF). bpftool's raw dump lists every type with its kind,
name, size, members (name, type id, bit offset, bitfield size), enumerators,
array shape and referenced type: each is compared with triage.facts.btf.
"""

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from triage.facts import btf as B

ROOT = Path(__file__).resolve().parents[2]
LZO = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"


@pytest.fixture(scope="module")
def blob(tmp_path_factory):
    pytest.importorskip("drgn")
    from triage.facts.program import open_program
    o = open_program([str(LZO)])
    try:
        data = bytes(o.btf.blob)
    finally:
        o.close()
    return data


_LINE = re.compile(r"^\[(\d+)\] (\w+) '([^']*)'(.*)$")
_MEMBER = re.compile(r"^\t'([^']*)'(.*)$")


def _kv(rest: str) -> dict:
    return dict(m.groups() for m in re.finditer(r"(\w+)=([^\s,]+)", rest))


def _int(v: str) -> int:
    return int(v.rstrip("UL"), 0)     # bpftool prints ENUM64 values as C literals (1ULL)


def _bpftool_types(path: Path):
    """{id: (KIND, name, fields, [(member name, fields)])} from `bpftool btf dump ... format raw`."""
    out = subprocess.run(["bpftool", "btf", "dump", "file", str(path), "format", "raw"],
                         check=True, capture_output=True, text=True).stdout
    types, cur = {}, None
    for line in out.splitlines():
        m = _LINE.match(line)
        if m:
            tid, kind, name, rest = m.groups()
            cur = [kind, "" if name == "(anon)" else name, _kv(rest), []]
            types[int(tid)] = cur
            continue
        m = _MEMBER.match(line)
        if m and cur is not None:
            cur[3].append(("" if m.group(1) == "(anon)" else m.group(1), _kv(m.group(2))))
    return types


@pytest.mark.skipif(shutil.which("bpftool") is None, reason="bpftool not installed (.ci/run installs it)")
def test_parser_equals_bpftool(blob, tmp_path):
    p = tmp_path / "vmlinux.btf"
    p.write_bytes(blob)
    want = _bpftool_types(p)
    b = B.Btf(blob)
    assert b.count - 1 == len(want) > 50000
    checked = 0
    for tid, (kind, name, kv, members) in want.items():
        t = b.type(tid)
        assert (B.KIND_NAMES[t.kind].upper(), t.name) == (kind, name), tid
        if t.kind in (B.STRUCT, B.UNION):
            assert int(kv["size"]) == t.size_or_type and int(kv["vlen"]) == t.vlen
            got = b.members(t)
            assert len(got) == len(members)
            for (mname, mtid, off, bits), (wname, wkv) in zip(got, members):
                assert (mname, mtid, off, bits) == (wname, int(wkv["type_id"]), int(wkv["bits_offset"]),
                                                    int(wkv.get("bitfield_size", 0))), (tid, mname)
                checked += 1
        elif t.kind in (B.ENUM, B.ENUM64):
            assert [(n, v) for n, v in b.enumerators(t)] == [(n, _int(kv2["val"])) for n, kv2 in members], tid
            checked += len(members)
        elif t.kind == B.ARRAY:
            assert b.array(t) == (int(kv["type_id"]), int(kv["index_type_id"]), int(kv["nr_elems"]))
        elif t.kind == B.INT:
            enc, off, bits = b.int_encoding(t)
            assert (t.size_or_type, off, bits) == (int(kv["size"]), int(kv["bits_offset"]), int(kv["nr_bits"]))
            assert bool(enc & B.INT_SIGNED) == ("SIGNED" in kv["encoding"]), tid
        elif t.kind == B.FUNC_PROTO:
            assert int(kv["ret_type_id"]) == t.size_or_type
            assert [ty for _n, ty in b.params(t)] == [int(w["type_id"]) for _n, w in members]
        elif "type_id" in kv:
            assert int(kv["type_id"]) == t.size_or_type, tid
    assert checked > 50000     # members and enumerators compared one by one


def test_lookup_by_name(blob):
    b = B.Btf(blob)
    (tid,) = b.find("task_struct", (B.STRUCT,))
    names = [m[0] for m in b.members(b.type(tid))]
    assert "comm" in names and "pid" in names
    assert b.find("no_such_type_name_here", (B.STRUCT,)) == []
    assert b.enumerator("NR_FREE_PAGES")[1] == 0
    assert b.var("runqueues") is not None          # a per-CPU variable has a VAR record
    assert b.var("init_task") is None              # plain globals have none (curated table)


def _hdr(blob: bytes) -> list:
    return list(struct.unpack_from("<HBBIIIII", blob, 0))


def _with_hdr(blob: bytes, fields: list) -> bytes:
    return struct.pack("<HBBIIIII", *fields) + blob[24:]


@pytest.mark.parametrize("field,value,why", [
    (0, 0x9FEB, "magic"), (1, 2, "version"), (3, 8, "header length"),
    (5, 1 << 30, "outside the blob"), (7, 1 << 30, "outside the blob"), (4, 2, "outside the blob"),
])
def test_bad_header_fields_are_refused(blob, field, value, why):
    fields = _hdr(blob)
    fields[field] = value
    with pytest.raises(B.BtfError, match=why):
        B.Btf(_with_hdr(blob, fields))


def test_truncated_and_tiny_blobs(blob):
    with pytest.raises(B.BtfError, match="shorter than its header"):
        B.Btf(blob[:10])
    with pytest.raises(B.BtfError):
        B.Btf(blob[:len(blob) // 2])


def test_type_record_running_past_the_section(blob):
    hdr = _hdr(blob)
    tstart = hdr[3] + hdr[4]
    # give the first type a huge vlen: its members would run far past the section
    name_off, info, size = struct.unpack_from("<III", blob, tstart)
    bad = bytearray(blob)
    struct.pack_into("<III", bad, tstart, name_off, (B.STRUCT << 24) | 0xFFFF, size)
    # shrink the type section so the record cannot fit
    fields = _hdr(blob)
    fields[5] = 12 + 12 * 10
    with pytest.raises(B.BtfError, match="runs past"):
        B.Btf(_with_hdr(bytes(bad), fields))


def test_reference_cycle_is_an_error_not_a_hang(blob):
    pytest.importorskip("drgn")
    import drgn
    from triage.facts.btf_types import TypeBuilder
    hdr = _hdr(blob)
    tstart = hdr[3] + hdr[4]
    b = B.Btf(blob)
    (tid,) = b.find("atomic_t", (B.TYPEDEF,))
    bad = bytearray(blob)
    pos = tstart + (b._offsets[tid] - tstart)
    name_off, info, _ = struct.unpack_from("<III", bad, pos)
    struct.pack_into("<III", bad, pos, name_off, info, tid)      # typedef atomic_t atomic_t
    tb = TypeBuilder(drgn.Program(drgn.host_platform), B.Btf(bytes(bad)))
    with pytest.raises(B.BtfError, match="deeper than"):
        tb.type(tid)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_damaged_blob_raises_only_btf_error(blob, data):
    """Random damage anywhere (header, types, strings) or truncation: the parser
    either accepts the blob or raises BtfError; lookups and drgn type building on an
    accepted blob raise nothing else either."""
    import drgn
    from triage.facts.btf_types import TypeBuilder
    bad = bytearray(blob[: data.draw(st.integers(24, len(blob)), label="length")])
    for _ in range(data.draw(st.integers(1, 8), label="flips")):
        i = data.draw(st.integers(0, len(bad) - 1), label="offset")
        bad[i] = data.draw(st.integers(0, 255), label="byte")
    try:
        b = B.Btf(bytes(bad))
    except B.BtfError:
        return
    tb = TypeBuilder(drgn.Program(drgn.host_platform), b)
    for name, kinds in (("task_struct", (B.STRUCT,)), ("zone", (B.STRUCT,)), ("atomic_long_t", (B.TYPEDEF,))):
        try:
            for tid in b.find(name, kinds):
                t = tb.type(tid)
                for m in getattr(t, "members", None) or ():
                    m.type
        except B.BtfError:
            pass
        except (ValueError, OverflowError) as exc:
            # drgn refuses some impossible shapes (e.g. a bit offset past 2**64) itself
            assert "drgn" in type(exc).__module__ or isinstance(exc, (ValueError, OverflowError))


def test_every_copy_of_a_repeated_string_is_found():
    """pahole writes each string once, but a blob may repeat one: a name is found at
    every offset it has (the string index falls back to searching for repeats)."""
    strings = b"\0dup\0dup\0E\0"                      # "dup" at 1 and 5, "E" at 9
    types = (struct.pack("<III", 1, B.STRUCT << 24, 4)             # [1] struct dup (copy 1)
             + struct.pack("<III", 5, B.STRUCT << 24, 8)           # [2] struct dup (copy 2)
             + struct.pack("<III", 9, B.ENUM << 24 | 1, 4)         # [3] enum E { dup = 7 }
             + struct.pack("<Ii", 5, 7))
    hdr = struct.pack("<HBBIIIII", B.BTF_MAGIC, 1, 0, 24, 0, len(types), len(types), len(strings))
    btf = B.Btf(hdr + types + strings)
    assert btf.find("dup", (B.STRUCT,)) == [1, 2]
    assert btf.find("E", (B.ENUM,)) == [3]
    assert btf.enumerator("dup") == (3, 7)
    assert btf.find("nope", (B.STRUCT,)) == [] and btf.enumerator("E") is None


def test_find_is_memoised_and_bounded(blob, monkeypatch):
    """drgn asks the object finder again for every use of a variable (cpu_curr() once
    per CPU): Btf.find answers a repeated name from its memo, identically, and the
    memo stops growing at MAX_MEMO names (then it searches again, still right)."""
    b = B.Btf(blob)
    first = b.find("task_struct", (B.STRUCT,))
    calls = []
    real = b._find
    monkeypatch.setattr(b, "_find", lambda *a: calls.append(a) or real(*a))
    assert b.find("task_struct", (B.STRUCT,)) == first and calls == []
    monkeypatch.setattr(B, "MAX_MEMO", len(b._found))
    assert b.find("list_head", (B.STRUCT,)) == b.find("list_head", (B.STRUCT,)) != []
    assert len(calls) == 2 and ("list_head", (B.STRUCT,)) not in b._found
