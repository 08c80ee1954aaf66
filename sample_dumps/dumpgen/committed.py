"""Regenerate the small committed set (sample_dumps/committed + sample_dumps/manifest.json).

Sizes are what bound this set: a -d 31 kdump of the Debian 6.1 kernel keeps
~50 MiB of kernel pages (text, slab, mem_map), ~16 MiB zlib / ~21 MiB lzo, so
only a few dumps fit in the 40 MB budget (see README.md).
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any, Dict, List

from . import qemu
from .manifest import dump_entry, write_manifest
from .oracles import run_oracles
from .pipeline import SAMPLE, Run, _rhel_vmcore, prepare
from .scenarios import SCENARIOS

BUDGET_BYTES = 40 << 20  # "40 MB" as du -sh counts it (MiB)
COMMITTED = SAMPLE / "committed"


def _fresh(d: Path) -> Path:
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    return d


def _kdump_lzo(env: Dict[str, Any], work: Path, scenario: str, kaslr: bool,
               top: Path, base: Path) -> Dict[str, Any]:
    """In-guest kdump, RHEL files (vmcore, vmcore-dmesg.txt, kexec-dmesg.log) kept as written."""
    run = Run(scenario, kaslr, True, 384, 128)
    sc = SCENARIOS[scenario]
    rdir = work / run.run_id
    shutil.rmtree(rdir, ignore_errors=True)
    cfg = qemu.BootConfig(env["kernel"].vmlinuz, env["kdump_img"], run.ram_mib,
                          kaslr=kaslr, crashkernel_mib=run.crashkernel_mib)
    tree = qemu.boot_kdump(sc, cfg, rdir, env["accel"])
    vmcore = _rhel_vmcore(tree)
    dst = _fresh(top / (f"{scenario}-kdump-lzo" + ("" if kaslr else "-nokaslr")))
    for name in ("vmcore", "vmcore-dmesg.txt", "kexec-dmesg.log"):
        if (vmcore.parent / name).exists():
            shutil.copy2(vmcore.parent / name, dst / name)
    shutil.copy2(rdir / "serial.log", dst / "serial.log")
    oracles = dict(run_oracles(dst / "vmcore"))
    oracles["vmcore-dmesg-in-guest"] = (
        {"status": "ok", "output": "vmcore-dmesg.txt"} if (dst / "vmcore-dmesg.txt").exists()
        else {"status": "failed", "error": "capture kernel wrote no vmcore-dmesg.txt"})
    return dump_entry(dst / "vmcore", base, scenario=scenario, capture="in-guest-kdump",
                      args=["makedumpfile", "-l", "--message-level", "7", "-d", "31",
                            "/proc/vmcore"],
                      serial=dst / "serial.log", guest_ram_mib=run.ram_mib,
                      crashkernel_mib=run.crashkernel_mib, oracles=oracles,
                      extra={"layout": "rhel", "rhel_dir": vmcore.parent.name})


def _qemu_zlib(env: Dict[str, Any], work: Path, scenario: str, kaslr: bool,
               top: Path, base: Path) -> Dict[str, Any]:
    """QEMU dump-guest-memory kdump-zlib (flattened) of a 128 MiB init_on_free=1 guest."""
    run = Run(scenario, kaslr, False, 128)
    rdir = work / run.run_id
    shutil.rmtree(rdir, ignore_errors=True)
    cfg = qemu.BootConfig(env["kernel"].vmlinuz, env["lean_img"], 128, kaslr=kaslr,
                          init_on_free=True)
    dumps = qemu.boot_and_dump(SCENARIOS[scenario], cfg, rdir, ["kdump-zlib"], env["accel"])
    dst = _fresh(top / (f"{scenario}-qemu-flat-zlib" + ("" if kaslr else "-nokaslr")))
    shutil.copy2(dumps["kdump-zlib"], dst / "vmcore.flat")
    (dst / "vmcore.flat").chmod(0o644)
    shutil.copy2(rdir / "serial.log", dst / "serial.log")
    return dump_entry(dst / "vmcore.flat", base, scenario=scenario,
                      capture="qemu-dump-guest-memory",
                      args=["dump-guest-memory", "format=kdump-zlib", "paging=false"],
                      serial=dst / "serial.log", guest_ram_mib=128, crashkernel_mib=None,
                      oracles=run_oracles(dst / "vmcore.flat"),
                      extra={"kernel_cmdline_extra": ["init_on_free=1"]})


def committed_size(top: Path = COMMITTED) -> int:
    return sum(p.stat().st_size for p in top.rglob("*") if p.is_file())


def make_committed(args: argparse.Namespace) -> None:
    env = prepare(args)
    work = Path(args.out) / "committed-work"
    work.mkdir(parents=True, exist_ok=True)
    # --committed-dir lets a trial run land elsewhere; its manifest sits in the
    # parent directory, as sample_dumps/manifest.json does for committed/.
    top = Path(args.committed_dir) if args.committed_dir else COMMITTED
    base = top.parent
    entries: List[Dict[str, Any]] = [
        _kdump_lzo(env, work, "gpu_alloc_null", True, top, base),
        _qemu_zlib(env, work, "oom_panic", False, top, base),
    ]
    write_manifest(base / "manifest.json", entries,
                   "Committed real dumps used by the default tests; paths are relative "
                   "to this file. Regenerate with: sample_dumps/generate --committed")
    size = committed_size(top)
    print(f"committed set: {size} bytes")
    if size > BUDGET_BYTES:
        raise SystemExit(f"committed set is {size} bytes, over the {BUDGET_BYTES} budget")
