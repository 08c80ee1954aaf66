"""Dump facts in `triage analyze`: present in every format, optional, and degrading
to a stated reason (never a traceback) when drgn, kallsyms or BTF fail."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

pytest.importorskip("drgn")

from triage.analysis import analyze_path  # noqa: E402
from triage.facts import read_dump_facts  # noqa: E402
from triage.report.render import render  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LZO = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"
FLAT = ROOT / "sample_dumps" / "committed" / "oom_panic-qemu-flat-zlib-nokaslr" / "vmcore.flat"


@pytest.fixture(scope="module")
def diag():
    return analyze_path(str(LZO), facts=True)


def test_analyze_json_carries_dump_and_verdict_is_unchanged(diag):
    plain = analyze_path(str(LZO))
    assert plain.dump is None
    assert plain.verdict == diag.verdict
    # the log has Mem-Info: the dump cross-checks the memory hypothesis, never flips it
    assert [(h.name, h.status) for h in plain.hypotheses] == [(h.name, h.status) for h in diag.hypotheses]
    mem = diag.hypotheses[0]
    assert mem.reason.startswith(plain.hypotheses[0].reason) and "the dump at the crash" in mem.reason
    d = json.loads(render(diag, "json"))["dump"]
    assert d["source"]["method"] == "btf+kallsyms" and d["source"]["btf"]["types"] > 50000
    assert [z["name"] for z in d["memory"]["zones"]] == ["DMA", "DMA32"]
    assert {m["name"] for m in d["modules"]} >= {"nvidia"}


@pytest.mark.parametrize("fmt,marker", [("text", "Memory zones (pages)"), ("markdown", "## Memory zones (pages)"),
                                        ("html", "<h2>Memory zones (pages)</h2>")])
def test_every_format_shows_the_facts(diag, fmt, marker):
    out = render(diag, fmt)
    assert marker in out and "nvidia" in out and "DMA32" in out


def test_hostile_task_names_are_escaped(diag):
    import copy
    d = copy.deepcopy(diag)
    d.dump["tasks"]["top_rss"] = [{"pid": 7, "comm": "\x1b[2Jevil<script>", "rss_pages": 1}]
    assert "\x1b" not in render(d, "text")
    html = render(d, "html")
    assert "<script>" not in html and "\x1b" not in html


def test_corrupt_btf_degrades_with_a_reason(monkeypatch):
    import triage.facts.program as P
    monkeypatch.setattr(P, "read_btf", lambda prog: b"\x9f\xeb\x01\x00" + b"\xff" * 100)
    got = read_dump_facts([str(LZO)])
    # the VMCOREINFO fallback takes over (tests/facts/test_fallback.py checks its values)
    assert got["source"]["method"] == "vmcoreinfo" and got["memory"]["zones"] and got["tasks"] is None
    assert "BTF" in _why_not_drgn(got)


def _why_not_drgn(got):
    """Why the BTF+kallsyms facts were not read: the first note of a VMCOREINFO-only
    result, else `unavailable`."""
    src = got["source"]
    if src["method"] == "vmcoreinfo":
        note = src["notes"][0]
        assert note.startswith("BTF+kallsyms facts not read: ")
        return note[len("BTF+kallsyms facts not read: "):]
    return src["unavailable"]


def test_no_drgn_degrades_with_a_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "drgn", None)
    got = read_dump_facts([str(LZO)])
    assert _why_not_drgn(got).startswith("drgn is not installed")


def test_flattened_dump_is_served_by_triage_reader():
    got = read_dump_facts([str(FLAT)])
    assert got["source"]["memory"] == "triage reader" and got["tasks"]["panic"]["comm"] == "hog"


def test_cli_no_facts_and_exit_code():
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "triage", "analyze", "--no-facts", "--format", "json", str(LZO)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["dump"] is None


def test_shell_runs_drgn_on_the_dump():
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    r = subprocess.run([sys.executable, "-m", "triage", "shell", str(FLAT)], env=env, capture_output=True,
                       text=True, timeout=120,
                       input='print(prog["init_task"].comm.string_())\n'
                             'print("tasks", len(list(for_each_task(prog))))\n')
    assert r.returncode == 0, r.stderr
    assert "b'swapper/0'" in r.stdout and "BTF + kallsyms" in r.stderr      # the banner goes to stderr
    want = json.loads(Path(str(FLAT) + ".facts-oracle.json").read_text())["facts"]["tasks"]["count"]
    assert f"tasks {want}" in r.stdout


def test_shell_refuses_a_text_log():
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    log = LZO.parent / "vmcore-dmesg.txt"
    r = subprocess.run([sys.executable, "-m", "triage", "shell", str(log)], env=env, capture_output=True, text=True)
    assert r.returncode == 4 and "not a vmcore" in r.stderr and "Traceback" not in r.stderr


KALLSYMS_KEYS = ["kallsyms_num_syms", "kallsyms_names", "kallsyms_token_table", "kallsyms_token_index",
                 "kallsyms_offsets", "kallsyms_relative_base", "kallsyms_markers", "_stext"]


def _with_vmcoreinfo_symbol_moved(monkeypatch, key, delta):
    import re
    import triage.logsource as L
    orig = L.open_reader

    def patched(paths):
        r = orig(paths)
        raw = r.vmcoreinfo()
        moved = re.sub(rf"SYMBOL\({key}\)=([0-9a-f]+)",
                       lambda m: f"SYMBOL({key})={(int(m.group(1), 16) + delta) % (1 << 64):x}", raw)
        r.vmcoreinfo = lambda: moved
        return r
    monkeypatch.setattr(L, "open_reader", patched)


def test_num_syms_is_bounded_before_drgn_allocates(monkeypatch):
    # kallsyms_num_syms pointed at a word holding a huge count
    import struct
    from triage.facts.program import open_program
    o = open_program([str(FLAT)])
    try:
        from triage.dumps.vmcoreinfo import parse_vmcoreinfo
        from triage.logsource import open_reader
        with open_reader([str(FLAT)]) as r:
            addr = parse_vmcoreinfo(r.vmcoreinfo()).symbol("kallsyms_num_syms")
        words = struct.unpack("<2048I", o.prog.read(addr - 4096, 8192))
    finally:
        o.close()
    i = next(i for i in range(2048) if words[i] > (1 << 22))
    _with_vmcoreinfo_symbol_moved(monkeypatch, "kallsyms_num_syms", -4096 + 4 * i)
    got = read_dump_facts([str(FLAT)])
    why = _why_not_drgn(got)
    assert "kallsyms_num_syms" in why and "not plausible" in why


@settings(max_examples=16, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(KALLSYMS_KEYS),
       delta=st.one_of(st.integers(-4096, 4096), st.integers(-(1 << 40), 1 << 40)))
def test_damaged_kallsyms_tables_degrade(monkeypatch, key, delta):
    """VMCOREINFO's kallsyms pointers moved (the tables then read as garbage):
    read_dump_facts returns, facts or a stated reason, never raises."""
    import time
    with monkeypatch.context() as m:
        _with_vmcoreinfo_symbol_moved(m, key, delta)
        t = time.monotonic()
        got = read_dump_facts([str(FLAT)])
        assert time.monotonic() - t < 60
    assert got["source"]["method"] == "vmcoreinfo" and _why_not_drgn(got) or got["tasks"] is not None


def test_html_memory_picture_is_inline_svg_with_escaped_names(diag):
    import copy
    import xml.dom.minidom
    from triage.report.memsvg import memory_svg
    from triage.report.escape import safe_html
    html = render(diag, "html")
    assert html.count("<svg") == 2 and "free blocks by order" in html
    d = copy.deepcopy(diag.dump)
    d["memory"]["zones"][0]["name"] = "<script>x</script>"
    svg = memory_svg(d, safe_html)
    assert "<script>" not in svg
    for part in svg.split("</svg>")[:-1]:        # each chart is well-formed XML
        xml.dom.minidom.parseString(part[part.index("<svg"):] + "</svg>")
    assert memory_svg({"memory": {"zones": []}}, safe_html) == ""


def test_redact_covers_the_dump_task_names(diag):
    from triage.redact import redact
    r = redact(diag)
    comms = [t["comm"] for t in r.dump["tasks"]["top_rss"]] + [r.dump["tasks"]["panic"]["comm"]]
    assert comms and all(c.startswith("comm-") for c in comms), comms
    assert '"init"' not in json.dumps(r.dump["tasks"])
    assert "nv_gpu_init_channel" in r.dump["tasks"]["panic"]["stack"][0]     # functions stay readable
