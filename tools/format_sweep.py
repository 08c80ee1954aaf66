#!/usr/bin/env python3
"""Coverage sweep of GPU driver format strings: which fault/hang/timeout/reset messages
of a kernel source tree triage's event parser reads.

Every print call (dev_err, drm_err, DRM_ERROR, DRM_DEV_ERROR, DRM_INFO, nvkm_error,
xe_gt_err, gt_err, guc_err, pr_err, ... and their warn/info forms) in the GPU driver
directories of SRC (a kernel tree: its drivers/gpu) whose format string speaks of a
timeout, hang, fault, lost device, reset or fatal error is turned into the line the
driver would print: the conversions filled in (%d -> 1, %s -> gfx, %x -> 1f, ...) and the
prefix its print call adds ("amdgpu 0000:03:00.0: ", "[drm:func [module]] *ERROR* ",
"nouveau 0000:01:00.0: fifo: ", "xe 0000:03:00.0: [drm] Tile0: GT0: ", ...). The line
is then given to triage.events.headers.match_header. A synthetic line is a test input
built from the source, not a log.

    python3 tools/format_sweep.py SRC [SRC ...] [--unread] [--out sweep.tsv]

Prints how many distinct formats each driver has and how many are read as a GPU fault;
--unread lists the formats not read (to be judged by hand: most are display, link,
init or firmware chatter); --out writes every row (driver, file:line, function, call,
format, synthetic line, headline or "-"). Kernel sources: Debian's linux-source-X.Y
packages (apt-get download) unpack to a tree. Used for session 6's sweep of 6.12 and
5.10 (tests/events/test_source_sweep_wordings.py holds its findings) and session 10's wider
pass (tests/events/test_gpu_memory_source_wordings.py).
"""

import argparse
import bisect
import os
import re
import sys
from typing import Iterator, List, NamedTuple, Optional, Set, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# drivers/gpu subdirectory -> (the device name dev_printk prints, a device, the module)
DRIVERS = {
    "drm/amd": ("amdgpu", "0000:03:00.0", "amdgpu"), "drm/i915": ("i915", "0000:00:02.0", "i915"),
    "drm/xe": ("xe", "0000:03:00.0", "xe"), "drm/nouveau": ("nouveau", "0000:01:00.0", "nouveau"),
    "drm/radeon": ("radeon", "0000:01:00.0", "radeon"),
    "drm/msm": ("msm_dpu", "ae01000.display-controller", "msm"),
    "drm/panfrost": ("panfrost", "ff9a0000.gpu", "panfrost"), "drm/panthor": ("panthor", "fb000000.gpu", "panthor"),
    "drm/lima": ("lima", "1c40000.gpu", "lima"), "drm/v3d": ("v3d", "fec00000.v3d", "v3d"),
    "drm/vc4": ("vc4-drm", "gpu", "vc4"), "drm/etnaviv": ("etnaviv-gpu", "130000.gpu", "etnaviv"),
    "drm/vmwgfx": ("vmwgfx", "0000:00:0f.0", "vmwgfx"), "drm/qxl": ("qxl", "0000:00:02.0", "qxl"),
    "drm/virtio": ("virtio_gpu", "virtio0", "virtio_gpu"), "drm/ast": ("ast", "0000:03:00.0", "ast"),
    "drm/mgag200": ("mgag200", "0000:03:00.0", "mgag200"), "drm/scheduler": ("amdgpu", "0000:03:00.0", "gpu_sched"),
    "drm/tegra": ("tegra-host1x", "50000000.host1x", "tegra_drm"), "host1x": ("tegra-host1x", "50000000.host1x", "host1x"),
    "drm/imagination": ("powervr", "fd00000.gpu", "powervr"),
}
_CALL = re.compile(
    r"\b(dev_(?:err|warn|crit|info|notice)(?:_ratelimited|_once)?|drm_(?:err|warn|info|notice)(?:_ratelimited|_once)?"
    r"|DRM_(?:ERROR|DEV_ERROR|WARN|INFO|NOTE|DEV_INFO)(?:_RATELIMITED|_ONCE)?|nvkm_(?:error|warn|info)"
    r"|NV_(?:ERROR|WARN|INFO)|xe_gt_(?:err|warn|info|notice)(?:_once)?|gt_(?:err|warn|notice|info)"
    r"|guc_(?:err|warn|notice|info)|pr_(?:err|warn|info|notice|crit)(?:_ratelimited)?|printk|CT_ERROR)\s*\(")
_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_FUNC = re.compile(r"^(?:static\s+|inline\s+|__\w+\s+)*[\w\s*]+?\b(\w+)\s*\([^;]*$")
_SPEC = re.compile(r"%(?:%|[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|z|j|t|L)?([diouxXcspefgn])(\w*))")
_FILL = {"d": "1", "i": "1", "u": "1", "o": "1", "x": "1f", "X": "1F", "c": "x", "s": "gfx", "e": "1", "f": "1",
         "g": "1", "n": ""}
# what a fault, hang, timeout, lost device, reset or fatal error report speaks of
KEYWORDS = re.compile(r"time ?out|timed out|hang|hung|fault|lockup|lost|fatal|wedge|stuck|reset|recover|"
                      r"not respond|no response|unrecoverable|killed|trap|illegal|uncorrect|poison|stall|"
                      r"heartbeat|crash|dead|fallen|not ticking|error irq|error interrupt|catastroph|"
                      r"[a-z]_error\b|pbdma|\bmmu\b|exception|violation|"
                      # (session 10) what the first passes' words missed: firmware that stopped
                      # answering or progressing, a broken host-firmware channel, ECC/RAS poison
                      r"failed to respon|communication stalled|no forward process|stalled|channel broken|"
                      r"corrupted descriptor|watchdog|\becc\b|\bedc\b|poison|ras intr|device lost", re.I)


class Row(NamedTuple):
    """One print call's format and the line built from it."""

    driver: str
    where: str
    function: str
    call: str
    fmt: str
    line: str


def fill(fmt: str) -> str:
    """`fmt` with its printf conversions replaced by plausible values."""
    def one(m: "re.Match[str]") -> str:
        if m.group(0) == "%%":
            return "%"
        conv, tail = m.group(1), m.group(2) or ""
        if conv == "p":   # %pe is an error name; %pS, %pK, ... a pointer
            return "-110" if tail.startswith("e") else "00000000deadbeef"
        return _FILL[conv] + tail
    return _SPEC.sub(one, fmt)


def _unescape(s: str) -> str:
    """A C string literal's text (the escapes printk output shows)."""
    return s.replace("\\n", "").replace("\\t", "\t").replace('\\"', '"').replace("\\\\", "\\")


# the drm_printk-based calls: (call name start, the tag they print after "[drm] ")
_DRM_TAGS = (("drm_", ""), ("xe_gt_", "Tile0: GT0: "), ("gt_", "GT0: "), ("guc_", "GT0: GUC: "))


def synthetic_line(driver: str, path: str, function: str, call: str, msg: str) -> str:
    """The line `call` prints for `msg` (already filled) in `driver`'s file `path`."""
    dev, addr, module = DRIVERS[driver]
    if call == "CT_ERROR":   # i915 intel_guc_ct.c: guc_err(guc, "CT: " fmt)
        return f"{dev} {addr}: [drm] *ERROR* GT0: GUC: CT: {msg}"
    if call.startswith("DRM_ERROR"):
        return f"[drm:{function} [{module}]] *ERROR* {msg}"
    if call.startswith("DRM_DEV_ERROR"):
        return f"{dev} {addr}: [drm:{function} [{module}]] *ERROR* {msg}"
    if call.startswith("DRM_"):
        return f"[drm] {msg}"
    for start, tag in _DRM_TAGS:
        if call.startswith(start):   # drm_dev_printk: "[drm] ", "*ERROR* " for the _err forms, the GT's tag
            return f"{dev} {addr}: [drm] {'*ERROR* ' if '_err' in call else ''}{tag}{msg}"
    if call.startswith("nvkm_"):
        # nvkm_printk_: "<dev>: <subdev>: " -- the subdev from nvkm/{engine,subdev}/<name>/
        parts = path.split("nvkm/", 1)[1].split("/") if "nvkm/" in path else []
        sub = (parts[1] if len(parts) > 2 else parts[0]) + ": " if parts else ""
        return f"nouveau {addr}: {sub}{msg}"
    if call.startswith("NV_"):
        return f"nouveau {addr}: {msg}"
    if call.startswith("pr_") or call == "printk":
        return ("amdgpu: " if driver == "drm/amd" else "") + msg   # amdgpu/amdkfd pr_fmt
    return f"{dev} {addr}: {msg}"


def prints(driver: str, path: str, rel: str) -> Iterator[Row]:
    """The print calls of one C file with a string format, with their enclosing function."""
    with open(path, errors="replace") as fp:
        src = fp.read()
    starts: List[int] = []
    funcs: List[Tuple[int, str]] = []
    offset = 0
    for i, text in enumerate(src.split("\n")):
        starts.append(offset)
        offset += len(text) + 1
        if (text and not text[0].isspace() and "(" in text and not text.startswith(("#", "/", "*", "}"))
                and not text.rstrip().endswith(";")):
            m = _FUNC.match(text)
            if m:
                funcs.append((i, m.group(1)))
    func_lines = [f[0] for f in funcs]
    for m in _CALL.finditer(src):
        end = src.find(";", m.end())
        strings = _STRING.findall(src[m.end():end if end > 0 else m.end() + 600][:1200])
        if not strings:
            continue
        fmt = _unescape("".join(strings))
        line_no = bisect.bisect_right(starts, m.start()) - 1
        k = bisect.bisect_right(func_lines, line_no) - 1
        function = funcs[k][1] if k >= 0 else "?"
        yield Row(driver, f"{rel}:{line_no + 1}", function, m.group(1), fmt,
                  synthetic_line(driver, rel, function, m.group(1), fill(fmt).strip()))


def sweep(src: str, seen: Optional[Set[Tuple[str, str]]] = None) -> Iterator[Row]:
    """The keyword-matching print formats of SRC's GPU drivers, one row per distinct (driver,
    format) not already in `seen` (which it extends: pass one set to sweep several trees)."""
    gpu = os.path.join(src, "drivers", "gpu")
    seen = set() if seen is None else seen
    for driver in DRIVERS:
        base = os.path.join(gpu, driver)
        for dirpath, _dirs, files in sorted(os.walk(base)):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, name)
                for row in prints(driver, path, os.path.relpath(path, gpu)):
                    if KEYWORDS.search(row.fmt) and (driver, row.fmt) not in seen:
                        seen.add((driver, row.fmt))
                        yield row


def headline(line: str) -> Optional[str]:
    """The gpu_fault headline triage's event parser gives `line`, None when it reads no GPU fault."""
    from triage.events.headers import match_header
    h = match_header(line)
    return h.headline if h is not None and h.kind == "gpu_fault" else None


def main(argv: Optional[List[str]] = None) -> int:
    """Sweep the trees named in `argv` and print the counts (and --unread rows); 0, or an
    argparse error (exit 2) for a tree without drivers/gpu or an --out that cannot be written."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", nargs="+", help="kernel source trees (each with drivers/gpu)")
    ap.add_argument("--unread", action="store_true", help="list the formats not read as a GPU fault")
    ap.add_argument("--out", help="write every row as TSV")
    args = ap.parse_args(argv)
    for src in args.src:
        if not os.path.isdir(os.path.join(src, "drivers", "gpu")):
            # a wrong path would otherwise sweep nothing and print zero counts as a result
            ap.error(f"{src}: no drivers/gpu directory (not a kernel source tree)")
    seen: Set[Tuple[str, str]] = set()
    rows = [(row, headline(row.line)) for src in args.src for row in sweep(src, seen)]
    if args.out:
        try:
            with open(args.out, "w") as fp:
                for row, what in rows:
                    fp.write("\t".join(s.replace("\t", " ") for s in (*row, what or "-")) + "\n")
        except OSError as exc:
            ap.error(f"cannot write {args.out}: {exc.strerror or exc}")
    for driver in DRIVERS:
        mine = [what for row, what in rows if row.driver == driver]
        if mine:
            print(f"{driver:14s} formats {len(mine):4d}  read as a GPU fault {sum(1 for w in mine if w):4d}")
    print(f"{'all':14s} formats {len(rows):4d}  read as a GPU fault {sum(1 for _, w in rows if w):4d}")
    if args.unread:
        for row, what in rows:
            if not what:
                print(f"unread\t{row.driver}\t{row.where}\t{row.function}\t{row.fmt[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
