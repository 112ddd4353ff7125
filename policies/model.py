"""The vocabulary of compliance checking: rules, results and evidence.

A *policy file* (YAML) lists :class:`PolicyRule`s; each names a rule *kind*
(``physical_isolation``, ``capacity`` ...), its parameters, a severity and the
clause it enforces. Evaluating a rule against a network gives a
:class:`RuleResult` with one of four statuses (:data:`STATUSES`):

- ``pass``: the rule judged the plan and found nothing wrong;
- ``fail``: it found something, with :class:`Evidence` items (the offending
  path, packet and trace, link ...), each pointing at the YAML line of the
  node or link it blames and naming the nodes it is about (``subjects``);
- ``not_applicable``: the rule could not judge, because the plan has nothing
  it is about (no party network, no classified domain ...); the message says
  why. It never counts as passed;
- ``waived``: it failed, and every finding is covered by a recorded waiver of
  the plan (:mod:`policies.waivers`); the evidence stays, and the waivers
  applied are listed with the findings they cover.

    >>> rule = PolicyRule(id="P1", kind="physical_isolation", severity="critical",
    ...                   params={"domains": ["intranet", "internet"]})
    >>> RuleResult.passed(rule, "no path").status
    'pass'
    >>> na = RuleResult.not_applicable(rule, "the plan has no network matching intranet")
    >>> na.status, na.passed_, na.not_applicable_
    ('not_applicable', False, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from topology.errors import Mark
from topology.model import Waiver
from topology.vocabulary import SEVERITIES

STATUSES = ("pass", "fail", "not_applicable", "waived")


@dataclass(frozen=True)
class PolicyRule:
    id: str
    kind: str
    severity: str = "high"
    params: dict[str, Any] = field(default_factory=dict)
    clause: str = ""  # the source it enforces, e.g. "中办发〔2002〕17号"
    description: str = ""
    title: str = ""  # a few words: what the rule asks
    fix: str = ""  # how to fix a plan that fails it
    pack: str | None = None  # the built-in pack or policy file it came from
    mark: Mark | None = None  # where the rule is written
    # where each parameter is written, by its path below ``params`` (("domains", 0) ...)
    param_marks: dict[tuple[Any, ...], Mark] = field(default_factory=dict, compare=False, repr=False)

    def severity_rank(self) -> int:
        return SEVERITIES.index(self.severity)


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence: what it is, plain data, the plan lines it blames and the nodes it is about.

    ``subjects`` are the names of the nodes the finding is about (the ends of
    the link where a path changes network, the node that holds the data ...);
    a waiver covers the finding when one of them lies in its scope.
    """

    kind: str  # path | packet | clear_hop | link | node | rule | flow ...
    summary: str
    data: dict[str, Any] = field(default_factory=dict)
    marks: tuple[Mark, ...] = ()
    subjects: tuple[str, ...] = ()


@dataclass(frozen=True)
class WaiverUse:
    """A waiver of the plan met by a failed result: the evidence items (indices) it covers.

    An expired waiver is recorded too (``expired``), so the report can say
    that it no longer holds; it never waives.
    """

    waiver: Waiver
    covers: tuple[int, ...]
    expired: bool = False


@dataclass(frozen=True)
class RuleResult:
    rule: PolicyRule
    status: str  # one of STATUSES
    message: str
    evidence: tuple[Evidence, ...] = ()
    waivers: tuple[WaiverUse, ...] = ()

    @classmethod
    def passed(cls, rule: PolicyRule, message: str) -> RuleResult:
        return cls(rule, "pass", message)

    @classmethod
    def failed(cls, rule: PolicyRule, message: str, evidence: list[Evidence] | tuple[Evidence, ...]) -> RuleResult:
        return cls(rule, "fail", message, tuple(evidence))

    @classmethod
    def not_applicable(cls, rule: PolicyRule, why: str) -> RuleResult:
        """The rule cannot judge this plan; ``why`` says what the plan lacks."""
        return cls(rule, "not_applicable", why)

    @property
    def failed_(self) -> bool:
        """A failure no waiver covers (only these block a check)."""
        return self.status == "fail"

    @property
    def passed_(self) -> bool:
        return self.status == "pass"

    @property
    def not_applicable_(self) -> bool:
        return self.status == "not_applicable"

    @property
    def waived_(self) -> bool:
        return self.status == "waived"
