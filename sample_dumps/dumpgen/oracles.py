"""Run the peer tools (makedumpfile --dump-dmesg, vmcore-dmesg) on a dump and
keep their output next to it as oracles; record failures with their messages."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Dict, Sequence

TOOLS = ("makedumpfile-dmesg", "vmcore-dmesg")


def _run(argv, timeout: int = 300) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, capture_output=True, text=True, errors="replace",
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(argv, 124, "", f"timeout after {timeout}s: {e}")


def _last_error(text: str) -> str:
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    bad = [l for l in lines if l != "makedumpfile Failed."]
    return bad[-1] if bad else (lines[-1] if lines else "")


def run_oracles(dump: Path, makedumpfile: Sequence[str] = ("makedumpfile",)
                ) -> Dict[str, Dict[str, str]]:
    """Run each peer tool on `dump`; return {tool: {status, output|error}}.

    `makedumpfile` is the command to run: a dump is read by the makedumpfile
    built for its architecture (arm64's under qemu-user on an x86_64 host).

    Outputs land in `<dump>.<tool>.txt`; failures in `<dump>.<tool>.err`.
    """
    results: Dict[str, Dict[str, str]] = {}
    for tool in TOOLS:
        out = dump.parent / f"{dump.name}.{tool}.txt"
        err = dump.parent / f"{dump.name}.{tool}.err"
        out.unlink(missing_ok=True)
        err.unlink(missing_ok=True)
        if tool == "makedumpfile-dmesg":
            r = _run([*makedumpfile, "--dump-dmesg", str(dump), str(out)])
            ok = r.returncode == 0 and out.exists() and out.stat().st_size > 0
            msg = r.stdout + r.stderr
        else:
            r = _run(["vmcore-dmesg", str(dump)])
            ok = r.returncode == 0 and bool(r.stdout)
            if ok:
                out.write_text(r.stdout)
            msg = r.stderr + r.stdout[-2000:]
        if ok:
            results[tool] = {"status": "ok", "output": out.name}
        else:
            out.unlink(missing_ok=True)
            err.write_text(msg)
            results[tool] = {"status": "failed", "error": _last_error(msg), "log": err.name}
    return results
