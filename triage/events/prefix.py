"""Console prefixes: strip what syslog, journald, printk and makedumpfile put
in front of a kernel message, and sanitise hostile text.

Every regex here is anchored and free of nested quantifiers, so a line costs
time linear in its (capped) length.
"""

from typing import Optional, Tuple

from triage.lazyre import lazy_compile

# Longest message text kept per line; longer lines are cut and counted.
MAX_LINE = 4096

# ANSI/VT escape sequences (CSI ... final byte, OSC ... BEL/ST, two-byte ESC x).
_ESCAPE = lazy_compile(r"\x1b(?:\[[0-9;?<=>]{0,64}[ -/]{0,4}[@-~]|\][^\x07\x1b]{0,256}(?:\x07|\x1b\\)?|[@-Z\\-_])")
# C0/C1 control characters other than tab; replaced by "?" so offsets stay visible.
_CONTROL_TABLE = {c: "?" for c in list(range(0, 9)) + list(range(10, 32)) + [127] + list(range(0x80, 0xA0))}
_HAS_CONTROL = lazy_compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")

_SYSLOG_PRI = lazy_compile(r"<(\d{1,3})>")
_PRINTK_TS = lazy_compile(r"\[ *(\d{1,12})\.(\d{1,9})\]")
_CALLER = lazy_compile(r"\[ *([TC]\d{1,10})\]")
# The common line in one match: a printk stamp, an optional caller column ("[T123]",
# with or without a blank before it) and the blank after them.
_PRINTK_LINE = lazy_compile(r"\[ *(\d{1,12}\.\d{1,9})\](?: ?\[ *([TC]\d{1,10})\])? ?")
# Samsung's Android kernels (CONFIG_PRINTK_PROCESS, not in mainline) print the CPU, task and
# pid after the stamp as "[%d:%15s:%5d] " ("[   11.6]  [2:   Binder:711_1:  740] cma: ..."):
# a console column like the caller id, never message text (the comm is padded to 15 columns)
_VENDOR_TASK = lazy_compile(r" ?\[\d{1,4}:([^\]]{15}):( {0,9}\d{1,10})\] ")
# "Jan  3 22:06:01 host kernel: " and journal -o short / short-precise; the host
# is absent where syslogd is told not to log it or the poster cut it out
# ("Feb  2 08:03:20 kernel: ", "Mar 29 23:11:07 kernel: " on router firmware); journalctl's
# short modes print "%s %s %s:" (time, host, identifier), so a journal without a host name
# leaves the host column empty between two blanks ("Mai 29 11:43:58  kernel: ").
_SYSLOG_DATE = lazy_compile(
    r"[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,9})? (?:(\S{1,255}) | )?kernel: ?")
# rsyslog RFC 3339 and journal -o short-iso / short-iso-precise.
_ISO_DATE = lazy_compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)? (\S{1,255}) kernel: ?")
# journal -o short-full: "Wed 2024-01-03 22:06:01 UTC host kernel: "
_FULL_DATE = lazy_compile(r"[A-Z][a-z]{2} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,9})?(?: [A-Z]{1,5})? (\S{1,255}) kernel: ?")
# dmesg -T: "[Wed Jan  3 22:06:01 2024] "
_CTIME = lazy_compile(r"\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\] ?")
# dmesg --time-format iso: "2024-01-03T22:06:01,123456+00:00 "; also cut to the second,
# without the zone, as posters trim it ("2026-09-13T22:23:00 xe 0000:3d:00.0: ...")
_DMESG_ISO = lazy_compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[,.]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)? ")
# A wall-clock date and time a console logger or the poster's script wrote in front of the
# kernel's own line ("2024-12-26 16:17:45 [16002.085540] BUG: ..."): taken as a prefix only
# when a printk stamp follows it, which no kernel message text starts with after a date.
_DATE_BEFORE_STAMP = lazy_compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:[,.]\d{1,9})? (?=\[ *\d{1,12}\.\d{1,9}\])")
# journal -o short-monotonic: "[  123.456789] host kernel: "; -o short-delta adds the time
# since the previous entry: "[  123.456789 <    0.000120>] host kernel: "
_MONO_HOST = lazy_compile(r"\[ *(\d{1,12})\.(\d{1,9})(?: <[ \d.]{1,24}>)?\] (\S{1,255}) kernel: ?")
# Syslog/journal stamps in any locale ("avril 19 18:03:30", "dim. 2026-04-19 18:03:30 CEST",
# "19.04.26 18:03:30,123"): up to three words, a clock time, an optional zone, the host, "kernel:";
# or a clock time and "kernel:" alone (host and date cut: "22:39:31 kernel: ").
_LOCALE_DATE = lazy_compile(
    r"(?:[^\s\[\]<>:]{1,16} {1,2}){0,3}\d{1,2}:\d\d:\d\d(?:[.,]\d{1,9})?(?:(?: [A-Za-z][\w+-]{0,7})? (\S{1,255}) | {1,2})kernel: ?")
# The host and the syslog tag alone, the date columns cut by the poster ("qay kernel: BUG: ...",
# "pop-os kernel: "): one host-name token, then "kernel:". printk text never opens with a
# single word followed by " kernel: ".
_HOST_TAG = lazy_compile(r"([A-Za-z0-9][\w.-]{0,62}) kernel: ?")
# journal -o short-unix: "1713542610.123456 host kernel: "
_UNIX_DATE = lazy_compile(r"\d{9,11}(?:\.\d{1,9})? (\S{1,255}) kernel: ?")
# syslog facility names, as dmesg -x and talosctl dmesg decode them
_FACILITY = r"(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local[0-7])"
# the "kernel:" tag after a stamp, with the syslog facility (and level) column some log
# viewers print before it ("[Feb 09 10:20:44] kern kernel: ", "... kern.warn kernel: ")
_FACILITY_TAG = lazy_compile(r"(?:" + _FACILITY + r"(?:\.(?:emerg|alert|crit|err|warning|warn|notice|info|debug))? )?kernel: ?")
# OpenWrt logread (ubox logd): ctime, then "<facility>.<level>" and the tag:
# "Sun Jun  6 16:14:57 2021 kern.warn kernel: "
_LOGREAD = lazy_compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} " + _FACILITY
                      + r"\.(?:emerg|alert|crit|err|warn|warning|notice|info|debug) kernel: ?")
# dmesg -x / --decode: "kern  :warn  : "
_DECODE = lazy_compile(_FACILITY + r" {0,4}:"
                     r"(?:emerg|alert|crit|err|warn|notice|info|debug) {0,4}: ")
# talosctl dmesg: "<node>: <facility>: <level>: [<RFC 3339 time>]: " (the node's name or IP,
# then the decoded facility and level padded like dmesg -x, then the time in brackets)
_NODE_DECODE = lazy_compile(r"(\S{1,255}): " + _FACILITY
                          + r": {0,8}(?:emerg|alert|crit|err|warning|warn|notice|info|debug): "
                          r"\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?\]: ")
# A /dev/kmsg record header, as `cat /dev/kmsg` and netconsole's extended mode send it
# (Documentation/ABI/testing/dev-kmsg, Documentation/networking/netconsole.rst):
# "<level>,<seq>,<usec since boot>,<flags>[,caller=T123][,ncfrag=<off>/<len>];<message>".
_KMSG = lazy_compile(r"(\d{1,3}),\d{1,20},(\d{1,20}),[-c+]{0,2}((?:,[a-z]{1,16}=[^,;\s]{0,64}){0,8});")
# The same header with its numeric fields cut, down to the caller id ("T124;", "T124,ncfrag=0/1022;"):
# a poster's filter that kept what follows "caller=". No kernel message opens with a caller id and ";".
_KMSG_CALLER = lazy_compile(r"([TC]\d{1,10})((?:,[a-z]{1,16}=[^,;\s]{0,64}){0,8});")
# A syslog date and host before such a record (a netconsole receiver logging through syslogd).
_SYSLOG_KMSG = lazy_compile(r"[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,9})? (\S{1,255}) (?=\d{1,3},\d{1,20},\d{1,20},)")
# dmesg -H / --reltime / -d: "[  +0.006982]", "[<    0.006982>]", "[    5.123456 <    0.006982>]"
# (a decimal comma in locales that write one: "[  +0,006982]").
_RELTIME = lazy_compile(r"\[(?: {0,12}[+-]\d{1,12}[.,]\d{1,9}|< {0,12}\d{1,12}[.,]\d{1,9}>)\] ?")
_DELTA_TS = lazy_compile(r"\[ *(\d{1,12})\.(\d{1,9}) <[ \d.]{1,24}>\] ?")
# Any other bracketed stamp holding a clock time ("[dim. 19 avril 18:03:30 2026]", "[Apr19 18:03]"):
# opaque, dropped, not parsed. Kernel text never opens a line with a bracket around a clock time.
_OPAQUE_STAMP = lazy_compile(r"\[[^\[\]]{0,40}?\d:\d\d[^\[\]]{0,40}\] ?")


def sanitize(raw: str) -> Tuple[str, bool]:
    """Drop terminal escapes and control characters; cap the length.

    Returns (text, truncated)."""
    truncated = False
    # Cap before the regex work so a 100 MB line costs at most a few KiB here.
    if len(raw) > MAX_LINE * 2:
        raw = raw[: MAX_LINE * 2]
        truncated = True
    raw = raw.rstrip("\r\n")
    if "\x1b" in raw:
        raw = _ESCAPE.sub("", raw)
    # every control character is unprintable: isprintable() clears most lines without the regex
    if not raw.isprintable() and _HAS_CONTROL.search(raw):
        raw = raw.translate(_CONTROL_TABLE)
    if len(raw) > MAX_LINE:
        raw = raw[:MAX_LINE]
        truncated = True
    return raw, truncated


def _stamp_like(text: str, pos: int) -> bool:
    """Cheap test before the stamp regexes: a printk timestamp "[  12.345678]"
    holds none of the characters every other stamp has."""
    seg = text[pos + 1:pos + 48]
    j = seg.find("]")
    if j >= 0:
        seg = seg[:j]
    return ":" in seg or "+" in seg or "<" in seg or "-" in seg


def strip_stamp(text: str, pos: int = 0) -> Tuple[int, Optional[float]]:
    """Skip a `dmesg -H`/`--reltime`/`-d` stamp or an opaque bracketed date at `pos`.

    Returns (end position, timestamp when the stamp carries the time since boot);
    (pos, None) when there is none."""
    if not text.startswith("[", pos):
        return pos, None
    m = _DELTA_TS.match(text, pos)
    if m:
        return m.end(), float(f"{m.group(1)}.{m.group(2)}")
    m = _RELTIME.match(text, pos) or _OPAQUE_STAMP.match(text, pos)
    if m:
        return m.end(), None
    return pos, None


def strip_prefix(text: str) -> Tuple[str, Optional[float], Optional[str], Optional[str], int]:
    """Remove console prefixes from one sanitised line.

    Returns (message, timestamp, caller id, syslog host, length of the printk
    prefix that was removed — used to recognise makedumpfile's indented
    continuation lines)."""
    if text[:1] == "[":
        # The common case first: a line opening with a printk stamp. Of the other
        # stamps that open with "[", only journal -o short-monotonic ("[ 1.2] host
        # kernel: ") can match there, and it needs " kernel:" in the line.
        m = _PRINTK_LINE.match(text)
        if m is not None and (" kernel:" not in text or _MONO_HOST.match(text) is None):
            end = m.end()
            if text.startswith("kernel: ", end) and m.group(2) is None:
                # journalctl --no-hostname -o short-monotonic ("[ 1.2] kernel: "), or its host
                # column cut by the poster: the syslog tag alone after the stamp, taken for
                # the tag as a line opening with it is below (a caller column "[T1]" means
                # the kernel's own console, which prints no tag). A journal record has no
                # makedumpfile continuation indent (prefix length 0, as for "[ 1.2] host kernel: ")
                return text[end + len("kernel: "):], float(m.group(1)), None, None, 0
            if text.startswith(("[", " ["), end) and m.group(2) is None:
                v = _VENDOR_TASK.match(text, end)
                if v is not None and not v.group(1).isspace() and len(v.group(2)) >= 5:
                    end = v.end()
            return text[end:], float(m.group(1)), m.group(2), None, end
    if text[:1] in (" ", "\t"):
        # a paste indented as a whole ("    [  12.3] BUG: ..."): blanks before a
        # recognised prefix are not the message's own indentation
        body = text.lstrip(" \t")
        if body[:1] in ("[", "<") or body[:1].isalnum():
            got = strip_prefix(body)
            if len(got[0]) < len(body):
                return got
        return text, None, None, None, 0
    c = text[:1]
    if "kern" not in text and not (c.isdigit() or c in "[<") and (";" not in text or not c.isupper()) \
            and (":" not in text or c not in "kudalnscf"):
        # the common line of a syslog file or of plain text, cleared at once: every prefix
        # below opens with a digit, "[" or "<", holds "kernel:"/": kern", or is a kmsg
        # header (an upper-case or digit start, ";") or a dmesg -x facility (one of
        # "kudalnscf", a ":")
        return text, None, None, None, 0
    ts: Optional[float] = None
    caller: Optional[str] = None
    host: Optional[str] = None
    pos = 0
    m = _SYSLOG_PRI.match(text) if text[:1] == "<" else None
    if m:
        pos = m.end()
        # IGT's runner and CI store kmsg records as "<level> [seconds.micros] text" (a blank
        # after the level): the stamp is still the kernel's own
        if text.startswith(" [", pos) and _PRINTK_TS.match(text, pos + 1):
            pos += 1
    c = text[pos:pos + 1]
    if c.isdigit() or c.isupper():
        got = _kmsg_record(text, pos)
        if got is not None:
            return got
    # (the syslog, journal and logread stamps are only taken before a "kernel:" tag)
    if c.isalpha() and c.isupper() and "kernel:" in text:
        m = _SYSLOG_DATE.match(text, pos) or _FULL_DATE.match(text, pos)
        if m:
            host = m.group(1)
            pos = m.end()
        else:
            m = _LOGREAD.match(text, pos)
            if m:
                pos = m.end()
    elif c.isdigit():
        m = _ISO_DATE.match(text, pos)
        if m:
            host = m.group(1)
            pos = m.end()
        else:
            m = _DMESG_ISO.match(text, pos) or _DATE_BEFORE_STAMP.match(text, pos) or _UNIX_DATE.match(text, pos)
            if m:
                if m.re is _UNIX_DATE.compiled():
                    host = m.group(1)
                pos = m.end()
    elif c == "[":
        m = _MONO_HOST.match(text, pos)
        if m:
            ts = float(f"{m.group(1)}.{m.group(2)}")
            host = m.group(3)
            pos = m.end()
        elif text[pos + 1:pos + 2].isalpha():
            m = _CTIME.match(text, pos)
            if m:
                pos = m.end()
        if not m and _stamp_like(text, pos):
            end, stamp_ts = strip_stamp(text, pos)
            if end > pos:
                pos, ts = end, stamp_ts
                m = _FACILITY_TAG.match(text, pos)
                if m:
                    pos = m.end()
    if host is None and pos == 0 and c and not c.isspace() and c != "[" and text.find(" kernel:", 0, 300) >= 0:
        m = _LOCALE_DATE.match(text, pos)
        if m:
            host = m.group(1)
            pos = m.end()
    if host is None and pos == 0 and c and not c.isspace() and text.find(": kern", 0, 260) >= 0:
        m = _NODE_DECODE.match(text)
        if m:
            host = m.group(1)
            pos = m.end()
    if host is None and pos == 0 and c.isalnum() and text.find(" kernel: ", 0, 72) >= 0:
        m = _HOST_TAG.match(text)
        if m:
            host = m.group(1)
            pos = m.end()
    if pos == 0 and c and c in "kudalnscf":
        if text.startswith("kernel:"):
            # the syslog tag alone: journal or syslog output whose date and host
            # columns the poster cut ("kernel: NVRM: Xid ...", "kernel:  dump_stack+0x.."),
            # or rsyslog's wall broadcast to terminals, which prints the tag glued to the
            # message under a "Message from syslogd@host at ..." line (" kernel:NMI watchdog: ...")
            pos = len("kernel: ") if text.startswith("kernel: ") else len("kernel:")
        else:
            m = _DECODE.match(text, pos)
            if m:
                pos = m.end()
    if host is not None:
        m = _SYSLOG_PRI.match(text, pos)
        if m:
            pos = m.end()
    ts_start = pos
    if text.startswith("[", pos):
        m = _PRINTK_TS.match(text, pos)
        if m:
            ts = float(f"{m.group(1)}.{m.group(2)}")
            pos = m.end()
            m = _CALLER.match(text, pos)
            if not m and text.startswith(" [", pos):
                m = _CALLER.match(text, pos + 1)
            if m:
                caller = m.group(1)
                pos = m.end()
            if text.startswith(" ", pos):
                pos += 1
        else:
            m = _CALLER.match(text, pos)
            if m and text.startswith(" ", m.end()):
                caller = m.group(1)
                pos = m.end() + 1
    return text[pos:], ts, caller, host, pos - ts_start


def _kmsg_record(text: str, pos: int) -> Optional[Tuple[str, Optional[float], Optional[str], Optional[str], int]]:
    """A /dev/kmsg or netconsole extended record header at `pos` (optionally after a syslog
    date and host, or cut down to its caller id); None when there is none."""
    if ";" not in text:
        return None     # both record headers end in ";"
    host: Optional[str] = None
    if text[pos:pos + 1].isalpha() and not text.startswith(("T", "C"), pos):
        m = _SYSLOG_KMSG.match(text, pos)
        if m is None:
            return None
        host, pos = m.group(1), m.end()
    m = _KMSG.match(text, pos)
    if m is not None:
        ts: Optional[float] = int(m.group(2)) / 1e6
        extra = m.group(3)
    elif host is None:
        m = _KMSG_CALLER.match(text, pos)
        if m is None:
            return None
        ts, extra = None, ",caller=" + m.group(1) + m.group(2)
    else:
        return None
    caller = None
    for kv in extra.split(","):
        if kv.startswith("caller="):
            caller = kv[len("caller="):]
    # no printk stamp was removed (the length makedumpfile's continuation lines are matched on)
    return text[m.end():], ts, caller, host, 0
