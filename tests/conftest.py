"""Pytest configuration shared by every test package."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# CI runs on 2 shared cores: no deadline flakiness, a bounded example count.
settings.register_profile("govnet", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "govnet"))
