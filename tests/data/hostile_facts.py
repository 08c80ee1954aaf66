"""Hostile dumps for the dump-facts layer (issue 9): a REAL dump with chosen kernel
data overwritten, so that BTF, kallsyms, VMCOREINFO and the page structures the
facts read lie about themselves.

A Patcher opens a real dump (kdump-compressed or ELF), looks symbols and member
offsets up through drgn on the unmodified file (its BTF and kallsyms), collects
writes at kernel virtual addresses, and saves a copy in which those bytes are
replaced:

* ELF: the bytes are written at the PT_LOAD file offset of each physical address;
* kdump-compressed: each touched page is read (decompressed) from the original,
  patched, appended raw at the end of the copy, and its page descriptor is
  rewritten to point there uncompressed (flags 0), so readers (triage's, drgn's
  libkdumpfile) see the patched page and nothing else changes.

VMCOREINFO lines can be changed in place too (same length: the note is rewritten
wherever its text appears in the file's headers).

Each mutation in MUTATIONS takes a Patcher and queues its writes. Run
`python3 tests/data/hostile_facts.py DUMP OUTDIR [NAME...]` to write them.
"""

import os
import random
import re
import shutil
import struct
import sys
from typing import Callable, Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

PAGE = 4096
HEADER_SCAN = 1 << 20      # VMCOREINFO copies live in the first MiB (kdump sub-header, ELF notes)


class Patcher:
    """Writes queued at kernel virtual addresses of one real dump, saved to a copy."""

    def __init__(self, src: str):
        from triage.dumps.vmcoreinfo import parse_vmcoreinfo
        from triage.facts.program import open_program
        from triage.logsource import open_reader
        from triage.memory.kernel import KernelMemory
        self.src = src
        self.opened = open_program([src])
        self.prog = self.opened.prog
        self.reader = open_reader([src])
        self.raw_vmcoreinfo = self.reader.vmcoreinfo()
        self.info = parse_vmcoreinfo(self.raw_vmcoreinfo)
        self.km = KernelMemory(self.reader, self.info, self.reader.facts().arch)
        self.format = self.reader.facts().format
        self.pages: Dict[int, bytearray] = {}          # pfn -> patched page
        self.vmci: List[Tuple[bytes, bytes]] = []      # (old line, new line) of VMCOREINFO
        self.btf = self.opened.btf

    # -- lookups on the unmodified dump --------------------------------------
    def sym(self, name: str) -> int:
        return self.prog.symbol(name).address

    def var(self, name: str) -> int:
        return self.prog[name].address_

    def offsetof(self, typ: str, member: str) -> int:
        from drgn import offsetof
        return offsetof(self.prog.type(typ), member)

    def read(self, vaddr: int, n: int) -> bytes:
        return self.prog.read(vaddr, n)

    def u64(self, vaddr: int) -> int:
        return struct.unpack("<Q", self.read(vaddr, 8))[0]

    def u32(self, vaddr: int) -> int:
        return struct.unpack("<I", self.read(vaddr, 4))[0]

    # -- queued writes ---------------------------------------------------------
    def _page(self, pfn: int) -> bytearray:
        page = self.pages.get(pfn)
        if page is None:
            page = self.pages[pfn] = bytearray(self.reader.read_phys(pfn * PAGE, PAGE))
        return page

    def write(self, vaddr: int, data: bytes) -> None:
        """Overwrite kernel virtual memory [vaddr, vaddr + len(data))."""
        pos = 0
        while pos < len(data):
            paddr, _left = self.km.translate(vaddr + pos)
            off = paddr % PAGE
            n = min(PAGE - off, len(data) - pos)
            self._page(paddr // PAGE)[off:off + n] = data[pos:pos + n]
            pos += n

    def write_u64(self, vaddr: int, value: int) -> None:
        self.write(vaddr, struct.pack("<Q", value & ((1 << 64) - 1)))

    def write_u32(self, vaddr: int, value: int) -> None:
        self.write(vaddr, struct.pack("<I", value & 0xFFFFFFFF))

    def write_phys(self, paddr: int, data: bytes) -> None:
        pos = 0
        while pos < len(data):
            off = (paddr + pos) % PAGE
            n = min(PAGE - off, len(data) - pos)
            self._page((paddr + pos) // PAGE)[off:off + n] = data[pos:pos + n]
            pos += n

    def set_vmcoreinfo(self, key: str, value: str) -> None:
        """Change `KEY=value` in VMCOREINFO; the new value must be as long as the old."""
        m = re.search(r"^" + re.escape(key) + r"=(.*)$", self.raw_vmcoreinfo, re.M)
        if m is None:
            raise KeyError(key)
        old = m.group(0).encode()
        new = f"{key}={value}".encode()
        if len(new) != len(old):
            raise ValueError(f"{key}: {value!r} is not as long as {m.group(1)!r}")
        self.vmci.append((old, new))

    # -- saving ----------------------------------------------------------------
    def save(self, dst: str) -> str:
        """Write the patched copy to `dst`; returns dst."""
        shutil.copyfile(self.src, dst)
        with open(dst, "r+b") as f:
            if self.vmci:
                head = bytearray(f.read(HEADER_SCAN))
                for old, new in self.vmci:
                    if old not in head:
                        raise ValueError(f"{old!r} not found in the file's headers")
                    head = bytearray(bytes(head).replace(old, new))
                f.seek(0)
                f.write(head)
            if self.format == "elf":
                self._save_elf(f)
            elif self.format == "kdump":
                self._save_kdump(f)
            else:
                raise ValueError(f"cannot patch a {self.format} dump")
        return dst

    def _save_elf(self, f) -> None:
        loads = self.reader.phys_ranges()     # (paddr, memsz, filesz)
        segs = [(p, fs, off) for (p, _m, fs), off in zip(loads, self._elf_offsets())]
        for pfn, page in self.pages.items():
            pa = pfn * PAGE
            for p, fs, off in segs:
                if p <= pa and pa + PAGE <= p + fs:
                    f.seek(off + pa - p)
                    f.write(page)
                    break
            else:
                raise ValueError(f"pfn {pfn:#x} is not in a PT_LOAD's file bytes")

    def _elf_offsets(self) -> List[int]:
        with open(self.src, "rb") as f:
            eh = f.read(64)
            phoff, = struct.unpack_from("<Q", eh, 32)
            phentsize, phnum = struct.unpack_from("<HH", eh, 54)
            f.seek(phoff)
            ph = f.read(phentsize * phnum)
        out = []
        for i in range(phnum):
            p_type, _flags, p_offset = struct.unpack_from("<IIQ", ph, i * phentsize)
            if p_type == 1:
                out.append(p_offset)
        return out

    def _save_kdump(self, f) -> None:
        from triage.dumps.kdump_header import PAGE_DESC
        part = self.reader._parts[0]
        f.seek(0, 2)
        for pfn, page in sorted(self.pages.items()):
            if not part.dumpable(pfn):
                raise ValueError(f"pfn {pfn:#x} is not in the dump: it cannot be patched")
            where = f.tell()
            f.write(page)
            desc = part.desc_offset(pfn)
            f2 = open(self.src, "rb")
            f2.seek(desc)
            _o, _s, _fl, pflags = PAGE_DESC.unpack(f2.read(PAGE_DESC.size))
            f2.close()
            cur = f.tell()
            f.seek(desc)
            f.write(PAGE_DESC.pack(where, PAGE, 0, pflags))
            f.seek(cur)

    def close(self) -> None:
        self.opened.close()
        self.reader.close()


# -- the BTF blob ------------------------------------------------------------------
def _btf_start(p: Patcher) -> int:
    return p.sym("__start_BTF")


def _btf_header(p: Patcher) -> Tuple[int, int, int, int, int]:
    """(hdr_len, type_off, type_len, str_off, str_len) of the dump's BTF."""
    raw = p.read(_btf_start(p), 24)
    return struct.unpack_from("<IIIII", raw, 4)


def _btf_type_pos(p: Patcher, name: str, kind: int) -> int:
    """Virtual address of the struct btf_type of the named type."""
    b = p.btf
    tid = b.find(name, (kind,))[0]
    return _btf_start(p) + b._offsets[tid]


def _flip_random(p: Patcher, start: int, length: int, n: int, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(n):
        at = start + rng.randrange(length)
        p.write(at, bytes([p.read(at, 1)[0] ^ (1 << rng.randrange(8))]))


def btf_magic(p: Patcher) -> None:
    p.write(_btf_start(p), b"\x9f\xec")


def btf_type_len_huge(p: Patcher) -> None:
    p.write_u32(_btf_start(p) + 12, 0xFFFFFFF0)


def btf_str_len_huge(p: Patcher) -> None:
    p.write_u32(_btf_start(p) + 20, 0xFFFFFFF0)


def btf_hdr_len_huge(p: Patcher) -> None:
    p.write_u32(_btf_start(p) + 4, 0x7FFFFFFF)


def btf_str_off_zero(p: Patcher) -> None:
    """String section laid over the type section: names read from type records."""
    p.write_u32(_btf_start(p) + 16, 0)


def btf_random_types(p: Patcher, seed: int = 1) -> None:
    hdr_len, type_off, type_len, _so, _sl = _btf_header(p)
    _flip_random(p, _btf_start(p) + hdr_len + type_off, type_len, 64, seed)


def btf_random_strings(p: Patcher, seed: int = 2) -> None:
    hdr_len, _to, _tl, str_off, str_len = _btf_header(p)
    _flip_random(p, _btf_start(p) + hdr_len + str_off, str_len, 256, seed)


def btf_strings_no_nul(p: Patcher) -> None:
    """Every NUL of the first 64 KiB of the string section replaced: names run on."""
    hdr_len, _to, _tl, str_off, str_len = _btf_header(p)
    at = _btf_start(p) + hdr_len + str_off + 1
    p.write(at, p.read(at, 1 << 16).replace(b"\0", b"A"))


def btf_task_vlen_huge(p: Patcher) -> None:
    """struct task_struct claims 65535 members: the records after it read as members."""
    at = _btf_type_pos(p, "task_struct", 4)
    info = p.u32(at + 4)
    p.write_u32(at + 4, info | 0xFFFF)


def btf_task_size_huge(p: Patcher) -> None:
    at = _btf_type_pos(p, "task_struct", 4)
    p.write_u32(at + 8, 0xFFFFFFF0)


def btf_members_bad_type(p: Patcher) -> None:
    """Every member of struct zone, task_struct, list_head names type id 0x7fffffff."""
    for name in ("zone", "task_struct", "list_head", "module"):
        at = _btf_type_pos(p, name, 4)
        vlen = p.u32(at + 4) & 0xFFFF
        for i in range(vlen):
            p.write_u32(at + 12 + 12 * i + 4, 0x7FFFFFFF)


def btf_members_huge_offset(p: Patcher) -> None:
    """Members of list_head and task_struct at bit offsets near 2**32."""
    for name in ("list_head", "task_struct"):
        at = _btf_type_pos(p, name, 4)
        vlen = p.u32(at + 4) & 0xFFFF
        for i in range(vlen):
            p.write_u32(at + 12 + 12 * i + 8, 0xFFFFFF00 - 64 * i)


def btf_pointer_cycle(p: Patcher) -> None:
    """Every PTR and TYPEDEF record of the first 4000 types points at itself."""
    b = p.btf
    base = _btf_start(p)
    for tid in range(1, min(b.count, 4000)):
        t = b.type(tid)
        if t.kind in (2, 8, 9, 10):      # PTR, TYPEDEF, VOLATILE, CONST
            p.write_u32(base + b._offsets[tid] + 8, tid)


def btf_array_huge(p: Patcher) -> None:
    """Every ARRAY claims 2**32-1 elements (zone.free_area, task.comm, ...)."""
    b = p.btf
    base = _btf_start(p)
    for tid in range(1, b.count):
        if b._kind(tid) == 3:
            p.write_u32(base + b._offsets[tid] + 12 + 8, 0xFFFFFFFF)


def btf_int_huge(p: Patcher) -> None:
    """Every INT claims 2**31 bytes."""
    b = p.btf
    base = _btf_start(p)
    for tid in range(1, b.count):
        if b._kind(tid) == 1:
            p.write_u32(base + b._offsets[tid] + 8, 0x80000000)


def btf_enum_vlen_huge(p: Patcher) -> None:
    """enum zone_stat_item/node_stat_item claim 65535 enumerators."""
    for name in ("zone_stat_item", "node_stat_item", "pageflags"):
        at = _btf_type_pos(p, name, 6)
        p.write_u32(at + 4, p.u32(at + 4) | 0xFFFF)


# -- kallsyms -------------------------------------------------------------------------
def _ks(p: Patcher, name: str) -> int:
    """A kallsyms table's address: VMCOREINFO's (6.0+), else where the image scan
    (triage.facts.kallsyms_scan, kernels before 6.0) finds it."""
    addr = p.info.symbol(name)
    if addr is not None:
        return addr
    if not hasattr(p, "_scanned"):
        from triage.facts.program import _scan_locations
        p._scanned = _scan_locations(p.reader, p.info, p.reader.facts().arch)
    return getattr(p._scanned, name)


def kallsyms_num_syms_huge(p: Patcher) -> None:
    p.write_u32(_ks(p, "kallsyms_num_syms"), 0xFFFFFFFF)


def kallsyms_num_syms_x4(p: Patcher) -> None:
    """Four times the real count: plausible, but the names run past their table."""
    at = _ks(p, "kallsyms_num_syms")
    p.write_u32(at, p.u32(at) * 4)


def kallsyms_token_table_garbage(p: Patcher) -> None:
    rng = random.Random(3)
    p.write(_ks(p, "kallsyms_token_table"), bytes(rng.randrange(1, 256) for _ in range(4096)))


def kallsyms_token_index_garbage(p: Patcher) -> None:
    rng = random.Random(4)
    p.write(_ks(p, "kallsyms_token_index"), bytes(rng.randrange(256) for _ in range(512)))


def kallsyms_token_index_far(p: Patcher) -> None:
    """Increasing token index whose entries point 60 KiB into the names."""
    p.write(_ks(p, "kallsyms_token_index"), struct.pack("<256H", *range(0xF000 - 256 * 8, 0xF000, 8)))


def kallsyms_names_garbage(p: Patcher) -> None:
    rng = random.Random(5)
    p.write(_ks(p, "kallsyms_names"), bytes(rng.randrange(256) for _ in range(1 << 16)))


def kallsyms_names_long(p: Patcher) -> None:
    """Every name length prefix the "big" form at its largest (0x7fff bytes)."""
    p.write(_ks(p, "kallsyms_names"), b"\xff\xff" * 8192)


def kallsyms_offsets_garbage(p: Patcher) -> None:
    rng = random.Random(6)
    n = p.u32(_ks(p, "kallsyms_num_syms"))
    p.write(_ks(p, "kallsyms_offsets"), bytes(rng.randrange(256) for _ in range(4 * n)))


def kallsyms_relative_base_garbage(p: Patcher) -> None:
    p.write_u64(_ks(p, "kallsyms_relative_base"), 0x4141414141414141)


def _kallsyms_entry(p: Patcher, name: str) -> Tuple[int, bool]:
    """(address of `name`'s kallsyms_offsets entry, stored relative?): with
    KALLSYMS_ABSOLUTE_PERCPU a kernel address is stored as ~(addr - relative_base)."""
    base = p.u64(_ks(p, "kallsyms_relative_base"))
    n = p.u32(_ks(p, "kallsyms_num_syms"))
    offs = p.read(_ks(p, "kallsyms_offsets"), 4 * n)
    d = p.sym(name) - base
    for raw, inverted in ((struct.pack("<i", ~d), True), (struct.pack("<I", d & 0xFFFFFFFF), False)):
        i = offs.find(raw)
        while i >= 0 and i % 4:
            i = offs.find(raw, i + 1)
        if i >= 0:
            return _ks(p, "kallsyms_offsets") + i, inverted
    raise LookupError(name)


def _kallsyms_set(p: Patcher, name: str, addr: int) -> None:
    at, inverted = _kallsyms_entry(p, name)
    d = addr - p.u64(_ks(p, "kallsyms_relative_base"))
    p.write(at, struct.pack("<i", ~d) if inverted else struct.pack("<I", d & 0xFFFFFFFF))


def kallsyms_btf_symbols_swapped(p: Patcher) -> None:
    """__start_BTF and __stop_BTF exchanged in kallsyms_offsets (the size is negative)."""
    start, stop = p.sym("__start_BTF"), p.sym("__stop_BTF")
    _kallsyms_set(p, "__start_BTF", stop)
    _kallsyms_set(p, "__stop_BTF", start)


def kallsyms_stop_btf_far(p: Patcher) -> None:
    """__stop_BTF moved 60 MiB past __start_BTF: a plausible size over other data."""
    _kallsyms_set(p, "__stop_BTF", p.sym("__start_BTF") + (60 << 20))


def kallsyms_init_task_elsewhere(p: Patcher) -> None:
    """init_task (and node_data, modules) placed at _stext: their fields are code."""
    for name in ("init_task", "node_data", "modules", "vm_zone_stat"):
        _kallsyms_set(p, name, p.sym("_stext"))


def orc_ip_garbage(p: Patcher) -> None:
    """The kernel's ORC ip table (what drgn and triage.facts.orc unwind with) overwritten."""
    start = p.sym("__start_orc_unwind_ip")
    n = min(p.sym("__stop_orc_unwind_ip") - start, 1 << 20)
    rng = random.Random(7)
    p.write(start, bytes(rng.randrange(256) for _ in range(n)))


def orc_unwind_garbage(p: Patcher) -> None:
    """The ORC entries themselves (sp/bp offsets, types) overwritten: unwinding follows garbage."""
    start = p.sym("__start_orc_unwind")
    n = min(p.sym("__stop_orc_unwind") - start, 1 << 20)
    rng = random.Random(8)
    p.write(start, bytes(rng.randrange(256) for _ in range(n)))


def orc_stop_far(p: Patcher) -> None:
    """__stop_orc_unwind_ip (and __stop_orc_unwind) moved 1 GiB on: tables claimed huge."""
    _kallsyms_set(p, "__stop_orc_unwind_ip", p.sym("__stop_orc_unwind_ip") + (1 << 30))
    _kallsyms_set(p, "__stop_orc_unwind", p.sym("__stop_orc_unwind") + (1 << 30))


def task_stacks_garbage(p: Patcher) -> None:
    """Every listed task's saved stack pointer (thread.sp) points at its own task_struct."""
    off = p.offsetof("struct task_struct", "thread") + p.offsetof("struct thread_struct", "sp")
    for t in _task_list(p, 200):
        p.write_u64(t + off, t)


# -- VMCOREINFO pointing elsewhere ------------------------------------------------------
def _vmci_sym(p: Patcher, key: str, target: int) -> None:
    old = p.info.symbol(key)
    width = len(re.search(r"^SYMBOL\(" + re.escape(key) + r"\)=(.*)$", p.raw_vmcoreinfo, re.M).group(1))
    p.set_vmcoreinfo(f"SYMBOL({key})", f"{target:0{width}x}"[-width:])
    assert old is not None


def vmci_names_at_token_table(p: Patcher) -> None:
    _vmci_sym(p, "kallsyms_names", _ks(p, "kallsyms_token_table"))


def vmci_num_syms_at_text(p: Patcher) -> None:
    """kallsyms_num_syms named at _stext: the count is machine code."""
    _vmci_sym(p, "kallsyms_num_syms", p.info.symbol("_stext"))


def vmci_token_table_at_names(p: Patcher) -> None:
    _vmci_sym(p, "kallsyms_token_table", _ks(p, "kallsyms_names"))


def vmci_offsets_at_names(p: Patcher) -> None:
    _vmci_sym(p, "kallsyms_offsets", _ks(p, "kallsyms_names"))


def vmci_kallsyms_unmapped(p: Patcher) -> None:
    """Every kallsyms table named at an address no page table maps."""
    for key in ("kallsyms_names", "kallsyms_token_table", "kallsyms_token_index", "kallsyms_offsets"):
        _vmci_sym(p, key, 0xFFFFFFFFFF000000)


def vmci_mem_section_garbage(p: Patcher) -> None:
    _vmci_sym(p, "mem_section", 0xFFFFFFFF81000000)


# -- kernel data structures ----------------------------------------------------------
def _tasks_off(p: Patcher) -> int:
    return p.offsetof("struct task_struct", "tasks")


def _task_list(p: Patcher, n: int) -> List[int]:
    """Addresses of the first n tasks after init_task."""
    off = _tasks_off(p)
    init = p.var("init_task")
    out, node = [], p.u64(init + off)
    while len(out) < n and node != init + off:
        out.append(node - off)
        node = p.u64(node)
    return out


def tasks_cycle(p: Patcher) -> None:
    """The 5th task's tasks.next points back at the 2nd: a loop missing the head."""
    t = _task_list(p, 5)
    p.write_u64(t[4] + _tasks_off(p), t[1] + _tasks_off(p))


def tasks_self(p: Patcher) -> None:
    """A task whose tasks.next points at itself."""
    t = _task_list(p, 3)
    p.write_u64(t[2] + _tasks_off(p), t[2] + _tasks_off(p))


def tasks_garbage(p: Patcher) -> None:
    t = _task_list(p, 3)
    p.write_u64(t[2] + _tasks_off(p), 0xDEAD000000000100)


def tasks_into_user(p: Patcher) -> None:
    t = _task_list(p, 3)
    p.write_u64(t[2] + _tasks_off(p), 0x00007FFF00001000)


def task_mm_garbage(p: Patcher) -> None:
    """Every listed task's mm points at kernel text (RSS counters are code)."""
    off = p.offsetof("struct task_struct", "mm")
    for t in _task_list(p, 200):
        if p.u64(t + off):
            p.write_u64(t + off, p.sym("_stext"))


def task_comm_no_nul(p: Patcher) -> None:
    off = p.offsetof("struct task_struct", "comm")
    for t in _task_list(p, 50):
        p.write(t + off, b"X" * 16)


def _pid_idr_root(p: Patcher) -> int:
    """Address of the top struct xa_node of init_pid_ns.idr (the tree for_each_task walks)."""
    head = p.prog["init_pid_ns"].idr.idr_rt.xa_head.value_()
    assert head & 3 == 2, "the pid IDR has no internal node"
    return head - 2


def pid_idr_self(p: Patcher) -> None:
    """The pid IDR's top node lists itself as its first child: an endless descent."""
    root = _pid_idr_root(p)
    p.write_u64(root + p.offsetof("struct xa_node", "slots"), root + 2)


def pid_idr_child_loop(p: Patcher) -> None:
    """The first leaf node's first slot points back at the top node."""
    root = _pid_idr_root(p)
    slots = p.offsetof("struct xa_node", "slots")
    child = p.u64(root + slots)
    p.write_u64(child - 2 + slots, root + 2)


def pid_idr_fanout(p: Patcher) -> None:
    """Every slot of the top node, and the top node's shift raised to 60: the same
    leaf node 64 times over, at indexes past any pid."""
    root = _pid_idr_root(p)
    slots = p.offsetof("struct xa_node", "slots")
    child = p.u64(root + slots)
    p.write(root + slots, struct.pack("<Q", child) * 64)
    p.write(root, b"\x3c")


def pid_idr_leaves_garbage(p: Patcher) -> None:
    """Every pid the IDR holds points into unmapped memory."""
    root = _pid_idr_root(p)
    slots = p.offsetof("struct xa_node", "slots")
    child = p.u64(root + slots) - 2
    p.write(child + slots, struct.pack("<Q", 0xFFFFFFFFFF000000) * 64)


def _module_list(p: Patcher) -> Tuple[int, int, List[int]]:
    head = p.var("modules")
    off = p.offsetof("struct module", "list")
    out, node = [], p.u64(head)
    while node != head and len(out) < 100:
        out.append(node)
        node = p.u64(node)
    return head, off, out


def modules_cycle(p: Patcher) -> None:
    _head, _off, nodes = _module_list(p)
    p.write_u64(nodes[-1], nodes[0])


def modules_garbage(p: Patcher) -> None:
    _head, _off, nodes = _module_list(p)
    p.write_u64(nodes[0], 0x4141414141414141)


def module_name_no_nul(p: Patcher) -> None:
    _head, off, nodes = _module_list(p)
    name = p.offsetof("struct module", "name")
    for n in nodes:
        p.write(n - off + name, b"M" * 56)


def vmap_area_cycle(p: Patcher) -> None:
    head = p.sym("vmap_area_list")
    first = p.u64(head)
    p.write_u64(first, first)


def _zones(p: Patcher) -> List[int]:
    """Addresses of node 0's struct zones."""
    pgdat = p.u64(p.var("node_data"))
    zsize = p.prog.type("struct zone").size
    zoff = p.offsetof("struct pglist_data", "node_zones")
    n = p.prog.type("struct pglist_data").member("node_zones").type.length
    return [pgdat + zoff + i * zsize for i in range(n)]


def _free_heads(p: Patcher) -> List[Tuple[int, int]]:
    """(zone address, free_list head address) of every non-empty free list."""
    fa = p.offsetof("struct zone", "free_area")
    area = p.prog.type("struct free_area")
    fl = p.offsetof("struct free_area", "free_list")
    nmt = area.member("free_list").type.length
    norders = p.prog.type("struct zone").member("free_area").type.length
    out = []
    for z in _zones(p):
        for o in range(norders):
            for mt in range(nmt):
                head = z + fa + o * area.size + fl + 16 * mt
                if p.u64(head) not in (head, 0):
                    out.append((z, head))
    return out


def free_list_cycle(p: Patcher) -> None:
    """Every non-empty free list's first entry points at itself."""
    for _z, head in _free_heads(p):
        first = p.u64(head)
        p.write_u64(first, first)


def free_list_garbage(p: Patcher) -> None:
    for _z, head in _free_heads(p):
        p.write_u64(head, 0x4141414141414141)


def nr_free_huge(p: Patcher) -> None:
    fa = p.offsetof("struct zone", "free_area")
    area = p.prog.type("struct free_area")
    nf = p.offsetof("struct free_area", "nr_free")
    norders = p.prog.type("struct zone").member("free_area").type.length
    for z in _zones(p):
        for o in range(norders):
            p.write_u64(z + fa + o * area.size + nf, (1 << 63) - 1)


def zone_counts_absurd(p: Patcher) -> None:
    """spanned/present/managed pages, watermarks and vm_stat counters near 2**63."""
    zone = p.prog.type("struct zone")
    names = ["spanned_pages", "present_pages", "managed_pages", "zone_start_pfn"]
    for z in _zones(p):
        for n in names:
            p.write_u64(z + p.offsetof("struct zone", n), (1 << 63) - 7)
        wm = p.offsetof("struct zone", "_watermark")
        for i in range(zone.member("_watermark").type.length):
            p.write_u64(z + wm + 8 * i, 1 << 62)
        vs = p.offsetof("struct zone", "vm_stat")
        for i in range(zone.member("vm_stat").type.length):
            p.write_u64(z + vs + 8 * i, (1 << 63) - 1)


def vm_stat_absurd(p: Patcher) -> None:
    for name, items in (("vm_zone_stat", "NR_VM_ZONE_STAT_ITEMS"), ("vm_node_stat", "NR_VM_NODE_STAT_ITEMS")):
        n = p.prog.constant(items).value_()
        p.write(p.var(name), b"\xff\xff\xff\xff\xff\xff\xff\x7f" * n)
    p.write_u64(p.var("_totalram_pages"), (1 << 63) - 1)


def node_data_garbage(p: Patcher) -> None:
    p.write_u64(p.var("node_data"), 0x4141414141414141)


def pgtable_self(p: Patcher) -> None:
    """Every top-level page-table entry of init_top_pgt (swapper) points at the table itself."""
    pgd = p.info.symbol("init_top_pgt")
    phys, _ = p.km.translate(pgd)
    entry = phys | 0x63
    data = p.read(pgd, PAGE)
    out = bytearray(data)
    for i in range(256, 512):   # kernel half: direct map, vmalloc, vmemmap, kernel text
        if struct.unpack_from("<Q", data, 8 * i)[0] & 1:
            struct.pack_into("<Q", out, 8 * i, entry)
    p.write(pgd, bytes(out))


def mem_section_garbage(p: Patcher) -> None:
    """Every other root pointer of mem_section points at kernel text."""
    ms = p.var("mem_section")
    root = p.u64(ms)
    for i in range(64):
        p.write_u64(root + 16 * i, 0xFFFFFFFF81000000 | 1)


def mem_section_huge_map(p: Patcher) -> None:
    """Every other root pointer of mem_section points at an unmapped address."""
    ms = p.var("mem_section")
    root = p.u64(ms)
    for i in range(64):
        p.write_u64(root + 16 * i, 0xFFFF800000000000 | 3)


def mem_map_excluded(p: Patcher) -> None:
    """Every section's mem_map moved onto RAM the dump left out (kdump) or into a
    hole (ELF): the struct pages cannot be read."""
    part = p.reader._parts[0] if hasattr(p.reader, "_parts") else None
    target = None
    if part is not None:
        target = next(pfn for pfn in range(0x1000, part.hdr.max_mapnr)
                      if part.bitmap1.test(pfn) and not part.bitmap2.test(pfn))
    base = p.u64(p.var("page_offset_base"))
    addr = base + (target if target is not None else 0xFFFFFFF) * PAGE
    block = _mem_section_block(p)
    pps = 1 << (p.info.number("SECTION_SIZE_BITS") - 12)
    size = p.prog.type("struct page").size
    for sec in range(64):
        if p.u64(block + 16 * sec) & 1:
            p.write_u64(block + 16 * sec, (addr - sec * pps * size) | 3)


def _mem_section_block(p: Patcher) -> int:
    """Address of mem_section[0][0] (SPARSEMEM_EXTREME: mem_section is an array of
    pointers to blocks of struct mem_section, 16 bytes each)."""
    return p.u64(p.u64(p.var("mem_section")))


def page_flags_all_buddy(p: Patcher) -> None:
    """The first 8 MiB of struct pages claim to be free order-63 buddies."""
    mem_map = p.u64(_mem_section_block(p)) & ~0x1F
    page = p.prog.type("struct page").size
    mc = p.offsetof("struct page", "_mapcount")
    pv = p.offsetof("struct page", "private")
    buddy = p.info.number("PAGE_BUDDY_MAPCOUNT_VALUE") & 0xFFFFFFFF
    for i in range(0, 2048):
        try:
            p.write_u32(mem_map + i * page + mc, buddy)
            p.write_u64(mem_map + i * page + pv, 10)
        except Exception:    # noqa: BLE001 - a struct page not in the dump
            break


def panic_cpu_huge(p: Patcher) -> None:
    p.write_u32(p.var("panic_cpu"), 0x7FFFFFF0)


def per_cpu_offset_garbage(p: Patcher) -> None:
    v = p.var("__per_cpu_offset")
    for i in range(8):
        p.write_u64(v + 8 * i, 0x4141414141414141)


def cpu_masks_full(p: Patcher) -> None:
    """Every CPU present and online, nr_cpu_ids 8192."""
    for name in ("__cpu_present_mask", "__cpu_online_mask", "__cpu_possible_mask"):
        v = p.var(name)
        p.write(v, b"\xff" * p.prog[name].type_.size)
    p.write_u32(p.var("nr_cpu_ids"), 8192)


MUTATIONS: Dict[str, Callable[[Patcher], None]] = {
    f.__name__: f for f in (
        btf_magic, btf_type_len_huge, btf_str_len_huge, btf_hdr_len_huge, btf_str_off_zero,
        btf_random_types, btf_random_strings, btf_strings_no_nul, btf_task_vlen_huge,
        btf_task_size_huge, btf_members_bad_type, btf_members_huge_offset, btf_pointer_cycle,
        btf_array_huge, btf_int_huge, btf_enum_vlen_huge,
        kallsyms_num_syms_huge, kallsyms_num_syms_x4, kallsyms_token_table_garbage,
        kallsyms_token_index_garbage, kallsyms_token_index_far, kallsyms_names_garbage,
        kallsyms_names_long, kallsyms_offsets_garbage, kallsyms_relative_base_garbage,
        kallsyms_btf_symbols_swapped, kallsyms_stop_btf_far, kallsyms_init_task_elsewhere,
        orc_ip_garbage, orc_unwind_garbage, orc_stop_far, task_stacks_garbage,
        vmci_names_at_token_table, vmci_num_syms_at_text, vmci_token_table_at_names,
        vmci_offsets_at_names, vmci_kallsyms_unmapped, vmci_mem_section_garbage,
        pid_idr_self, pid_idr_child_loop, pid_idr_fanout, pid_idr_leaves_garbage,
        tasks_cycle, tasks_self, tasks_garbage, tasks_into_user, task_mm_garbage, task_comm_no_nul,
        modules_cycle, modules_garbage, module_name_no_nul, vmap_area_cycle,
        free_list_cycle, free_list_garbage, nr_free_huge, zone_counts_absurd, vm_stat_absurd,
        node_data_garbage, pgtable_self, mem_section_garbage, mem_section_huge_map,
        page_flags_all_buddy, mem_map_excluded, panic_cpu_huge, per_cpu_offset_garbage, cpu_masks_full)}
# seeded random flips beyond the default seed
for _seed in (11, 12, 13):
    MUTATIONS[f"btf_random_types_{_seed}"] = (lambda s: lambda p: btf_random_types(p, s))(_seed)
    MUTATIONS[f"btf_random_strings_{_seed}"] = (lambda s: lambda p: btf_random_strings(p, s))(_seed)


def make(src: str, name: str, dst: str) -> str:
    """Write `src` with mutation `name` applied to `dst`; "a+b" applies a, then b."""
    p = Patcher(src)
    try:
        for part in name.split("+"):
            MUTATIONS[part](p)
        return p.save(dst)
    finally:
        p.close()


def main(argv: List[str]) -> int:
    src, out = argv[0], argv[1]
    os.makedirs(out, exist_ok=True)
    for name in argv[2:] or sorted(MUTATIONS):
        try:
            make(src, name, os.path.join(out, name))
            print(name)
        except Exception as exc:     # noqa: BLE001 - a generator run reports and goes on
            print(name, "FAILED:", type(exc).__name__, exc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
