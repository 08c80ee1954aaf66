"""Fixtures shared across the test layers."""

import os
import shutil
import sys
from pathlib import Path

import pytest

# Helper modules shared by several test folders (_diag_helpers, _realdumps) live in
# tests/ itself; make them importable whichever folder pytest collects first.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def chromium_cmd(tmp_path):
    """Headless Chromium's command line with a fresh profile and no network chatter.

    Skips, saying why, where no Chromium is installed (a fresh machine running
    the README's test command); .ci/run installs it and sets
    TRIAGE_REQUIRE_BROWSER=1, so there a missing browser fails instead: the
    HTML reports' escaping is judged in a real browser."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            break
    else:
        reason = "chromium is not installed (apt-get install chromium; .ci/run installs it)"
        if os.environ.get("TRIAGE_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}"]
