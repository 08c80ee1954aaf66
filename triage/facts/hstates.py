"""The hugetlb `hstates` array, found in the kernel's data by its contents.

`hstates` (mm/hugetlb.c) is neither exported nor in a functions-only kallsyms.
Every registered hstate names itself "hugepages-<size>kB", and that size must
equal 2^(order + PAGE_SHIFT) / 1024 from the same struct: each candidate in
the kernel's data segment (the vmap area holding init_task, from the export
table) is checked that way, and the array is the run of such hstates at
sizeof(struct hstate) strides. Member offsets come from BTF.
"""

import re
from typing import Any, Optional

from triage.facts.modlist import read_present

MAX_DATA_BYTES = 256 << 20
NAME = re.compile(rb"hugepages-(\d{1,9})kB\0")


def hstates_address(prog: Any) -> Optional[int]:
    """&hstates[0], or None when no self-consistent hstate is found."""
    from drgn.helpers.linux.list import list_for_each_entry
    anchor = prog["init_task"].address_
    lo = hi = None
    for i, va in enumerate(list_for_each_entry("struct vmap_area", prog["vmap_area_list"].address_of_(), "list")):
        if i > 1 << 16:
            return None
        s, e = va.va_start.value_(), va.va_end.value_()
        if s <= anchor < e:
            lo, hi = s, e
            break
    if lo is None or hi - lo > MAX_DATA_BYTES:
        return None
    typ = prog.type("struct hstate")
    name_off = typ.member("name").bit_offset // 8
    order_off = typ.member("order").bit_offset // 8
    order_size = typ.member("order").type.size
    page_shift = prog["PAGE_SHIFT"].value_()
    found = []
    for chunk in range(lo, hi, 1 << 20):
        data = read_present(prog, chunk, min(1 << 20, hi - chunk))
        for m in NAME.finditer(data):
            h = chunk + m.start() - name_off
            try:
                order = int.from_bytes(prog.read(h + order_off, order_size), "little")
            except Exception:  # noqa: BLE001
                continue
            if order < 48 and (1 << (order + page_shift)) // 1024 == int(m.group(1)):
                found.append(h)
    if not found:
        return None
    # the array's first element: no valid hstate one stride before it
    first = min(found)
    while first - typ.size in found:
        first -= typ.size
    return first

