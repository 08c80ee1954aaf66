"""Shape checks of kernel containers read from a dump, made before drgn's helpers walk them.

drgn's helpers trust the kernel's invariants. On a damaged dump some of their
walks never yield, so no caller-side count can stop them: `xa_for_each` (under
`for_each_task`, which walks the pid IDR) pushes a node for every internal
entry it meets, and an XArray node listing itself (or an ancestor) as a child
makes it descend forever, growing its stack by gigabytes. These checks walk
the same structure with the kernel's own rules as bounds, and raise
ContainerError with the reason; the fact is then missing, never a hang.
"""

import struct
from typing import Any

MAX_XA_NODES = 1 << 17        # pid IDR: PID_MAX_LIMIT (4M) / 64 per leaf = 65536 leaves, plus their parents
XA_CHUNK_SHIFTS = (4, 6)      # XA_CHUNK_SHIFT: 6, or 4 with CONFIG_BASE_SMALL


class ContainerError(ValueError):
    """A kernel container in the dump breaks the kernel's own invariants."""


def _is_node(entry: int) -> bool:
    # xa_is_node(): an internal entry above the retry/sibling range
    return entry & 3 == 2 and entry > 4096


def check_xarray(prog: Any, xa: Any, what: str, max_nodes: int = MAX_XA_NODES) -> int:
    """Check that the XArray `xa` (a `struct xarray` object) is a tree whose nodes'
    shifts fall by XA_CHUNK_SHIFT from parent to child, reached once each, at
    most `max_nodes` of them; returns the number of nodes. ContainerError says
    what is wrong. An XArray held in its head alone (no node) passes."""
    head = xa.xa_head.value_()
    if not _is_node(head):
        return 0
    node_type = prog.type("struct xa_node")
    slots_member = node_type.member("slots")
    nslots = slots_member.type.length or 0
    chunk = nslots.bit_length() - 1
    if chunk not in XA_CHUNK_SHIFTS or nslots != 1 << chunk:
        raise ContainerError(f"{what}: struct xa_node has {nslots} slots (the kernel has 16 or 64)")
    shift_off = node_type.member("shift").offset
    slots_off = slots_member.offset
    seen = set()
    # (node address, the shift its parent requires, or None for the top node)
    stack = [(head - 2, None)]
    while stack:
        node, want = stack.pop()
        if node in seen:
            raise ContainerError(f"{what}: XArray node {node:#x} is reached twice (a loop)")
        seen.add(node)
        if len(seen) > max_nodes:
            raise ContainerError(f"{what}: XArray has more than {max_nodes} nodes")
        try:
            shift = prog.read(node + shift_off, 1)[0]
            raw = prog.read(node + slots_off, 8 * nslots)
        except Exception as exc:    # noqa: BLE001 - FaultError: the node is not in the dump
            raise ContainerError(f"{what}: XArray node {node:#x} is not readable ({exc})") from None
        if shift % chunk or shift >= 64 or (want is not None and shift != want):
            raise ContainerError(f"{what}: XArray node {node:#x} has shift {shift}"
                                 + (f" where its parent requires {want}" if want is not None else ""))
        children = [e - 2 for e in struct.unpack(f"<{nslots}Q", raw) if _is_node(e)]
        if children and shift == 0:
            raise ContainerError(f"{what}: XArray leaf node {node:#x} (shift 0) has child nodes")
        stack += [(c, shift - chunk) for c in children]
    return len(seen)


MAX_LIST = 1 << 20            # entries of one kernel list walked at most


def check_list(prog: Any, head: int, what: str, max_entries: int = MAX_LIST) -> int:
    """Check that the `struct list_head` at `head` is a ring back to it: every `next`
    readable, no entry met twice, at most `max_entries`; returns the number of
    entries (`prev` links are not judged: a dump taken while a module loaded may
    hold one half-made). libdrgn walks some lists in C (the module list, for
    kallsyms and loaded modules) where no Python bound can stop it."""
    node, n = None, 0
    seen = set()
    try:
        node = struct.unpack("<Q", prog.read(head, 8))[0]
        while node != head:
            if node in seen:
                raise ContainerError(f"{what}: list entry {node:#x} is reached twice (a loop)")
            n += 1
            if n > max_entries:
                raise ContainerError(f"{what}: list is longer than {max_entries} entries")
            seen.add(node)
            node = struct.unpack("<Q", prog.read(node, 8))[0]
    except ContainerError:
        raise
    except Exception as exc:    # noqa: BLE001 - FaultError: a link leads out of the dump
        where = f"{node:#x}" if node is not None else f"head {head:#x}"
        raise ContainerError(f"{what}: list entry {where} is not readable ({exc})") from None
    return n
