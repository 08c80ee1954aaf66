"""`triage dmesg` and `triage info` as a user runs them (a subprocess), on real dumps.

Oracles: the serial console (ignore_loglevel) for dmesg text, its "Linux version"
line for info's release/version, the documented exit codes (docs/exit-codes.md)
for damaged input.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _realdumps import (boot_dumps, dump_files, dump_ids, is_suffix_run, serial_is_oracle,  # noqa: E402
                        serial_kernel_lines, serial_log_for, unindent)

ELF = dump_files("elf")
BOOT = boot_dumps("any") or ELF
BOOT_ELF = boot_dumps("elf") or ELF
needs_dump = pytest.mark.skipif(not ELF, reason="no real ELF dumps generated")


def triage(*args):
    return subprocess.run([sys.executable, "-m", "triage", *map(str, args)], capture_output=True)


ANY = dump_files("any")


@pytest.mark.skipif(not ANY, reason="no real dumps")
@pytest.mark.parametrize("dump", ANY, ids=dump_ids(ANY))
def test_dmesg_matches_serial(dump):
    if not serial_is_oracle(dump):
        pytest.skip("guest ran without ignore_loglevel: the serial log is no oracle")
    r = triage("dmesg", dump)
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    ok, why = is_suffix_run(unindent(r.stdout), serial_kernel_lines(serial_log_for(dump)))
    assert ok, why


@needs_dump
def test_dmesg_json_records():
    r = triage("dmesg", "--json", BOOT[0])
    assert r.returncode == 0
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert recs[0]["text"].startswith("Linux version") and recs[0]["seq"] == 0
    assert {"seq", "ts_nsec", "caller", "text", "dict", "level", "facility"} <= set(recs[-1])
    assert recs[0]["level"] == 5           # the banner is pr_notice (KERN_NOTICE)
    assert all(x["level"] == 0 for x in recs if x["text"].startswith("Kernel panic - not syncing"))
    assert any(x["dict"].get("SUBSYSTEM") for x in recs)


@needs_dump
def test_info_json():
    dump = BOOT[0]
    r = triage("info", "--json", dump)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    serial = serial_log_for(dump).read_text(errors="replace")
    m = re.search(r"Linux version (\S+) .*?(#\d+ .*)", serial)
    assert d["osrelease"] == m.group(1)
    assert d["version"] == m.group(2).strip()
    assert d["format"] in ("elf", "kdump", "flattened-kdump", "flattened-elf")
    assert d["arch"] == "x86_64" and d["complete"] is True
    assert d["kaslr_offset"].startswith("0x") and d["build_id"]
    assert d["hostname"] is not None
    r = triage("info", dump)
    assert b"kernel release:" in r.stdout and r.returncode == 0


@needs_dump
def test_truncated_dump_is_partial(tmp_path):
    """Cut the file inside the text ring: records before the cut print, exit 6, one stderr line."""
    from triage.dumps.elf import ElfReader
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.memory.kernel import KernelMemory
    from triage.printk.lockless import LocklessLayout, parse_ring_header
    dump = BOOT_ELF[0]
    with ElfReader(str(dump)) as rd:
        info = parse_vmcoreinfo(rd.vmcoreinfo())
        mem = KernelMemory(rd, info, "x86_64")
        lay = LocklessLayout.from_vmcoreinfo(info)
        hdr = parse_ring_header(lay, mem.read(mem.read_pointer(info.symbol("prb")), lay.ring_size))
        pa = mem.translate(hdr.data + 16384)[0]   # a boot log fills more than 16 KiB
        seg = rd._segment_at(pa)
        cut = seg.offset + (pa - seg.paddr)
        pa_descs = mem.translate(hdr.descs)[0]
        pa_infos = mem.translate(hdr.infos)[0]
    if any(rd._segment_at(p).offset + p - rd._segment_at(p).paddr > cut for p in (pa_descs, pa_infos)):
        pytest.skip("descriptor arrays lie after the text ring in this dump")
    short = tmp_path / "vmcore"
    with open(dump, "rb") as src, open(short, "wb") as out:
        out.write(src.read(cut))
    full = triage("dmesg", dump).stdout.splitlines()
    r = triage("dmesg", short)
    assert r.returncode == 6
    err = r.stderr.decode().strip()
    assert "\n" not in err and "partial" in err
    got = r.stdout.splitlines()
    assert 0 < len(got) < len(full)
    assert set(got) <= set(full)


def test_bad_inputs(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    binary = tmp_path / "bin"
    binary.write_bytes(bytes(range(256)) * 64)
    badelf = tmp_path / "badelf"
    badelf.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x04\x00" + bytes(20))
    cases = [(tmp_path, 3, "directory"), (empty, 3, "empty"), (tmp_path / "nope", 3, "no such file"),
             (binary, 4, "not a"), (badelf, 5, "ELF header")]
    for path, code, words in cases:
        for cmd in ("dmesg", "info"):
            r = triage(cmd, path)
            err = r.stderr.decode()
            assert r.returncode == code, (cmd, path, err)
            assert err.count("\n") == 1 and (words in err or (code == 4 and "neither" in err)) and "Traceback" not in err


def test_text_log_passthrough(tmp_path):
    log = tmp_path / "dmesg.txt"
    text = "[    0.000000] Linux version 6.1.0 (x)\n[    1.000000] BUG: kernel NULL pointer dereference\n"
    log.write_text(text)
    r = triage("dmesg", log)
    assert r.returncode == 0 and r.stdout.decode() == text


INCOMPLETE = dump_files("any", incomplete=True)


@pytest.mark.skipif(not INCOMPLETE, reason="no real incomplete capture (makedumpfile ran out of space)")
@pytest.mark.parametrize("dump", INCOMPLETE, ids=dump_ids(INCOMPLETE))
def test_real_incomplete_capture(dump):
    """A makedumpfile -E that ran out of space in the capture kernel: flagged and cut short."""
    r = triage("info", "--json", dump)
    assert r.returncode == 6
    d = json.loads(r.stdout)
    assert d["complete"] is False and any("incomplete" in p for p in d["problems"])
    r = triage("dmesg", dump)
    assert r.returncode == 6
    err = r.stderr.decode()
    assert err.count("\n") == 1 and "partial" in err and "Traceback" not in err
