"""Guest architectures: what differs between an x86_64 and an arm64 generation.

x86_64 guests run the host's own Debian tools; arm64 guests need Debian's arm64
packages (kernel, headers, busybox-static, makedumpfile, kexec-tools and their
libraries) unpacked into a sysroot under cache/, modules cross-built with
gcc-aarch64-linux-gnu against the arm64 headers (their kbuild scripts are the
host's same-release linux-kbuild), and the arm64 makedumpfile run on the host
under qemu-user (`qemu-aarch64-static -L <sysroot>`).
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple


@dataclass(frozen=True)
class Target:
    name: str                      # "x86_64" or "arm64" (the manifest's `arch`)
    deb_arch: str                  # Debian architecture of the guest's packages
    qemu: str                      # qemu-system binary
    machine: Tuple[str, ...]       # machine arguments
    tcg_cpu: str                   # -cpu under TCG
    console: str                   # serial console device
    cross_prefix: str              # cross compiler prefix ("" for native)
    host_packages: Tuple[str, ...]  # extra host packages it needs
    # Guest user-space packages unpacked into the sysroot (foreign targets only).
    sysroot_packages: Tuple[str, ...] = field(default=())
    # In-guest kdump guests: RAM and crashkernel= MiB. arm64's capture kernel
    # and its tmpfs need more than 128M to hold makedumpfile's output
    # ("No space left on device" at 128M).
    kdump_ram_mib: int = 384
    crashkernel_mib: int = 128

    @property
    def foreign(self) -> bool:
        return bool(self.cross_prefix)


X86_64 = Target("x86_64", "amd64", "qemu-system-x86_64", (), "max,la57=off", "ttyS0", "", ())
ARM64 = Target(
    "arm64", "arm64", "qemu-system-aarch64", ("-machine", "virt"), "max", "ttyAMA0",
    "aarch64-linux-gnu-",
    ("qemu-system-arm", "qemu-user-static", "gcc-aarch64-linux-gnu",
     "libc6-dev-arm64-cross"),   # a Recommends of the compiler: the static hog needs its libc
    ("busybox-static", "makedumpfile", "kexec-tools", "libc6", "zlib1g", "liblzo2-2", "libdw1",
     "libelf1", "liblzma5", "libbz2-1.0", "libzstd1", "libxenmisc4.17", "libxentoollog1",
     "libxencall1", "libxenevtchn1", "libxengnttab1", "libxenforeignmemory1",
     "libxendevicemodel1", "libxentoolcore1", "libxenstore4", "libxenhypfs1", "libyajl2",
     "libext2fs2", "libfdt1", "libuuid1", "libcom-err2"),
    kdump_ram_mib=512, crashkernel_mib=256)
TARGETS = {"x86_64": X86_64, "amd64": X86_64, "arm64": ARM64, "aarch64": ARM64}


class Sysroot:
    """Where a target's user-space binaries come from, and how the host runs them."""

    def __init__(self, target: Target, root: Optional[Path]):
        self.target = target
        self.root = root

    def path(self, binary: str) -> str:
        """Host path of a guest binary (e.g. /usr/sbin/kexec)."""
        if self.root is None:
            return binary
        for cand in (binary, binary.replace("/usr/sbin/", "/sbin/"), binary.replace("/sbin/", "/usr/sbin/"),
                     binary.replace("/usr/bin/", "/bin/"), binary.replace("/bin/", "/usr/bin/")):
            p = self.root / cand.lstrip("/")
            if p.exists():
                return str(p)
        raise FileNotFoundError(f"{binary} not in {self.root}")

    def runner(self) -> List[str]:
        """Prefix that runs a guest binary on this host."""
        if self.root is None:
            return []
        return [f"qemu-{'aarch64' if self.target.name == 'arm64' else self.target.name}-static",
                "-L", str(self.root)]

    def shared_libs(self, binaries: List[str]) -> List[str]:
        """Guest paths (/lib/...) of the shared objects the binaries need."""
        libs = set()
        for b in binaries:
            if self.root is None:
                out = subprocess.run(["ldd", b], capture_output=True, text=True).stdout
            else:
                loader = self.root / "lib" / "ld-linux-aarch64.so.1"
                out = subprocess.run(self.runner() + [str(loader), "--list", self.path(b)],
                                     capture_output=True, text=True).stdout
            for line in out.splitlines():
                for tok in line.split():
                    if self.root is not None and tok.startswith(str(self.root) + "/"):
                        libs.add("/" + os.path.relpath(tok, self.root))   # the loader itself
                    elif tok.startswith("/"):
                        libs.add(tok)
        return sorted(libs)

    def host_file(self, guest_path: str) -> str:
        """The host file behind a guest path, symlinks resolved inside the sysroot."""
        if self.root is None:
            return os.path.realpath(guest_path)
        p = self.root / guest_path.lstrip("/")
        for _ in range(16):
            if not p.is_symlink():
                break
            link = os.readlink(p)
            p = (p.parent / link) if not link.startswith("/") else self.root / link.lstrip("/")
        return str(p)


def make_sysroot(target: Target, cache: Path) -> Sysroot:
    """Download and unpack the target's user-space packages once (never installed)."""
    if not target.foreign:
        return Sysroot(target, None)
    root = cache / f"sysroot-{target.deb_arch}"
    stamp = root / ".stamp"
    if not stamp.exists():
        debs = cache / f"debs-{target.deb_arch}"
        debs.mkdir(parents=True, exist_ok=True)
        missing = [f"{pkg}:{target.deb_arch}" for pkg in target.sysroot_packages
                   if not glob.glob(str(debs / f"{pkg}_*_{target.deb_arch}.deb"))]
        if missing:
            subprocess.run(["apt-get", "download", *missing], cwd=debs, check=True,
                           stdout=subprocess.DEVNULL)
        tmp = root.parent / (root.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for deb in sorted(debs.glob(f"*_{target.deb_arch}.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
        shutil.rmtree(root, ignore_errors=True)
        tmp.rename(root)
        stamp.touch()
    return Sysroot(target, root)


def ensure_foreign_arch(target: Target) -> None:
    """dpkg --add-architecture for a foreign target so apt can download its packages."""
    if not target.foreign:
        return
    have = subprocess.run(["dpkg", "--print-foreign-architectures"], capture_output=True,
                          text=True).stdout.split()
    if target.deb_arch not in have:
        subprocess.run(["dpkg", "--add-architecture", target.deb_arch], check=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
