"""The address of the kernel's `modules` list head, found through the modules' memory.

`modules` is static in kernel/module/, so neither the export table nor a
functions-only kallsyms names it. Each loaded module's struct module lies in
one of its own allocations and records that allocation's start
(`core_layout.base` before 6.4, `mem[MOD_DATA].base` from 6.4: the member is
chosen by what the BTF type has). So: walk vmap_area_list (VMCOREINFO) for the
areas where modules can be (MODULES_VADDR..MODULES_END; with arm64's KASLR
within 4 GiB of the kernel image, found at 1.8 GiB below it here), look in each for its own start address
at that member's offset, check the candidate (a NUL-terminated name, a
module_state value, a list node whose neighbours point back), and follow its
list to the one node outside module memory: the head.
"""

import struct
from typing import Any, List, Optional, Sequence, Tuple

MAX_AREAS = 1 << 16
MAX_AREA_BYTES = 64 << 20
CHUNK = 1 << 20
PAGE = 4096                 # the smallest granule: reads never straddle a missing page
MAX_MODULES = 10_000
NAME_LEN_MAX = 256


def modules_head(prog: Any, windows: Sequence[Tuple[int, int]], image: Tuple[int, int]) -> Optional[int]:
    """&modules, or None when no loaded module is found in the vmap areas that start
    in `windows` (MODULES_VADDR..MODULES_END, and the +-4 GiB around the kernel
    image where arm64's KASLR puts modules) and lie outside the `image` range."""
    from drgn.helpers.linux.list import list_for_each_entry
    mod_t = prog.type("struct module")
    base_off = _base_offset(prog, mod_t)
    list_off = mod_t.member("list").bit_offset // 8
    areas: List[Tuple[int, int]] = []
    for i, va in enumerate(list_for_each_entry("struct vmap_area", prog["vmap_area_list"].address_of_(), "list")):
        if i >= MAX_AREAS:
            break
        start, end = va.va_start.value_(), va.va_end.value_()
        if (start < end and end - start <= MAX_AREA_BYTES and not image[0] <= start < image[1]
                and any(lo <= start < hi for lo, hi in windows)):
            areas.append((end - start, start))
    spans = [(start, start + size) for size, start in areas]
    for size, start in sorted(areas):           # small modules first: one is enough
        mod = _module_in(prog, mod_t, start, size, base_off)
        if mod is None:
            continue
        head = _walk_to_head(prog, mod + list_off, spans)
        if head is not None:
            return head
    return None


def _base_offset(prog: Any, mod_t: Any) -> int:
    """Byte offset in struct module of the base of the allocation holding it."""
    names = {m.name for m in mod_t.members}
    if "mem" in names:                          # 6.4+: struct module_memory mem[MOD_MEM_NUM_TYPES]
        mem = mod_t.member("mem")
        elem = mem.type.type
        idx = prog.constant("MOD_DATA").value_()
        return (mem.bit_offset + elem.member("base").bit_offset) // 8 + idx * elem.size
    core = mod_t.member("core_layout")
    return (core.bit_offset + core.type.member("base").bit_offset) // 8


def _module_in(prog: Any, mod_t: Any, start: int, size: int, base_off: int) -> Optional[int]:
    """Address of a plausible struct module inside the allocation [start, start+size)."""
    needle = struct.pack("<Q", start)
    name_off = mod_t.member("name").bit_offset // 8
    name_len = min(mod_t.member("name").type.length or 0, NAME_LEN_MAX)
    for chunk_at in range(start, start + size, CHUNK):
        data = read_present(prog, chunk_at, min(CHUNK, start + size - chunk_at))
        pos = data.find(needle)
        while pos >= 0:
            cand = chunk_at + pos - base_off
            if pos % 8 == 0 and _plausible(prog, cand, name_off, name_len):
                return cand
            pos = data.find(needle, pos + 1)
    return None


def read_present(prog: Any, addr: int, size: int) -> bytes:
    """[addr, addr+size) with unreadable pages (the area's trailing guard page, pages
    a filtered dump left out) as zeros."""
    parts = []
    for a in range(addr, addr + size, PAGE):
        n = min(PAGE, addr + size - a)
        try:
            parts.append(prog.read(a, n))
        except Exception:      # noqa: BLE001 - FaultError
            parts.append(bytes(n))
    return b"".join(parts)


def _plausible(prog: Any, mod: int, name_off: int, name_len: int) -> bool:
    import drgn
    try:
        m = drgn.Object(prog, "struct module", address=mod)
        name = prog.read(mod + name_off, name_len)
        end = name.find(b"\0")
        if end <= 0 or not all(0x21 <= c < 0x7F for c in name[:end]):
            return False
        states = {e.value for e in prog.type("enum module_state").enumerators}
        if m.state.value_() not in states:
            return False
        node = m.list.address_of_()
        return m.list.next.prev.value_() == node.value_() and m.list.prev.next.value_() == node.value_()
    except Exception:          # noqa: BLE001 - FaultError: not a module after all
        return False


def _walk_to_head(prog: Any, node: int, spans: Sequence[Tuple[int, int]]) -> Optional[int]:
    """Follow list_head.next from a module's node to the first node outside module
    memory, checked to be a consistent list head."""
    import drgn
    seen = set()
    for _ in range(MAX_MODULES + 1):
        if node in seen:
            return None
        seen.add(node)
        try:
            nxt = drgn.Object(prog, "struct list_head", address=node).next.value_()
        except Exception:      # noqa: BLE001
            return None
        if not any(lo <= nxt < hi for lo, hi in spans):
            try:
                head = drgn.Object(prog, "struct list_head", address=nxt)
                if head.next.prev.value_() == nxt and head.prev.next.value_() == nxt:
                    return nxt
            except Exception:  # noqa: BLE001
                pass
            return None
        node = nxt
    return None
