"""Make a real dump with a large, wrapped printk ring for the dmesg benchmark.

    python3 bench/make_logflood_dump.py OUTDIR [--lines 100000] [--log-buf-len 8M] [--la57]

Boots the Debian kernel of sample_dumps/cache under QEMU (TCG) with
log_buf_len=8M, an extra initramfs layer whose /init writes LINES numbered lines
to /dev/kmsg ("triage-bench: flood line N ...") and then crashes with sysrq-c;
QEMU's dump-guest-memory (VMCOREINFO comes from the guest's qemu_fw_cfg
driver and `-device vmcoreinfo`) writes OUTDIR/vmcore.qemu-elf. The numbered lines are
their own oracle: the dump must hold a contiguous run of them ending at the last.
loglevel=1 keeps the flood off the serial console so the run stays short.
--la57 boots with 5-level paging (tests the 5-level walk).
"""

import argparse
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
echo c > /proc/sysrq-trigger
while true; do sleep 60; done
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
    a = ap.parse_args()
    kdir = sorted(CACHE.glob("kernel-*"))[-1]
    vmlinuz = sorted((kdir / "boot").glob("vmlinuz-*"))[-1]
    base = CACHE / "initramfs" / "main.img"
    a.outdir.mkdir(parents=True, exist_ok=True)
    initrd = a.outdir / "flood-initrd.img"
    layer = gzip.compress(cpio_newc({"init": (0o100755, FLOOD_INIT.format(lines=a.lines).encode())}))
    initrd.write_bytes(base.read_bytes() + layer)
    serial = a.outdir / "serial.log"
    serial.unlink(missing_ok=True)
    cmdline = (f"console=ttyS0,115200 loglevel=1 oops=panic panic=0 log_buf_len={a.log_buf_len} "
               "triage.scenario=logflood")
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
            qmp.execute("quit")
            print(f"{out} after {time.monotonic() - t0:.0f}s")
        finally:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    initrd.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
