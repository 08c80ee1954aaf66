"""nouveau's core built as its own nvkm.ko (NVIDIA's vGPU series splits
drivers/gpu/drm/nouveau/nvkm out of nouveau.ko) is a GPU driver module
([lists] gpu_modules and [gpu_devices] in signatures/lists.toml): a NULL
dereference in a [nvkm] frame is a GPU driver's (posted 1015); nvkm loaded
beside a crash elsewhere is not."""

from triage.analysis import analyze_lines
from triage.diagnosis.diagnose import SourceInfo

from _posted import posted_lines

HEAD = [
    "[  547.662532] BUG: kernel NULL pointer dereference, address: 0000000000000020",
    "[  547.669485] #PF: supervisor read access in kernel mode",
    "[  547.674624] #PF: error_code(0x0000) - not-present page",
    "[  547.679755] PGD 0 P4D 0",
    "[  547.682294] Oops: 0000 [#1] PREEMPT SMP NOPTI",
    "[  547.682300] Modules linked in: nvkm nouveau drm_gpuvm gpu_sched ext4",
    "[  547.686643] CPU: 22 PID: 322 Comm: kworker/22:1 Tainted: G            E      6.9.0-rc6+ #1",
]


def _diag(rip: str, frames):
    lines = HEAD + [f"[  547.713375] RIP: 0010:{rip}", "[  547.799046] Call Trace:", "[  547.801152]  <TASK>"]
    lines += [f"[  547.820341]  {f}" for f in frames]
    return analyze_lines(lines, SourceInfo(path="x.log", kind="log", format="text"))


def test_null_deref_in_nvkm_is_a_gpu_driver_fault():
    d = _diag("r535_gsp_msg_recv+0x87/0x230 [nvkm]",
              ["r535_gsp_msg_recv+0x87/0x230 [nvkm]", "r535_gsp_msgq_work+0x42/0x50 [nvkm]",
               "process_one_work+0x196/0x3d0", "worker_thread+0x2e0/0x3f0", "kthread+0xe1/0x110"])
    assert d.verdict.category == "gpu_null_deref"
    assert d.verdict.culprit.module == "nvkm"


def test_posted_1015_is_nvkm_s_null_dereference():
    # the real log the lines above are quoted from (labels.toml: gpu_null_deref, nvkm)
    v = analyze_lines(posted_lines("1015")).verdict
    assert (v.category, v.culprit.module, v.culprit.function) == ("gpu_null_deref", "nvkm", "r535_gsp_msg_recv")


def test_nvkm_loaded_beside_a_core_crash_is_not_blamed():
    d = _diag("ext4_es_lookup_extent+0x41/0x200 [ext4]",
              ["ext4_es_lookup_extent+0x41/0x200 [ext4]", "ext4_map_blocks+0x6d/0x5f0 [ext4]",
               "process_one_work+0x196/0x3d0", "kthread+0xe1/0x110"])
    assert d.verdict.category == "null_deref"
    assert d.verdict.culprit.module == "ext4"
