"""The address an x86_64 oops's faulting instruction accessed, from its "Code:" line and
register dump alone.

arch/x86/kernel/dumpstack.c show_opcodes() prints the bytes around the faulting RIP and marks
the one at RIP: "Code: 48 8b 47 10 <48> 8b 40 08 c3". A fault leaves RIP at the instruction
that raised it, so the marked bytes start that instruction; __show_regs() prints the general
registers it used ("RAX: %016lx RBX: %016lx RCX: %016lx", ...). Decoding the instruction's
memory operand and adding up its base, index and displacement gives the address it accessed:
what a kernel engineer does by hand when an excerpt lost the report's header and CR2. The
decoding is Capstone's (a maintained disassembler; x86's prefixes, REX, VEX/EVEX and SIB
forms are not rewritten here). Without Capstone installed the address is unknown.
"""

import re
from typing import Dict, List, Optional, Tuple

# __show_regs() (arch/x86/kernel/process_64.c): "RAX: %016lx RBX: %016lx RCX: %016lx" and the
# RDX/RSI/RDI, RBP/R08/R09, R10/R11/R12, R13/R14/R15 lines; RSP is printed as "SS:RSP".
_REG = re.compile(r"(?<![\w])(R[A-Z0-9]{1,2}): ([0-9a-fA-F]{16})\b")
_GPRS = frozenset(["RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "R08", "R09", "R10", "R11", "R12",
                   "R13", "R14", "R15"])
# i386: 2.6's show_registers() "eax: %08lx   ebx: %08lx   ecx: %08lx   edx: %08lx" (and esi, edi,
# ebp, esp), arch/x86/kernel/process_32.c __show_regs() "EAX: %08lx EBX: %08lx ..." since.
_REG32 = re.compile(r"(?<![\w])([eE](?:[aA][xX]|[bB][xX]|[cC][xX]|[dD][xX]|[sS][iI]|[dD][iI]|[bB][pP]|[sS][pP])): +"
                    r"([0-9a-fA-F]{8})\b")
_MARKED = re.compile(r"(?:^|\s)<([0-9a-fA-F]{2})>((?:\s[0-9a-fA-F]{2}){0,24})")
_MASK64 = (1 << 64) - 1
_MASK32 = (1 << 32) - 1


def register_values(line: str) -> Dict[str, int]:
    """The general registers one x86_64 __show_regs() line prints, by Capstone's name
    ("rax", "r8"); {} for any other line."""
    out: Dict[str, int] = {}
    for m in _REG.finditer(line):
        name = m.group(1)
        if name in _GPRS:
            key = "r" + name[1:].lstrip("0") if name[1:].isdigit() else name.lower()
            out[key] = int(m.group(2), 16)
    if not out:
        for m in _REG32.finditer(line):
            out[m.group(1).lower()] = int(m.group(2), 16)
    return out


def _is32(regs: Dict[str, int]) -> bool:
    """Whether a register dump is i386's (32-bit names only): its code decodes in 32-bit mode,
    where 0x40-0x4f are inc/dec, not REX prefixes."""
    return bool(regs) and all(isinstance(k, str) and k.startswith("e") and len(k) == 3 for k in regs)


def marked_instruction(code: str) -> Optional[bytes]:
    """The bytes from the marked one (`<%02x>`) to the end of a Code: line; None without a
    mark (unreadable code, other architectures)."""
    m = _MARKED.search(code)
    if m is None:
        return None
    return bytes(int(b, 16) for b in [m.group(1)] + m.group(2).split())


def register_access(code: str, regs: Optional[Dict[str, int]] = None) -> Optional[str]:
    """The marked instruction's text when it accesses memory through a general register
    ("mov edx, dword ptr [rdi]"), whatever the dump shows of that register; None for no mark,
    no Capstone, bytes that do not decode, no memory operand, an operand that is not an access
    (lea, nop, prefetch), or one relative to RIP or to the FS/GS base. `regs` (the dump) says
    the mode: 32-bit for an i386 one."""
    insn = _decode(code, _is32(regs or {}))
    if insn is None:
        return None
    from capstone import x86 as cx
    mems = [op.mem for op in insn.operands if op.type == cx.X86_OP_MEM]
    if not mems or any(m.segment in (cx.X86_REG_FS, cx.X86_REG_GS) or m.base == cx.X86_REG_RIP for m in mems):
        return None
    if all(m.base == cx.X86_REG_INVALID and m.index == cx.X86_REG_INVALID for m in mems):
        return None     # an absolute address: no pointer in a register
    return f"{insn.mnemonic} {insn.op_str}".strip()


def general_access(code: str, regs: Optional[Dict[str, int]] = None) -> bool:
    """Whether the marked instruction accesses memory only through operands of at most 8 bytes
    that are not vector registers' (mov, add, cmpxchg, the string instructions...): in 64-bit
    mode such an access cannot raise #GP at a canonical address (no segment limit applies, and
    only the aligned 16-byte and wider forms: movaps, cmpxchg16b, fxsave, check alignment), so
    faulting there it raised #PF (i386's flat 4 GiB kernel segments leave no limit to break
    either). False for no mark, no Capstone, no memory operand, or a wider or vector operand.
    `regs` (the dump) says the mode: 32-bit for an i386 one."""
    insn = _decode(code, _is32(regs or {}))
    if insn is None:
        return False
    from capstone import x86 as cx
    mems = [op for op in insn.operands if op.type == cx.X86_OP_MEM]
    if not mems or any(not 0 < op.size <= 8 for op in mems):
        return False
    names = [insn.reg_name(op.reg) or "" for op in insn.operands if op.type == cx.X86_OP_REG]
    return not any(r.startswith(("xmm", "ymm", "zmm", "mm", "st", "k")) for r in names)


def marked_mnemonic(code: str, regs: Optional[Dict[str, int]] = None) -> Optional[str]:
    """The marked instruction's mnemonic ("mov", "ret"); None for no mark, no Capstone or bytes
    cut inside the instruction. `regs` (the dump) says the mode."""
    insn = _disassemble(code, _is32(regs or {}))
    return None if insn is None else insn.mnemonic


def reaches_memory(code: str, regs: Optional[Dict[str, int]] = None) -> Optional[bool]:
    """Whether the marked instruction names a memory operand it accesses (not lea, nop,
    prefetch or cache maintenance); None when it does not decode. An instruction without one
    (a register move, an arithmetic on registers, a ret, push or call, whose only data access
    is the stack) cannot have page-faulted at an address other than its stack's. `regs` (the
    dump) says the mode: on i386, 0x40-0x4f are inc/dec, not REX prefixes."""
    insn = _disassemble(code, _is32(regs or {}))
    if insn is None:
        return None
    from capstone import x86 as cx
    return not _names_no_access(insn) and any(op.type == cx.X86_OP_MEM for op in insn.operands)


def marked_decodes(code: str, regs: Optional[Dict[str, int]] = None) -> bool:
    """Whether the marked bytes hold one whole instruction (Capstone decodes it from them):
    False for no mark, bytes cut inside the instruction, or no Capstone. `regs` (the dump)
    says the mode."""
    return _disassemble(code, _is32(regs or {})) is not None


def _disassemble(code: str, bits32: bool = False):  # -> Optional[capstone.CsInsn]
    """The marked instruction decoded by Capstone with its operands' detail (64-bit mode, or
    32-bit for an i386 dump); None for no mark, bytes cut inside the instruction, or no
    Capstone."""
    raw = marked_instruction(code)
    if not raw:
        return None
    try:
        import capstone
    except ImportError:
        return None
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_32 if bits32 else capstone.CS_MODE_64)
    md.detail = True
    return next(iter(md.disasm(raw, 0, 1)), None)


def _decode(code: str, bits32: bool = False):  # -> Optional[capstone.CsInsn]
    """The marked instruction decoded by Capstone, None when it cannot be, or when it names
    no access (lea, nop, prefetch, cache and TLB maintenance)."""
    insn = _disassemble(code, bits32)
    return None if insn is None or _names_no_access(insn) else insn


# Instructions whose memory operand is no data access: an address computed (lea), a hint
# (nop, prefetch*) or cache and TLB maintenance (clflush*, invlpg*).
_NO_ACCESS = ("lea", "nop", "prefetch", "clflush", "invlpg")


def _names_no_access(insn) -> bool:
    """Whether a decoded instruction's memory operand, if any, is not accessed (_NO_ACCESS)."""
    return insn.mnemonic.startswith(_NO_ACCESS)


def _operands(insn, regs: Dict[str, int], bits32: bool = False) -> List[Optional[Tuple[int, Optional[int]]]]:
    """Per memory operand of a decoded instruction, (the address it names, its base register's
    value or None without a base); None for an operand relative to RIP or to the FS/GS base
    (per-cpu and TLS bases are not printed) or naming a register the dump does not show. In
    32-bit mode the address wraps at 4 GiB, as i386's effective-address sum does."""
    from capstone import x86 as cx
    out: List[Optional[Tuple[int, Optional[int]]]] = []
    for op in insn.operands:
        if op.type != cx.X86_OP_MEM:
            continue
        mem = op.mem
        if mem.segment in (cx.X86_REG_FS, cx.X86_REG_GS) or mem.base == cx.X86_REG_RIP:
            out.append(None)
            continue
        base = None if mem.base == cx.X86_REG_INVALID else _register(insn.reg_name(mem.base), regs)
        index = 0 if mem.index == cx.X86_REG_INVALID else _register(insn.reg_name(mem.index), regs)
        if (base is None and mem.base != cx.X86_REG_INVALID) or index is None:
            out.append(None)
            continue
        out.append(((mem.disp + (base or 0) + index * mem.scale) & (_MASK32 if bits32 else _MASK64), base))
    return out


def memory_access(code: str, regs: Dict[str, int]) -> Optional[Tuple[str, List[int], List[int]]]:
    """(the instruction's text, the addresses its memory operands name, those of them whose
    base register held 0), from one decode; the address list is empty when an operand cannot
    be computed (see accessed_addresses). None when nothing decodes to an access or the dump
    shows no register."""
    if not regs:
        return None
    bits32 = _is32(regs)
    insn = _decode(code, bits32)
    if insn is None:
        return None
    ops = _operands(insn, regs, bits32)
    if not ops:
        return None
    addrs = [] if None in ops else [a for a, _base in ops]
    nulls = [op[0] for op in ops if op is not None and op[1] == 0]
    return f"{insn.mnemonic} {insn.op_str}".strip(), addrs, nulls


def accessed_addresses(code: str, regs: Dict[str, int]) -> Optional[Tuple[List[int], str]]:
    """The addresses the marked instruction's memory operands name, with the instruction's
    text ("mov rax, qword ptr [rdi + 8]"); None when nothing can be computed: no mark, no
    Capstone, bytes that do not decode, no memory operand, an operand that is not an access
    (lea, nop, prefetch), one relative to RIP or to the FS/GS base (per-cpu and TLS bases are
    not printed), or a register the dump does not show."""
    got = memory_access(code, regs)
    if got is None or not got[1]:
        return None
    return got[1], got[0]


def null_based_addresses(code: str, regs: Dict[str, int]) -> List[int]:
    """The addresses of the marked instruction's memory operands whose base register held 0:
    a NULL pointer plus the displacement (and any index), whatever the size of that
    displacement. Empty when nothing decodes or no operand has a zero base."""
    got = memory_access(code, regs)
    return got[2] if got is not None else []


def _register(name: str, regs: Dict[str, int]) -> Optional[int]:
    """A 64-bit register's value, or the low 32 bits for its 32-bit name (an 0x67 address
    size prefix: "edi", "r8d")."""
    if name in regs:
        return regs[name]
    wide = ("r" + name[1:]) if name.startswith("e") else name[:-1] if name.endswith("d") else None
    if wide is not None and wide in regs:
        return regs[wide] & 0xffffffff
    return None


def non_canonical(addr: int) -> bool:
    """Whether an x86_64 address is non-canonical under 4- and 5-level paging alike (bits
    63..56 not all equal), so that an access there raises #GP, not a page fault."""
    return (addr >> 56) not in (0, 0xff)
