#!/usr/bin/env python3
"""Check every real dump's report against its manifest and its serial log.

Usage: tools/dump_report_check.py [--cli] [--limit N] [--scenarios a,b] MANIFEST_OR_DIR...

For every dump of each manifest (sample_dumps/generate's manifest.json) it
runs `triage analyze` on the vmcore (text at COLUMNS=80 and wide, and
--format json) and checks:

  category, culprit    JSON verdict == the manifest's expectation
  panicked             the verdict says the kernel panicked
  task                 comm and pid of the crash's `CPU: N PID: P Comm: C` line
                       (or the hung task's `INFO: task C:P blocked`) in the
                       serial log: in the text report (both widths) and in JSON
  frames               the first FRAMES reliable (no `?`) frames of the crash's
                       call trace in the serial log that are not reporting
                       frames ([skip] report of signatures/lists.toml, the list
                       triage uses), each whole on one line of the text report,
                       in order
  modules              every module of the crash's `Modules linked in:` line,
                       with its taint letters, whole on a line of the text report
  same verdict         category, culprit module and function and panicked are the
                       same from the vmcore, from the vmcore-dmesg.txt beside an
                       in-guest kdump dump, and from the run's serial.log
  width                no text line is wider than the width asked for
  log-vs-dump          every value the log and the dump both give (crash.checks:
                       kernel release, arch, modules) agrees: both come from the
                       same crash, so a disagreement is a false alarm
  gpu-not-blamed       when the expected culprit is no GPU driver, the verdict
                       blames none (category gpu_*, or a GPU culprit)

The expectations come from the serial log text (parsed here, independently of
triage's parser) and the manifest, never from triage's own output.
By default a dump is analysed once in this process through the functions the
CLI calls (triage.analysis.analyze_path, triage.report.render.render); --cli
runs the `python3 -m triage analyze` command three times per dump instead.
Exit status: 0 all checks passed, 1 some failed, 2 bad usage.
"""

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

try:
    import tomllib
except ModuleNotFoundError:    # Python < 3.11
    import tomli as tomllib    # type: ignore

ROOT = Path(__file__).resolve().parent.parent
FRAMES = 3                      # how many leading non-reporting frames must be shown
WIDE = 200
NARROW = 80

# --- the serial log, read independently of triage's parser --------------------

_STAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
# The first line of a crash report (x86_64 and arm64 wording); a bare panic
# only when no report came before it (sysrq, panic_on_oom).
_CRASH_START = re.compile(
    r"^(?:BUG: |Oops|general protection fault|kernel BUG at|Unable to handle kernel|Internal error:|"
    r"watchdog: BUG: soft lockup|INFO: task \S+ blocked for more than|WARNING: CPU: )")
_PANIC = re.compile(r"^Kernel panic - not syncing")
# 6.10+ prints the task's UID between CPU and PID ("CPU: 0 UID: 0 PID: 1 Comm: init")
_TASK = re.compile(r"\bCPU: (\d+) (?:UID: \d+ )?PID: (\d+) Comm: (\S+)")
_HUNG = re.compile(r"^INFO: task (\S+):(\d+) blocked for more than")
_TRACE = re.compile(r"^Call [Tt]race:")
_FRAME = re.compile(r"^\s*(\? )?([A-Za-z_][\w.$]*)\+(0x[0-9a-f]+)/0x[0-9a-f]+(?: \[(\w+)\])?\s*$")
_MARK = re.compile(r"^\s*</?[A-Z]+>\s*$")
_MODULES = re.compile(r"^Modules linked in:(.*)$")
_BOOT = re.compile(r"^Linux version ")


@dataclass
class SerialCrash:
    """What the serial log shows of the first kernel's crash."""
    comm: Optional[str] = None
    pid: Optional[int] = None
    frames: List[Tuple[str, int, Optional[str], bool]] = field(default_factory=list)  # name, offset, module, reliable
    modules: List[str] = field(default_factory=list)      # as printed: name or name(TAINT)
    header: Optional[str] = None


def kernel_lines(path: Path) -> List[str]:
    """The crashed kernel's log lines of a serial log, stamps removed (a kdump
    capture kernel's boot, after the second `Linux version`, is left out)."""
    out: List[str] = []
    boots = 0
    with open(path, "r", encoding="utf-8", errors="replace") as fp:
        for raw in fp:
            line = _STAMP.sub("", raw.rstrip("\r\n"))
            if _BOOT.match(line):
                boots += 1
                if boots > 1:
                    break
            out.append(line)
    return out


def parse_serial(path: Path) -> SerialCrash:
    """The crash's task, call trace and module list as the serial log prints them."""
    lines = kernel_lines(path)
    start = next((i for i, ln in enumerate(lines) if _CRASH_START.match(ln)), None)
    if start is None:
        start = next((i for i, ln in enumerate(lines) if _PANIC.match(ln)), None)
    sc = SerialCrash()
    if start is None:
        return sc
    sc.header = lines[start]
    hung = _HUNG.match(lines[start])
    if hung:
        sc.comm, sc.pid = hung.group(1), int(hung.group(2))
    i = start
    for i in range(start, len(lines)):
        m = _TASK.search(lines[i])
        if m and sc.comm is None:
            sc.comm, sc.pid = m.group(3), int(m.group(2))
        if _TRACE.match(lines[i].strip()):
            break
    else:
        return sc
    for ln in lines[i + 1:]:
        f = _FRAME.match(ln)
        if f:
            sc.frames.append((f.group(2), int(f.group(3), 16), f.group(4), f.group(1) is None))
            continue
        if _MARK.match(ln) or re.match(r"^\s*(?:RIP|RSP|RAX|RDX|RBP|R1[0-5]|R0[89]|Code|FS|CS|CR[02]|PKRU|pc|lr|sp|x\d+)\b", ln):
            continue
        break
    for ln in lines[start:]:
        m = _MODULES.match(ln)
        if m:
            sc.modules = m.group(1).split()
            break
    return sc


def gpu_modules(lists_toml: Path = ROOT / "signatures" / "lists.toml") -> List[str]:
    """The one list of GPU driver modules ([lists] gpu_modules)."""
    with open(lists_toml, "rb") as fp:
        return list(tomllib.load(fp)["lists"]["gpu_modules"])


def report_patterns(lists_toml: Path = ROOT / "signatures" / "lists.toml") -> List["re.Pattern[str]"]:
    """The reporting frames' regexes: the same data triage's rules skip."""
    with open(lists_toml, "rb") as fp:
        data = tomllib.load(fp)
    return [re.compile(p) for p in data["skip"]["report"]]


def expected_frames(sc: SerialCrash, report: List["re.Pattern[str]"], n: int = FRAMES) -> List[str]:
    """`func+0xoff`, as the text report prints them, of the first n reliable non-reporting frames."""
    out = []
    for name, off, _mod, reliable in sc.frames:
        if not reliable or any(p.search(name) for p in report):
            continue
        out.append(f"{name}+{off:#x}")
        if len(out) == n:
            break
    return out


# --- running triage ----------------------------------------------------------

@dataclass
class Run:
    text80: str
    text_wide: str
    data: dict


def run_inprocess(path: str, rules) -> Run:
    """One analysis, rendered as the CLI renders it, at both widths and as JSON."""
    from triage.analysis import analyze_path
    from triage.report.render import render
    diag = analyze_path(path, rules=rules, facts=True)
    return Run(render(diag, "text", width=NARROW), render(diag, "text", width=WIDE),
               json.loads(render(diag, "json")))


def run_cli(path: str, facts: bool = True) -> Run:
    """`python3 -m triage analyze` three times: COLUMNS=80, COLUMNS=200, --format json."""
    def go(args: List[str], columns: int) -> str:
        env = dict(os.environ, COLUMNS=str(columns), PYTHONPATH=str(ROOT))
        p = subprocess.run([sys.executable, "-m", "triage", "analyze", *args, path], capture_output=True,
                           text=True, env=env, cwd=str(ROOT), timeout=600)
        if p.returncode not in (0, 6):
            raise RuntimeError(f"triage analyze exit {p.returncode}: {p.stderr.strip()[-300:]}")
        return p.stdout
    extra = [] if facts else ["--no-facts"]
    return Run(go(extra, NARROW), go(extra, WIDE), json.loads(go([*extra, "--format", "json"], WIDE)))


def verdict_key(data: dict) -> Tuple:
    v = data["verdict"]
    return (v["category"], v["culprit"]["module"], v["culprit"]["function"], v["panicked"])


# --- the checks --------------------------------------------------------------

@dataclass
class Result:
    dump: str
    passed: List[str] = field(default_factory=list)
    failed: List[Tuple[str, str]] = field(default_factory=list)
    modules_oracle: str = "serial log"
    facts_read: bool = False      # the report holds the dump's module list (dump facts were read)

    def check(self, name: str, ok: bool, why: str = "") -> None:
        (self.passed.append(name) if ok else self.failed.append((name, why)))


def _crash_section(text: str) -> List[str]:
    lines = text.splitlines()
    try:
        s = lines.index("Crash")
    except ValueError:
        return []
    out = []
    for ln in lines[s + 1:]:
        if ln and not ln.startswith(" "):
            break
        out.append(ln)
    return out


def _in_order_whole(lines: List[str], tokens: List[str]) -> Optional[str]:
    """None when each token is whole on a line (as a word), in order; else the first missing one."""
    at = 0
    for tok in tokens:
        pat = re.compile(r"(?<![\w.$])" + re.escape(tok) + r"(?![\w(])")
        for j in range(at, len(lines)):
            if pat.search(lines[j]):
                at = j
                break
        else:
            return tok
    return None


NO_TASK = "no crashing task (CPU:/Comm: or hung-task line) found in the serial log"


def check_text(res: Result, text: str, width: int, sc: SerialCrash, frames: List[str]) -> None:
    tag = f"@{width}"
    long = [ln for ln in text.splitlines() if len(ln) > width]
    res.check("width" + tag, not long, f"{len(long)} line(s) wider than {width}: {long[:1]}")
    crash = _crash_section(text)
    res.check("crash-section" + tag, bool(crash), "no Crash section")
    # every crash here prints its task: a serial log where none is found is a
    # failure too, never a check left out
    want = f"{sc.comm} (pid {sc.pid})"
    res.check("task" + tag, sc.comm is not None and any(want in ln for ln in crash),
              f"{want!r} not in the Crash section" if sc.comm is not None else NO_TASK)
    miss = _in_order_whole(crash, frames)
    res.check("frames" + tag, bool(frames) and miss is None,
              f"frame {miss!r} of {frames} not shown whole, in order" if frames else "no frames in the serial log")
    mods = [m for m in sc.modules]
    missing = [m for m in mods if _in_order_whole(crash, [m]) is not None]
    res.check("modules" + tag, bool(mods) and not missing,
              f"modules {missing} of {mods} not shown whole" if mods else f"no Modules linked in: line; {res.modules_oracle}")


def debug_vmlinux(release: str) -> Optional[Path]:
    """Debian's DWARF vmlinux for `release` (linux-image-<release>-dbg), oracle use only:
    TRIAGE_DEBUG_DIRS (colon-separated), /usr/lib/debug/boot, sample_dumps/cache."""
    dirs = [Path(d) for d in os.environ.get("TRIAGE_DEBUG_DIRS", "").split(":") if d]
    dirs.append(Path("/usr/lib/debug/boot"))
    for d in dirs:
        if (d / f"vmlinux-{release}").is_file():
            return d / f"vmlinux-{release}"
    cache = ROOT / "sample_dumps" / "cache"
    found = sorted(cache.glob(f"**/vmlinux-{release}")) if cache.is_dir() else []
    return found[0] if found else None


def dwarf_modules(dump: Path, vmlinux: Path) -> Optional[List[str]]:
    """name(TAINT) of each module as drgn reads them with the DWARF vmlinux
    (for_each_module, module_taints); None when drgn cannot open this file."""
    try:
        import drgn
        from drgn.helpers.linux.module import for_each_module, module_taints
        prog = drgn.Program()
        prog.set_core_dump(str(dump))
        prog.load_debug_info([str(vmlinux)])
        out = []
        for m in for_each_module(prog):
            name, taint = m.name.string_().decode("latin-1"), module_taints(m)
            out.append(name + (f"({taint})" if taint else ""))
        return out
    except Exception:           # drgn missing, a format drgn cannot open, ...
        return None


_ORACLE_CACHE: Dict[str, Tuple[List[str], str]] = {}


def oracle_modules(entry: dict, base: Path, siblings: List[dict]) -> Tuple[List[str], str]:
    """(name(TAINT) list, where from) of the loaded modules by drgn+DWARF: the
    generator's facts oracle of this file, else drgn run now on this file, else
    on another dump of the same run (the same crash: drgn cannot open every
    format, e.g. flattened); ([], reason) when there is no oracle."""
    fo = entry.get("facts_oracle") or {}
    out = fo.get("output") if fo.get("status", "ok") == "ok" else None
    if not out:      # the committed set names its oracle by convention
        cand = base / (entry["path"] + ".facts-oracle.json")
        out = str(cand.relative_to(base)) if cand.exists() else None
    if out and (base / out).exists():
        mods = (json.loads((base / out).read_text()).get("facts") or {}).get("modules") or []
        return [m["name"] + (f"({m['taint']})" if m.get("taint") else "") for m in mods], out
    vml = debug_vmlinux(entry.get("kernel_release") or "")
    if vml is None:
        return [], f"no facts oracle and no DWARF vmlinux-{entry.get('kernel_release')} (TRIAGE_DEBUG_DIRS)"
    run = Path(entry["path"]).parts[0]
    for e in [entry] + [x for x in siblings if Path(x["path"]).parts[0] == run and x is not entry]:
        key = str(base / e["path"])
        if key not in _ORACLE_CACHE:
            mods = dwarf_modules(base / e["path"], vml)
            _ORACLE_CACHE[key] = (mods, f"drgn+DWARF on {e['path']}") if mods is not None else ([], "")
        if _ORACLE_CACHE[key][1]:
            return _ORACLE_CACHE[key]
    return [], "drgn could open no dump of this run"


def check_dump(entry: dict, base: Path, run: Run, sc: SerialCrash, frames: List[str],
               others: Dict[str, Optional[Tuple]], siblings: List[dict]) -> Result:
    res = Result(entry["path"])
    res.facts_read = (run.data.get("dump") or {}).get("modules") is not None
    if not sc.modules:
        # a panic that is no oops (sysrq, panic_on_oom) prints no module list:
        # the loaded modules are then drgn+DWARF's
        mods, where = oracle_modules(entry, base, siblings)
        res.modules_oracle = where
        sc = SerialCrash(sc.comm, sc.pid, sc.frames, mods, sc.header)
    exp = entry["expected"]
    v = run.data["verdict"]
    res.check("category", v["category"] == exp["category"], f"{v['category']} != {exp['category']}")
    res.check("culprit", v["culprit"]["module"] == exp["culprit_module"],
              f"{v['culprit']['module']} != {exp['culprit_module']}")
    res.check("panicked", v["panicked"] is True, f"panicked={v['panicked']}")
    if exp["culprit_module"] not in gpu_modules():
        # a crash elsewhere (another module, sysrq, OOM) while a GPU driver is loaded
        res.check("gpu-not-blamed", not v["culprit"]["is_gpu_driver"] and not v["category"].startswith("gpu"),
                  f"GPU blamed: {v['category']}, {v['culprit']['module']}")
    task = (run.data.get("crash") or {}).get("task") or {}
    res.check("task-json", sc.comm is not None and (task.get("comm"), task.get("pid")) == (sc.comm, sc.pid),
              f"{task} != {sc.comm}/{sc.pid}" if sc.comm is not None else NO_TASK)
    checks = (run.data.get("crash") or {}).get("checks") or []
    res.check("log-vs-dump", all(c.get("agree") for c in checks),
              "; ".join(f"{c.get('field')}: log {c.get('log')!r}, dump {c.get('dump')!r}"
                        for c in checks if not c.get("agree")))
    check_text(res, run.text80, NARROW, sc, frames)
    check_text(res, run.text_wide, WIDE, sc, frames)
    mine = verdict_key(run.data)
    for what, key in others.items():
        if key is None:
            res.check("same-verdict-" + what, False, "could not be analysed")
        else:
            res.check("same-verdict-" + what, key == mine, f"{key} != vmcore's {mine}")
    return res


def _dmesg_beside(entry: dict, base: Path) -> Optional[Path]:
    """The in-guest vmcore-dmesg.txt of the run a dump comes from (kdump and its conversions)."""
    o = entry.get("oracles", {}).get("vmcore-dmesg-in-guest")
    if isinstance(o, dict) and o.get("status") == "ok":
        return base / o["output"]
    run_dir = base / Path(entry["path"]).parts[0]
    found = sorted(run_dir.glob("capture/**/vmcore-dmesg.txt"))
    return found[0] if found else None


class Checker:
    """Checks the dumps of manifests; the verdicts of the text logs (serial.log,
    vmcore-dmesg.txt), shared by the dumps of one run, are computed once."""

    def __init__(self, cli: bool = False) -> None:
        from triage.analysis import load_ruleset
        self.cli = cli
        self.rules = load_ruleset(())
        self.report = report_patterns()
        self._text_keys: Dict[str, Optional[Tuple]] = {}
        self.notes: List[str] = []

    def text_key(self, p: Path) -> Optional[Tuple]:
        """The verdict of a text log, None when it could not be analysed."""
        k = str(p)
        if k not in self._text_keys:
            try:
                if self.cli:
                    self._text_keys[k] = verdict_key(run_cli(k, facts=False).data)
                else:
                    from triage.analysis import analyze_path
                    from triage.report.render import render
                    self._text_keys[k] = verdict_key(json.loads(render(analyze_path(k, rules=self.rules), "json")))
            except Exception as exc:          # a failure is a finding, not a stop
                self.notes.append(f"{p}: {type(exc).__name__}: {exc}")
                self._text_keys[k] = None
        return self._text_keys[k]

    def check_entry(self, entry: dict, base: Path, entries: List[dict]) -> Result:
        """Every check of one manifest entry (its dump must exist)."""
        path = base / entry["path"]
        serial = base / entry["oracles"]["serial_log"]
        sc = parse_serial(serial)
        frames = expected_frames(sc, self.report)
        others = {"serial.log": self.text_key(serial)}
        dm = _dmesg_beside(entry, base)
        if dm is not None and dm.exists():
            others["vmcore-dmesg.txt"] = self.text_key(dm)
        try:
            run = run_cli(str(path)) if self.cli else run_inprocess(str(path), self.rules)
        except Exception as exc:
            res = Result(entry["path"])
            res.check("analyze", False, f"{type(exc).__name__}: {exc}")
            return res
        return check_dump(entry, base, run, sc, frames, others, entries)


def check_manifest(manifest: Path, cli: bool = False, limit: Optional[int] = None,
                   log=print, checker: Optional[Checker] = None,
                   scenarios: Optional[List[str]] = None) -> List[Result]:
    """Check every dump of `manifest` that exists; one line per dump to `log`."""
    base = manifest.parent
    entries = json.loads(manifest.read_text())["dumps"]
    if scenarios:
        entries = [e for e in entries if e.get("scenario") in scenarios]
    if limit:
        entries = entries[:limit]
    ck = checker or Checker(cli)
    results = []
    for entry in entries:
        if not (base / entry["path"]).exists():
            continue
        res = ck.check_entry(entry, base, entries)
        results.append(res)
        log(f"{'FAIL' if res.failed else 'ok  '} {entry['path']} ({len(res.passed)}/{len(res.passed) + len(res.failed)})")
        for name, why in res.failed:
            log(f"       {name}: {why}")
    for n in ck.notes:
        log(f"  note: {n}")
    ck.notes.clear()
    return results


def _manifests(args: Iterable[str]) -> List[Path]:
    out = []
    for a in args:
        p = Path(a)
        out.append(p / "manifest.json" if p.is_dir() else p)
    return out


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifests", nargs="+", help="manifest.json files or the directories holding them")
    ap.add_argument("--cli", action="store_true", help="run the triage command (3x per dump) instead of in-process")
    ap.add_argument("--limit", type=int, help="check only the first N dumps of each manifest")
    ap.add_argument("--scenarios", help="comma-separated scenarios to check (default: all)")
    a = ap.parse_args(argv)
    total_dumps = total_pass = total_checks = bad_dumps = 0
    for m in _manifests(a.manifests):
        if not m.exists():
            print(f"{m}: no such manifest", file=sys.stderr)
            return 2
        results = check_manifest(m, cli=a.cli, limit=a.limit,
                                 scenarios=a.scenarios.split(",") if a.scenarios else None)
        n_pass = sum(len(r.passed) for r in results)
        n_all = n_pass + sum(len(r.failed) for r in results)
        n_bad = sum(1 for r in results if r.failed)
        print(f"{m}: {len(results)} dumps, {len(results) - n_bad} fully passing; {n_pass}/{n_all} checks passed")
        total_dumps += len(results)
        total_pass += n_pass
        total_checks += n_all
        bad_dumps += n_bad
    print(f"total: {total_dumps} dumps, {total_dumps - bad_dumps} fully passing; {total_pass}/{total_checks} checks passed")
    return 1 if bad_dumps else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
