"""Policy files and built-in packs: reading, validating, resolving the names a plan gives.

A policy file is YAML::

    name: my-rules                  # optional; the file name without .yaml
    title: 市电子政务外网补充规则
    rules:
      - id: LOCAL-1                 # unique in the check
        kind: physical_isolation    # a rule kind (policies.params.KIND_PARAMS)
        severity: critical          # critical | high | medium | low (default high)
        clause: 中办发〔2002〕17号     # the source it enforces
        title: Intranet and extranet physically isolated
        description: The intranet and the extranet share no cable.
        fix: Remove every link and device the two networks share.
        params: {domains: [kind:intranet], against: [kind:extranet]}

Files are read with :func:`topology.yaml_source.read_yaml_file` (positions,
duplicate keys and size limits) and validated with strict pydantic models,
the rule's ``params`` with the model of its kind
(:data:`policies.params.KIND_PARAMS`; no evaluator is imported). Every
problem is collected and raised together as a
:class:`~policies.errors.PolicyError` whose issues carry FILE:LINE:COL.

Built-in packs are policy files shipped in ``policies/packs``; a name without
a path separator and without a ``.yaml``/``.yml`` suffix names a pack,
anything else a file (relative to the plan's folder when the plan names it,
to the working directory when the command line does).

Which policies a check runs is decided here, once (:func:`select_policies`):
the plan's own ``policies:`` or the command line's ``--policy`` names, plus
the packs the law requires whatever either says (:func:`required_packs`: a
plan with a domain cleared above 非涉密 or a node holding classified data is
always checked with the ``classified`` pack), minus nothing: a plan may list
under ``declined_policies:`` the built-in packs it does not take and why, but
may not decline a pack the law requires.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from topology import files
from topology.errors import GovnetError, Mark, PlanError, PlanIssue
from topology.loader import include_boundary
from topology.model import DeclinedPolicy, Network
from topology.validation import issues_from_validation, suggest
from topology.vocabulary import CLASSIFICATIONS
from topology.yaml_source import mark_for, read_yaml_file

from .errors import PolicyError
from .model import PolicyRule
from .params import KIND_PARAMS

PACK_PACKAGE = "policies.packs"
CLASSIFIED_PACK = "classified"  # the pack 保密法 makes every classified plan pass


class RuleFileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: str = Field(min_length=1, max_length=100, pattern=r"^[^\s:\[\]]+$",
                    description="unique rule id, e.g. EGOV-PI-1 (no spaces, colons or brackets)")
    kind: str = Field(min_length=1)
    severity: Literal["critical", "high", "medium", "low"] = "high"
    clause: str = ""
    title: str = Field("", description="what the rule asks, in a few words")
    description: str = ""
    fix: str = Field("", description="how to fix a plan that fails the rule")
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
    file: str | None = None  # the file it was read from (resolved)


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
        if r.kind not in KIND_PARAMS:
            close = difflib.get_close_matches(r.kind, list(KIND_PARAMS), n=1, cutoff=0.5)
            issues.append(PlanIssue(mark_for(marks, ("rules", i, "kind"), shown), f"unknown rule kind '{r.kind}'",
                                    f"did you mean '{close[0]}'?" if close else f"kinds: {', '.join(sorted(KIND_PARAMS))}"))
            continue
        model = KIND_PARAMS[r.kind]
        params = dict(r.params)
        try:
            model.model_validate(params)
        except ValidationError as exc:
            issues.extend(issues_from_validation(exc, marks, shown, model, ("rules", i, "params")))
            continue
        prefix = ("rules", i, "params")
        param_marks = {path[len(prefix):]: mark for path, mark in marks.items() if path[:len(prefix)] == prefix}
        rules.append(PolicyRule(id=r.id, kind=r.kind, severity=r.severity, params=params, clause=r.clause,
                                description=" ".join(r.description.split()), pack=name, mark=where,
                                title=" ".join(r.title.split()), fix=" ".join(r.fix.split()),
                                param_marks=param_marks))
    if issues:
        raise PolicyError(issues)
    return Policy(name=name, source=pack or shown, title=spec.title, rules=tuple(rules), pack=pack is not None,
                  file=str(path.resolve()))


def configured(policy: Policy, settings: Mapping[str, Mapping[str, Any]], drop: Iterable[str] = ()) -> Policy:
    """``policy`` with the parameters of some rules changed (``settings``: rule id -> parameters over the
    rule's own) and the rules of ``drop`` left out; the new parameters are validated as a policy file's are.

    A command that runs a pack with its own settings (``govnet capacity --warn 0.6``) goes through here,
    so its rules keep the pack's ids, clauses and texts.

    >>> pack = configured(load_pack("capacity"), {"CAP-UTIL": {"fail": 0.8}}, drop=["CAP-N1"])
    >>> [(r.id, r.params.get("fail")) for r in pack.rules]
    [('CAP-UTIL', 0.8), ('CAP-DELAY', None)]
    """
    known = {r.id for r in policy.rules}
    unknown = sorted((set(settings) | set(drop)) - known)
    if unknown:
        raise GovnetError(f"policy {policy.name} has no rule {', '.join(unknown)}")
    rules = []
    for rule in policy.rules:
        if rule.id in drop:
            continue
        if rule.id in settings:
            params = {**rule.params, **settings[rule.id]}
            model = KIND_PARAMS.get(rule.kind)
            if model is not None:
                try:
                    model.model_validate(params)
                except ValidationError as exc:
                    raise PolicyError(issues_from_validation(exc, {}, policy.source, model)) from None
            rule = replace(rule, params=params, param_marks={})
        rules.append(rule)
    return replace(policy, rules=tuple(rules))


def resolve_policies(names: list[str] | tuple[str, ...], base: Path | None = None,
                     marks: list[Mark] | None = None, within: Path | None = None) -> list[Policy]:
    """Load each named pack or file (files relative to ``base``, and inside the folder ``within`` when given);
    rule ids must be unique across them."""
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
                try:
                    outside = within is not None and not path.resolve().is_relative_to(within.resolve())
                    present = path.is_file()
                except OSError as exc:
                    issues.append(PlanIssue(where or Mark(name[:80]), f"policy file '{name[:80]}' cannot be read "
                                            f"({exc.strerror or exc})", "name a policy file in the plan's folder"))
                    continue
                if outside:
                    issues.append(PlanIssue(where or Mark(name), f"policy file '{name}' lies outside the plan's "
                                            f"folder {within.name}/" if within else "", "keep the policy files of a "
                                            "plan inside its scenario folder, as its includes are"))
                    continue
                if not present:
                    issues.append(PlanIssue(where or Mark(name), f"policy file '{name}' does not exist",
                                            f"paths are relative to {base or 'the working directory'}; "
                                            f"built-in packs: {', '.join(pack_names())}"))
                    continue
                shown = str(Path(name)) if base is None else files.shown(path)
                out.append(load_policy_file(path, display=shown))
        except PlanError as exc:
            issues.extend(exc.issues)
    issues += _duplicate_rule_issues(out)
    if issues:
        raise PolicyError(issues)
    return out


def _duplicate_rule_issues(policies: list[Policy]) -> list[PlanIssue]:
    """Rule ids must be unique across the policies of one check."""
    issues = []
    owners: dict[str, str] = {}
    for policy in policies:
        for rule in policy.rules:
            if rule.id in owners and owners[rule.id] != policy.source:
                issues.append(PlanIssue(rule.mark or Mark(policy.source), f"rule id '{rule.id}' is defined both in "
                                        f"{owners[rule.id]} and in {policy.source}", "rename one of them"))
            owners.setdefault(rule.id, policy.source)
    return issues


def plan_policies(net: Network) -> list[Policy]:
    """The packs and files the plan itself names under ``policies:``."""
    base = Path(net.file).parent
    marks = _plan_policy_marks(net)
    return resolve_policies(list(net.policies), base, marks, include_boundary(Path(net.file)))


def _plan_policy_marks(net: Network) -> list[Mark]:
    try:
        doc = read_yaml_file(Path(net.file), net.file)
    except PlanError:
        return []
    listed = doc.data.get("policies") if isinstance(doc.data, dict) else None
    if not isinstance(listed, list) or len(listed) != len(net.policies):
        return [net.mark] * len(net.policies)
    return [doc.mark(("policies", i)) for i in range(len(listed))]


def rules_of(policies: list[Policy] | tuple[Policy, ...]) -> list[PolicyRule]:
    return [r for p in policies for r in p.rules]


# -- what a check runs -----------------------------------------------------------------------------

@dataclass(frozen=True)
class RequiredPack:
    """A pack the law makes the plan pass, and why."""

    pack: str
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.pack} added: {'; '.join(self.reasons)}"


@dataclass(frozen=True)
class PolicySelection:
    """The policies of one check and how they were chosen.

    ``from_plan``: the plan's own ``policies:`` list (else the command line's);
    ``added``: packs the law required that neither named; ``declined``: the
    packs the plan says it does not take.
    """

    policies: tuple[Policy, ...]
    added: tuple[RequiredPack, ...] = ()
    declined: tuple[DeclinedPolicy, ...] = ()
    from_plan: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.source for p in self.policies)


MAX_REASONS = 5


def required_packs(net: Network) -> list[RequiredPack]:
    """The packs the law requires of ``net``: ``classified`` when a domain is cleared above 非涉密 or a node
    holds classified data (保密法 第三十一条), with the domains and nodes that require it.

    >>> from topology.model import Domain, Network
    >>> net = Network("p", None, "p.yaml", {"内网": Domain("内网", "intranet", None, 1, True, None)},
    ...               {}, {}, {}, {}, {}, {}, {}, (), ())
    >>> [str(p) for p in required_packs(net)]
    ['classified added: domain 内网 is cleared for 秘密']
    """
    reasons = [f"domain {d.name} is cleared for {d.clearance_label}" for d in net.domains.values() if d.clearance > 0]
    holders = [n for n in net.nodes.values() if n.classification > 0]
    reasons += [f"node {n.name} holds {CLASSIFICATIONS[n.classification]} data" for n in holders[:MAX_REASONS]]
    if len(holders) > MAX_REASONS:
        reasons.append(f"{len(holders) - MAX_REASONS} more nodes hold classified data")
    return [RequiredPack(CLASSIFIED_PACK, tuple(reasons))] if reasons else []


def select_policies(net: Network, names: list[str] | tuple[str, ...] | None = None) -> PolicySelection:
    """The policies to check ``net`` with: ``names`` (the command line's, relative to the working directory)
    or, when None, the plan's own ``policies:``; plus the packs the law requires. Raises PolicyError on
    every problem: a bad name or file, a declined pack that is unknown, required or also listed."""
    if names is None:
        return with_required_packs(net, plan_policies(net), from_plan=True)
    return with_required_packs(net, resolve_policies(list(names), None), from_plan=False)


def policies_to_check(net: Network, names: list[str] | tuple[str, ...] | None = None) -> PolicySelection:
    """:func:`select_policies` for a command that judges the plan: a plan that names no policies, checked
    without ``names``, is refused (GovnetError) rather than judged by the required packs alone."""
    if not names and not net.policies:
        raise GovnetError(f"{net.file}: the plan names no policies; add 'policies: [egov-baseline]' to it "
                          "or pass --policy PACK")
    return select_policies(net, names or None)


def with_required_packs(net: Network, policies: list[Policy], from_plan: bool = False) -> PolicySelection:
    """``policies`` and the packs the law requires of ``net`` that they lack (never twice); raises PolicyError
    when the plan declines a pack it may not or rule ids clash."""
    required = required_packs(net)
    issues = _declined_issues(net, required, from_plan)
    taken = {p.name for p in policies if p.pack}
    added = tuple(r for r in required if r.pack not in taken)
    chosen = [*policies, *(load_pack(r.pack) for r in added)]
    issues += _duplicate_rule_issues(chosen)
    if issues:
        raise PolicyError(issues)
    return PolicySelection(tuple(chosen), added, tuple(net.declined_policies), from_plan)


def _declined_issues(net: Network, required: list[RequiredPack], from_plan: bool) -> list[PlanIssue]:
    issues = []
    needed = {r.pack: r for r in required}
    listed = set(net.policies) if from_plan else set()
    for d in net.declined_policies:
        if d.pack not in pack_names():
            issues.append(PlanIssue(d.mark, f"declined policy '{d.pack}' is not a built-in pack",
                                    suggest(d.pack, pack_names(), "built-in packs")))
        elif d.pack in needed:
            issues.append(PlanIssue(d.mark, f"the plan declines the pack '{d.pack}', which the law requires of it "
                                    f"({'; '.join(needed[d.pack].reasons)})",
                                    f"remove '{d.pack}' from declined_policies; it is checked whatever the plan says"))
        elif d.pack in listed:
            issues.append(PlanIssue(d.mark, f"the plan both takes and declines the pack '{d.pack}'",
                                    "remove it from policies: or from declined_policies:"))
    return issues
