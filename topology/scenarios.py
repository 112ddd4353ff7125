"""Where the shipped scenarios live, and which one is the default (Chuxiong).

The plans are the top-level ``scenarios/`` folder of the source tree. A wheel
carries the same files as the package data ``topology/builtin/`` (see
``pyproject.toml``), so an installed govnet finds them without a checkout. In
order, the folder is:

1. ``$GOVNET_SCENARIOS`` when set;
2. ``scenarios/`` beside the packages when they run from a source checkout
   (plain or an editable install: the folder holding the packages has a
   ``pyproject.toml``), so edits to the plans take effect at once;
3. the package data ``topology.builtin`` of an installed wheel.

    >>> (scenarios_dir() / "chuxiong" / "plan.yaml").is_file()
    True
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from .errors import GovnetError

DEFAULT_SCENARIO = "chuxiong"
PACKAGE_DATA = "builtin"  # topology/builtin/ in a wheel: the scenarios/ folder


def _checkout_scenarios() -> Path | None:
    """``scenarios/`` of the source checkout the packages run from, if they run from one."""
    root = Path(__file__).resolve().parent.parent
    folder = root / "scenarios"
    if (root / "pyproject.toml").is_file() and folder.is_dir():
        return folder
    return None


def _packaged_scenarios() -> Path | None:
    """The scenarios installed with the package (``topology/builtin/``), if there are any on disk."""
    folder = resources.files(__package__ or "topology") / PACKAGE_DATA
    if isinstance(folder, Path) and folder.is_dir():
        return folder
    return None


def scenarios_dir() -> Path:
    """The folder of the shipped scenarios (see the module docstring for the order)."""
    env = os.environ.get("GOVNET_SCENARIOS")
    if env:
        return Path(env)
    found = _checkout_scenarios() or _packaged_scenarios()
    if found is None:
        raise GovnetError("the built-in scenarios are not installed (no scenarios/ beside the packages and no "
                          "topology/builtin/ package data); reinstall govnet from its wheel or source tree, or set "
                          "GOVNET_SCENARIOS to a folder of scenarios")
    return found


def scenario_path(name: str) -> Path:
    """``plan.yaml`` of the built-in scenario ``name`` (a folder of :func:`scenarios_dir`)."""
    path = scenarios_dir() / name / "plan.yaml"
    if not path.is_file():
        known = sorted(p.parent.name for p in scenarios_dir().glob("*/plan.yaml"))
        raise GovnetError(f"no built-in scenario '{name}' at {path}"
                          + (f" (built-in scenarios: {', '.join(known)})" if known else ""))
    return path


def default_plan_path() -> Path:
    """The plan a command uses without PLAN: the built-in scenario :data:`DEFAULT_SCENARIO`."""
    return scenario_path(DEFAULT_SCENARIO)
