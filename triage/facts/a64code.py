"""The variable a tiny arm64 accessor function loads, read from its machine code.

Some counters are static (mm/vmalloc.c's nr_vmalloc_pages) and a kallsyms
without data symbols does not name them, but the kernel's one-line accessor
for each (vmalloc_nr_pages: `return atomic_long_read(&nr_vmalloc_pages);`) is
a function, so kallsyms has it. Its code is ADRP (+ ADD) + LDR + RET, with
only hints (BTI, PAC, NOP) and register moves (the ftrace entry's `mov x9, x30`)
around them. The address is decoded only when the function is exactly that
shape; anything else (another compiler's choice, instrumentation) gives None,
never a guess.
"""

import struct
from typing import Any, Dict, Optional

MAX_INSNS = 16
RET = 0xD65F03C0


def _sext(value: int, bits: int) -> int:
    return value - (1 << bits) if value >> (bits - 1) & 1 else value


def loaded_address(prog: Any, func: str) -> Optional[int]:
    """The address the accessor `func` loads its value from, or None."""
    try:
        sym = prog.symbol(func)
        n = min(sym.size // 4, MAX_INSNS) if sym.size else MAX_INSNS
        code = prog.read(sym.address, 4 * n)
    except Exception:          # noqa: BLE001 - not in kallsyms, or its page not in the dump
        return None
    return decode_load(sym.address, code)


def decode_load(pc: int, code: bytes) -> Optional[int]:
    """Emulate ADRP/ADD/LDR over `code` (at `pc`); the LDR's address when the
    function is hints and moves, one address computation, one LDR, then RET."""
    regs: Dict[int, int] = {}
    loaded: Optional[int] = None
    for i, (insn,) in enumerate(struct.iter_unpack("<I", code[:len(code) // 4 * 4])):
        at = pc + 4 * i
        if insn == RET:
            return loaded
        if loaded is not None:
            return None                                    # anything between LDR and RET
        if insn & 0xFFFFF01F == 0xD503201F:                # HINT: NOP, BTI, PACIASP, AUTIASP
            continue
        if insn & 0xFFE0FFE0 == 0xAA0003E0:                # MOV Xd, Xm (ORR Xd, XZR, Xm)
            regs.pop(insn & 31, None)
            continue
        if insn & 0x9F000000 == 0x90000000:                # ADRP Xd, label
            imm = _sext(((insn >> 5) & 0x7FFFF) << 2 | (insn >> 29) & 3, 21) << 12
            regs[insn & 31] = ((at & ~0xFFF) + imm) & ((1 << 64) - 1)
            continue
        if insn & 0xFF800000 == 0x91000000:                # ADD Xd, Xn, #imm{, LSL #12}
            rn = (insn >> 5) & 31
            if rn not in regs:
                return None
            imm = ((insn >> 10) & 0xFFF) << (12 if insn >> 22 & 1 else 0)
            regs[insn & 31] = regs[rn] + imm
            continue
        if insn & 0xBFC00000 == 0xB9400000:                # LDR Wt/Xt, [Xn, #imm] (unsigned offset)
            rn = (insn >> 5) & 31
            if rn not in regs:
                return None
            scale = 8 if insn >> 30 & 1 else 4
            loaded = regs[rn] + ((insn >> 10) & 0xFFF) * scale
            continue
        return None
    return None


MAX_FUNC_INSNS = 512
BL = 0x94000000


def atomic_target(prog: Any, func: str) -> Optional[int]:
    """The one variable `func`'s atomic read-modify-writes operate on, or None."""
    try:
        sym = prog.symbol(func)
        n = min(sym.size // 4, MAX_FUNC_INSNS) if sym.size else 0
        code = prog.read(sym.address, 4 * n) if n else b""
    except Exception:          # noqa: BLE001
        return None
    return decode_atomic_target(sym.address, code)


def decode_atomic_target(pc: int, code: bytes) -> Optional[int]:
    """Scan `code` in order, tracking registers set by ADRP/ADD (every other
    instruction forgets the registers it may write); the address every CAS,
    LDXR/LDAXR and STXR/STLXR with a known base register uses, when there is at
    least one and all agree (the LSE and the LL/SC alternative of one
    atomic_cmpxchg both count). An instruction forgets every register it can
    write (Rd/Rt; a load pair's Rt2; CAS/STXR's Rs; x0-x18 and x30 across BL);
    forgetting too much loses an answer, never makes a wrong one."""
    regs: Dict[int, int] = {}
    targets = set()
    for i, (insn,) in enumerate(struct.iter_unpack("<I", code[:len(code) // 4 * 4])):
        at = pc + 4 * i
        rd, rn = insn & 31, (insn >> 5) & 31
        if insn & 0x9F000000 == 0x90000000:                # ADRP
            imm = _sext(((insn >> 5) & 0x7FFFF) << 2 | (insn >> 29) & 3, 21) << 12
            regs[rd] = ((at & ~0xFFF) + imm) & ((1 << 64) - 1)
            continue
        if insn & 0xFF800000 == 0x91000000 and rn != 31:   # ADD Xd, Xn, #imm
            if rn in regs:
                regs[rd] = regs[rn] + (((insn >> 10) & 0xFFF) << (12 if insn >> 22 & 1 else 0))
            else:
                regs.pop(rd, None)
            continue
        writes_rs = (insn & 0x3FA07C00 == 0x08A07C00         # CAS, CASA, CASL, CASAL (Rs: old value)
                     or insn & 0x3FE07C00 == 0x08007C00)     # STXR, STLXR (Rs: status)
        if (writes_rs or insn & 0x3FBF7C00 == 0x085F7C00) and rn in regs:   # or LDXR, LDAXR
            targets.add(regs[rn])
        if insn & 0xFC000000 == BL:
            for r in list(regs):
                if r <= 18 or r == 30:                      # caller-saved, link register
                    regs.pop(r)
            continue
        # the registers an instruction can write: Rd/Rt (bits 0-4) for all, plus
        # Rt2 of a load pair (bits 10-14) and Rs of CAS/STXR (bits 16-20)
        regs.pop(rd, None)
        if insn & 0x3A400000 == 0x28400000:                # LDP, LDNP, LDPSW (any indexing)
            regs.pop((insn >> 10) & 31, None)
        if writes_rs:
            regs.pop((insn >> 16) & 31, None)
    return targets.pop() if len(targets) == 1 else None
