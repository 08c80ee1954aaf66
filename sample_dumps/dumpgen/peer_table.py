"""Summarise, from a manifest, which peer tools read which dump kind.

Usage: python3 -m dumpgen.peer_table sample_dumps/out/manifest.json
(run from sample_dumps/); prints a Markdown table for README.md.
"""
from __future__ import annotations

import re
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List

from .manifest import load_manifest

TOOLS = ("makedumpfile-dmesg", "vmcore-dmesg")


def _kind(e: Dict) -> str:
    args = " ".join(a for a in e["capture_args"] if not a.startswith("<"))
    return f"{e['capture']}: {args} -> {e['format']}/{e['compression']}"


def table(manifest: Path) -> str:
    rows: "OrderedDict[str, Dict[str, List[str]]]" = OrderedDict()
    for e in sorted(load_manifest(manifest)["dumps"], key=_kind):
        row = rows.setdefault(_kind(e), {t: [] for t in TOOLS})
        for t in TOOLS:
            res = e["oracles"].get(t, {})
            err = re.sub(r"0x[0-9a-f]+", "0x...", res.get("error", "?"))
            cell = "ok" if res.get("status") == "ok" else f"fails: {err}"
            if cell not in row[t]:
                row[t].append(cell)
    out = ["| dump kind | " + " | ".join(TOOLS) + " |", "|---|" + "---|" * len(TOOLS)]
    for kind, row in rows.items():
        out.append(f"| {kind} | " + " | ".join("; ".join(row[t]) for t in TOOLS) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    print(table(Path(sys.argv[1])))
