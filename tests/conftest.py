"""Pytest configuration shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.helpers import shared_data

# CI runs on 2 shared cores: no deadline flakiness; CI also fixes the examples
# (derandomize) so a landing is reproducible, while local runs keep exploring.
settings.register_profile("govnet", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("govnet"), derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "govnet"))


@pytest.fixture
def shared_file(request: pytest.FixtureRequest) -> Path:
    """A file of the shared real data, parametrized (indirectly) by :func:`tests.helpers.shared_files`."""
    return shared_data(*request.param)
