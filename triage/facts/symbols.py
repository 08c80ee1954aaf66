"""Addresses of kernel data that kallsyms does not list, found in the dump itself.

Kernels built without CONFIG_KALLSYMS_ALL (Debian's arm64 flavours) list only
functions in kallsyms: no __start_BTF, no init_task, no per-CPU variables.
The dump still holds what is needed, in the kernel image's read-only data:

* the BTF blob, found by its header (magic 0xeB9F, version 1, 24-byte header,
  the string section right after the type section) and checked by parsing;
* the export table (__ksymtab + __ksymtab_gpl): 12-byte struct kernel_symbol
  entries whose value and name are place-relative 32-bit offsets
  (CONFIG_HAVE_ARCH_PREL32_RELOCATIONS, arm64 and x86_64), located from one
  entry naming a well-known export, then walked both ways while every entry's
  name is a NUL-delimited identifier;
* per-CPU variables: BTF's .data..percpu DATASEC gives each one's offset, and
  any exported per-CPU variable places the section (two must agree);
* a few unexported tables drgn's helpers read, recognised by their contents
  (task_state_array: pointers to "R (running)", "S (sleeping)", ...;
  taint_flags: "PG", "F ", "S ", ...), and the `modules` list head through the
  modules' own memory (triage.facts.modlist).

Every address and size here comes from the dump and is bounded by the image
window read; nothing is guessed from kernel versions.
"""

import re
import struct
from array import array
from typing import Any, Callable, Dict, List, Optional, Tuple

MAX_SCAN_BYTES = 64 << 20            # the image window searched (Debian arm64 6.1: 10 MB)
CHUNK = 1 << 20
BTF_HEAD = struct.pack("<HBBI", 0xEB9F, 1, 0, 24)
MAX_BTF_BYTES = 64 << 20
EXPORT_ANCHORS = (b"kfree", b"kmalloc_caches", b"jiffies", b"init_task", b"memcpy")
EXPORTS_BEFORE_NAME = 1 << 20      # export tables, CRCs and strings before a name (6.1: ~0.5 MB)
MIN_EXPORTS = 64                     # a real table has thousands; fewer means a false anchor
MAX_EXPORTS = 1 << 18
MAX_NAME = 128
_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_.$]*\Z")
TASK_STATES = (b"R (running)", b"S (sleeping)", b"D (disk sleep)")


class ImageScan:
    """The kernel image's [lo, hi) window read once, plus what is found in it."""

    def __init__(self, read: Callable[[int, int], bytes], lo: int, hi: int):
        if not 0 < hi - lo <= MAX_SCAN_BYTES:
            raise ValueError(f"kernel image window of {hi - lo} bytes is not plausible")
        self.lo = lo
        parts = []
        for a in range(lo, hi, CHUNK):
            n = min(CHUNK, hi - a)
            try:
                parts.append(read(a, n))
            except Exception:      # noqa: BLE001 - a page missing from a filtered dump
                parts.append(bytes(n))
        self.data = b"".join(parts)
        self._exports: Optional[Dict[str, int]] = None

    # -- BTF -------------------------------------------------------------------
    def btf(self) -> Optional[bytes]:
        """The first blob with a valid BTF header whose sections fit the window."""
        data, pos = self.data, 0
        while True:
            pos = data.find(BTF_HEAD, pos)
            if pos < 0 or pos + 24 > len(data):
                return None
            type_off, type_len, str_off, str_len = struct.unpack_from("<IIII", data, pos + 8)
            size = 24 + str_off + str_len
            if (type_off == 0 and str_off == type_len and 0 < size <= MAX_BTF_BYTES
                    and pos + size <= len(data) and data[pos + 24 + str_off] == 0):
                return data[pos:pos + size]
            pos += 4

    # -- the export table --------------------------------------------------------
    def exports(self) -> Dict[str, int]:
        """name -> address of every exported symbol (empty when no table is found)."""
        if self._exports is None:
            self._exports = self._find_exports()
        return self._exports

    def _name_at(self, off: int) -> Optional[bytes]:
        # no NUL needs to precede it: the linker merges a name into the tail of a
        # longer one ("ClearPageMovable" inside "__ClearPageMovable")
        data = self.data
        if not 0 <= off < len(data):
            return None
        end = data.find(b"\0", off, off + MAX_NAME)
        name = data[off:end] if end > off else b""
        return name if name and _IDENT.match(name) else None

    def _find_exports(self) -> Dict[str, int]:
        data = self.data
        places = [[p + 1 for p in _find_all(data, b"\0" + a + b"\0")] for a in EXPORT_ANCHORS]
        want = {p for ps in places for p in ps}
        if not want:
            return {}
        words = array("i")
        words.frombytes(data[:len(data) // 4 * 4])
        if words.itemsize != 4:
            return {}
        # The linker script puts __ksymtab, __ksymtab_gpl, __kcrctab* and then
        # __ksymtab_strings in that order, so an anchor name's entry lies shortly
        # before the name: search back from each (names found once first), then,
        # for another layout, every word of the window (~1 s).
        order = sorted(places, key=len)        # a name found once is likely only in the strings
        for target in (p for ps in order for p in ps):
            top = target // 4 - 1
            for i in range(top, max(top - EXPORTS_BEFORE_NAME // 4, 0), -1):
                if 4 * i + words[i] == target:
                    table = self._walk(4 * (i - 1))
                    if len(table) >= MIN_EXPORTS:
                        return table
        for i, v in enumerate(words):
            if 4 * i + v in want and i >= 1:
                table = self._walk(4 * (i - 1))
                if len(table) >= MIN_EXPORTS:
                    return table
        return {}

    def _namespace_at(self, off: int) -> bool:
        """An empty string (no namespace) or a name, like "USB_STORAGE"."""
        return 0 <= off < len(self.data) and (self.data[off] == 0 or self._name_at(off) is not None)

    def _entry(self, pos: int) -> Optional[Tuple[str, int]]:
        """(name, address) of the kernel_symbol at window offset pos, if it is one."""
        if pos < 0 or pos + 12 > len(self.data):
            return None
        value, name, ns = struct.unpack_from("<iii", self.data, pos)
        n = self._name_at(pos + 4 + name)
        addr = (self.lo + pos + value) & ((1 << 64) - 1)
        # a kernel address (top byte all ones), a namespace that is none or a name
        if n is None or addr >> 56 != 0xFF or not self._namespace_at(pos + 8 + ns):
            return None
        return n.decode("ascii"), addr

    def _walk(self, start: int) -> Dict[str, int]:
        out: Dict[str, int] = {}
        for step in (12, -12):
            pos = start if step > 0 else start - 12
            while len(out) < MAX_EXPORTS:
                e = self._entry(pos)
                if e is None:
                    break
                out.setdefault(e[0], e[1])
                pos += step
        return out

    # -- tables recognised by their contents ----------------------------------
    def pointer_array(self, strings: Tuple[bytes, ...], align: int = 8) -> Optional[Tuple[int, int]]:
        """(address, length) of an array of char pointers whose first entries point
        at `strings` in order; its length runs while entries point at short strings."""
        data = self.data
        addrs = []
        for s in strings:
            m = [p + 1 for p in _find_all(data, b"\0" + s + b"\0", 2)]
            if len(m) != 1:
                return None           # absent or ambiguous: do not guess
            addrs.append(self.lo + m[0])
        needle = b"".join(struct.pack("<Q", a) for a in addrs)
        hits = [h for h in _find_all(data, needle) if h % align == 0]
        if len(hits) != 1:
            return None
        pos, n = hits[0], 0
        while pos + 8 * (n + 1) <= len(data) and n < 64:
            (p,) = struct.unpack_from("<Q", data, pos + 8 * n)
            if self._name_like(p - self.lo) is None:
                break
            n += 1
        return self.lo + pos, n

    def _name_like(self, off: int) -> Optional[bytes]:
        data = self.data
        if not 0 < off < len(data) or data[off - 1] != 0:
            return None
        end = data.find(b"\0", off, off + 32)
        return data[off:end] if end > off else None


def _find_all(data: bytes, needle: bytes, most: int = 1 << 16) -> List[int]:
    """Offsets of `needle` in `data` (bytes.find: several times faster than re here)."""
    out: List[int] = []
    at = data.find(needle)
    while at >= 0 and len(out) < most:
        out.append(at)
        at = data.find(needle, at + 1)
    return out


def percpu_base(btf: Any, exports: Dict[str, int]) -> Optional[int]:
    """Link address of .data..percpu: an exported per-CPU variable's address minus
    its DATASEC offset; None unless two exported ones agree (or only one exists)."""
    from triage.facts import btf as B
    ids = btf.find(".data..percpu", (B.DATASEC,))
    if not ids:
        return None
    bases: List[int] = []
    for var_id, offset, _size in btf.datasec(btf.type(ids[0])):
        name = btf.type(var_id).name
        addr = exports.get(name)
        if addr is not None:
            bases.append(addr - offset)
            if len(bases) == 2:
                break
    if not bases or len(set(bases)) != 1:
        return None
    return bases[0]


def datasec_offsets(btf: Any) -> Dict[str, int]:
    """Per-CPU variable name -> offset in .data..percpu, from BTF."""
    from triage.facts import btf as B
    ids = btf.find(".data..percpu", (B.DATASEC,))
    if not ids:
        return {}
    return {btf.type(v).name: off for v, off, _s in btf.datasec(btf.type(ids[0]))}


TAINT_FLAGS_HEAD = re.compile(rb"PG[\x00\x01]F [\x00\x01]S [\x00\x01]R [\x00\x01]")


class DumpSymbols:
    """Addresses (and sizes, where kallsyms would give one) of data symbols for a
    kernel whose kallsyms lists functions only: VMCOREINFO's SYMBOL() lines, the
    export table, per-CPU variables placed through BTF, and tables found by content."""

    def __init__(self, scan: ImageScan, vmcoreinfo_symbols: Dict[str, int],
                 found: Optional[Dict[str, Callable[[], Optional[int]]]] = None):
        self.scan = scan
        self._vmcoreinfo = vmcoreinfo_symbols
        # name -> how to find it in the dump's data (e.g. `modules` via module memory)
        self._found = found or {}
        self._percpu: Optional[Dict[str, int]] = None
        self._tables: Dict[str, Optional[Tuple[int, Optional[int]]]] = {}
        self.btf: Any = None

    def lookup(self, name: str) -> Optional[Tuple[int, Optional[int]]]:
        """(address, size in bytes or None) of `name`, or None when the dump does not say."""
        # the export table first: VMCOREINFO's SYMBOL(mem_section) is the array the
        # pointer holds (VMCOREINFO_SYMBOL_ARRAY), not the variable's address
        addr = self.scan.exports().get(name)
        if addr is not None:
            return addr, None
        if name in self._vmcoreinfo:
            return self._vmcoreinfo[name], None
        pc = self._percpu_vars().get(name)
        if pc is not None:
            return pc, None
        return self._table(name)

    def _percpu_vars(self) -> Dict[str, int]:
        if self._percpu is None:
            self._percpu = {}
            if self.btf is not None:
                base = percpu_base(self.btf, self.scan.exports())
                if base is not None:
                    self._percpu = {n: base + off for n, off in datasec_offsets(self.btf).items()}
        return self._percpu

    def _table(self, name: str) -> Optional[Tuple[int, Optional[int]]]:
        if name not in self._tables:
            hit: Optional[Tuple[int, int]] = None
            if name == "task_state_array":
                got = self.scan.pointer_array(TASK_STATES)
                hit = (got[0], 8 * got[1]) if got else None
            elif name == "taint_flags":
                hit = self._taint_flags()
            elif name in self._found:
                self._tables[name] = None        # a lookup while searching finds nothing
                addr = self._found[name]()
                hit = (addr, None) if addr is not None else None
            self._tables[name] = hit
        return self._tables[name]

    def _taint_flags(self) -> Optional[Tuple[int, int]]:
        """struct taint_flag {char c_true, c_false; bool module;}[]: "PG", "F ", "S ",
        "R ", ... in kernel/panic.c order; its length runs while records look alike."""
        data = self.scan.data
        hits = [m.start() for m in TAINT_FLAGS_HEAD.finditer(data)]
        if len(hits) != 1:
            return None
        pos, n = hits[0], 0
        while pos + 3 * (n + 1) <= len(data) and n < 64:
            c, f, mod = data[pos + 3 * n:pos + 3 * n + 3]
            if not (0x41 <= c <= 0x5A and 0x20 <= f < 0x7F and mod in (0, 1)):
                break
            n += 1
        return self.scan.lo + pos, 3 * n


def image_window(prog: Any, info: Any) -> Tuple[int, int]:
    """[_etext, the first page-table symbol after it): the kernel's read-only data
    (rodata, the export table, BTF) on arm64 (swapper_pg_dir) and x86_64 (init_top_pgt)."""
    lo = prog.symbol("_etext").address
    for name in ("swapper_pg_dir", "init_top_pgt"):
        hi = info.symbol(name)
        if hi is not None and 0 < hi - lo <= MAX_SCAN_BYTES:
            return lo, hi
    raise ValueError("no page-table symbol in VMCOREINFO bounds the kernel's read-only data")
