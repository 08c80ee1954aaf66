"""The built-in crash signatures (the *.toml files here), installed as the
package data of `triage.signatures` (see setup.py) and read with
importlib.resources by triage/classify/rules.py. This directory stays their
one source; nothing imports code from it."""
