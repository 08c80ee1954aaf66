"""The GPU lists and the reporters' frames the event parser reads come from the signature set
the run was given.

A user's `--signatures` directory (a copy of signatures/ with edits, or a small file) changes
what the parser recognises: a GPU fault wording added to the copy's [[gpu_fault_wordings]]
makes a driver message a gpu_fault, one removed stops it, and [[nvrm_fault_wordings]],
[gpu_devices], [gpu_prefixes], [[gpu_report_functions]], [[gpu_driverless_wordings]] and
[[report_frames]] act likewise. The oracle is the built-in verdict of the same line, which the edit must change,
and the same line analysed again with the built-in set, which must not have changed (no
state left in the process)."""

import json
import shutil
from pathlib import Path
from typing import List, Optional, Tuple

import pytest
from click.testing import CliRunner

from tests._posted import labels, posted_lines
from triage.analysis import analyze_lines, load_ruleset
from triage.classify import run_examples
from triage.classify.rules import builtin_dir
from triage.errors import SignatureError
from triage.events.parser import parse_log
from triage.events.reporters import reporters


def _verdict(line: str, sig_dir: Optional[Path] = None) -> Tuple[str, Optional[str], str]:
    """(category, culprit module, title) of a one-line log, with `sig_dir` added to the built-ins."""
    rules = load_ruleset([str(sig_dir)] if sig_dir is not None else [])
    v = analyze_lines([line], rules=rules).verdict
    return v.category, (v.culprit.module if v.culprit else None), v.title


def _copy(tmp_path: Path) -> Path:
    """A user's copy of the built-in signatures/ (its *.toml files)."""
    d = tmp_path / "sigs"
    d.mkdir()
    for f in Path(str(builtin_dir())).glob("*.toml"):
        shutil.copy(f, d / f.name)
    return d


def _user_file(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    """A user's signature directory holding one file `name` with `text` (and no built-in copy)."""
    d = tmp_path / "sigs"
    d.mkdir()
    (d / name).write_text(text)
    return d


def _edit(d: Path, old: str, new: str) -> None:
    """Replace the first `old` in the copy's lists.toml (which must hold it)."""
    p = d / "lists.toml"
    text = p.read_text()
    assert old in text, old
    p.write_text(text.replace(old, new, 1))


# the "GPU hang" group of [[gpu_fault_wordings]] (drm/msm/i915/radeon hang wordings)
_HANG_CONTAINS = 'contains = ["gpu hang", "gpu lockup",'
_NEW = "[  100.000000] amdgpu 0000:03:00.0: amdgpu: frobnicator stopped answering"
_I915_HANG = "[  103.000000] i915 0000:00:02.0: [drm] GPU HANG: ecode 9:1:85dffffb, in Xorg [1201]"


def test_a_wording_added_to_a_users_copy_makes_the_message_a_gpu_fault(tmp_path):
    assert _verdict(_NEW)[0] == "none"
    d = _copy(tmp_path)
    _edit(d, _HANG_CONTAINS, 'contains = ["frobnicator stopped", "gpu hang", "gpu lockup",')
    assert _verdict(_NEW, d) == ("gpu_fault", "amdgpu", "amdgpu: GPU hang")
    # the next analysis with the built-in set alone is as before
    assert _verdict(_NEW)[0] == "none"


def test_a_wording_removed_from_a_users_copy_no_longer_matches(tmp_path):
    assert _verdict(_I915_HANG) == ("gpu_fault", "i915", "i915: GPU hang")
    d = _copy(tmp_path)
    _edit(d, _HANG_CONTAINS, 'contains = ["gpu lockup",')
    assert _verdict(_I915_HANG, d)[0] == "none"
    assert _verdict(_I915_HANG)[0] == "gpu_fault"


def test_a_users_copy_of_the_wordings_replaces_the_built_in_tables(tmp_path):
    """[[gpu_fault_wordings]] is one ordered list of precedence: a later file that has it
    replaces the earlier tables whole (docs/signatures.md)."""
    d = _user_file(tmp_path, '[[gpu_fault_wordings]]\nheadline = "GPU fault"\ncontains = ["frobnicator"]\n')
    assert _verdict(_NEW, d) == ("gpu_fault", "amdgpu", "amdgpu: GPU fault")
    assert _verdict(_I915_HANG, d)[0] == "none"


def test_an_nvrm_wording_added_to_a_users_copy_is_read(tmp_path):
    line = "[  101.000000] NVRM: GPU0 frob engine exploded"
    assert _verdict(line)[0] == "none"
    d = _copy(tmp_path)
    _edit(d, 'contains = ["rc watchdog: gpu is probably locked",',
          'contains = ["frob engine exploded", "rc watchdog: gpu is probably locked",')
    cat, module, title = _verdict(line, d)
    assert (cat, module) == ("gpu_fault", "nvidia") and "GPU hang" in title


def test_a_gpu_device_name_in_a_user_file_is_read(tmp_path):
    line = "[  102.000000] frobgpu 0000:01:00.0: GPU hang detected"
    assert _verdict(line)[0] == "none"
    d = _user_file(tmp_path, '[gpu_devices]\nfrobgpu = "frob"\n')
    assert _verdict(line, d) == ("gpu_fault", "frob", "frob: GPU hang")


def test_a_built_in_driver_prefix_in_a_user_file_names_the_driver_of_a_drm_error(tmp_path):
    line = "[  102.000000] [drm:frob_reset] *ERROR* GPU hang detected"
    assert _verdict(line)[0] == "none"
    d = _user_file(tmp_path, '[gpu_prefixes]\nfrob = ["frob_"]\n')
    assert _verdict(line, d) == ("gpu_fault", "frob", "frob: GPU hang")


def test_a_report_function_added_to_a_users_copy_is_read(tmp_path):
    line = "[  104.000000] [drm:frob_watchdog [frob]] *ERROR* completed fence: 12"
    assert _verdict(line)[0] == "none"
    d = _copy(tmp_path)
    _edit(d, 'names = ["hangcheck_handler"]', 'names = ["hangcheck_handler", "frob_watchdog"]')
    assert _verdict(line, d) == ("gpu_fault", "frob", "frob: GPU hang")
    _edit(d, 'names = ["hangcheck_handler", "frob_watchdog"]', 'names = ["hangcheck_handler"]')
    # and msm's, kept in the copy, still reads
    msm = "[  104.000000] msm 5100000.mdp: [drm:hangcheck_handler] *ERROR* A320:     completed fence: 12"
    assert _verdict(msm, d)[:2] == ("gpu_fault", "msm")


def test_a_driverless_wording_removed_from_a_users_copy_no_longer_matches(tmp_path):
    line = "[  105.000000] [drm] Resetting GPU."
    assert _verdict(line)[:2] == ("gpu_fault", "vc4")
    d = _copy(tmp_path)
    _edit(d, "regex = ['^\\[drm\\] resetting gpu\\.$']", "regex = ['^\\[drm\\] frob resetting gpu\\.$']")
    assert _verdict(line, d)[0] == "none"
    assert _verdict("[  105.000000] [drm] frob Resetting GPU.", d)[:2] == ("gpu_fault", "vc4")


def test_a_user_rules_example_is_parsed_with_the_users_lists(tmp_path):
    """`triage signatures test` parses each example with the set it tests."""
    d = _user_file(tmp_path,
        '[gpu_devices]\nfrobgpu = "frob"\n\n'
        '[[rule]]\nid = "frob-hang"\ntitle = "frob hang"\ncategory = "gpu_fault"\nseverity = "high"\n'
        'priority = 99\nmeaning = "The frob GPU stopped answering its driver."\n'
        'match = { kind = "gpu_fault", fields = { module = "^frob$" } }\n'
        '[[rule.example]]\nlog = "[ 1.000000] frobgpu 0000:01:00.0: GPU hang detected"\n'
        '[[rule.example]]\nlog = "[ 1.000000] frobgpu 0000:01:00.0: all is well"\nexpect = "no_match"\n')
    results = run_examples(load_ruleset([str(d)]), only="frob-hang")
    assert [r.ok for r in results] == [True, True], [r.message for r in results]


def test_analyze_with_a_users_copy_through_the_cli(tmp_path):
    from triage.cli import cli
    log = tmp_path / "k.log"
    log.write_text(_NEW + "\n" + "[  100.100000] amdgpu 0000:03:00.0: amdgpu: ring gfx ok\n")
    d = _copy(tmp_path)
    _edit(d, _HANG_CONTAINS, 'contains = ["frobnicator stopped", "gpu hang", "gpu lockup",')

    def category(*extra: str) -> List[str]:
        r = CliRunner().invoke(cli, ["analyze", str(log), "--format", "json", *extra])
        assert r.exit_code in (0, 1), r.output
        v = json.loads(r.output)["verdict"]
        return [v["category"], (v.get("culprit") or {}).get("module")]

    assert category()[0] == "none"
    assert category("--signatures", str(d)) == ["gpu_fault", "amdgpu"]


@pytest.mark.parametrize("table,body,message", [
    ("gpu_report_functions", 'headline = "GPU hang"\n', "names no function"),
    ("gpu_report_functions", 'headline = ""\nnames = ["f"]\n', "non-empty headline"),
    ("gpu_driverless_wordings", 'headline = "GPU hang"\nstarts = ["x"]\n', "driver"),
    ("gpu_driverless_wordings", 'driver = "x"\nheadline = "GPU hang"\n', "has no wording"),
    ("nvrm_fault_wordings", 'headline = "GPU hang"\ncontains = [1]\n', "nvrm_fault_wordings: contains"),
])
def test_a_malformed_table_is_refused_naming_it(tmp_path, table, body, message):
    d = _user_file(tmp_path, f"[[{table}]]\n{body}", "bad.toml")
    with pytest.raises(SignatureError) as exc:
        load_ruleset([str(d)])
    assert message in str(exc.value) and "bad.toml" in str(exc.value)


# -- [[report_frames]]: the stack of a real tuning-half log (045, lima's hung task on arm64) cut
# at its "Call trace:" line; its hand label is what the built-in set gives and the edit must lose

# the hung_task table's frames: where sched_show_task()'s stack starts (lists.toml)
_HUNG_FRAMES = "frames = ['^__switch_to(?:\\.|$)', '^__schedule(?:\\.|$)', '^schedule(?:\\.|$)', '^context_switch(?:\\.|$)']"


def _cut() -> List[str]:
    lines = posted_lines("045")
    i = next(i for i, s in enumerate(lines) if "Call Trace:" in s or "Call trace:" in s)
    return lines[i:]


def _category(lines: List[str], sig_dir: Optional[Path] = None) -> str:
    rules = load_ruleset([str(sig_dir)] if sig_dir is not None else [])
    return analyze_lines(lines, rules=rules).verdict.category


def test_a_cut_stacks_label_holds_with_the_builtin_report_frames():
    name = next(n for n in labels() if n.startswith("045-"))
    assert _category(_cut()) == labels()[name][0] == "hung_task"


def test_a_users_edited_report_frames_are_what_the_parser_reads(tmp_path):
    d = _copy(tmp_path)
    _edit(d, _HUNG_FRAMES, "frames = ['^no_such_reporter_frame$']")
    rules = load_ruleset([str(d)])
    ev = parse_log(_cut(), rules.gpu_data, rules.reporters).events[0]
    assert ev.fields.get("header_missing") and ev.kind != "hung_task"
    assert _category(_cut(), d) != "hung_task"
    # the built-in set alone, analysed after, reads the stack as before
    assert _category(_cut()) == "hung_task"


def test_the_builtin_set_and_the_loaded_one_agree():
    assert load_ruleset().reporters == reporters()


def test_a_malformed_report_frames_table_is_refused(tmp_path):
    d = _copy(tmp_path)
    _edit(d, _HUNG_FRAMES, "frames = ['no_caret']")
    with pytest.raises(SignatureError):
        load_ruleset([str(d)])
