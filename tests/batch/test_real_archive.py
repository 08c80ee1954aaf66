"""An archive built from REAL dumps and logs, triaged end to end by `triage batch`.

Mixed formats and layouts, a truncated dump, a garbage "vmcore", an empty
log, a damaged tarball, tar.gz/tar.zst archives, and the same dump placed
under several hosts. Every planted dump must come back classified or as an
error with its reason.

Oracles:
  * `triage analyze PATH --format json` run on the very same file: batch must
    report the same verdict object, and its status must follow analyze's exit
    code (0 ok, 6 partial, anything else error);
  * the generator's scenario (sample_dumps/dumpgen/scenarios.py): the crash
    each real dump was made to show, as its expected category;
  * the tree itself: which host directory each copy was planted in.
"""

import json
import os
import shlex
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realdumps import ROOT  # noqa: E402
from _dumps import finished_dumps  # noqa: E402

TRIAGE = [sys.executable, "-m", "triage"]


def pick_dumps(n=2):
    """The smallest real dumps, preferring different crash scenarios."""
    files = finished_dumps()
    chosen, scen = [], set()
    for p in files:
        s = scenario_of(p)
        if s not in scen:
            chosen.append(p)
            scen.add(s)
        if len(chosen) == n:
            return chosen
    for p in files:                      # only one scenario available: vary the format
        if p not in chosen and len(chosen) < n:
            chosen.append(p)
    return chosen


def scenario_of(p: Path):
    """Scenario name from the generator's directory name (e.g. sysrq-128M -> sysrq)."""
    from sample_dumps.dumpgen.scenarios import SCENARIOS
    for part in reversed(p.relative_to(ROOT).parts[:-1]):
        for name in sorted(SCENARIOS, key=len, reverse=True):
            if part == name or part.startswith(name + "-") or f"-{name}-" in part:
                return name
    return None


def expected_category(p: Path):
    from sample_dumps.dumpgen.scenarios import SCENARIOS
    s = scenario_of(p)
    return SCENARIOS[s].expected_category if s else None


def cli(*args, check=True, **kw):
    r = subprocess.run(TRIAGE + list(args), capture_output=True, text=True, cwd=ROOT, timeout=900, **kw)
    if check and r.returncode not in (0, 6, 9):
        raise AssertionError(f"triage {args} -> {r.returncode}: {r.stderr}")
    return r


def analyze_oracle(path):
    r = subprocess.run(TRIAGE + ["analyze", str(path), "--format", "json"], capture_output=True,
                       text=True, timeout=600)
    status = {0: "ok", 6: "partial"}.get(r.returncode, "error")
    return status, (json.loads(r.stdout) if r.stdout.strip() else None), r.stderr


def put(p: Path, data: bytes = None, link: Path = None):
    p.parent.mkdir(parents=True, exist_ok=True)
    if link is not None:
        p.symlink_to(link)
    else:
        p.write_bytes(data)
    return p


@pytest.fixture(scope="module")
def fleet_tree(tmp_path_factory):
    dumps = pick_dumps(2)
    if not dumps:
        pytest.fail("no real dumps under sample_dumps/committed or sample_dumps/out")
    a = dumps[0]
    b = dumps[1] if len(dumps) > 1 else dumps[0]
    tmp = tmp_path_factory.mktemp("fleet")
    root = tmp / "crash"
    dmesg_a = cli("dmesg", str(a)).stdout.encode()
    dmesg_b = cli("dmesg", str(b)).stdout.encode()
    plan = {}      # item id -> (file the oracle analyses, host we expect, kind)

    def plant(rel, target=None, data=None, host=None, oracle=None):
        p = put(root / rel, data=data, link=target)
        plan[str(p)] = (oracle or p, host)
        return p

    plant("web1/127.0.0.1-2026-11-20-10:00:00/vmcore", target=a, host="web1", oracle=a)
    put(root / "web1/127.0.0.1-2026-11-20-10:00:00/vmcore-dmesg.txt", dmesg_a)
    put(root / "web1/127.0.0.1-2026-11-20-10:00:00/kexec-dmesg.log", b"[    0.000000] Linux version capture\n")
    plant("web2/127.0.0.1-2026-11-21-11:00:00/vmcore", target=a, host="web2", oracle=a)
    plant("10.0.0.3-2026-11-22-12:00:00/vmcore", target=a, host="10.0.0.3", oracle=a)
    plant("web4/202611230900/dump.202611230900", target=b, host="web4", oracle=b)
    put(root / "web4/202611230900/dmesg.202611230900", dmesg_b)
    plant("db1/2026-11-24-08:00/vmcore", target=b, host="db1", oracle=b)
    put(root / "db1/2026-11-24-08:00/README.txt", b"kdump saved a vmcore\n")
    # damaged: a dump cut at 40 %, and garbage where a vmcore should be
    cut = root / "db2/127.0.0.1-2026-11-25-10:00:00/vmcore"
    with open(a, "rb") as src:
        put(cut, src.read(int(a.stat().st_size * 0.4)))
    plan[str(cut)] = (cut, "db2")
    plant("db3/127.0.0.1-2026-11-26-10:00:00/vmcore", data=os.urandom(65536), host="db3")
    # only an empty log left by a failed vmcore-dmesg run
    plant("db4/127.0.0.1-2026-11-26-11:00:00/vmcore-dmesg-incomplete.txt", data=b"", host="db4")
    # the vmcore and the log beside it tell different stories
    mis = plant("web9/10.9.9.9-2026-11-27-10:00:00/vmcore", target=a, host="10.9.9.9", oracle=a)
    put(mis.parent / "vmcore-dmesg.txt", dmesg_b if dmesg_b != dmesg_a else dmesg_a[: len(dmesg_a) // 2])
    # a bare serial-console log
    serial = a.parent / "serial.log"
    if serial.is_file():
        plant("consoles/node7-console.txt", data=serial.read_bytes(), host="consoles")
    # tarred directories: log read in place (vmcore left packed), vmcore-only extracted
    arc_dir = tmp / "arcsrc"
    put(arc_dir / "crash/10.0.0.7-2026-10-01-10:00:00/vmcore", a.read_bytes())
    put(arc_dir / "crash/10.0.0.7-2026-10-01-10:00:00/vmcore-dmesg.txt", dmesg_a)
    gz = root / "old-hosts.tar.gz"
    with tarfile.open(gz, "w:gz", compresslevel=1) as tf:
        tf.add(arc_dir / "crash", arcname="crash")
    # the verdict of this item comes from the log (read in place), so its oracle is the log
    dmesg_a_file = put(tmp / "oracle" / "vmcore-dmesg.txt", dmesg_a)
    plan[f"{gz}::crash/10.0.0.7-2026-10-01-10:00:00/vmcore"] = (dmesg_a_file, "10.0.0.7")
    zdir = tmp / "zsrc"
    put(zdir / "var/crash/mail3-202610020900/dump.202610020900", b.read_bytes())
    plain = tmp / "older.tar"
    with tarfile.open(plain, "w") as tf:
        tf.add(zdir / "var", arcname="var")
    zst = root / "older.tar.zst"
    import zstandard
    with open(plain, "rb") as i, open(zst, "wb") as o:
        zstandard.ZstdCompressor(level=1).copy_stream(i, o)
    plan[f"{zst}::var/crash/mail3-202610020900/dump.202610020900"] = (b, "mail3")
    # crash directories exactly as the kdump tools wrote them in the generator's guests:
    # one per scenario, at most 3 (each is analysed by the batch and again by the oracle;
    # a full set of generated dumps holds 11, which would add a minute here)
    real_dirs, real_scenarios = [], set()
    for vmcore in finished_dumps():
        d = vmcore.parent
        if vmcore.name == "vmcore" and (d / "vmcore-dmesg.txt").is_file() and len(real_dirs) < 3 \
                and scenario_of(vmcore) not in real_scenarios:
            real_scenarios.add(scenario_of(vmcore))
            n = len(real_dirs)
            dest = root / f"rhel-{n}" / f"127.0.0.1-2026-11-0{n + 1}-09:00:00"
            for f in d.iterdir():
                # only what kdump writes; the generator keeps its oracles here too
                if f.name in ("vmcore", "vmcore-dmesg.txt", "kexec-dmesg.log"):
                    put(dest / f.name, link=f)
            plan[str(dest / "vmcore")] = (vmcore, f"rhel-{n}")
            real_dirs.append(str(dest / "vmcore"))
    bad = root / "cut.tar.gz"
    bad.write_bytes(gz.read_bytes()[:2000])
    plan[str(bad)] = (None, None)
    return {"root": root, "plan": plan, "a": a, "b": b, "tmp": tmp, "mismatch": str(mis), "real_dirs": real_dirs}


@pytest.fixture(scope="module")
def batch_run(fleet_tree):
    out = fleet_tree["tmp"] / "out"
    r = cli("batch", str(fleet_tree["root"]), "--output", str(out), "--jobs", "2",
            "--format", "json", "--timeout", "300", check=False)
    assert r.returncode == 9, r.stderr          # some dumps are errors: documented exit 9
    return json.loads(r.stdout), out


def test_every_planted_dump_is_accounted_for(fleet_tree, batch_run):
    doc, _ = batch_run
    ids = {d["id"] for d in doc["dumps"]}
    bad = [i for i, (t, _) in fleet_tree["plan"].items() if t is None][0]
    # members listed before the damage in the cut archive are items too: errors
    extra = {i for i in ids if i.startswith(bad + "::")}
    assert ids - extra == set(fleet_tree["plan"])
    assert all(d["status"] == "error" for d in doc["dumps"] if d["id"] in extra)
    for d in doc["dumps"]:
        assert d["status"] in ("ok", "partial", "error")
        if d["status"] == "error":
            assert d["error"], d
        else:
            assert d["verdict"]["title"] and d["verdict"]["category"]
    s = doc["summary"]
    assert s["dumps"] == len(ids) == s["ok"] + s["partial"] + s["error"]


def test_status_and_verdict_match_triage_analyze(fleet_tree, batch_run):
    doc, _ = batch_run
    byid = {d["id"]: d for d in doc["dumps"]}
    oracle_cache = {}
    for item_id, (target, host) in fleet_tree["plan"].items():
        d = byid[item_id]
        if target is None:
            assert d["status"] == "error" and "damaged archive" in d["error"]
            continue
        if host is not None:
            assert d["host"] == host, (item_id, d["host"])
        key = str(target)
        if key not in oracle_cache:
            oracle_cache[key] = analyze_oracle(target)
        status, diag, err = oracle_cache[key]
        if item_id.endswith("vmcore-dmesg-incomplete.txt"):
            assert d["status"] == "error" and "empty" in d["error"]
            continue
        assert d["status"] == status, (item_id, d.get("error"), err)
        if diag is not None:
            # the next steps' crash/drgn command lines name the path each read the dump from
            want = json.loads(json.dumps(diag["verdict"]).replace(json.dumps(shlex.quote(str(target)))[1:-1],
                                                                  json.dumps(shlex.quote(d["analyzed"]))[1:-1]))
            assert d["verdict"] == want, item_id
        else:
            assert d["error"]


def test_real_dumps_get_their_scenario_category(fleet_tree, batch_run):
    doc, _ = batch_run
    byid = {d["id"]: d for d in doc["dumps"]}
    for item_id, (target, _) in fleet_tree["plan"].items():
        if target in (fleet_tree["a"], fleet_tree["b"]):
            want = expected_category(target)
            if want:
                assert byid[item_id]["verdict"]["category"] == want, item_id


def test_same_bug_across_hosts_is_grouped(fleet_tree, batch_run):
    doc, _ = batch_run
    byid = {d["id"]: d for d in doc["dumps"]}
    title_a = byid[str(fleet_tree["root"] / "web2/127.0.0.1-2026-11-21-11:00:00/vmcore")]["verdict"]["title"]
    hosts_a = {d["host"] for d in doc["dumps"] if d["verdict"] and d["verdict"]["title"] == title_a}
    [row] = [r for r in doc["fleet"]["by_title"] if r["title"] == title_a]
    assert row["hosts"] == len(hosts_a) >= 4 and set(row["host_list"]) == hosts_a
    assert {"web1", "web2", "10.0.0.3", "10.0.0.7"} <= hosts_a


def test_vmcore_and_log_disagreement_is_reported(fleet_tree, batch_run):
    doc, _ = batch_run
    byid = {d["id"]: d for d in doc["dumps"]}
    mis = byid[fleet_tree["mismatch"]]
    assert mis["analyzed"] == fleet_tree["mismatch"]           # the vmcore wins
    assert mis["disagreements"], mis
    agree = byid[str(fleet_tree["root"] / "web1/127.0.0.1-2026-11-20-10:00:00/vmcore")]
    assert agree["disagreements"] == [] and agree["log"].endswith("vmcore-dmesg.txt")


def test_real_kdump_dirs_pair_vmcore_with_vmcore_dmesg(fleet_tree, batch_run):
    """vmcore-dmesg (kexec-tools, run in the capture kernel) is an independent
    reader of the same log: the verdict it leads to must not differ."""
    doc, _ = batch_run
    if not fleet_tree["real_dirs"]:
        pytest.skip("no in-guest kdump directory (vmcore + vmcore-dmesg.txt) among the real dumps")
    byid = {d["id"]: d for d in doc["dumps"]}
    for item_id in fleet_tree["real_dirs"]:
        d = byid[item_id]
        assert d["log"].endswith("/vmcore-dmesg.txt") and d["analyzed"] == item_id
        assert any(x.endswith("/kexec-dmesg.log") for x in d["extras"])
        assert not [x for x in d["disagreements"] if x.startswith("verdict title differs")], d["disagreements"]


def test_archives_read_in_place(fleet_tree, batch_run):
    doc, out = batch_run
    byid = {d["id"]: d for d in doc["dumps"]}
    gz = [d for i, d in byid.items() if "old-hosts.tar.gz::" in i][0]
    assert gz["analyzed"].endswith("::crash/10.0.0.7-2026-10-01-10:00:00/vmcore-dmesg.txt")
    zst = [d for i, d in byid.items() if "older.tar.zst::" in i][0]
    assert zst["analyzed"] == zst["id"] and zst["status"] in ("ok", "partial")
    assert not (out / ".triage-tmp").exists()                   # the temporary space is gone


def test_per_dump_reports_written_like_triage_analyze(fleet_tree, batch_run):
    doc, out = batch_run
    d = [d for d in doc["dumps"] if d["id"].endswith("web4/202611230900/dump.202611230900")][0]
    rep = out / d["report"]
    # on stdout the text fits the terminal (COLUMNS); a report file has the default width
    from triage.report.text import WIDTH
    # batch reads the dump facts with the dump's BTF, never a debuginfo vmlinux it might find
    want = cli("analyze", "--no-debuginfo-search", str(fleet_tree["b"]), "--format", "text",
               env={**os.environ, "COLUMNS": str(WIDTH)}).stdout
    got = (rep / "report.txt").read_text()
    # the same renderer: identical apart from the path the dump was read from, which the
    # next steps' command lines and the Source line name (wrapped wherever its length puts it)
    assert got.split("\nNext steps\n")[0] == want.split("\nNext steps\n")[0]
    assert "".join(got.split("\nNext steps\n")[1].split()) == \
        "".join(want.split("\nNext steps\n")[1].split()).replace(str(fleet_tree["b"]), d["id"])
    assert json.loads((rep / "report.json").read_text())["verdict"] == d["verdict"]
    assert (rep / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_rerun_reuses_everything(fleet_tree, batch_run):
    doc, out = batch_run
    r = cli("batch", str(fleet_tree["root"]), "--output", str(out), "--format", "json", check=False)
    again = json.loads(r.stdout)
    assert again["stats"]["analysed_now"] == 0 and again["stats"]["reused"] == len(doc["dumps"])
    strip = lambda ds: [{k: v for k, v in x.items() if k != "duration_s"} for x in ds]  # noqa: E731
    assert strip(again["dumps"]) == strip(doc["dumps"]) and again["fleet"] == doc["fleet"]
