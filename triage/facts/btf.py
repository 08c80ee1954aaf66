"""Parse a kernel `.BTF` blob (Documentation/bpf/btf.rst) into an index of types.

The blob comes from the dump (between kallsyms `__start_BTF` and `__stop_BTF`)
and is untrusted: every offset, length and count is checked against the blob
before it is used, and any inconsistency raises BtfError with the reason.

Opening walks the type section once to record where each type record starts
and which names exist (about 0.1 s for a 4 MB vmlinux blob); a type's members,
enumerators and parameters are decoded only when `members()` etc. are asked.
Building drgn types from these records is triage.facts.btf_types' job.
"""

import re
import struct
from array import array
from dataclasses import dataclass
from itertools import accumulate
from typing import Dict, List, Optional, Tuple

from triage.errors import CorruptDumpError

BTF_MAGIC = 0xEB9F
MAX_BTF_SIZE = 64 << 20        # vmlinux BTF is ~5 MB; far larger means garbage
MAX_MEMO = 1 << 16             # names remembered by _string_offsets
MAX_TYPES = 1 << 21            # type ids are 32-bit; real kernels have ~150k

# BTF_KIND_* (btf.rst section 2.2)
INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, \
    FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = range(1, 20)
KIND_NAMES = {INT: "int", PTR: "ptr", ARRAY: "array", STRUCT: "struct", UNION: "union",
              ENUM: "enum", FWD: "fwd", TYPEDEF: "typedef", VOLATILE: "volatile",
              CONST: "const", RESTRICT: "restrict", FUNC: "func", FUNC_PROTO: "func_proto",
              VAR: "var", DATASEC: "datasec", FLOAT: "float", DECL_TAG: "decl_tag",
              TYPE_TAG: "type_tag", ENUM64: "enum64"}

INT_SIGNED, INT_CHAR, INT_BOOL = 1, 2, 4

_HDR = struct.Struct("<HBBIIIII")
_TYPE = struct.Struct("<III")
# Bytes that follow struct btf_type: fixed per kind, or per vlen entry.
_FIXED_EXTRA = {INT: 4, ARRAY: 12, VAR: 4, DECL_TAG: 4}
_PER_VLEN = {STRUCT: 12, UNION: 12, ENUM: 8, FUNC_PROTO: 8, DATASEC: 12, ENUM64: 12}


_KIND_OF_BYTE = bytes(b & 0x1F for b in range(256))      # byte 7 of struct btf_type -> its kind
_ENUM_KINDS = re.compile(bytes([ord("["), ENUM, ENUM64, ord("]")]))


class BtfError(CorruptDumpError):
    """The BTF blob is damaged or not BTF; the message says what is wrong."""


@dataclass(frozen=True)
class BtfType:
    """One decoded `struct btf_type` header (the kind-specific tail stays in the blob)."""

    id: int
    kind: int
    name: str
    vlen: int
    kind_flag: bool
    size_or_type: int       # size for INT/STRUCT/UNION/ENUM/DATASEC/FLOAT, else a type id
    extra: int              # offset of the kind-specific data in the blob


class Btf:
    """Index of one BTF blob: type headers by id, named types by name."""

    def __init__(self, blob: bytes):
        if len(blob) < _HDR.size:
            raise BtfError(f"BTF blob of {len(blob)} bytes is shorter than its header")
        if len(blob) > MAX_BTF_SIZE:
            raise BtfError(f"BTF blob of {len(blob)} bytes exceeds {MAX_BTF_SIZE}")
        magic, version, _flags, hdr_len, type_off, type_len, str_off, str_len = _HDR.unpack_from(blob, 0)
        if magic != BTF_MAGIC:
            raise BtfError(f"bad BTF magic {magic:#x} (expected {BTF_MAGIC:#x}; big-endian BTF is not read)")
        if version != 1:
            raise BtfError(f"unsupported BTF version {version}")
        if hdr_len < _HDR.size or hdr_len > len(blob):
            raise BtfError(f"BTF header length {hdr_len} out of range")
        tstart, sstart = hdr_len + type_off, hdr_len + str_off
        if tstart + type_len > len(blob) or sstart + str_len > len(blob) or type_off % 4:
            raise BtfError("BTF type or string section lies outside the blob")
        if str_len == 0 or blob[sstart] != 0 or blob[sstart + str_len - 1] != 0:
            raise BtfError("BTF string section does not start and end with NUL")
        self.blob = memoryview(blob)
        self._raw = bytes(blob) if not isinstance(blob, bytes) else blob
        self._sstart, self._slen = sstart, str_len
        # offsets[id] = where type `id`'s struct btf_type starts; id 0 is void
        self._offsets = array("I", [0])
        # names[id] = name offset of type `id`, searched as bytes by find()
        self._names = array("I", [0])
        self._walk(tstart, tstart + type_len)
        self._strings: Dict[str, List[int]] = {}
        # string -> offset for every string of the section, built on first lookup;
        # strings present more than once are in _dup_strings and searched for
        self._string_index: Optional[Dict[bytes, int]] = None
        self._dup_strings: frozenset = frozenset()
        self._found: Dict[Tuple[str, Tuple[int, ...]], Tuple[int, ...]] = {}
        # enumerator name offset -> (enum type id, value), built on first use
        self._enumerators: Optional[Dict[int, Tuple[int, int]]] = None

    # -- opening ------------------------------------------------------------
    def _walk(self, pos: int, end: int) -> None:
        """Record each type's start and name, checking every record fits in the section.

        The section is read as 32-bit words (every BTF record is a multiple of
        4 bytes), which keeps this one pass over ~100k types near 0.1 s."""
        if (end - pos) % 4:
            raise BtfError("BTF type section length is not a multiple of 4")
        words = memoryview(self._raw)[pos:end].cast("I")
        nwords = len(words)
        offsets, names = self._offsets, self._names
        fixed = [0] * 32
        per = [0] * 32
        for k, n in _FIXED_EXTRA.items():
            fixed[k] = n // 4
        for k, n in _PER_VLEN.items():
            per[k] = n // 4
        slen = self._slen
        i = 0
        while i < nwords:
            if i + 3 > nwords:
                raise BtfError(f"truncated type record at type section offset {4 * i}")
            name_off = words[i]
            info = words[i + 1]
            kind = (info >> 24) & 0x1F
            if not INT <= kind <= ENUM64:
                raise BtfError(f"type {len(offsets)} has unknown kind {kind}")
            if name_off >= slen:
                raise BtfError(f"type {len(offsets)} name offset {name_off} beyond the string section")
            nxt = i + 3 + fixed[kind] + per[kind] * (info & 0xFFFF)
            if nxt > nwords:
                raise BtfError(f"type {len(offsets)} ({KIND_NAMES[kind]}) runs past the type section")
            offsets.append(pos + 4 * i)
            names.append(name_off)
            i = nxt
        if len(offsets) > MAX_TYPES:
            raise BtfError(f"more than {MAX_TYPES} types")
        self._names_bytes = names.tobytes()

    # -- strings and headers ------------------------------------------------
    @property
    def count(self) -> int:
        """Number of type ids, void (0) included."""
        return len(self._offsets)

    def string(self, off: int) -> str:
        """The NUL-terminated string at `off` in the string section."""
        if not 0 <= off < self._slen:
            raise BtfError(f"string offset {off} beyond the string section")
        start = self._sstart + off
        end = self._raw.index(b"\0", start)     # the section ends with NUL (checked)
        return self._raw[start:end].decode("utf-8", "replace")

    def type(self, tid: int) -> BtfType:
        """The header of type `tid` (1..count-1)."""
        if not 0 < tid < len(self._offsets):
            raise BtfError(f"type id {tid} out of range (1..{len(self._offsets) - 1})")
        pos = self._offsets[tid]
        name_off, info, st = _TYPE.unpack_from(self._raw, pos)
        return BtfType(tid, (info >> 24) & 0x1F, self.string(name_off) if name_off else "",
                       info & 0xFFFF, bool(info >> 31), st, pos + 12)

    def _string_offsets(self, name: str) -> List[int]:
        """Offsets of every copy of `name` in the string section.

        pahole deduplicates strings, but nothing forces a blob to: every copy is
        looked at (the search is bounded by the section size). Memoised: drgn
        asks for the same names (types, constants, globals) many times."""
        hit = self._strings.get(name)
        if hit is not None:
            return hit
        raw_name = name.encode()
        if self._string_index is None:
            self._index_strings()
        if raw_name not in self._dup_strings:
            at = self._string_index.get(raw_name) if raw_name else None
            return [] if at is None else [at]
        key = b"\0" + raw_name + b"\0"
        out: List[int] = []
        if len(self._strings) < MAX_MEMO:
            self._strings[name] = out
        start, end = self._sstart, self._sstart + self._slen
        while True:
            i = self._raw.find(key, start, end)
            if i < 0:
                return out
            out.append(i + 1 - self._sstart)
            start = i + 1

    def _index_strings(self) -> None:
        """string -> offset for the whole string section, with C-level calls only
        (split, accumulate, dict): ~25 ms for Debian 6.1's, where searching the
        section costs ~0.6 ms for each of the ~60 names drgn's helpers ask for."""
        parts = self._raw[self._sstart:self._sstart + self._slen - 1].split(b"\0")
        starts = accumulate(map((1).__add__, map(len, parts)), initial=0)
        self._string_index = dict(zip(parts, starts))
        if len(self._string_index) != len(parts):
            # copies (pahole writes none, a blob may): those names are searched for
            seen: set = set()
            self._dup_strings = frozenset(p for p in parts if p in seen or seen.add(p))

    def find(self, name: str, kinds: Tuple[int, ...]) -> List[int]:
        """Ids of the types called `name` whose kind is in `kinds`.

        Memoised (bounded): drgn asks its object finder again for every use of a
        variable (cpu_curr() looks `runqueues` up once per CPU), and each search
        scans the whole name index (~0.5 ms for vmlinux BTF)."""
        key = (name, kinds)
        hit = self._found.get(key)
        if hit is not None:
            return list(hit)
        out = self._find(name, kinds)
        if len(self._found) < MAX_MEMO:
            self._found[key] = tuple(out)
        return out

    def _find(self, name: str, kinds: Tuple[int, ...]) -> List[int]:
        out: List[int] = []
        nb = self._names_bytes
        for off in self._string_offsets(name):
            key = struct.pack("<I", off)
            pos = nb.find(key)
            while pos >= 0:
                if pos % 4 == 0 and self._kind(pos // 4) in kinds:
                    out.append(pos // 4)
                pos = nb.find(key, pos + 1)
        return out

    def _kind(self, tid: int) -> int:
        return self._raw[self._offsets[tid] + 7] & 0x1F

    # -- kind-specific tails -------------------------------------------------
    def int_encoding(self, t: BtfType) -> Tuple[int, int, int]:
        """(encoding, bit offset, bits) of an INT."""
        (v,) = struct.unpack_from("<I", self._raw, t.extra)
        return (v >> 24) & 0xF, (v >> 16) & 0xFF, v & 0xFF

    def array(self, t: BtfType) -> Tuple[int, int, int]:
        """(element type, index type, nelems) of an ARRAY."""
        return struct.unpack_from("<III", self._raw, t.extra)

    def members(self, t: BtfType) -> List[Tuple[str, int, int, int]]:
        """(name, type id, bit offset, bitfield size or 0) of a STRUCT/UNION's members."""
        out = []
        for i in range(t.vlen):
            name_off, mtype, off = struct.unpack_from("<III", self._raw, t.extra + 12 * i)
            if t.kind_flag:
                out.append((self.string(name_off), mtype, off & 0xFFFFFF, off >> 24))
            else:
                out.append((self.string(name_off), mtype, off, 0))
        return out

    def enumerators(self, t: BtfType) -> List[Tuple[str, int]]:
        """(name, value) of an ENUM or ENUM64; signedness from kind_flag."""
        out = []
        if t.kind == ENUM:
            fmt = "<Ii" if t.kind_flag else "<II"
            for i in range(t.vlen):
                name_off, val = struct.unpack_from(fmt, self._raw, t.extra + 8 * i)
                out.append((self.string(name_off), val))
        else:
            for i in range(t.vlen):
                name_off, lo, hi = struct.unpack_from("<III", self._raw, t.extra + 12 * i)
                val = lo | (hi << 32)
                if t.kind_flag and val >> 63:
                    val -= 1 << 64
                out.append((self.string(name_off), val))
        return out

    def params(self, t: BtfType) -> List[Tuple[str, int]]:
        """(name, type id) of a FUNC_PROTO's parameters; type 0 last = variadic."""
        return [(self.string(n), ty) for n, ty in
                (struct.unpack_from("<II", self._raw, t.extra + 8 * i) for i in range(t.vlen))]

    def datasec(self, t: BtfType) -> List[Tuple[int, int, int]]:
        """(var type id, offset, size) of a DATASEC's variables."""
        return [struct.unpack_from("<III", self._raw, t.extra + 12 * i) for i in range(t.vlen)]

    # -- indexes built on first use -----------------------------------------
    def enumerator(self, name: str) -> Optional[Tuple[int, int]]:
        """(enum type id, value) of the enumerator constant `name`, if any."""
        if self._enumerators is None:
            idx: Dict[int, Tuple[int, int]] = {}
            raw = self._raw
            # the enums among the ~100k types, picked by their kind bytes with
            # C-level map/translate/regex rather than a Python loop over every type
            kinds = bytes(map(raw.__getitem__, map((7).__add__, self._offsets))).translate(_KIND_OF_BYTE)
            for m in _ENUM_KINDS.finditer(kinds, 1):
                tid = m.start()
                k = kinds[tid]
                pos = self._offsets[tid]
                info = struct.unpack_from("<I", raw, pos + 4)[0]
                vlen, signed = info & 0xFFFF, bool(info >> 31)
                if k == ENUM:
                    block = raw[pos + 12:pos + 12 + 8 * vlen]
                    for name_off, val in struct.iter_unpack("<Ii" if signed else "<II", block):
                        idx.setdefault(name_off, (tid, val))
                else:
                    block = raw[pos + 12:pos + 12 + 12 * vlen]
                    for name_off, lo, hi in struct.iter_unpack("<III", block):
                        val = lo | (hi << 32)
                        idx.setdefault(name_off, (tid, val - (1 << 64) if signed and val >> 63 else val))
            self._enumerators = idx
        for off in self._string_offsets(name):
            hit = self._enumerators.get(off)
            if hit is not None:
                return hit
        return None

    def var(self, name: str) -> Optional[int]:
        """Type id of the VAR record called `name` (vmlinux BTF: per-CPU variables)."""
        ids = self.find(name, (VAR,))
        return ids[0] if ids else None

    def resolve(self, tid: int, limit: int = 64) -> BtfType:
        """Follow typedefs and qualifiers to the underlying type (bounded: cycles are corrupt)."""
        for _ in range(limit):
            t = self.type(tid)
            if t.kind not in (TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG):
                return t
            tid = t.size_or_type
        raise BtfError(f"type chain from {tid} longer than {limit}")
