"""The offline bundle (tools/build_bundle.py) runs with a Python that has nothing
else installed: pyenv's oldest and newest supported CPython when present, in
isolated mode (-I: no user site, no PYTHONPATH) and without site-packages (-S),
with an empty PEX_ROOT and HOME. Oracle: the committed GPU dump's scenario
category (sample_dumps/dumpgen/scenarios.py), gpu_alloc_fail_null_deref, and
the last line of its kernel log as makedumpfile --dump-dmesg printed it
(vmcore.makedumpfile-dmesg.txt, committed beside it).

Slow and needs PyPI (pex resolves the manylinux wheels of every target)."""

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DUMP_DIR = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo"

pytestmark = pytest.mark.slow


def _pythons():
    """A bare CPython 3.9 and the newest one installed (pyenv layout), else this one."""
    found = {}
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for exe in glob.glob(os.path.join(root, "versions", "3.*", "bin", "python3")):
        v = tuple(int(x) for x in Path(exe).parents[1].name.split(".")[:2])
        if (3, 9) <= v <= (3, 13):
            found[v] = exe
    picked = {found[k] for k in (min(found), max(found))} if found else {sys.executable}
    return sorted(picked)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "triage.pyz"
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "build_bundle.py"), "-o", str(out)],
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    return out


@pytest.mark.parametrize("python", _pythons())
def test_bundle_runs_on_a_bare_python(bundle, tmp_path, python):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "PEX_ROOT": str(tmp_path / "pex")}
    run = lambda *a: subprocess.run([python, "-I", "-S", str(bundle), *map(str, a)], capture_output=True,  # noqa: E731
                                    text=True, env=env, cwd=tmp_path, timeout=600)
    r = run("analyze", "--format", "json", DUMP_DIR / "vmcore")
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["verdict"]["category"] == "gpu_alloc_fail_null_deref"
    r = run("dmesg", DUMP_DIR / "vmcore")
    assert r.returncode == 0, r.stderr[-2000:]
    oracle = (DUMP_DIR / "vmcore.makedumpfile-dmesg.txt").read_text(errors="replace").splitlines()
    assert r.stdout.splitlines()[-1] == oracle[-1]
