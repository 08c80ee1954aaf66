"""makedumpfile conversions of an in-guest kdump vmcore (each with -d 31)."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Dict, List, Sequence

# name -> makedumpfile options; the output file is vmcore.<name>.
CONVERSIONS: Dict[str, List[str]] = {
    "mdf-zlib": ["-c", "-d", "31"],
    "mdf-lzo": ["-l", "-d", "31"],
    "mdf-snappy": ["-p", "-d", "31"],
    "mdf-zstd": ["-z", "-d", "31"],
    "mdf-flat-zlib": ["-F", "-c", "-d", "31"],
    "mdf-elf": ["-E", "-d", "31"],
}


def convert(src: Path, outdir: Path, names: List[str],
            makedumpfile: Sequence[str] = ("makedumpfile",)) -> Dict[str, Dict]:
    """Run each conversion; return {name: {path, args, status, message}}.

    `makedumpfile` is the command to run (arm64's runs under qemu-user)."""
    results: Dict[str, Dict] = {}
    outdir.mkdir(parents=True, exist_ok=True)
    for name in names:
        args = CONVERSIONS[name]
        dst = outdir / f"vmcore.{name}"
        dst.unlink(missing_ok=True)
        argv = [*makedumpfile, *args, str(src)]
        if "-F" in args:
            with open(dst, "wb") as f:
                r = subprocess.run(argv, stdout=f, stderr=subprocess.PIPE, text=True)
        else:
            r = subprocess.run(argv + [str(dst)], capture_output=True, text=True)
        msg = (getattr(r, "stdout", "") or "") + (r.stderr or "")
        ok = r.returncode == 0 and dst.exists() and dst.stat().st_size > 0
        if not ok:
            dst.unlink(missing_ok=True)
        results[name] = {"path": dst, "args": ["makedumpfile", *args],
                         "status": "ok" if ok else "failed",
                         "message": " ".join(msg.split())[-300:]}
    return results
