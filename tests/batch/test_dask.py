"""`triage batch --scheduler tcp://...` on a REAL Dask cluster started with the `dask` CLI.

One `dask scheduler` and two `dask worker --nthreads 1` processes on 127.0.0.1,
torn down at the end. Oracle: a plain local `triage batch` over the same tree
(real dumps of different crashes and formats, real logs, one garbage vmcore):
the rows (path, status, category, title) must be identical, each entry must
name the worker that analysed it, and both workers must have done work.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _dumps import finished_dumps, interrupt_after_first_result, rhel_tree  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TRIAGE = [sys.executable, "-m", "triage"]
distributed = pytest.importorskip("distributed", reason="Dask distributed not installed: pip install 'triage[distributed]'")
DASK = shutil.which("dask") or (str(Path(sys.executable).parent / "dask")
                               if (Path(sys.executable).parent / "dask").exists() else None)
if DASK is None:
    pytest.skip("the dask command line is not installed", allow_module_level=True)


def build_tree(root: Path) -> int:
    n = 0
    for i, dump in enumerate(finished_dumps()[:6]):
        d = root / f"host{i}" / f"127.0.0.1-2026-11-{10 + i}-10:00:00"
        d.mkdir(parents=True)
        (d / "vmcore").symlink_to(dump)
        n += 1
    serials = sorted({p.parent / "serial.log" for p in finished_dumps()[:6]} - {None})
    for i, serial in enumerate(s for s in serials if s.is_file()):
        d = root / f"node{i}" / f"2026112{i % 10}0900"
        d.mkdir(parents=True)
        (d / f"dmesg.2026112{i % 10}0900").write_bytes(serial.read_bytes())
        n += 1
    bad = root / "bad" / "127.0.0.1-2026-11-30-10:00:00"
    bad.mkdir(parents=True)
    (bad / "vmcore").write_bytes(b"\x7fELF" + os.urandom(5000))
    return n + 1


def _wait_for(path: Path, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert path.exists(), log.read_text()


@contextlib.contextmanager
def dask_cluster(tmp: Path, workers):
    """`dask scheduler` plus one `dask worker --nthreads 1` per entry of `workers`
    ((environment, working directory) each), on 127.0.0.1; yields (address, worker
    addresses) and tears everything down.

    The scheduler gets no PYTHONPATH and runs in `tmp`: unless triage is installed
    in site-packages it cannot import triage, as on a cluster someone else runs;
    the tasks it is given must not need it."""
    base = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    sched_file = tmp / "scheduler.json"
    procs = []
    try:
        procs.append(subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                       "--scheduler-file", str(sched_file)], env=base, cwd=tmp,
                                      stdout=subprocess.DEVNULL, stderr=open(tmp / "scheduler.log", "w")))
        _wait_for(sched_file, tmp / "scheduler.log")
        for i, (env, cwd) in enumerate(workers):
            procs.append(subprocess.Popen([DASK, "worker", "--scheduler-file", str(sched_file), "--nthreads", "1",
                                           "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{i}",
                                           "--local-directory", str(tmp / f"w{i}")], env=dict(base, **env),
                                          cwd=cwd, stdout=subprocess.DEVNULL,
                                          stderr=open(tmp / f"worker{i}.log", "w")))
        address = json.loads(sched_file.read_text())["address"]
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(len(workers), timeout=180)
            addresses = sorted(client.scheduler_info()["workers"])
        yield address, addresses
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dask")
    # two workers that find triage by different paths from different directories
    # (a worker's import path and cwd must not matter); daemonic (the default, said
    # explicitly): multiprocessing cannot start children there, the runner forks
    other = tmp / "elsewhere"
    other.mkdir()
    (other / "src").symlink_to(ROOT)
    daemon = {"DASK_DISTRIBUTED__WORKER__DAEMON": "True"}
    with dask_cluster(tmp, [(dict(daemon, PYTHONPATH=str(ROOT)), tmp),
                            (dict(daemon, PYTHONPATH=str(other / "src")), other)]) as (address, workers):
        yield address, workers, tmp


def rows(doc):
    return sorted((d["id"], d["status"], (d["verdict"] or {}).get("category"), (d["verdict"] or {}).get("title"))
                  for d in doc["dumps"])


@pytest.mark.slow
def test_dask_cluster_gives_the_rows_of_a_local_run(cluster, tmp_path):
    address, workers, _ = cluster
    assert len(workers) == 2
    n = build_tree(tmp_path / "crash")
    local = subprocess.run(TRIAGE + ["batch", str(tmp_path / "crash"), "-o", str(tmp_path / "local"),
                                     "--format", "json", "--no-progress"], capture_output=True, text=True,
                           timeout=900)
    assert local.returncode == 9, local.stderr          # the garbage vmcore is an error row
    dask = subprocess.run(TRIAGE + ["batch", str(tmp_path / "crash"), "-o", str(tmp_path / "dask"),
                                    "--scheduler", address, "--format", "json", "--no-progress"],
                          capture_output=True, text=True, timeout=900)
    assert dask.returncode == 9, dask.stderr
    a, b = json.loads(local.stdout), json.loads(dask.stdout)
    assert len(a["dumps"]) == n
    assert rows(a) == rows(b)
    # every entry analysed now names the worker that did it; both did some
    analysed = [d for d in b["dumps"] if d.get("same_crash_as") is None]
    assert all(d["worker"] in workers for d in analysed), [d["worker"] for d in analysed]
    assert {d["worker"] for d in analysed} == set(workers)
    assert all(d["worker"] is None for d in a["dumps"])
    # reports written by the client from what the workers rendered, as a local run writes them
    for d in b["dumps"]:
        if d["status"] != "error":
            rep = tmp_path / "dask" / d["report"] / "report.json"
            assert json.loads(rep.read_text())["verdict"] == d["verdict"]
    # the store works as before: a re-run on the cluster analyses nothing
    again = subprocess.run(TRIAGE + ["batch", str(tmp_path / "crash"), "-o", str(tmp_path / "dask"),
                                     "--scheduler", address, "--format", "json", "--no-progress"],
                           capture_output=True, text=True, timeout=900)
    assert json.loads(again.stdout)["stats"]["analysed_now"] == 0


@pytest.mark.slow
def test_the_per_dump_limits_hold_on_the_workers(cluster, tmp_path):
    """--memory-limit applies to the fork each task makes on its Dask worker: with a
    1 MiB address space every analysis fails there, as in a local run, each row says
    so and names its worker, and the workers live on (a second batch on the same
    cluster analyses normally)."""
    address, workers, _ = cluster
    root = tmp_path / "crash"
    dumps = finished_dumps()[:3]
    rhel_tree(root, dumps)
    argv = TRIAGE + ["batch", str(root), "--format", "json", "--no-progress", "--memory-limit", "1"]
    local = subprocess.run(argv + ["-o", str(tmp_path / "local")], capture_output=True, text=True, timeout=600)
    r = subprocess.run(argv + ["-o", str(tmp_path / "dask"), "--scheduler", address], capture_output=True,
                       text=True, timeout=600)
    assert local.returncode == r.returncode == 9, (local.stderr, r.stderr)
    doc = json.loads(r.stdout)
    assert len(doc["dumps"]) == len(dumps)
    for d in doc["dumps"] + json.loads(local.stdout)["dumps"]:
        # MemoryError, or ENOMEM mapping the dump ("Cannot allocate memory"), or a crash
        assert d["status"] == "error" and (d["error_kind"] == "crash" or "memory" in d["error"].lower()), d
    assert all(d["worker"] in workers for d in doc["dumps"])
    again = subprocess.run(TRIAGE + ["batch", str(root), "--format", "json", "--no-progress", "-o",
                                     str(tmp_path / "dask2"), "--scheduler", address],
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert {d["worker"] for d in json.loads(again.stdout)["dumps"]} <= set(workers)


def test_unreachable_scheduler_is_one_line(tmp_path):
    (tmp_path / "crash").mkdir()
    (tmp_path / "crash" / "dmesg.txt").write_text("[    0.000000] Linux version 6.1.0\n")
    r = subprocess.run(TRIAGE + ["batch", str(tmp_path / "crash"), "-o", str(tmp_path / "o"),
                                 "--scheduler", "tcp://127.0.0.1:9", "--no-progress"],
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="3s"))
    assert r.returncode == 3 and "Traceback" not in r.stderr
    assert "cannot reach the Dask scheduler" in r.stderr
    assert not (tmp_path / "o").exists()        # said before discovery, which may take long on an archive


@pytest.mark.parametrize("address, says", [
    ("bogus", "not a Dask scheduler address"),                  # Dask: a minute, then a traceback
    ("tcp://127.0.0.1:99999", "port 1-65535"),
    ("tls://127.0.0.1:8786", "needs Dask's TLS settings"),      # Dask: TypeError about ssl_context
])
def test_unusable_scheduler_address_is_one_line_before_any_work(tmp_path, address, says):
    (tmp_path / "crash").mkdir()
    (tmp_path / "crash" / "dmesg.txt").write_text("[    0.000000] Linux version 6.1.0\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_DISTRIBUTED__COMM__TLS")}
    r = subprocess.run(TRIAGE + ["batch", str(tmp_path / "crash"), "-o", str(tmp_path / "o"),
                                 "--scheduler", address, "--no-progress"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 3 and says in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    assert not (tmp_path / "o").exists()            # refused before discovery and the store
    empty = subprocess.run(TRIAGE + ["batch", str(tmp_path / "crash"), "--scheduler", " "],
                           capture_output=True, text=True, timeout=120)
    assert empty.returncode == 2 and "needs an address" in empty.stderr


@pytest.mark.slow
def test_local_cluster_option(tmp_path):
    """--scheduler local:N starts (and stops) a LocalCluster of N worker processes."""
    root = tmp_path / "crash"
    dumps = finished_dumps()[:2]
    rhel_tree(root, dumps)
    r = subprocess.run(TRIAGE + ["batch", str(root), "-o", str(tmp_path / "o"), "--scheduler", "local:2",
                                 "--format", "json", "--no-progress"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert len(doc["dumps"]) == len(dumps)
    assert all(d["status"] in ("ok", "partial") and d["worker"].startswith("tcp://127.0.0.1:") for d in doc["dumps"])
    bad = subprocess.run(TRIAGE + ["batch", str(root), "-o", str(tmp_path / "o2"), "--scheduler", "local:0"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 3 and "local:N needs N >= 1" in bad.stderr


@pytest.mark.slow
def test_ctrl_c_on_dask_stops_and_resumes(tmp_path):
    """SIGINT while tasks run on a LocalCluster: the finished results are stored, the
    message says what is left, the cluster goes away, a re-run finishes the rest."""
    root = tmp_path / "crash"
    dumps = finished_dumps()[:8]
    rhel_tree(root, dumps)
    # A fresh checkout holds only the two committed dumps: both could finish before the
    # SIGINT sent after the first lands (exit 0, seen on a loaded machine). Distinct text
    # logs make sure work is left when it does.
    log = (Path(__file__).resolve().parents[1] / "data" / "analyze" / "gpu_alloc_null.serial.log").read_bytes()
    pad = max(0, 12 - len(dumps))
    for i in range(pad):
        d = root / f"node{i:02d}" / "202611200900"
        d.mkdir(parents=True)
        (d / "dmesg.202611200900").write_bytes(log + f"[99999.000000] copy {i}\n".encode())
    code, err = interrupt_after_first_result(
        TRIAGE + ["batch", str(root), "-o", str(tmp_path / "o"), "--scheduler", "local:1", "--format", "json"],
        skip_other_lines=True)                          # Dask's own start-up warnings, if any
    assert code == 130 and "Traceback" not in err, err
    [line] = [ln for ln in err.splitlines() if "run again to resume" in ln]
    left = int(line.split(", ")[1].split()[0])
    r = subprocess.run(TRIAGE + ["batch", str(root), "-o", str(tmp_path / "o"), "--format", "json",
                                 "--no-progress"], capture_output=True, text=True, timeout=600)
    doc = json.loads(r.stdout)
    assert doc["stats"]["analysed_now"] == left and len(doc["dumps"]) == len(dumps) + pad


@pytest.mark.slow
def test_a_task_the_cluster_could_not_run_is_analysed_again_next_run(tmp_path):
    """A worker that cannot import triage (here a `triage` package on its path that
    fails to import: a broken or missing install) runs no task. Each dump is an
    error row that says so, in one line; the row is not the dump's result, so a
    re-run on a healthy worker analyses every dump again (without --retry-errors)."""
    root = tmp_path / "crash"
    dumps = finished_dumps()[:2]
    rhel_tree(root, dumps)
    shadow = tmp_path / "shadow" / "triage"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('this triage install is broken')\n")
    argv = TRIAGE + ["batch", str(root), "-o", str(tmp_path / "o"), "--format", "json", "--no-progress"]
    (tmp_path / "c1").mkdir()
    with dask_cluster(tmp_path / "c1", [({"PYTHONPATH": str(shadow.parent)}, tmp_path)]) as (address, _):
        r = subprocess.run(argv + ["--scheduler", address], capture_output=True, text=True, timeout=600)
    assert r.returncode == 9, r.stderr
    doc = json.loads(r.stdout)
    assert len(doc["dumps"]) == len(dumps)
    for d in doc["dumps"]:
        assert d["status"] == "error" and "cannot import triage" in d["error"] and "\n" not in d["error"]
    (tmp_path / "c2").mkdir()
    with dask_cluster(tmp_path / "c2", [({"PYTHONPATH": str(ROOT)}, tmp_path)]) as (address, [worker]):
        r = subprocess.run(argv + ["--scheduler", address], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["stats"]["analysed_now"] == len(dumps)
    assert all(d["status"] in ("ok", "partial") and d["worker"] == worker for d in doc["dumps"])


def test_tasks_are_read_only_as_far_as_the_window_needs():
    """DaskPool.run reads the plan's task iterator lazily (it is the batch's spool on disk):
    when the first result comes back, at most the in-flight window (2 per worker thread, at
    least 4) plus one look-ahead task has been read, not all 50."""
    from triage.batch import runner
    from triage.batch.dask_exec import DaskPool
    read = []

    def tasks():
        for i in range(50):
            read.append(i)
            yield (f"k{i}", None, 0, 0)     # no item: each task ends as an error record on the worker

    with DaskPool("local:1") as pool:
        results = pool.run(tasks(), 1 << 20, None, runner.Limits(), (), "key")
        first = next(results)
        assert first[0] == "k0" and len(read) <= 5, len(read)
        rest = list(results)
    assert len(rest) == 49 and len(read) == 50
