"""The bus and protocol libraries of drivers/gpu/drm (drm_mipi_dsi, drm_mipi_dbi,
drm_dp_aux_bus: [lists] gpu_helper_libs) act for the driver that calls them, as drm_kms_helper
does: a task blocked inside one waits on that driver's work, so the hung-task verdict names
the panel or bridge driver below the library (classify/engine.py _driver_behind_library). A
user's --signatures copy whose gpu_helper_libs leaves a library out gets the library back as
the culprit."""

import pytest

from triage.analysis import analyze_lines, load_ruleset

HUNG = ["[  242.1] INFO: task kworker/2:0:62785 blocked for more than 122 seconds.",
        "[  242.2] Call Trace:",
        "[  242.3]  __schedule+0x3c8/0xc18",
        "[  242.4]  schedule+0x3c/0x120",
        "[  242.5]  schedule_timeout+0xdc/0x130",
        "[  242.6]  wait_for_completion_timeout+0x88/0x110"]

# (library frames, the driver that called them)
CASES = {
    "drm_mipi_dsi": (["mipi_dsi_dcs_write_buffer+0x5c/0xa0 [drm_mipi_dsi]",
                      "mipi_dsi_dcs_write+0x60/0xa0 [drm_mipi_dsi]",
                      "ili9881c_prepare+0x7c/0x1c0 [panel_ilitek_ili9881c]"], "panel_ilitek_ili9881c"),
    "drm_mipi_dbi": (["mipi_dbi_command_buf+0x4c/0x90 [drm_mipi_dbi]",
                      "mipi_dbi_command_stackbuf+0x5c/0x80 [drm_mipi_dbi]",
                      "yx240qv29_enable+0x60/0x2b0 [ili9341]"], "ili9341"),
    "drm_dp_aux_bus": (["of_dp_aux_populate_bus+0x120/0x1c0 [drm_dp_aux_bus]",
                        "devm_of_dp_aux_populate_bus+0x1c/0x70 [drm_dp_aux_bus]",
                        "ti_sn_aux_probe+0x54/0xa0 [ti_sn65dsi86]"], "ti_sn65dsi86"),
}


def _lines(lib: str):
    frames, _ = CASES[lib]
    return HUNG + [f"[  242.{7 + i}]  {f}" for i, f in enumerate(frames)] + ["[  243.0]  process_one_work+0x158/0x3b8"]


def _verdict(lines, rules=None):
    v = analyze_lines(lines, rules=rules).verdict
    return v.category, v.culprit.module if v.culprit else None


@pytest.mark.parametrize("lib", sorted(CASES))
def test_a_task_blocked_in_a_bus_library_names_the_driver_that_called_it(lib):
    assert _verdict(_lines(lib)) == ("hung_task", CASES[lib][1])


def test_the_orientation_quirk_table_is_no_helper_library():
    rules = load_ruleset()
    assert not rules.in_list("gpu_helper_libs", "drm_panel_orientation_quirks")
    assert not rules.in_list("gpu_modules", "drm_panel_orientation_quirks")


def test_every_helper_library_is_a_gpu_module():
    rules = load_ruleset()
    assert all(rules.in_list("gpu_modules", m) for m in rules.lists["gpu_helper_libs"])
