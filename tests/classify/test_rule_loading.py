"""Where the rules come from, and that an empty or missing rule source is an error.

Without rules every verdict would silently be "unknown" (exit 0); these tests
hold the loader to an explicit SignatureError (exit 8) instead."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from triage.classify.rules import builtin_dir, load_rules, rule_files
from triage.errors import SignatureError

ROOT = Path(__file__).resolve().parents[2]


def test_builtin_rules_are_the_checkout_signatures_dir():
    names = sorted(f.name for f in rule_files() if str(f).startswith(str(builtin_dir())))
    assert names == sorted(p.name for p in (ROOT / "signatures").glob("*.toml"))


def test_missing_signatures_dir_is_an_error(tmp_path):
    with pytest.raises(SignatureError) as exc:
        load_rules([str(tmp_path / "nope")])
    assert exc.value.exit_code == 8 and "nope" in str(exc.value)


def test_env_var_naming_a_missing_dir_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIAGE_SIGNATURES", f"{tmp_path}:{tmp_path / 'gone'}")
    with pytest.raises(SignatureError) as exc:
        load_rules()
    assert "gone" in str(exc.value) and "TRIAGE_SIGNATURES" in str(exc.value)


def test_empty_env_entries_are_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIAGE_SIGNATURES", f":{tmp_path}:")
    assert load_rules().rules


def test_missing_builtin_rules_is_an_error(tmp_path, monkeypatch):
    import triage.classify.rules as rules
    monkeypatch.setattr(rules, "builtin_dir", lambda: tmp_path)
    with pytest.raises(SignatureError) as exc:
        load_rules()
    assert "built-in signature rules are missing" in str(exc.value)


def test_rule_files_without_a_rule_is_an_error(tmp_path, monkeypatch):
    import triage.classify.rules as rules
    # the built-in lists.toml alone: every table the parser needs, and no rule
    (tmp_path / "lists.toml").write_text((ROOT / "signatures" / "lists.toml").read_text())
    monkeypatch.setattr(rules, "builtin_dir", lambda: tmp_path)
    with pytest.raises(SignatureError) as exc:
        load_rules()
    assert "no signature rules loaded" in str(exc.value)


def test_rules_load_from_a_zip(tmp_path):
    """A zipapp imports triage from a zip: importlib.resources must read the rules there."""
    pyz = tmp_path / "triage.zip"
    with zipfile.ZipFile(pyz, "w") as z:
        for f in sorted((ROOT / "triage").rglob("*.py")):
            z.write(f, f.relative_to(ROOT).as_posix())
        for f in sorted((ROOT / "signatures").iterdir()):
            if f.suffix in (".py", ".toml"):
                z.write(f, "triage/signatures/" + f.name)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import triage.classify.rules as r; "
            "rs = r.load_rules(); print(len(rs.rules), r.builtin_dir(), r.__file__)")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TRIAGE_SIGNATURES")}
    out = subprocess.run([sys.executable, "-c", code, str(pyz)], capture_output=True, text=True,
                         cwd=tmp_path, env=env, check=True).stdout.split()
    assert int(out[0]) == len(load_rules().rules) > 20
    assert out[1].startswith(str(pyz)) and out[2].startswith(str(pyz))


@pytest.mark.parametrize("shape", ["empty", "absent"])
def test_installed_package_without_rules_names_the_directory(tmp_path, shape):
    """An install whose package data went missing (a packager's slip): exit 8, one line
    naming where the rules belong, not a Traversable's repr (MultiplexedPath('...') for
    an empty package directory) nor a checkout path that does not apply."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path
    src = Path(__file__).resolve().parents[2] / "triage"
    site = tmp_path / "site"
    shutil.copytree(src, site / "triage", ignore=shutil.ignore_patterns("__pycache__"))
    if shape == "empty":
        (site / "triage" / "signatures").mkdir(exist_ok=True)
    # -S: no .pth files, so an editable install of this checkout (the README's test
    # command makes one) cannot lend its mapping of triage.signatures to the copy;
    # the dependencies come from where this interpreter found them
    import click
    deps = os.path.dirname(os.path.dirname(click.__file__))
    r = subprocess.run([sys.executable, "-S", "-m", "triage", "signatures", "list"], capture_output=True,
                       text=True, cwd=str(tmp_path),
                       env={"PATH": "/usr/bin:/bin", "PYTHONPATH": os.pathsep.join([str(site), deps])}, timeout=120)
    assert r.returncode == 8, r.stderr
    assert r.stderr.count("\n") == 1 and "Multiplexed" not in r.stderr, r.stderr
    assert str(site / "triage" / "signatures") in r.stderr and "reinstall" in r.stderr, r.stderr
