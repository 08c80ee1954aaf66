#!/usr/bin/env python3
"""Build the offline bundle: dist/triage.pyz, one file that runs on an air-gapped
Linux host with only a system CPython 3.9-3.13 (x86_64 or aarch64).

    python3 tools/build_bundle.py [-o dist/triage.pyz]

Run it where PyPI is reachable. It builds triage's own wheel from this checkout,
then has pex (installed into a throw-away venv, so the system Python stays
untouched) resolve the pinned dependencies of bundle/requirements.txt as
manylinux wheels for every target below and pack them with triage into one
PEX zipapp. At run time pex picks the wheels that match the host's Python and
CPU, extracts them once into ~/.cache/pex (PEX_ROOT) and runs `triage`.

The pins are the newest releases that still serve Python 3.9 (see the comments
in bundle/requirements.txt); building wheels from source is refused, so a
missing platform wheel fails the build instead of the air-gapped host.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEX_VERSION = "2.105.2"
PYTHONS = ("39", "310", "311", "312", "313")
# glibc 2.17+ (manylinux2014): RHEL 7-era userland and newer
MACHINES = ("manylinux2014_x86_64", "manylinux2014_aarch64")


def platforms():
    """pex's abbreviated platforms: PLATFORM-IMPL-PYVER-ABI, one per CPU and CPython."""
    return [f"{m}-cp-{v}-cp{v}" for m in MACHINES for v in PYTHONS]


def run(cmd, **kw):
    print("+", " ".join(map(str, cmd)), file=sys.stderr)
    subprocess.run(list(map(str, cmd)), check=True, **kw)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", default=str(ROOT / "dist" / "triage.pyz"), help="bundle to write")
    ap.add_argument("--pex", help="a pex executable to use instead of installing pex into a temporary venv")
    args = ap.parse_args()
    out = Path(args.output).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="triage-bundle-") as tmp:
        tmp = Path(tmp)
        pex = args.pex
        if pex is None:
            venv.EnvBuilder(with_pip=True).create(tmp / "venv")
            run([tmp / "venv" / "bin" / "python", "-m", "pip", "install", "-q", f"pex=={PEX_VERSION}"])
            pex = tmp / "venv" / "bin" / "pex"
        # triage's own wheel (pure Python, the signature rules inside as package data),
        # built from a copy so the checkout gets no build/ or egg-info litter
        src = tmp / "src"
        src.mkdir()
        for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md", "triage", "signatures"):
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(ROOT / name, src / name)
        run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp / "wheels", src])
        wheel = next((tmp / "wheels").glob("triage-*.whl"))
        cmd = [pex, wheel, "-r", ROOT / "bundle" / "requirements.txt",
               "--no-build", "-c", "triage", "--python-shebang", "/usr/bin/env python3",
               "-o", out]
        for p in platforms():
            cmd += ["--platform", p]
        env = dict(os.environ, PEX_ROOT=str(tmp / "pex_root"))
        run(cmd, env=env)
    print(f"{out} ({out.stat().st_size >> 20} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
