"""Build script: the metadata lives in setup.cfg; this file only maps the
top-level signatures/ directory (the rules' one source) onto the package
`triage.signatures`, so every install mode carries the rules as package data."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["triage", "triage.*"]) + ["triage.signatures"],
    package_dir={"triage.signatures": "signatures"},
    package_data={"triage.signatures": ["*.toml"]},
)
