"""Regenerate the worked example in docs/analyze.md from a real input.

    python3 tools/analyze_example.py INPUT > docs/analyze.md

The output sections are produced by `triage analyze` itself (text and a JSON
excerpt), so the document cannot drift from what the tool prints.
"""

import json
import os
import subprocess
import sys
from pathlib import Path


def run(*args: str) -> str:
    # the text report fits the terminal; the document shows it at the default width
    env = {**os.environ, "COLUMNS": "100"}
    r = subprocess.run([sys.executable, "-m", "triage", "analyze", *args], capture_output=True, text=True, env=env)
    if r.returncode not in (0, 6):
        sys.exit(f"triage analyze failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def main() -> None:
    path = sys.argv[1]
    text = run(path)
    data = json.loads(run(path, "--format", "json"))
    excerpt = {"schema_version": data["schema_version"]}
    excerpt["verdict"] = {k: data["verdict"][k] for k in ("category", "title", "signature", "confidence", "culprit")}
    crash = data["crash"]
    excerpt["crash"] = {"task": crash["task"], "header": [h["text"] for h in crash["header"]], "ip": crash["ip"],
                        "trace": crash["trace"][:3] + (["..."] if len(crash["trace"]) > 3 else []),
                        "modules": crash["modules"], "checks": crash["checks"]}
    excerpt["hypotheses"] = [{"name": h["name"], "status": h["status"]} for h in data["hypotheses"]]
    excerpt["timeline"] = [{k: e[k] for k in ("ts", "line", "kind", "module")} for e in data["timeline"]]
    tpl = (Path(__file__).parent / "analyze_example.md.in").read_text()
    sys.stdout.write(tpl.replace("@PATH@", path).replace("@TEXT@", text.rstrip("\n"))
                     .replace("@JSON@", json.dumps(excerpt, indent=2)))


if __name__ == "__main__":
    main()
