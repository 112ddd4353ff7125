"""Helpers of the policy tests: small plans, one rule evaluated on them."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from policies import kinds  # noqa: F401  (registers the rule kinds)
from policies.model import PolicyRule, RuleResult
from policies.registry import RULE_KINDS, RULE_PARAMS, Context
from topology import load_plan
from topology.model import Network

HEAD = """\
name: {name}
domains:
  intra: {{kind: intranet, pool: 172.16.0.0/16}}
  ext: {{kind: extranet, pool: 10.53.0.0/16}}
  dmz: {{kind: dmz, pool: 203.0.113.0/24}}
  inet: {{kind: internet, pool: 198.51.100.0/24}}
sites:
  省:
    children:
      州:
        children: {{县A: {{}}, 县B: {{}}}}
defaults: {{node: {{site: 州, domain: ext}}}}
"""


def plan(body: str, name: str = "t") -> str:
    return HEAD.format(name=name) + textwrap.dedent(body)


def load(tmp_path: Path, text: str, name: str = "plan.yaml") -> Network:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_plan(path)


def rule(kind: str, params: dict[str, Any] | None = None, severity: str = "high", rule_id: str = "T-1") -> PolicyRule:
    params = params or {}
    model = RULE_PARAMS.get(kind)
    if model is not None:
        model.model_validate(params)  # the parameters a test gives are valid, as the loader would insist
    return PolicyRule(id=rule_id, kind=kind, severity=severity, params=params, clause="test")


def evaluate(net: Network, kind: str, params: dict[str, Any] | None = None, context: Context | None = None,
             **kw: Any) -> RuleResult:
    r = rule(kind, params, **kw)
    return RULE_KINDS[kind](net, r, context or Context())


def marks_lines(result: RuleResult) -> set[int]:
    return {m.line for e in result.evidence for m in e.marks}
