"""Stack frames: turn `func+0xoff/0xsize [module]` text into Frame objects.

Handles x86 (`[<addr>] ? func+..`, 2.6 x86_64 `[<addr>] :module:func+..`), arm64 (`func+0x14/0x30 [mod]`), arm32
unwinder (`[<addr>] (func) from [<addr>] (caller+0x..)`), syzkaller-symbolised
frames (`func+0x1/0x2 net/core/dev.c:12`, `func net/x.c:3 [inline]`), frames decoded by
scripts/decode_stacktrace.sh (`func (mm/slub.c:12 include/x.h:3) [mod]`), arm64's unwind-source
marker after a frame (`func+0x1/0x2 (P)`, 6.13+) and the faulting-location lines
RIP/IP/pc/PC is at/EIP.
"""

from dataclasses import replace
from typing import Optional

from triage.events.model import Frame
from triage.lazyre import lazy_compile

_NAME = r"[A-Za-z_.$][\w.$]{0,255}"
# A module tag: "[mod]", or "[mod <build id>]" where the kernel prints module build ids
# (CONFIG_STACKTRACE_BUILD_ID, lib/vsprintf.c "%pSb": the GNU build id in hex after a blank).
_TAG = r"\[([\w-]{1,64})(?: [0-9a-f]{16,128})?\]"
# The tag DRM's printers put before a message (drm_print.c __drm_printk, DRM_ERROR()): "[drm:%ps]"
# of the caller -- its name (group 1), up to four compiler suffixes (".isra.0", ".cold") and
# " [module]" (group 2) unless built in. One grammar for the header and paste patterns that read it.
DRM_FN_TAG = r"\[drm:(\w{1,80})(?:\.\w{1,20}){0,4}(?: \[([\w-]{1,40})\])?\]"
# ...or the bare "[drm]" of drm_dev_printk() and DRM_INFO()
DRM_TAG = r"(?:\[drm\]|" + DRM_FN_TAG + ")"
_SYM = lazy_compile(r"(" + _NAME + r")\+0x([0-9a-fA-F]{1,16})/0x([0-9a-fA-F]{1,16})(?: " + _TAG + r")?")
# One call-trace line (anchored). Either an offset/size or a source location is
# required so ordinary words are not taken for frames.
# sysklogd's klogd (ksym.c ExpandKadds) rewrote the kernel's "[<c013cefc>]" into "[sym+dec/dec]"
# from its System.map before logging the line ("[__alloc_pages+576/908] __alloc_pages+0x240/0x38c";
# "[pg0+545011501/1068684288]" for a module address past the map): an address column, as "[<..>]"
KLOGD_ADDR = r"\[" + _NAME + r"\+\d{1,12}/\d{1,12}\]"
_TRACE = lazy_compile(
    r"\s{0,16}(?:(?:\[<[0-9a-fA-Fx]{1,18}>\]|" + KLOGD_ADDR + r")\s{0,4})?(?:(\?) )?(" + _NAME + r")"
    r"(?:\+0x([0-9a-fA-F]{1,16})/0x([0-9a-fA-F]{1,16}))?"
    r"(?: " + _TAG + r")?"
    r"(?: ((?:[\w.-]{1,128}/){0,16}[\w.-]{1,128}:\d{1,7}))?"
    r"(?: \[inline\])?"
    r"(?: " + _TAG + r")?\s{0,8}$")
# scripts/decode_stacktrace.sh replaces "func+0x1c/0x30" by "func (file:line ...)": addr2line -i's
# inline chain, innermost first, so the last location is the function's own file; a module's
# frame keeps its name after the parentheses ("[mod]", or bare in newer versions of the script).
# decode_stacktrace.sh prints "(??:?)" or "(bochs.c:?)" where addr2line could not resolve the
# file or the line (a vmlinux without debuginfo, the robot's short form): still a frame
_LOCATION = r"(?:[\w.+-]{1,128}/){0,16}(?:[\w.+-]{1,128}|\?\?):(?:\d{1,7}|\?)(?: \(discriminator \d{1,10}\))?"
_DECODED = lazy_compile(
    r"\s{0,16}(?:\[<[0-9a-fA-Fx]{1,18}>\]\s{0,4})?(?:(\?) )?(" + _NAME + r")"
    r"(?:\+0x([0-9a-fA-F]{1,16})/0x([0-9a-fA-F]{1,16}))? \((" + _LOCATION + r"(?: " + _LOCATION + r"){0,32})\)"
    r"(?: " + _TAG + r"| ([a-z][\w-]{0,63}))?(?: \([A-Z]{1,4}\))?\s{0,8}$")
# arm64 dump_backtrace_entry() (6.13+) marks where the unwinder found a frame: " (P)" the pc of
# an exception's regs, " (L)" its lr, " (T)" a blocked task's saved pc, " (C)" a caller, plus
# F/K for ftrace and kretprobe trampolines. The marker is not part of the frame.
# The realtime-preempt (-rt) patch's i386 trace printer of the 2.6.1x era put each frame's stack
# distance after it, " (20)", negative where the stack switches (posted 3310: "kernel_thread_helper
# +0x5/0x10 (164118556)", "sysenter_past_esp+0x61/0x89 (-8116)"): not part of the frame either.
_SOURCE_MARK = lazy_compile(r" \((?:[A-Z]{1,4}|-?\d{1,12})\)\s{0,8}$")
# Some vendor 4.x kernels print it without the blanks before "(" ("[<80012c5c>](show_stack) from
# [<80584a6c>](dump_stack+0x24/0x28)", posted 2328): the same fields.
_ARM32 = lazy_compile(r"\s{0,8}\[<[0-9a-fA-F]{1,16}>\] ?\((" + _NAME + r")(?:\+0x([0-9a-fA-F]{1,16})/0x([0-9a-fA-F]{1,16}))?(?: " + _TAG + r")?\) from ")
# The caller half of that line: " from [<addr>] (caller+0x40/0x5c [mod])" at its end.
_ARM32_CALLER = lazy_compile(r" from \[<[0-9a-fA-F]{1,16}>\] ?\((" + _NAME + r")(?:\+0x([0-9a-fA-F]{1,16})/0x([0-9a-fA-F]{1,16}))?"
                           r"(?: " + _TAG + r")?\)\s{0,8}$")
# arm32 unwinder since 5.x (dump_backtrace_entry() "%ps from %pS"): " callee [mod] from caller+0x18/0x1c [mod]";
# the line's frame is the callee (the caller is the next line's callee)
_ARM32_FROM = lazy_compile(r"\s{0,16}(" + _NAME + r")(?: " + _TAG + r")? from (" + _NAME +
                         r")\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16}(?: \[[\w-]{1,64}(?: [0-9a-f]{16,128})?\])?\s{0,8}$")
# 2.6.x x86_64 printk_address() put a module symbol's module first, between colons:
# " [<ffffffff884a9aa0>] :ip_conntrack:alloc_hashtable+0x33/0x7a" (RHEL 5)
_COLON_MODULE = lazy_compile(r"\s{0,16}(?:\[<[0-9a-fA-F]{1,18}>\]\s{0,4})?(?:(\?) )?:([\w-]{1,64}):(" + _NAME + r")"
                           r"\+0x([0-9a-fA-F]{1,16})/0x([0-9a-fA-F]{1,16})\s{0,8}$")
# powerpc (arch/powerpc/kernel/process.c show_stack): "[sp] [ip] %pS" per frame, the first one
# followed by " (unreliable)" when it is the link register's guess; 64-bit ELFv1 kernels name
# functions by their dot symbols (".tg3_poll_work+0x900/0x1110 [tg3]").
_PPC = lazy_compile(r"\s{0,16}\[[0-9a-fA-F]{8,16}\] \[[0-9a-fA-F]{8,16}\] \.?(" + _NAME + r")"
                    r"\+0x([0-9a-fA-F]{1,16})/0x([0-9a-fA-F]{1,16})(?: " + _TAG + r")?( \(unreliable\))?\s{0,8}$")

# ksymoops (the 2.4-era oops decoder) appends its decoding after the oops: ">>EIP; %s <%s>   <=====" for
# the faulting location and "Trace; %s <%s>" per word of the call trace, each symbol "<[module]name+off/size>"
# (offsets in hex without "0x"; a name in "." is a section end, no symbol: posted 3316
# "<[NVdriver]_nv_rmsym_01050+14/40>", "<[NVdriver].bss.end+be41/5051381>"). The 2.4 i386 trace
# printed every kernel-text word on the stack, so its frames are as unreliable as '?' ones.
_KSYMOOPS = lazy_compile(r"\s{0,8}(>>[A-Z]{2,4}|Trace);\s{1,4}[0-9a-fA-F]{8,16}\s{1,4}<(?:\[([\w-]{1,64})\])?(" + _NAME +
                         r")\+([0-9a-fA-F]{1,16})/([0-9a-fA-F]{1,16})>")

# Stack boundary markers printed inside call traces.
CONTEXT_MARKERS = {
    "<IRQ>": "irq", "</IRQ>": "task", "<NMI>": "nmi", "</NMI>": "task",
    "<EOI>": "task", "<TASK>": "task", "</TASK>": "task", "<SOFTIRQ>": "softirq",
    "</SOFTIRQ>": "task", "<#DF>": "exception", "</#DF>": "task", "<<EOE>>": "task",
    "<EOE>": "task", "<#MC>": "exception", "</#MC>": "task", "<#DB>": "exception", "</#DB>": "task",
}


def _int(s: Optional[str]) -> Optional[int]:
    return int(s, 16) if s else None


def parse_symbol(text: str) -> Optional[Frame]:
    """The first `func+0xoff/0xsize [mod]` anywhere in text (RIP:, pc :, WARNING ... lines)."""
    m = _SYM.search(text)
    if not m:
        return None
    cut = None
    if m.group(4) is None and text[m.end():m.end() + 2] == " [":
        c = _CUT_TAG.match(text, m.end())
        cut = _cut_module(c.group(0)) if c is not None else None
    return Frame(m.group(1), _int(m.group(2)), _int(m.group(3)), m.group(4), module_cut=cut)


def _cut_module(tag: str) -> str:
    """The module name's start in a cut tag (" [nvidia_uv" -> "nvidia_uv"; "" when nothing is left)."""
    return tag.strip().lstrip("[").rstrip(">\u2026")


def _decoded(m) -> Frame:
    """A Frame from a _DECODED match; its source is the last location of the inline chain."""
    where = m.group(5).split(" (discriminator")[0].split(" ")[-1].rsplit(":", 1)[0]
    return Frame(m.group(2), _int(m.group(3)), _int(m.group(4)), m.group(6) or m.group(7),
                 reliable=m.group(1) is None, source=None if where == "??" else where)


def _decoded_ip(text: str) -> Optional[Frame]:
    """The faulting location of a RIP:/pc : line decoded by decode_stacktrace.sh
    ("pc : f (drivers/x.c:12)", "RIP: 0010:f (mm/y.c:3)")."""
    rest = text.lstrip()
    for head in ("RIP: ", "pc : ", "IP: ", "EIP: "):
        if rest.startswith(head):
            rest = rest[len(head):]
            break
    else:
        return None
    if rest[:5].endswith(":") and rest[:4].isdigit():
        rest = rest[5:]                     # the x86 code segment, "0010:"
    m = _DECODED.match(rest)
    return _decoded(m) if m else None


# A module tag cut by a terminal or a pager ("... [nvid", "... [nvidia>"): the frame is
# still a frame, its module unknown.
_CUT_TAG = lazy_compile(r" \[[\w-]{0,63}[>\u2026]?$")


def _ksymoops(text: str, head: str, context: str = "task") -> Optional[Frame]:
    """A ksymoops ">>EIP;" (head ">>") or "Trace;" (head "Trace") line's symbol; None for others
    and for a section offset (".bss.end+...")."""
    m = _KSYMOOPS.match(text)
    if m is None or not m.group(1).startswith(head) or m.group(3).startswith("."):
        return None
    return Frame(m.group(3), _int(m.group(4)), _int(m.group(5)), m.group(2), reliable=head == ">>", context=context)


def parse_trace_line(text: str, context: str = "task") -> Optional[Frame]:
    """A call-trace frame, or None when the line is not one."""
    if len(text) > 600:
        return None
    if text.startswith("Trace; "):
        return _ksymoops(text, "Trace", context)
    if " (" in text:
        if ":" in text:
            m = _DECODED.match(text)
            if m:
                return replace(_decoded(m), context=context)
        if text.rstrip().endswith(")"):
            mark = _SOURCE_MARK.search(text)
            if mark is not None:
                text = text[:mark.start()]
    m = _TRACE.match(text)
    module_cut = None
    if m is None and text[-1:] != "]" and " [" in text[-66:]:
        cut = _CUT_TAG.search(text)
        if cut is not None:
            m = _TRACE.match(text[:cut.start()])
            module_cut = _cut_module(cut.group(0))
    if m:
        if m.group(3) is None and m.group(6) is None:
            return None
        name = m.group(2)
        if name.startswith(".") or name[0].isdigit():
            return None
        return Frame(name, _int(m.group(3)), _int(m.group(4)), m.group(5) or m.group(7),
                     reliable=m.group(1) is None, context=context,
                     module_cut=module_cut if not (m.group(5) or m.group(7)) else None)
    if "] [" in text:
        m = _PPC.match(text)
        if m:
            return Frame(m.group(1), _int(m.group(2)), _int(m.group(3)), m.group(4),
                         reliable=m.group(5) is None, context=context)
    if "] (" in text or "](" in text:
        m = _ARM32.match(text)
        if m:
            return Frame(m.group(1), _int(m.group(2)), _int(m.group(3)), m.group(4), context=context)
    if ":" in text:
        m = _COLON_MODULE.match(text)
        if m:
            return Frame(m.group(3), _int(m.group(4)), _int(m.group(5)), m.group(2),
                         reliable=m.group(1) is None, context=context)
    if " from " in text:
        m = _ARM32_FROM.match(text)
        if m:
            return Frame(m.group(1), None, None, m.group(2), context=context)
    return None


def parse_ip_line(text: str) -> Optional[Frame]:
    """The faulting location from RIP:/IP:/EIP:/pc :/PC is at/NIP lines."""
    head = text.lstrip()[:12]
    if head.startswith(">>"):
        return _ksymoops(text, ">>")
    # LoongArch show_regs() (arch/loongarch/kernel/traps.c): "  ERA: %0*lx %pS", the exception
    # return address, its pc; riscv __show_regs() (arch/riscv/kernel/process.c): "epc : %pS" for
    # a kernel-mode pc (its later "epc : %016lx ra : ..." line names no symbol)
    if head.startswith(("RIP: ", "IP: ", "EIP: ", "pc : ", "PC is at ", "EIP is at ", "NIP [", "epc   : ",
                        "epc : ", "RIP:", "ERA: ", "Hardware name")):
        if head.startswith("Hardware name"):
            return None
        fr = parse_symbol(text)
        if fr is None and " (" in text:
            fr = _decoded_ip(text)
        if fr is not None and head.startswith("NIP [") and fr.function.startswith(".") and len(fr.function) > 1:
            # powerpc 64-bit ELFv1 names the function by its dot symbol (show_regs "NIP [%lx] %pS")
            fr = replace(fr, function=fr.function[1:])
        return fr
    return None


def arm32_caller(text: str, context: str = "task") -> Optional[Frame]:
    """The caller an old arm32 unwinder line names after "from" (`[<a>] (f+..) from [<b>] (g+0x40/0x5c [mod])`).

    The next line's callee repeats it, so it is a frame of its own only where the
    trace stops (an excerpt cut right after the line)."""
    if " from [<" not in text:
        return None
    m = _ARM32_CALLER.search(text)
    if m is None:
        return None
    return Frame(m.group(1), _int(m.group(2)), _int(m.group(3)), m.group(4), context=context)
