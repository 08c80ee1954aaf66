"""Undo what copying a kernel log into a mail, a forum post or a bug tracker
does to it, before the event parser sees it.

Each step is a generator over (input line number, text) pairs, so the parser
keeps numbering lines as they are in the file, and each has its own tests
(tests/events/test_paste.py):

* `strip_cr`         CRLF and stray CR line ends;
* `unbreak_spaces`   no-break spaces (U+00A0) a mail or HTML client put in place of blanks;
* `decode_journal`   `journalctl -o json|json-pretty|json-seq|json-sse|export|verbose` records -> console lines;
* `unquote`          mail quoting (`> `, `>> `, `> > `, and `+> ` in a diff) when most of the text is quoted;
* `strip_line_numbers` `grep -n`/`-A` line-number prefixes (`123:`, `124-`) when most lines carry one;
* `strip_markup`     markdown emphasis a user put around a line (`**...**`), and a blockquote
                     marker `> ` before a console line when only some lines are quoted;
* `dedent`           a paste indented as a whole (markdown code blocks, forum quotes);
* `split_glued`      syslog records a paste ran together on one line (its line breaks lost),
                     split where the next record's date and the same host begin;
* `strip_learned`    a logger prefix no rule names, learned from the lines where the kernel's
                     message must start (triage.events.learnprefix);
* `rejoin_wrapped`   lines a mail or forum client wrapped at ~72-80 columns, rejoined only where
                     the continuation is unmistakably the tail of the previous line;
* `unreverse`        newest-first pastes (`journalctl -r`, `dmesg | tac`) put back in time order.

Console prefixes on single lines (dmesg -T in any locale, dmesg -H/--reltime, journal
short-* modes) are handled by triage.events.prefix, which the parser calls per line.

Memory stays bounded: the steps that decide from a window of lines look ahead at most
WINDOW lines; a JSON record is held only up to MAX_RECORD_LINES lines.
"""

import json
import re
from itertools import chain
from typing import Counter, Iterable, Iterator, List, NamedTuple, Optional, Tuple

from triage.events.frames import DRM_TAG, parse_trace_line
from triage.events.learnprefix import strip_learned
from triage.events.prefix import MAX_LINE, strip_prefix
from triage.events.reporters import reporters
from triage.lazyre import lazy_compile

Numbered = Iterator[Tuple[int, str]]

# Lines looked at to decide whether a paste is quoted or indented as a whole.
WINDOW = 64
# Lines (and characters) one json-pretty or export/verbose record may span.
MAX_RECORD_LINES = 400
MAX_RECORD_CHARS = 1 << 16


def normalise(lines: Iterable[str], trace_tails: Optional[Tuple[str, ...]] = None,
              anchors: Optional[Tuple[str, ...]] = None) -> Numbered:
    """All the steps, in order, over raw lines; yields (line number, text). `trace_tails`
    as for unreverse, `anchors` as for strip_learned."""
    numbered: Numbered = enumerate(lines, 1)
    return unreverse(rejoin_wrapped(strip_learned(split_glued(dedent(strip_markup(strip_line_numbers(unquote(
        decode_journal(unbreak_spaces(strip_cr(numbered)))))))), anchors)), trace_tails)


# -- CR ------------------------------------------------------------------------

def strip_cr(lines: Numbered) -> Numbered:
    """Drop the CR of CRLF line ends (and trailing CRs a serial console doubles)."""
    for item in lines:
        s = item[1]
        # most lines pass through as the same tuple (no allocation per line)
        yield (item[0], s.rstrip("\r")) if s[-1:] == "\r" else item


# -- no-break spaces ---------------------------------------------------------------

def unbreak_spaces(lines: Numbered) -> Numbered:
    """Turn no-break spaces (U+00A0) back into blanks.

    Mail and HTML clients keep a run of blanks from collapsing by writing it as
    no-break spaces ("[\u00a0\u00a0 28.848701]"): the printk stamp's padding, a
    frame's indentation. printk pads with plain blanks, so every U+00A0 in a console
    line is the client's, and a prefix or frame parser would not see the blank it
    replaced."""
    for item in lines:
        s = item[1]
        yield (item[0], s.replace("\u00a0", " ")) if "\u00a0" in s else item


# -- journal structured modes ----------------------------------------------------

_VERBOSE_HEAD = lazy_compile(r"\S.{0,80} \[s=[0-9a-f]{32};i=[0-9a-f]{1,16};")
_FIELD = lazy_compile(r"([A-Z0-9_]{1,64})=(.*)", re.S)


def _console(fields: dict) -> List[str]:
    """A journal record as the console lines it stands for."""
    msg = fields.get("MESSAGE")
    if isinstance(msg, list):               # non-UTF-8 messages are arrays of byte values
        try:
            msg = bytes(b & 0xFF for b in msg[:MAX_LINE * 2] if isinstance(b, int)).decode("utf-8", "replace")
        except (TypeError, ValueError):
            msg = None
    if not isinstance(msg, str):
        return []
    kernel = fields.get("_TRANSPORT") == "kernel" or fields.get("SYSLOG_IDENTIFIER") == "kernel"
    if not kernel:
        # user-space records keep a syslog-like shape so they are not read as kernel text
        ident = str(fields.get("SYSLOG_IDENTIFIER") or fields.get("_COMM") or "unknown")[:64]
        return [f"{ident}: {line}" for line in msg.split("\n")[:64]]
    usec = fields.get("_SOURCE_MONOTONIC_TIMESTAMP") or fields.get("__MONOTONIC_TIMESTAMP")
    prefix = ""
    if isinstance(usec, str) and usec.isdigit() and len(usec) <= 18:
        v = int(usec)
        prefix = f"[{v // 1000000:5d}.{v % 1000000:06d}] "
    return [prefix + line for line in msg.split("\n")[:64]]


# The text field of a log shipper's record (_json_record), and the quoted keys a one-line
# JSON record must hold to be decoded at all
_TEXT_FIELDS = ("log", "message", "msg")
_RECORD_KEYS = tuple(f'"{k}"' for k in ("MESSAGE",) + _TEXT_FIELDS)


def _json_record(text: str) -> Optional[List[str]]:
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    if "MESSAGE" in obj:
        return _console(obj)
    # a log shipper's or container runtime's record of one console line: docker's json-file
    # driver ({"log": "...\n", "stream": ..., "time": ...}), fluent-bit/Vector/Loki exports
    # ("message", "msg"); the line is the record's text field
    for key in _TEXT_FIELDS:
        text = obj.get(key)
        if isinstance(text, str):
            return text[:MAX_LINE * 2].rstrip("\r\n").split("\n")[:64]
    return None


def decode_journal(lines: Numbered) -> Numbered:
    """`journalctl -o json`, `json-pretty`, `json-seq`, `json-sse`, `export` and `verbose`
    records become console lines ("[ sec.usec] message" for kernel records);
    any other line passes through unchanged.

    Once a record spanning several lines (json-pretty, export, verbose) is
    seen, lines are numbered by record from there on: the parser's windows
    ("within 40 lines") count log records, and one record is 10-20 lines there."""
    head, rest = _window(lines, WRAP_WINDOW)
    if not any(_journal_like(x) for _, x in head):
        # journal output is one format from its first line on: a plain log passes
        # untouched, with no generator step per line
        return chain(head, rest)
    return _renumber_journal(chain(head, rest))


def _renumber_journal(lines: Numbered) -> Numbered:
    multi = [False]
    out_n, last_in = 0, None
    for n, s in _decode_journal(lines, multi):
        if not multi[0]:
            out_n = n
        elif n != last_in:
            out_n += 1
        last_in = n
        yield out_n, s


# journalctl -o json-sse: each record as a server-sent event, "data: " before the json object
_SSE_DATA = "data: {"


def _journal_like(s: str) -> bool:
    """A line that may start a json, json-seq, json-pretty, export or verbose record."""
    c = s[:1]
    return c in ("{", "\x1e") or s.startswith(("__CURSOR=", "__REALTIME_TIMESTAMP=", _SSE_DATA)) \
        or (s.find("[s=", 0, 90) >= 0 and _VERBOSE_HEAD.match(s) is not None)


def _decode_journal(lines: Numbered, multi: List[bool]) -> Numbered:
    it = iter(lines)
    sse = False
    for n, s in it:
        c = s[:1]
        if c not in ("{", "\x1e", "_", "d") and s.find("[s=", 0, 90) < 0:
            if sse and not s:
                continue        # json-sse's blank line after every event
            yield n, s          # the common case: a plain line
            continue
        head = s.lstrip("\x1e")
        if c == "d":
            if not s.startswith(_SSE_DATA):
                yield n, s
                continue
            # json-sse: a server-sent event per record, "data: {json}" then a blank line
            head, sse = s[len("data: "):], True
        if head.startswith("{"):
            if head.rstrip().endswith("}") and any(k in head for k in _RECORD_KEYS):
                got = _json_record(head)
                if got is not None:
                    for line in got:
                        yield n, line
                    continue
            elif head.rstrip() == "{":
                held = [(n, s)]
                multi[0] = True
                yield from _json_pretty(held, it)
                continue
        elif head.startswith("__CURSOR=") or head.startswith("__REALTIME_TIMESTAMP="):
            multi[0] = True
            yield from _export(n, s, it)
            continue
        elif _VERBOSE_HEAD.match(s):
            multi[0] = True
            yield from _verbose(n, s, it)
            continue
        yield n, s


def _json_pretty(held: List[Tuple[int, str]], it: Numbered) -> Numbered:
    """Gather a json-pretty object ("{" ... "}" at column 0); give the lines
    back unchanged when it does not close in time or is not a journal record."""
    size = 0
    for n, s in it:
        held.append((n, s))
        size += len(s)
        if s.rstrip() == "}":
            got = _json_record("\n".join(x for _, x in held))
            if got is not None:
                for line in got:
                    yield held[0][0], line
                return
            break
        if len(held) > MAX_RECORD_LINES or size > MAX_RECORD_CHARS:
            break
    yield from held


def _export(n: int, first: str, it: Numbered) -> Numbered:
    """Export format: KEY=value lines, a blank line ends a record. Binary-safe
    fields (a bare KEY, then a 64-bit length and the data) are read best-effort."""
    fields: dict = {}
    start = n
    pending: Optional[str] = None
    for n, s in chain([(n, first)], it):
        if pending is not None:
            # the 8 length bytes decode to up to 8 characters before the data
            fields[pending] = s[8:] if len(s) >= 8 else ""
            pending = None
            continue
        if not s:
            yield from ((start, line) for line in _console(fields))
            fields, start = {}, n + 1
            continue
        m = _FIELD.match(s)
        if m:
            if len(fields) < 256:
                fields[m.group(1)] = m.group(2)
        elif re.fullmatch(r"[A-Z0-9_]{1,64}", s):
            pending = s
        else:
            # not export data after all: flush what we have and go on as plain text
            yield from ((start, line) for line in _console(fields))
            yield n, s
            fields, start = {}, n + 1
    if fields:
        yield from ((start, line) for line in _console(fields))


def _verbose(n: int, first: str, it: Numbered) -> Numbered:
    """Verbose format: a header line with the cursor, then indented KEY=value lines."""
    fields: dict = {}
    start = n
    for n, s in it:
        if s.startswith((" ", "\t")):
            m = _FIELD.match(s.strip())
            if m and len(fields) < 256:
                fields[m.group(1)] = m.group(2)
            continue
        yield from ((start, line) for line in _console(fields))
        fields, start = {}, n
        if not (_VERBOSE_HEAD.match(s)):
            yield n, s
            start = -1
            # back to plain text; a later header starts a new record
            for n2, s2 in it:
                if "[s=" in s2[:90] and _VERBOSE_HEAD.match(s2):
                    start = n2
                    break
                yield n2, s2
            if start < 0:
                return
    if fields:
        yield from ((start, line) for line in _console(fields))


# -- mail quoting and whole-paste indentation ----------------------------------------

# Quote markers, optionally behind the "+" of a diff that adds the quoted text (a patch or PR
# that pastes a quoted log).
_QUOTE = lazy_compile(r"\+?(?:> ?){1,16}")
_INDENT = lazy_compile(r"[ \t]{1,32}")


def _window(lines: Numbered, size: int = WINDOW) -> Tuple[List[Tuple[int, str]], Numbered]:
    """The first `size` non-blank lines (with the blank ones among them) and the rest."""
    it = iter(lines)
    head: List[Tuple[int, str]] = []
    seen = 0
    for item in it:
        head.append(item)
        if item[1].strip():
            seen += 1
            if seen >= size:
                break
        elif len(head) >= size * 16:
            break       # a run of blank lines: decide from what there is (memory stays bounded)
    return head, it


def unquote(lines: Numbered) -> Numbered:
    """Strip mail quote markers when most non-blank lines of the first window
    are quoted (a reply that quotes a log); otherwise change nothing."""
    head, rest = _window(lines)
    body = [s for _, s in head if s.strip()]
    quoted = sum(1 for s in body if s.startswith((">", "+>")))
    if not body or quoted * 2 < len(body):
        return chain(head, rest)        # no extra generator per line when the step does nothing
    return _unquote(chain(head, rest))


def _unquote(lines: Numbered) -> Numbered:
    for n, s in lines:
        if s.startswith((">", "+>")):
            m = _QUOTE.match(s)
            s = s[m.end():] if m else s
        yield n, s


_LINE_NUMBER = lazy_compile(r"\d{1,10}[:-]")


def strip_line_numbers(lines: Numbered) -> Numbered:
    """Drop `grep -n` line-number prefixes ("1261929:" on matches, "1262024-" on
    -A/-B/-C context lines, "--" between groups) when most non-blank lines of the
    first window carry one; otherwise change nothing."""
    head, rest = _window(lines)
    body = [s for _, s in head if s.strip()]
    numbered = sum(1 for s in body if s[:1].isdigit() and _LINE_NUMBER.match(s) and _numbered_text(s))
    if not body or numbered * 2 < len(body):
        return chain(head, rest)
    return _strip_line_numbers(chain(head, rest))


def _strip_line_numbers(lines: Numbered) -> Numbered:
    for n, s in lines:
        if s == "--":
            continue
        m = _LINE_NUMBER.match(s) if s[:1].isdigit() else None
        yield n, s[m.end():] if m else s


def _numbered_text(s: str) -> bool:
    """What follows a line number is a log line: it has a console prefix, or is not itself a number."""
    m = _LINE_NUMBER.match(s)
    rest = s[m.end():] if m else s
    return bool(rest) and (len(strip_prefix(rest)[0]) != len(rest) or not rest[:1].isdigit())


def strip_markup(lines: Numbered) -> Numbered:
    """Remove markdown a user put around a console line: emphasis (`**[ 12.3] BUG: ...**`)
    and a blockquote marker on some lines only (`> [ +14.888230] mali ...: Unhandled Page
    fault`, the rest of the paste unquoted; unquote handles a paste quoted as a whole).

    Only around a line that starts with a console prefix: the kernel prints
    lines of its own that start with "**" ("** 2395 printk messages dropped **"), and a
    console line starts with its stamp or level, never with ">", so a ">" before one is
    the poster's."""
    for item in lines:
        s = item[1]
        c = s[:1]
        if c == "*" and s[1:3] in ("*[", "*<"):
            t = s.rstrip()
            inner = t[2:-2] if len(t) > 4 and t.endswith("**") else t[2:]
            if len(strip_prefix(inner)[0]) != len(inner):
                item = (item[0], inner)
        elif c == ">":
            m = _QUOTE.match(s)
            inner = s[m.end():] if m else s
            if inner and len(strip_prefix(inner)[0]) != len(inner):
                item = (item[0], inner)
        yield item


def dedent(lines: Numbered) -> Numbered:
    """Remove the indentation every non-blank line of the first window shares
    (a paste indented as a whole), from every line that has it."""
    head, rest = _window(lines)
    body = [s for _, s in head if s.strip()]
    common: Optional[str] = None
    prev = ""
    for s in body:
        m = _INDENT.match(s)
        wrapped_tail = not m and _INDENT.match(prev) is not None and _word_wrapped(len(prev), s) \
            and parse_trace_line(prev.strip()) is None and len(strip_prefix(s)[0]) == len(s)
        prev = s
        if wrapped_tail:
            # a mail client's greedy wrap starts the tail of an indented line flush: the tail
            # of the block's line, not a line outside the indented block (not after a frame,
            # whose blank is its own: an excerpt of a stack is no indented paste; a line with a
            # console prefix is a record of its own)
            continue
        if not m:
            common = ""
            break
        common = _shared_prefix(common, m.group(0))
        if not common:
            break
    if not common:
        common = _block_indent(head)
    if not common or (len(body) < 2 and parse_trace_line(body[0].strip()) is not None):
        # (one indented line is a one-line paste indented, by the poster's blank, tab or
        # markdown, unless it is a frame, whose blank is its own: no other console line
        # starts with a blank, and a continuation line alone says nothing)
        return chain(head, rest)
    return _dedent(chain(head, rest), common)


def _shared_prefix(common: Optional[str], ind: str) -> str:
    """The indentation `common` and `ind` share (all of `ind` when there is none yet)."""
    if common is None:
        return ind
    k = 0
    while k < min(len(common), len(ind)) and common[k] == ind[k]:
        k += 1
    return common[:k]


def _block_indent(head: List[Tuple[int, str]]) -> str:
    """The indentation of a log quoted in prose as indented blocks (a commit message or a
    mail: "This results in ...:", a blank line, the log lines indented by two blanks, a
    blank line, more prose): every paragraph (lines between blank lines) is either indented
    as a whole or has no indented line and no console prefix (prose); the indentation the
    indented paragraphs share. "" when the window is not shaped so: a report whose header
    is flush and whose frames are indented mixes both in one paragraph."""
    common: Optional[str] = None
    blocks = 0
    para: List[str] = []
    for _, s in head + [(0, "")]:
        if s.strip():
            para.append(s)
            continue
        if not para:
            continue
        indents = [_INDENT.match(t) for t in para]
        if all(indents):
            blocks += 1
            for m in indents:
                common = _shared_prefix(common, m.group(0))
        elif any(indents) or any(len(strip_prefix(t)[0]) != len(t) for t in para):
            return ""
        para = []
    return common or "" if blocks else ""


def _dedent(lines: Numbered, common: str) -> Numbered:
    for n, s in lines:
        yield n, s[len(common):] if s.startswith(common) else s


# -- syslog records run together ------------------------------------------------

# A BSD syslog record's head: "Jan 31 22:06:16 host tag[pid]: " (journal -o short, /var/log/messages).
_SYSLOG_HEAD = lazy_compile(r"[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,9})? (\S{1,255}) [\w./-]{1,64}(?:\[\d{1,10}\])?: ")
_SYSLOG_DATE_AT = lazy_compile(r"[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,9})? $")
_SYSLOG_TAG_AT = lazy_compile(r"[\w./-]{1,64}(?:\[\d{1,10}\])?: ")
# Longest line searched for glued records (longer lines pass through unchanged).
MAX_GLUED_LINE = 1 << 16


def split_glued(lines: Numbered) -> Numbered:
    """Split syslog records that a paste ran together on one line.

    A forum or tracker that drops line breaks leaves "...ConnectionMonitorJan 31
    22:06:16 debian kernel: ------------[ cut here ]------------Jan 31 22:06:16 debian
    kernel: WARNING: ..." (posted corpus 863, 869). Kernel text never carries a syslog
    date followed by the host that logged the line and a tag, so a line that opens with
    a record head is split before every later date + same host + tag; each piece keeps
    the line's number."""
    for item in lines:
        s = item[1]
        # (a split needs six colons: the head's time and tag, and the next record's time and tag)
        if len(s) < 40 or len(s) > MAX_GLUED_LINE or not s[:1].isupper() or s.count(":") < 6:
            yield item
            continue
        m = _SYSLOG_HEAD.match(s)
        host = m.group(1) if m else None
        needle = f" {host} " if host else ""
        if not host or s.find(needle, m.end()) < 0:
            yield item
            continue
        start, pos = 0, m.end()
        while True:
            k = s.find(needle, pos)
            if k < 0:
                break
            # the date ends right before " host ": at most 23 characters back
            # ("Jan 31 22:06:16.123456789"), at least 15 ("Jan  1 22:06:16")
            head = -1
            for back in range(15, 26):
                b = k - back
                if b <= start:
                    break
                if _SYSLOG_DATE_AT.match(s, b, k + 1):
                    head = b
                    break
            tag_at = k + len(needle)
            if head > start and _SYSLOG_TAG_AT.match(s, tag_at):
                yield item[0], s[start:head].rstrip(" ")
                start = head
            pos = tag_at
        yield (item[0], s[start:]) if start else item


# -- wrapped lines ------------------------------------------------------------

# Tails a wrapping client leaves on the next line.
_HEX_RUN = lazy_compile(r"(?:[<(]?[0-9a-f]{2,16}[>)]?(?: |$)){1,64}")
_MODULE_RUN = lazy_compile(r"(?:[\w-]{1,64}(?:\([A-Z+-]{1,12}\))?(?: |$)){1,64}(?:\[last unloaded: [\w-]{1,64}\] ?)?")
_MOD_TAG = lazy_compile(r"\[[\w-]{1,64}\]")
_PARTIAL_FRAME = lazy_compile(r"[A-Za-z_.$][\w.$]{0,255}\+(?:0x[0-9a-fA-F]{0,16}(?:/(?:0x[0-9a-fA-F]{0,16})?)?)?$")
_FRAME_TAIL = lazy_compile(r"(?:0x)?[0-9a-fA-F]{0,16}(?:/(?:0x)?[0-9a-fA-F]{1,16})?(?: \[[\w-]{1,64}\])?")
_WHOLE_FRAME_END = lazy_compile(r"\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16}$")
# A frame whose "[mod <build id>]" tag (lib/vsprintf.c %pSb) a client broke at its blank: the
# line ends in "+0x../0x.. [mod", the next line is the build id and "]" alone.
_OPEN_TAG_END = lazy_compile(r"\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16} \[[\w-]{1,64}$")
_BUILD_ID_CLOSE = lazy_compile(r"[0-9a-f]{16,128}\]")
# The end of a lockdep lock line wrapped before its acquisition site (print_lock()).
_AT_END = ", at:"
# ... or inside the site's name ("{%s}, at: %pS" after the lock's usage bits, before 4.15
# ", at: [<%p>] %pS"), and the rest
_LOCK_AT_FRAGMENT = lazy_compile(r"\}, at: (?:\[<[0-9a-f]{8,16}>\] )?([A-Za-z_.][\w.]{0,200})$")
_SYMBOL_REST = lazy_compile(r"[\w.]{1,200}\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16}(?: \[[\w-]{1,64}\])?")


def held_frag_at(body: str) -> bool:
    """`body` is a lockdep lock line cut inside its site's name (see _LOCK_AT_FRAGMENT)."""
    return "}, at: " in body[-270:] and _LOCK_AT_FRAGMENT.search(body, max(0, len(body) - 260)) is not None
# Line ends where the kernel's format always goes on, so a client wrapped the line there; each
# kind with what the format prints next (_open_tail):
# * "frame": lockdep print_lock() before 4.15, ", at: [<%p>] %pS" (4.x kernel/locking/lockdep.c);
# * "text": DRM's error mark, "[drm:%ps] *ERROR* %pV" / "[drm] *ERROR* %pV" (6.12
#   drm_print.c __drm_dev_vprintk, drm_print.h DRM_DEV_ERROR; older DRM_ERROR the same);
# * "address": arm/arm64 "Unable to handle kernel %s at virtual address %08lx/%016lx"
#   (arch/arm64/mm/fault.c die_kernel_fault, arch/arm/mm/fault.c __do_kernel_fault);
# * "in": __stack_chk_fail's "stack-protector: Kernel stack is corrupted in: %pB" (kernel/panic.c),
#   and "frame" after its "in:" too;
# * "task": the hung-task blocker lines "... likely owned by task %s:%d" / "likely last held by
#   task %s:%d" (kernel/hung_task.c debug_show_blocker, 6.16+).
_OPEN_SUFFIXES = (">]", "] *ERROR*", " at virtual address", "Kernel stack is corrupted", "Kernel stack is corrupted in:",
                  " by task")
_OPEN_LAST = frozenset(s[-1] for s in _OPEN_SUFFIXES)
_DIGITS = frozenset("0123456789")
_OPEN_LOCK_AT = lazy_compile(r", at: \[<[0-9a-f]{8,16}>\]$")
_OPEN_TASK = lazy_compile(r" likely (?:owned|last held) by task$")
_ADDRESS_TAIL = lazy_compile(r"[0-9a-fA-F]{8,16}(?:[ ,.]|$)")
_TASK_TAIL = lazy_compile(r"[^\s:]{1,64}(?::[^\s:]{1,64})?:\d{1,10}(?:[.\s]|$)")
# scripts/decode_stacktrace.sh prints a frame's source locations in parentheses after its symbol,
# "func+0x../0x.. (path:line path:line ...) module", all on the frame's line (the inlined
# locations joined with blanks): a line of nothing but such locations, opening the group or
# going on with it, is the rest of the frame line a client wrapped.
_SRC_LOC = r"(?:[\w.+-]{1,100}/){0,16}[\w.+-]{1,100}\.[A-Za-z]{1,4}:\d{1,6}"
_SRC_OPEN_TAIL = lazy_compile(r"\((?:" + _SRC_LOC + r" ){0,16}" + _SRC_LOC + r"(?:\)(?: [\w-]{1,64})?)?")
_SRC_MID_TAIL = lazy_compile(r"(?:" + _SRC_LOC + r" ){0,16}" + _SRC_LOC + r"(?:\)(?: [\w-]{1,64})?)?")
# (characters that end no symbol and no location: most lines end with one of them or a blank)
_NOT_SYMBOL_END = frozenset(" \t)]}>!,;'\"=")
_SRC_CLOSE = lazy_compile(r"\.[A-Za-z]{1,4}:\d{1,6}\)")
_SRC_LAST = lazy_compile(r"(?:^|[ (])" + _SRC_LOC + r"$")
_SYMBOL_END = lazy_compile(r"(?:^|[\s:?])[A-Za-z_.][\w.]{0,200}(?:\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16})?$")
# The two halves of an arm32 unwinder line cut after its "from" (dump_backtrace_entry)
_ARM_FROM_HEAD = lazy_compile(r"\[<[0-9a-fA-F]{8,16}>\] ?\([\w.$]{1,200}(?:\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16})?\) from$")
_ARM_FROM_TAIL = lazy_compile(r"\[<[0-9a-fA-F]{8,16}>\] ?\([\w.$]{1,200}\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16}(?: \[[\w-]{1,64}\])?\)")
# lib/dump_stack.c dump_stack_print_info() prints "CPU: %d PID: %d Comm: %.20s %s%s %s %.*s"
# (6.x: "CPU: %d UID: %u PID: %d ..."): the taint field print_tainted() gives, a fixed-width
# run of flag letters and blanks, is always followed by the release. A line that ends inside
# the flag run was cut there by a wrapping client (the blanks between the flags are where a
# word wrap breaks), and a line of flag letters then a release is its rest.
_CPU_TAINT_CUT = lazy_compile(r"CPU: \d{1,5} (?:UID: \d{1,10} )?PID: -?\d{1,10} Comm: .{0,40}? (?:Kdump: loaded )?"
                              r"Tainted: [A-Z][A-Z ]{0,40}$")
_TAINT_REST = lazy_compile(r"(?:[A-Z] {1,40}){0,40}\d{1,2}\.\d{1,3}[\w.+~-]{0,80}(?:\s|$)")
# Only a line at least this long can have been wrapped by a 72-80 column client.
MIN_WRAPPED = 60

# __warn()'s header, "WARNING: CPU: %d PID: %d at %s:%d %pS" (or "at %pS" without
# CONFIG_DEBUG_BUGVERBOSE), cut by a wrapping client after "at" or after the file:line:
# the kernel never ends the line there, so the next line is the rest of it.
_WARN_OPEN = lazy_compile(r"WARNING: CPU: \d{1,5} PID: -?\d{1,10} at(?: ([^\s:]{1,200}:\d{1,7}))?")
_WARN_LOCATION = lazy_compile(r"[^\s:]{1,200}:\d{1,7}(?: .{1,300})?")
# (3.x-4.x warn_slowpath_common() printed "%pS()": the symbol ends in "()" there)
_WARN_SYMBOL = lazy_compile(r"[A-Za-z_.][\w.]{0,200}\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16}(?: \[[\w-]{1,64}\])?(?:\(\))?")


# The sanitizers' report heads, "BUG: KASAN: %s in %pS" (mm/kasan/report.c
# print_error_description), "BUG: KFENCE: <kind> in %pS" (mm/kfence/report.c
# kfence_report_error), "BUG: KMSAN: %s in %pSb" (mm/kmsan/report.c) and "BUG: KCSAN: %s in
# %pS" (kernel/kcsan/report.c), cut by a wrapping client after "in": the kernel never ends
# the line there, so the next line is the symbol (as for __warn's header cut after "at").
_SANITIZER_OPEN = lazy_compile(r"BUG: K(?:ASAN|FENCE|MSAN|CSAN): [\w -]{1,80} in")


def _warn_open(msg: str) -> Optional[bool]:
    """None when `msg` is not a cut __warn header or sanitizer head; else whether the cut
    came after the file:line or a sanitizer's "in" (True: only the symbol is missing) or
    right after __warn's "at" (False)."""
    body = msg.strip()
    m = _WARN_OPEN.fullmatch(body)
    if m is None:
        return True if _SANITIZER_OPEN.fullmatch(body) is not None else None
    return m.group(1) is not None


def _warn_tail(after_location: bool, cur: str) -> bool:
    """`cur` is what a wrapping client moved off a cut __warn header."""
    tail = cur.rstrip()
    if after_location:
        return _WARN_SYMBOL.fullmatch(tail) is not None
    return _WARN_LOCATION.fullmatch(tail) is not None or _WARN_SYMBOL.fullmatch(tail) is not None


def _tail_shaped(s: str) -> bool:
    """Cheap test: `s` could be the tail of a wrapped Code:, module list or frame."""
    if len(s) > 200:
        return False
    c = s[0]
    if c == "[" and s[1:2] == "<":
        # the "[<addr>] (caller+0x../0x..)" half of an arm32 unwinder line
        return _ARM_FROM_TAIL.match(s) is not None
    if c == "[":
        # "[mod]" alone; a console stamp "[  12.3]" starts with a blank or a digit
        return len(s) <= 80 and s[1:2] not in (" ", "") and not s[1].isdigit() \
            and _MOD_TAG.fullmatch(s.rstrip()) is not None
    return c in "0123456789abcdef<(" or _MODULE_RUN.fullmatch(s.rstrip()) is not None


def _joinable(prev_msg: str, prev_len: int, cur: str, cur_has_prefix: bool) -> Optional[str]:
    """The separator to join `cur` to the previous line with, None to keep them apart."""
    if cur_has_prefix or not cur or cur[0].isspace() or len(cur) > 200:
        return None
    tail = cur.rstrip()
    body = prev_msg.strip()
    if not body:
        return None
    if held_frag_at(body) and _SYMBOL_REST.fullmatch(tail):
        # lockdep's print_lock() prints the site as %pS, always with its +off/size: a lock line
        # ending in ", at: " and a name without them was cut inside the name (a terminal's
        # hard wrap), and a line that completes it into a whole frame is its rest
        m = _LOCK_AT_FRAGMENT.search(body, max(0, len(body) - 260))
        fr = parse_trace_line(m.group(1) + tail)
        return "" if fr is not None and fr.offset is not None and fr.size is not None else None
    if body.endswith(_AT_END):
        # lockdep prints a lock and the site that took it as one line ("(&cli->mutex){+.+.}-{3:3},
        # at: nouveau_bo_move+0x4bf/0x2ec0 [nouveau]"); nothing prints ", at:" at a line's end
        fr = parse_trace_line(tail)
        return " " if fr is not None and fr.offset is not None and fr.size is not None else None
    if prev_len >= MIN_WRAPPED and "Code: " in body[:12] and _HEX_RUN.fullmatch(tail) \
            and _HEX_RUN.fullmatch(body.rsplit(" ", 1)[-1] + " "):
        return " "
    if prev_len >= MIN_WRAPPED and body.startswith("Modules linked in:") and ":" not in tail \
            and _MODULE_RUN.fullmatch(tail):
        return " "
    if body.endswith(") from") and _ARM_FROM_TAIL.match(tail) and _ARM_FROM_HEAD.search(body):
        # arch/arm/kernel/traps.c dump_backtrace_entry() prints "[<%08lx>] (%ps) from [<%08lx>]
        # (%pS)" as one line: a line cut after its "from" goes on with the caller's half
        return " "
    if _WHOLE_FRAME_END.search(body) and _MOD_TAG.fullmatch(tail):
        return " "
    if tail[-1:] == "]" and _BUILD_ID_CLOSE.fullmatch(tail) and _OPEN_TAG_END.search(body, max(0, len(body) - 120)):
        return " "
    m = _PARTIAL_FRAME.search(body)
    if m and _FRAME_TAIL.fullmatch(tail) and (m.start() == 0 or body[m.start() - 1] in " :?"):
        joined = body[m.start():] + tail
        fr = parse_trace_line(joined)
        if fr is not None and fr.offset is not None and fr.size is not None:
            return ""
    return None


# DRM's error mark, and the "[drm:func]" / "[drm:func [mod]]" / "[drm]" tag it follows at a line's end.
_DRM_ERROR_MARK = "*ERROR* "
_DRM_MARKS = tuple(" " * k + _DRM_ERROR_MARK for k in (0, 2, 3, 4, 5, 6, 7, 8))
_DRM_FIRST = frozenset("* ")
_DRM_TAG_END = lazy_compile(DRM_TAG + "$")


def _open_end(end: str) -> Optional[str]:
    """The kind of _OPEN_SUFFIXES line end `end` (a line without trailing blanks) has, if any."""
    if not end.endswith(_OPEN_SUFFIXES):
        return None
    if end.endswith(">]"):
        return "frame" if _OPEN_LOCK_AT.search(end, max(0, len(end) - 30)) else None
    if end.endswith("] *ERROR*"):
        return "text"
    if end.endswith(" at virtual address"):
        return "address" if "Unable to handle kernel " in end else None
    if end.endswith("Kernel stack is corrupted"):
        return "in" if end.endswith("stack-protector: Kernel stack is corrupted") else None
    if end.endswith("Kernel stack is corrupted in:"):
        return "frame" if end.endswith("stack-protector: Kernel stack is corrupted in:") else None
    return "task" if _OPEN_TASK.search(end, max(0, len(end) - 40)) else None


def _open_tail(kind: str, cur: str) -> bool:
    """`cur` (no console prefix, no indentation) is what the format of an open line end of
    `kind` prints next."""
    if kind == "text":
        return True
    if kind == "address":
        return _ADDRESS_TAIL.match(cur) is not None
    if kind == "in":
        return cur.startswith("in: ")
    if kind == "task":
        return _TASK_TAIL.match(cur) is not None
    if kind == "taint":
        return _TAINT_REST.match(cur) is not None
    fr = parse_trace_line(cur.rstrip())
    return fr is not None and fr.offset is not None and fr.size is not None


def _source_tail(held: str, cur: str) -> bool:
    """`cur` (no console prefix) is the rest of a decode_stacktrace.sh frame line `held`: its
    "(locations...) module" after the symbol, or, inside the still open group, more locations."""
    end = held.rstrip()
    tail = cur.rstrip()
    if tail[:1] == "(":
        return _SRC_OPEN_TAIL.fullmatch(tail) is not None and end.rfind("(") <= end.rfind(")") \
            and _SYMBOL_END.search(end, max(0, len(end) - 220)) is not None
    return end.rfind("(") > end.rfind(")") and _SRC_MID_TAIL.fullmatch(tail) is not None \
        and _SRC_LAST.search(end, max(0, len(end) - 2000)) is not None


def _drm_tag_ends(text: str) -> bool:
    """`text` ends with a DRM printk tag (searched in its last 200 characters only)."""
    return _DRM_TAG_END.search(text, max(0, len(text) - 200)) is not None


# A general wrap: the client breaks at the last blank before its width, so the first word
# of the tail would not have fitted on the line. Clients wrap at 72-80 columns.
WRAP_MIN, WRAP_MAX = 64, 80


# Lines looked at to decide whether a client word-wrapped the whole paste.
WRAP_WINDOW = 200
# A client's continuation indent is at most this many blanks (deeper is the log's own).
MAX_WRAP_INDENT = 8
# Terminal widths a hard wrap is recognised at.
MAX_HARD_WIDTH = 320
# Columns below a hard wrap's width whose lines are counted against it (see _looks_wrapped).
HARD_NEAR = 4
# Characters of a line that tell lines of one shape (numbers aside) from different ones.
HARD_OPENING = 16
_HEX_TO_0 = str.maketrans("123456789abcdefABCDEF", "0" * 21)


class _Wrap(NamedTuple):
    """How a client wrapped the paste: a greedy word wrap (its tails indented by `indent`),
    and/or a terminal's hard wrap at exactly `width` columns (0: none); `bare`: the hard wrap
    was told from the line lengths alone, so a line without a console prefix was cut too."""
    words: bool
    indent: str
    width: int
    bare: bool = False


def _looks_wrapped(lines: List[str]) -> _Wrap:
    """A word-wrapping client leaves no line longer than its width that it could
    have broken at a blank, and leaves many near-width prefixed lines followed
    by a line without a prefix (the tails), all indented alike (none, or the client's
    continuation indent). A terminal's hard wrap leaves many prefixed lines of exactly
    its width followed by a line without a prefix."""
    near = 0
    pairs: Counter = Counter()       # tails after a near-width prefixed line, by their indentation
    cut: Counter = Counter()         # lengths of prefixed lines followed by a tail
    chained: Counter = Counter()     # lengths of tails followed by another tail
    # tails a greedy word wrap explains / does not, by indentation (none, or 2-8 blanks: one
    # blank is a frame's own indentation)
    fits: Counter = Counter()
    misfits: Counter = Counter()
    long_blank = False
    lengths: Counter = Counter()     # every line's length (a hard wrap's width stands out)
    prev_near = False
    prev_len = 0
    prev_tail = 0
    for s in lines:
        lengths[len(s)] += 1
        if len(s) > WRAP_MAX and " " in s[1:WRAP_MAX].rstrip() and _movable_overflow(s):
            long_blank = True
        prefixed = bool(s) and len(strip_prefix(s)[0]) != len(s)
        # a tail: a line without a prefix after a prefixed line (prev_len) or after a tail
        # (prev_tail, its own tail: what the wrap moved off the tail before it); at most one is set
        tail = bool(prev_len or prev_tail) and not prefixed and bool(s.strip())
        if tail:
            body = s.lstrip(" ")
            indent = s[:len(s) - len(body)]
            if not prev_len:
                chained[prev_tail] += 1
            elif len(indent) <= MAX_WRAP_INDENT:
                if prev_near:
                    pairs[indent] += 1
                if not indent:
                    cut[prev_len] += 1
            if len(indent) != 1 and (prev_len or len(indent) <= MAX_WRAP_INDENT):
                if _word_wrapped(prev_len or prev_tail, body):
                    fits[indent] += 1
                else:
                    misfits[indent] += 1
        prev_tail = len(s) if tail else 0
        prev_near = prefixed and WRAP_MIN <= len(s)
        prev_len = len(s) if prefixed else 0
        near += prev_near
    words, indent = False, ""
    if pairs and not long_blank:
        # unindented tails first (the common client); else the most common continuation indent
        indent, n = ("", pairs[""]) if pairs[""] >= 3 else pairs.most_common(1)[0]
        words = n >= 3 and n * 4 >= near
    if not words and not long_blank and len(fits) == 1 and not misfits:
        # a short excerpt (one OOM victim line wrapped in three): too few tails to count, but
        # every line without a prefix is what a greedy wrap moved off the line before it, twice
        # at least (one line after a long one may be the next message: "executing program")
        indent, n = fits.most_common(1)[0]
        words = n >= 2
    width = 0
    if cut:
        w, n = cut.most_common(1)[0]
        # a hard wrap cuts at one width, whatever the text: every tail follows a line of that
        # length, a tail's own tail too (a word wrap breaks at the last blank, so its lines'
        # lengths vary)
        # (a tail's own tail of exactly that width is evidence too: one long record, the module
        # list, wrapped over many lines shows the width once per line, not once per record)
        if n + chained[w] >= 3 and WRAP_MIN <= w <= MAX_HARD_WIDTH and n == sum(cut.values()) \
                and all(k == w for k in chained):
            width = w
    bare = False
    # (tails indented alike are a client's word wrap: a terminal does not indent its pieces)
    if not width and lengths and not (words and indent):
        w = max(lengths)
        near_w = sum(lengths[k] for k in range(w - HARD_NEAR, w))
        if WRAP_MIN <= w <= MAX_HARD_WIDTH and lengths[w] >= 3 and lengths[w] >= 2 * near_w:
            bare = _hard_wrapped_at(lines, w, words)
            width = w if bare else 0
    return _Wrap(words, indent if words else "", width, bare)


def _hard_wrapped_at(lines: List[str], w: int, words: bool) -> bool:
    """A terminal cut the lines at `w` columns: no line is longer, lines of exactly `w` outnumber
    twice over those a few columns shorter (a word wrap or the log's own lines spread over
    those), and the lines of the width that go on in a line without a console prefix show it:

    * they are of different shapes, at their start and at their end (three at least): a
      fixed-width format (Code: bytes, stack dump rows, one message repeated with other numbers)
      makes lines of one length too, but of one shape;
    * the cut falls mid-word (twice at least) three times as often as before a capital: a
      terminal cuts wherever the width falls, while a `less -S` cut is followed by the next
      record, which often opens with a capital;
    * when the prefixed lines show a word wrap too (`words`), the cut falls at a blank once at
      least: a word wrap breaks only at blanks and drops them, so its lines of the width (a
      module list or Code: bytes fill them exactly) are never cut next to one;
    * what follows them does not open alike half the time or more: records of one driver
      ("amdgpu 0000:03:00.0: ...") after lines cut by `less -S`."""
    heads, ends = set(), set()
    starts: Counter = Counter()      # what follows the lines of the width, by its opening's shape
    mid_word = upper = at_blank = 0
    for k in range(len(lines) - 1):
        s, nxt = lines[k], lines[k + 1]
        if len(s) != w or not nxt.strip() or len(strip_prefix(nxt)[0]) != len(nxt):
            continue
        heads.add(strip_prefix(s)[0][:HARD_OPENING].translate(_HEX_TO_0))
        ends.add(s[-HARD_OPENING:].translate(_HEX_TO_0))
        starts[nxt[:HARD_OPENING // 2].translate(_HEX_TO_0)] += 1
        if nxt[0].isupper():
            upper += 1
        elif _word_char(s[-1]) and _word_char(nxt[0]):
            mid_word += 1
        elif s[-1] == " " or nxt[0] == " ":
            at_blank += 1
    return len(heads) >= 3 and len(ends) >= 3 and mid_word >= 2 and upper * 3 <= mid_word and (at_blank > 0 or not words) \
        and starts.most_common(1)[0][1] * 2 < sum(starts.values())


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _movable_overflow(s: str) -> bool:
    """A line longer than WRAP_MAX that a wrapping client would have broken: the word that
    runs past the width would fit a line of its own. A word longer than any line (a key's hex,
    a long path) is left where it stands by clients that do not split words, so a line it
    overflows says nothing against a wrap."""
    k = s.rfind(" ", 1, WRAP_MAX + 1)
    if k < 0:
        return False
    word = s[k + 1:].split(" ", 1)[0]
    return len(word) <= WRAP_MAX


def _after_wrap_indent(s: str) -> str:
    """`s` without a continuation indent of 2 to MAX_WRAP_INDENT blanks before text; else `s`."""
    body = s.lstrip(" ")
    d = len(s) - len(body)
    return body if 2 <= d <= MAX_WRAP_INDENT and body and not body[0].isspace() else s


def _word_wrapped(last_len: int, cur: str) -> bool:
    """`cur` (no prefix, no indentation) is what a greedy word wrap moved off a
    WRAP_MIN..WRAP_MAX column line of length `last_len`."""
    if last_len > WRAP_MAX or not cur or cur[0].isspace():
        return False
    first = cur.split(" ", 1)[0]
    return last_len + 1 + len(first) > WRAP_MIN


def rejoin_wrapped(lines: Numbered) -> Numbered:
    """Join a continuation line to the line a mail or forum client wrapped it from.

    Joined when the previous line is a `Code:` byte run, a `Modules linked in:`
    list, or ends in a frame, and the continuation is nothing but the rest of it
    (hex bytes; module names; `0x../0x.. [mod]` or `[mod]`) and carries no console
    prefix of its own; or, in a log whose lines carry console prefixes, when an
    unindented line without one follows a line that a greedy 64-80 column word
    wrap would have broken before it. The joined line keeps the first line's number."""
    head, rest = _window(lines, WRAP_WINDOW)
    wrap = _looks_wrapped([s for _, s in head])
    wrapped = wrap.words
    indent = wrap.indent
    width = wrap.width
    bare = wrap.bare
    # whether a line's console prefix matters (a word or hard wrap joins only after a prefixed line)
    prefix_matters = wrapped or width > 0
    held: Optional[Tuple[int, str]] = None
    held_msg: Optional[str] = None     # `held` without its console prefix, computed when needed
    last_len = 0          # length of the last physical line in `held`
    held_prefixed = False  # `held` starts with a console prefix
    marked = False        # `held` may end in a Code: run, a module list or a frame
    warn_open: Optional[bool] = None  # `held` is a __warn header cut after "at" / after file:line
    held_at = False       # `held` ends with a lockdep ", at:", or inside its site's name
    open_kind: Optional[str] = None  # `held` ends where its format goes on (_open_end)
    held_open = False     # `held` ends with a location inside an open parenthesis
    # decode_stacktrace.sh output (a location closing its parentheses) in the window: only then
    # can a line be the rest of a decoded frame line
    decoded = any(")" in s and _SRC_CLOSE.search(s) for _, s in head)
    # (locals: looked up once per line)
    open_last, digits, drm_first, not_symbol_end = _OPEN_LAST, _DIGITS, _DRM_FIRST, _NOT_SYMBOL_END
    for item in chain(head, rest):
        s = item[1]
        if indent and s.startswith(indent) and s[len(indent):len(indent) + 1] not in ("", " ", "\t") \
                and held_prefixed:
            # the client's continuation indent is not part of the text
            s = s[len(indent):]
        if held is not None and width and (held_prefixed or bare) and last_len == width and s \
                and len(held[1]) < MAX_LINE and len(strip_prefix(s)[0]) == len(s):
            # a terminal's hard wrap: the line went on where the width cut it, mid-word (a piece
            # of exactly the width goes on too: a blank at its end is text, not padding)
            held = (held[0], held[1] + (s if len(s) == width else s.rstrip()))
            held_msg = None
            last_len = len(s)
            continue
        if s[:1] in drm_first and held is not None and s.startswith(_DRM_MARKS) \
                and len(held[1]) < MAX_LINE and held[1].rstrip().endswith("]") \
                and _after_wrap_indent(s).startswith(_DRM_ERROR_MARK) and _drm_tag_ends(held[1].rstrip()):
            # drm_dev_printk()/__drm_err() print "*ERROR* " only right after their "[drm:%ps]"
            # tag: a line that opens with it (after a client's continuation indent) is the rest
            # of the line that ends with the tag
            held = (held[0], held[1].rstrip() + " " + _after_wrap_indent(s).rstrip())
            held_msg = None
            last_len = len(s)
            continue
        if decoded and held is not None and (held_open or s[:1] == "(" or s[:2] == "  ") \
                and len(held[1]) < MAX_LINE:
            # the rest of a decode_stacktrace.sh frame line (a client's continuation indent before
            # it is not text)
            src = _after_wrap_indent(s) if s[:1] == " " else s
            if src[:1] != " " and (held_open or src[0] == "(") and held[1].rstrip()[-1:] not in _NOT_SYMBOL_END \
                    and len(strip_prefix(src)[0]) == len(src) and _source_tail(held[1], src):
                held = (held[0], held[1].rstrip() + " " + src.rstrip())
                held_msg = None
                last_len = len(s)
                end = held[1]
                held_open = end[-1:] in digits and end.rfind("(") > end.rfind(")")
                continue
        if held is not None and (marked or wrapped) and s and len(held[1]) < MAX_LINE:
            t = s
            if marked and s[0] == " ":
                # a client's continuation indent (2-8 blanks; one is a frame's own) before what
                # can only be the rest of a Code: run, module list, frame or cut header: the
                # shape tests below decide, on the text after it
                t = _after_wrap_indent(s)
            sep = None
            has_prefix = None
            # cheap tests first: most lines cannot be a tail
            if not t[0].isspace():
                if marked and (held_at or _tail_shaped(t)):
                    if held_msg is None:
                        held_msg = strip_prefix(held[1])[0]
                    has_prefix = len(strip_prefix(t)[0]) != len(t)
                    sep = _joinable(held_msg, last_len, t, has_prefix)
                if sep is None and warn_open is not None:
                    if has_prefix is None:
                        has_prefix = len(strip_prefix(t)[0]) != len(t)
                    if not has_prefix and _warn_tail(warn_open, t):
                        sep = " "
                if sep is None and open_kind is not None:
                    if has_prefix is None:
                        has_prefix = len(strip_prefix(t)[0]) != len(t)
                    if not has_prefix and _open_tail(open_kind, t):
                        sep = " "
                if sep is None and t is s and wrapped and held_prefixed and _word_wrapped(last_len, s):
                    if has_prefix is None:
                        has_prefix = len(strip_prefix(s)[0]) != len(s)
                    if not has_prefix:
                        sep = " "
            if sep is not None:
                held = (held[0], held[1].rstrip() + sep + t.rstrip())
                held_msg = None
                last_len = len(s)
                if warn_open is not None:
                    warn_open = _warn_open(strip_prefix(held[1])[0])
                if open_kind is not None:
                    open_kind = _open_end(held[1])
                continue
        if held is not None:
            yield held
        held = item
        held_msg = None
        last_len = len(s)
        # "+0x" (a frame) and a "+" in the last 3 characters (a frame cut after its "+")
        # both need a "+": one search answers both for most lines
        # a lockdep lock line cut after ", at:" takes the whole frame that follows
        end = s.rstrip()
        last = end[-1:]
        # (or inside the site's name: it ends with a name's character); both hold ", at:", one
        # scan that rules out nearly every line before the tests
        held_at = ", at:" in end and (end.endswith(_AT_END) or (last not in not_symbol_end and "}, at: " in end
                                                                and "+" not in end[end.rfind("}, at: "):]))
        marked = ("+" in s and ("+0x" in s or "+" in s[-3:])) or "Code: " in s or "Modules linked in:" in s or held_at \
            or end.endswith(") from")
        warn_open = _warn_open(strip_prefix(s)[0]) if "WARNING: CPU:" in s or "BUG: K" in s else None
        open_kind = _open_end(end) if last in open_last else None
        if open_kind is None and "Tainted: " in end and _CPU_TAINT_CUT.search(end, max(0, len(end) - 160)):
            open_kind = "taint"
        marked = marked or warn_open is not None or open_kind is not None
        # a decode_stacktrace.sh frame line may go on with its source locations: inside the
        # locations' parentheses, after a location ("path:line": a digit ends it), or after its
        # symbol when the next line opens them
        held_open = decoded and last in digits and end.rfind("(") > end.rfind(")")
        held_prefixed = prefix_matters and bool(s) and len(strip_prefix(s)[0]) != len(s)
    if held is not None:
        yield held


# -- newest first ------------------------------------------------------------------

# Lines buffered to reverse a newest-first paste (about 40 MiB of text at most);
# a longer input is passed on in file order rather than held whole.
MAX_REVERSE_LINES = 1 << 18
# Lines read to decide the order.
ORDER_WINDOW = 4 * WINDOW

_CLOCK = lazy_compile(r"(?:^|[ T])(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?=[ +Z-])")
_TRACE_HEADS = ("Call Trace:", "Call trace:")
# Adjacent lines of one report in the order the kernel prints them (x86 __die()/
# show_regs(), __warn(), arm64 mem_abort_decode()): seen the other way round,
# the paste runs newest first.
_PRINT_ORDER = (("BUG: ", "#PF: "), ("#PF: ", "#PF: error_code"), ("Oops: ", "CPU: "), ("CPU: ", "Hardware name: "),
                ("RIP: ", "Code: "), ("Code: ", "RSP: "), ("RSP: ", "RAX: "), ("RAX: ", "RDX: "),
                ("RDX: ", "RBP: "), ("RBP: ", "R10: "), ("R10: ", "R13: "), ("R13: ", "FS: "), ("FS: ", "CS: "),
                ("CS: ", "CR2: "), ("------------[ cut here ]", "WARNING: "), ("Mem abort info:", "ESR = "),
                ("Unable to handle kernel", "Mem abort info:"), ("pc : ", "lr : "), ("lr : ", "sp : "))


def _stamp(text: str) -> Optional[float]:
    """A sortable time of one line: the printk timestamp, else a wall-clock time of
    day in the line's first 48 characters (journal/syslog/ISO stamps)."""
    _, ts, _, _, _ = strip_prefix(text[:MAX_LINE])
    if ts is not None:
        return ts
    m = _CLOCK.search(text[:48])
    if m is None:
        return None
    frac = float("0." + m.group(4)) if m.group(4) else 0.0
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)) + frac


def _order_votes(texts: List[str], trace_tails: Tuple[str, ...]) -> Tuple[int, int]:
    """(votes for newest-first, votes for oldest-first) from timestamps that step
    backwards or forwards, and from the shape of call traces: in time order a
    trace's header precedes its frames and the outermost frame (the syscall or
    thread entry, [parser] trace_tails) comes last; newest first, both are reversed. A timestamp step
    counts 1, a report-shape clue 2 (one clue settles a paste without usable
    timestamps, one stray timestamp does not)."""
    rev = fwd = 0
    prev: Optional[float] = None
    for t in texts:
        ts = _stamp(t)
        if ts is None:
            continue
        if prev is not None:
            if ts < prev and not (ts < 5.0 <= prev):
                rev += 1        # (a step back to a few seconds is a reboot's first lines, not reversal)
            elif ts > prev:
                fwd += 1
        prev = ts
    msgs = [strip_prefix(t[:MAX_LINE])[0].strip() for t in texts]
    frames = [parse_trace_line(" " + m) if m else None for m in msgs]
    for a, b in zip(msgs, msgs[1:]):
        for first, second in _PRINT_ORDER:
            if a.startswith(first) and b.startswith(second) and not (first == "#PF: " and a.startswith(second)):
                fwd += 2
            elif a.startswith(second) and b.startswith(first) and not (first == "#PF: " and b.startswith(second)):
                rev += 2
    for i, m in enumerate(msgs):
        before = i > 0 and frames[i - 1] is not None
        after = i + 1 < len(msgs) and frames[i + 1] is not None
        if m.startswith(_TRACE_HEADS):
            if after and not before:
                fwd += 2
            elif before and not after:
                rev += 2
        elif frames[i] is not None and frames[i].function.startswith(trace_tails):
            # the outermost frame (the syscall or thread entry): last of its trace in time order
            if before and not after:
                fwd += 2
            elif after and not before:
                rev += 2
    return rev, fwd


def _prefixed(text: str) -> bool:
    """The line carries a console/journal prefix (printk time, syslog/journal stamp, caller id)."""
    msg, ts, caller, host, _ = strip_prefix(text[:MAX_LINE])
    return ts is not None or host is not None or caller is not None or len(msg) < len(text.lstrip(" \t"))


def unreverse(lines: Numbered, trace_tails: Optional[Tuple[str, ...]] = None) -> Numbered:
    """Put a newest-first paste (`journalctl -r`, `dmesg -r | tac`) back in time order.

    Decided from the first ORDER_WINDOW lines: reversed only when the timestamps
    and report shapes say newest first (two votes at least, _order_votes) three
    times as often as time order. Records are reversed as units, so a
    multi-line record's unprefixed continuation lines stay after its first line.
    The reversed lines are renumbered 1, 2, ... in time order (the parser needs
    increasing numbers), so report line numbers then count from the paste's end.
    `trace_tails`: the outermost trace frames of the run's signature set ([parser]
    trace_tails, Reporters.names), the built-in ones when None.
    """
    if trace_tails is None:
        trace_tails = reporters().names.trace_tails
    it = iter(lines)
    head: List[Tuple[int, str]] = []
    for item in it:
        head.append(item)
        if len(head) >= ORDER_WINDOW:
            break
    rev, fwd = _order_votes([s for _, s in head], trace_tails)
    if rev < 2 or rev < 3 * fwd:
        return chain(head, it)          # in time order: no generator step per line
    return _unreversed(head, it)


def _unreversed(head: List[Tuple[int, str]], it: Numbered) -> Numbered:
    buf = head
    for item in it:
        buf.append(item)
        if len(buf) > MAX_REVERSE_LINES:
            break
    if len(buf) > MAX_REVERSE_LINES:
        # too long to hold: pass it on as it is
        yield from chain(buf, it)
        return
    # A record's continuation lines (journalctl and dmesg indent them, without a
    # prefix) stay after its first line; in an unprefixed paste every line is a record.
    flags = [_prefixed(s) for _, s in buf]     # one strip_prefix per line, for both uses
    prefixed = sum(flags) * 2 > len(buf)
    records: List[List[str]] = []
    for (_, s), has_prefix in zip(buf, flags):
        if records and prefixed and s[:1] in (" ", "\t") and s.strip() and not has_prefix:
            records[-1].append(s)
        else:
            records.append([s])
    n = 0
    for rec in reversed(records):
        for s in rec:
            n += 1
            yield n, s
