"""Find the real dumps the generator made (sample_dumps/out, sample_dumps/committed) for tests.

Each dump lives in a directory with `serial.log`, the serial console captured with
ignore_loglevel: the oracle of every record the kernel printed.
"""

import os
import re
from pathlib import Path
from typing import List, Tuple

ROOT = Path(__file__).resolve().parents[1]
DUMP_DIRS = [ROOT / "sample_dumps" / "committed", ROOT / "sample_dumps" / "out"]
if os.environ.get("TRIAGE_REAL_DUMP_DIRS"):      # e.g. only sample_dumps/committed, as CI has
    DUMP_DIRS = [Path(p).resolve() for p in os.environ["TRIAGE_REAL_DUMP_DIRS"].split(":") if p]
# Extra directories of real dumps (e.g. bench/make_logflood_dump.py output), colon-separated.
DUMP_DIRS += [Path(p) for p in os.environ.get("TRIAGE_EXTRA_DUMP_DIRS", "").split(":") if p]
KERNEL_LINE = re.compile(r"^\[\s*\d+\.\d{6}\] ")


def _magic(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(16)
    except OSError:
        return b""


def dump_files(kind: str = "elf", incomplete: bool = False) -> List[Path]:
    """Real dump files of one format family ("elf", "kdump", "flattened", "any").

    Dumps whose name says "incomplete" (a capture that ran out of space) are
    returned only when `incomplete` is True, and then only those."""
    magics = {"elf": (b"\x7fELF",), "kdump": (b"KDUMP   ", b"DISKDUMP"), "flattened": (b"makedumpfile",)}
    out = []
    for top in DUMP_DIRS:
        if not top.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(top):
            for name in sorted(files):
                if not (name.startswith("vmcore") or name.startswith("dump")):
                    continue
                if ("incomplete" in name) != incomplete:
                    continue
                p = Path(dirpath) / name
                if p.stat().st_size < 4096:
                    continue
                m = _magic(p)
                wanted = sum(magics.values(), ()) if kind == "any" else magics[kind]
                if m.startswith(wanted):
                    out.append(p)
    return sorted(out)


SAMPLE = ROOT / "sample_dumps"


def generated_sets() -> List[Path]:
    """The generator's output sets (sample_dumps/out, out-arm64, out-5.10, ...), each
    with its manifest.json; with TRIAGE_REAL_DUMP_DIRS, only those of the directories given."""
    tops = [d for d in DUMP_DIRS if d.parent == SAMPLE] if os.environ.get("TRIAGE_REAL_DUMP_DIRS") \
        else sorted(SAMPLE.glob("out*"))
    return [d for d in tops if d.name.startswith("out") and (d / "manifest.json").is_file()]


def finished_generated_dumps(sets: List[Path]) -> List[Tuple[Path, str]]:
    """(dump, run directory name) of every dump the generator has finished in `sets`.

    The generator writes a set's manifest.json (by rename) only after its runs end, from
    the run.json each finished run leaves, so a run still booting or converting is in
    none; a dump listed there must also still have the size recorded (a later run may be
    rewriting it in place). Dumps named "incomplete" are left out, as dump_files does."""
    import json
    out = []
    for top in sets:
        try:
            doc = json.loads((top / "manifest.json").read_text())
        except (OSError, ValueError):
            continue            # being replaced: no set is half-read
        for e in doc.get("dumps", []):
            p = top / e["path"]
            try:
                size = p.stat().st_size
            except OSError:
                continue
            if size == e.get("size_bytes") and "incomplete" not in p.name:
                out.append((p, Path(e["path"]).parts[0]))
    return out


def serial_log_for(dump: Path) -> Path:
    """The serial.log of the scenario directory a dump belongs to (searching upward)."""
    for d in [dump.parent, *dump.parents]:
        if (d / "serial.log").is_file() and (d / "serial.log").stat().st_size > 0:
            return d / "serial.log"
        if d in DUMP_DIRS:
            break
    return None


def scenario_file(dump: Path, name: str) -> Path:
    """A file (qemu-cmdline.txt, serial.log...) of the scenario directory holding `dump`."""
    for d in [dump.parent, *dump.parents]:
        if (d / name).is_file():
            return d / name
        if d in DUMP_DIRS or d == ROOT:
            break
    return None


def cmdline_of(dump: Path) -> str:
    p = scenario_file(dump, "qemu-cmdline.txt")
    return p.read_text(errors="replace") if p else ""


def serial_is_oracle(dump: Path) -> bool:
    """The serial log shows every record only when the crashed kernel booted with
    ignore_loglevel (its first "Command line:" line says so)."""
    serial = serial_log_for(dump)
    if serial is None:
        return False
    m = re.search(rb"Command line: ([^\r\n]*)", serial.read_bytes())
    return bool(m) and b"ignore_loglevel" in m.group(1).split()


def serial_kernel_lines(path: Path) -> List[str]:
    """Kernel lines of a serial console capture, CRs removed, user-space lines dropped."""
    text = path.read_bytes().decode("utf-8", "replace").replace("\r", "")
    return [ln for ln in text.split("\n") if KERNEL_LINE.match(ln)]


def dump_ids(paths: List[Path]) -> List[str]:
    out = []
    for p in paths:
        try:
            out.append(str(p.relative_to(ROOT)))
        except ValueError:
            out.append(str(p))
    return out


def is_suffix_run(sub: List[str], full: List[str]) -> Tuple[bool, str]:
    """True when `sub` equals a contiguous run of `full` that ends at full's last line... or at the
    last line `sub` itself has (the console may print after the dump was taken)."""
    if not sub:
        return False, "no lines"
    try:
        start = max(i for i, ln in enumerate(full) if ln == sub[0] and full[i:i + len(sub)] == sub)
    except ValueError:
        # report the first mismatch against the best alignment
        first = full.index(sub[0]) if sub[0] in full else -1
        if first < 0:
            return False, f"first dump line not in serial log: {sub[0]!r}"
        for k, (a, b) in enumerate(zip(sub, full[first:])):
            if a != b:
                return False, f"line {k}: dump {a!r} != serial {b!r}"
        return False, f"dump has {len(sub)} lines, serial run only {len(full) - first}"
    return True, f"matches serial lines {start}..{start + len(sub)}"


def boot_dumps(kind: str = "elf") -> List[Path]:
    """Dumps whose serial console is a full oracle (ignore_loglevel, boot log kept)."""
    return [d for d in dump_files(kind) if serial_is_oracle(d)]


_CONSOLE_PREFIX = re.compile(rb"^\[\s*\d+\.\d{6}\] ")


def unindent(out: bytes) -> List[str]:
    """makedumpfile indents continuation lines; the console repeats the prefix instead."""
    lines, prefix = [], b""
    for ln in out.split(b"\n")[:-1]:
        m = _CONSOLE_PREFIX.match(ln)
        if m:
            prefix = m.group(0)
            lines.append(ln.decode())
        else:
            lines.append((prefix + ln[len(prefix):]).decode())
    return lines


def run_triage(*args):
    """`python -m triage ARGS` in a child, output as bytes."""
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "triage", *map(str, args)], capture_output=True,
                          timeout=600)


def drop_empty(text: bytes) -> bytes:
    """Without empty records: makedumpfile prints nothing for one, triage its prefix."""
    return re.sub(rb"(?m)^\[\s*\d+\.\d{6}\] \n", b"", text)


def check_dmesg_against_oracles(base: Path, e: dict, normalise_mdf=lambda b: b) -> None:
    """`triage dmesg` of a manifest entry equals makedumpfile --dump-dmesg's output
    recorded beside it, or, where makedumpfile cannot read the format (QEMU's own),
    is a run of the records the serial console printed."""
    r = run_triage("dmesg", base / e["path"])
    assert r.returncode == 0, r.stderr
    mdf = e["oracles"].get("makedumpfile-dmesg", {})
    if mdf.get("status") == "ok":
        assert drop_empty(r.stdout) == normalise_mdf((base / mdf["output"]).read_bytes())
    else:
        ok, why = is_suffix_run(unindent(r.stdout), serial_kernel_lines(base / e["oracles"]["serial_log"]))
        assert ok, why


def check_analyze_matches_manifest(base: Path, e: dict) -> None:
    """`triage analyze` gives the category and culprit module the serial log showed."""
    import json
    r = run_triage("analyze", "--format", "json", base / e["path"])
    assert r.returncode == 0, r.stderr
    v = json.loads(r.stdout)["verdict"]
    assert (v["category"], v["culprit"]["module"]) == (e["expected"]["category"],
                                                       e["expected"]["culprit_module"])


def manifest_entries(dirs, arch: str) -> List[Tuple[Path, dict]]:
    """(directory, entry) for every dump of `arch` ("x86_64" or "arm64"; the
    generator leaves `arch` out of x86_64 entries) listed in dirs' manifest.json
    and present on disk."""
    import json
    out = []
    for d in dirs:
        man = d / "manifest.json"
        if not man.is_file():
            continue
        for e in json.loads(man.read_text())["dumps"]:
            if e.get("arch", "x86_64") == arch and (d / e["path"]).is_file():
                out.append((d, e))
    return out
