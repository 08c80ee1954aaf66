"""Turn BTF type records (triage.facts.btf) into drgn Types, lazily and once.

Struct and union members are built only when drgn first touches them (a
TypeMember callable), so looking up `struct task_struct` does not build the
kernel's whole type graph. A FWD (declared-only) struct resolves to the full
definition of the same name when the blob has one.
"""

from typing import Any, Dict, Optional

from triage.facts import btf as B

MAX_DEPTH = 200     # pointer/typedef/qualifier chains; members are lazy so real chains are short


class TypeBuilder:
    """Cache of drgn Types built from one Btf for one Program."""

    def __init__(self, prog: Any, btf: B.Btf):
        import drgn
        self._drgn = drgn
        self.prog = prog
        self.btf = btf
        self._cache: Dict[int, Any] = {}
        self._depth = 0

    def type(self, tid: int) -> Any:
        """The drgn Type for BTF type id `tid` (0 is void)."""
        if tid == 0:
            return self.prog.void_type()
        t = self._cache.get(tid)
        if t is not None:
            return t
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise B.BtfError(f"type {tid}: reference chain deeper than {MAX_DEPTH}")
            t = self._build(self.btf.type(tid))
        except (ValueError, OverflowError) as exc:
            # drgn refuses the type (an integer of 10**8 bits, ...): the BTF is corrupt
            raise B.BtfError(f"type {tid}: {exc}") from None
        finally:
            self._depth -= 1
        self._cache[tid] = t
        return t

    def _build(self, t: B.BtfType) -> Any:
        prog, drgn, k = self.prog, self._drgn, t.kind
        if k == B.INT:
            enc, _off, _bits = self.btf.int_encoding(t)
            if enc & B.INT_BOOL:
                return prog.bool_type(t.name, t.size_or_type)
            return prog.int_type(t.name, t.size_or_type, bool(enc & B.INT_SIGNED))
        if k == B.FLOAT:
            return prog.float_type(t.name, t.size_or_type)
        if k == B.PTR:
            return prog.pointer_type(self.type(t.size_or_type))
        if k == B.ARRAY:
            elem, _index, n = self.btf.array(t)
            return prog.array_type(self.type(elem), n)
        if k in (B.STRUCT, B.UNION):
            ms = self.btf.members(t)
            members = [self._member(name, mtid, bit_off, bits, last=i == len(ms) - 1)
                       for i, (name, mtid, bit_off, bits) in enumerate(ms)]
            make = prog.struct_type if k == B.STRUCT else prog.union_type
            return make(t.name or None, t.size_or_type, members)
        if k in (B.ENUM, B.ENUM64):
            values = self.btf.enumerators(t)
            signed = t.kind_flag or any(v < 0 for _n, v in values)
            size = t.size_or_type
            compat = prog.int_type(("" if signed else "unsigned ") + ("long" if size == 8 else "int"),
                                   size, signed)
            return prog.enum_type(t.name or None, compat,
                                  [drgn.TypeEnumerator(n, v) for n, v in values])
        if k == B.FWD:
            full = self._complete(t.name, B.UNION if t.kind_flag else B.STRUCT)
            if full is not None:
                return self.type(full)
            return (prog.union_type if t.kind_flag else prog.struct_type)(t.name)
        if k == B.TYPEDEF:
            return prog.typedef_type(t.name, self.type(t.size_or_type))
        if k in (B.CONST, B.VOLATILE, B.RESTRICT):
            target = self.type(t.size_or_type)
            q = {B.CONST: drgn.Qualifiers.CONST, B.VOLATILE: drgn.Qualifiers.VOLATILE,
                 B.RESTRICT: drgn.Qualifiers.RESTRICT}[k]
            return target.qualified(target.qualifiers | q)
        if k in (B.TYPE_TAG, B.FUNC, B.VAR):
            return self.type(t.size_or_type)     # a tag is not part of the C type; FUNC/VAR name one
        if k == B.FUNC_PROTO:
            params = self.btf.params(t)
            variadic = bool(params) and params[-1][1] == 0
            if variadic:
                params = params[:-1]
            return prog.function_type(self.type(t.size_or_type),
                                      [drgn.TypeParameter(self._param(ptid), name or None)
                                       for name, ptid in params], variadic)
        raise B.BtfError(f"type {t.id}: kind {B.KIND_NAMES.get(k, k)} is not a C type")

    def _param(self, tid: int):
        return lambda: self._member_object(tid, 0)

    def _flexible(self, tid: int) -> Any:
        """`elem []` for a trailing zero-length array member: BTF writes C's flexible
        array `x[]` as 0 elements, and DWARF (and drgn with it) as no length."""
        t = self.btf.type(tid)
        if t.kind == B.ARRAY:
            elem, _index, n = self.btf.array(t)
            if n == 0:
                return self.prog.array_type(self.type(elem))
        return self.type(tid)

    def _member(self, name: str, tid: int, bit_off: int, bits: int, last: bool = False) -> Any:
        drgn = self._drgn
        if bits:
            return drgn.TypeMember(lambda: self._member_object(tid, bits), name or None, bit_off)
        if last:
            return drgn.TypeMember(lambda: self._member_object(tid, 0, flexible=True), name or None, bit_off)
        return drgn.TypeMember(lambda: self._member_object(tid, 0), name or None, bit_off)

    def _member_object(self, tid: int, bits: int, flexible: bool = False) -> Any:
        """The (absent) object drgn keeps for a member: built here, where drgn's refusal
        of a corrupt type (a size past 2**64 bits, a bit field wider than its type)
        becomes a BtfError."""
        typ = self._flexible(tid) if flexible else self.type(tid)
        try:
            if bits:
                return self._drgn.Object(self.prog, typ, bit_field_size=bits)
            return self._drgn.Object(self.prog, typ)
        except (ValueError, OverflowError, TypeError) as exc:   # TypeError: an array of void, ...
            raise B.BtfError(f"member of type {tid}: {exc}") from None

    def _complete(self, name: str, kind: int) -> Optional[int]:
        ids = self.btf.find(name, (kind,)) if name else []
        return ids[0] if ids else None
