"""tools/format_sweep.py: the line a GPU driver's print call would print, built from its
format string, and whether the event parser reads it (on a small source tree made here)."""

import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _tool():
    spec = importlib.util.spec_from_file_location("format_sweep", os.path.join(ROOT, "tools", "format_sweep.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _tree(tmp_path):
    amd = tmp_path / "drivers" / "gpu" / "drm" / "amd" / "amdgpu"
    amd.mkdir(parents=True)
    (amd / "amdgpu_job.c").write_text(
        "static enum drm_gpu_sched_stat amdgpu_job_timedout(struct drm_sched_job *s_job)\n{\n"
        '\tdev_err(adev->dev, "ring %s timeout, signaled seq=%u, emitted seq=%u\\n",\n'
        "\t\ts_job->sched->name, a, b);\n"
        '\tdev_info(adev->dev, "IB test timed out on %s\\n", ring->name);\n'
        "}\n\nstatic void gmc_v12_0_flush_vm_hub(struct amdgpu_device *adev)\n{\n"
        '\tDRM_ERROR("Timeout waiting for VM flush ACK!\\n");\n}\n')
    fifo = tmp_path / "drivers" / "gpu" / "drm" / "nouveau" / "nvkm" / "engine" / "fifo"
    fifo.mkdir(parents=True)
    (fifo / "gk104.c").write_text(
        "static void\ngk104_fifo_intr_sched(struct gk104_fifo *fifo)\n{\n"
        '\tnvkm_error(subdev, "SCHED_ERROR %02x [%s]\\n", code, en ? en->name : "");\n}\n')
    return tmp_path


def test_lines_are_built_with_the_drivers_prefixes(tmp_path):
    rows = {r.fmt: r for r in _tool().sweep(str(_tree(tmp_path)))}
    assert rows["ring %s timeout, signaled seq=%u, emitted seq=%u"].line == \
        "amdgpu 0000:03:00.0: ring gfx timeout, signaled seq=1, emitted seq=1"
    assert rows["ring %s timeout, signaled seq=%u, emitted seq=%u"].function == "amdgpu_job_timedout"
    assert rows["Timeout waiting for VM flush ACK!"].line == \
        "[drm:gmc_v12_0_flush_vm_hub [amdgpu]] *ERROR* Timeout waiting for VM flush ACK!"
    assert rows["SCHED_ERROR %02x [%s]"].line == "nouveau 0000:01:00.0: fifo: SCHED_ERROR 1f [gfx]"


def test_the_parser_verdict_of_each_line(tmp_path):
    tool = _tool()
    got = {r.fmt: tool.headline(r.line) for r in tool.sweep(str(_tree(tmp_path)))}
    assert got["ring %s timeout, signaled seq=%u, emitted seq=%u"] == "amdgpu: GPU ring timeout"
    assert got["SCHED_ERROR %02x [%s]"] == "nouveau: GPU fifo fault"
    assert got["IB test timed out on %s"] is None          # a self-test: chatter
    assert got["Timeout waiting for VM flush ACK!"] is None


def test_fill():
    tool = _tool()
    assert tool.fill("%s: %d%% %pe %08x %llu %pS") == "gfx: 1% -110 1f 1 00000000deadbeef"


def test_two_trees_count_a_format_once(tmp_path, capsys):
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert _tool().main([str(a), str(b)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split()[:3] == ["all", "formats", "4"]


def test_a_path_without_drivers_gpu_is_an_error_not_zero_counts(tmp_path, capsys):
    import pytest
    with pytest.raises(SystemExit) as exc:
        _tool().main([str(tmp_path)])
    assert exc.value.code == 2 and "no drivers/gpu" in capsys.readouterr().err


def test_the_wider_pass_builds_guc_ct_lines_and_reads_them(tmp_path):
    # session 10: i915's CT_ERROR() macro (guc_err(guc, "CT: " fmt)) and the words the first
    # passes' keyword filter missed ("failed to respond", "stalled", ECC)
    ct = tmp_path / "drivers" / "gpu" / "drm" / "i915" / "gt" / "uc"
    ct.mkdir(parents=True)
    (ct / "intel_guc_ct.c").write_text(
        "static inline bool ct_deadlocked(struct intel_guc_ct *ct)\n{\n"
        '\t\tCT_ERROR(ct, "Communication stalled for %lld ms, desc status=%#x,%#x\\n",\n\t\t\ta, b, c);\n}\n')
    amd = tmp_path / "drivers" / "gpu" / "drm" / "amd" / "amdgpu"
    amd.mkdir(parents=True)
    (amd / "mes_v12_0.c").write_text(
        "static int mes_v12_0_submit_pkt_and_poll_completion(struct amdgpu_mes *mes)\n{\n"
        '\t\tdev_err(adev->dev, "MES(%d) failed to respond to msg=%s\\n", pipe, op_str);\n'
        '\tDRM_ERROR("CP EDC/ECC error detected.");\n'
        '\tdev_info(adev->dev, "FreqTableDcefclk\\n");\n}\n')
    tool = _tool()
    rows = {r.fmt: r for r in tool.sweep(str(tmp_path))}
    stalled = rows["Communication stalled for %lld ms, desc status=%#x,%#x"]
    assert stalled.line == ("i915 0000:00:02.0: [drm] *ERROR* GT0: GUC: CT: Communication stalled for 1 ms, "
                            "desc status=1f,1f")
    assert tool.headline(stalled.line) == "i915: GPU hang"
    assert tool.headline(rows["MES(%d) failed to respond to msg=%s"].line) == "amdgpu: GPU hang"
    assert tool.headline(rows["CP EDC/ECC error detected."].line) == "amdgpu: GPU hardware error"
    assert "FreqTableDcefclk" not in rows          # "edc" inside a word is no ECC keyword
