"""`triage signatures list|show|test|lint` (oracle: the rule files in signatures/
and deliberately broken rule files written by the test)."""

import pytest

from triage.cli import main
from triage.errors import EXIT_SIGNATURES


def invoke(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_list_shows_every_builtin_rule(capsys):
    from triage.classify import load_rules
    code, out, _ = invoke(["signatures", "list"], capsys)
    assert code == 0
    for r in load_rules().rules:
        assert r.id in out


def test_show_prints_meaning_and_conditions(capsys):
    code, out, _ = invoke(["signatures", "show", "gpu-alloc-fail-null-deref"], capsys)
    assert code == 0
    assert "culprit module in gpu_modules" in out
    assert "preceded by alloc_failure" in out
    assert "next steps:" in out


def test_show_unknown_rule(capsys):
    code, _, err = invoke(["signatures", "show", "no-such-rule"], capsys)
    assert code == 2
    assert "no rule" in err


def test_test_passes_on_builtins(capsys):
    code, out, _ = invoke(["signatures", "test"], capsys)
    assert code == 0
    assert "examples passed" in out


def test_test_fails_on_a_wrong_example(tmp_path, capsys):
    (tmp_path / "mine.toml").write_text('''
[[rule]]
id = "my-gpf"
title = "my gpf in {function}"
category = "gpf"
severity = "high"
priority = 99
meaning = "A site-specific rule whose example is wrong on purpose."
next_steps = ["none"]
[rule.match]
kind = "gpf"
[[rule.example]]
log = """
[ 1.0] kernel BUG at mm/slub.c:1!
"""
[[rule.example]]
expect = "no_match"
log = "[ 1.0] hello"
''')
    code, out, _ = invoke(["signatures", "test", "--signatures", str(tmp_path)], capsys)
    assert code == EXIT_SIGNATURES
    assert "FAIL my-gpf example #1" in out


def test_lint_and_broken_file_name_file_and_rule(tmp_path, capsys):
    code, out, _ = invoke(["signatures", "lint"], capsys)
    assert code == 0, out
    (tmp_path / "bad.toml").write_text('[[rule]]\nid = "broken-one"\ntitle = "t"\ncategory = "no_such"\n'
                                        'severity = "high"\nmeaning = "m"\n[rule.match]\nkind = "gpf"\n')
    code, _, err = invoke(["signatures", "lint", "--signatures", str(tmp_path)], capsys)
    assert code == EXIT_SIGNATURES
    assert "bad.toml" in err and "broken-one" in err


def test_lint_wants_anchored_skip_regexes(tmp_path, capsys):
    (tmp_path / "skip.toml").write_text("[skip]\nmine = ['lock_wrapper']\n")
    code, out, _ = invoke(["signatures", "lint", "--signatures", str(tmp_path)], capsys)
    assert "lock_wrapper" in out and "not anchored" in out


def test_lint_wants_the_gpu_datas_drivers_among_the_gpu_modules(tmp_path, capsys):
    """A [gpu_devices] name, a [gpu_prefixes] driver or a [[gpu_driverless_wordings]] driver
    whose module is not in [lists] gpu_modules: its gpu_fault culprit is no GPU driver."""
    (tmp_path / "gpu.toml").write_text('[gpu_devices]\nfrobgpu = "frob"\n\n[gpu_prefixes]\nzork = ["zork_"]\n')
    code, out, _ = invoke(["signatures", "lint", "--signatures", str(tmp_path)], capsys)
    assert code == EXIT_SIGNATURES
    assert "gpu_devices 'frobgpu': module 'frob' is not in [lists] gpu_modules" in out
    assert "gpu_prefixes 'zork': module 'zork' is not in [lists] gpu_modules" in out
    (tmp_path / "mods.toml").write_text('[lists]\ngpu_modules = ["frob", "zork"]\n')
    code, out, _ = invoke(["signatures", "lint", "--signatures", str(tmp_path)], capsys)
    assert code == 0 and "gpu_modules" not in out, out


def test_lint_wants_the_gpu_libraries_among_the_gpu_modules(tmp_path, capsys):
    """A [lists] gpu_helper_libs name missing from gpu_modules."""
    (tmp_path / "libs.toml").write_text('[lists]\ngpu_helper_libs = ["frob_helper"]\n')
    code, out, _ = invoke(["signatures", "lint", "--signatures", str(tmp_path)], capsys)
    assert code == EXIT_SIGNATURES
    assert "[lists] gpu_helper_libs: 'frob_helper' is not in [lists] gpu_modules" in out
    (tmp_path / "mods.toml").write_text('[lists]\ngpu_modules = ["frob_helper"]\n')
    code, out, _ = invoke(["signatures", "lint", "--signatures", str(tmp_path)], capsys)
    assert code == 0 and "gpu_helper_libs" not in out, out


def test_user_rule_overrides_and_env_var(tmp_path, monkeypatch):
    from triage.classify import classify, load_rules
    from triage.events import parse_text
    (tmp_path / "site.toml").write_text('''
[[rule]]
id = "site-mlx5"
title = "mlx5 driver crash in {function}"
category = "null_deref"
severity = "critical"
priority = 99
meaning = "Our site tracks mlx5 crashes separately."
next_steps = ["Open a ticket with the NIC vendor."]
[rule.match]
kind = "null_deref"
fields = { module = '^mlx5_core$' }
''')
    monkeypatch.setenv("TRIAGE_SIGNATURES", str(tmp_path))
    rules = load_rules()
    log = parse_text(open("tests/data/logs/arm64-5.10-null-deref-mlx5.log").read())
    top = classify(log, rules)[0]
    assert top.rule.id == "site-mlx5"
    assert top.title == "mlx5 driver crash in mlx5e_tx_reporter_timeout_recover"


def test_lint_wants_each_generated_gpu_function_once_and_unprefixed(tmp_path, capsys):
    """A [generated_gpu_functions] name under two drivers is ambiguous, and one a GPU prefix
    already names is never asked: both are reported; a name of one driver with no prefix is not."""
    (tmp_path / "mods.toml").write_text('[lists]\ngpu_modules = ["frob", "zork"]\n')
    (tmp_path / "fns.toml").write_text("[generated_gpu_functions]\nfrob = 'frob_only_helper shared_helper'\n"
                                       "zork = '__shared_helper zork_bad_edid'\n\n[gpu_prefixes]\nzork = ['zork_']\n")
    code, out, _ = invoke(["signatures", "lint", "--signatures", str(tmp_path)], capsys)
    assert code == EXIT_SIGNATURES
    assert "generated_gpu_functions: 'shared_helper' is listed under frob, zork" in out
    assert "generated_gpu_functions 'zork': 'zork_bad_edid' already has a GPU prefix" in out
    assert "frob_only_helper" not in out
    (tmp_path / "fns.toml").write_text("[generated_gpu_functions]\nfrob = 'frob_only_helper'\n"
                                       "zork = 'shared_helper'\n")
    code, out, _ = invoke(["signatures", "lint", "--signatures", str(tmp_path)], capsys)
    assert code == 0 and "generated_gpu_functions" not in out, out


def test_lint_wants_arg_check_skip_with_its_sites(tmp_path, capsys):
    """A section's arg_check_skip lists are passed only for a report at one of its
    arg_check_sites: without them they are dead; with them, no problem."""
    (tmp_path / "sec.toml").write_text('[section]\nwarning = { read = "ip_then_trace", arg_check_skip = ["alloc"] }\n')
    code, out, _ = invoke(["signatures", "lint", "--signatures", str(tmp_path)], capsys)
    assert code == EXIT_SIGNATURES
    assert "section.warning: arg_check_skip without arg_check_sites is never used" in out
    (tmp_path / "sec.toml").write_text('[section]\nwarning = { read = "ip_then_trace", arg_check_skip = ["alloc"], '
                                       'arg_check_sites = ["arg_check_sites"] }\n')
    code, out, _ = invoke(["signatures", "lint", "--signatures", str(tmp_path)], capsys)
    assert "arg_check" not in out, out
