"""Whole function names only one GPU module's source defines ([generated_gpu_functions] of
signatures/lists.toml, tools/gpu_namespaces.py over Debian's linux-source-6.12 and -5.10).

A built-in GPU driver prints no [module] tag, and its static helpers carry no namespace
prefix: drm_edid.c's connector_bad_edid is defined nowhere else in either tree, so a frame of
it is drm's. A core function (i2c_transfer, regmap_read) is defined outside drivers/gpu
and stays core even when a GPU driver called it (the corpus rule: a crash elsewhere is not the
GPU driver's). Oracle: the hand label of tuning-half posted 2426 (Ebisu, 5.15-rc3), and the
kernel source for the names."""

from pathlib import Path

import pytest

from tests._posted import posted_lines, verdict_with_function
from triage.analysis import analyze_lines, load_ruleset
from triage.errors import SignatureError
from triage.events.gpudevs import PrefixTable


def test_posted_2426_builtin_static_drm_helper_is_drms_null_deref():
    # "pc : connector_bad_edid+0x28/0x1a8" / "lr : drm_do_get_edid+0x260/0x268", no module tags
    assert verdict_with_function(posted_lines("2426")) == ("gpu_null_deref", "drm", "connector_bad_edid")


@pytest.mark.parametrize("function,module", [
    ("connector_bad_edid", "drm"),
    ("connector_bad_edid.isra.0", "drm"),          # a compiler clone is the same source function
    ("__connector_bad_edid", "drm"),               # an inner helper's underscores dropped
])
def test_unprefixed_gpu_functions_name_their_module(function, module):
    assert load_ruleset().builtin_gpu_driver(function) == module


@pytest.mark.parametrize("function", ["memcpy", "kmem_cache_alloc", "strcmp", "connector_bad_edid_more",
                                      "drm_do_get_edid_x", "", None])
def test_other_names_name_no_gpu_module_by_their_whole_name(function):
    got = load_ruleset().builtin_gpu_driver(function)
    assert got is None or function.startswith("drm_"), (function, got)   # drm_ is drm's by prefix


def test_a_core_function_at_the_crash_site_stays_core_under_a_builtin_gpu_caller():
    base = posted_lines("2426")
    lines = [s.replace("connector_bad_edid", "i2c_transfer") for s in base]
    v = analyze_lines(lines).verdict
    assert (v.category, v.culprit.module) == ("null_deref", None)


def test_exact_names_are_asked_only_when_no_prefix_matches():
    table = PrefixTable.of([("drm", ["drm_"])], [("adv7511", ["drm_odd_helper", "lonely"])])
    assert table.longest("drm_odd_helper") == "drm"       # the prefix answers first
    assert table.longest("lonely") == "adv7511"
    assert table.longest("__lonely") == "adv7511"
    assert table.longest("__lonely", bare=False) is None  # a [drm:func] tag's name is taken as printed
    assert table.longest("lonely2") is None


def test_a_users_table_must_hold_strings(tmp_path: Path):
    d = tmp_path / "sigs"
    d.mkdir()
    (d / "mine.toml").write_text('[generated_gpu_functions]\nfoo = ["a", "b"]\n')
    with pytest.raises(SignatureError):
        load_ruleset([str(d)])
    (d / "mine.toml").write_text("[generated_gpu_functions]\nnouveau = '''\nmy_static_thing other_one\n'''\n")
    assert load_ruleset([str(d)]).builtin_gpu_driver("my_static_thing") == "nouveau"
    assert load_ruleset().builtin_gpu_driver("my_static_thing") is None      # no state left behind
