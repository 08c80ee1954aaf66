"""GPU decisions: one list (signatures data), no process-global state,
built-in drivers by function prefix, exact module matching, the Xid taxonomy."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage.analysis import analyze_lines, load_ruleset
from triage.classify import load_rules
from triage.diagnosis.gpu import GpuKnowledge, builtin_knowledge
from triage.events.model import Frame
from triage.report.render import render

ROOT = Path(__file__).resolve().parents[2]
SERIAL = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "serial.log"


def _serial_lines():
    if not SERIAL.is_file():
        pytest.skip(f"{SERIAL} missing")
    return SERIAL.read_text(errors="surrogateescape").splitlines()


def _json(diag) -> dict:
    d = json.loads(render(diag, "json"))
    d["source"]["path"] = "-"
    return d


def test_diagnose_answers_the_same_whatever_ran_before(tmp_path):
    """A RuleSet that calls qemu_fw_cfg a GPU driver changes that analysis
    only: the next one with the default rules equals a fresh process's."""
    lines = _serial_lines()
    extra = tmp_path / "sigs"
    extra.mkdir()
    (extra / "more_gpus.toml").write_text('[lists]\ngpu_modules = ["qemu_fw_cfg"]\n')
    with_extra = analyze_lines(lines, rules=load_ruleset([str(extra)]))
    assert {m["name"]: m["gpu"] for m in with_extra.system.modules_of_interest}.get("qemu_fw_cfg") is True
    after = _json(analyze_lines(lines, rules=load_ruleset()))
    assert "qemu_fw_cfg" not in {m["name"] for m in after["system"]["modules_of_interest"]}
    code = ("import json,sys; from triage.analysis import analyze_lines; from triage.report.render import render; "
            "d=json.loads(render(analyze_lines(open(sys.argv[1], errors='surrogateescape').read().splitlines()),'json')); "
            "d['source']['path']='-'; print(json.dumps(d))")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("TRIAGE_SIGNATURES", None)
    out = subprocess.run([sys.executable, "-c", code, str(SERIAL)], capture_output=True, text=True, env=env,
                         check=True, timeout=120).stdout
    assert after == json.loads(out)


def test_one_list_from_the_signature_data():
    k = builtin_knowledge()
    rules = load_rules()
    assert k.modules == frozenset(rules.lists["gpu_modules"])
    assert k.is_gpu_module("nvidia-uvm") and k.is_gpu_module("amdgpu")
    # exact names: a module whose name merely starts like a GPU driver's is not one
    assert not k.is_gpu_module("nvidiafoo") and not k.is_gpu_module("nvme") and not k.is_gpu_module("i915x")


@pytest.mark.parametrize("function,driver", [
    ("amdgpu_vm_bo_update", "amdgpu"), ("amdgpu_dm_atomic_commit_tail", "amdgpu"), ("gfx_v9_0_ring_emit_ib", "amdgpu"),
    ("i915_gem_do_execbuffer", "i915"), ("intel_atomic_commit_tail", "i915"), ("gen8_write32", "i915"), ("nouveau_bo_move", "nouveau"),
    ("nvkm_fifo_chan_put", "nouveau"), ("drm_gem_object_free", "drm"), ("ttm_bo_vm_fault", "ttm"),
    # drm_atomic_helper.c is built into the drm_kms_helper module (drivers/gpu/drm/Makefile)
    ("drm_atomic_helper_commit", "drm_kms_helper"),
    ("drm_sched_job_timedout", "gpu_sched"), ("radeon_ring_lock", "radeon"), ("_nv011745rm", "nvidia"),
    # prefixes other subsystems share are not GPU drivers
    ("intel_idle", None), ("intel_pstate_set_pstate", None), ("intel_iommu_map", None), ("nv_open", None),
    ("dm_table_create", None), ("xen_hvm_init", None), ("nvme_queue_rq", None), ("drmem_update_dt", None),
])
def test_builtin_driver_by_prefix(function, driver):
    k = builtin_knowledge()
    assert k.builtin_driver(function) == driver
    # a [module] tag, when present, decides: a GPU-looking name in a non-GPU module is not the GPU driver
    assert k.frame_driver(Frame(function, 1, 2, "acme_storage")) is None
    assert k.frame_driver(Frame(function, 1, 2, None)) == driver


def _builtin_amdgpu_lines():
    """The real nvidia NULL-dereference log as a built-in amdgpu would print it: no [module] tags."""
    out = []
    for ln in _serial_lines():
        ln = ln.replace("nv_gpu_init_channel.constprop.0.isra.0", "amdgpu_vm_bo_update")
        ln = ln.replace("nv_trigger_write", "amdgpu_cs_ioctl").replace(" [nvidia]", "")
        ln = ln.replace("nvidia(POE) ", "")
        out.append(ln)
    return out


def test_builtin_gpu_driver_is_named_by_its_prefix():
    d = analyze_lines(_builtin_amdgpu_lines())
    c = d.verdict.culprit
    assert (c.module, c.function, c.is_gpu_driver) == ("amdgpu", "amdgpu_vm_bo_update", True)
    assert d.verdict.category.startswith("gpu_")
    assert next(h for h in d.hypotheses if h.name == "gpu_driver_fault").status == "supported"


def test_comm_named_like_a_module_is_not_that_module():
    """An allocation failure in a task called nvidia-smi (no nvidia frame) does not
    make a later NULL dereference in nvidia an "allocation failure + NULL" crash."""
    def variant(comm):
        out, skip = [], False
        for ln in _serial_lines():
            if "vmalloc error:" in ln:
                ln = ln.replace("init: vmalloc error", f"{comm}: vmalloc error")
                skip = True
            elif skip and "Comm: init" in ln:
                ln = ln.replace("Comm: init", f"Comm: {comm}")
            elif skip and ("Call Trace" in ln or "[nvidia]" in ln or "<TASK>" in ln or "+0x" in ln):
                continue   # drop the failed allocation's stack: only the comm names nvidia
            elif skip and "Mem-Info" in ln:
                skip = False
            out.append(ln)
        return analyze_lines(out)

    d = variant("nvidia")
    assert d.verdict.culprit.module == "nvidia"
    # the comm "nvidia" equals the module: the exact match still links them
    assert d.verdict.category == "gpu_alloc_fail_null_deref"
    for comm in ("nvidia-smi", "nvidia_persistenced", "nvidiactl"):
        assert variant(comm).verdict.category == "gpu_null_deref", comm


def test_xid_taxonomy_is_the_data_file():
    k = builtin_knowledge()
    assert k.xid(79).cause == "bus" and k.xid(48).cause == "memory" and k.xid(31).cause == "application"
    assert k.xid(119).cause == "driver" and k.xid(999) is None
    assert k.is_hardware_xid(48) and not k.is_hardware_xid(13) and not k.is_hardware_xid(None)


def test_custom_xid_entry_changes_rule_and_hypothesis(tmp_path):
    """The rule and the hypotheses read the same taxonomy: re-classing an Xid moves both."""
    line = "[ 5512.000001] NVRM: Xid (PCI:0000:86:00): 13, pid=4411, name=python3, Graphics Exception: ESR 0x404600"
    d = analyze_lines([line])
    assert d.verdict.signature == "nvrm-xid" and "graphics engine exception" in d.verdict.title
    assert next(h for h in d.hypotheses if h.name == "hardware").status == "ruled_out"
    extra = tmp_path / "sigs"
    extra.mkdir()
    (extra / "xid.toml").write_text('[xid]\n13 = { name = "site says: bad board", cause = "hardware" }\n')
    d = analyze_lines([line], rules=load_ruleset([str(extra)]))
    assert d.verdict.signature == "nvrm-xid-hardware" and "site says: bad board" in d.verdict.title
    assert next(h for h in d.hypotheses if h.name == "hardware").status == "supported"
    assert next(h for h in d.hypotheses if h.name == "gpu_driver_fault").status == "ruled_out"


def test_gpu_knowledge_from_rules_is_plain_data():
    a = GpuKnowledge.from_rules(load_rules())
    b = GpuKnowledge.from_rules(load_rules())
    assert a.modules == b.modules and dict(a.prefixes) == dict(b.prefixes)


@pytest.mark.parametrize("body,why", [
    ('[xid]\n13 = { name = "x", cause = "cosmic rays" }\n', "cause"),
    ('[xid]\nabc = { name = "x", cause = "driver" }\n', "number"),
    ('[xid]\n13 = { name = "x", cause = "driver", also = ["gremlins"] }\n', "also"),
    ('[gpu_prefixes]\namdgpu = [""]\n', "non-empty"),
])
def test_bad_gpu_data_is_a_signature_error(tmp_path, body, why):
    from triage.errors import SignatureError
    (tmp_path / "bad.toml").write_text(body)
    with pytest.raises(SignatureError, match=why):
        load_ruleset([str(tmp_path)])
