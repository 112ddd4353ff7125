"""The draft: what expansion knows about a plan between two passes.

Definition. A :class:`Draft` starts as the validated plan (:class:`~topology.schema.PlanSpec`
with the YAML marks of every value) and is filled in by the passes of
:mod:`topology.expand`, each adding the sections it owns (sites, node and
link and ACL drafts, resolved fields, model links and nodes, ...). A :class:`NodeDraft`
is a node as the plan says it before fields are resolved: its own fields, the
defaults its star or aggregation gives its units (:class:`UnitDefaults`), the
core whose domain, site and phase it inherits, and its interfaces, gateway
and routes as written. A :class:`Context` is where a piece of a template is
being expanded: the site and the values of the placeholders there.

Problems are collected on the draft (``draft.error``) with the mark of the
YAML that caused them, so one run reports all of them; a limit reached stops
expansion with :class:`TooLarge` after recording why.

    >>> from topology.loader import draft_of
    >>> d = draft_of("name: demo")
    >>> d.spec.name, d.nodes, d.issues.issues
    ('demo', {}, [])
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..addressing import PoolAllocator
from ..errors import IssueCollector, Mark
from ..model import (
    Acl,
    Approval,
    DeclinedPolicy,
    Domain,
    DomainKind,
    Flow,
    Interface,
    Link,
    Node,
    Phase,
    RiskGroup,
    Service,
    Site,
    Tunnel,
    Vrf,
    Waiver,
)
from ..patterns import PatternError, fill
from ..schema import GatewaySpec, InterfaceSpec, PlanSpec, RouteSpec, RuleSpec, TunnelSpec
from ..validation import suggest
from ..yaml_source import mark_for

# nodes (and links) and sites a plan may expand to unless its ``limits:`` says more: small enough that any plan
# within them, a mistyped one included, is answered in seconds and a few hundred MiB
MAX_NODES = int(os.environ.get("GOVNET_MAX_NODES", "25000"))
MAX_SITES = int(os.environ.get("GOVNET_MAX_SITES", "10000"))
LIMIT_HINT = ("check the counts of stars, aggregations and generated sites; a plan this large on purpose says so "
              "at its top with 'limits: {{{0}: N}}' (or the environment variable GOVNET_MAX_{1} raises the "
              "default)")


def limit_hint(what: str) -> str:
    """How to raise the limit on ``what`` (nodes or sites).

    >>> limit_hint("sites").split(" says so ")[1][:27]
    "at its top with 'limits: {s"
    """
    return LIMIT_HINT.format(what, what.upper())

Fields = dict[str, Any]  # node fields by name (those of topology.schema.NodeFields)


class TooLarge(Exception):
    """Expansion stopped at a limit (the issue is recorded on the draft)."""


@dataclass(frozen=True)
class Context:
    """Where a piece of a template is being expanded: the site and the placeholder values there."""

    site: str | None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitDefaults:
    """What a star or an aggregation says of the nodes it makes; ranks below the nodes' groups."""

    role: str | None = None
    domain: str | None = None
    site: str | None = None
    phase: str | None = None
    title: str | None = None

    def as_fields(self) -> Fields:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass
class NodeDraft:
    """A node as written, before its fields are resolved."""

    name: str
    own: Fields  # the fields set on the node itself
    groups: list[str]
    interfaces: dict[str, InterfaceSpec]
    gateway: GatewaySpec | None
    routes: list[RouteSpec]
    mcu_parent: str | None
    path: tuple
    context_site: str | None  # the site of the template that made it
    unit: UnitDefaults | None = None  # made by a star or an aggregation
    inherits_from: str | None = None  # the core whose domain, site and phase it takes when nothing else says


@dataclass
class LinkDraft:
    """A link as written: ends ``node`` or ``node:ifname`` (placeholders filled) and its own attributes."""

    a: str
    b: str
    attrs: dict[str, Any]
    name: str | None
    path: tuple


@dataclass
class AclDraft:
    """An ACL as written, its name and rules filled in the context of the block that made it.

    ``path`` is where the ACL is written (``("acls", NAME)`` in the plan,
    ``("templates", T, "acls", PATTERN)`` in a template); rule ``i`` (from 0)
    is written at ``path + (i,)`` and is rule ``i + 1`` of the ACL. A rule
    whose patterns could not be filled is None (the error is recorded), so
    the others keep their numbers.
    """

    name: str
    rules: list[RuleSpec | None]
    path: tuple


@dataclass
class TunnelDraft:
    """A tunnel as written, with the context its placeholders are filled in."""

    spec: TunnelSpec
    path: tuple
    context: Context


@dataclass
class Draft:
    """The state of an expansion (see the module docstring); each pass fills its own sections."""

    spec: PlanSpec
    marks: dict
    file: str
    issues: IssueCollector = field(default_factory=IssueCollector)
    # domains
    phases: tuple[Phase, ...] = ()
    phase_index: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, DomainKind] = field(default_factory=dict)
    domains: dict[str, Domain] = field(default_factory=dict)
    # sites
    sites: dict[str, Site] = field(default_factory=dict)
    site_paths: dict[str, tuple] = field(default_factory=dict)
    site_templates: dict[str, list[tuple[str, tuple]]] = field(default_factory=dict)
    # inheritance
    group_fields: dict[str, Fields] = field(default_factory=dict)
    template_order: dict[str, list[str]] = field(default_factory=dict)
    # templates
    nodes: dict[str, NodeDraft] = field(default_factory=dict)
    links: list[LinkDraft] = field(default_factory=list)
    tunnels: list[TunnelDraft] = field(default_factory=list)
    acl_drafts: dict[str, AclDraft] = field(default_factory=dict)  # by filled name, the plan's first
    # fields
    fields: dict[str, Fields] = field(default_factory=dict)
    # address plan, links, nodes
    allocators: dict[str, PoolAllocator] = field(default_factory=dict)
    register: dict[tuple[str, str], ipaddress.IPv4Network] = field(default_factory=dict)  # (loopback|link, name)
    allocated: dict[tuple[str, str], ipaddress.IPv4Network] = field(default_factory=dict)  # handed out automatically
    interfaces: dict[str, dict[str, Interface]] = field(default_factory=dict)  # cabled interfaces, by node
    model_links: dict[str, Link] = field(default_factory=dict)
    model_nodes: dict[str, Node] = field(default_factory=dict)
    # rules, tunnels, flows, sections
    acls: dict[str, Acl] = field(default_factory=dict)
    vrfs: dict[str, Vrf] = field(default_factory=dict)
    model_tunnels: dict[str, Tunnel] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    approvals: tuple[Approval, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    declined: tuple[DeclinedPolicy, ...] = ()
    # risk groups
    risk_groups: dict[str, RiskGroup] = field(default_factory=dict)
    contexts: dict[str, Context] = field(default_factory=dict, repr=False)

    @classmethod
    def start(cls, spec: PlanSpec, marks: dict, root: Path | str) -> Draft:
        return cls(spec, marks, str(root))

    @property
    def max_nodes(self) -> int:
        """The most nodes (and links) this plan may expand to: its ``limits:`` or the default."""
        limits = self.spec.limits
        return limits.nodes if limits is not None and limits.nodes is not None else MAX_NODES

    @property
    def max_sites(self) -> int:
        """The most sites this plan may have: its ``limits:`` or the default."""
        limits = self.spec.limits
        return limits.sites if limits is not None and limits.sites is not None else MAX_SITES

    # -- marks and problems --------------------------------------------------
    def mark(self, path: Iterable) -> Mark:
        return mark_for(self.marks, tuple(path), self.file)

    def error(self, path: Iterable, message: str, hint: str = "") -> None:
        self.issues.add(self.mark(path), message, hint)

    # -- phases, placeholders --------------------------------------------------
    def phase_of(self, name: str | None, path: tuple) -> int:
        """The index of phase ``name`` (0 when none is named); an unknown phase is an error."""
        if not name:
            return 0
        if name not in self.phase_index:
            self.error(path, f"unknown phase '{name}'", suggest(name, self.phase_index, "phases"))
            return 0
        return self.phase_index[name]

    def node_phase(self, node: str) -> int:
        name = self.fields[node].get("phase")
        return self.phase_index.get(name, 0) if name else 0

    def format(self, pattern: str, ctx: Context, path: tuple, extra: dict | None = None) -> str | None:
        """``pattern`` with its placeholders filled from ``ctx`` (and ``extra``); None after an error."""
        if "{" not in pattern:
            return pattern
        values = dict(ctx.values)
        if extra:
            values.update(extra)
        try:
            return fill(pattern, values)
        except KeyError as exc:
            key = exc.args[0]
            self.error(path, f"placeholder {{{key}}} in '{pattern}' has no value here",
                       f"the site has no {key} above it" if ctx.site else "only a template applied to a site, or a "
                       "star or generated list, fills placeholders")
        except PatternError as exc:
            self.error(path, exc.message, exc.hint)
        return None

    def context(self, site: str | None) -> Context:
        """The placeholders at ``site``: ``{site}``, ``{level}``, ``{parent}`` and each level above by name."""
        if site is None or site not in self.sites:
            return Context(None, {})
        cached = self.contexts.get(site)
        if cached is None:
            values: dict[str, Any] = {"site": site, "level": self.sites[site].level,
                                      "parent": self.sites[site].parent or ""}
            current: str | None = site
            while current is not None:
                values.setdefault(self.sites[current].level, current)
                current = self.sites[current].parent
            cached = self.contexts[site] = Context(site, values)
        return cached


def explicit(model: BaseModel, names: Iterable[str] | None = None) -> dict[str, Any]:
    """The fields ``model`` sets explicitly (of ``names`` when given), in the model's field order.

    >>> from topology.schema import NodeSpec
    >>> explicit(NodeSpec(site="楚雄州", role="host"))
    {'role': 'host', 'site': '楚雄州'}
    """
    wanted = set(names) if names is not None else None
    return {k: getattr(model, k) for k in type(model).model_fields
            if k in model.model_fields_set and (wanted is None or k in wanted)}


def set_fields(model: BaseModel, cls: type[BaseModel], **extra: Any) -> dict[str, Any]:
    """The fields of ``cls`` that ``model`` sets explicitly, then ``extra`` where it sets none."""
    out = explicit(model, cls.model_fields)
    for k, v in extra.items():
        if v is not None:
            out.setdefault(k, v)
    return out


def is_address(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False
