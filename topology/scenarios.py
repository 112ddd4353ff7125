"""Where the shipped scenarios live, and which one is the default (Chuxiong)."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import GovnetError

DEFAULT_SCENARIO = "chuxiong"


def scenarios_dir() -> Path:
    """The ``scenarios/`` folder: ``$GOVNET_SCENARIOS`` or the one beside the packages."""
    env = os.environ.get("GOVNET_SCENARIOS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "scenarios"


def scenario_path(name: str) -> Path:
    path = scenarios_dir() / name / "plan.yaml"
    if not path.is_file():
        raise GovnetError(f"no built-in scenario '{name}' at {path}; install govnet from its source tree (pip install -e .)")
    return path


def default_plan_path() -> Path:
    return scenario_path(DEFAULT_SCENARIO)
