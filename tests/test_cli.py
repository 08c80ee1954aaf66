"""The CLI boundary: help, version, and one-line errors with documented exit codes."""

from click.testing import CliRunner

from triage.cli import cli
from triage.errors import TriageError


def test_help_lists_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("dmesg", "info", "analyze", "signatures", "batch"):
        assert name in result.output


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert "triage" in result.output


def test_deep_read_error_names_the_input(tmp_path):
    """A dump cut before its log pages: the memory layer's error gets the file name at the CLI."""
    import pathlib

    src = pathlib.Path(__file__).parent.parent / "sample_dumps/committed/gpu_alloc_null-kdump-lzo/vmcore"
    cut = tmp_path / "cut.vmcore"
    with open(src, "rb") as f:
        cut.write_bytes(f.read(1_000_000))
    result = CliRunner().invoke(cli, ["dmesg", str(cut)])
    exc = result.exception
    assert isinstance(exc, TriageError), exc
    assert exc.exit_code == 5
    # the file name first, then what happened in words (issue 11: "says so")
    assert str(exc).startswith(f"{cut}: the dump is cut short before its kernel log (file is truncated")


def test_triage_debug_env_shows_the_traceback(tmp_path, monkeypatch):
    """docs/exit-codes.md: TRIAGE_DEBUG=1 works like --debug."""
    import pytest

    from triage.cli import main
    from triage.errors import InputError

    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(SystemExit) as plain:
        main(["info", str(empty)])
    assert plain.value.code == 3
    monkeypatch.setenv("TRIAGE_DEBUG", "1")
    with pytest.raises(InputError):
        main(["info", str(empty)])


def test_every_exit_code_is_documented():
    """docs/exit-codes.md has a row for each EXIT_* code triage.errors defines."""
    import pathlib
    import re

    import triage.errors as errors
    doc = (pathlib.Path(__file__).parent.parent / "docs" / "exit-codes.md").read_text()
    rows = {int(m) for m in re.findall(r"^\| (\d+) \|", doc, re.M)}
    codes = {v for k, v in vars(errors).items() if k.startswith("EXIT_")}
    assert codes <= rows, codes - rows
