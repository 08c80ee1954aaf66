"""What the expert runs next on a dump: the kernel's debuginfo package and
ready `crash` / `drgn` command lines.

The distribution is read from the kernel release and version strings
(`uname -r`, the `#1 SMP ... Debian 6.1.192-3` version), never from a
version number: `.el8`/`.fc39` releases are Red Hat family, `Ubuntu` in the
version or an Ubuntu flavour suffix is Ubuntu, `Debian` in the version or a
Debian flavour suffix is Debian.
"""

import re
import shlex
from dataclasses import dataclass
from typing import List, Optional

_RH = re.compile(r"\.(?:el\d+(?:_\d+)?|fc\d+|amzn\d+|an\d+)(?:uek)?(?:\.|$|\+)")
_UEK = re.compile(r"\.el\d+uek")
# flavour suffixes of `uname -r` that only one distribution uses
_UBUNTU_FLAVOURS = ("-generic", "-lowlatency", "-aws", "-azure", "-gcp", "-gke", "-oracle", "-kvm", "-ibm",
                    "-raspi", "-nvidia", "-oem", "-generic-64k", "-realtime", "-intel-iotg")
_DEBIAN_FLAVOURS = ("-amd64", "-arm64", "-cloud-amd64", "-cloud-arm64", "-rt-amd64", "-rt-arm64", "-686",
                    "-686-pae", "-armmp", "-armmp-lpae", "-powerpc64le", "-s390x", "-marvell", "-rpi")


@dataclass
class Debuginfo:
    """The package that holds the kernel's vmlinux with debug symbols, and where it installs it."""

    distro: str          # "rhel", "ubuntu", "debian"
    package: str
    install: str         # the command that installs it
    vmlinux: str


def detect(release: Optional[str], version: Optional[str] = None) -> Optional[Debuginfo]:
    """The debuginfo package of kernel `release` (uname -r); `version` is the
    `Linux version ...` banner or the utsname version (`#1 SMP ... Debian 6.1.192-3`).
    None when the distribution cannot be told."""
    if not release or not re.fullmatch(r"[\w.+~-]{1,128}", release):
        return None
    version = version or ""
    if _RH.search(release):
        base, pkg = release, "kernel-debuginfo"
        if base.endswith(("+debug", ".debug")):
            base, pkg = base[:-len("+debug")], "kernel-debug-debuginfo"
        if _UEK.search(base):
            pkg = "kernel-uek-debuginfo"
        return Debuginfo("rhel", f"{pkg}-{base}", f"debuginfo-install {pkg.replace('-debuginfo', '')}-{base}",
                         f"/usr/lib/debug/lib/modules/{release}/vmlinux")
    if "Ubuntu" in version or (release.endswith(_UBUNTU_FLAVOURS) and "Debian" not in version):
        pkg = f"linux-image-unsigned-{release}-dbgsym"
        return Debuginfo("ubuntu", pkg, f"apt-get install {pkg}   # from the ddebs.ubuntu.com archive",
                         f"/usr/lib/debug/boot/vmlinux-{release}")
    if "Debian" in version or release.endswith(_DEBIAN_FLAVOURS):
        pkg = f"linux-image-{release}-dbg"
        return Debuginfo("debian", pkg, f"apt-get install {pkg}", f"/usr/lib/debug/boot/vmlinux-{release}")
    return None


def next_steps(release: Optional[str], version: Optional[str], build_id: Optional[str],
               dump_path: Optional[str], is_dump: bool, module: Optional[str] = None,
               module_out_of_tree: bool = False) -> List[str]:
    """The debuginfo step and, for a dump, the crash and drgn command lines."""
    info = detect(release, version)
    out: List[str] = []
    bid = f" (BUILD-ID {build_id}: the vmlinux must have the same build ID)" if build_id else ""
    if info is not None:
        # a step's lines after the first are commands, shown one per line, unwrapped
        out.append(f"Install the kernel's debug symbols, package {info.package}, which installs "
                   f"{info.vmlinux}{bid}:\n{info.install}")
    elif release:
        out.append(f"Get the vmlinux with debug symbols of kernel {release} from its vendor's debuginfo "
                   f"repository{bid}.")
    if module and module_out_of_tree:
        out.append(f"{module} is out of tree: its debug symbols come from its vendor's package, not the "
                   "kernel's debuginfo; without them crash and drgn show its frames as bare addresses.")
    if is_dump and dump_path:
        vmlinux = info.vmlinux if info is not None else "VMLINUX"
        out.append(_open_step(dump_path, vmlinux))
    return out


_OPEN = "Open the dump with crash (then `bt`, `log`, `kmem -i`, `ps`) or drgn:\n"
_GET = ("Install the kernel's debug symbols", "Get the vmlinux with debug symbols")


def _open_step(dump_path: str, vmlinux: str) -> str:
    core, vml = shlex.quote(dump_path), shlex.quote(vmlinux)
    return f"{_OPEN}crash {vml} {core}\ndrgn -c {core} -s {vml}"


def with_found_vmlinux(steps: List[str], found: str, dump_path: Optional[str]) -> List[str]:
    """`steps` (from next_steps) once the dump's DWARF vmlinux was found at `found`
    (triage.facts.debuginfo checked its build id): no step to install it, and the
    crash/drgn command lines name that file."""
    out = []
    for s in steps:
        if s.startswith(_GET):
            s = f"The kernel's debug symbols are at {found} (its build ID is the dump's): the dump facts were read with them."
        elif s.startswith(_OPEN) and dump_path:
            s = _open_step(dump_path, found)
        out.append(s)
    return out
