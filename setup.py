"""Build script: only the package list, which ``pyproject.toml`` cannot compute.

The packages are found in the tree (namespace packages too, as setuptools'
own search does), plus ``topology.builtin``: the top-level ``scenarios/``
folder, mapped in ``pyproject.toml`` (``[tool.setuptools.package-dir]``) so
that a wheel carries the shipped plans as package data. Everything else is
declared in ``pyproject.toml``.
"""

from setuptools import find_namespace_packages, setup

TOP_LEVEL = ("topology", "simulator", "policies", "govnet")
BUILTIN_SCENARIOS = "topology.builtin"  # the scenarios/ folder

setup(packages=[
    *find_namespace_packages(include=[f"{name}{tail}" for name in TOP_LEVEL for tail in ("", ".*")],
                             exclude=["*.__pycache__"]),
    BUILTIN_SCENARIOS,
])
