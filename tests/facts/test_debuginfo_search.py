"""Dump facts with debuginfo: the DWARF vmlinux is found in the standard paths only when it
matches the dump, and then gives the same facts as drgn+DWARF plus every task's stack.

Tests that need Debian's -dbg vmlinux skip without it (tests/facts/_dbg.py says where it
is looked for); the rejection tests need none."""

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("drgn")
sys.path.insert(0, str(Path(__file__).parent))

from _dbg import ROOT, build_id_root, dbg_vmlinux, dump_identity  # noqa: E402
from triage.cli import cli  # noqa: E402
from triage.facts import read_dump_facts  # noqa: E402
from triage.facts.debuginfo import candidates, elf_build_id, find_vmlinux, has_dwarf, mismatch  # noqa: E402

LZO = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"
COMMITTED = sorted((ROOT / "sample_dumps" / "committed").glob("*/*.facts-oracle.json"))
VMLINUX = dbg_vmlinux()
needs_dbg = pytest.mark.skipif(VMLINUX is None, reason="Debian's -dbg vmlinux for 6.1.0-57-amd64 is absent")


def _dump_of(oracle: Path) -> Path:
    return Path(str(oracle)[:-len(".facts-oracle.json")])


def _elf_with_other_build_id() -> str:
    """A real ELF executable of this system (a build id that is not the kernel's)."""
    for name in ("true", "ls", "sh"):
        p = shutil.which(name)
        if p and elf_build_id(str(Path(p).resolve())):
            return str(Path(p).resolve())
    pytest.fail("no system executable with a GNU build id found")


def test_candidates_in_search_order():
    got = candidates("/r", "6.1.0-57-amd64", "6A2b4ac7")
    assert got == ["/r/usr/lib/debug/.build-id/6a/2b4ac7.debug",
                   "/r/usr/lib/debug/boot/vmlinux-6.1.0-57-amd64",
                   "/r/usr/lib/debug/lib/modules/6.1.0-57-amd64/vmlinux",
                   "/r/boot/vmlinux-6.1.0-57-amd64",
                   "/r/lib/modules/6.1.0-57-amd64/build/vmlinux"]


def test_untrusted_release_and_build_id_are_not_paths():
    """OSRELEASE and BUILD-ID come from the dump: no path separators or dot-dot followed."""
    assert candidates("/r", "../../etc", "zz/../x") == []
    assert candidates("/r", "..", None) == []


def test_mismatching_files_are_rejected_with_reasons(tmp_path):
    """A vmlinux-<release> that is another ELF (wrong build id) or not ELF at all is
    ignored, each with its reason; the facts then come from the dump's BTF."""
    release, build_id = dump_identity(LZO)
    (tmp_path / "usr/lib/debug/boot").mkdir(parents=True)
    (tmp_path / f"usr/lib/debug/boot/vmlinux-{release}").write_text("not a kernel\n")
    (tmp_path / "boot").mkdir()
    other = _elf_with_other_build_id()
    (tmp_path / f"boot/vmlinux-{release}").symlink_to(other)
    found = find_vmlinux(release, build_id, str(tmp_path))
    assert found.path is None
    assert found.rejected == [
        f"{tmp_path}/usr/lib/debug/boot/vmlinux-{release}: not an ELF file with a GNU build id",
        f"{tmp_path}/boot/vmlinux-{release}: build id {elf_build_id(other)} is not the dump's {build_id}"]
    facts = read_dump_facts([str(LZO)], search_debuginfo=True, debuginfo_root=str(tmp_path))
    assert facts["source"]["method"] == "btf+kallsyms"
    assert facts["source"]["debuginfo"] == {"file": None, "how": None, "rejected": found.rejected}
    assert facts["tasks"]["count"] > 10 and "stacks" not in facts["tasks"]


def test_explicit_vmlinux_of_another_build_is_ignored(tmp_path):
    other = _elf_with_other_build_id()
    res = CliRunner().invoke(cli, ["analyze", "--format", "json", "--vmlinux", other,
                                    "--debuginfo-root", str(tmp_path), str(LZO)])
    assert res.exit_code == 0, res.output
    src = json.loads(res.output)["dump"]["source"]
    assert src["method"] == "btf+kallsyms"
    assert src["debuginfo"]["file"] is None
    assert src["debuginfo"]["rejected"] == [f"{other}: build id {elf_build_id(other)} is not the dump's "
                                            f"{dump_identity(LZO)[1]}"]
    md = CliRunner().invoke(cli, ["analyze", "--format", "markdown", "--vmlinux", other,
                                  "--debuginfo-root", str(tmp_path), str(LZO)])
    assert f"debuginfo not used: {other}: build id" in md.output


def test_no_debuginfo_search_looks_nowhere(tmp_path):
    release, _ = dump_identity(LZO)
    (tmp_path / "boot").mkdir()
    (tmp_path / f"boot/vmlinux-{release}").write_text("x")
    res = CliRunner().invoke(cli, ["analyze", "--format", "json", "--no-debuginfo-search",
                                    "--debuginfo-root", str(tmp_path), str(LZO)])
    assert json.loads(res.output)["dump"]["source"]["debuginfo"] == {"file": None, "how": None, "rejected": []}
    # by default the dump's own BTF is enough: no search either
    res = CliRunner().invoke(cli, ["analyze", "--format", "json", "--debuginfo-root", str(tmp_path), str(LZO)])
    assert json.loads(res.output)["dump"]["source"]["debuginfo"] == {"file": None, "how": None, "rejected": []}
    res = CliRunner().invoke(cli, ["analyze", "--format", "json", "--debuginfo-search",
                                   "--debuginfo-root", str(tmp_path), str(LZO)])
    assert json.loads(res.output)["dump"]["source"]["debuginfo"]["rejected"] == [
        f"{tmp_path}/boot/vmlinux-{release}: not an ELF file with a GNU build id"]


@needs_dbg
def test_default_searches_debuginfo_only_when_the_dumps_btf_fails(tmp_path, monkeypatch):
    """With the dump's BTF usable, a matching vmlinux in the standard paths is not
    loaded (DWARF costs more than drgn's whole dmesg); when the BTF cannot be used,
    the same default finds it and says why it was needed."""
    release, _ = dump_identity(LZO)
    (tmp_path / "usr/lib/debug/boot").mkdir(parents=True)
    (tmp_path / f"usr/lib/debug/boot/vmlinux-{release}").symlink_to(VMLINUX)
    argv = ["analyze", "--format", "json", "--debuginfo-root", str(tmp_path), str(LZO)]
    src = json.loads(CliRunner().invoke(cli, argv).output)["dump"]["source"]
    assert src["method"] == "btf+kallsyms" and src["debuginfo"]["file"] is None
    import triage.facts.finders as finders
    from triage.facts.program import FactsUnavailable

    def broken(*a, **k):
        raise FactsUnavailable("BTF damaged (test)")
    monkeypatch.setattr(finders, "install_btf", broken)
    src = json.loads(CliRunner().invoke(cli, argv).output)["dump"]["source"]
    assert src["method"] == "dwarf" and src["debuginfo"]["file"].endswith(f"vmlinux-{release}")
    assert src["notes"][0].startswith("the dump's BTF/kallsyms could not be used (BTF damaged (test))")
    src = json.loads(CliRunner().invoke(cli, argv[:3] + ["--no-debuginfo-search"] + argv[3:]).output)["dump"]["source"]
    assert src["method"] == "vmcoreinfo"


def test_banner_decides_without_build_id(tmp_path):
    """A dump without BUILD-ID (before 5.9) is matched by the `Linux version <release> ` banner."""
    f = tmp_path / "vmlinux"
    f.write_bytes(b"\0" * 100 + b"Linux version 5.4.0-42-generic (buildd@lgw01) #46\0")
    # the banner matches; this file then fails only the next check (it has no DWARF)
    assert mismatch(str(f), "5.4.0-42-generic", None) == "no DWARF in it (no .debug_info section: a stripped vmlinux)"
    assert mismatch(str(f), "5.4.0-42", None) == ("no 'Linux version 5.4.0-42' banner in the file "
                                                  "(the dump has no BUILD-ID)")
    assert mismatch(str(f), "5.4.0-42-generic", "6a2b") == "not an ELF file with a GNU build id"


def test_matching_build_id_without_dwarf_is_rejected():
    """A file with the right build id but no DWARF (/boot/vmlinux-<release> is often a
    stripped ELF) is not used: drgn would load its ELF symbols alone, with no types."""
    exe = _elf_with_other_build_id()
    assert not has_dwarf(exe)
    assert mismatch(exe, "6.1.0-57-amd64", elf_build_id(exe)) == \
        "no DWARF in it (no .debug_info section: a stripped vmlinux)"


@needs_dbg
def test_the_dbg_vmlinux_has_dwarf():
    assert has_dwarf(str(VMLINUX)) and mismatch(str(VMLINUX), *dump_identity(LZO)) is None


def compare(got, want, path="dump"):
    """Differences between every leaf of `want` and the same leaf of `got`."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path}: {got!r} is not an object"]
        return [d for k, v in want.items() for d in compare(got.get(k), v, f"{path}.{k}")]
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{path}: {got!r} != {want!r}"]
        return [d for i, (g, w) in enumerate(zip(got, want)) for d in compare(g, w, f"{path}[{i}]")]
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]


@needs_dbg
@pytest.mark.slow
@pytest.mark.parametrize("oracle", COMMITTED, ids=lambda p: p.parent.name)
def test_found_by_build_id_gives_oracle_facts_and_every_stack(oracle, tmp_path):
    """The -dbg vmlinux under usr/lib/debug/.build-id/ is found and used: the facts equal
    the committed drgn+DWARF oracle field by field, and tasks.stacks lists every task
    with the stack the oracle's DWARF unwinding gives (frame by frame)."""
    from drgn.helpers.linux.pid import find_task
    from test_facts_oracle import named_oracle_stack
    from triage.facts.program import open_program
    dump = _dump_of(oracle)
    _, build_id = dump_identity(dump)
    root = build_id_root(tmp_path, VMLINUX, build_id)
    got = read_dump_facts([str(dump)], search_debuginfo=True, debuginfo_root=str(root))
    src = got["source"]
    assert src["method"] == "dwarf" and src["unavailable"] is None and src["missing"] == []
    assert src["debuginfo"] == {"file": f"{root}/usr/lib/debug/.build-id/{build_id[:2]}/{build_id[2:]}.debug",
                                "how": "search", "rejected": []}
    want = json.loads(oracle.read_text())
    diffs = compare(got, want["facts"])
    assert not diffs, "\n".join(diffs[:20])
    stacks = {str(s["pid"]): s for s in got["tasks"]["stacks"]}
    assert len(stacks) == got["tasks"]["count"] > 10
    opened = open_program([str(dump)], vmlinux=str(VMLINUX))
    try:
        diffs = [f"pid {pid}: {stacks[pid]['stack']} != {pcs}" for pid, pcs in want["stacks"].items()
                 if stacks[pid]["stack"] != named_oracle_stack(opened.prog, find_task(opened.prog, int(pid)), pcs)]
    finally:
        opened.close()
    assert not diffs, "\n".join(diffs[:10])
    assert len(want["stacks"]) > 40 and sum(len(s["stack"]) for s in stacks.values()) > 200
    # module frames are named from the modules' kallsyms: the crash in nvidia shows as such
    if "gpu_alloc_null" in str(dump):
        assert stacks[str(got["tasks"]["panic"]["pid"])]["stack"][0].endswith(" [nvidia]")


@needs_dbg
@pytest.mark.slow
def test_found_in_usr_lib_debug_boot_and_named_in_the_report(tmp_path):
    release, _ = dump_identity(LZO)
    d = tmp_path / "usr/lib/debug/boot"
    d.mkdir(parents=True)
    (d / f"vmlinux-{release}").symlink_to(VMLINUX)
    res = CliRunner().invoke(cli, ["analyze", "--debuginfo-search", "--debuginfo-root", str(tmp_path), str(LZO)])
    assert res.exit_code == 0, res.output
    want = f"read with drgn (dwarf, memory via drgn core dump); DWARF from {d}/vmlinux-{release}"
    assert "".join(want.split()) in "".join(res.output.split())      # the text report wraps lines
    assert "stacks of every task" in res.output and "(dump.tasks.stacks)" in res.output


def test_a_named_vmlinux_of_another_build_is_an_error_where_it_must_be_used():
    """open_program(vmlinux=...) (the drgn+DWARF oracle, `triage shell --vmlinux`) refuses
    a file that is not the dump's rather than hand back a BTF Program."""
    from triage.facts.program import FactsUnavailable, open_program
    other = _elf_with_other_build_id()
    with pytest.raises(FactsUnavailable, match="is not this dump's vmlinux: build id"):
        open_program([str(LZO)], vmlinux=other)
    import subprocess
    res = subprocess.run([sys.executable, "-m", "triage", "shell", "--vmlinux", other, str(LZO)],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert res.returncode == 7, res.stderr
    assert f"{other} is not this dump's vmlinux: build id" in res.stderr and "Traceback" not in res.stderr


def test_next_steps_name_the_found_vmlinux():
    """Once the dump's vmlinux was found, the next steps do not ask to install it and
    the crash/drgn command lines name it."""
    from triage.diagnosis.debuginfo import next_steps, with_found_vmlinux
    steps = next_steps("6.1.0-57-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1", "6a2b", "/var/crash/vm core",
                       True, "nvidia", True)
    assert steps[0].startswith("Install the kernel's debug symbols, package linux-image-6.1.0-57-amd64-dbg")
    got = with_found_vmlinux(steps, "/srv/debug/vmlinux", "/var/crash/vm core")
    assert got[0] == ("The kernel's debug symbols are at /srv/debug/vmlinux (its build ID is the dump's): "
                      "the dump facts were read with them.")
    assert got[1] == steps[1]                      # the out-of-tree module's note stays
    assert got[2].splitlines()[1:] == ["crash /srv/debug/vmlinux '/var/crash/vm core'",
                                       "drgn -c '/var/crash/vm core' -s /srv/debug/vmlinux"]


@needs_dbg
@pytest.mark.slow
def test_redact_covers_every_task_stack(tmp_path):
    """With DWARF, tasks.stacks names every task: --redact replaces each of their comms."""
    _, build_id = dump_identity(LZO)
    root = build_id_root(tmp_path, VMLINUX, build_id)
    res = CliRunner().invoke(cli, ["analyze", "--format", "json", "--redact", "--debuginfo-search", "--debuginfo-root", str(root), str(LZO)])
    assert res.exit_code == 0, res.output
    stacks = json.loads(res.output)["dump"]["tasks"]["stacks"]
    assert len(stacks) > 10
    assert all(s["comm"].startswith("comm-") for s in stacks), [s["comm"] for s in stacks][:10]
