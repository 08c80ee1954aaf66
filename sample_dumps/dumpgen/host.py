"""Host preparation: apt packages, the Debian kernel deb, module builds."""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import List

# Everything the generator runs on the host.
APT_PACKAGES = [
    "qemu-system-x86", "busybox-static", "makedumpfile", "kexec-tools",
    "cpio", "gcc", "make", "libc6-dev", "binutils", "zstd", "xz-utils",
]
HERE = Path(__file__).resolve().parent.parent  # sample_dumps/


def run(cmd: List[str], **kw) -> subprocess.CompletedProcess:
    """Run a command, raising on failure, echoing it for the log."""
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def apt_install(extra: List[str]) -> None:
    """Install missing host packages with apt-get (needs root)."""
    wanted = APT_PACKAGES + extra
    missing = []
    for pkg in wanted:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                           capture_output=True, text=True)
        if "install ok installed" not in r.stdout:
            missing.append(pkg)
    if not missing:
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)


def default_kernel_abi() -> str:
    """The ABI name (e.g. 6.1.0-57-amd64) of Debian's current amd64 kernel."""
    def lookup() -> str:
        return subprocess.run(["apt-cache", "depends", "linux-image-amd64"],
                              capture_output=True, text=True).stdout

    out = lookup()
    if "Depends: linux-image-" not in out:
        # Fresh containers often ship without package lists.
        run(["apt-get", "update", "-qq"])
        out = lookup()
    m = re.search(r"Depends: linux-image-(\S+)", out)
    if not m:
        raise RuntimeError("cannot find the kernel linux-image-amd64 depends on")
    return m.group(1)


@dataclass
class Kernel:
    """An unpacked Debian kernel: image, modules dir and its release string."""
    release: str
    vmlinuz: Path
    moddir: Path
    system_map: Path


def fetch_kernel(cache: Path, abi: str) -> Kernel:
    """apt-get download the kernel deb and unpack it under cache (never install)."""
    root = cache / f"kernel-{abi}"
    vmlinuz = root / "boot" / f"vmlinuz-{abi}"
    if not vmlinuz.exists():
        debs = cache / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        found = glob.glob(str(debs / f"linux-image-{abi}*_amd64.deb"))
        if not found:
            for name in (f"linux-image-{abi}-unsigned", f"linux-image-{abi}"):
                r = subprocess.run(["apt-get", "download", name], cwd=debs)
                if r.returncode == 0:
                    break
            found = glob.glob(str(debs / f"linux-image-{abi}*_amd64.deb"))
        if not found:
            raise RuntimeError(f"could not download linux-image-{abi}")
        tmp = root.parent / (root.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        run(["dpkg-deb", "-x", found[0], str(tmp)])
        tmp.rename(root)
    return Kernel(abi, vmlinuz, root / "lib" / "modules" / abi,
                  root / "boot" / f"System.map-{abi}")


def build_modules(cache: Path, abi: str) -> Path:
    """Build the test modules and the static memory hog; return the build dir."""
    apt_install([f"linux-headers-{abi}"])
    src = HERE / "modules"
    out = cache / f"modules-{abi}"
    stamp = out / ".stamp"
    newest = max(p.stat().st_mtime for p in src.iterdir())
    if stamp.exists() and stamp.stat().st_mtime >= newest:
        return out
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(src, out)
    run(["make", "-s", "-C", f"/lib/modules/{abi}/build", f"M={out}", "modules"])
    run(["gcc", "-static", "-O2", "-o", str(out / "hog"), str(out / "hog.c")])
    stamp.touch()
    return out
