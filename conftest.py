"""Doctest set-up: the examples in the packages' docstrings run with ``net``, the Chuxiong plan, at hand."""

from __future__ import annotations

import functools

import pytest
from _pytest.doctest import DoctestItem

from topology.model import Network


@functools.lru_cache(maxsize=1)
def _chuxiong() -> Network:
    from topology import load_plan, scenario_path

    return load_plan(scenario_path("chuxiong"))


@pytest.fixture(autouse=True)
def _doctest_net(request: pytest.FixtureRequest) -> None:
    if isinstance(request.node, DoctestItem):
        request.getfixturevalue("doctest_namespace")["net"] = _chuxiong()
