"""The SQL fleet views (triage.batch.fleetdb) equal the in-memory ones (triage.batch.fleet).

Oracle: triage.batch.fleet, the plain Python grouping over a list of records
(checked by hand in test_fleet.py), run on the same random records: every view,
row for row, and the summary, must be equal, including the order of rows and of
the lists inside them, with ties, empty and missing fields, non-ASCII and
undecodable (surrogate) strings, whose order SQLite must not change.
"""

import json
import random

import pytest

from triage.batch import fleet
from triage.batch.fleetdb import FleetDB, fleet_of

HOSTS = ["web1", "web2", "db1", "", "Ünïcode", "h\udcff", "h\ud7ff", "h\ue000", "a", "B"]
TITLES = ["BUG: x", "BUG: y", "Oops \u00e9", "t\udc80", None, "", "zz"]
KERNELS = ["6.1.0-57-amd64", "5.10.0", "", None, "6.1.0-58-amd64"]
TIMES = ["2026-11-20T10:00:00+00:00", "2026-11-21T09:00:00+00:00", "2026-11-20T08:00:00+00:00", None, ""]


def random_record(rnd: random.Random, i: int) -> dict:
    status = rnd.choice(["ok", "ok", "partial", "error"])
    verdict = None
    if status != "error" and rnd.random() < 0.9:
        culprit = rnd.choice([None, {}, {"module": "acme", "version": "1.2", "taint": "OE"},
                              {"module": "acme", "version": None, "taint": ["P", "O"]},
                              {"module": "nvidia", "version": "550.1", "taint": None},
                              {"module": None, "version": "1"}])
        verdict = {"title": rnd.choice(TITLES), "category": rnd.choice(["null_deref", "oom_panic", None, ""]),
                   "culprit": culprit}
    rec = {"id": f"/d/{i}", "host": rnd.choice(HOSTS), "status": status, "verdict": verdict,
           "kernel_release": rnd.choice(KERNELS), "crash_time": rnd.choice(TIMES),
           "uptime_s": rnd.choice([None, 30, 42.25, 599.99, 600, 86400.0, True]),
           "error": "bad" if status == "error" else None}
    if status == "error" and rnd.random() < 0.2:
        rec["host"] = None
    if rnd.random() < 0.3:
        rec["dump_facts"] = {"read": rnd.random() < 0.7,
                             "memory": rnd.choice(["exhausted", "tight", "ample", None, "odd"]),
                             "memory_exhaustion": rnd.choice(["supported", "refuted", None])}
    # as the store gives it: through JSON
    return json.loads(json.dumps(rec))


@pytest.mark.parametrize("seed,n", [(1, 0), (2, 1), (3, 7), (4, 60), (5, 400), (6, 2000)])
def test_sql_views_equal_the_python_views(seed, n):
    rnd = random.Random(seed)
    records = [random_record(rnd, i) for i in range(n)]
    want = fleet.fleet(records)
    got = fleet_of(records)
    assert list(got) == list(want)
    for key in want:
        assert got[key] == want[key], key
    # byte for byte as batch.json writes them (key order, int vs float)
    assert json.dumps(got, indent=2) == json.dumps(want, indent=2)


def test_scratch_file_is_gone_and_rows_read_again(tmp_path):
    """The scratch database is unlinked at once (a killed run leaves nothing) and
    its views and records can be read any number of times."""
    rnd = random.Random(9)
    records = [random_record(rnd, i) for i in range(300)]
    path = tmp_path / "scratch.sqlite"
    fdb = FleetDB(str(path))
    try:
        assert not path.exists()
        for r in records:
            fdb.add(r)
        views = fdb.finish()
        assert list(tmp_path.iterdir()) == []
        for _ in range(2):
            assert list(fdb.records()) == records
            assert views["errors"] == fleet.errors(records)
        assert len(views["by_host"]) == len(fleet.by_host(records))
        assert views["by_host"][0] == fleet.by_host(records)[0]
        assert views["by_host"][-1] == fleet.by_host(records)[-1]
    finally:
        fdb.close()


def test_rows_index_and_slice_like_a_list():
    """Rows stand in for the lists the views were (html takes rows[:10])."""
    fdb = FleetDB()
    try:
        for i in range(7):
            fdb.add({"id": f"/d/{i}", "host": f"h{i}", "status": "error", "error": "x"})
        rows = fdb.finish()["errors"]
        want = list(rows)
        for s in (slice(None, 3), slice(None, 0), slice(None, -1), slice(2, 5), slice(None, None, 2),
                  slice(None, 99)):
            assert rows[s] == want[s], s
        assert rows[-1] == want[-1] and rows[0] == want[0] and len(rows) == 7
        with pytest.raises(IndexError):
            rows[7]
    finally:
        fdb.close()
