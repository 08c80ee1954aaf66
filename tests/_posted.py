"""Reading the posted kernel logs of tests/data/posted by their number, shared by the tests
that quote them (each file is named "<number>-<description>.log")."""

import os
from typing import List

POSTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "posted")


def posted_lines(prefix: str) -> List[str]:
    """The lines of the posted log numbered `prefix` (its first file in name order)."""
    name = next(n for n in sorted(os.listdir(POSTED)) if n.startswith(prefix + "-"))
    with open(os.path.join(POSTED, name), encoding="utf-8") as f:
        return f.read().splitlines()
