"""Rule kinds: the name used in policy files → the function that evaluates it.

Each rule kind lives in its own module of this package and exposes
``evaluate(net, rule, context) -> RuleResult``. ``context`` is a
:class:`Context`: a place to share expensive results (routing state,
reachability answers, load assignments) between rules of one check run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from topology.model import Network

from .model import PolicyRule, RuleResult

Evaluator = Callable[[Network, PolicyRule, "Context"], RuleResult]


@dataclass
class Context:
    """Shared, per-run cache for evaluators (keyed by whatever the evaluator chooses)."""

    cache: dict[str, Any] = field(default_factory=dict)
    pcap_dir: str | None = None  # where evaluators may write evidence pcaps


RULE_KINDS: dict[str, Evaluator] = {}


def register(kind: str) -> Callable[[Evaluator], Evaluator]:
    """Decorator: make ``evaluate`` the evaluator of ``kind``."""

    def wrap(func: Evaluator) -> Evaluator:
        RULE_KINDS[kind] = func
        return func

    return wrap
