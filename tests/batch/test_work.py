"""Host identity and record fields taken from a diagnosis.

Oracle: the rule in docs/batch.md - the utsname hostname when the dump has a
real one, the directory's IP or name otherwise. (The generator's guests boot
without a hostname, "(none)", so real dumps exercise only the fallback.)
"""

from triage.batch.discover import DumpItem, Location
from triage.batch.work import base_record, fill_from_diagnosis, item_slug


def item():
    return DumpItem(id="/c/10.1.2.3-2026-11-20-10:11:12/vmcore", layout="rhel",
                    vmcore=Location(path="/c/10.1.2.3-2026-11-20-10:11:12/vmcore", size=1),
                    host_hint="10.1.2.3", dir_time="2026-11-20T10:11:12Z")


def diag(hostname, crash_time=None):
    return {"system": {"hostname": hostname, "kernel_release": "6.1.0-57-amd64", "uptime_s": 12.5,
                       "crash_time": crash_time},
            "verdict": {"title": "t", "category": "c"}, "source": {"partial": False}}


def test_utsname_hostname_wins():
    rec = base_record(item())
    fill_from_diagnosis(rec, diag("db-prod-7", "2026-11-20T10:11:00Z"), item())
    assert (rec["host"], rec["host_source"], rec["origin"]) == ("db-prod-7", "utsname", "10.1.2.3")
    assert (rec["crash_time"], rec["crash_time_source"]) == ("2026-11-20T10:11:00Z", "dump")
    assert rec["kernel_release"] == "6.1.0-57-amd64" and rec["uptime_s"] == 12.5


def test_placeholder_hostnames_fall_back_to_the_directory():
    for name in (None, "", "(none)", "localhost", "localhost.localdomain"):
        rec = base_record(item())
        fill_from_diagnosis(rec, diag(name), item())
        assert (rec["host"], rec["host_source"]) == ("10.1.2.3", "directory"), name
        assert (rec["crash_time"], rec["crash_time_source"]) == ("2026-11-20T10:11:12Z", "directory")


def test_slugs_are_unique_and_safe():
    a = item_slug("/c/web1/127.0.0.1-2026-11-20-10:11:12/vmcore")
    b = item_slug("/d/web1/127.0.0.1-2026-11-20-10:11:12/vmcore")
    assert a != b and "/" not in a and ":" not in a and a.startswith("web1_127.0.0.1")
    assert item_slug("/x.tar.gz::crash/h/../../etc/passwd").count("/") == 0


def test_log_read_in_place_of_an_unusable_vmcore_says_partial_input(tmp_path):
    """A vmcore-incomplete cut before its kernel log, with vmcore-dmesg.txt beside it
    (what kdump leaves on a full disk): the verdict comes from the log, and the
    report itself (text and JSON, what harvest writes beside the dump) says the
    input was partial and why, without the path of the dump or a pointer to the log."""
    import json
    import sys
    from pathlib import Path

    import pytest

    sys.path.insert(0, str(Path(__file__).parent))
    from _dumps import finished_dumps
    from triage.batch.discover import discover
    from triage.batch.work import WorkContext, analyze_item

    src = next((p for p in finished_dumps() if p.name == "vmcore" and (p.parent / "vmcore-dmesg.txt").is_file()),
               None)
    if src is None:
        pytest.skip("no real kdump directory (vmcore + vmcore-dmesg.txt)")
    d = tmp_path / "crash" / "127.0.0.1-2026-12-07-01:00:00"
    d.mkdir(parents=True)
    (d / "vmcore-incomplete").write_bytes(src.read_bytes()[:64 << 10])     # cut long before the log
    (d / "vmcore-dmesg.txt").write_bytes((src.parent / "vmcore-dmesg.txt").read_bytes())
    [it] = discover([str(tmp_path / "crash")]).items
    ctx = WorkContext(outdir=str(tmp_path), tempdir=str(tmp_path), temp_limit=1 << 30, reports=False,
                      inline_reports=True)
    rec = analyze_item(it, ctx)
    assert rec["analyzed"] == str(d / "vmcore-dmesg.txt") and rec["status"] == "partial", rec
    problem = rec["problems"][0]
    assert problem.startswith("vmcore unusable (") and problem.endswith("; verdict taken from vmcore-dmesg.txt")
    assert str(d) not in problem and "saved beside it" not in problem, problem
    doc = json.loads(rec["_reports"]["report.json"])
    assert doc["source"]["partial"] is True and doc["source"]["problems"][0] == problem
    text = " ".join(rec["_reports"]["report.txt"].split())
    assert "PARTIAL INPUT: " + " ".join(problem.split()) in text
    assert rec["problems"].count(problem) == 1          # said once, not once per place it is kept
