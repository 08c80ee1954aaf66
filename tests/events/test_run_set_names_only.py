"""A parse given a run's signature set reads that set's [parser] lists on every path: the
built-in set (a second read of signatures/lists.toml, and not what a user's --signatures copy
says) is never asked for. The indented memory-report head (mm/page_alloc.c warn_alloc()
"%s: page allocation failure: ...", mm/oom_kill.c dump_header()) is one such path."""

import pytest

import triage.classify.rules as rules_mod
from triage.classify import load_rules
from triage.events import parse_text

_INDENTED_ALLOC = "\n".join([
    "  kworker/0:1: page allocation failure: order:4, mode:0x40cc0(GFP_KERNEL|__GFP_COMP)",
    "CPU: 0 PID: 5 Comm: kworker/0:1 Not tainted 5.10.0 #1",
    "Call Trace:",
    " dump_stack+0x5c/0x7a",
    " warn_alloc+0xdb/0x150",
    " __alloc_pages_nodemask+0x250/0x290",
    " xfs_buf_alloc+0xaa/0x110 [xfs]",
    "Mem-Info:",
])


@pytest.fixture
def no_builtin_set(monkeypatch):
    """The run's set loaded first; then any ask for the built-in set fails the test."""
    rules = load_rules()
    rules_mod.builtin_lists.cache_clear()

    def refuse():
        raise AssertionError("the parse asked for the built-in signature set")
    monkeypatch.setattr(rules_mod, "builtin_lists", refuse)
    yield rules
    monkeypatch.undo()
    rules_mod.builtin_lists.cache_clear()


def test_indented_memory_head_reads_the_runs_set(no_builtin_set):
    rules = no_builtin_set
    log = parse_text(_INDENTED_ALLOC, rules.gpu_data, rules.reporters)
    assert [e.kind for e in log.events][:1] == ["alloc_failure"]
    assert log.events[0].fields.get("indented_head") is True


def test_without_a_set_the_builtin_set_is_asked(no_builtin_set):
    # the negative: the guard does catch a parse that falls back to the built-in data
    with pytest.raises(AssertionError, match="built-in signature set"):
        parse_text(_INDENTED_ALLOC)
