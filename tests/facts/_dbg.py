"""Where the tests find Debian's DWARF vmlinux (package linux-image-<release>-dbg), and
a live drgn+DWARF oracle on a dump (for generated dumps: CI makes new bytes every run).

Looked for where sample_dumps/generate extracts it (sample_dumps/cache/dbg-<release>/),
in sample_dumps/cache/dbg/usr/lib/debug/boot, the system's /usr/lib/debug/boot,
and /work/dbg, /work/dbg-arm64 (this development machine)."""

from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
DBG_DIRS = [ROOT / "sample_dumps" / "cache" / "dbg" / "usr" / "lib" / "debug" / "boot",
            Path("/usr/lib/debug/boot"), Path("/work/dbg/usr/lib/debug/boot"),
            Path("/work/dbg-arm64/usr/lib/debug/boot")]


def dbg_vmlinux(release: str = "6.1.0-57-amd64") -> Optional[Path]:
    """The DWARF vmlinux of `release`, or None when no -dbg package is at hand."""
    for d in [ROOT / "sample_dumps" / "cache" / f"dbg-{release}", *DBG_DIRS]:
        p = d / f"vmlinux-{release}"
        if p.is_file():
            return p
    return None


def dump_identity(dump: Path):
    """(osrelease, build id) from the dump's VMCOREINFO."""
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.logsource import open_reader
    with open_reader([str(dump)]) as r:
        info = parse_vmcoreinfo(r.vmcoreinfo())
    return info.osrelease, info.build_id


def build_id_root(tmp: Path, vmlinux: Path, build_id: str) -> Path:
    """A search root holding `vmlinux` at usr/lib/debug/.build-id/xx/rest.debug, as
    debuginfo packages install it (a symlink: no copy of the 600 MB file)."""
    d = tmp / "usr" / "lib" / "debug" / ".build-id" / build_id[:2]
    d.mkdir(parents=True)
    (d / (build_id[2:] + ".debug")).symlink_to(vmlinux)
    return tmp
