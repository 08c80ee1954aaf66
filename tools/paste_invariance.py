#!/usr/bin/env python3
"""Metamorphic test of triage's log reader: does the verdict hold when the same
log is pasted another way?

For every log of tests/data/posted (or, with --corpus syzkaller, tests/data/syzkaller)
this computes triage's verdict (category, culprit module, title) on the file as
it is, then re-renders the same records the ways users paste kernel logs
(indentation, markdown fences, mail quoting, CRLF, wrapping by mail and forum
clients, cutting at a terminal's width, dmesg -T/-H/-r, every journalctl -o
mode, syslog, logger prefixes triage has no rule for, a missing header, caller
ids, no timestamps) and counts the logs whose verdict changed.

The records are what triage itself read from the file: the lines after
triage.events.paste.normalise with their console prefix removed
(triage.events.prefix.strip_prefix), each kept as (message, printk time). So
the question asked is "given the records triage read, does every other
rendering of them give the same answer". The `canonical` row re-renders them
as plain `[  sec.usec] message` lines; a change there is a reading difference
of the original paste itself, and every other row includes it.

Per transformation and per corpus half: logs whose (category, culprit module)
changed / logs tried, and how many changed their title only. Only the tuning
half's logs are ever listed (--list): the validation half is for measuring.

Usage:
  tools/paste_invariance.py [--transform NAME ...] [--list] [--json] [--corpus posted|syzkaller]
"""

import argparse
import datetime as _dt
import hashlib
import json
import os
import sys
import textwrap
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from posted_agreement import DEFAULT_CORPUS, HALVES, load_labels, norm_module, print_json, split_half  # noqa: E402

SYZ_CORPUS = os.path.join(ROOT, "tests", "data", "syzkaller")

Record = Tuple[str, Optional[float]]           # (message, printk seconds or None)
Verdict = Tuple[str, str, str]                 # (category, culprit module, title)

# Wall clock the renderings put the log at (boot time; a record's time is this + its printk seconds).
BOOT = _dt.datetime(2026, 12, 7, 4, 0, 0)
HOST = "node-7"

# Header wordings that open a report (for the "header kept, lines before it removed" transformation).
_HEADS = ("BUG: ", "WARNING: ", "Oops", "Unable to handle kernel", "general protection fault",
          "kernel BUG at", "Kernel panic - not syncing", "invoked oom-killer", "page allocation failure",
          "NVRM: Xid", "------------[ cut here ]", "INFO: task ", "INFO: rcu", "rcu: INFO:", "watchdog: BUG",
          "Internal error:", "Out of memory", "*ERROR* ring", "GPU HANG", "UBSAN:", "KASAN:", "divide error",
          "invalid opcode", "NMI watchdog")


# -- records -------------------------------------------------------------------------------

def records(lines: Iterable[str]) -> List[Record]:
    """The records triage reads from `lines`: normalised, each without its console prefix."""
    from triage.events.paste import normalise
    from triage.events.prefix import sanitize, strip_prefix
    out: List[Record] = []
    prev_ts: Optional[float] = None
    width = 0
    for _, raw in normalise(lines):
        text, _ = sanitize(raw)
        msg, ts, _, _, plen = strip_prefix(text)
        if ts is None and prev_ts is not None and width and msg.startswith(" " * width) \
                and not msg.startswith(" " * (width + 8)):
            # a multi-line record's continuation, indented by the printk prefix's width (as
            # triage.events.parser reads it): its message is the rest, at the record's time
            msg, ts = msg[width:], prev_ts
        elif ts is not None:
            prev_ts, width = ts, plen
        out.append((msg, ts))
    return out


def _times(recs: Sequence[Record]) -> List[float]:
    """A time for every record: its own, else the previous one's (0 before any)."""
    out, last = [], 0.0
    for _, ts in recs:
        if ts is not None:
            last = ts
        out.append(last)
    return out


def _printk(ts: float) -> str:
    return f"[{int(ts):5d}.{int(round((ts - int(ts)) * 1e6)) % 1000000:06d}]"


def _wall(ts: float) -> _dt.datetime:
    return BOOT + _dt.timedelta(seconds=ts)


def _console(recs: Sequence[Record]) -> List[str]:
    """Plain console lines: `[  sec.usec] message`, or the message alone when it had no time."""
    return [f"{_printk(ts)} {m}" if ts is not None else m for m, ts in recs]


# -- renderings of the records (each returns the pasted lines) -------------------------------

def _per_line(fmt: Callable[[str, float, Optional[float]], str]) -> Callable[[Sequence[Record]], List[str]]:
    def render(recs: Sequence[Record]) -> List[str]:
        return [fmt(m, t, ts) for (m, ts), t in zip(recs, _times(recs))]
    return render


_EN_DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()
_EN_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
# strftime("%a %b") of glibc's locales (fr_FR, de_DE, zh_CN, ru_RU), as `dmesg -T` prints them
_LOCALES = {
    "en": (_EN_DAYS, _EN_MONTHS),
    "fr": ("lun. mar. mer. jeu. ven. sam. dim.".split(),
           "janv. févr. mars avril mai juin juil. août sept. oct. nov. déc.".split()),
    "de": ("Mo Di Mi Do Fr Sa So".split(), "Jan Feb Mär Apr Mai Jun Jul Aug Sep Okt Nov Dez".split()),
    "zh": ("一 二 三 四 五 六 日".split(), [f"{i}月" for i in range(1, 13)]),
    "ru": ("Пн Вт Ср Чт Пт Сб Вс".split(), "янв фев мар апр мая июн июл авг сен окт ноя дек".split()),
}


def _ctime(t: float, locale: str) -> str:
    days, months = _LOCALES[locale]
    w = _wall(t)
    return f"{days[w.weekday()]} {months[w.month - 1]} {w.day:2d} {w:%H:%M:%S} {w.year}"


def _dmesg_T(locale: str) -> Callable[[Sequence[Record]], List[str]]:
    return _per_line(lambda m, t, ts: f"[{_ctime(t, locale)}] {m}")


def _dmesg_H(locale: str) -> Callable[[Sequence[Record]], List[str]]:
    """dmesg -H: the first record (and each new minute) with the date, the rest as deltas."""
    def render(recs: Sequence[Record]) -> List[str]:
        out, prev, minute = [], None, None
        months = _LOCALES[locale][1]
        for (m, _), t in zip(recs, _times(recs)):
            w = _wall(t)
            key = (w.day, w.hour, w.minute)
            if prev is None or key != minute:
                out.append(f"[{months[w.month - 1]}{w.day:2d} {w:%H:%M}] {m}")
            else:
                out.append(f"[  +{t - prev:.6f}] {m}")
            prev, minute = t, key
        return out
    return render


def _journal_short(precise: bool = False, iso: bool = False, mono: bool = False) -> Callable[[Sequence[Record]], List[str]]:
    def fmt(m: str, t: float, ts: Optional[float]) -> str:
        w = _wall(t)
        if mono:
            stamp = _printk(t)
        elif iso:
            stamp = f"{w:%Y-%m-%dT%H:%M:%S}+0000"
        else:
            stamp = f"{_EN_MONTHS[w.month - 1]} {w.day:02d} {w:%H:%M:%S}" + (f".{w.microsecond:06d}" if precise else "")
        return f"{stamp} {HOST} kernel: {m}"
    return _per_line(fmt)


def _journal_json(recs: Sequence[Record]) -> List[str]:
    out = []
    for (m, _), t in zip(recs, _times(recs)):
        usec = int(round(t * 1e6))
        out.append(json.dumps({"__REALTIME_TIMESTAMP": str(int(_wall(t).timestamp() * 1e6)),
                               "__MONOTONIC_TIMESTAMP": str(usec), "_TRANSPORT": "kernel", "PRIORITY": "4",
                               "SYSLOG_IDENTIFIER": "kernel", "_HOSTNAME": HOST, "MESSAGE": m},
                              ensure_ascii=False))
    return out


def _journal_verbose(recs: Sequence[Record]) -> List[str]:
    out = []
    for i, ((m, _), t) in enumerate(zip(recs, _times(recs))):
        w = _wall(t)
        usec = int(round(t * 1e6))
        out += [f"Mon {w:%Y-%m-%d %H:%M:%S}.{w.microsecond:06d} UTC "
                f"[s={'0' * 31}1;i={i + 1:x};b={'0' * 31}2;m={usec:x};t={usec:x};x={i:x}]",
                "    _TRANSPORT=kernel", "    PRIORITY=4", "    SYSLOG_FACILITY=0", "    SYSLOG_IDENTIFIER=kernel",
                f"    _SOURCE_MONOTONIC_TIMESTAMP={usec}", f"    _HOSTNAME={HOST}", f"    MESSAGE={m}"]
    return out


def _syslog(host: bool) -> Callable[[Sequence[Record]], List[str]]:
    def fmt(m: str, t: float, ts: Optional[float]) -> str:
        w = _wall(t)
        head = f"{_EN_MONTHS[w.month - 1]} {w.day:2d} {w:%H:%M:%S} " + (f"{HOST} " if host else "")
        return head + "kernel: " + (f"{_printk(ts)} {m}" if ts is not None else m)
    return _per_line(fmt)


def _before(prefix: Callable[[float], str], keep_stamp: bool = True) -> Callable[[Sequence[Record]], List[str]]:
    """A logger prefix triage has no rule for, before the console line (or the bare message)."""
    def fmt(m: str, t: float, ts: Optional[float]) -> str:
        body = f"{_printk(ts)} {m}" if keep_stamp and ts is not None else m
        return prefix(t) + body
    return _per_line(fmt)


def _docker_json(recs: Sequence[Record]) -> List[str]:
    """docker's json-file log driver: one JSON object per line, the console line in "log"."""
    return [json.dumps({"log": line + "\n", "stream": "stdout", "time": f"{_wall(t):%Y-%m-%dT%H:%M:%S}.{_wall(t).microsecond:06d}000Z"})
            for line, t in zip(_console(recs), _times(recs))]


def _lines(f: Callable[[List[str]], List[str]]) -> Callable[[Sequence[Record]], List[str]]:
    """A transformation of the console lines."""
    return lambda recs: f(_console(recs))


def _word_wrap(width: int, indent: str = "") -> Callable[[List[str]], List[str]]:
    """A mail or forum client's greedy word wrap (long words are not broken)."""
    def wrap(lines: List[str]) -> List[str]:
        out = []
        for s in lines:
            if len(s) <= width:
                out.append(s)
                continue
            lead = s[:len(s) - len(s.lstrip(" "))]
            parts = textwrap.wrap(s, width, initial_indent="", subsequent_indent=indent, break_long_words=False,
                                  break_on_hyphens=False, drop_whitespace=True, expand_tabs=False,
                                  replace_whitespace=False)
            if parts:
                parts[0] = lead + parts[0].lstrip(" ") if lead and not parts[0].startswith(lead) else parts[0]
            out += parts or [s]
        return out
    return wrap


def _hard_wrap(width: int) -> Callable[[List[str]], List[str]]:
    """A terminal's wrap copied as it shows: every `width` characters a new line."""
    return lambda lines: [s[i:i + width] for s in lines for i in range(0, max(len(s), 1), width)]


def _from_header(recs: Sequence[Record]) -> List[str]:
    """The excerpt starts at the report's header: every line before it left out."""
    lines = _console(recs)
    for i, (m, _) in enumerate(recs):
        if any(h in m for h in _HEADS):
            return lines[i:]
    return lines


# The oops headers an excerpt "starting after the header" lost (issue 8): x86 show_fault_oops()
# and die() lines, arm/arm64 "Unable to handle kernel" and die() lines, BUG().
OOPS_HEADS = ("BUG: kernel NULL pointer", "BUG: unable to handle", "Unable to handle kernel",
              "general protection fault", "kernel BUG at", "Oops:", "Internal error:")
# The lines a page fault prints right after its header (x86 #PF decode, dump_pagetable(), the
# die line; arm64 abort decode and show_pte(); arm32 show_pte()), which a deeper cut loses too.
_AFTER_HEAD = ("#PF:", "Oops:", "PGD ", "Internal error", "Mem abort", "ESR =", "EC =", "SET =", "FSC =",
               "Data abort", "CM =", "user address", "swapper pgtable", "[0000", "[000000")


def first_holding(lines: Sequence[str], keys: Sequence[str]) -> Optional[int]:
    """The index of the first line holding any of `keys`, None without one: where a poster's
    partial copy (tools/cut_agreement.py's trace cuts, cut_after_header) starts or ends."""
    return next((i for i, s in enumerate(lines) if any(k in s for k in keys)), None)


def cut_after_header(lines: Sequence[str], deep: bool = False) -> Optional[List[str]]:
    """The lines after the first oops header line (OOPS_HEADS), as a poster who copied from the
    line after it pastes them; with `deep`, also without the page-fault lines that follow it
    (_AFTER_HEAD). None when the lines hold no oops header."""
    idx = first_holding(lines, OOPS_HEADS)
    if idx is None:
        return None
    j = idx + 1
    while deep and j < len(lines) and any(k in lines[j] for k in _AFTER_HEAD):
        j += 1
    return list(lines[j:])


def _after_header(deep: bool) -> Callable[[Sequence[Record]], List[str]]:
    def render(recs: Sequence[Record]) -> List[str]:
        lines = _console(recs)
        cut = cut_after_header(lines, deep)
        return lines if cut is None else cut
    return render


def _caller(recs: Sequence[Record], glued: bool) -> List[str]:
    out = []
    for m, ts in recs:
        if ts is None:
            out.append(m)
        else:
            out.append(f"{_printk(ts)}[ T1234] {m}" if glued else f"{_printk(ts)} [T1234] {m}")
    return out


TRANSFORMS: Dict[str, Callable[[Sequence[Record]], List[str]]] = {
    "canonical": _console,
    "indent-2": _lines(lambda ls: ["  " + s for s in ls]),
    "indent-tab": _lines(lambda ls: ["\t" + s for s in ls]),
    "markdown-fence": _lines(lambda ls: ["```"] + ls + ["```"]),
    "markdown-code-block": _lines(lambda ls: ["    " + s if s else s for s in ls]),
    "quote-1": _lines(lambda ls: ["> " + s for s in ls]),
    "quote-2": _lines(lambda ls: [">> " + s for s in ls]),
    "crlf": _lines(lambda ls: [s + "\r" for s in ls]),
    "wrap-72": _lines(_word_wrap(72)),
    "wrap-76": _lines(_word_wrap(76)),
    "wrap-80": _lines(_word_wrap(80)),
    "wrap-72-indent": _lines(_word_wrap(72, "  ")),
    "wrap-80-indent": _lines(_word_wrap(80, "    ")),
    "quote-wrap-72": _lines(lambda ls: ["> " + s for s in _word_wrap(72)(ls)]),
    "hard-wrap-80": _lines(_hard_wrap(80)),
    "cut-80": _lines(lambda ls: [s[:80] for s in ls]),
    "cut-120": _lines(lambda ls: [s[:120] for s in ls]),
    "dmesg-T-en": _dmesg_T("en"),
    "dmesg-T-fr": _dmesg_T("fr"),
    "dmesg-T-de": _dmesg_T("de"),
    "dmesg-T-zh": _dmesg_T("zh"),
    "dmesg-T-ru": _dmesg_T("ru"),
    "dmesg-H-en": _dmesg_H("en"),
    "dmesg-H-de": _dmesg_H("de"),
    "dmesg-r": _per_line(lambda m, t, ts: f"<4>{_printk(t)} {m}" if ts is not None else m),
    "journal-short": _journal_short(),
    "journal-short-precise": _journal_short(precise=True),
    "journal-short-iso": _journal_short(iso=True),
    "journal-short-monotonic": _journal_short(mono=True),
    "journal-cat": lambda recs: [m for m, _ in recs],
    "journal-verbose": _journal_verbose,
    "journal-json": _journal_json,
    "syslog-host": _syslog(True),
    "syslog-no-host": _syslog(False),
    "unknown-slash-date-level": _before(lambda t: f"{_wall(t):%Y/%m/%d %H:%M:%S}.{_wall(t).microsecond // 1000:03d} "
                                                  f"{HOST} [kern.err] "),
    "unknown-pipe": _before(lambda t: "| "),
    "unknown-host-pipe": _before(lambda t: "host-3 | "),
    "unknown-rfc5424": _before(lambda t: f"<13>1 {_wall(t):%Y-%m-%dT%H:%M:%S}Z {HOST} kernel - - - ", keep_stamp=False),
    "unknown-kernel-pid0": _before(lambda t: f"{_EN_MONTHS[_wall(t).month - 1]} {_wall(t):%d %H:%M:%S} {HOST} kernel[0]: ",
                                   keep_stamp=False),
    "unknown-cri": _before(lambda t: f"{_wall(t):%Y-%m-%dT%H:%M:%S}.{_wall(t).microsecond:06d}123Z stdout F "),
    "unknown-docker-json": _docker_json,
    "unknown-level-tag": _before(lambda t: "[WARN] "),
    "from-header": _from_header,
    "after-header": _after_header(False),
    "after-header-deep": _after_header(True),
    "caller-id": lambda recs: _caller(recs, False),
    "caller-id-glued": lambda recs: _caller(recs, True),
    "no-timestamps": lambda recs: [m for m, _ in recs],
    # `dmesg --notime` / `journalctl -o cat` pasted into a mail or forum client that wraps at 72
    "no-timestamps-wrap-72": lambda recs: _word_wrap(72)([m for m, _ in recs]),
}


# -- measuring -------------------------------------------------------------------------------

def change_row(name: str, before: Sequence[str], after: Sequence[str]) -> str:
    """One --list row: the log and its (category, module) before and after, "-" for no module."""
    return f"{name}\t{before[0]}/{before[1] or '-'} -> {after[0]}/{after[1] or '-'}"


def print_rows(rows: Dict[str, List[str]]) -> None:
    """--list output: every row of every transformation or cut, tab-prefixed with its name."""
    for key, listed in rows.items():
        for row in listed:
            print(f"{key}\t{row}")


def verdict(lines: Iterable[str], rules: Any) -> Verdict:
    """triage's verdict on the lines ("ERROR ..." as the category when it raised)."""
    from triage.analysis import analyze_lines
    try:
        d = analyze_lines(lines, rules=rules)
    except Exception as exc:  # measured, not hidden: an exception is a changed verdict
        return (f"ERROR {type(exc).__name__}", "", str(exc)[:80])
    return d.verdict.category, norm_module(d.verdict.culprit.module), d.verdict.title or ""


def _read(path: str) -> List[str]:
    from triage.events.reader import iter_lines
    with open(path, "rb") as fp:
        return list(iter_lines(fp))


def corpus_logs(corpus: str) -> List[Tuple[str, str, List[str]]]:
    """(name, half, lines) of every log measured: the posted corpus, or syzkaller's (its own halves)."""
    out = []
    if corpus == "syzkaller":
        from syzkaller_agreement import half_of, load_case
        for name in sorted(os.listdir(SYZ_CORPUS)):
            if name.endswith(".txt"):
                out.append((name, half_of(name), load_case(os.path.join(SYZ_CORPUS, name)).log))
        return out
    for label in load_labels(DEFAULT_CORPUS):
        name = label["file"]
        out.append((name, split_half(name), _read(os.path.join(DEFAULT_CORPUS, name))))
    return out


def measure(names: Sequence[str], corpus: str = "posted") -> Dict[str, Any]:
    """Per transformation and half: tried, verdict changed, title changed only; and the tuning half's changed logs."""
    from triage.analysis import load_ruleset
    rules = load_ruleset()
    res: Dict[str, Any] = {t: {h: {"tried": 0, "changed": 0, "title_only": 0} for h in HALVES} for t in names}
    changed_tuning: Dict[str, List[str]] = {t: [] for t in names}
    for name, half, lines in corpus_logs(corpus):
        base = verdict(lines, rules)
        recs = records(lines)
        for t in names:
            got = verdict(TRANSFORMS[t](recs), rules)
            cell = res[t][half]
            cell["tried"] += 1
            if got[:2] != base[:2]:
                cell["changed"] += 1
                if half == "tuning":
                    changed_tuning[t].append(change_row(name, base, got))
            elif got[2] != base[2]:
                cell["title_only"] += 1
    return {"transforms": res, "tuning_changed": changed_tuning}


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--transform", action="append", choices=sorted(TRANSFORMS), help="only these (repeatable)")
    ap.add_argument("--list", action="store_true", help="print the tuning half's logs whose verdict changed")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--corpus", choices=("posted", "syzkaller"), default="posted",
                    help="tests/data/posted (default) or tests/data/syzkaller (each with its own halves)")
    args = ap.parse_args(argv)
    names = args.transform or list(TRANSFORMS)
    start = time.monotonic()
    got = measure(names, args.corpus)
    if args.json:
        print_json(got["transforms"])
        return 0
    if args.list:
        print_rows(got["tuning_changed"])
    tot = {h: [0, 0] for h in HALVES}
    print(f"{'transformation':26s} {'tuning: changed/tried':>22s} {'title only':>10s}   {'validation: changed/tried':>26s} {'title only':>10s}")
    for t in names:
        row = got["transforms"][t]
        cells = []
        for h in HALVES:
            c = row[h]
            tot[h][0] += c["changed"]
            tot[h][1] += c["tried"]
            cells.append(f"{c['changed']:>10d}/{c['tried']:<4d} {c['changed'] / max(c['tried'], 1):6.1%} {c['title_only']:>10d}")
        print(f"{t:26s} {cells[0]}   {cells[1]:>37s}")
    print(f"{'all':26s} " + "   ".join(f"{tot[h][0]:>10d}/{tot[h][1]:<5d} {tot[h][0] / max(tot[h][1], 1):6.1%}" for h in HALVES))
    print(f"({time.monotonic() - start:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
