"""drgn type and object finders backed by the dump's BTF and kallsyms.

Registered under their own names ("triage-btf"), so a drgn release with
native BTF finders can replace them with `set_enabled_*_finders`.

Objects: enumerator constants and functions come from BTF; per-CPU variables
from their BTF VAR records; other globals (vmlinux BTF describes none) from
GLOBALS, a curated name -> C type table. The table was built by tracing the
globals drgn's helpers and libdrgn look up on a DWARF Program while computing
dump facts (tests/facts/drgn_dwarf_oracle.py --trace). Addresses come from
kallsyms, or, for a kernel whose kallsyms lists functions only, from
triage.facts.symbols (VMCOREINFO, the export table, BTF's per-CPU section);
array lengths from BTF enumerators, never from kernel versions.
"""

from typing import Any, Dict, Optional, Tuple, Union

from triage.facts import btf as B
from triage.facts.btf_types import TypeBuilder

TYPE_FINDER = "triage-btf"
OBJECT_FINDER = "triage-btf"

# name -> (C type as drgn parses it, array length: None = not an array,
#          "" = length unknown (incomplete array; drgn still indexes it),
#          SYM = the kallsyms size over the element size, trailing all-zero elements
#                dropped (the linker pads const tables to alignment with zeros;
#                used for tables a helper iterates whose length is a #define),
#          other str = a BTF enumerator's value)
Length = Union[None, str, int]
SYM = "<symbol size>"
MAX_SYM_ELEMS = 1 << 16
GLOBALS: Dict[str, Tuple[str, Length]] = {
    "init_task": ("struct task_struct", None),
    "init_pid_ns": ("struct pid_namespace", None),
    "init_uts_ns": ("struct uts_namespace", None),
    "init_mm": ("struct mm_struct", None),
    "node_data": ("pg_data_t *", ""),
    "contig_page_data": ("struct pglist_data", None),
    "node_states": ("nodemask_t", "NR_NODE_STATES"),
    "mem_section": ("struct mem_section **", None),
    "page_offset_base": ("unsigned long", None),
    "vmemmap_base": ("unsigned long", None),
    "vmalloc_base": ("unsigned long", None),
    "vm_zone_stat": ("atomic_long_t", "NR_VM_ZONE_STAT_ITEMS"),
    "vm_node_stat": ("atomic_long_t", "NR_VM_NODE_STAT_ITEMS"),
    "_totalram_pages": ("atomic_long_t", None),
    "nr_vmalloc_pages": ("atomic_long_t", None),
    "modules": ("struct list_head", None),
    "slab_caches": ("struct list_head", None),
    "panic_cpu": ("atomic_t", None),
    "crash_notes": ("note_buf_t *", None),
    "tainted_mask": ("unsigned long", None),
    "taint_flags": ("const struct taint_flag", SYM),
    "task_state_array": ("const char * const", SYM),
    "vmap_area_list": ("struct list_head", None),
    "vmap_area_root": ("struct rb_root", None),
    "__per_cpu_offset": ("unsigned long", ""),
    "nr_cpu_ids": ("unsigned int", None),
    "nr_node_ids": ("unsigned int", None),
    "__cpu_online_mask": ("struct cpumask", None),
    "__cpu_possible_mask": ("struct cpumask", None),
    "__cpu_present_mask": ("struct cpumask", None),
    "hstates": ("struct hstate", ""),
    "hugetlb_max_hstate": ("int", None),
    "default_hstate_idx": ("int", None),
    "jiffies": ("volatile unsigned long", None),
    "totalreserve_pages": ("unsigned long", None),
    "prb": ("struct printk_ringbuffer *", None),
    # per-CPU variables come from BTF VAR records; BTF without them (pahole
    # before 1.18, e.g. Debian 11's 5.10) still needs the ones the helpers use
    "runqueues": ("struct rq", None),
}

_TYPE_KINDS: Dict[Any, Tuple[int, ...]] = {}


def _kinds_for(drgn, kinds) -> Tuple[int, ...]:
    """BTF kinds that can answer a lookup for drgn TypeKinds `kinds`."""
    m = {drgn.TypeKind.STRUCT: (B.STRUCT,), drgn.TypeKind.UNION: (B.UNION,),
         drgn.TypeKind.ENUM: (B.ENUM, B.ENUM64), drgn.TypeKind.TYPEDEF: (B.TYPEDEF,),
         drgn.TypeKind.INT: (B.INT,), drgn.TypeKind.BOOL: (B.INT,), drgn.TypeKind.FLOAT: (B.FLOAT,)}
    out: Tuple[int, ...] = ()
    for k in kinds:
        out += m.get(k, ())
    return out


class BtfFinders:
    """The type and object finder callbacks for one Program."""

    def __init__(self, prog: Any, btf: B.Btf, symbols: Any = None):
        import drgn
        self._drgn = drgn
        self.btf = btf
        # triage.facts.symbols.DumpSymbols when kallsyms lists functions only
        self.symbols = symbols
        self.types = TypeBuilder(prog, btf)
        self._type_cache: Dict[Tuple[str, Tuple[int, ...]], Optional[int]] = {}

    # -- types ---------------------------------------------------------------
    def find_type(self, prog: Any, kinds: Any, name: str, filename: Optional[str]) -> Optional[Any]:
        """drgn type finder: a named struct/union/enum/typedef/base type from BTF."""
        want = _kinds_for(self._drgn, kinds)
        if not want:
            return None
        key = (name, want)
        if key not in self._type_cache:
            ids = self.btf.find(name, want)
            # prefer a complete definition when BTF also has a same-named FWD elsewhere
            self._type_cache[key] = ids[0] if ids else None
        tid = self._type_cache[key]
        if tid is None:
            return None
        t = self.types.type(tid)
        # drgn asks for INT and BOOL together for base types: only give what was asked
        return t if t.kind in kinds else None

    # -- objects -------------------------------------------------------------
    def find_object(self, prog: Any, name: str, flags: Any, filename: Optional[str]) -> Optional[Any]:
        """drgn object finder: constants, functions, per-CPU and curated globals."""
        drgn = self._drgn
        F = drgn.FindObjectFlags
        if flags & F.CONSTANT:
            hit = self.btf.enumerator(name)
            if hit is not None:
                return drgn.Object(prog, self.types.type(hit[0]), hit[1])
        if flags & F.FUNCTION:
            ids = self.btf.find(name, (B.FUNC,))
            if ids:
                addr = self._address(prog, name)
                if addr is not None:
                    return drgn.Object(prog, self.types.type(ids[0]), address=addr)
        if flags & F.VARIABLE:
            typ = self._variable_type(prog, name)
            if typ is not None:
                addr = self._address(prog, name)
                if addr is not None:
                    return drgn.Object(prog, typ, address=addr)
        return None

    def _variable_type(self, prog: Any, name: str) -> Optional[Any]:
        var = self.btf.var(name)
        if var is not None:
            return self.types.type(var)
        spec = GLOBALS.get(name)
        if spec is None:
            return None
        cname, length = spec
        try:
            typ = prog.type(cname)
        except LookupError:
            return None          # the kernel has no such type: the global is not usable
        if length is None:
            return typ
        if length == "":
            return prog.array_type(typ)
        if length == SYM:
            size = self._size(prog, name)
            if size is None:
                return None
            return prog.array_type(typ, _symbol_length(prog, name, typ.size, size, self._address(prog, name)))
        if isinstance(length, str):
            hit = self.btf.enumerator(length)
            if hit is None:
                return None
            length = hit[1]
        return prog.array_type(typ, length)


    def _address(self, prog: Any, name: str) -> Optional[int]:
        """kallsyms' address of `name`, else what the dump says without it (symbols)."""
        try:
            return prog.symbol(name).address
        except LookupError:
            pass
        hit = self.symbols.lookup(name) if self.symbols is not None else None
        return hit[0] if hit else None

    def _size(self, prog: Any, name: str) -> Optional[int]:
        try:
            return prog.symbol(name).size
        except LookupError:
            pass
        hit = self.symbols.lookup(name) if self.symbols is not None else None
        return hit[1] if hit else None


def _symbol_length(prog: Any, name: str, elem: int, size: int, address: int) -> int:
    """Elements in the table `name`: its size / element size, minus zero padding."""
    n = min(size // elem, MAX_SYM_ELEMS) if elem else 0
    data = prog.read(address, n * elem) if n else b""
    zero = bytes(elem)
    while n and data[(n - 1) * elem:n * elem] == zero:
        n -= 1
    return n


def install_btf(prog: Any, blob: bytes, symbols: Any = None) -> B.Btf:
    """Parse `blob` and register its finders on `prog`; BtfError when the blob is bad.
    `symbols` (triage.facts.symbols.DumpSymbols) answers for data kallsyms lacks."""
    btf = B.Btf(blob)
    if symbols is not None:
        symbols.btf = btf
    finders = BtfFinders(prog, btf, symbols)
    prog.register_type_finder(TYPE_FINDER, finders.find_type, enable_index=-1)
    prog.register_object_finder(OBJECT_FINDER, finders.find_object, enable_index=-1)
    return btf
