"""Make sample_dumps/dumpgen importable for these tests."""
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dumps"
if str(SAMPLE) not in sys.path:
    sys.path.insert(0, str(SAMPLE))
