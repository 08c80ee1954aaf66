"""Fleet views over records: grouping by title, host, kernel, culprit; early-boot clusters.

Oracle: hand-built records whose groupings are counted by hand below.
"""

from triage.batch import fleet


def rec(i, host, title, cat="null_deref", mod="acme", ver="1.2", up=30.0, t="2026-11-20T10:00:00+00:00",
        status="ok", kernel="6.1.0-57-amd64"):
    v = None if status == "error" else {"title": title, "category": cat,
                                         "culprit": {"module": mod, "version": ver, "taint": "OE"}}
    return {"id": f"d{i}", "host": host, "status": status, "verdict": v, "uptime_s": up,
            "crash_time": t, "kernel_release": kernel, "error": "bad" if status == "error" else None}


RECORDS = [
    rec(1, "web1", "BUG: kernel NULL pointer dereference in acme_start", up=42, t="2026-11-20T10:00:00+00:00"),
    rec(2, "web2", "BUG: kernel NULL pointer dereference in acme_start", up=55, t="2026-11-21T10:00:00+00:00"),
    rec(3, "web3", "BUG: kernel NULL pointer dereference in acme_start", up=61, t="2026-11-22T10:00:00+00:00"),
    rec(4, "db1", "kernel panic: Out of memory", cat="oom_panic", mod=None, ver=None, up=86400,
        kernel="6.1.0-58-amd64"),
    rec(5, "db1", "kernel panic: Out of memory", cat="oom_panic", mod=None, ver=None, up=90000,
        t="2026-11-25T10:00:00+00:00", kernel="6.1.0-58-amd64"),
    rec(6, "web1", None, status="error"),
]


def test_by_title_groups_the_same_bug_across_hosts():
    rows = fleet.by_title(RECORDS)
    assert [(r["title"], r["dumps"], r["hosts"]) for r in rows] == [
        ("BUG: kernel NULL pointer dereference in acme_start", 3, 3),
        ("kernel panic: Out of memory", 2, 1)]
    assert rows[0]["first_seen"].startswith("2026-11-20") and rows[0]["last_seen"].startswith("2026-11-22")
    assert rows[0]["early_boot"] == 3


def test_early_boot_cluster_and_repeat_hosts():
    [row] = fleet.early_boot(RECORDS)
    assert row["cluster"] and row["dumps"] == 3 and row["min_uptime_s"] == 42
    rep = {r["host"]: r for r in fleet.repeat_hosts(RECORDS)}
    assert set(rep) == {"db1", "web1"}
    assert rep["db1"]["same_bug"] and not rep["web1"]["same_bug"]


def test_by_kernel_culprit_and_errors():
    k = {r["kernel_release"]: r["dumps"] for r in fleet.by_kernel(RECORDS)}
    assert k == {"6.1.0-57-amd64": 3, "6.1.0-58-amd64": 2}
    c = {(r["module"], r["version"]): r["dumps"] for r in fleet.by_culprit(RECORDS)}
    assert c == {("acme", "1.2"): 3, ("(kernel)", None): 2}
    assert fleet.errors(RECORDS) == [{"dump": "d6", "host": "web1", "error": "bad"}]
    s = fleet.summary(RECORDS)
    assert (s["dumps"], s["ok"], s["error"], s["hosts"], s["titles"]) == (6, 5, 1, 4, 2)
    days = {(r["day"], r["category"]): r["dumps"] for r in fleet.over_time(RECORDS)}
    assert days[("2026-11-20", "oom_panic")] == 1 and days[("2026-11-20", "null_deref")] == 1
