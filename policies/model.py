"""The vocabulary of compliance checking: rules, results and evidence.

A *policy file* (YAML) lists :class:`PolicyRule`s; each names a rule *kind*
(``physical_isolation``, ``capacity`` ...), its parameters, a severity and the
clause it enforces. Evaluating a rule against a network gives a
:class:`RuleResult`: ``pass`` or ``fail``, a message a non-engineer can read,
and :class:`Evidence` items (the offending path, packet and trace, link ...),
each pointing at the YAML line of the node or link it blames.

    >>> rule = PolicyRule(id="P1", kind="physical_isolation", severity="critical",
    ...                   params={"domains": ["intranet", "internet"]})
    >>> RuleResult.passed(rule, "no path").status
    'pass'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from topology.errors import Mark

SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class PolicyRule:
    id: str
    kind: str
    severity: str = "high"
    params: dict[str, Any] = field(default_factory=dict)
    clause: str = ""  # the source it enforces, e.g. "中办发〔2002〕17号"
    description: str = ""
    pack: str | None = None  # the built-in pack or policy file it came from
    mark: Mark | None = None  # where the rule is written

    def severity_rank(self) -> int:
        return SEVERITIES.index(self.severity)


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence: what it is, plain data, and the plan lines it blames."""

    kind: str  # path | packet | clear_hop | link | node | rule | flow ...
    summary: str
    data: dict[str, Any] = field(default_factory=dict)
    marks: tuple[Mark, ...] = ()


@dataclass(frozen=True)
class RuleResult:
    rule: PolicyRule
    status: str  # pass | fail
    message: str
    evidence: tuple[Evidence, ...] = ()

    @classmethod
    def passed(cls, rule: PolicyRule, message: str) -> "RuleResult":
        return cls(rule, "pass", message)

    @classmethod
    def failed(cls, rule: PolicyRule, message: str, evidence: list[Evidence] | tuple[Evidence, ...]) -> "RuleResult":
        return cls(rule, "fail", message, tuple(evidence))

    @property
    def failed_(self) -> bool:
        return self.status == "fail"
