"""The corpus of real kernel logs as users posted them (tests/data/posted).

Checks that labels.toml is well-formed (every file exists and is labelled
once, categories are documented ones, the tuning/validation split follows
the file-name hash rule) and that triage reads every log without an
exception. Agreement figures are measured, not asserted, by
tools/posted_agreement.py (docs/posted-agreement.md).
"""

import hashlib
import importlib.util
import os
import re

import pytest

HERE = os.path.dirname(__file__)
ROOT = os.path.join(HERE, "..", "..")
CORPUS = os.path.join(ROOT, "tests", "data", "posted")
TOOL = os.path.join(ROOT, "tools", "posted_agreement.py")
CATEGORIES_DOC = os.path.join(ROOT, "docs", "categories.md")
REQUIRED = ("file", "source", "where", "form", "arch", "kernel", "category", "culprit_module", "why", "half")


def _tool():
    spec = importlib.util.spec_from_file_location("posted_agreement", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def tool():
    return _tool()


@pytest.fixture(scope="module")
def labels(tool):
    return tool.load_labels(CORPUS)


def documented_categories():
    """Category names from the table in docs/categories.md."""
    with open(CATEGORIES_DOC) as fp:
        return set(re.findall(r"^\| `([a-z_]+)` \|", fp.read(), re.M))


def test_corpus_size(labels):
    assert len(labels) >= 100


def test_every_label_is_complete(labels):
    for e in labels:
        missing = [k for k in REQUIRED if k not in e]
        assert not missing, (e.get("file"), missing)
        assert e["source"].startswith("https://") or e["source"].startswith("http://"), e["file"]
        assert e["why"].strip(), e["file"]
        assert e["culprit_module"] == e["culprit_module"].strip()


def test_categories_are_documented(labels):
    known = documented_categories()
    assert "gpu_null_deref" in known and "none" in known  # the doc table was read
    bad = [(e["file"], e["category"]) for e in labels if e["category"] not in known]
    assert not bad


def test_files_exist_and_are_labelled_once(labels):
    names = [e["file"] for e in labels]
    assert len(names) == len(set(names))
    on_disk = {n for n in os.listdir(CORPUS) if n.endswith(".log")}
    assert set(names) == on_disk
    for n in names:
        assert re.fullmatch(r"\d{3,4}-[A-Za-z0-9.-]+\.log", n), n
        assert os.path.getsize(os.path.join(CORPUS, n)) > 0


def test_split_is_the_hash_rule(labels, tool):
    for e in labels:
        digest = int(hashlib.sha256(e["file"].encode("utf-8")).hexdigest(), 16)
        expected = "tuning" if digest % 2 == 0 else "validation"
        assert e["half"] == expected == tool.split_half(e["file"]), e["file"]
    halves = {e["half"] for e in labels}
    assert halves == {"tuning", "validation"}


def test_every_log_parses_and_classifies(tool):
    outcomes = tool.evaluate(CORPUS)
    errors = [(o.file, o.error) for o in outcomes if o.error]
    assert not errors
    assert all(o.category for o in outcomes)


def test_judge_counts_gpu_blame_only_for_non_gpu_labels(tool):
    gpu = frozenset({"nvidia", "amdgpu"})
    core = {"category": "null_deref", "culprit_module": ""}
    assert tool.judge(core, "gpu_null_deref", "nvidia", gpu)["gpu_blamed_wrongly"]
    assert tool.judge(core, "null_deref", "nvidia", gpu)["gpu_blamed_wrongly"]
    assert not tool.judge(core, "null_deref", None, gpu)["gpu_blamed_wrongly"]
    ours = {"category": "gpu_fault", "culprit_module": "amdgpu"}
    r = tool.judge(ours, "gpu_fault", "amdgpu", gpu)
    assert r["category_ok"] and r["module_ok"] and not r["gpu_blamed_wrongly"] and r["gpu_or_memory"]
    assert not tool.judge(ours, "gpu_fault", "nvidia", gpu)["module_ok"]
    assert tool.judge({"category": "hung_task", "culprit_module": "zfs"}, "hung_task", "zfs", gpu)["module_ok"]
    assert tool.judge({"category": "warning", "culprit_module": "bochs-drm"}, "warning", "bochs_drm", gpu)["module_ok"]
