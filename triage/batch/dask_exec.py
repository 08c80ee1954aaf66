"""Run a batch's dumps as Dask tasks: one dump, one task, on any worker of a cluster.

`triage batch --scheduler tcp://HOST:PORT` (or `local:N` for a LocalCluster).
On the worker, each task goes through the same isolated, limited runner as a
local batch (triage.batch.runner: a forked process with RLIMIT_AS, a wall-clock
limit, crash isolation), so one bad dump kills only its own fork, never the
Dask worker. The worker reads the dump at the path the client discovered, so
the dumps must be on a filesystem every worker mounts at the same path; the
rendered reports travel back in the result and the client writes them, so the
output directory needs to exist only where the client runs. The client stays
the single writer of the SQLite store.

`distributed` is an optional dependency (`pip install 'triage[distributed]'`,
Python >= 3.10); it is imported only here.
"""

import logging
import pickle
import shutil
import tempfile
import itertools
import time
import uuid
from dataclasses import replace
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from triage.batch import runner
from triage.batch.work import (WorkContext, analysis_key, analyze_item, current_rules, item_tempdir, use_rules,
                               warm)
from triage.errors import InputError

# What a worker process has loaded: (signature dirs, facts) -> (analysis key, ruleset).
# Warming once per worker process (rules, parsers, and drgn with its helpers when
# facts are read) is what keeps a task as cheap as a local fork; a worker process
# is ours alone, so this cache is its state by design.
_WARM: Dict[Tuple[Tuple[str, ...], bool], Tuple[str, Any]] = {}


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise InputError("--scheduler needs Dask distributed: pip install 'triage[distributed]' "
                         "(Python 3.10 or later)") from None
    return distributed


class _Call:
    """remote_task(*args), pickled so that unpickling it runs it.

    The task Dask sees is `pickle.loads(<bytes>)`: the scheduler, which
    deserialises every task it is given, needs nothing but the standard library
    (a cluster someone else runs need not have triage installed on its
    scheduler); only the worker that runs the task imports triage."""

    def __init__(self, *args: Any):
        self.args = args

    def __reduce__(self):
        return remote_task, self.args


def cluster_failure(exc: BaseException) -> Dict[str, Any]:
    """The error record of a task the cluster could not run (one line)."""
    if isinstance(exc, ImportError):
        msg = (f"a Dask worker cannot import triage ({exc}): install the same triage on every worker "
               "(docs/batch.md)")
    else:
        msg = f"Dask task failed: {type(exc).__name__}: {exc}"
    return runner.error_record(" ".join(msg.split()), "dask")


def remote_task(item: Any, temp_limit: int, analyze: Any, limits: runner.Limits, file_bytes: int,
                temp_bytes: int, signature_dirs: Tuple[str, ...], want_key: str,
                redact_key: Optional[bytes] = None, facts: bool = False) -> Dict[str, Any]:
    """Run on a Dask worker: analyse one item in an isolated fork, return its record."""
    from distributed import get_worker
    address = get_worker().address
    if (signature_dirs, facts) not in _WARM:
        # with facts, drgn is imported here once, not in every task's fork
        warm(signature_dirs, facts=facts)
        _WARM[(signature_dirs, facts)] = (analysis_key(signature_dirs), current_rules())
    key, rules = _WARM[(signature_dirs, facts)]
    use_rules(rules)
    if key != want_key:
        # Another triage release or other rules on this worker: its verdict would
        # be stored under the client's change key and never be redone.
        rec = runner.error_record(f"worker {address} runs another triage version or other signature "
                                  f"rules (analysis key {key}, client {want_key})", "worker-mismatch")
        rec["worker"] = address
        return rec
    tmp = tempfile.mkdtemp(prefix="triage-dask-")
    ctx = WorkContext(outdir=tmp, tempdir=tmp, temp_limit=temp_limit, analyze=analyze,
                      reports=False, inline_reports=True, redact_key=redact_key)
    try:
        def work(it: Any) -> Dict[str, Any]:
            return analyze_item(it, ctx)

        def cleanup(_key: Any) -> None:
            shutil.rmtree(item_tempdir(ctx, item), ignore_errors=True)

        rec: Optional[Dict[str, Any]] = None
        for _, rec in runner.run([(item.id, item, file_bytes, temp_bytes)], work, replace(limits, jobs=1),
                                 on_kill=cleanup):
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert rec is not None
    rec["worker"] = address
    return rec


def check_scheduler(scheduler: str) -> int:
    """Check a --scheduler value before any work (a typo must not wait for the end
    of a long discovery): N of local:N, else 0 for a usable scheduler address."""
    _import_distributed()
    if scheduler.startswith("local:"):
        try:
            n = int(scheduler[len("local:"):])
        except ValueError:
            n = 0
        if n < 1:
            raise InputError(f"--scheduler {scheduler}: local:N needs N >= 1 workers")
        return n
    check_address(scheduler)
    return 0


def check_address(address: str) -> None:
    """Refuse, in one line, a scheduler address Dask could not use (Dask itself takes
    a minute and prints tracebacks for `bogus` or for tls:// without TLS settings)."""
    from distributed.comm.addressing import parse_address, parse_host_port
    try:
        scheme, loc = parse_address(address)
        host, port = parse_host_port(loc) if scheme in ("tcp", "tls", "ws", "wss") else (loc, 1)
    except ValueError as exc:
        raise InputError(f"not a Dask scheduler address ({exc}): expected tcp://HOST:PORT or local:N",
                         path=address) from None
    if not host or not 0 < port < 65536:
        raise InputError("not a Dask scheduler address: expected tcp://HOST:PORT (port 1-65535) or local:N",
                         path=address)
    if scheme in ("tls", "wss"):
        from distributed.security import Security
        if Security().get_connection_args("client").get("ssl_context") is None:
            raise InputError(f"{scheme}:// needs Dask's TLS settings (distributed.comm.tls.ca-file and "
                             "distributed.comm.tls.client.cert/key, or DASK_DISTRIBUTED__COMM__TLS__* "
                             "variables)", path=address)


class DaskPool:
    """A connection to a Dask scheduler (or a LocalCluster it started), closed on exit."""

    def __init__(self, scheduler: str):
        distributed = _import_distributed()
        self.cluster = None
        n = check_scheduler(scheduler)
        if n:
            # its workers' log lines (a cancelled task on Ctrl-C, ...) are not the user's business
            self.cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                    dashboard_address=None, silence_logs=logging.ERROR)
            address: Any = self.cluster
        else:
            address = scheduler
        try:
            # the timeout is Dask's connect timeout (30 s unless configured: DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT)
            self.client = distributed.Client(address, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            if self.cluster is not None:
                self.cluster.close()
            raise InputError(f"cannot reach the Dask scheduler: {exc}", path=scheduler) from None
        except (ValueError, TypeError) as exc:      # an address or configuration Dask cannot use
            if self.cluster is not None:
                self.cluster.close()
            raise InputError(f"cannot use the Dask scheduler: {type(exc).__name__}: {exc}",
                             path=scheduler) from None

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()

    def __enter__(self) -> "DaskPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, tasks: Iterable[Tuple[Any, Any, int, int]], temp_limit: int, analyze: Any,
            limits: runner.Limits, signature_dirs: Tuple[str, ...],
            want_key: str, redact_key: Optional[bytes] = None,
            facts: bool = False) -> Iterator[Tuple[Any, Dict[str, Any]]]:
        """Yield (key, record) as tasks finish. At most two tasks per worker thread are
        in flight, so a million-dump archive is not one million futures at once; the
        count follows the workers that join or leave while the batch runs. `tasks` is read
        only as far as the window needs, so the plan stays in its spool, not in memory."""
        distributed = _import_distributed()
        import cloudpickle      # a dependency of distributed: pickles a test's local analyse function too
        window = [0, 0.0]       # tasks allowed in flight, when last asked

        def allowed() -> int:
            # asked at most every 2 s: it is a round trip to the scheduler
            if time.monotonic() - window[1] >= 2.0:
                window[:] = [max(4, 2 * sum(self.client.nthreads().values())), time.monotonic()]
            return int(window[0])

        queue = iter(tasks)
        ahead: List[Tuple[Any, Any, int, int]] = []     # the next task, read but not yet submitted

        def more() -> bool:
            if not ahead:
                ahead.extend(itertools.islice(queue, 1))
            return bool(ahead)
        keys: Dict[Any, Any] = {}
        pending: Dict[Any, Any] = {}
        # our client is not the process-wide default: give as_completed its loop
        done = distributed.as_completed(loop=self.client.loop)
        serial = [0]
        run_id = uuid.uuid4().hex      # task keys unique among every client of a shared scheduler

        # retries=0: the runner already turns every failure of an analysis into a
        # record; a worker lost mid-task is rescheduled by Dask up to its
        # allowed-failures, then comes back here as KilledWorker (an error row).
        def submit() -> None:
            key, item, file_bytes, temp_bytes = ahead.pop()
            call = cloudpickle.dumps(_Call(item, temp_limit, analyze, limits, file_bytes, temp_bytes,
                                           signature_dirs, want_key, redact_key, facts))
            fut = self.client.submit(pickle.loads, call, pure=False, retries=0,
                                     key=f"triage-{run_id}-{serial[0]}")
            serial[0] += 1
            keys[fut.key] = key
            pending[fut.key] = fut
            done.add(fut)

        try:
            while len(pending) < allowed() and more():
                submit()
            for fut in done:
                key = keys.pop(fut.key)
                pending.pop(fut.key, None)
                try:
                    rec = fut.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker or a task Dask could not run
                    rec = cluster_failure(exc)
                fut.release()
                while len(pending) < allowed() and more():   # workers may have joined
                    submit()
                yield key, rec
        finally:
            for f in pending.values():      # Ctrl-C or an error: leave nothing running
                f.cancel()
