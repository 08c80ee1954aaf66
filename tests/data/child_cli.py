"""Run the triage CLI in a child process and measure it: exit code, output, CPU
seconds and peak RSS (VmHWM), under an address-space limit so that a regression
fails a test instead of swapping the machine (issues 9 and 11)."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_SECONDS = 10
MAX_HWM_KB = 256 * 1024
AS_LIMIT = 2 << 30

# Runs the CLI in-process and writes VmHWM and its CPU seconds to the file named by
# TRIAGE_HWM_OUT at exit (VmHWM, not ru_maxrss: exec keeps the forking pytest's
# high-water mark in ru_maxrss).
CHILD = """
import atexit, os, resource, sys
limit = int(os.environ['TRIAGE_AS_LIMIT'])
if limit:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
def _hwm():
    kb = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]
    ru = resource.getrusage(resource.RUSAGE_SELF)
    with open(os.environ['TRIAGE_HWM_OUT'], 'w') as f:
        f.write(kb + " " + repr(ru.ru_utime + ru.ru_stime))
atexit.register(_hwm)
sys.argv = ['triage'] + sys.argv[1:]
from triage.cli import main
main()
"""
# Without an address-space limit (a sparse file of terabytes must be mapped whole) the
# child is watched instead and killed past this resident size.
WATCH_KILL_KB = 1 << 20


@dataclass
class ChildRun:
    """One watched run of the CLI in a child."""

    rc: int                     # exit code; -N when killed by signal N
    stdout: str
    stderr: str
    cpu: float                  # CPU seconds (inf when the child could not say: killed)
    hwm_kb: int                 # VmHWM (without it: the largest RSS seen, or -1)
    wall: float                 # seconds, interpreter start-up included
    killed: Optional[str] = None    # why the watchdog killed it


def run_child(args: List[str], workdir, as_limit: Optional[int] = AS_LIMIT, python: str = sys.executable,
              kill_seconds: float = MAX_SECONDS * 6, kill_kb: int = WATCH_KILL_KB,
              cwd: Optional[str] = None) -> ChildRun:
    """`triage ARGS` run by `python` in a child, measured; its output and VmHWM files go
    to `workdir`.

    as_limit=None runs it without RLIMIT_AS (mmap of a sparse multi-terabyte file
    needs the address space), polling its RSS and killing its process group past
    kill_kb or kill_seconds (then VmHWM is reported as the last RSS seen, above the
    bound). tools/hostile_sweep.py runs every hostile file this way."""
    workdir = str(workdir)
    hwm = os.path.join(workdir, "hwm")
    if os.path.exists(hwm):
        os.unlink(hwm)
    env = dict(os.environ, TRIAGE_HWM_OUT=hwm, PYTHONPATH=ROOT, TRIAGE_AS_LIMIT=str(as_limit or 0))
    env.pop("TRIAGE_DEBUG", None)
    argv = [python, "-c", CHILD, *args]
    start = time.monotonic()
    if as_limit:
        p = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=kill_seconds)
        kb, cpu = _hwm(hwm, "-1")
        return ChildRun(p.returncode, p.stdout, p.stderr, cpu, kb, time.monotonic() - start)
    out_f, err_f = os.path.join(workdir, "child.out"), os.path.join(workdir, "child.err")
    killed = None
    with open(out_f, "wb") as out, open(err_f, "wb") as err:
        # its own process group: whatever it starts (a decompressor) is killed with it
        child = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True)
        seen = 0
        while child.poll() is None:
            seen = max(seen, rss_kb(child.pid))
            if seen > kill_kb:
                killed = f"RSS {seen} kB"
            elif time.monotonic() - start > kill_seconds:
                killed = f"wall {kill_seconds} s"
            if killed:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                break
            time.sleep(0.05)
    wall = time.monotonic() - start
    kb, cpu = _hwm(hwm, str(max(seen, 1)))
    with open(out_f, errors="replace") as o, open(err_f, errors="replace") as e:
        return ChildRun(child.returncode, o.read(), e.read(), cpu, kb, wall, killed)


def _hwm(path: str, missing_kb: str) -> Tuple[int, float]:
    """(VmHWM kB, CPU seconds) the child wrote at exit; (missing_kb, inf) if it could not."""
    try:
        with open(path) as f:
            kb, cpu = f.read().split()
    except (OSError, ValueError):
        kb, cpu = missing_kb, "inf"
    return int(kb), float(cpu)


def run_cli(args: List[str], tmp_path, as_limit: Optional[int] = AS_LIMIT) -> Tuple[int, str, str, float, int]:
    """(exit code, stdout, stderr, CPU seconds, VmHWM kB) of `triage ARGS` in a child
    (run_child, with the tests' bounds)."""
    r = run_child(args, tmp_path, as_limit)
    return r.rc, r.stdout, r.stderr, r.cpu, r.hwm_kb


def rss_kb(pid: int) -> int:
    """VmRSS of `pid` in kB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
