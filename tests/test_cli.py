"""The CLI boundary: help, version, and one-line errors with documented exit codes."""

from click.testing import CliRunner

from triage.cli import cli


def test_help_lists_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("dmesg", "info", "analyze", "signatures", "batch"):
        assert name in result.output


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert "triage" in result.output
