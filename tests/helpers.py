"""Shared test helpers: writing small plans, running the CLI as a user would, the shared real data.

The real networks of ``../shared/data`` (beside the repository, or
``$GOVNET_SHARED_DATA``) are found with :func:`shared_data`; a parametrized
test over its files takes :func:`shared_files` with the ``shared_file``
fixture (``tests/conftest.py``). Where the data is missing a test is skipped
with the reason, except in CI (``CI`` set), where it fails: CI must run them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, NoReturn

import pytest

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
SHARED_DATA = REPO.parent / "shared" / "data"
SHARED_DATA_ENV = "GOVNET_SHARED_DATA"
# scenarios too large for the suite (minutes per check): their sample, the same parts on fewer sites, stands in
LARGE_SCENARIOS = {"national": "sample.yaml"}


def scenario_plan(name: str) -> Path:
    """The plan file the suite checks for scenario ``name``: its plan.yaml, or a large scenario's sample."""
    return SCENARIOS / name / LARGE_SCENARIOS.get(name, "plan.yaml")


def shipped_plans() -> list[Path]:
    """Every shipped scenario's plan as the suite checks it (:func:`scenario_plan`), in name order."""
    return [scenario_plan(p.parent.name) for p in sorted(SCENARIOS.glob("*/plan.yaml"))]


def shared_data_root() -> Path:
    """Where the shared real-network data is looked for: ``$GOVNET_SHARED_DATA``, else ``../shared/data``."""
    env = os.environ.get(SHARED_DATA_ENV)
    return Path(env) if env else SHARED_DATA


def skip_outside_ci(reason: str) -> NoReturn:
    """Skip the running test for ``reason``; in CI (``CI`` set) fail it instead: CI runs every test."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test ({reason}); .ci/run installs what the suite needs", pytrace=False)
    pytest.skip(reason)


def missing_data(reason: str) -> NoReturn:
    """A test's shared real-network data is missing: skipped, or failed in CI."""
    skip_outside_ci(reason)


def shared_data(*parts: str) -> Path:
    """The file or folder ``parts`` of the shared data; skips (fails in CI) when it is not there."""
    path = shared_data_root().joinpath(*parts)
    if not path.exists():
        missing_data(f"shared real-network data not found: {path} (../shared/data beside the repository, "
                     f"or set {SHARED_DATA_ENV})")
    return path


def shared_files(folder: str, pattern: str) -> list[Any]:
    """Parameters for the ``shared_file`` fixture: every file of ``folder`` matching ``pattern``.

    With none (no data, or an empty folder) one parameter names the pattern
    itself, so the test is reported as skipped, or failed in CI, not left out.
    Use as ``@pytest.mark.parametrize("shared_file", shared_files(...), indirect=True)``.
    """
    files = sorted((shared_data_root() / folder).glob(pattern))
    if not files:
        return [pytest.param((folder, pattern), id=f"{folder}-missing")]
    return [pytest.param((folder, f.name), id=f.name) for f in files]


def write_plan(directory: Path, text: str, name: str = "plan.yaml") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run_cli(*args: object, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``govnet`` in a subprocess (``python -m govnet``), capturing text output."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "govnet", *map(str, args)], check=False, capture_output=True, text=True,
                          cwd=cwd or REPO, timeout=timeout, env=env)
