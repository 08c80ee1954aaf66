"""Where the kernel's own ORC tables cannot unwind, and the one repair triage makes.

drgn unwinds kernel stacks with the ORC tables in the dump's memory
(triage.facts.program enables that). Some kernel functions have no ORC data:
objtool leaves them "undefined" (on Debian 6.1, __crash_kexec, whose
crash_setup_regs() saves the registers that kdump's PRSTATUS notes carry).
For such a frame drgn guesses its caller through the frame pointer, which on
an ORC kernel is some older frame: the stack silently loses frames (`panic`
between __crash_kexec and sysrq_handle_crash).

So each frame's pc is checked against the tables. At an undefined frame the
caller is searched on the stack the way crash's `bt` does, but accepted only
when the slot holds a return address right after a direct `call` of the very
function the frame is in; unwinding then continues from there. When no such
slot is found the stack stops at that frame, and the caller says why.
"""

import bisect
import struct
import sys
from array import array
from typing import Any, List, Optional, Tuple

MAX_ORC_ENTRIES = 1 << 22      # vmlinux has ~400k; the bound keeps a corrupt table cheap
ORC_ENTRY_SIZE = 6
SCAN_WORDS = 1024              # 8 KiB of stack searched for the caller's return address
CALL_REL32 = 0xE8
SP_REG_UNDEFINED = 0


class _PcTable:
    """The sorted pcs of .orc_unwind_ip (entry i: its own address + its s32 offset),
    computed on access so bisect needs ~20 of them, not a 400k-item list."""

    def __init__(self, base: int, raw: bytes):
        self._base = base
        self._offs = array("i")
        self._offs.frombytes(raw)
        if sys.byteorder != "little":
            self._offs.byteswap()

    def __len__(self) -> int:
        return len(self._offs)

    def __getitem__(self, i: int) -> int:
        return self._base + 4 * i + self._offs[i]


class OrcTable:
    """The kernel image's ORC tables read from the dump, for `defined(pc)` lookups."""

    def __init__(self, prog: Any):
        self.prog = prog
        sym = prog.symbol
        ip0 = sym("__start_orc_unwind_ip").address
        n = (sym("__stop_orc_unwind_ip").address - ip0) // 4
        u0 = sym("__start_orc_unwind").address
        if not 0 < n <= MAX_ORC_ENTRIES or sym("__stop_orc_unwind").address - u0 != n * ORC_ENTRY_SIZE:
            raise ValueError("kernel ORC tables have implausible sizes")
        self._pcs = _PcTable(ip0, prog.read(ip0, 4 * n))
        self._entries = prog.read(u0, ORC_ENTRY_SIZE * n)
        self._text = (sym("_stext").address, sym("_etext").address)

    def defined(self, pc: int) -> bool:
        """False when `pc` is kernel text whose ORC entry leaves the frame undefined."""
        if not self._text[0] <= pc < self._text[1]:
            return True          # modules and user space: not these tables' business
        i = bisect.bisect_right(self._pcs, pc) - 1
        if i < 0:
            return False
        (flags,) = struct.unpack_from("<H", self._entries, ORC_ENTRY_SIZE * i + 4)
        sp_reg, end = flags & 0xF, (flags >> 10) & 1
        return not (sp_reg == SP_REG_UNDEFINED and not end)


def caller_slot(prog: Any, pc: int, sp: int) -> Optional[int]:
    """Address of the stack slot above `sp` holding the return address of a direct
    call into the function containing `pc`; None when there is none in reach."""
    try:
        func = prog.symbol(pc).address
    except LookupError:
        return None
    words: List[int] = []
    addr, end = sp, sp + 8 * SCAN_WORDS
    while addr < end:          # page by page: the stack ends (unmapped) before the window may
        chunk = min(end, (addr | 0xFFF) + 1) - addr
        try:
            data = prog.read(addr, chunk)
        except Exception:      # noqa: BLE001 - FaultError: past the stack's end
            break
        words += struct.unpack(f"<{chunk // 8}Q", data)
        addr += chunk
    lo, hi = prog.symbol("_stext").address, prog.symbol("_etext").address
    for i, ret in enumerate(words):
        if not lo + 5 <= ret < hi:
            continue
        try:
            code = prog.read(ret - 5, 5)
        except Exception:      # noqa: BLE001
            continue
        if code[0] == CALL_REL32 and ret + struct.unpack("<i", code[1:])[0] == func:
            return sp + 8 * i
    return None


_PT_REGS = {"rax": "ax", "rbx": "bx", "rcx": "cx", "rdx": "dx", "rsi": "si", "rdi": "di",
            "rbp": "bp", "rsp": "sp", "rip": "ip", "r8": "r8", "r9": "r9", "r10": "r10",
            "r11": "r11", "r12": "r12", "r13": "r13", "r14": "r14", "r15": "r15"}


def resume_regs(prog: Any, frame: Any, slot: int) -> Any:
    """struct pt_regs for the caller found at `slot`: its return address as ip, the
    slot above as sp, the other registers as the undefined frame left them."""
    import drgn
    value = {_PT_REGS[k]: v for k, v in frame.registers().items() if k in _PT_REGS}
    value["ip"] = struct.unpack("<Q", prog.read(slot, 8))[0]
    value["sp"] = slot + 8
    return drgn.Object(prog, "struct pt_regs", value=value)


def repaired_pcs(prog: Any, trace: Any, orc: Optional[OrcTable], limit: int) -> List[int]:
    """Return addresses of `trace` (inlined frames left out), repaired past frames
    the ORC tables leave undefined; raises StackCut (with the frames so far) when a
    repair is impossible."""
    return [pc for pc, _ in repaired_frames(prog, trace, orc, limit)]


def repaired_frames(prog: Any, trace: Any, orc: Optional[OrcTable], limit: int) -> List[Tuple[int, bool]]:
    """(pc, is_return_address) of every frame as repaired_pcs() finds them: a frame
    that was not interrupted holds a return address, whose own code is at pc - 1
    (as drgn's StackFrame.symbol() looks it up). StackCut.frames holds the pairs."""
    out: List[Tuple[int, bool]] = []
    resumed = False
    while True:
        frames = [f for f in trace if not f.is_inline]
        for i, f in enumerate(frames):
            # a caller's pc is a return address, possibly just past a noreturn call
            # at the function's end: its own code is at pc - 1. The first frame of a
            # resumed trace is one, though drgn sees it as interrupted (from pt_regs).
            call = not f.interrupted or (resumed and i == 0)
            out.append((f.pc, call))
            if len(out) >= limit:
                return out
            look = f.pc - 1 if call else f.pc
            if orc is None or i == len(frames) - 1 or orc.defined(look):
                continue
            slot = caller_slot(prog, look, f.sp)
            if slot is None:
                raise StackCut(out, f"no ORC data for {_name(prog, look)} and no call into it found on "
                                    "the stack; the frames above it are not shown rather than guessed")
            trace = prog.stack_trace(resume_regs(prog, f, slot))
            resumed = True
            break
        else:
            return out


class StackCut(Exception):
    """The stack could be unwound only up to a point; `pcs` holds that part
    (`frames`: with each pc, whether it is a return address)."""

    def __init__(self, frames: List[Tuple[int, bool]], reason: str):
        super().__init__(reason)
        self.frames = list(frames)
        self.pcs = [pc for pc, _ in frames]


def _name(prog: Any, pc: int) -> str:
    try:
        return prog.symbol(pc).name
    except LookupError:
        return hex(pc)
