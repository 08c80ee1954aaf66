"""Every install mode finds the signature rules and analyses the committed GPU dump.

The wheel is built from a copy of the source tree (build isolation: setuptools
comes from the package index, as on a user's machine), then installed as a
user would: into a venv, with --prefix, --target and --user, editable, and
as a zipapp. Each install runs in a child whose sys.path holds that install
and the runtime dependencies only (never this checkout), and must give the
committed dump's known verdict. Oracle: the scenario's expected category
(sample_dumps/dumpgen/scenarios.py, gpu_alloc_null), gpu_alloc_fail_null_deref.
The first run found triage/diagnosis shipped in no wheel (no __init__.py).
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipapp
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DUMP = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"
EXPECTED = "gpu_alloc_fail_null_deref"
_DEPS = ("click", "tabulate", "cramjam", "lzallright", "zstandard", "capstone") + (("tomli",) if sys.version_info < (3, 11) else ())
_SOURCES = ("setup.py", "setup.cfg", "pyproject.toml", "README.md", "triage", "signatures")

pytestmark = pytest.mark.slow


def _pip(*args: str, **kw) -> None:
    r = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
                       capture_output=True, text=True, **kw)
    assert r.returncode == 0, r.stderr[-2000:]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """(source copy, wheel, deps dir): deps holds links to the runtime dependencies only."""
    top = tmp_path_factory.mktemp("install")
    src = top / "src"
    src.mkdir()
    for name in _SOURCES:
        p = ROOT / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(p, src / name)
    _pip("wheel", "--no-deps", "-w", str(top / "dist"), str(src))
    wheel = next((top / "dist").glob("triage-*.whl"))
    deps = top / "deps"
    deps.mkdir()
    for name in _DEPS:
        mod = __import__(name)
        origin = Path(mod.__file__)
        target = origin.parent if origin.name == "__init__.py" else origin
        (deps / target.name).symlink_to(target)
    return src, wheel, deps


def _run(work_dir: Path, argv, *, env_extra=None, sitedirs=()):
    """Run triage in a child that sees only `sitedirs` (.pth files honoured) and the deps."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TRIAGE_SIGNATURES", "PYTHONUSERBASE")}
    env.update(env_extra or {})
    return subprocess.run(argv, capture_output=True, text=True, cwd=work_dir, env=env, timeout=300)


def _check(r) -> None:
    assert r.returncode == 0, r.stderr[-2000:]
    where, report = r.stdout.split("\n", 1)
    assert str(ROOT) not in where, f"triage was imported from the checkout: {where}"
    assert json.loads(report)["verdict"]["category"] == EXPECTED


def _analyze_code(sitedirs, deps: Path) -> str:
    """-S -c code: add the install's site dirs (processing .pth, as editable needs), then the deps."""
    return ("import site, sys\n"
            f"for d in {[str(d) for d in sitedirs]!r}: site.addsitedir(d)\n"
            f"sys.path.append({str(deps)!r})\n"
            "import triage, triage.classify.rules as r\n"
            "print(triage.__file__, r.builtin_dir())\n"
            "from triage.cli import main\n"
            f"main(['analyze', '--format', 'json', {str(DUMP)!r}])\n")


def _site_packages(prefix: Path) -> Path:
    return Path(sysconfig.get_path("purelib", vars={"base": str(prefix), "platbase": str(prefix)}))


@pytest.mark.parametrize("mode", ["prefix", "target", "editable"])
def test_install_mode_finds_rules(work, tmp_path, mode):
    src, wheel, deps = work
    dest = tmp_path / mode
    if mode == "prefix":
        # --ignore-installed: with --prefix, pip otherwise uninstalls the triage of the
        # environment running the tests (the editable install of the README's test
        # command), and every later test that imports it from elsewhere fails
        _pip("install", "--no-deps", "--no-index", "--ignore-installed", "--prefix", str(dest), str(wheel))
        site = _site_packages(dest)
    elif mode == "target":
        _pip("install", "--no-deps", "--no-index", "--target", str(dest), str(wheel))
        site = dest
    else:
        _pip("install", "--no-deps", "--ignore-installed", "--prefix", str(dest), "-e", str(src))
        site = _site_packages(dest)
    assert site.is_dir()
    _check(_run(tmp_path, [sys.executable, "-S", "-c", _analyze_code([site], deps)]))


def test_install_user(work, tmp_path):
    if sys.prefix != sys.base_prefix:
        pytest.skip("pip refuses --user inside a virtual environment")
    _, wheel, deps = work
    base = tmp_path / "userbase"
    env = {"PYTHONUSERBASE": str(base)}
    r = subprocess.run([sys.executable, "-m", "pip", "-q", "install", "--user", "--no-deps", "--no-index",
                        str(wheel)], capture_output=True, text=True, env={**os.environ, **env})
    assert r.returncode == 0, r.stderr[-2000:]
    code = ("import site, sys\n"
            f"sys.path.append({str(deps)!r})\n"
            "import triage, triage.classify.rules as r\n"
            "assert site.USER_SITE in triage.__file__, (site.USER_SITE, triage.__file__)\n"
            "print(triage.__file__, r.builtin_dir())\n"
            "from triage.cli import main\n"
            f"main(['analyze', '--format', 'json', {str(DUMP)!r}])\n")
    _check(_run(tmp_path, [sys.executable, "-c", code], env_extra=env))


def test_install_venv_console_script(work, tmp_path):
    """A venv and its `triage` console script (the README's set-up)."""
    _, wheel, deps = work
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "-q", "install", "--no-deps", "--no-index", str(wheel)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    (_site_packages(venv) / "deps.pth").write_text(str(deps) + "\n")
    where = _run(tmp_path, [str(py), "-c", "import triage, triage.classify.rules as r; print(triage.__file__, r.builtin_dir())"])
    r = _run(tmp_path, [str(venv / "bin" / "triage"), "analyze", "--format", "json", str(DUMP)])
    assert r.returncode == 0, r.stderr[-2000:]
    _check(type(r)(r.args, 0, where.stdout.strip() + "\n" + r.stdout, r.stderr))


def test_install_zipapp(work, tmp_path):
    """triage imported from a zip file: rules come through importlib.resources' zip reader."""
    _, wheel, deps = work
    tree = tmp_path / "tree"
    _pip("install", "--no-deps", "--no-index", "--target", str(tree), str(wheel))
    for d in tree.glob("*.dist-info"):
        shutil.rmtree(d)
    shutil.rmtree(tree / "bin", ignore_errors=True)
    pyz = tmp_path / "triage.pyz"
    zipapp.create_archive(tree, pyz, main="triage.cli:main")
    env = {"PYTHONPATH": str(deps)}
    where = _run(tmp_path, [sys.executable, "-S", "-c",
                            f"import sys; sys.path.insert(0, {str(pyz)!r}); import triage, triage.classify.rules as r; "
                            "print(triage.__file__, r.builtin_dir())"], env_extra=env)
    assert where.stdout.startswith(str(pyz)), where.stdout + where.stderr
    r = _run(tmp_path, [sys.executable, "-S", str(pyz), "analyze", "--format", "json", str(DUMP)], env_extra=env)
    assert r.returncode == 0, r.stderr[-2000:]
    _check(type(r)(r.args, 0, where.stdout.strip() + "\n" + r.stdout, r.stderr))


def _readme_setup_block() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set up and run", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def test_readme_setup_block_with_the_system_python(work, tmp_path):
    """The README's first block, run as written from a fresh copy with the distribution's
    /usr/bin/python3 first on PATH (Debian 12: PEP 668, externally managed), prints the verdict."""
    sys_py = Path("/usr/bin/python3")
    if not sys_py.exists() or subprocess.run([str(sys_py), "-c", "import ensurepip, venv"]).returncode:
        pytest.skip("no /usr/bin/python3 with the venv module (Debian: apt-get install python3-venv)")
    src = tmp_path / "clone"
    shutil.copytree(work[0], src)
    shutil.copytree(DUMP.parent, src / "sample_dumps" / "committed" / DUMP.parent.name)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8"}
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", _readme_setup_block()], cwd=src, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    report = r.stdout[r.stdout.index("BUG: kernel NULL pointer dereference in nv_gpu_init_channel"):]   # after pip's output
    assert "category gpu_alloc_fail_null_deref" in report.splitlines()[1]
