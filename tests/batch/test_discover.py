"""Discovery on built trees of each layout the kdump tools write.

Oracle: the layouts as the distributions' tools write them (RHEL kdump
dracut module, Debian kdump-tools `kdump-config savecore`, SUSE kdump),
described in /work/shared/reference/dump-formats-and-peers.md section 3.9.
The file contents here are only magic bytes and log lines: discovery reads
names, sizes and first bytes, never a dump's body.
"""

import io
import os
import subprocess
import tarfile

import pytest

from triage.batch.archive import list_members, read_member, extract_member
from triage.batch.discover import dir_facts, discover, iter_discover, sniff
from triage.errors import InputError

ELF_CORE = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x04\x00" + b"\0" * 100
KDUMP = b"KDUMP   " + b"\0" * 100
FLAT = b"makedumpfile\0\0\0\0" + b"\0" * 100
LOG = b"[    0.000000] Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org)\n[   12.5] sysrq: Trigger a crash\n"


def put(root, rel, data=b"x"):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return p


def by_id(found):
    return {os.path.relpath(it.id, found_root(it)) if "::" not in it.id else it.id.split("::")[1]: it
            for it in found.items}


def found_root(it):
    return os.path.dirname(os.path.dirname(it.id))


def test_rhel_layout_pairs_vmcore_and_dmesg(tmp_path):
    root = tmp_path / "crash"
    d = "10.1.2.3-2026-11-20-10:11:12"
    put(root, f"{d}/vmcore", KDUMP)
    put(root, f"{d}/vmcore-dmesg.txt", LOG)
    put(root, f"{d}/kexec-dmesg.log", LOG)
    put(root, f"{d}/vmcore-dmesg-incomplete.txt", b"")      # leftover of a failed run
    d2 = "127.0.0.1-2026-11-21-01:02:03"
    put(root, f"web07/{d2}/vmcore.flat", FLAT)
    d3 = "127.0.0.1-2026-11-22-01:02:03"
    put(root, f"web07/{d3}/vmcore-incomplete", KDUMP)
    found = discover([str(root)])
    items = {os.path.relpath(it.id, root): it for it in found.items}
    assert set(items) == {f"{d}/vmcore", f"web07/{d2}/vmcore.flat", f"web07/{d3}/vmcore-incomplete"}
    a = items[f"{d}/vmcore"]
    assert a.layout == "rhel" and a.host_hint == "10.1.2.3"
    assert a.log.name == "vmcore-dmesg.txt"
    assert [x.name for x in a.extras] == ["kexec-dmesg.log"]
    assert a.dir_time.startswith("2026-11-20T10:11:12")
    # loopback IP: the host comes from the nearest named directory
    assert items[f"web07/{d2}/vmcore.flat"].host_hint == "web07"
    assert items[f"web07/{d3}/vmcore-incomplete"].log is None
    assert found.skipped == []


def test_debian_layout_with_outer_compression_and_log_only_dir(tmp_path):
    root = tmp_path / "var-crash"
    put(root, "202611201011/dump.202611201011.xz", b"\xfd7zXZ\0")
    put(root, "202611201011/dmesg.202611201011", LOG)
    put(root, "202611201011/kernel_link", b"/boot/vmlinuz")
    put(root, "db3-202611211200/dump.202611211200", FLAT)
    put(root, "db3-202611211200/dmesg.202611211200", LOG)
    # hardware error: kdump-tools saves the dmesg but no core
    put(root, "202611221300/dmesg.202611221300", LOG)
    found = discover([str(root)])
    items = {os.path.relpath(it.id, root): it for it in found.items}
    assert set(items) == {"202611201011/dump.202611201011.xz", "db3-202611211200/dump.202611211200",
                          "202611221300/dmesg.202611221300"}
    a = items["202611201011/dump.202611201011.xz"]
    assert a.layout == "debian" and a.log.name == "dmesg.202611201011"
    assert a.dir_time.startswith("2026-11-20T10:11")
    assert a.host_hint == "var-crash"          # no host in the name: the ancestor's name
    assert items["db3-202611211200/dump.202611211200"].host_hint == "db3"
    lonely = items["202611221300/dmesg.202611221300"]
    assert lonely.vmcore is None and lonely.log is not None


def test_suse_layout(tmp_path):
    root = tmp_path / "sles-host"
    put(root, "2026-11-20-10:11/vmcore", ELF_CORE)
    put(root, "2026-11-20-10:11/README.txt", b"Kernel crashed\n")
    found = discover([str(root)])
    [it] = found.items
    assert it.layout == "suse" and it.host_hint == "sles-host"
    assert [x.name for x in it.extras] == ["README.txt"]
    assert it.dir_time.startswith("2026-11-20T10:11")


def test_bare_files_recognised_by_content(tmp_path):
    root = tmp_path / "misc"
    put(root, "hostA-core.bin", ELF_CORE)
    put(root, "boot-console.txt", LOG)
    put(root, "notes.txt", b"shopping list\n")
    put(root, "random.bin", os.urandom(4096))
    found = discover([str(root)])
    kinds = {os.path.basename(it.id): ("vmcore" if it.vmcore else "log") for it in found.items}
    assert kinds == {"hostA-core.bin": "vmcore", "boot-console.txt": "log"}
    assert sorted(os.path.basename(p) for p, _ in found.skipped) == ["notes.txt", "random.bin"]
    # a file named on the command line is always an item
    assert len(discover([str(root / "random.bin")]).items) == 1


def test_sniff():
    assert sniff(ELF_CORE) == "vmcore" and sniff(KDUMP) == "vmcore" and sniff(FLAT) == "vmcore"
    assert sniff(LOG) == "log"
    assert sniff(b"Nov 20 10:11:12 web1 kernel: [ 1.0] BUG: kernel NULL pointer dereference\n") == "log"
    assert sniff(b"hello world\n") is None


def test_dir_facts_rhel6_dots_and_hostnames():
    assert dir_facts(["x", "192.168.0.9-2012.03.04-05:06:07"])[:2] == ("rhel", "192.168.0.9")
    assert dir_facts(["x", "mail01-202601020304"])[:2] == ("debian", "mail01")


def _tar(path, entries, mode):
    with tarfile.open(path, mode) as tf:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))


ENTRIES = [
    ("crash/10.0.0.5-2026-11-20-10:11:12/vmcore", KDUMP + b"A" * 5000),
    ("crash/10.0.0.5-2026-11-20-10:11:12/vmcore-dmesg.txt", LOG),
    ("crash/202611201011/dump.202611201011", FLAT + b"B" * 3000),
    ("crash/other.txt", b"nothing"),
]


@pytest.mark.parametrize("suffix,mode", [(".tar", "w"), (".tar.gz", "w:gz"), (".tar.xz", "w:xz"),
                                         (".tar.zst", None)])
def test_archives_listed_and_read_in_place(tmp_path, suffix, mode):
    arc = tmp_path / f"fleet{suffix}"
    if mode:
        _tar(arc, ENTRIES, mode)
    else:
        plain = tmp_path / "plain.tar"
        _tar(plain, ENTRIES, "w")
        subprocess.run(["zstd", "-q", "-f", str(plain), "-o", str(arc)], check=True) if _has_zstd() else \
            _zstd_py(plain, arc)
    found = discover([str(tmp_path)]) if suffix != ".tar" else discover([str(arc)])
    items = {it.id.split("::")[1]: it for it in found.items if "::" in it.id}
    assert set(items) == {"crash/10.0.0.5-2026-11-20-10:11:12/vmcore", "crash/202611201011/dump.202611201011"}
    rh = items["crash/10.0.0.5-2026-11-20-10:11:12/vmcore"]
    assert rh.layout == "rhel/tar" and rh.host_hint == "10.0.0.5"
    assert rh.log.member.endswith("vmcore-dmesg.txt") and rh.vmcore.size == len(ENTRIES[0][1])
    assert read_member(str(arc), rh.log.member, 1 << 20) == LOG
    assert rh.log.data == LOG           # read during the listing pass: no second decompression
    deb = items["crash/202611201011/dump.202611201011"]
    dest = tmp_path / "x"
    extract_member(str(arc), deb.vmcore.member, str(dest), 1 << 20)
    assert dest.read_bytes() == ENTRIES[2][1]
    # the temporary-space bound is enforced before anything is written
    with pytest.raises(InputError, match="temporary-space limit"):
        extract_member(str(arc), deb.vmcore.member, str(tmp_path / "y"), 100)
    assert not (tmp_path / "y").exists()
    assert any(p.endswith("::crash/other.txt") for p, _ in found.skipped)
    assert [n for n, _ in list_members(str(arc))] == [n for n, _ in ENTRIES]


def _has_zstd():
    from shutil import which
    return which("zstd") is not None


def _zstd_py(src, dst):
    import zstandard
    with open(src, "rb") as i, open(dst, "wb") as o:
        zstandard.ZstdCompressor().copy_stream(i, o)


def test_damaged_archive_is_an_item_with_its_reason(tmp_path):
    (tmp_path / "broken.tar.gz").write_bytes(b"\x1f\x8b\x08\0garbage")
    found = discover([str(tmp_path)])
    [it] = found.items
    assert it.id.endswith("broken.tar.gz") and "damaged archive" in it.note


def test_truncated_archive_keeps_members_before_the_damage(tmp_path):
    arc = tmp_path / "cut.tar.gz"
    _tar(arc, ENTRIES[:2] + [("crash/big/vmcore", os.urandom(200000))], "w:gz")
    data = arc.read_bytes()
    arc.write_bytes(data[: len(data) - 50000])
    found = discover([str(arc)])
    ids = sorted(it.id for it in found.items)
    assert any(i.endswith("::crash/10.0.0.5-2026-11-20-10:11:12/vmcore") for i in ids)
    assert any(it.note and "damaged archive" in it.note for it in found.items)


def test_output_dir_inside_root_is_not_walked(tmp_path):
    put(tmp_path, "h/2026-11-20-10:11/vmcore", ELF_CORE)
    put(tmp_path, "out/reports/x/report.txt", LOG)
    found = discover([str(tmp_path)], exclude=str(tmp_path / "out"))
    assert [os.path.relpath(i.id, tmp_path) for i in found.items] == ["h/2026-11-20-10:11/vmcore"]


def test_missing_root_is_an_input_error(tmp_path):
    with pytest.raises(InputError):
        discover([str(tmp_path / "nope")])


def _spool_cases(tmp_path):
    entries = ENTRIES + [
        ("./crash/zz-host-202611201011/vmcore-dmesg.txt", LOG),
        ("crash/Ünï-202611211011/dump.202611211011", FLAT + b"C" * 100),
        ("crash/10.0.0.5-2026-11-20-10:11:12/vmcore-dmesg.txt", LOG + b"again"),   # a name read twice
        ("crash/ab/vmcore", KDUMP), ("crash/a/vmcore", KDUMP), ("crash/a-b/dmesg.txt", LOG),
        ("readme", b"x"),
    ]
    whole = tmp_path / "whole.tar.gz"
    _tar(whole, entries, "w:gz")
    cut = tmp_path / "cut.tar.gz"
    _tar(cut, entries[:3] + [("crash/big/vmcore", os.urandom(200000))] + entries[3:], "w:gz")
    cut.write_bytes(cut.read_bytes()[:-50000])
    return [whole, cut]


def test_spooled_archive_walk_gives_what_the_in_memory_walk_gives(tmp_path):
    """Oracle: the in-memory archive walk (discover(), checked above). With spool_dir the
    member list goes through a scratch SQLite file (triage batch): the same items, in
    the same order, with the same log bytes read during listing, and the same skips,
    for directories whose names sort differently as bytes and as text, a log name
    read twice and a truncated archive; the scratch file is gone afterwards."""
    spool = tmp_path / "spool"
    spool.mkdir()
    skips = []
    for arc in _spool_cases(tmp_path):
        mem_skipped, sql_skipped = [], []
        mem = list(iter_discover([str(arc)], mem_skipped))
        sql = list(iter_discover([str(arc)], sql_skipped, spool_dir=str(spool)))
        assert len(mem) >= 4 and sql == mem, arc.name
        # Location.data is left out of ==: compared on its own
        assert [[loc.data for loc in it.locations()] for it in sql] == \
            [[loc.data for loc in it.locations()] for it in mem], arc.name
        assert sql_skipped == mem_skipped, arc.name
        assert list(spool.iterdir()) == []
        skips.append(len(mem_skipped))
    assert skips[0] == 2            # the whole archive: crash/other.txt and readme
    assert any(it.note and "damaged archive" in it.note for it in mem)
