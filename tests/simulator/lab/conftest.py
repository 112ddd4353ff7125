"""Labs for the tests: brought up under a test's own name and state folder, always taken down.

A machine that cannot hold a lab (not root, no namespaces, nftables or FRR
missing) skips these tests with the reason, except in CI (``CI`` set), where
the missing capability is a failure: CI runs as root and installs the tools.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from simulator.lab import LabUnavailable, down, up
from tests.helpers import write_plan


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must be able to hold a lab: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def lab_capable() -> None:
    from simulator.lab.kernel import detect, require

    try:
        require(detect(), tunnels=True)
    except LabUnavailable as exc:
        unavailable(str(exc))


@pytest.fixture(scope="session")
def frr_capable(lab_capable: None) -> None:
    from simulator.lab.ospf import FRR

    if not (FRR / "ospfd").exists():
        unavailable("FRR's ospfd is not installed (Debian package frr)")


def lab_name() -> str:
    return "t" + uuid.uuid4().hex[:8]


@contextmanager
def lab_of(tmp_path: Path, text: str, **options: object) -> Iterator[tuple[str, Path]]:
    """Bring a plan up as a lab of its own; (lab, state folder); down whatever happens."""
    plan = write_plan(tmp_path, text)
    name, folder = lab_name(), tmp_path / "lab-state"
    try:
        up(plan, name, folder, **options)  # type: ignore[arg-type]
        yield name, folder
    finally:
        down(name, folder)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every lab test on one worker (``--dist loadgroup``): labs are kernel state, brought up one at a time."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.xdist_group("lab"))
