"""govnet's topology package: load, validate and expand plans; graph views.

The names below are loaded on first use, so that importing one small module
of the package (``topology.vocabulary``, ``topology.errors``) costs nothing
more.

    >>> from topology import load_plan, physical_graph
    >>> load_plan("scenarios/chuxiong/plan.yaml").name
    '楚雄州电子政务外网'
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "GovnetError": "errors", "Mark": "errors", "PlanError": "errors", "PlanIssue": "errors",
    "SelectorError": "errors", "Network": "model", "load_plan": "loader", "load_spec": "loader",
    "physical_graph": "graphs", "domain_graph": "graphs", "hierarchy_tree": "graphs",
    "default_plan_path": "scenarios", "scenario_path": "scenarios",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'topology' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
