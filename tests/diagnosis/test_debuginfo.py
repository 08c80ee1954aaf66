"""Next steps name the debuginfo package, the BUILD-ID and ready crash/drgn command lines."""

from pathlib import Path

import pytest

from triage.analysis import analyze_path
from triage.diagnosis.debuginfo import detect

ROOT = Path(__file__).resolve().parents[2]
DUMP = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"


@pytest.mark.parametrize("release,version,distro,package,vmlinux", [
    ("3.10.0-1160.el7.x86_64", "#1 SMP Wed Oct 5 11:11:11 UTC 2022", "rhel",
     "kernel-debuginfo-3.10.0-1160.el7.x86_64", "/usr/lib/debug/lib/modules/3.10.0-1160.el7.x86_64/vmlinux"),
    ("4.18.0-477.10.1.el8_8.x86_64", None, "rhel", "kernel-debuginfo-4.18.0-477.10.1.el8_8.x86_64", None),
    ("5.14.0-362.8.1.el9_3.aarch64+debug", None, "rhel", "kernel-debug-debuginfo-5.14.0-362.8.1.el9_3.aarch64", None),
    ("5.4.17-2136.300.7.el8uek.x86_64", None, "rhel", "kernel-uek-debuginfo-5.4.17-2136.300.7.el8uek.x86_64", None),
    ("6.5.6-300.fc39.x86_64", None, "rhel", "kernel-debuginfo-6.5.6-300.fc39.x86_64", None),
    ("5.15.0-91-generic", "#101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023", "ubuntu",
     "linux-image-unsigned-5.15.0-91-generic-dbgsym", "/usr/lib/debug/boot/vmlinux-5.15.0-91-generic"),
    ("6.5.0-1011-aws", None, "ubuntu", "linux-image-unsigned-6.5.0-1011-aws-dbgsym", None),
    ("6.1.0-57-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-10-01)", "debian",
     "linux-image-6.1.0-57-amd64-dbg", "/usr/lib/debug/boot/vmlinux-6.1.0-57-amd64"),
    ("5.10.0-28-cloud-arm64", None, "debian", "linux-image-5.10.0-28-cloud-arm64-dbg", None),
])
def test_detect(release, version, distro, package, vmlinux):
    d = detect(release, version)
    assert (d.distro, d.package) == (distro, package)
    if vmlinux:
        assert d.vmlinux == vmlinux


@pytest.mark.parametrize("release", ["6.8.0-custom", "6.1.0", None, "", "6.1.0-57-amd64; rm -rf /"])
def test_unknown_or_unsafe_release(release):
    assert detect(release, "#1 SMP") is None


def test_dump_next_steps_name_package_build_id_and_commands():
    if not DUMP.is_file():
        pytest.skip("committed dump missing")
    steps = analyze_path(str(DUMP)).verdict.next_steps
    assert len(steps) == len(set(steps))
    text = "\n".join(steps)
    assert "apt-get install linux-image-6.1.0-57-amd64-dbg" in text.split("\n")
    assert "6a2b4ac77585b8cf102cba771300e573c8489b69" in text        # VMCOREINFO BUILD-ID
    assert f"crash /usr/lib/debug/boot/vmlinux-6.1.0-57-amd64 {DUMP}" in text.split("\n")
    assert f"drgn -c {DUMP} -s /usr/lib/debug/boot/vmlinux-6.1.0-57-amd64" in text.split("\n")


def test_log_next_steps_have_package_but_no_dump_commands():
    log = DUMP.parent / "serial.log"
    if not log.is_file():
        pytest.skip("committed log missing")
    text = "\n".join(analyze_path(str(log)).verdict.next_steps)
    assert "linux-image-6.1.0-57-amd64-dbg" in text
    assert "crash /usr" not in text and "drgn -c" not in text


def test_intentional_crash_gets_no_debuginfo_step():
    log = ROOT / "tests" / "data" / "analyze" / "sysrq.serial.log"
    d = analyze_path(str(log))
    assert d.verdict.category == "sysrq"
    assert not any("debug symbols" in x for x in d.verdict.next_steps)


def test_gpu_hardware_error_gets_no_debuginfo_step():
    from triage.analysis import analyze_lines
    line = "[ 9912.112233] NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, name=python3, GPU has fallen off the bus."
    d = analyze_lines(["[    0.000000] Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org) #1 SMP "
                       "PREEMPT_DYNAMIC Debian 6.1.192-3", line])
    assert d.verdict.category == "gpu_xid"
    assert not any("debug symbols" in x for x in d.verdict.next_steps)


def _real_dump(scenario: str):
    import sys
    sys.path.insert(0, str(ROOT / "tests"))
    from _realdumps import finished_generated_dumps, generated_sets
    from triage.dumps import detect as detect_format
    for p, run in sorted(finished_generated_dumps(generated_sets()), key=lambda pr: pr[0].stat().st_size):
        if run.startswith(scenario) and detect_format(str(p)) in ("elf", "kdump"):
            return p
    pytest.skip(f"no generated {scenario} dump (sample_dumps/generate)")


def test_sysrq_dump_still_gets_crash_and_drgn_command_lines():
    # a sysrq-c is taken to be opened (what hung); the log of one gets no debuginfo step
    dump = _real_dump("sysrq")
    d = analyze_path(str(dump))
    assert d.verdict.category == "sysrq"
    lines = "\n".join(d.verdict.next_steps).split("\n")
    assert any(x.startswith("crash ") and x.endswith(str(dump)) for x in lines), lines
    assert any(x.startswith(f"drgn -c {dump} -s ") for x in lines), lines
    assert any("debug symbols" in x for x in d.verdict.next_steps)
