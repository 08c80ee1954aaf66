"""Host preparation: apt packages, the Debian kernel deb, module builds."""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

from .target import X86_64, Target

# Everything the generator runs on the host.
APT_PACKAGES = [
    "qemu-system-x86", "busybox-static", "makedumpfile", "kexec-tools",
    "cpio", "gcc", "make", "libc6-dev", "binutils", "zstd", "xz-utils",
]
HERE = Path(__file__).resolve().parent.parent  # sample_dumps/

# Debian releases whose kernels the host's own sources (Debian 12) do not carry.
# Each gets its own apt list; the host's sources are never edited.
SUITES = {
    "bullseye": ("deb http://deb.debian.org/debian bullseye main\n"
                 "deb http://deb.debian.org/debian-security bullseye-security main\n"),
}
# Only names the default --out directory (out-5.10); the kernel itself is whatever
# the suite's linux-image-<arch> depends on.
SUITE_KERNEL_SERIES = {"bullseye": "5.10"}
SUITE_LIST_DIR = Path("/etc/apt/sources.list.d")


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


def ensure_suite(suite: str) -> None:
    """Add a Debian release to apt through its own list
    (/etc/apt/sources.list.d/triage-<suite>.list) and refresh the package lists."""
    if suite not in SUITES:
        raise SystemExit(f"unknown suite {suite}; known: {', '.join(SUITES)}")
    lst = SUITE_LIST_DIR / f"triage-{suite}.list"
    if lst.exists() and lst.read_text() == SUITES[suite]:
        return
    print(f"+ write {lst}", flush=True)
    lst.write_text(SUITES[suite])
    run(["apt-get", "update", "-qq"], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def suite_kernel_abi(suite: str, target: Target = X86_64) -> str:
    """The ABI (e.g. 5.10.0-46-amd64) that the newest linux-image-<arch> of a suite
    (its -security and -updates pockets included) depends on."""
    meta = f"linux-image-{target.deb_arch}"
    out = subprocess.run(["apt-cache", "madison", meta], capture_output=True, text=True).stdout
    best = None
    for line in out.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 3 or not re.search(rf" {suite}(-security|-updates)?/", parts[2]):
            continue
        ver = parts[1]
        if best is None or subprocess.run(["dpkg", "--compare-versions", ver, "gt", best]
                                          ).returncode == 0:
            best = ver
    if best is None:
        raise RuntimeError(f"no {meta} in suite {suite} (apt-cache madison {meta})")
    dep = subprocess.run(["apt-cache", "depends", f"{meta}={best}"], capture_output=True,
                         text=True).stdout
    m = re.search(r"Depends: linux-image-([^\s:]+)", dep)
    if not m:
        raise RuntimeError(f"cannot find the kernel {meta}={best} depends on")
    return m.group(1)


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


def _suite_headers(cache: Path, abi: str, target: Target) -> Tuple[Path, List[str]]:
    """linux-headers-<abi> of another Debian release, with its common headers and
    linux-kbuild, unpacked under cache (never installed: the host stays Debian 12).

    Returns the build dir and the make variables: the kernel's own compiler
    (e.g. gcc-10 for 5.10) when the host has it, else the host's gcc (kbuild
    then only warns; the modules still load)."""
    root = cache / f"headers-{abi}"
    build = root / "usr" / "src" / f"linux-headers-{abi}"
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    if not build.exists():
        pattern = str(debs / f"linux-headers-{abi}_*_{target.deb_arch}.deb")
        if not glob.glob(pattern):
            run(["apt-get", "download", f"linux-headers-{abi}"], cwd=debs)
        deb = glob.glob(pattern)[0]
        depends = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], capture_output=True,
                                 text=True, check=True).stdout
        wanted = [d.split()[0] for d in depends.split(",")
                  if d.split() and d.split()[0].startswith(("linux-headers-", "linux-kbuild-"))]
        run(["apt-get", "download", *wanted], cwd=debs)
        tmp = root.parent / (root.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        for d in [deb] + [sorted(glob.glob(str(debs / f"{w}_*.deb")))[-1] for w in wanted]:
            run(["dpkg-deb", "-x", d, str(tmp)])
        # Its Makefile includes /usr/src/linux-headers-<ver>-common/Makefile by absolute
        # path; point it at the unpacked copy (scripts/ and tools/ are relative links
        # to the unpacked linux-kbuild already).
        mk = tmp / "usr" / "src" / f"linux-headers-{abi}" / "Makefile"
        mk.write_text(mk.read_text().replace("include /usr/src/",
                                             f"include {root}/usr/src/"))
        tmp.rename(root)
    variables = []
    kv = build / ".kernelvariables"
    m = re.search(r"^CC = .*?(gcc-[0-9]+)\s*$", kv.read_text() if kv.exists() else "", re.M)
    if m and not shutil.which(m.group(1)):
        print(f"{m.group(1)} (the compiler of {abi}) is not on this host: building with gcc",
              flush=True)
        variables.append("CC=gcc")
    return build, variables


def build_modules(cache: Path, abi: str, target: Target = X86_64,
                  suite: Optional[str] = None) -> Path:
    """Build the test modules and the static memory hog; return the build dir.

    suite: the Debian release the kernel comes from when it is not the host's."""
    make_vars: List[str] = []
    if suite:
        apt_install(list(target.host_packages))   # the host tools; the headers are unpacked
        build, make_vars = _suite_headers(cache, abi, target)
        kdir = str(build)
    elif target.foreign:
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
    run(["make", "-s", "-C", kdir, f"M={out}", *cross, *make_vars, "modules"])
    run([f"{target.cross_prefix}gcc", "-static", "-O2", "-o", str(out / "hog"), str(out / "hog.c")])
    stamp.touch()
    return out
