"""`triage analyze` through click's CliRunner and as a user runs it, on real logs and dumps.

Oracles: the expected category and culprit module of each scenario
(sample_dumps/manifest.json, filled from the serial consoles; before it
exists, sample_dumps/dumpgen/scenarios.py), the documented exit codes
(docs/exit-codes.md) and the JSON schema (docs/json-schema.md).
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _realdumps import DUMP_DIRS, ROOT, finished_generated_dumps  # noqa: E402

from triage.cli import cli  # noqa: E402


def _scenario_dirs():
    """Directories holding a finished scenario's serial.log: every committed one, and those
    of sample_dumps/out whose dumps its manifest.json lists (others may still be running)."""
    out = []
    for top in DUMP_DIRS:
        if not top.is_dir():
            continue
        finished = None
        if top.name.startswith("out"):
            finished = {run for _p, run in finished_generated_dumps([top])}
        for d in sorted(top.iterdir()):
            log = d / "serial.log"
            if log.is_file() and (finished is None or d.name in finished):
                out.append(d)
    return out


def _manifests():
    """(manifest path, its document) for the committed set and the generated matrix."""
    out = []
    for top in [ROOT / "sample_dumps", *DUMP_DIRS]:
        man = top / "manifest.json"
        if man.is_file():
            out.append((man, json.loads(man.read_text())))
    return out


def _expected():
    """scenario name -> (category, module) from the manifests (filled from the serial logs),
    else the generator's declared intent."""
    sys.path.insert(0, str(ROOT / "sample_dumps"))
    from dumpgen.scenarios import SCENARIOS
    exp = {n: (s.expected_category, s.expected_module) for n, s in SCENARIOS.items()}
    for _man, doc in _manifests():
        for it in doc.get("dumps", []):
            e = it.get("expected") or {}
            if it.get("scenario") and e.get("category"):
                exp[it["scenario"]] = (e["category"], e.get("culprit_module"))
    return exp


def _manifest_entries():
    out = []
    for man, doc in _manifests():
        for it in doc.get("dumps", []):
            p = man.parent / it["path"]
            if p.is_file() and (it.get("expected") or {}).get("category"):
                out.append((p, it))
    return out


def _scenario_of(d: Path):
    text = (d / "serial.log").read_text(errors="replace")
    import re
    m = re.search(r"triage\.scenario=(\w+)", text)
    return m.group(1) if m else None


DIRS = _scenario_dirs()
needs_logs = pytest.mark.skipif(not DIRS, reason="no generated scenario serial logs (run sample_dumps generator)")


def _analyze(*args):
    return CliRunner().invoke(cli, ["analyze", *map(str, args)], catch_exceptions=False)


@needs_logs
@pytest.mark.parametrize("d", DIRS, ids=[d.name for d in DIRS])
def test_serial_logs_category_and_culprit(d):
    scen = _scenario_of(d)
    exp = _expected().get(scen)
    assert exp, f"no expectation for scenario {scen}"
    r = _analyze(d / "serial.log", "--format", "json")
    assert r.exit_code == 0, r.output
    v = json.loads(r.output)["verdict"]
    assert (v["category"], v["culprit"]["module"]) == exp


DATA = ROOT / "tests" / "data" / "analyze"
GPU_ALLOC_LOGS = [DATA / "gpu_alloc_null.serial.log"] + [d / "serial.log" for d in DIRS
                                                          if _scenario_of(d) == "gpu_alloc_null"]


@pytest.mark.parametrize("log", GPU_ALLOC_LOGS, ids=[str(p.relative_to(ROOT)) for p in GPU_ALLOC_LOGS])
def test_gpu_alloc_null_story(log):
    r = _analyze(log, "--format", "json")
    data = json.loads(r.output)
    v = data["verdict"]
    assert v["category"] == "gpu_alloc_fail_null_deref"
    assert v["culprit"]["module"] == "nvidia" and v["culprit"]["is_gpu_driver"]
    assert v["culprit"]["proprietary"] and v["culprit"]["out_of_tree"]   # nvidia(POE)
    mem = next(h for h in data["hypotheses"] if h["name"] == "memory_exhaustion")
    # the serial log shows DMA32 free far above min and no OOM kill
    assert mem["status"] == "ruled_out", mem
    assert "min watermark" in mem["reason"] and "OOM killer never ran" in mem["reason"]
    kinds = [e["kind"] for e in data["timeline"]]
    assert kinds.index("vmalloc_failure") < kinds.index("null_deref")
    assert data["contributing"] and data["contributing"][-1]["module"] == "nvidia"
    text = _analyze(log).output
    assert text.splitlines()[0] == v["title"]
    assert "in the same module" in text.replace("\n  ", " ")


@needs_logs
def test_all_formats_render(tmp_path):
    log = DIRS[0] / "serial.log"
    for fmt in ("text", "json", "markdown", "html"):
        out = tmp_path / f"r.{fmt}"
        r = _analyze(log, "--format", fmt, "--output", out)
        assert r.exit_code == 0 and r.output == ""
        body = out.read_text()
        assert body.strip()
        if fmt == "html":
            assert body.startswith("<!DOCTYPE html>") and "http" not in body.split("<body>")[0].replace(
                "http-equiv", "")


def _run(*args):
    return subprocess.run([sys.executable, "-m", "triage", *map(str, args)], capture_output=True, text=True)


def test_missing_file_is_one_line_exit_3(tmp_path):
    r = _run("analyze", tmp_path / "nope")
    assert r.returncode == 3
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("triage: error:")


def test_not_a_log_exit_4(tmp_path):
    p = tmp_path / "bin"
    p.write_bytes(bytes(range(256)) * 64)
    r = _run("analyze", p)
    assert r.returncode == 4 and r.stderr.count("\n") == 1


def test_bad_signature_dir_exit_8(tmp_path):
    log = tmp_path / "k.log"
    log.write_text("[    1.000000] Kernel panic - not syncing: sysrq triggered crash\n")
    sig = tmp_path / "sigs"
    sig.mkdir()
    (sig / "broken.toml").write_text("[[rule]]\nid = 'x'\ncategory = \n")
    r = _run("analyze", log, "--signatures", sig)
    assert r.returncode == 8, r.stderr
    assert "broken.toml" in r.stderr and r.stderr.count("\n") == 1


def test_hostile_log_text_and_html_are_escaped(tmp_path):
    """A crash line carrying ESC sequences, <script>, C0/C1 controls and invalid UTF-8."""
    evil = (b"[    5.000000] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
            b"[    5.000000] RIP: 0010:evil\x1b[2J\x1b]0;owned\x07+0x1/0x2 [m<script>alert(1)</script>]\n"
            b"[    5.000001] \xff\xfe\x9b31m comm <img src=x onerror=alert(1)> \x7f\x08\x00\n"
            b"[    5.100000] Kernel panic - not syncing: Fatal exception \x1b[31mred\xc3\n")
    p = tmp_path / "evil.log"
    p.write_bytes(evil)
    for fmt in ("text", "markdown", "html", "json"):
        r = _run("analyze", p, "--format", fmt)
        assert r.returncode == 0, r.stderr
        out = r.stdout
        assert "\x1b" not in out and "\x07" not in out and "\x00" not in out and "\x9b" not in out
        if fmt == "html":
            assert "<script>" not in out and "<img" not in out
        if fmt == "json":
            json.loads(out)


def test_partial_dump_exit_6(tmp_path):
    """A dump cut at 90% still gets the full dump's verdict, says it is partial, exits 6."""
    dumps = [p for top in DUMP_DIRS if top.is_dir() for p in top.rglob("vmcore*")
             if p.is_file() and p.stat().st_size > 1 << 20 and "paging" not in p.name]
    if not dumps:
        pytest.skip("no real dump generated yet (sample_dumps generator)")
    src = sorted(dumps, key=lambda p: p.stat().st_size)[0]
    cut = tmp_path / "vmcore"
    for keep in (0.9, 0.95, 0.98, 0.995):
        with open(src, "rb") as f, open(cut, "wb") as g:
            # keep most of it: headers and most memory, not the end of the file
            g.write(f.read(int(src.stat().st_size * keep)))
        r = _run("analyze", cut, "--format", "json")
        # a cut that took the log's own pages is exit 5, saying so (test_damage_named):
        # keep more of the file until the log is in it
        if not (r.returncode == 5 and "before its kernel log" in r.stderr):
            break
    full = json.loads(_run("analyze", src, "--format", "json").stdout)
    assert r.returncode == 6, r.stderr
    assert r.stderr.count("\n") == 1 and "partial" in r.stderr
    data = json.loads(r.stdout)
    assert data["source"]["partial"] and data["source"]["problems"]
    if data["verdict"]["category"] != full["verdict"]["category"]:
        # the cut took the log's own pages (kdump files store pages in physical order): the
        # report must then say that nothing was found only in what could be read
        assert data["verdict"]["category"] == "none", data["verdict"]
        assert "partial" in data["verdict"]["title"]
    text = _run("analyze", cut).stdout
    # in the verdict block, before the first section (its lines wrap with the width:
    # pytest exports COLUMNS=80 to the child)
    head = text.split("\n\n", 1)[0].splitlines()
    assert any(ln.startswith("  PARTIAL INPUT:") for ln in head), text[:600]


def test_sysrq_fixture():
    data = json.loads(_analyze(DATA / "sysrq.serial.log", "--format", "json").output)
    assert data["verdict"]["category"] == "sysrq" and data["verdict"]["culprit"]["module"] is None
    hyp = {h["name"]: h["status"] for h in data["hypotheses"]}
    assert hyp == {"memory_exhaustion": "ruled_out", "gpu_driver_fault": "ruled_out",
                   "hardware": "ruled_out", "intentional": "supported"}


def test_syslog_copy_of_the_crash(tmp_path):
    """The same crash as /var/log/messages holds it after a reboot (syslog prefixes)."""
    src = (DATA / "gpu_alloc_null.serial.log").read_text(errors="replace").splitlines()
    p = tmp_path / "messages"
    p.write_text("".join(f"Nov 29 15:13:{i % 60:02d} gpu-node-7 kernel: {ln}\n"
                         for i, ln in enumerate(src) if ln.startswith("[")))
    data = json.loads(_analyze(p, "--format", "json").output)
    assert data["verdict"]["category"] == "gpu_alloc_fail_null_deref"
    assert data["verdict"]["culprit"]["module"] == "nvidia"
    assert data["system"]["hostname"] == "gpu-node-7"


@pytest.mark.slow
def test_hostile_big_log_bounded_memory(tmp_path):
    """200k lines of escape sequences and invalid UTF-8 plus one 50 MB line around a real crash:
    same verdict as the clean log, escaped output, child peak RSS bounded."""
    base = (DATA / "gpu_alloc_null.serial.log").read_bytes().split(b"\n")
    p = tmp_path / "hostile.log"
    with open(p, "wb") as f:
        f.write(b"\n".join(base[:300]) + b"\n")
        for i in range(200_000):
            f.write(b"[%12.6f] usb 1-1: \x1b[31mx\x1b]0;t\x07 <script>x</script> \xff\xfe %d\n" % (6 + i / 1e7, i))
        f.write(b"[    6.100000] " + b"A" * 50_000_000 + b"\n")
        f.write(b"\n".join(base[300:]) + b"\n")
    # the child reports its own peak RSS as VmHWM: ru_maxrss would include the high-water
    # mark of the (large) pytest process it was forked from, which exec carries over
    code = ("import sys\nfrom triage.cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit as e:\n    rc = e.code\n"
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
            "sys.stderr.write('PEAK_KB=%s\\n' % hwm)\n"
            "sys.exit(rc)\n")
    r = subprocess.run([sys.executable, "-c", code, "analyze", str(p)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    peak_kb = int(r.stderr.split("PEAK_KB=")[1].split()[0])
    assert r.stdout.splitlines()[0].startswith("BUG: kernel NULL pointer dereference in nv_gpu_init_channel")
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    # the file is ~70 MB; streaming keeps the process far below that plus the interpreter
    assert peak_kb < 200_000, peak_kb


def test_user_signature_dir_overrides_a_rule(tmp_path):
    """A rule in --signatures DIR with a built-in id replaces it (site policy: fencing crashes)."""
    sig = tmp_path / "site"
    sig.mkdir()
    (sig / "fencing.toml").write_text('''
[[rule]]
id = "sysrq-crash"
title = "fenced by the cluster manager (sysrq crash)"
category = "sysrq"
severity = "info"
priority = 95
guilty = "none"
meaning = "Our pacemaker fencing agent crashes hosts through sysrq."
next_steps = ["Read the pacemaker log of the surviving node."]
[rule.match]
kind = "sysrq"
''')
    r = _analyze(DATA / "sysrq.serial.log", "--signatures", sig, "--format", "json")
    v = json.loads(r.output)["verdict"]
    assert v["title"] == "fenced by the cluster manager (sysrq crash)" and v["severity"] == "info"
    assert v["next_steps"][0] == "Read the pacemaker log of the surviving node."


from _realdumps import dump_files, serial_log_for  # noqa: E402

DUMPS = dump_files("any")


UNLISTED = [p for p in DUMPS if p.resolve() not in {m.resolve() for m, _ in _manifest_entries()}]


@pytest.mark.skipif(not UNLISTED, reason="every real dump is listed in a manifest (test_manifest_dump)")
@pytest.mark.parametrize("dump", UNLISTED, ids=[str(p.relative_to(ROOT)) for p in UNLISTED])
def test_dump_gets_the_serial_logs_verdict(dump):
    """Oracle: the scenario's expected category/culprit and the kernel release the serial console printed."""
    import re
    serial = serial_log_for(dump)
    assert serial is not None, f"no serial.log next to {dump}"
    scen = _scenario_of(serial.parent)
    r = _run("analyze", dump, "--format", "json")
    assert r.returncode in (0, 6), r.stderr
    data = json.loads(r.stdout)
    exp = _expected().get(scen)
    assert exp is not None, scen
    assert (data["verdict"]["category"], data["verdict"]["culprit"]["module"]) == exp
    release = re.search(r"Linux version (\S+)", serial.read_text(errors="replace")).group(1)
    assert data["system"]["kernel_release"] == release
    assert data["source"]["kind"] == "vmcore"


def test_output_to_missing_directory_is_one_line_output_error(tmp_path):
    r = _run("analyze", DATA / "sysrq.serial.log", "--output", tmp_path / "no" / "such" / "r.txt")
    assert r.returncode == 11, r.stderr     # docs/exit-codes.md: the output could not be written
    assert r.stderr.count("\n") == 1 and "cannot write the report" in r.stderr


def test_output_file_is_complete_and_readable(tmp_path):
    out = tmp_path / "r.json"
    r = _run("analyze", DATA / "gpu_alloc_null.serial.log", "--format", "json", "--output", out)
    assert r.returncode == 0 and r.stdout == ""
    assert json.loads(out.read_text())["verdict"]["category"] == "gpu_alloc_fail_null_deref"
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)    # an ordinary file, not mkstemp's 0600
    assert not list(tmp_path.glob(".triage-*"))              # no temporary left behind


DMESG_TEXTS = sorted(p for d in DIRS for p in d.rglob("*dmesg*.txt") if p.stat().st_size > 0)


@pytest.mark.skipif(not DMESG_TEXTS, reason="no vmcore-dmesg / makedumpfile --dump-dmesg outputs generated")
@pytest.mark.parametrize("path", DMESG_TEXTS, ids=[str(p.relative_to(ROOT)) for p in DMESG_TEXTS])
def test_peer_dmesg_text_gets_the_same_verdict(path):
    """vmcore-dmesg.txt (kexec-tools) and makedumpfile --dump-dmesg output of a real crash are
    analysed like the dump: the scenario's category and culprit module."""
    scen_dir = next(d for d in DIRS if d in path.parents)
    exp = _expected()[_scenario_of(scen_dir)]
    r = _analyze(path, "--format", "json")
    v = json.loads(r.output)["verdict"]
    assert (v["category"], v["culprit"]["module"]) == exp


MANIFEST = _manifest_entries()


@pytest.mark.skipif(not MANIFEST, reason="no sample_dumps manifest.json yet")
@pytest.mark.parametrize("dump,entry", MANIFEST, ids=[str(p.relative_to(ROOT)) for p, _ in MANIFEST])
def test_manifest_dump(dump, entry):
    """Oracle: sample_dumps/manifest.json, whose expected category, culprit module and earlier
    events the generator fills from the dump's serial console."""
    r = _run("analyze", dump, "--format", "json")
    assert r.returncode in (0, 6), r.stderr
    data = json.loads(r.stdout)
    exp = entry["expected"]
    assert data["verdict"]["category"] == exp["category"]
    assert data["verdict"]["culprit"]["module"] == exp.get("culprit_module")
    if entry.get("kernel_release"):
        assert data["system"]["kernel_release"] == entry["kernel_release"]
    seen = {e["kind"] for e in data["contributing"]} | {e["kind"] for e in data["timeline"]}
    for ev in exp.get("events") or []:
        # the generator's event names -> event kinds of the parser
        want = {"alloc_failure": {"alloc_failure", "vmalloc_failure"}, "warn": {"warning"}}.get(ev, {ev})
        assert seen & want, f"expected earlier event {ev} not in contributing/timeline: {sorted(seen)}"
    if exp["category"] in ("oom_panic",):
        assert next(h for h in data["hypotheses"] if h["name"] == "memory_exhaustion")["status"] == "supported"
    if exp["category"] == "gpu_alloc_fail_null_deref":
        mem = next(h for h in data["hypotheses"] if h["name"] == "memory_exhaustion")
        # the scenario asks vmalloc for 64 GiB on a guest of at most 1 GiB: the request is impossible
        # while free memory stays far above the watermarks (the serial log's Mem-Info shows it)
        assert mem["status"] == "ruled_out" and "min watermark" in mem["reason"], mem


KDUMP_VMCORES = [p for p in DUMPS if p.name == "vmcore"]


@pytest.mark.skipif(not KDUMP_VMCORES or not shutil.which("makedumpfile"),
                    reason="needs an in-guest kdump vmcore and makedumpfile")
def test_split_dump_parts(tmp_path):
    """`makedumpfile --split` parts of a real kdump vmcore, given in either order, get the
    verdict of the whole vmcore (oracle: the unsplit dump's own analysis)."""
    src = KDUMP_VMCORES[0]
    parts = [tmp_path / "vmcore.1", tmp_path / "vmcore.2"]
    r = subprocess.run(["makedumpfile", "--split", "-l", "-d", "31", str(src), *map(str, parts)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    whole = json.loads(_run("analyze", src, "--format", "json").stdout)["verdict"]
    for order in (parts, parts[::-1]):
        res = _run("analyze", *order, "--format", "json")
        assert res.returncode == 0, res.stderr
        v = json.loads(res.stdout)["verdict"]
        assert (v["category"], v["title"], v["culprit"]["module"]) == \
            (whole["category"], whole["title"], whole["culprit"]["module"])


def test_serial_capture_with_stray_nuls(tmp_path):
    """Serial captures pick up NUL bytes (line noise at reset); the log is still a log."""
    data = (DATA / "gpu_alloc_null.serial.log").read_bytes()
    p = tmp_path / "serial.log"
    p.write_bytes(b"\0\0" + data[:5000] + b"\0" + data[5000:])
    v = json.loads(_analyze(p, "--format", "json").output)["verdict"]
    assert (v["category"], v["culprit"]["module"]) == ("gpu_alloc_fail_null_deref", "nvidia")


def test_format_from_output_extension(tmp_path):
    from triage.findings import SCHEMA_VERSION
    for name, check in (("r.json", lambda t: json.loads(t)["schema_version"] == SCHEMA_VERSION),
                        ("r.html", lambda t: t.startswith("<!DOCTYPE html>")),
                        ("r.md", lambda t: t.startswith("# ")),
                        ("r.txt", lambda t: t.startswith("sysrq"))):
        out = tmp_path / name
        assert _analyze(DATA / "sysrq.serial.log", "-o", out).exit_code == 0
        assert check(out.read_text()), name
    # an explicit --format wins over the extension
    out = tmp_path / "x.html"
    _analyze(DATA / "sysrq.serial.log", "-o", out, "--format", "json")
    assert json.loads(out.read_text())
