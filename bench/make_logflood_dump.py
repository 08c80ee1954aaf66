"""Make a real dump with a large, wrapped printk ring for the dmesg benchmark.

    python3 bench/make_logflood_dump.py OUTDIR [--lines 100000] [--log-buf-len 8M] [--la57]
        [--cache sample_dumps/cache]

Boots the Debian kernel of sample_dumps/cache under QEMU (TCG) with
log_buf_len=8M, an extra initramfs layer whose /init writes LINES numbered lines
to /dev/kmsg ("triage-bench: flood line N ...") and then crashes with sysrq-c;
QEMU's dump-guest-memory (VMCOREINFO comes from the guest's qemu_fw_cfg
driver and `-device vmcoreinfo`) writes OUTDIR/vmcore.qemu-elf. The numbered lines are
their own oracle: the dump must hold a contiguous run of them ending at the last.
loglevel=1 keeps the flood off the serial console so the run stays short.
--la57 boots with 5-level paging (tests the 5-level walk).
--kdump instead arms an in-guest kdump (crashkernel=) whose capture kernel saves
/proc/vmcore three ways: a plain copy (kexec ELF with virtual PT_LOADs,
vmcore.kexec-elf), `makedumpfile -E -d 31` (vmcore.mdf-E-d31) and `makedumpfile
-l -d 31` (vmcore.mdf-l-d31), plus vmcore-dmesg and makedumpfile --dump-dmesg
output from /proc/vmcore as oracles, written as a tar onto a virtio disk. The capture
kernel keeps those files in RAM: with --crashkernel 160 the -E and -l files of an 8M
ring did not fit ("No space left on device"); `makedumpfile -l -d 31` run on the host
from the plain copy makes the same kind of file.
"""

import argparse
import os
import gzip
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "sample_dumps"))
from dumpgen.qmp import QMP  # noqa: E402

CACHE = ROOT / "sample_dumps" / "cache"
FLOOD_INIT = """#!/bin/busybox sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
insmod /lib/modules/qemu_fw_cfg.ko
echo "triage-bench: flooding {lines} lines"
i=0
while [ $i -lt {lines} ]; do
  echo "triage-bench: flood line $i the quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnop" > /dev/kmsg
  i=$((i+1))
done
echo "triage-bench: flood done"
{arm_kdump}
echo c > /proc/sysrq-trigger
while true; do sleep 60; done
"""


ARM_KDUMP = ('kexec -p /boot/vmlinuz --initrd=/boot/capture-flood.img '
             '--append="console=ttyS0,115200 irqpoll nr_cpus=1 reset_devices panic=1 no_timer_check" '
             '&& echo "triage-bench: kdump armed"')
CAPTURE_INIT = """#!/bin/busybox sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
# virtio.ko needs virtio_ring's symbols: load the ring first
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
  insmod /lib/modules/$m.ko
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
while [ ! -b /dev/vdb ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done
cd /out
mkdir -p d
# the plain copy goes straight onto its own disk: it does not fit in the capture kernel's RAM
cat /proc/vmcore > /dev/vdb
wc -c < /proc/vmcore > d/vmcore.kexec-elf.size
makedumpfile -E -d 31 /proc/vmcore d/vmcore.mdf-E-d31 > d/mdf-E.log 2>&1
makedumpfile -l -d 31 /proc/vmcore d/vmcore.mdf-l-d31 > d/mdf-l.log 2>&1
vmcore-dmesg /proc/vmcore > d/vmcore-dmesg.txt 2>&1
makedumpfile --dump-dmesg /proc/vmcore d/makedumpfile-dmesg.txt > d/mdf-dmesg.log 2>&1
tar -cf /dev/vda d
sync
echo "triage-bench: capture done"
poweroff -f
"""


def cpio_newc(files):
    """A minimal newc cpio archive of {name: (mode, bytes)} (appended initramfs layer)."""
    out = io.BytesIO()
    ino = 1
    for name, (mode, data) in list(files.items()) + [("TRAILER!!!", (0, b""))]:
        nm = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08X}" for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nm), 0))
        out.write(hdr.encode() + nm)
        out.write(b"\0" * (-(110 + len(nm)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))
        ino += 1
    return out.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--lines", type=int, default=100000)
    ap.add_argument("--log-buf-len", default="8M")
    ap.add_argument("--ram", type=int, default=256)
    ap.add_argument("--la57", action="store_true")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--kdump", action="store_true")
    ap.add_argument("--paging", action="store_true",
                    help="also write vmcore.qemu-elf-paging (QEMU's own page walk: an oracle for ours)")
    ap.add_argument("--crashkernel", type=int, default=256, help="MiB reserved for the capture kernel")
    ap.add_argument("--cache", type=Path, default=CACHE,
                    help="the dump generator's cache (kernel-*/, initramfs-*/)")
    a = ap.parse_args()
    kdir = sorted(a.cache.glob("kernel-*"))[-1]
    vmlinuz = sorted((kdir / "boot").glob("vmlinuz-*"))[-1]
    idir = a.cache / ("initramfs-" + kdir.name[len("kernel-"):])
    # the generator's kdump image carries kexec, the kernel and the capture image
    base = idir / ("main-kdump.img" if a.kdump else "main-lean.img")
    a.outdir.mkdir(parents=True, exist_ok=True)
    initrd = a.outdir / "flood-initrd.img"
    files = {"init": (0o100755, FLOOD_INIT.format(lines=a.lines, arm_kdump=ARM_KDUMP if a.kdump else "").encode())}
    if a.kdump:
        cap = (idir / "capture.img").read_bytes()
        cap += gzip.compress(cpio_newc({"init": (0o100755, CAPTURE_INIT.encode())}))
        files["boot/capture-flood.img"] = (0o100644, cap)
    layer = gzip.compress(cpio_newc(files))
    initrd.write_bytes(base.read_bytes() + layer)
    serial = a.outdir / "serial.log"
    serial.unlink(missing_ok=True)
    cmdline = (f"console=ttyS0,115200 loglevel=1 oops=panic panic=0 log_buf_len={a.log_buf_len} "
               "triage.scenario=logflood")
    if a.kdump:
        return run_kdump(a, vmlinuz, initrd, serial, cmdline + f" crashkernel={a.crashkernel}M")
    with tempfile.TemporaryDirectory() as td:
        sock = Path(td) / "qmp.sock"
        argv = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(a.ram), "-smp", "2",
                "-display", "none", "-monitor", "none", "-no-reboot", "-kernel", str(vmlinuz),
                "-initrd", str(initrd), "-append", cmdline, "-serial", f"file:{serial}",
                "-device", "vmcoreinfo", "-nic", "none",
                "-cpu", "max" if a.la57 else "max,la57=off",
                "-qmp", f"unix:{sock},server=on,wait=off"]
        (a.outdir / "qemu-cmdline.txt").write_text(" ".join(argv) + "\n")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            time.sleep(1)
            qmp = QMP(str(sock))
            t0 = time.monotonic()
            while b"end Kernel panic" not in (serial.read_bytes() if serial.exists() else b""):
                if proc.poll() is not None or time.monotonic() - t0 > a.timeout:
                    print("no panic", file=sys.stderr)
                    return 1
                time.sleep(2)
            time.sleep(1)
            qmp.execute("stop")
            out = a.outdir / "vmcore.qemu-elf"
            qmp.execute("dump-guest-memory", {"paging": False, "protocol": f"file:{out}"}, timeout=600)
            if a.paging:
                qmp.execute("dump-guest-memory", {"paging": True, "protocol": f"file:{out}-paging"},
                            timeout=600)
            qmp.execute("quit")
            print(f"{out} after {time.monotonic() - t0:.0f}s")
        finally:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    initrd.unlink()
    return 0


def run_kdump(a, vmlinuz, initrd, serial, cmdline) -> int:
    disk = a.outdir / "capture-disk.img"
    raw = a.outdir / "vmcore.kexec-elf"
    with open(disk, "wb") as f:
        f.truncate(1 << 30)
    with open(raw, "wb") as f:
        f.truncate((a.ram + 64) << 20)
    argv = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(a.ram), "-smp", "2",
            "-display", "none", "-monitor", "none", "-no-reboot", "-kernel", str(vmlinuz),
            "-initrd", str(initrd), "-append", cmdline, "-serial", f"file:{serial}",
            "-device", "vmcoreinfo", "-nic", "none", "-cpu", "max,la57=off",
            "-drive", f"file={disk},format=raw,if=virtio",
            "-drive", f"file={raw},format=raw,if=virtio"]
    (a.outdir / "qemu-cmdline.txt").write_text(" ".join(argv) + "\n")
    t0 = time.monotonic()
    subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=a.timeout, check=True)
    subprocess.run(["tar", "-xf", str(disk), "-C", str(a.outdir), "--strip-components=1"], check=True)
    size_file = a.outdir / "vmcore.kexec-elf.size"
    if not size_file.exists():
        print(f"the capture kernel saved nothing: see {serial}", file=sys.stderr)
        return 1
    size = int(size_file.read_text().split()[0])
    os.truncate(raw, size)
    disk.unlink()
    initrd.unlink()
    print(f"kdump capture in {a.outdir} after {time.monotonic() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
