"""The [[report_frames]] the event parser names a headerless stack by come from the signature
set the run was given, as its GPU data does (tests/classify/test_user_signature_lists.py).

A user's `--signatures` copy of signatures/ whose lists.toml has a [[report_frames]] table
edited changes how a stack pasted without its header is read; the same stack analysed again
with the built-in set is read as before (no state left in the process). The stack is a real
tuning-half posted log (045, lima's hung task on arm64) cut at its "Call trace:" line; the oracle is
its hand label, which the built-in set gives and the edited copy must lose."""

import shutil
from pathlib import Path
from typing import List, Optional

import pytest

from tests._posted import labels, posted_lines
from triage.analysis import analyze_lines, load_ruleset
from triage.classify.rules import builtin_dir
from triage.errors import SignatureError
from triage.events.parser import parse_log

# the hung_task table's frames: where sched_show_task()'s stack starts (lists.toml)
_HUNG_FRAMES = "frames = ['^__switch_to(?:\\.|$)', '^__schedule(?:\\.|$)', '^schedule(?:\\.|$)', '^context_switch(?:\\.|$)']"


def _cut() -> List[str]:
    lines = posted_lines("045")
    i = next(i for i, s in enumerate(lines) if "Call Trace:" in s or "Call trace:" in s)
    return lines[i:]


def _copy(tmp_path: Path, old: str, new: str) -> Path:
    """A user's copy of signatures/ with `old` replaced by `new` in its lists.toml."""
    d = tmp_path / "sigs"
    d.mkdir()
    for f in Path(str(builtin_dir())).glob("*.toml"):
        shutil.copy(f, d / f.name)
    p = d / "lists.toml"
    text = p.read_text()
    assert old in text, old
    p.write_text(text.replace(old, new, 1))
    return d


def _category(lines: List[str], sig_dir: Optional[Path] = None) -> str:
    rules = load_ruleset([str(sig_dir)] if sig_dir is not None else [])
    return analyze_lines(lines, rules=rules).verdict.category


def test_the_label_holds_with_the_builtin_set():
    name = next(n for n in labels() if n.startswith("045-"))
    assert _category(_cut()) == labels()[name][0] == "hung_task"


def test_a_users_edited_report_frames_are_what_the_parser_reads(tmp_path):
    d = _copy(tmp_path, _HUNG_FRAMES, "frames = ['^no_such_reporter_frame$']")
    rules = load_ruleset([str(d)])
    ev = parse_log(_cut(), rules.gpu_data, rules.reporters).events[0]
    assert ev.fields.get("header_missing") and ev.kind != "hung_task"
    assert _category(_cut(), d) != "hung_task"
    # the built-in set alone, analysed after, reads the stack as before
    assert _category(_cut()) == "hung_task"


def test_the_builtin_set_and_the_loaded_one_agree():
    from triage.events.reporters import reporters
    assert load_ruleset().reporters == reporters()


def test_a_malformed_report_frames_table_is_a_signature_error(tmp_path):
    d = _copy(tmp_path, _HUNG_FRAMES, "frames = ['no_caret']")
    with pytest.raises(SignatureError):
        load_ruleset([str(d)])
