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

from .target import X86_64, Target

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


def default_kernel_abi(target: Target = X86_64) -> str:
    """The ABI name (e.g. 6.1.0-57-amd64) of Debian's current kernel for the target."""
    meta = f"linux-image-{target.deb_arch}"
    if target.foreign:
        meta += f":{target.deb_arch}"

    def lookup() -> str:
        return subprocess.run(["apt-cache", "depends", meta],
                              capture_output=True, text=True).stdout

    out = lookup()
    if "Depends: linux-image-" not in out:
        # Fresh containers often ship without package lists.
        run(["apt-get", "update", "-qq"])
        out = lookup()
    m = re.search(r"Depends: linux-image-([^\s:]+)", out)
    if not m:
        raise RuntimeError(f"cannot find the kernel {meta} depends on")
    return m.group(1)


@dataclass
class Kernel:
    """An unpacked Debian kernel: image, modules dir and its release string."""
    release: str
    vmlinuz: Path
    moddir: Path
    system_map: Path


def fetch_kernel(cache: Path, abi: str, target: Target = X86_64) -> Kernel:
    """apt-get download the kernel deb and unpack it under cache (never install)."""
    root = cache / f"kernel-{abi}"
    vmlinuz = root / "boot" / f"vmlinuz-{abi}"
    if not vmlinuz.exists():
        debs = cache / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        pattern = str(debs / f"linux-image-{abi}*_{target.deb_arch}.deb")
        found = glob.glob(pattern)
        if not found:
            suffix = f":{target.deb_arch}" if target.foreign else ""
            for name in (f"linux-image-{abi}-unsigned", f"linux-image-{abi}"):
                r = subprocess.run(["apt-get", "download", name + suffix], cwd=debs)
                if r.returncode == 0:
                    break
            found = glob.glob(pattern)
        if not found:
            raise RuntimeError(f"could not download linux-image-{abi}")
        tmp = root.parent / (root.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        run(["dpkg-deb", "-x", found[0], str(tmp)])
        tmp.rename(root)
    return Kernel(abi, vmlinuz, root / "lib" / "modules" / abi,
                  root / "boot" / f"System.map-{abi}")


def _foreign_headers(cache: Path, abi: str, target: Target) -> Path:
    """The target's linux-headers-<abi> unpacked under cache, its kbuild scripts
    pointed at the host's linux-kbuild of the same release (those are host binaries).

    What it depends on (linux-headers-<ver>-common, arch all, and
    linux-kbuild-<ver>) is installed on the host from the deb's own Depends."""
    root = cache / f"headers-{abi}"
    build = root / "usr" / "src" / f"linux-headers-{abi}"
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    pattern = str(debs / f"linux-headers-{abi}_*_{target.deb_arch}.deb")
    if not glob.glob(pattern):
        run(["apt-get", "download", f"linux-headers-{abi}:{target.deb_arch}"], cwd=debs)
    depends = subprocess.run(["dpkg-deb", "-f", glob.glob(pattern)[0], "Depends"],
                             capture_output=True, text=True, check=True).stdout
    apt_install([d.split()[0] for d in depends.split(",")
                 if d.split() and d.split()[0].startswith(("linux-headers-", "linux-kbuild-"))])
    if not build.exists():
        tmp = root.parent / (root.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        run(["dpkg-deb", "-x", glob.glob(pattern)[0], str(tmp)])
        kbuild = os.readlink(tmp / "usr" / "src" / f"linux-headers-{abi}" / "scripts")
        # ../../lib/linux-kbuild-6.1/scripts -> the host's /usr/lib/linux-kbuild-6.1
        kb_name = Path(kbuild).parent.name
        (tmp / "usr" / "lib").mkdir(parents=True, exist_ok=True)
        (tmp / "usr" / "lib" / kb_name).symlink_to(f"/usr/lib/{kb_name}")
        tmp.rename(root)
    return build


def build_modules(cache: Path, abi: str, target: Target = X86_64) -> Path:
    """Build the test modules and the static memory hog; return the build dir."""
    if target.foreign:
        # The arm64 headers are unpacked, not installed (see _foreign_headers).
        apt_install(list(target.host_packages))
        kdir = str(_foreign_headers(cache, abi, target))
    else:
        apt_install([f"linux-headers-{abi}"])
        kdir = f"/lib/modules/{abi}/build"
    src = HERE / "modules"
    out = cache / f"modules-{abi}"
    stamp = out / ".stamp"
    newest = max(p.stat().st_mtime for p in src.iterdir())
    if stamp.exists() and stamp.stat().st_mtime >= newest:
        return out
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(src, out)
    cross = [f"CROSS_COMPILE={target.cross_prefix}"] if target.foreign else []
    run(["make", "-s", "-C", kdir, f"M={out}", *cross, "modules"])
    run([f"{target.cross_prefix}gcc", "-static", "-O2", "-o", str(out / "hog"), str(out / "hog.c")])
    stamp.touch()
    return out
