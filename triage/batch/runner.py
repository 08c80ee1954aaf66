"""Run one function per item in isolated worker processes, a few at a time.

Each item gets a fresh forked process (the parent has already imported the
analysis code, so a fork costs milliseconds). The fork is a plain os.fork, not
multiprocessing.Process, so the runner also works inside daemonic processes
(a Dask worker), where multiprocessing refuses to start children. The worker caps its address
space with RLIMIT_AS, disables core files, and dies with the parent
(PR_SET_PDEATHSIG). The parent enforces a wall-clock limit with SIGKILL.
Whatever happens to a worker - a hang, a segfault, os._exit, MemoryError, an
exception - becomes an error record for that item and the batch goes on.
"""

import collections
import ctypes
import faulthandler
import multiprocessing
import os
import resource
import signal
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Deque, Dict, Iterable, Iterator, List, Optional, Tuple

from triage.errors import TriageError

WorkFn = Callable[[Any], Dict[str, Any]]
_PR_SET_PDEATHSIG = 1
# Tasks taken from the caller's iterator ahead of the free workers (at least).
LOOKAHEAD = 64


@dataclass
class Limits:
    """Per-item limits: wall seconds, address-space MiB (0 = auto), jobs in flight."""

    jobs: int = 1
    timeout_s: float = 300.0
    memory_mb: int = 0          # 0: 2048 MiB plus the size of the item's files (mmap counts)
    temp_budget: int = 0        # bytes of temporary space shared by running items (0 = no check)


# error_kind of a record that says nothing about its dump: the cluster could not
# run the task (a lost worker, a worker without triage or with other rules).
# The session stores such a row so that the next run analyses the dump again.
CLUSTER_FAILURES = frozenset({"dask", "worker-mismatch"})


def error_record(message: str, kind: str = "error") -> Dict[str, Any]:
    return {"status": "error", "error": message, "error_kind": kind}


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):   # pragma: no cover - not Linux
        pass


def address_space() -> int:
    """This process's address-space size in bytes (what RLIMIT_AS counts), 0 if unknown."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read(64).split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _child(conn: Connection, fn: WorkFn, payload: Any, mem_bytes: int) -> None:
    _die_with_parent()
    faulthandler.disable()      # a crashing dump is a result, not a traceback on stderr
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    own = address_space() if mem_bytes > 0 else 0
    if mem_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
    try:
        if own >= mem_bytes > 0:
            # the fork already spans more than the limit (a Dask worker's threads and heap), so it
            # could not grow at all: whether an analysis then passed would depend on the free
            # space left in the inherited heap, not on the dump; say so for every dump instead
            rec = error_record(f"memory limit ({mem_bytes >> 20} MiB address space) is below the analysing "
                               f"process's own size ({own >> 20} MiB)", "memory")
        else:
            rec = fn(payload)
    except MemoryError:
        rec = error_record(f"memory limit exceeded ({mem_bytes >> 20} MiB address space)", "memory")
    except TriageError as exc:
        rec = error_record(str(exc), type(exc).__name__)
    except Exception as exc:  # noqa: BLE001 - one bad dump must not stop the batch
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else ""
        rec = error_record(f"internal error: {type(exc).__name__}: {exc}{where}", "internal")
    try:
        conn.send(rec)
        conn.close()
    finally:
        os._exit(0)     # skip the parent's atexit handlers and buffered output


class _Forked:
    """One forked child running `target(*args)`; the parent's handle on it."""

    def __init__(self, target: Callable[..., None], args: tuple):
        self.exitcode: Optional[int] = None
        # Ctrl-C is held back across fork: delivered inside the interpreter's
        # at-fork handlers (logging registers one) its KeyboardInterrupt is
        # printed as "Exception ignored" and lost, and the batch runs on.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.pid = os.fork()
        except BaseException:   # no child (EAGAIN, ENOMEM): Ctrl-C must not stay blocked
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            raise
        if self.pid == 0:       # the child: never returns into the parent's code
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C is the parent's to handle
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                target(*args)
            finally:
                os._exit(1)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)   # a held Ctrl-C arrives here, in plain code
        try:
            # readable when the child exits (Linux 5.3+); else the pipe's EOF tells
            self.sentinel: Optional[int] = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            self.sentinel = None

    def poll(self) -> Optional[int]:
        """The exit code (negative: killed by that signal) once the child is reaped."""
        if self.exitcode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = self.pid, 0
            if pid:
                self.exitcode = os.waitstatus_to_exitcode(status)
                if self.sentinel is not None:
                    os.close(self.sentinel)
                    self.sentinel = None
        return self.exitcode

    def join(self, timeout: float) -> None:
        """Reap the child, waiting at most `timeout` seconds. With a pidfd the wait
        sleeps until the child exits (a child that just sent its result exits within
        microseconds); without one (old kernels) it polls."""
        end = time.monotonic() + timeout
        while self.poll() is None:
            left = end - time.monotonic()
            if left <= 0:
                return
            if self.sentinel is not None:
                wait([self.sentinel], left)
            else:
                time.sleep(min(0.005, left))

    def kill(self) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@dataclass
class _Running:
    key: Any
    proc: _Forked
    conn: Connection
    deadline: float
    started: float
    temp: int


def run(tasks: Iterable[Tuple[Any, Any, int, int]], fn: WorkFn, limits: Limits,
        on_kill: Optional[Callable[[Any], None]] = None) -> Iterator[Tuple[Any, Dict[str, Any]]]:
    """Yield (key, record) as each task finishes, in completion order.

    `tasks` are (key, payload, file_bytes, temp_bytes): file_bytes feeds the
    automatic memory limit, temp_bytes the shared temporary-space budget.
    They are taken from `tasks` (a list or any iterator) as workers free up,
    at most a few dozen ahead: a task too big for the temporary-space budget
    left lets the next ones in that window start first. `on_kill(key)` runs in
    the parent after a worker was killed or died, to clean what it left behind.
    """
    source = iter(tasks)
    ahead = max(LOOKAHEAD, 4 * max(1, limits.jobs))
    queue: Deque[Tuple[Any, Any, int, int]] = collections.deque()   # popped from the front: O(1)

    def refill() -> None:
        while len(queue) < ahead:
            task = next(source, None)
            if task is None:
                return
            queue.append(task)
    refill()
    running: List[_Running] = []
    temp_used = 0
    interrupted = _CtrlC()
    try:
        while queue or running:
            interrupted.check()
            # Start what fits. An item larger than the whole budget runs alone.
            i = 0
            while len(running) < max(1, limits.jobs) and i < len(queue):
                key, payload, file_bytes, temp_bytes = queue[i]
                if limits.temp_budget and temp_bytes and running and temp_used + temp_bytes > limits.temp_budget:
                    i += 1
                    continue
                del queue[i]
                refill()
                mem = limits.memory_mb << 20 if limits.memory_mb else (2048 << 20) + file_bytes
                parent_end, child_end = multiprocessing.Pipe(duplex=False)
                try:
                    proc = _Forked(_child, (child_end, fn, payload, mem))
                finally:
                    child_end.close()
                now = time.monotonic()
                running.append(_Running(key, proc, parent_end, now + limits.timeout_s, now, temp_bytes))
                temp_used += temp_bytes
            if not running:
                continue
            timeout = max(0.0, min(r.deadline for r in running) - time.monotonic())
            ready = wait([r.conn for r in running] + [r.proc.sentinel for r in running
                                                      if r.proc.sentinel is not None], timeout)
            now = time.monotonic()
            for r in list(running):
                rec: Optional[Dict[str, Any]] = None
                if r.conn in ready or (r.proc.sentinel is not None and r.proc.sentinel in ready):
                    try:
                        if r.conn.poll():
                            rec = r.conn.recv()
                    except (EOFError, OSError):
                        rec = None
                    if rec is None:
                        r.proc.join(5)
                        code = r.proc.exitcode
                        if code is None:
                            continue            # readable but not finished: wait more
                        rec = error_record(_death(code), "crash")
                        if on_kill:
                            on_kill(r.key)
                elif now >= r.deadline:
                    r.proc.kill()
                    rec = error_record(f"timed out after {limits.timeout_s:g} s", "timeout")
                    if on_kill:
                        r.proc.join(5)
                        on_kill(r.key)
                else:
                    continue
                r.proc.join(5)
                r.conn.close()
                running.remove(r)
                temp_used -= r.temp
                rec.setdefault("duration_s", round(now - r.started, 3))
                yield r.key, rec
    finally:
        interrupted.restore()
        for r in running:
            r.proc.kill()
            r.proc.join(5)


class _CtrlC:
    """Remember a Ctrl-C as well as raising it: Python drops a KeyboardInterrupt
    raised inside a destructor or callback ("Exception ignored"), and the loop
    must still stop at its next turn."""

    def __init__(self) -> None:
        self.seen = False
        self._prev: Any = None
        try:
            self._prev = signal.signal(signal.SIGINT, self._handle)
        except ValueError:      # not the main thread: the caller's handling stands
            self._prev = None

    def _handle(self, signum: int, frame: Any) -> None:
        self.seen = True
        raise KeyboardInterrupt

    def check(self) -> None:
        if self.seen:
            raise KeyboardInterrupt

    def restore(self) -> None:
        if self._prev is not None:
            signal.signal(signal.SIGINT, self._prev)
            self._prev = None


def _death(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"worker crashed ({name})"
    return f"worker exited with status {code} before reporting a result"
