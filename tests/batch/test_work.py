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
