"""classify layer of triage (see triage/__init__.py for the data flow)."""
