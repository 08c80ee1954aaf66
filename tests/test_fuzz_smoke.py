"""A short smoke of every atheris fuzz target under fuzz/ (docs/fuzzing.md): each runs
its committed seeds and a few hundred mutations without a crash, hang or leak.

The long runs (1,000,000 executions each) are recorded in docs/fuzzing.md; this only
keeps the targets working as the code under them changes."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FUZZ = ROOT / "fuzz"
TARGETS = sorted(p.stem[len("fuzz_"):] for p in FUZZ.glob("fuzz_*.py"))
RUNS = int(os.environ.get("TRIAGE_FUZZ_SMOKE_RUNS", "300"))

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None,
    reason="atheris is not installed (binary wheels exist for CPython 3.9-3.13 on x86_64 Linux; "
           "`pip install atheris` runs the fuzz smoke; .ci/run installs it when it can)")


def test_every_target_has_seeds():
    assert len(TARGETS) >= 10
    for t in TARGETS:
        seeds = list((FUZZ / "seeds" / t).iterdir())
        assert seeds, t
        assert sum(p.stat().st_size for p in seeds) < 64 << 10, f"{t}: keep committed seeds small"


@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_target_smoke(target, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    # Through a shell that forks the target rather than exec'ing it: libFuzzer's
    # -rss_limit_mb reads ru_maxrss, which Linux carries across fork+exec from the
    # forking process's peak (pytest's, 1.3 GB late in a full run), and a fresh
    # fork of a small shell starts it from the shell's own.
    p = subprocess.run(["sh", "-c", '"$@"; exit $?', "sh",
                        sys.executable, str(FUZZ / f"fuzz_{target}.py"), f"-runs={RUNS}", "-timeout=10",
                        "-rss_limit_mb=1024", f"-artifact_prefix={tmp_path}/", str(corpus),
                        str(FUZZ / "seeds" / target)],
                       capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert p.returncode == 0, p.stderr[-3000:]
    assert f"Done {RUNS} runs" in p.stderr, p.stderr[-3000:]
