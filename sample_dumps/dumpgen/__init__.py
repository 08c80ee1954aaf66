"""Generator of real Linux crash dumps for triage's tests (see ../README.md)."""
