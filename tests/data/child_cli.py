"""Run the triage CLI in a child process and measure it: exit code, output, CPU
seconds and peak RSS (VmHWM), under an address-space limit so that a regression
fails a test instead of swapping the machine (issues 9 and 11)."""

import os
import subprocess
import sys
from typing import List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_SECONDS = 10
MAX_HWM_KB = 256 * 1024
AS_LIMIT = 2 << 30

# Runs the CLI in-process and writes VmHWM and its CPU seconds to the file named by
# TRIAGE_HWM_OUT at exit (VmHWM, not ru_maxrss: exec keeps the forking pytest's
# high-water mark in ru_maxrss).
CHILD = """
import atexit, os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
def _hwm():
    kb = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]
    ru = resource.getrusage(resource.RUSAGE_SELF)
    with open(os.environ['TRIAGE_HWM_OUT'], 'w') as f:
        f.write(kb + " " + repr(ru.ru_utime + ru.ru_stime))
atexit.register(_hwm)
sys.argv = ['triage'] + sys.argv[1:]
from triage.cli import main
main()
""".format(limit=AS_LIMIT)


def run_cli(args: List[str], tmp_path) -> Tuple[int, str, str, float, int]:
    """(exit code, stdout, stderr, CPU seconds, VmHWM kB) of `triage ARGS` in a child."""
    hwm = tmp_path / "hwm"
    env = dict(os.environ, TRIAGE_HWM_OUT=str(hwm), PYTHONPATH=ROOT)
    env.pop("TRIAGE_DEBUG", None)
    p = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=env,
                       timeout=MAX_SECONDS * 6)
    kb, cpu = (hwm.read_text().split() if hwm.exists() else ("-1", "inf"))
    return p.returncode, p.stdout, p.stderr, float(cpu), int(kb)
