"""The drgn + DWARF facts oracle, computed beside each generated dump.

The dump facts (tests/facts/test_facts_oracle.py) are judged against what drgn
reads with Debian's `-dbg` vmlinux from the same file. A regenerated dump has
other bytes (another boot, another KASLR slide), so the oracle is made here, at
generation time, from the very file the tests read: `<dump>.drgn-dwarf.json`,
recorded as the entry's `facts_oracle` in the manifest.

The vmlinux comes from `linux-image-<abi>-dbg` (about 860 MB): only the vmlinux
is extracted, into cache/dbg-<abi>/. drgn runs in its own venv under cache/
when the generator's Python has none (Debian's python3 is externally managed).
"""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from .host import HERE, run
from .target import Target

REPO = HERE.parent
ORACLE = REPO / "tests" / "facts" / "drgn_dwarf_oracle.py"
DRGN = "drgn==0.3.0"        # the version triage.facts is tested with (setup.cfg)
ORACLE_TIMEOUT = 600        # one dump; the 633 MB DWARF index alone takes a few seconds


def fetch_debug_vmlinux(cache: Path, abi: str, target: Target) -> Path:
    """Debian's DWARF vmlinux for `abi`, extracted from its -dbg deb under cache/."""
    dest = cache / f"dbg-{abi}" / f"vmlinux-{abi}"
    if dest.is_file():
        return dest
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    pattern = str(debs / f"linux-image-{abi}-dbg_*_{target.deb_arch}.deb")
    if not glob.glob(pattern):
        suffix = f":{target.deb_arch}" if target.foreign else ""
        run(["apt-get", "download", f"linux-image-{abi}-dbg{suffix}"], cwd=debs)
    deb = glob.glob(pattern)[0]
    tmp = dest.parent.with_name(dest.parent.name + ".tmp")
    subprocess.run(["rm", "-rf", str(tmp)], check=True)
    tmp.mkdir(parents=True)
    # Only the vmlinux: the deb unpacks to ~5.6 GB with every module's debuginfo.
    tar = subprocess.Popen(["tar", "-x", "-C", str(tmp), "--wildcards",
                            "./usr/lib/debug/boot/vmlinux-*"], stdin=subprocess.PIPE)
    run(["dpkg-deb", "--fsys-tarfile", deb], stdout=tar.stdin)
    tar.stdin.close()
    if tar.wait() != 0:
        raise RuntimeError(f"no vmlinux in {deb}")
    found = tmp / "usr" / "lib" / "debug" / "boot" / f"vmlinux-{abi}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    found.rename(dest)
    subprocess.run(["rm", "-rf", str(tmp)], check=True)
    return dest


def oracle_python(cache: Path) -> str:
    """A Python that imports drgn and triage's dependencies."""
    try:
        import drgn  # noqa: F401
        return sys.executable
    except ImportError:
        pass
    venv = cache / "oracle-venv"
    py = venv / "bin" / "python"
    if not (venv / ".ready").exists():
        run([sys.executable, "-m", "venv", "--clear", str(venv)])
        # triage itself is read from the checkout (PYTHONPATH); the venv gets
        # only what it imports, so an edit to triage never needs a reinstall.
        run([str(py), "-m", "pip", "install", "-q", DRGN, *_install_requires()])
        (venv / ".ready").touch()
    return str(py)


def _install_requires() -> List[str]:
    """setup.cfg's install_requires for this Python (environment markers dropped
    with their lines: the oracle venv runs on the host, which satisfies them)."""
    lines = (REPO / "setup.cfg").read_text().splitlines()
    reqs, inside = [], False
    for line in lines:
        if line.strip().startswith("install_requires"):
            inside = True
            continue
        if inside:
            if line and not line[0].isspace():
                break
            req = line.strip()
            if req and not req.startswith(("#", "drgn")) and ";" not in req:
                reqs.append(req)
    return reqs


def write_facts_oracle(dump: Path, vmlinux: Path, python: str) -> Dict[str, Any]:
    """Run the oracle on one dump; the manifest's `facts_oracle` for it."""
    out = dump.parent / f"{dump.name}.drgn-dwarf.json"
    out.unlink(missing_ok=True)
    try:
        r = subprocess.run([python, str(ORACLE), "--out", str(out), str(dump), str(vmlinux)],
                           capture_output=True, text=True, errors="replace",
                           timeout=ORACLE_TIMEOUT, env=dict(os.environ, PYTHONPATH=str(REPO)))
        ok, msg = r.returncode == 0 and out.is_file(), (r.stderr or r.stdout).strip()
    except subprocess.TimeoutExpired:
        ok, msg = False, f"timeout after {ORACLE_TIMEOUT}s"
    if ok:
        return {"status": "ok", "output": out.name, "tool": f"{DRGN} + DWARF {vmlinux.name}"}
    return {"status": "failed", "error": msg.splitlines()[-1] if msg else "no output"}


def add_facts_oracles(out: Path, cache: Path, target: Target, kernel_abi: Optional[str] = None
                      ) -> List[str]:
    """Compute the facts oracle of every dump listed in out/*/run.json; return failures."""
    python = oracle_python(cache)
    vmlinuxes: Dict[str, Path] = {}
    failures = []
    for rj in sorted(out.glob("*/run.json")):
        doc = json.loads(rj.read_text())
        for e in doc["entries"]:
            abi = kernel_abi or e["kernel_release"]
            if abi not in vmlinuxes:
                vmlinuxes[abi] = fetch_debug_vmlinux(cache, abi, target)
            dump = out / e["path"]
            res = write_facts_oracle(dump, vmlinuxes[abi], python)
            if res["status"] == "ok":
                res["output"] = str((dump.parent / res["output"]).relative_to(out))
            else:
                failures.append(f"{e['path']}: {res['error']}")
            e["facts_oracle"] = res
            print(f"facts oracle {e['path']}: {res['status']}", flush=True)
        rj.write_text(json.dumps(doc, indent=1))
    return failures
