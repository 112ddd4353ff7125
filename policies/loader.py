"""Policy files and built-in packs: reading, validating, resolving the names a plan gives.

A policy file is YAML::

    name: my-rules                  # optional; the file name without .yaml
    title: 市电子政务外网补充规则
    rules:
      - id: LOCAL-1                 # unique in the check
        kind: physical_isolation    # a registered rule kind
        severity: critical          # critical | high | medium | low (default high)
        clause: 中办发〔2002〕17号     # the source it enforces
        description: The intranet and the extranet share no cable.
        params: {domains: [kind:intranet], against: [kind:extranet]}

Files are read with :func:`topology.yaml_source.read_yaml_file` (positions,
duplicate keys and size limits) and validated with strict pydantic models,
the rule's ``params`` with the model its kind registered. Every problem is
collected and raised together as a :class:`~policies.errors.PolicyError`
whose issues carry FILE:LINE:COL.

Built-in packs are policy files shipped in ``policies/packs``; a name without
a path separator and without a ``.yaml``/``.yml`` suffix names a pack,
anything else a file (relative to the plan's folder when the plan names it,
to the working directory when the command line does).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from topology.errors import Mark, PlanError, PlanIssue
from topology.model import Network
from topology.validation import issues_from_validation
from topology.yaml_source import mark_for, read_yaml_file

from . import kinds  # noqa: F401  (registers every rule kind)
from .errors import PolicyError
from .model import PolicyRule
from .registry import RULE_KINDS, RULE_PARAMS

PACK_PACKAGE = "policies.packs"


class RuleFileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: str = Field(min_length=1, max_length=100, pattern=r"^[^\s:\[\]]+$",
                    description="unique rule id, e.g. EGOV-PI-1 (no spaces, colons or brackets)")
    kind: str = Field(min_length=1)
    severity: Literal["critical", "high", "medium", "low"] = "high"
    clause: str = ""
    description: str = ""
    params: dict[str, Any] = {}


class PolicyFileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str | None = None
    title: str | None = None
    description: str | None = None
    rules: list[RuleFileSpec] = Field(min_length=1)


class _FileShape(BaseModel):
    """The file without its rules: each rule is then validated on its own, so every mistake is reported."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str | None = None
    title: str | None = None
    description: str | None = None
    rules: list[dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True)
class Policy:
    """One loaded policy file or pack."""

    name: str
    source: str  # the pack name or the file path as given
    title: str | None
    rules: tuple[PolicyRule, ...]
    pack: bool = False


def pack_names() -> list[str]:
    """Names of the built-in packs."""
    root = resources.files(PACK_PACKAGE)
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml"))


def is_pack_name(name: str) -> bool:
    return "/" not in name and "\\" not in name and not re.search(r"\.ya?ml$", name)


def load_pack(name: str, where: Mark | None = None) -> Policy:
    if name not in pack_names():
        close = difflib.get_close_matches(name, pack_names(), n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else f"built-in packs: {', '.join(pack_names())}; a file needs a .yaml suffix"
        raise PolicyError(PlanIssue(where or Mark(name), f"unknown policy pack '{name}'", hint))
    ref = resources.files(PACK_PACKAGE) / f"{name}.yaml"
    with resources.as_file(ref) as path:
        policy = load_policy_file(path, display=f"policies/packs/{name}.yaml", pack=name)
    return policy


def load_policy_file(path: str | Path, display: str | None = None, pack: str | None = None) -> Policy:
    """Read and validate one policy file; raises PolicyError with every problem found."""
    path = Path(path)
    shown = display or str(path)
    try:
        doc = read_yaml_file(path, shown)
    except PlanError as exc:
        raise PolicyError(exc.issues) from None
    data, marks = doc.data, doc.marks
    if not isinstance(data, dict):
        raise PolicyError(PlanIssue(doc.mark(()), "a policy file must be a mapping with a 'rules:' list",
                                    "start the file with 'rules:' and list the rules under it"))
    try:
        spec = _FileShape.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(issues_from_validation(exc, marks, shown, PolicyFileSpec)) from None
    issues: list[PlanIssue] = []
    rules = []
    seen: dict[str, Mark] = {}
    name = pack or spec.name or path.stem
    for i, raw in enumerate(spec.rules):
        where = mark_for(marks, ("rules", i), shown)
        try:
            r = RuleFileSpec.model_validate(raw)
        except ValidationError as exc:
            issues.extend(issues_from_validation(exc, marks, shown, RuleFileSpec, ("rules", i)))
            continue
        if r.id in seen:
            issues.append(PlanIssue(mark_for(marks, ("rules", i, "id"), shown),
                                    f"rule id '{r.id}' is used twice (first at {seen[r.id]})", "give every rule its own id"))
        seen.setdefault(r.id, where)
        if r.kind not in RULE_KINDS:
            close = difflib.get_close_matches(r.kind, list(RULE_KINDS), n=1, cutoff=0.5)
            issues.append(PlanIssue(mark_for(marks, ("rules", i, "kind"), shown), f"unknown rule kind '{r.kind}'",
                                    f"did you mean '{close[0]}'?" if close else f"kinds: {', '.join(sorted(RULE_KINDS))}"))
            continue
        model = RULE_PARAMS.get(r.kind)
        params = dict(r.params)
        if model is not None:
            try:
                model.model_validate(params)
            except ValidationError as exc:
                issues.extend(issues_from_validation(exc, marks, shown, model, ("rules", i, "params")))
                continue
        rules.append(PolicyRule(id=r.id, kind=r.kind, severity=r.severity, params=params, clause=r.clause,
                                description=" ".join(r.description.split()), pack=name, mark=where))
    if issues:
        raise PolicyError(issues)
    return Policy(name=name, source=pack or shown, title=spec.title, rules=tuple(rules), pack=pack is not None)


def resolve_policies(names: list[str] | tuple[str, ...], base: Path | None = None,
                     marks: list[Mark] | None = None) -> list[Policy]:
    """Load each named pack or file (files relative to ``base``); rule ids must be unique across them."""
    issues: list[PlanIssue] = []
    out: list[Policy] = []
    for i, name in enumerate(names):
        where = marks[i] if marks and i < len(marks) else None
        try:
            if is_pack_name(name):
                out.append(load_pack(name, where))
            else:
                path = Path(name)
                if base is not None and not path.is_absolute():
                    path = base / path
                if not path.is_file():
                    issues.append(PlanIssue(where or Mark(name), f"policy file '{name}' does not exist",
                                            f"paths are relative to {base or 'the working directory'}; "
                                            f"built-in packs: {', '.join(pack_names())}"))
                    continue
                shown = str(Path(name)) if base is None else _display(path)
                out.append(load_policy_file(path, display=shown))
        except PlanError as exc:
            issues.extend(exc.issues)
    owners: dict[str, str] = {}
    for policy in out:
        for rule in policy.rules:
            if rule.id in owners and owners[rule.id] != policy.source:
                issues.append(PlanIssue(rule.mark or Mark(policy.source), f"rule id '{rule.id}' is defined both in "
                                        f"{owners[rule.id]} and in {policy.source}", "rename one of them"))
            owners.setdefault(rule.id, policy.source)
    if issues:
        raise PolicyError(issues)
    return out


def plan_policies(net: Network) -> list[Policy]:
    """The packs and files the plan itself names under ``policies:``."""
    base = Path(net.file).parent
    marks = _plan_policy_marks(net)
    return resolve_policies(list(net.policies), base, marks)


def _plan_policy_marks(net: Network) -> list[Mark]:
    try:
        doc = read_yaml_file(Path(net.file), net.file)
    except PlanError:
        return []
    listed = doc.data.get("policies") if isinstance(doc.data, dict) else None
    if not isinstance(listed, list) or len(listed) != len(net.policies):
        return [net.mark] * len(net.policies)
    return [doc.mark(("policies", i)) for i in range(len(listed))]


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def rules_of(policies: list[Policy]) -> list[PolicyRule]:
    return [r for p in policies for r in p.rules]
