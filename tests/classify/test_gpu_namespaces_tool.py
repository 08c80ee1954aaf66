"""tools/gpu_namespaces.py: the modules drivers/gpu's Kbuild files build, their source files,
and the function-name prefixes only each module's own functions start with, on a small
source tree made here (the real run reads Debian's linux-source-6.12 and -5.10)."""

import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _tool():
    spec = importlib.util.spec_from_file_location("gpu_namespaces", os.path.join(ROOT, "tools", "gpu_namespaces.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod     # its dataclasses resolve their annotations through it
    spec.loader.exec_module(mod)
    return mod


def _write(root, rel, text):
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def _fn(name):
    return f"static int {name}(struct device *dev)\n{{\n\treturn 0;\n}}\n\n"


def _tree(tmp_path):
    r = tmp_path / "linux"
    _write(r, "drivers/gpu/Makefile", "obj-y += drm/\n")
    _write(r, "drivers/gpu/drm/Makefile",
           "obj-$(CONFIG_DRM_FOO) += foo/\n"
           "obj-$(CONFIG_DRM_BRIDGE_A) += bridge-a.o\n"
           "BAR_FILES := core.o \\\n\tirq.o\n"
           "bar_drm-y := $(addprefix bar/,$(BAR_FILES))\n"
           "obj-$(CONFIG_DRM_BAR) += bar_drm.o\n")
    _write(r, "drivers/gpu/drm/foo/Makefile",
           "foo-y := foo_drv.o foo_gem.o\nfoo-$(CONFIG_DEBUG_FS) += foo_debugfs.o\nobj-$(CONFIG_DRM_FOO) += foo.o\n")
    _write(r, "drivers/gpu/drm/foo/foo_drv.c", _fn("foo_gem_open") + _fn("foo_gem_close") + _fn("foo_drv_probe"))
    _write(r, "drivers/gpu/drm/foo/foo_gem.c", _fn("foo_gem_pin") + _fn("foo_drv_remove") + _fn("foo_drv_bind"))
    _write(r, "drivers/gpu/drm/foo/foo_debugfs.c", _fn("foo_debugfs_init"))
    _write(r, "drivers/gpu/drm/bridge-a.c", _fn("bra_enable") + _fn("bra_disable") + _fn("bra_attach")
           + _fn("get_bridge_a_mode") + _fn("get_bridge_a_edid") + _fn("get_bridge_a_irq"))
    _write(r, "drivers/gpu/drm/bar/core.c", _fn("bar_crtc_enable") + _fn("bar_crtc_disable"))
    _write(r, "drivers/gpu/drm/bar/irq.c", _fn("bar_crtc_irq") + _fn("__bar_crtc_vblank"))
    # core code outside drivers/gpu: a foo_ clock driver (so foo_ alone is not foo's), a
    # bar_ gpio driver, get_ as common vocabulary in five directories, and a PMU
    # attribute macro defining foo_drv_state_show
    _write(r, "drivers/clk/clk-foo.c", _fn("foo_clk_enable"))
    _write(r, "drivers/gpio/gpio-bar.c", _fn("bar_gpio_get"))
    _write(r, "drivers/base/core.c", "PMU_FORMAT_ATTR(foo_drv_state, \"config:0-7\");\n")
    for i in range(5):
        _write(r, f"drivers/misc{i}/x.c", _fn(f"get_misc{i}_value"))
    return r


def test_kbuild_modules_map_each_module_to_its_sources(tmp_path):
    tool = _tool()
    mods, missing = tool.kbuild_modules(_tree(tmp_path))
    assert mods["foo"] == {"drivers/gpu/drm/foo/foo_drv.c", "drivers/gpu/drm/foo/foo_gem.c",
                           "drivers/gpu/drm/foo/foo_debugfs.c"}
    assert mods["bridge_a"] == {"drivers/gpu/drm/bridge-a.c"}
    assert mods["bar_drm"] == {"drivers/gpu/drm/bar/core.c", "drivers/gpu/drm/bar/irq.c"}
    assert missing == 0


def test_functions_in_finds_definitions_not_declarations():
    tool = _tool()
    text = ("int foo_a(int x);\n"
            "static int __maybe_unused\nfoo_b(struct device *dev)\n{\n}\n"
            "void foo_c(void) __acquires(x)\n{\n}\n"
            "static const struct foo_ops ops = { .a = foo_a };\n"
            "DEFINE_SHOW_ATTRIBUTE(foo_state);\n")
    assert set(tool.functions_in(text)) == {"foo_b", "foo_c", "foo_state_open"}


def test_prefixes_are_unique_to_the_module_and_not_vocabulary(tmp_path):
    tool = _tool()
    tree = tool.load_tree(_tree(tmp_path))
    prefixes, paths, modules = tool.derive([tree], {}, {})
    assert modules == {"foo", "bridge_a", "bar_drm"}
    # foo_ is also the clock driver's, foo_drv_ also names foo_drv_state_show (a macro's)
    assert dict(prefixes["foo"]) == {"foo_gem_": 3}
    assert dict(prefixes["bar_drm"]) == {"bar_crtc_": 4}     # __bar_crtc_vblank counts, underscores dropped
    # get_ is common kernel vocabulary: get_bridge_a_* is not a namespace
    assert dict(prefixes["bridge_a"]) == {"bra_": 3}
    assert paths["foo"] == ["drivers/gpu/drm/foo/"]
    assert paths["bridge_a"] == ["drivers/gpu/drm/bridge-a.c"]


def test_hand_curated_entries_are_not_repeated(tmp_path):
    tool = _tool()
    tree = tool.load_tree(_tree(tmp_path))
    prefixes, paths, _ = tool.derive([tree], {"bar_drm": ["bar_"]}, {"foo": ["drivers/gpu/drm/foo/"]})
    assert "bar_drm" not in prefixes
    assert "foo" not in paths


def test_write_replaces_the_generated_blocks(tmp_path):
    tool = _tool()
    tree = tool.load_tree(_tree(tmp_path))
    lists = tmp_path / "lists.toml"
    lists.write_text('[lists]\ngpu_modules = [\n  "foo",\n]\n\n[gpu_prefixes]\nfoo = ["foo_drv_"]\n\n'
                     "# Function names that are one operation under several names\n[alias]\n")
    hand, hand_dirs, known = tool._hand_tables(lists.read_text())
    written = []
    for _ in range(3):      # a re-run replaces, never duplicates: the same file each time
        prefixes, paths, modules = tool.derive([tree], hand, hand_dirs)
        named = tool.PrefixTable.of(list(hand.items()) + [(m, [p for p, _ in v]) for m, v in prefixes.items()])
        functions = tool.unique_functions([tree], named, set())
        tool.write(lists, tool.render([tree], prefixes, paths, modules, known, functions))
        written.append(lists.read_text())
    assert written[0] == written[1] == written[2]
    text = lists.read_text()
    assert text.count(tool.BEGIN) == 4
    doc = tool._hand_tables(text)
    assert doc[2] == {"foo"}            # the hand-curated part is read without the generated blocks
    from triage.classify.rules import tomllib
    full = tomllib.loads(text)
    assert set(full["lists"]["gpu_modules"]) == {"foo", "bridge_a", "bar_drm"}
    assert full["generated_gpu_prefixes"]["bar_drm"] == ["bar_crtc_"]
    assert full["generated_gpu_source_dirs"]["bridge_a"] == ["drivers/gpu/drm/bridge-a.c"]
    # whole names: what no prefix names, read back as the loader reads them (blank-separated)
    assert full["generated_gpu_functions"]["bridge_a"].split() == ["get_bridge_a_edid", "get_bridge_a_irq",
                                                                   "get_bridge_a_mode"]
    assert full["generated_gpu_functions"]["foo"].split() == ["foo_debugfs_init"]   # foo_drv_: the hand prefix


def test_unique_functions_are_a_modules_own_unprefixed_names(tmp_path):
    """A built-in driver's static helpers carry no namespace (drm_edid.c's connector_bad_edid):
    a name only one module's source defines names that module; a name also defined outside
    drivers/gpu or by another module, or that a prefix already names, is not listed."""
    tool = _tool()
    r = _tree(tmp_path)
    _write(r, "drivers/gpu/drm/foo/foo_gem.c", _fn("foo_gem_pin") + _fn("foo_drv_remove") + _fn("foo_drv_bind")
           + _fn("connector_bad_edid") + _fn("shared_helper") + _fn("crtc_helper_x") + _fn("__lonely_helper")
           + _fn("heartbeat"))
    _write(r, "drivers/gpu/drm/bar/core.c", _fn("bar_crtc_enable") + _fn("bar_crtc_disable") + _fn("crtc_helper_x"))
    _write(r, "lib/shared.c", _fn("shared_helper"))
    _write(r, "drivers/gpu/drm/foo/mdss_x.c", "")
    tree = tool.load_tree(r)
    prefixes, _, _ = tool.derive([tree], {}, {})
    named = tool.PrefixTable.of((m, [p for p, _ in v]) for m, v in prefixes.items())
    got = tool.unique_functions([tree], named, set())
    assert "connector_bad_edid" in got["foo"] and "lonely_helper" in got["foo"]   # underscores dropped
    assert "shared_helper" not in got["foo"]          # also core's (lib/)
    assert all("crtc_helper_x" not in v for v in got.values())    # two modules define it
    assert "foo_gem_pin" not in got["foo"]            # foo_gem_ names it already
    assert "heartbeat" not in got["foo"]              # one word: vocabulary, not a driver's name
    assert "foo" not in tool.unique_functions([tree], named, {"foo"})   # a module left out (shared)


def test_a_driver_renamed_between_releases_keeps_its_namespace(tmp_path):
    """bochs-drm.ko (5.10 drivers/gpu/drm/bochs) is bochs.ko in 6.12 (drivers/gpu/drm/tiny):
    the same functions under two module names are the first tree's module's."""
    tool = _tool()
    new, old = tmp_path / "new", tmp_path / "old"
    _write(new, "drivers/gpu/Makefile", "obj-$(CONFIG_DRM_BOCHS) += bochs.o\n")
    _write(new, "drivers/gpu/bochs.c", _fn("bochs_hw_init") + _fn("bochs_hw_fini") + _fn("bochs_pci_probe"))
    _write(old, "drivers/gpu/Makefile", "bochs-drm-y := bochs_drv.o\nobj-$(CONFIG_DRM_BOCHS) += bochs-drm.o\n")
    _write(old, "drivers/gpu/bochs_drv.c", _fn("bochs_hw_init") + _fn("bochs_hw_fini") + _fn("bochs_pci_probe"))
    trees = [tool.load_tree(new), tool.load_tree(old)]
    assert tool.renames(trees) == {"bochs_drm": "bochs"}
    prefixes, _, _ = tool.derive(trees, {}, {})
    assert dict(prefixes["bochs"]) == {"bochs_": 3}
    assert "bochs_drm" not in prefixes
