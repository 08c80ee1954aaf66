#!/usr/bin/env python3
"""Big text logs, the common line: time (CPU and wall) and peak memory of
triage.events.read_log_file on large logs made mostly of lines that belong to no
crash report, against GNU grep -c scanning the same file for report headers in the
same run.

Inputs, each of --lines lines, built in a temporary directory:
  syslog   /var/log/messages: user-space daemons, a kernel line in ten, an oops every 100k lines
  journal  the same in journalctl's short form ("Dec 07 ...")
  short    short plain lines that are not kernel text at all ("line 123 of text")
  posted   the tuning half of tests/data/posted (real logs as users posted them) repeated

`--base DIR` also times the parser of another checkout (e.g. a `git worktree` of main)
on the same files, for a before/after in one run.

Usage: python3 bench/big_text_log_bench.py [--lines 300000] [--kinds syslog,journal,short,posted] [--base DIR]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from typing import Iterator, List

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, os.path.join(ROOT, "tools"))
from posted_agreement import split_half  # noqa: E402  (the corpus's one halving rule)

OOPS = open(os.path.join(ROOT, "tests", "data", "logs", "centos8-4.18-nvidia-alloc-fail-null-deref.log"), "rb").read()
CHILD = ("import resource,sys,time; from triage.events import read_log_file; w=time.perf_counter(); "
         "c=time.process_time(); log=read_log_file(sys.argv[1]); "
         "print(time.process_time()-c, time.perf_counter()-w, len(log.events), "
         "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
GREP = ["grep", "-c", "-E", "BUG: |WARNING: |Kernel panic|invoked oom-killer|general protection"]

_IDENTS = [b"systemd[1]", b"sshd[2231]", b"CRON[4412]", b"NetworkManager[812]", b"dbus-daemon[700]",
           b"postfix/smtpd[3321]", b"containerd[1101]", b"kubelet[1400]"]
_MSGS = [b"Started Session %d of user root.", b"Accepted publickey for root from 10.0.0.%d port 52114 ssh2",
         b"(root) CMD (run-parts /etc/cron.hourly) %d", b"<info>  [1701.%d] device (eth0): state change: activated",
         b"[system] Successfully activated service 'org.freedesktop.hostname1' %d",
         b"connect from unknown[192.0.2.%d]", b"level=info msg=\"shim disconnected\" id=%d namespace=k8s.io",
         b"I1207 10:00:01.123456 1400 kubelet.go:2100] \"SyncLoop (PLEG): event for pod\" pod=\"kube-system/x-%d\""]
_KMSGS = [b"kernel: [%d.123456] IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
          b"kernel: [%d.000001] audit: type=1400 audit(1701.1:2): apparmor=\"DENIED\" operation=\"open\"",
          b"kernel: [%d.500000] usb 1-1: new high-speed USB device number 3 using xhci_hcd"]


def _syslog(n: int, stamp: bytes) -> Iterator[bytes]:
    for i in range(n):
        if i % 100_000 == 50_000:
            yield OOPS
        date = stamp % ((i // 3600) % 24, (i // 60) % 60, i % 60) + b" myhost "
        if i % 10 == 0:
            yield date + _KMSGS[i % 3] % (i // 10) + b"\n"
        else:
            yield date + _IDENTS[i % 8] + b": " + _MSGS[(i // 8) % 8] % i + b"\n"


def _posted(n: int) -> Iterator[bytes]:
    corpus = os.path.join(ROOT, "tests", "data", "posted")
    # the tuning half only
    logs: List[bytes] = []
    for name in sorted(os.listdir(corpus)):
        if name.endswith(".log") and split_half(name) == "tuning":
            text = open(os.path.join(corpus, name), "rb").read()
            logs.append(text if text.endswith(b"\n") else text + b"\n")
    done = 0
    while done < n:
        for text in logs:
            yield text
            done += text.count(b"\n")
            if done >= n:
                break


def make(path: str, kind: str, n: int) -> None:
    if kind == "syslog":
        parts = _syslog(n, b"Dec  7 %02d:%02d:%02d")
    elif kind == "journal":
        parts = _syslog(n, b"Dec 07 %02d:%02d:%02d")
    elif kind == "short":
        parts = (b"line %d of text\n" % i for i in range(n))
    else:
        parts = _posted(n)
    with open(path, "wb") as fp:
        for p in parts:
            fp.write(p)


def parse(tree: str, path: str) -> List[float]:
    env = dict(os.environ, PYTHONPATH=tree)
    out = subprocess.run([sys.executable, "-c", CHILD, path], capture_output=True, text=True, check=True,
                         cwd=tree, env=env).stdout.split()
    return [float(x) for x in out]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=300_000)
    ap.add_argument("--kinds", default="syslog,journal,short,posted")
    ap.add_argument("--base", help="another checkout whose parser is timed on the same files")
    args = ap.parse_args()
    trees = [("this", os.path.abspath(ROOT))] + ([("base", os.path.abspath(args.base))] if args.base else [])
    print(f"{'input':>8} {'tree':>5} {'lines':>8} {'MB':>5} {'cpu s':>7} {'us/line':>8} {'wall s':>7} "
          f"{'RSS MB':>7} {'events':>6} {'grep s':>7} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            path = os.path.join(tmp, f"{kind}.log")
            make(path, kind, args.lines)
            lines = sum(1 for _ in open(path, "rb"))
            mb = os.path.getsize(path) / 1e6
            for label, tree in trees:
                cpu, wall, events, rss_kb = parse(tree, path)
                t = time.perf_counter()
                subprocess.run(GREP + [path], capture_output=True, check=False)
                g = time.perf_counter() - t
                print(f"{kind:>8} {label:>5} {lines:>8} {mb:>5.0f} {cpu:>7.2f} {cpu / lines * 1e6:>8.1f} {wall:>7.2f} "
                      f"{rss_kb / 1024:>7.0f} {int(events):>6} {g:>7.3f} {wall / g:>6.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
