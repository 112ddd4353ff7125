"""Rule kinds: the name used in policy files → the function that evaluates it.

Each rule kind lives in its own module of this package and exposes
``evaluate(net, rule, context) -> RuleResult``. ``context`` is a
:class:`Context`: a place to share expensive results (routing state,
reachability answers, load assignments) between rules of one check run.

Which kinds exist and what parameters each takes is said once, in
:data:`policies.params.KIND_PARAMS` (kind → strict pydantic model): the
policy loader validates a rule's ``params`` against it and reports mistakes
with the file, line and column of the policy file, without importing any
evaluator. ``register("coverage")`` makes a function the evaluator of a kind
of that table (:data:`RULE_KINDS`); :data:`RULE_PARAMS` is the table itself.
:mod:`policies.kinds` imports every kind module, so that each registers.

    >>> RULE_PARAMS is KIND_PARAMS
    True
    >>> register("no_such_kind")
    Traceback (most recent call last):
    ...
    KeyError: "rule kind 'no_such_kind' has no parameter model in policies.params.KIND_PARAMS"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from topology.model import Network

from .model import PolicyRule, RuleResult
from .params import KIND_PARAMS, Params

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
RULE_PARAMS: dict[str, type[Params]] = KIND_PARAMS  # the same table: every kind's parameter model
RULES_APART: set[str] = set()  # kinds whose work shares no cached answer with other kinds' (judged apart)
RULE_READS: dict[str, frozenset[str]] = {}  # kinds that read only these parts of the model (topology.diff.PARTS)
LAYOUT = frozenset({"plan", "domains", "sites", "phases", "nodes", "links"})  # the plan without filters or traffic


def register(kind: str, apart: bool = False, reads: frozenset[str] | None = None) -> Callable[[Evaluator], Evaluator]:
    """Decorator: make ``evaluate`` the evaluator of ``kind``, a kind of :data:`~policies.params.KIND_PARAMS`
    (its parameter model is the table's; a kind missing there is a programming error: KeyError).

    ``apart``: what the kind computes is its own (no answer it caches is asked for by another kind, and it
    asks for none another kind computes), so a check may judge it in another process at no extra cost.
    ``reads``: the parts of the model (:data:`topology.diff.PARTS`) the kind's verdict depends on, when it is
    not all of them: a re-check (:mod:`policies.recheck`) keeps its result while those parts stay the same.
    """
    if kind not in KIND_PARAMS:
        raise KeyError(f"rule kind '{kind}' has no parameter model in policies.params.KIND_PARAMS")

    def wrap(func: Evaluator) -> Evaluator:
        RULE_KINDS[kind] = func
        if apart:
            RULES_APART.add(kind)
        if reads is not None:
            RULE_READS[kind] = reads
        return func

    return wrap


def params_of(rule: PolicyRule, model: type[P]) -> P:
    """The rule's parameters validated as ``model`` (the loader already checked them)."""
    return model.model_validate(rule.params)
