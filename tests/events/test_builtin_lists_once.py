"""A parse given no signature set reads the built-in signatures/lists.toml once, for both
what it takes from it (the GPU data and the report frames), and the classifier's
function-prefix lookup is the parser's own table, not a second one built from the same file."""

import triage.classify.rules as rules_mod
from triage.classify import load_rules
from triage.events.gpudevs import builtin_gpu_data
from triage.events.reporters import reporters


def test_gpu_data_and_report_frames_come_from_one_read(monkeypatch):
    rules_mod.builtin_lists.cache_clear()
    calls = []
    real = rules_mod.load_files
    monkeypatch.setattr(rules_mod, "load_files", lambda files: calls.append(list(files)) or real(files))
    try:
        assert builtin_gpu_data() is not None and reporters() is not None
        assert builtin_gpu_data() is rules_mod.builtin_lists().gpu_data
        assert reporters() is rules_mod.builtin_lists().reporters
        assert len(calls) == 1
    finally:
        rules_mod.builtin_lists.cache_clear()


def test_the_classifier_asks_the_parsers_prefix_table():
    rules = load_rules()
    for fn in ("samsung_dsim_resume", "__ttm_dma_free_page", "schedule"):
        assert rules.builtin_gpu_driver(fn) == rules.gpu_data.names.prefixes.longest(fn)
    assert rules.builtin_gpu_driver("samsung_dsim_resume") == "samsung_dsim"
    assert rules.builtin_gpu_driver("__ttm_dma_free_page") == "ttm"
    assert rules.builtin_gpu_driver("schedule") is None


def test_a_signature_set_always_carries_the_parsers_data():
    """A RuleSet holds the GPU data and reporters' frames of its own files: there is no
    built-in fallback for a set made without them (the parser would read the built-in data
    while builtin_gpu_driver read the set's own [gpu_prefixes], two tables that could differ)."""
    import pytest
    from triage.classify.rules import RuleSet
    with pytest.raises(TypeError):
        RuleSet(rules=[], lists={}, skip={}, files=[])    # type: ignore[call-arg]
