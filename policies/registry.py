"""Rule kinds: the name used in policy files → the function that evaluates it.

Each rule kind lives in its own module of this package and exposes
``evaluate(net, rule, context) -> RuleResult``. ``context`` is a
:class:`Context`: a place to share expensive results (routing state,
reachability answers, load assignments) between rules of one check run.

A kind may declare the parameters it takes as a strict pydantic model
(``register("coverage", params=CoverageParams)``); the policy loader then
validates a rule's ``params`` against it and reports mistakes with the file,
line and column of the policy file. Kinds registered without a model take any
mapping. :mod:`policies.kinds` imports every kind module, so adding a kind is
one import line there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from topology.model import Network

from .model import PolicyRule, RuleResult

Evaluator = Callable[[Network, PolicyRule, "Context"], RuleResult]
P = TypeVar("P", bound=BaseModel)


@dataclass
class Context:
    """What the rules of one check run share: settings of the run and a cache of expensive answers.

    One context serves one network (one phase of a plan): cached answers are
    only valid for the network they were computed on. The settings are the
    caller's (the command line's): where evidence pcaps go, the Dask
    scheduler a failure sweep runs on, whether a sweep draws a progress bar.
    """

    cache: dict[Any, Any] = field(default_factory=dict)
    pcap_dir: str | None = None  # where evaluators may write evidence pcaps
    scheduler: str | None = None  # a Dask distributed scheduler address for failure sweeps
    progress: bool | None = None  # a progress bar during failure sweeps (None: when stderr is a terminal)

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``cache[key]``, computing and storing it on first use."""
        try:
            return self.cache[key]
        except KeyError:
            value = self.cache[key] = compute()
            return value


RULE_KINDS: dict[str, Evaluator] = {}
RULE_PARAMS: dict[str, type[BaseModel]] = {}
RULES_APART: set[str] = set()  # kinds whose work shares no cached answer with other kinds' (judged apart)


def register(kind: str, params: type[BaseModel] | None = None, apart: bool = False) -> Callable[[Evaluator], Evaluator]:
    """Decorator: make ``evaluate`` the evaluator of ``kind`` (``params``: its parameter model).

    ``apart``: what the kind computes is its own (no answer it caches is asked for by another kind, and it
    asks for none another kind computes), so a check may judge it in another process at no extra cost.
    """

    def wrap(func: Evaluator) -> Evaluator:
        RULE_KINDS[kind] = func
        if params is not None:
            RULE_PARAMS[kind] = params
        if apart:
            RULES_APART.add(kind)
        return func

    return wrap


def params_of(rule: PolicyRule, model: type[P]) -> P:
    """The rule's parameters validated as ``model`` (the loader already checked them)."""
    return model.model_validate(rule.params)
