"""A line prefix learned from the log itself.

Loggers, collectors and terminals put prefixes in front of kernel lines that no
rule here names (`2026/12/07 04:00:00.123 node-7 [kern.err] `, `host-3 | `, a
container runtime's `<time> stdout F `, `[WARN] `). Instead of one regex per
logger, the prefix's shape is learned from the lines where the kernel's message
must start: lines whose message opens with a wording the kernel prints only at
the start of a line ([parser] message_anchors of the run's signature set: `Call
Trace:`, `RIP: `, `Modules linked in:`, ...; and `CPU: %d PID: %d Comm:`, a frame
`func+0x../0x..`, ...). Whatever stands before such an anchor and is not a console prefix
triage.events.prefix already reads is the logger's prefix. When most anchor
lines carry a prefix of one shape, that prefix is removed from every line that
starts with it.

The shape: the prefix split into runs of letters and digits, runs of blanks and
single other characters. A run that reads the same on every anchor line stays
literal (`stdout`, `node-7`'s `node`, `kern`); a run that differs becomes a
class (digits: `[0-9]{1,N}`, else `[^\\W_]{1,N}`); a blank run matches 1-8 blanks
(`Dec  7` / `Dec 17`), or up to twice the widest the anchors show (a table's padded
columns). Text is never taken for a prefix unless the log shows the same shape in front
of several anchors and in front of most of them, so a log whose lines open with the
message (every log triage reads today) is untouched.

Bounded: LEARN_WINDOW lines are held while learning; the regex built has one
bounded quantifier per token, each over a class disjoint from the next token's
first character, so a match costs time linear in the (capped) prefix length.
"""

import re
from itertools import chain
from typing import Dict, Iterator, List, Optional, Pattern, Tuple

from triage.events.frames import KLOGD_ADDR
from triage.events.prefix import _PRINTK_LINE, MAX_LINE, strip_prefix
from triage.events.reporters import reporters
from triage.lazyre import lazy_compile

Numbered = Iterator[Tuple[int, str]]

# Lines held to learn from; learning stops earlier once MAX_ANCHORS anchor lines were seen.
LEARN_WINDOW = 1000
MAX_ANCHORS = 64
# Anchor lines (or lines opening with a printk stamp) that all open their messages, after which
# the log is taken to carry no unknown prefix.
SETTLED = 8
# At least this many anchor lines carry the shape, and more than half of all anchor lines.
MIN_ANCHORS = 3
# A learned prefix is at most this long (characters) and this many tokens.
MAX_PREFIX = 160
MAX_TOKENS = 64     # (a log aggregator's table export: epoch, ISO time, date, host columns)

# The wordings the kernel prints only at the start of a message (what stands before one on a
# line is a prefix, never message text) are [parser] message_anchors of signatures/lists.toml,
# read from the run's signature set (ParserNames.message_anchors).
# Anchors whose message starts one token before them: the task's comm ("Xorg invoked
# oom-killer: gfp_mask=", "kworker/0:1: page allocation failure: order:").
_AFTER_COMM = (" invoked oom-killer: ", ": page allocation failure")
# dev_printk()'s "<driver> <device>: " opens a message: a PCI device ("amdgpu 0000:03:00.0: ")
# or a platform device named by its address ("mali 13000000.gpu: ").
# dump_tasks()'s table: its header ("[  pid  ]   uid  tgid total_vm") and rows
# ("[   1234]  1000  1234   123456 ...": a bracketed pid, then numeric columns).
_TASK_ROW = lazy_compile(r"\[ {0,8}(?:pid|\d{1,10}) {0,8}\] {1,8}(?:uid|\d{1,10}) {1,8}(?:tgid|\d{1,10}) ")
_CPU_PID = lazy_compile(r"CPU: \d{1,5} (?:UID: \d{1,10} )?PID: \d{1,10} Comm: ")
_FRAME_TAIL = lazy_compile(r"\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16}")
_ADDR_TAG = lazy_compile(r"\[<?[0-9a-fA-F]{8,16}>?\] ?")
# klogd's "[sym+dec/dec] " address column (triage.events.frames.KLOGD_ADDR): part of the frame line
_KLOGD_TAG = lazy_compile(KLOGD_ADDR + " ?")
# Text the kernel itself glues before a record: kernel/printk/printk.c's notice of lost
# messages, "** %lu printk messages dropped **", printed before the next record on a console
# that could not keep up (syzkaller's consoles, 132 and 164 of its corpus, carry it on nearly
# every line). Message text, never a logger's prefix.
_KERNEL_TEXT = ("printk messages dropped",)
# The blank runs whose ends may be where a logger's prefix stops (_unknown_prefix).
_BLANKS = lazy_compile(" +")
# The run kinds a prefix is split into.
_RUN = lazy_compile(r"[^\W_]{1,64}| {1,64}|.", re.S)


# Characters of a line searched for an anchor.
_HEAD = MAX_PREFIX + 64
# A dev_printk device name standing before ": ": a PCI address or a platform device's "addr.name".
_DEVICE_NAME = lazy_compile(r"[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]|[0-9a-f]{3,16}\.[a-z][\w-]{0,40}")




def _literals(anchors: Tuple[str, ...]) -> Pattern[str]:
    """One search for the leftmost literal anchor of `anchors` ([parser] message_anchors), the
    comm-led wordings and "CPU: " (a plain alternation of literals: sre scans it several times
    faster than a find() per wording; re's own cache keeps it compiled between parses)."""
    return re.compile("|".join(re.escape(a) for a in anchors + _AFTER_COMM + ("CPU: ",)))


def _anchor_at(s: str, literals: Pattern[str]) -> int:
    """Where the kernel message of an anchor line starts (the anchor's own position;
    for a frame the `? ` / `[<addr>] ` before the function; for a dev_printk line or a
    comm-led wording the word before); -1 when `s` has no anchor. `literals`: _literals()."""
    head = s[:_HEAD]
    best = -1
    m = literals.search(head)
    while m is not None:
        k, word = m.start(), m.group()
        if word in _AFTER_COMM:
            p = head.rfind(" ", 0, k) + 1
            if p < k:
                best = p
                break
        elif (k == 0 or not head[k - 1].isalnum()) and (word != "CPU: " or _CPU_PID.match(head, k)):
            # (a wording inside a word is not one: "ODEBUG: " holds "BUG: ")
            best = k
            break
        m = literals.search(head, k + 1)
    k = head.find("[")
    while 0 <= k and (best < 0 or k < best):
        if _TASK_ROW.match(head, k):
            best = k
            break
        k = head.find("[", k + 1)
    k = head.find(": ")
    while 0 < k and (best < 0 or k < best):
        p = head.rfind(" ", 0, k)
        if p > 0 and _DEVICE_NAME.fullmatch(head, p + 1, k):
            q = head.rfind(" ", 0, p) + 1
            if q < p:
                best = q if best < 0 else min(best, q)
            break
        k = head.find(": ", k + 2)
    k = s.find("+0x", 0, MAX_PREFIX + 256)
    if k > 0 and (best < 0 or k < best) and _FRAME_TAIL.match(s, k):
        p = k
        while p > 0 and (s[p - 1].isalnum() or s[p - 1] in "_."):
            p -= 1
        # the function must stand after a blank (a frame line), not inside text ("at file:123 f+0x"),
        # or in arm32's "(callee+0x..)"
        if k - p > 0 and p > 0 and (s[p - 1] == " " or (s[p - 1] == "(" and "] (" in s[:p])):
            p = _frame_start(s, p)
            if best < 0 or p < best:
                best = p
    return best


def _frame_start(s: str, p: int) -> int:
    """Back from a frame's function name at `p` over what a frame line prints before it:
    `? ` (unreliable) and bracketed addresses (`[<ffffffff8139f342>] `, powerpc's
    `[c0000000053f7380] [c0003d0001be0830] `); arm32's `caller from callee+0x..` starts at
    the caller, and its older `[<addr>] (caller) from [<addr>] (callee+0x..)` at the first address."""
    if s.startswith("from ", p - 5):
        q = s.rfind(" ", 0, p - 6) + 1
        if 0 < q < p - 6 or (q == 0 and p > 6):
            p = q
    elif s.startswith("(", p - 1):
        k = s.find("] (")
        if 0 < k < p:
            b = s.rfind("[<", 0, k)
            m = _ADDR_TAG.match(s, b) if b >= 0 else None
            if m is not None:
                return b
    for _ in range(4):
        if s.startswith("? ", p - 2):
            p -= 2
            continue
        b = s.rfind("[", max(0, p - 24), p)
        if b >= 0:
            m = _ADDR_TAG.match(s, b)
            if m is not None and m.end() in (p, p - 1) and s[m.end():p].strip() == "":
                p = b
                continue
        b = s.rfind(" [", max(0, p - 96), p) + 1 if s.endswith("] ", 0, p) else 0
        if b > 0:
            m = _KLOGD_TAG.match(s, b)
            if m is not None and m.end() == p:
                p = b
                continue
        break
    return p


def _unknown_prefix(s: str, k: int) -> str:
    """The part of `s` before the anchor at `k` that is not a console prefix strip_prefix reads."""
    # candidate boundaries: the start and the end of every blank run before the anchor
    msg, ts, caller, host, _ = strip_prefix(s)
    if len(msg) != len(s) and (ts is not None or caller is not None or host is not None
                               or "kernel:" in s[:len(s) - len(msg)]):
        # the line opens with a console prefix that ends where the message starts (a printk
        # stamp, a syslog "kernel:" tag): what stands between it and the anchor is message
        # text (a lockdep "... at (91): [<addr>] f+0x..") or another known prefix, never a
        # logger's prefix in front of the line
        return ""
    # (the anchor itself is the last candidate: there the answer is s[:k] whatever it reads)
    for j in chain((0,), (m.end() for m in _BLANKS.finditer(s, 0, k))):
        if j >= k:
            break
        rest_msg = msg if j == 0 else strip_prefix(s[j:])[0]
        if len(s) - len(rest_msg.lstrip(" ")) == k:
            return s[:j]
    return s[:k]


def _tokens(prefix: str) -> List[str]:
    return _RUN.findall(prefix)


def _kind(tok: str) -> str:
    if tok[0] == " ":
        return " "
    if tok[0].isalnum():
        return "9" if tok.isdigit() else "a"
    return tok


def _coarse(prefix: str) -> Tuple[str, ...]:
    """The prefix's shape before literals are decided: one kind per run; the trailing blanks
    dropped (they separate the prefix from the message, whose own indentation follows)."""
    return tuple(_kind(t) for t in _tokens(prefix.rstrip(" ")))


def _wordy(shape: Tuple[str, ...]) -> bool:
    """Words, blanks and colons alone ("Out of Memory: ", "foo: "): the shape of message text
    (a subsystem's prefix, a wording printed before the anchor), never taken for a prefix.
    A logger's prefix has a number, a bracket, a bar or another mark in it. A colon with no
    word ("WARNING: CPU: ..." behind ": ") is no message text: what is left of a column the
    poster cut away (the stamp and host before a syslog tag's colon)."""
    return "a" in shape and all(k in ("a", " ", ":") for k in shape)


def _pattern(instances: List[str]) -> Pattern[str]:
    """A regex for prefixes of one coarse shape: constant runs literal, varying runs a class,
    and the separating blank."""
    cols = list(zip(*(_tokens(p.rstrip(" ")) for p in instances)))
    parts = []
    for col in cols:
        first = col[0]
        kind = _kind(first)
        if kind == " ":
            # a column padded to its width varies with what it holds ("UTC | ", "UTC  | ")
            parts.append(" {1,%d}" % min(64, max(8, 2 * max(len(t) for t in col))))
        elif kind in ("9", "a"):
            if kind == "9":
                parts.append(r"[0-9]{1,%d}" % max(12, max(len(t) for t in col)))
            elif all(t == first for t in col) and not any(c.isdigit() for c in first):
                # (a run with a digit in it is a date, a time or a counter, whatever the anchors show)
                parts.append(re.escape(first))
            else:
                parts.append(r"[^\W_]{1,%d}" % max(16, 2 * max(len(t) for t in col)))
        else:
            parts.append(re.escape(first))
    return re.compile("".join(parts) + " ?")


def _line_prefix(s: str, literals: Pattern[str]) -> Optional[str]:
    """The unknown prefix before the anchor of line `s` ("" when the anchor opens it), None
    when `s` has no anchor."""
    k = _anchor_at(s, literals)
    if k < 0:
        return None
    return _unknown_prefix(s[:MAX_LINE], k) if k > 0 else ""


def learn(lines: List[str], anchors: Optional[Tuple[str, ...]] = None) -> Optional[Pattern[str]]:
    """The prefix regex the anchor lines of `lines` show, None when they show none.
    `anchors`: as for strip_learned."""
    literals = _literals(anchors if anchors is not None else reporters().names.message_anchors)
    found = [pre for pre in (_line_prefix(s[:MAX_LINE], literals) for s in lines) if pre is not None]
    return _learn(found)


def _learn(found: List[str], stamped: int = 0) -> Optional[Pattern[str]]:
    """The prefix regex from the unknown prefixes of the anchor lines (`found`, "" for a line
    without one); `stamped` lines that open with a printk stamp count as lines without one."""
    seen = stamped + len(found)
    shapes: Dict[Tuple[str, ...], List[str]] = {}
    for pre in found[:MAX_ANCHORS]:
        if pre.strip(" ") and len(pre) <= MAX_PREFIX and not any(t in pre for t in _KERNEL_TEXT):
            shape = _coarse(pre)
            if 0 < len(shape) <= MAX_TOKENS and not _wordy(shape):
                shapes.setdefault(shape, []).append(pre)
    if not shapes:
        return None
    shape, instances = max(shapes.items(), key=lambda kv: len(kv[1]))
    # several anchor lines show the shape (fewer when the excerpt has no more), and most do:
    # one line's text before an anchor among others may be prose ("she wrote: Call Trace:")
    if len(instances) < min(MIN_ANCHORS, seen) or len(instances) * 2 <= seen:
        return None
    return _pattern(instances)


def strip_learned(lines: Numbered, anchors: Optional[Tuple[str, ...]] = None) -> Numbered:
    """Remove the learned logger prefix from every line that starts with it; pass the
    input through unchanged when the log shows none. `anchors`: the run's signature set's
    [parser] message_anchors (ParserNames), the built-in ones when None."""
    literals = _literals(anchors if anchors is not None else reporters().names.message_anchors)
    it = iter(lines)
    head: List[Tuple[int, str]] = []
    found: List[str] = []          # the unknown prefix of each anchor line ("" when none)
    unknown = stamped = 0
    for item in it:
        head.append(item)
        s = item[1]
        if s[:1] == "[" and _PRINTK_LINE.match(s):
            # a line opening with the kernel's own stamp has no logger prefix in front of it:
            # it counts against learning one, without an anchor search
            stamped += 1
        else:
            pre = _line_prefix(s, literals)
            if pre is not None:
                found.append(pre)
                unknown += pre != ""
        if len(found) + stamped >= MAX_ANCHORS or (unknown == 0 and len(found) + stamped >= SETTLED):
            break
        if len(head) >= LEARN_WINDOW:
            break
    # (a log whose anchors all open their messages has nothing to learn: no prefix work at all)
    rx = _learn(found, stamped) if unknown else None
    if rx is not None:
        # a logger puts its prefix before every line: one that most lines lack is text the log
        # prints now and then ("** 2395 printk messages dropped ** " glued before a record)
        body = [s for _, s in head if s.strip()]
        if sum(1 for s in body if rx.match(s, 0, MAX_PREFIX + 1)) * 2 <= len(body):
            rx = None
    if rx is None:
        return chain(head, it)
    return _strip(chain(head, it), rx)


def _strip(lines: Numbered, rx: Pattern[str]) -> Numbered:
    match = rx.match
    for item in lines:
        s = item[1]
        m = match(s, 0, MAX_PREFIX + 1)
        # a line that is nothing but the prefix is an empty record (a blank line in the log)
        yield (item[0], s[m.end():]) if m is not None else item
