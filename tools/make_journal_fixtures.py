#!/usr/bin/env python3
"""Make real `journalctl -o MODE` output of a real kernel log, for the journal tests.

The kernel log (a vmcore-dmesg.txt) becomes a journal export stream of kernel
records (_TRANSPORT=kernel, MESSAGE, _SOURCE_MONOTONIC_TIMESTAMP), which
systemd-journal-remote (Debian package systemd-journal-remote) writes to a
real journal file; journalctl then prints it in every output mode. So the
formats in tests/data/journal/ are journalctl's own, not written by hand.

Usage: tools/make_journal_fixtures.py LOG NAME [--out tests/data/journal]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

MODES = ["short", "short-iso", "short-iso-precise", "short-precise", "short-monotonic", "short-unix",
         "short-full", "short-delta", "verbose", "export", "json", "json-pretty", "json-seq", "json-sse", "cat",
         "with-unit"]
TS = re.compile(r"\[ *(\d+)\.(\d{6})\] ?(.*)")
BOOT = "0123456789abcdef0123456789abcdef"
MACHINE = "fedcba9876543210fedcba9876543210"
REALTIME_BASE = 1776614400 * 1000000     # 2026-04-19 16:00:00 UTC


def export_stream(path: str) -> bytes:
    out = []
    last = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            m = TS.match(line)
            if m:
                last = int(m.group(1)) * 1000000 + int(m.group(2))
                msg = m.group(3)
            else:
                msg = line.strip()
            if not msg:
                continue
            out.append(f"__REALTIME_TIMESTAMP={REALTIME_BASE + last}\n__MONOTONIC_TIMESTAMP={last}\n"
                       f"_BOOT_ID={BOOT}\n_MACHINE_ID={MACHINE}\n_HOSTNAME=gpu-node-7\n_TRANSPORT=kernel\n"
                       f"PRIORITY=4\nSYSLOG_FACILITY=0\nSYSLOG_IDENTIFIER=kernel\n"
                       f"_SOURCE_MONOTONIC_TIMESTAMP={last}\nMESSAGE={msg}\n\n")
    return "".join(out).encode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log")
    ap.add_argument("name")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "journal"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        jf = os.path.join(tmp, "kernel.journal")
        subprocess.run(["/lib/systemd/systemd-journal-remote", "-o", jf, "-"], input=export_stream(args.log), check=True)
        for mode in MODES:
            env = dict(os.environ, TZ="Europe/Paris", LC_ALL="C.UTF-8", SYSTEMD_COLORS="0")
            got = subprocess.run(["journalctl", "--file", jf, "--no-pager", "-o", mode], env=env, check=True,
                                 capture_output=True).stdout
            with open(os.path.join(args.out, f"{args.name}.{mode}.txt"), "wb") as f:
                f.write(got)
    return 0


if __name__ == "__main__":
    sys.exit(main())
