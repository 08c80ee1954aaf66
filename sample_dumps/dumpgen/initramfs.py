"""Build the busybox initramfs images: the crashing system and the kdump capture system."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, List, Optional

from .host import Kernel
from .scenarios import SCENARIOS
from .target import Sysroot, X86_64

_NATIVE = Sysroot(X86_64, None)

# Loaded in this order (modules.dep is not shipped in the kernel deb).
VIRTIO_BLK_CHAIN = ["virtio_ring", "virtio", "virtio_pci_modern_dev",
                    "virtio_pci_legacy_dev", "virtio_pci", "virtio_blk"]


def _find_module(kernel: Kernel, name: str) -> Path:
    for p in kernel.moddir.rglob(name + ".ko*"):
        return p
    raise FileNotFoundError(f"module {name} not in {kernel.moddir}")


def _copy_module(src: Path, dst: Path) -> None:
    """Copy a kernel module, uncompressed (Debian's 6.12 packages ship .ko.xz;
    busybox insmod loads plain .ko)."""
    if src.suffix == ".xz":
        with open(dst, "wb") as f:
            subprocess.run(["xz", "-dc", str(src)], stdout=f, check=True)
    else:
        shutil.copy2(src, dst)


def _shared_libs(binaries: Iterable[str], sysroot: Sysroot = _NATIVE) -> List[str]:
    """Shared objects the binaries need (the guest runs Debian 12 too)."""
    return sysroot.shared_libs(list(binaries))


def _copy_real(src: str, root: Path, sysroot: Sysroot = _NATIVE) -> None:
    if sysroot.root is not None:
        # Debian moves binaries between /sbin and /usr/sbin across architectures' packages.
        src = "/" + os.path.relpath(sysroot.path(src), sysroot.root)
    dst = root / src.lstrip("/")
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(sysroot.host_file(src), dst)


def _skeleton(root: Path, sysroot: Sysroot = _NATIVE) -> None:
    shutil.rmtree(root, ignore_errors=True)
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "lib/modules", "boot", "out",
              "lib64", "lib/x86_64-linux-gnu"):
        (root / d).mkdir(parents=True, exist_ok=True)
    busybox = sysroot.path("/bin/busybox")
    shutil.copy2(busybox, root / "bin" / "busybox")
    applets = subprocess.run(sysroot.runner() + [busybox, "--list"], capture_output=True,
                             text=True, check=True).stdout.split()
    for a in applets:
        if a != "busybox":
            (root / "bin" / a).symlink_to("busybox")
    # The kernel opens /dev/console before init runs; devtmpfs is not auto-mounted.
    os.mknod(root / "dev" / "console", 0o600 | 0o020000, os.makedev(5, 1))


def _pack(root: Path, out: Path) -> Path:
    files = subprocess.run(["find", "."], cwd=root, capture_output=True,
                           check=True).stdout
    cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"],
                          cwd=root, input=files, capture_output=True, check=True).stdout
    tmp = out.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        subprocess.run(["gzip", "-6", "-n"], input=cpio, stdout=f, check=True)
    tmp.rename(out)
    return out


def build_capture(kernel: Kernel, work: Path, sysroot: Sysroot = _NATIVE) -> Path:
    """The kdump capture initramfs: virtio disk, makedumpfile, vmcore-dmesg."""
    root = work / "capture-root"
    _skeleton(root, sysroot)
    tools = ["/usr/bin/makedumpfile", "/usr/sbin/vmcore-dmesg"]
    for t in tools:
        _copy_real(t, root, sysroot)
        shutil.copy2(sysroot.path(t), root / "bin" / os.path.basename(t))
    for lib in _shared_libs(tools, sysroot):
        _copy_real(lib, root, sysroot)
    for m in VIRTIO_BLK_CHAIN:
        try:
            _copy_module(_find_module(kernel, m), root / "lib" / "modules" / f"{m}.ko")
        except FileNotFoundError:
            if m == "virtio_blk" and sysroot.root is None:
                raise
            # arm64 builds virtio and virtio_ring into the kernel; 5.10 has no
            # virtio_pci_modern_dev/virtio_pci_legacy_dev (split out in 5.14/5.15).
    init = (Path(__file__).parent / "guest" / "capture-init.sh").read_text()
    (root / "init").write_text(init)
    (root / "init").chmod(0o755)
    return _pack(root, work / "capture.img")


def build_main(kernel: Kernel, modules: Path, capture_img: Optional[Path], work: Path,
               sysroot: Sysroot = _NATIVE) -> Path:
    """The crashing system's initramfs: test modules, hog and, when capture_img
    is given (kdump runs), kexec plus the capture kernel and its initramfs.

    QEMU-captured runs get the lean image: everything in it stays in guest
    RAM and so in the dump."""
    name = "main-kdump" if capture_img else "main-lean"
    root = work / (name + "-root")
    _skeleton(root, sysroot)
    for mod in ("nvidia", "acme_storage"):
        shutil.copy2(modules / f"{mod}.ko", root / "lib" / "modules" / f"{mod}.ko")
    _copy_module(_find_module(kernel, "qemu_fw_cfg"), root / "lib" / "modules" / "qemu_fw_cfg.ko")
    shutil.copy2(modules / "hog", root / "bin" / "hog")
    if capture_img:
        _copy_real("/usr/sbin/kexec", root, sysroot)
        shutil.copy2(sysroot.path("/usr/sbin/kexec"), root / "bin" / "kexec")
        for lib in _shared_libs(["/usr/sbin/kexec"], sysroot):
            _copy_real(lib, root, sysroot)
        shutil.copy2(kernel.vmlinuz, root / "boot" / "vmlinuz")
        shutil.copy2(capture_img, root / "boot" / "capture.img")
    guest = Path(__file__).parent / "guest"
    init = (guest / "main-init.sh").read_text()
    cases = "\n".join(f"  {s.name}) {s.guest_cmd} ;;" for s in SCENARIOS.values())
    (root / "init").write_text(init.replace("@SCENARIO_CASES@", cases))
    (root / "init").chmod(0o755)
    return _pack(root, work / f"{name}.img")
