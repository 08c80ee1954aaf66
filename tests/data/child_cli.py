"""Run the triage CLI in a child process and measure it: exit code, output, CPU
seconds and peak RSS (VmHWM), under an address-space limit so that a regression
fails a test instead of swapping the machine (issues 9 and 11)."""

import os
import subprocess
import sys
import time
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


def run_cli(args: List[str], tmp_path, as_limit: Optional[int] = AS_LIMIT) -> Tuple[int, str, str, float, int]:
    """(exit code, stdout, stderr, CPU seconds, VmHWM kB) of `triage ARGS` in a child.

    as_limit=None runs it without RLIMIT_AS (mmap of a sparse multi-terabyte file
    needs the address space), polling its RSS and killing it past WATCH_KILL_KB
    (then VmHWM is reported as the last RSS seen, above the bound)."""
    hwm = tmp_path / "hwm"
    env = dict(os.environ, TRIAGE_HWM_OUT=str(hwm), PYTHONPATH=ROOT, TRIAGE_AS_LIMIT=str(as_limit or 0))
    env.pop("TRIAGE_DEBUG", None)
    if as_limit:
        p = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=env,
                           timeout=MAX_SECONDS * 6)
        kb, cpu = (hwm.read_text().split() if hwm.exists() else ("-1", "inf"))
        return p.returncode, p.stdout, p.stderr, float(cpu), int(kb)
    out_f, err_f = tmp_path / "child.out", tmp_path / "child.err"
    with open(out_f, "wb") as out, open(err_f, "wb") as err:
        child = subprocess.Popen([sys.executable, "-c", CHILD, *args], stdout=out, stderr=err, env=env)
        seen, start = 0, time.monotonic()
        while child.poll() is None:
            seen = max(seen, rss_kb(child.pid))
            if seen > WATCH_KILL_KB or time.monotonic() - start > MAX_SECONDS * 6:
                child.kill()
                child.wait()
                break
            time.sleep(0.05)
    kb, cpu = (hwm.read_text().split() if hwm.exists() else (str(max(seen, 1)), "inf"))
    return (child.returncode, out_f.read_text(errors="replace"), err_f.read_text(errors="replace"),
            float(cpu), int(kb))


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
