"""govnet's topology package: load, validate and expand plans; graph views.

    >>> from topology import load_plan, physical_graph
    >>> net = load_plan("scenarios/chuxiong/plan.yaml")   # doctest: +SKIP
"""

from .errors import GovnetError, Mark, PlanError, PlanIssue, SelectorError
from .graphs import domain_graph, hierarchy_tree, physical_graph
from .loader import load_plan, load_spec
from .model import Network
from .scenarios import default_plan_path, scenario_path

__all__ = [
    "GovnetError", "Mark", "PlanError", "PlanIssue", "SelectorError", "Network",
    "load_plan", "load_spec", "physical_graph", "domain_graph", "hierarchy_tree",
    "default_plan_path", "scenario_path",
]
