"""Boot a scenario under QEMU and capture the crashed guest's memory."""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .qmp import QMP
from .scenarios import Scenario
from .target import X86_64, Target

PANIC_RE = re.compile(rb"Kernel panic - not syncing")
END_RE = re.compile(rb"---\[ end Kernel panic")
# QEMU format name -> file suffix of the dump it writes.
QEMU_FORMATS = {"elf": "elf", "kdump-zlib": "flat-zlib", "kdump-lzo": "flat-lzo",
                "kdump-snappy": "flat-snappy"}


@dataclass
class BootConfig:
    vmlinuz: Path
    initrd: Path
    ram_mib: int = 128
    smp: int = 2
    kaslr: bool = True
    crashkernel_mib: Optional[int] = None
    init_on_free: bool = False
    extra_cmdline: Tuple[str, ...] = ()
    target: Target = X86_64


def kvm_usable(vmlinuz: Optional[Path] = None) -> bool:
    """True when a KVM guest really runs; under a nested sandbox it often does not."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
        os.close(fd)
    except OSError:
        return False
    if vmlinuz is None:
        # Opening /dev/kvm is not enough: nested setups fail at the first vCPU run
        # (e.g. "failed to set MSR"), so run the real CPU model for a few seconds.
        try:
            subprocess.run(["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "64",
                            "-display", "none", "-monitor", "none", "-serial", "none",
                            "-nodefaults"], capture_output=True, timeout=4)
        except subprocess.TimeoutExpired:
            return True  # still running: the vCPU works
        return False
    # Seen here: a KVM guest that neither fails nor runs (QEMU alive, no serial output
    # for minutes), which the probe above takes for a working vCPU. Boot the kernel
    # itself and wait for its banner: under a working KVM it prints it within a second.
    proc = subprocess.Popen(["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "128",
                             "-display", "none", "-monitor", "none", "-nodefaults", "-no-reboot",
                             "-serial", "stdio", "-kernel", str(vmlinuz),
                             "-append", "console=ttyS0 earlyprintk=serial panic=-1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return b"Linux version" in out


def kernel_cmdline(sc: Scenario, cfg: BootConfig) -> str:
    args = [f"console={cfg.target.console},115200", "ignore_loglevel", "oops=panic", "panic=0",
            f"triage.scenario={sc.name}", *sc.cmdline]
    if not cfg.kaslr:
        args.append("nokaslr")
    if cfg.init_on_free:
        # Zero pages as they are freed: QEMU's kdump format stores zero pages
        # once, so stale data in free memory stops bloating unfiltered dumps.
        args.append("init_on_free=1")
    args += list(cfg.extra_cmdline)
    if cfg.crashkernel_mib:
        args += [f"crashkernel={cfg.crashkernel_mib}M", "triage.kdump=1"]
    return " ".join(args)


def qemu_argv(cfg: BootConfig, cmdline: str, serial: Path, qmp_sock: Optional[Path],
              disks: List[Path], accel: str) -> List[str]:
    t = cfg.target
    argv = [t.qemu, *t.machine, "-accel", accel, "-m", str(cfg.ram_mib),
            "-smp", str(cfg.smp), "-display", "none", "-monitor", "none",
            "-no-reboot", "-kernel", str(cfg.vmlinuz), "-initrd", str(cfg.initrd),
            "-append", cmdline, "-serial", f"file:{serial}",
            "-device", "vmcoreinfo", "-nic", "none"]
    argv += ["-cpu", "host" if accel == "kvm" else t.tcg_cpu]
    if qmp_sock:
        argv += ["-qmp", f"unix:{qmp_sock},server=on,wait=off"]
    for disk in disks:
        argv += ["-drive", f"file={disk},format=raw,if=virtio"]
    return argv


def _wait_for_panic(proc: subprocess.Popen, serial: Path, timeout: int) -> bytes:
    """Poll the serial file until the panic message has been printed in full."""
    deadline = time.monotonic() + timeout
    seen_panic_at = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"QEMU exited ({proc.returncode}) before a panic")
        data = serial.read_bytes() if serial.exists() else b""
        if END_RE.search(data):
            time.sleep(1.0)  # let the last console bytes drain
            return serial.read_bytes()
        if PANIC_RE.search(data) and seen_panic_at is None:
            seen_panic_at = time.monotonic()
        if seen_panic_at and time.monotonic() - seen_panic_at > 10:
            return data
        time.sleep(0.5)
    raise TimeoutError(f"no kernel panic within {timeout}s (see {serial})")


def boot_and_dump(sc: Scenario, cfg: BootConfig, outdir: Path, formats: List[str],
                  accel: str, paging_elf: bool = False) -> Dict[str, Path]:
    """Boot, wait for the panic, dump with each QEMU format, return {format: path}."""
    outdir.mkdir(parents=True, exist_ok=True)
    serial = outdir / "serial.log"
    serial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as td:
        sock = Path(td) / "qmp.sock"
        cmdline = kernel_cmdline(sc, cfg)
        argv = qemu_argv(cfg, cmdline, serial, sock, [], accel)
        (outdir / "qemu-cmdline.txt").write_text(" ".join(argv) + "\n")
        log = open(outdir / "qemu.log", "wb")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            qmp = QMP(str(sock))
            t0 = time.monotonic()
            _wait_for_panic(proc, serial, sc.timeout)
            qmp.execute("stop")
            caps = qmp.execute("query-dump-guest-memory-capability")
            supported = set(caps.get("formats", []))
            (outdir / "qemu-dump-formats.txt").write_text(" ".join(sorted(supported)) + "\n")
            dumps: Dict[str, Path] = {}
            for fmt in formats:
                if fmt not in supported:
                    print(f"QEMU does not support dump format {fmt}; skipped")
                    continue
                path = outdir / f"vmcore.qemu-{QEMU_FORMATS[fmt]}"
                qmp.execute("dump-guest-memory",
                            {"paging": False, "protocol": f"file:{path}", "format": fmt},
                            timeout=600)
                dumps[fmt] = path
            if paging_elf and "elf" in formats:
                path = outdir / "vmcore.qemu-elf-paging"
                qmp.execute("dump-guest-memory",
                            {"paging": True, "protocol": f"file:{path}"}, timeout=600)
                dumps["elf-paging"] = path
            print(f"{sc.name}: panic+dump in {time.monotonic() - t0:.1f}s")
            qmp.execute("quit")
            qmp.close()
        finally:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
    return dumps


RESERVE_FAIL_RE = re.compile(rb"crashkernel reservation failed|Memory for crashkernel is not reserved")
CAPTURE_DONE_RE = re.compile(rb"triage-capture: done")


def _run_kdump_once(argv: List[str], serial: Path, outdir: Path, timeout: int) -> str:
    """One boot; returns 'ok', 'no-reservation' or raises."""
    log = open(outdir / "qemu.log", "wb")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    panic_at = None
    try:
        while True:
            data = serial.read_bytes() if serial.exists() else b""
            if RESERVE_FAIL_RE.search(data):
                return "no-reservation"
            banners = [m.start() for m in re.finditer(rb"\] Linux version ", data)]
            if len(banners) > 1 and PANIC_RE.search(data, banners[1]):
                # The capture kernel itself died (under TCG it sometimes finds
                # "IO-APIC + timer doesn't work"); a fresh boot usually succeeds.
                return "capture-panic"
            if proc.poll() is not None:
                if b"triage-gen: kdump NOT armed" in data:
                    raise RuntimeError(f"kexec -p failed in the guest; see {serial}")
                if CAPTURE_DONE_RE.search(data):
                    return "ok"
                raise RuntimeError(f"QEMU exited ({proc.returncode}) without a capture; see {serial}")
            if panic_at is None and PANIC_RE.search(data):
                panic_at = time.monotonic()
            if panic_at and time.monotonic() - panic_at > 300:
                raise TimeoutError(f"kdump capture did not finish in 300s; see {serial}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no crash/capture within {timeout}s; see {serial}")
            time.sleep(0.5)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        log.close()


def boot_kdump(sc: Scenario, cfg: BootConfig, outdir: Path, accel: str,
               disk_mib: int = 512, attempts: int = 8,
               makedumpfile: Tuple[str, ...] = ("makedumpfile",)) -> Path:
    """Boot with crashkernel=, let the in-guest kdump save the dump to a raw
    disk as a tar archive, extract it into outdir; return the extracted tree.

    With KASLR the kernel's physical placement is random and sometimes leaves
    no hole for crashkernel=; such boots are retried, as a rebooted host would.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    serial = outdir / "serial.log"
    disk = outdir / "capture-disk.img"
    elf_disk = outdir / "capture-elf.img"
    cmdline = kernel_cmdline(sc, cfg)
    argv = qemu_argv(cfg, cmdline, serial, None, [disk, elf_disk], accel)
    (outdir / "qemu-cmdline.txt").write_text(" ".join(argv) + "\n")
    t0 = time.monotonic()
    try:
        for attempt in range(attempts):
            serial.unlink(missing_ok=True)
            for d in (disk, elf_disk):
                d.unlink(missing_ok=True)
                with open(d, "wb") as f:
                    f.truncate(disk_mib << 20)
            status = _run_kdump_once(argv, serial, outdir, sc.timeout + 120)
            if status == "ok":
                break
            print(f"{sc.name}: {status} (attempt {attempt + 1}); rebooting")
            os.replace(serial, outdir / f"serial.attempt{attempt + 1}-{status}.log")
        else:
            raise RuntimeError(f"no capture in {attempts} boots (see serial.attempt*.log)")
        print(f"{sc.name}: kdump run took {time.monotonic() - t0:.1f}s")
        tree = outdir / "capture"
        tree.mkdir(exist_ok=True)
        subprocess.run(["tar", "-xf", str(disk), "-C", str(tree)], check=True)
        with open(elf_disk, "rb") as f:
            subprocess.run([*makedumpfile, "-R", str(tree / "vmcore-elf")], stdin=f,
                           stdout=subprocess.DEVNULL, check=True)
    finally:
        disk.unlink(missing_ok=True)
        elf_disk.unlink(missing_ok=True)
    return tree
