"""Write the seeds of the kallsyms and btf fuzz targets from a real dump.

    python3 fuzz/make_facts_seeds.py DUMP NAME     # -> fuzz/seeds/{kallsyms,btf}/NAME

kallsyms: the dump's own tables cut to the 256 names around _stext plus a few (two
markers): the real offsets, relative base, names, markers, token table and
index, laid out as scripts/kallsyms.c lays them out (with kallsyms_seqs_of_names
recomputed for these names when the dump's kernel has that table), preceded
by the kernel's _stext as 8 bytes (fuzz_kallsyms.py's input).
btf: the dump's BTF cut to a few types the facts use and what they reference
(pointed-to structs outside the cut become FWD records of the same name),
renumbered, with its own string section. Both stay far under 64 KiB.
"""

import struct
import sys
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXTRA_SYMS = 8
BTF_ROOTS = [("struct", "free_area"), ("struct", "list_head"), ("struct", "taint_flag"),
             ("enum", "zone_stat_item"), ("enum", "zone_watermarks"), ("typedef", "atomic_long_t"),
             ("struct", "upid"), ("struct", "callback_head"), ("func", "panic"), ("struct", "orc_entry")]


def _align(b: bytearray, n: int = 8) -> None:
    b.extend(bytes(-len(b) % n))


def kallsyms_seed(read, loc, stext: int, has_seqs: bool) -> bytes:
    """The 6.1/5.10 table layout, cut to the 256-name block holding _stext plus
    EXTRA_SYMS names of the next one (two markers: the fewest a real table has)."""
    from triage.facts.kallsyms_scan import decode_names
    index = struct.unpack("<256H", read(loc.kallsyms_token_index, 512))
    table_len = index[255] + read(loc.kallsyms_token_table + index[255], 128).index(b"\0") + 1
    table = read(loc.kallsyms_token_table, table_len)
    tokens = [table[i:table.index(b"\0", i)] for i in index]
    all_names = read(loc.kallsyms_names, loc.kallsyms_markers - loc.kallsyms_names)
    decoded = decode_names(all_names, loc.num_syms, tokens, loc.long_names)
    block = [n for _t, n in decoded].index("_stext") // 256
    first = 256 * block
    count = 256 + EXTRA_SYMS
    start = struct.unpack("<I", read(loc.kallsyms_markers + 4 * block, 4))[0]
    pos = struct.unpack("<I", read(loc.kallsyms_markers + 4 * (block + 1), 4))[0]
    for _ in range(EXTRA_SYMS):
        pos += 1 + all_names[pos]
    names = all_names[start:pos]
    block_size = struct.unpack("<I", read(loc.kallsyms_markers + 4 * (block + 1), 4))[0] - start
    rb = read(loc.kallsyms_relative_base, 8)
    img = bytearray(struct.pack("<Q", stext))
    body = bytearray(read(loc.kallsyms_offsets + 4 * first, 4 * count))
    _align(body)
    body += rb + struct.pack("<Q", count) + names
    _align(body)
    body += struct.pack("<II", 0, block_size)
    _align(body)
    if has_seqs:
        mine = decoded[first:first + count]
        for i in sorted(range(count), key=lambda i: mine[i][1]):
            body += i.to_bytes(3, "big")
        _align(body)
    body += table
    _align(body)
    body += struct.pack("<256H", *index)
    return bytes(img + body)


def btf_seed(blob: bytes) -> bytes:
    """A closed, renumbered subset of a real BTF blob (see the module docstring)."""
    from triage.facts import btf as B
    btf = B.Btf(blob)
    kinds = {"struct": (B.STRUCT,), "enum": (B.ENUM, B.ENUM64), "typedef": (B.TYPEDEF,), "func": (B.FUNC,)}
    keep: List[int] = []
    fwd: Dict[int, int] = {}              # old struct id -> new FWD id
    new_id: Dict[int, int] = {}
    strings = bytearray(b"\0")
    str_off: Dict[str, int] = {"": 0}

    def s(name: str) -> int:
        if name not in str_off:
            str_off[name] = len(strings)
            strings.extend(name.encode() + b"\0")
        return str_off[name]

    def visit(tid: int, via_ptr: bool = False) -> None:
        if tid == 0 or tid in new_id:
            return
        t = btf.type(tid)
        if via_ptr and t.kind in (B.STRUCT, B.UNION) and t.name and ("struct", t.name) not in BTF_ROOTS:
            if tid not in fwd:
                fwd[tid] = -1
                new_id[tid] = len(keep) + 1
                keep.append(tid)
            return
        new_id[tid] = len(keep) + 1
        keep.append(tid)
        for ref in refs(t):
            visit(ref, via_ptr=t.kind == B.PTR)

    def refs(t) -> List[int]:
        if t.kind in (B.PTR, B.TYPEDEF, B.VOLATILE, B.CONST, B.RESTRICT, B.FUNC, B.VAR, B.TYPE_TAG, B.DECL_TAG):
            return [t.size_or_type]
        if t.kind == B.ARRAY:
            return list(btf.array(t)[:2])
        if t.kind in (B.STRUCT, B.UNION):
            return [m[1] for m in btf.members(t)]
        if t.kind == B.FUNC_PROTO:
            return [t.size_or_type] + [p[1] for p in btf.params(t)]
        return []

    for kind, name in BTF_ROOTS:
        for tid in btf.find(name, kinds[kind])[:1]:
            visit(tid)
    raw = btf._raw
    types = bytearray()
    for tid in keep:
        t = btf.type(tid)
        if tid in fwd:
            types += struct.pack("<III", s(t.name), (B.FWD << 24) | ((t.kind == B.UNION) << 31), 0)
            continue
        name_off, info, st = struct.unpack_from("<III", raw, t.extra - 12)
        if t.kind in (B.PTR, B.TYPEDEF, B.VOLATILE, B.CONST, B.RESTRICT, B.FUNC, B.VAR, B.TYPE_TAG,
                      B.DECL_TAG, B.FUNC_PROTO):
            st = new_id.get(st, 0)
        types += struct.pack("<III", s(t.name), info, st)
        if t.kind == B.INT or t.kind == B.VAR or t.kind == B.DECL_TAG:
            types += raw[t.extra:t.extra + 4]
        elif t.kind == B.ARRAY:
            elem, idx, n = btf.array(t)
            types += struct.pack("<III", new_id[elem], new_id[idx], n)
        elif t.kind in (B.STRUCT, B.UNION):
            for i, (mname, mtid, _off, _bits) in enumerate(btf.members(t)):
                (off,) = struct.unpack_from("<I", raw, t.extra + 12 * i + 8)
                types += struct.pack("<III", s(mname), new_id[mtid], off)
        elif t.kind == B.ENUM:
            for i, (ename, _v) in enumerate(btf.enumerators(t)):
                types += struct.pack("<I", s(ename)) + raw[t.extra + 8 * i + 4:t.extra + 8 * i + 8]
        elif t.kind == B.ENUM64:
            for i, (ename, _v) in enumerate(btf.enumerators(t)):
                types += struct.pack("<I", s(ename)) + raw[t.extra + 12 * i + 4:t.extra + 12 * i + 12]
        elif t.kind == B.FUNC_PROTO:
            for pname, ptid in btf.params(t):
                types += struct.pack("<II", s(pname), new_id.get(ptid, 0))
    hdr = struct.pack("<HBBIIIII", B.BTF_MAGIC, 1, 0, 24, 0, len(types), len(types), len(strings))
    return hdr + bytes(types) + bytes(strings)


def main(argv: List[str]) -> int:
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.facts.kallsyms_scan import scan_kallsyms
    from triage.facts.program import _image_span, kernel_stext, open_program, read_btf
    from triage.logsource import open_reader
    from triage.memory.kernel import KernelMemory
    dump, name = argv[1], argv[2]
    with open_reader([dump]) as r:
        info = parse_vmcoreinfo(r.vmcoreinfo())
        mem = KernelMemory(r, info, arch=r.facts().arch)

        def read(vaddr: int, size: int) -> bytes:
            return bytes(mem.read_tolerant(vaddr, size)[0])
        stext = kernel_stext(info, r.facts().arch)
        loc = scan_kallsyms(read, stext, stext, _image_span(info, stext))
        has_seqs = loc.kallsyms_token_table - loc.kallsyms_markers > 4 * (loc.num_syms // 256 + 2)
        seed = kallsyms_seed(read, loc, stext, has_seqs)
    out = ROOT / "fuzz" / "seeds" / "kallsyms" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(seed)
    opened = open_program([dump])
    try:
        blob = btf_seed(read_btf(opened.prog))
    finally:
        opened.close()
    out2 = ROOT / "fuzz" / "seeds" / "btf" / name
    out2.parent.mkdir(parents=True, exist_ok=True)
    out2.write_bytes(blob)
    print(f"{out}: {len(seed)} bytes; {out2}: {len(blob)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
