"""Expansion: from the plan as written (:mod:`topology.schema`) to the model.

Expansion resolves, in this order:

1. phases, the plan's own domain kinds, domains (each kind built-in or
   declared) and the site tree (``children`` and ``generate``);
2. groups (``inherit``) and templates (``use``), refusing cycles;
3. templates applied per site (``level_templates`` and a site's own
   ``templates``), with ``{site}``, ``{parent}``, ``{province}``,
   ``{prefecture}``, ``{county}``, ``{township}``, ``{level}`` in names;
4. stars and aggregation nodes into units and links;
5. node fields: the node's own value, then its groups', then
   ``defaults.node``;
6. links: endpoints ``node`` or ``node:ifname``, attributes from the link,
   then ``defaults.link``, then built-in defaults;
7. the address plan (:mod:`topology.addressing`), tunnels, ACLs, VRFs and
   traffic flows;
8. waivers and declined policies, as written (what they name is checked
   against the rules at check time, in :mod:`policies`).

Every reference is checked and every problem is collected with the mark of the
YAML that caused it, so one run reports all of them.
"""

from __future__ import annotations

import fnmatch
import os
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .addressing import PoolAllocator, PoolExhausted, auto_pools, find_overlaps
from .errors import IssueCollector, Mark
from .model import (
    CLASSIFICATION_ORDER,
    LEVEL_ORDER,
    Acl,
    DeclinedPolicy,
    Domain,
    DomainKind,
    Flow,
    Gateway,
    Interface,
    Link,
    Network,
    Node,
    Phase,
    Rule,
    Service,
    Site,
    UNTRUSTED_MEDIA,
    StaticRoute,
    Tunnel,
    Vrf,
    Waiver,
    freeze,
)
from .schema import KNOWN_DOMAIN_KINDS, LinkAttrs, NodeFields, PlanSpec, SelectorSpec, SiteSpec, TemplateSpec
from .validation import suggest
from .patterns import PatternError, fill
from .yaml_source import mark_for

DEFAULT_BANDWIDTH = 1e9
DEFAULT_LATENCY = 1e-3
REFERENCE_BANDWIDTH = 100e9  # link cost = reference / bandwidth, as OSPF does
MAX_NODES = int(os.environ.get("GOVNET_MAX_NODES", "500000"))  # nodes (and links) a plan may expand to
MAX_SITES = int(os.environ.get("GOVNET_MAX_SITES", "100000"))
UNTRUSTED_KINDS = ("internet",)
NODE_FIELDS = tuple(NodeFields.model_fields)


@dataclass
class _Context:
    """Where a piece of a template is being expanded: the site and its ancestors."""

    site: str | None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class _NodeDraft:
    name: str
    fields: dict[str, Any]
    groups: list[str]
    interfaces: dict[str, Any]
    gateway: Any
    routes: list[Any]
    mcu_parent: str | None
    path: tuple
    context_site: str | None


@dataclass
class _LinkDraft:
    a: str
    b: str
    attrs: dict[str, Any]
    name: str | None
    path: tuple


class _Expander:
    def __init__(self, spec: PlanSpec, marks: dict, file: str):
        self.spec = spec
        self.marks = marks
        self.file = file
        self.issues = IssueCollector()
        self.phase_index: dict[str, int] = {}
        self.sites: dict[str, Site] = {}
        self.site_paths: dict[str, tuple] = {}
        self.site_templates: dict[str, list[tuple[str, tuple]]] = {}
        self.nodes: dict[str, _NodeDraft] = {}
        self.links: list[_LinkDraft] = []
        self.tunnels: list[tuple[Any, tuple, _Context]] = []
        self.group_fields: dict[str, dict[str, Any]] = {}
        self.template_order: dict[str, list[str]] = {}
        self._contexts: dict[str, _Context] = {}

    # -- helpers -------------------------------------------------------------
    def mark(self, path: Iterable) -> Mark:
        return mark_for(self.marks, tuple(path), self.file)

    def error(self, path: Iterable, message: str, hint: str = "") -> None:
        self.issues.add(self.mark(path), message, hint)

    def phase_of(self, name: str | None, path: tuple) -> int:
        if name is None:
            return 0
        if name not in self.phase_index:
            self.error(path, f"unknown phase '{name}'", suggest(name, self.phase_index, "phases"))
            return 0
        return self.phase_index[name]

    def format(self, pattern: str, ctx: _Context, path: tuple, extra: dict | None = None) -> str | None:
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

    # -- phases, domains, sites ---------------------------------------------
    def expand_phases(self) -> tuple[Phase, ...]:
        if not self.spec.phases:
            self.phase_index = {"all": 0}
            return (Phase("all", 0, "whole plan"),)
        out = []
        for index, (name, phase) in enumerate(self.spec.phases.items()):
            self.phase_index[name] = index
            out.append(Phase(name, index, phase.title, phase.start, phase.end))
        return tuple(out)

    def expand_domain_kinds(self) -> dict[str, DomainKind]:
        """The plan's own kinds; a built-in kind cannot be declared again."""
        out = {}
        for name, spec in self.spec.domain_kinds.items():
            if name in KNOWN_DOMAIN_KINDS:
                self.error(("domain_kinds", name), f"'{name}' is a built-in domain kind",
                           "declare only kinds of your own; a built-in kind needs no declaration")
                continue
            out[name] = DomainKind(name, spec.like, spec.title, spec.description, self.mark(("domain_kinds", name)))
        return out

    def base_kind(self, domain: str, kind: str, kinds: dict[str, DomainKind]) -> str:
        """The built-in kind whose rules a domain of ``kind`` takes; an unknown kind is an error."""
        if kind in KNOWN_DOMAIN_KINDS:
            return kind
        if kind in kinds:
            return kinds[kind].like
        declare = f"domain_kinds: {{{kind}: {{like: <built-in kind>}}}}"
        hint = suggest(kind, [*KNOWN_DOMAIN_KINDS, *kinds], "domain kinds")
        if hint.startswith("did you mean"):
            hint += f" or declare it under {declare}"
        else:
            hint = f"built-in kinds: {', '.join(KNOWN_DOMAIN_KINDS)}; declare a kind of your own under {declare}"
        self.error(("domains", domain, "kind"), f"domain '{domain}' has unknown kind '{kind}'", hint)
        return kind

    def expand_domains(self, kinds: dict[str, DomainKind]) -> dict[str, Domain]:
        explicit = [(d.pool, name) for name, d in self.spec.domains.items() if d.pool is not None]
        for first, second in find_overlaps(explicit):
            self.error(("domains", second, "pool"), f"the pool of domain '{second}' overlaps the pool of '{first}'",
                       "give every domain its own block in the unified address plan")
        missing = [name for name, d in self.spec.domains.items() if d.pool is None]
        try:
            autos = dict(zip(missing, auto_pools(len(missing), [p for p, _ in explicit])))
        except PoolExhausted as exc:
            self.error(("domains",), str(exc), "give the domains explicit pools")
            autos = {}
        out = {}
        for name, d in self.spec.domains.items():
            base = self.base_kind(name, d.kind, kinds)
            trusted = (d.trust or ("untrusted" if base in UNTRUSTED_KINDS else "trusted")) == "trusted"
            out[name] = Domain(name, d.kind, d.title, CLASSIFICATION_ORDER.index(d.clearance), trusted,
                               d.pool or autos.get(name), d.owner, self.mark(("domains", name)), base)
        return out

    def waivers(self) -> tuple[Waiver, ...]:
        return tuple(Waiver(w.rule, w.scope.strip(), w.reason.strip(), w.approver.strip(),
                            w.document.strip() if w.document and w.document.strip() else None, w.expires,
                            self.mark(("waivers", i)))
                     for i, w in enumerate(self.spec.waivers))

    def declined_policies(self) -> tuple[DeclinedPolicy, ...]:
        return tuple(DeclinedPolicy(name, reason.strip(), self.mark(("declined_policies", name)))
                     for name, reason in self.spec.declined_policies.items())

    def expand_sites(self) -> None:
        for name, site in self.spec.sites.items():
            self._site(name, site, None, ("sites", name), 0)

    def _site(self, name: str, spec: SiteSpec, parent: str | None, path: tuple, depth: int) -> None:
        parent_level = self.sites[parent].level if parent else None
        level = spec.level or (LEVEL_ORDER[min(LEVEL_ORDER.index(parent_level) + 1, 4)] if parent_level else "province")
        if parent_level and LEVEL_ORDER.index(level) <= LEVEL_ORDER.index(parent_level):
            self.error(path + ("level",), f"site '{name}' ({level}) cannot sit below '{parent}' ({parent_level})",
                       "a child site must be of a lower level than its parent")
        self._add_site(name, level, parent, spec.title, self.phase_of(spec.phase, path + ("phase",)), path)
        self.site_templates[name] = [(t, path + ("templates", i)) for i, t in enumerate(spec.templates)]
        for child, child_spec in spec.children.items():
            self._site(child, child_spec, name, path + ("children", child), depth + 1)
        if spec.generate:
            gen = spec.generate
            if len(self.sites) + gen.count > MAX_SITES:
                self.error(path + ("generate", "count"), f"the plan would have more than {MAX_SITES:,} sites",
                           _LIMIT_HINT.format("SITES"))
                raise _TooLarge()
            child_level = gen.level or LEVEL_ORDER[min(LEVEL_ORDER.index(level) + 1, 4)]
            ctx = self.context(name)
            for i in range(1, gen.count + 1):
                child = self.format(gen.name, ctx, path + ("generate", "name"), {"i": i, "parent": name})
                if child is None:
                    break
                phase = self.phase_of(gen.phase, path + ("generate", "phase")) if gen.phase else self.sites[name].phase
                self._add_site(child, child_level, name, None, phase, path + ("generate",))
                self.site_templates[child] = [(t, path + ("generate", "templates", j)) for j, t in enumerate(gen.templates)]

    def _add_site(self, name: str, level: str, parent: str | None, title: str | None, phase: int, path: tuple) -> None:
        if name in self.sites:
            self.error(path, f"site '{name}' is defined twice (first at {self.mark(self.site_paths[name])})",
                       "site names must be unique across the plan")
            return
        self.sites[name] = Site(name, level, parent, title, phase, self.mark(path))
        self.site_paths[name] = path

    def context(self, site: str | None) -> _Context:
        if site is None or site not in self.sites:
            return _Context(None, {})
        cached = self._contexts.get(site)
        if cached is None:
            cached = self._contexts[site] = self._new_context(site)
        return cached

    def _new_context(self, site: str) -> _Context:
        values: dict[str, Any] = {"site": site, "level": self.sites[site].level, "parent": self.sites[site].parent or ""}
        current: str | None = site
        while current is not None:
            values.setdefault(self.sites[current].level, current)
            current = self.sites[current].parent
        return _Context(site, values)

    # -- groups and templates -------------------------------------------------
    def resolve_groups(self) -> None:
        def resolve(name: str, stack: tuple[str, ...]) -> dict[str, Any]:
            if name in self.group_fields:
                return self.group_fields[name]
            group = self.spec.groups[name]
            merged: dict[str, Any] = {}
            for i, parent in enumerate(group.inherit):
                path = ("groups", name, "inherit", i)
                if parent not in self.spec.groups:
                    self.error(path, f"group '{name}' inherits unknown group '{parent}'", suggest(parent, self.spec.groups, "groups"))
                elif parent in stack or parent == name:
                    self.error(path, f"groups inherit in a cycle: {' -> '.join(stack + (name, parent))}", "break the cycle")
                else:
                    merged.update(resolve(parent, stack + (name,)))
            merged.update({k: getattr(group, k) for k in group.model_fields_set if k in NODE_FIELDS})
            self.group_fields[name] = merged
            return merged

        for name in self.spec.groups:
            resolve(name, ())

    def resolve_templates(self) -> None:
        def order(name: str, stack: tuple[str, ...]) -> list[str]:
            if name in self.template_order:
                return self.template_order[name]
            out: list[str] = []
            for i, used in enumerate(self.spec.templates[name].use):
                path = ("templates", name, "use", i)
                if used not in self.spec.templates:
                    self.error(path, f"template '{name}' uses unknown template '{used}'", suggest(used, self.spec.templates, "templates"))
                elif used in stack or used == name:
                    self.error(path, f"templates use each other in a cycle: {' -> '.join(stack + (name, used))}", "break the cycle")
                else:
                    out.extend(t for t in order(used, stack + (name,)) if t not in out)
            out.append(name)
            self.template_order[name] = out
            return out

        for name in self.spec.templates:
            order(name, ())

    def apply_templates(self) -> None:
        for level, names in self.spec.level_templates.items():
            for i, name in enumerate(names):
                if name not in self.spec.templates:
                    self.error(("level_templates", level, i), f"unknown template '{name}'", suggest(name, self.spec.templates, "templates"))
        for site in self.sites.values():
            wanted = [(t, ("level_templates", site.level, i)) for i, t in enumerate(self.spec.level_templates.get(site.level, []))]
            wanted += self.site_templates.get(site.name, [])
            applied: list[str] = []
            for name, path in wanted:
                if name not in self.spec.templates:
                    if path[0] != "level_templates":
                        self.error(path, f"unknown template '{name}'", suggest(name, self.spec.templates, "templates"))
                    continue
                for tname in self.template_order.get(name, [name]):
                    if tname not in applied:
                        applied.append(tname)
                        self.apply_block(self.spec.templates[tname], ("templates", tname), self.context(site.name))

    def apply_block(self, block: TemplateSpec | PlanSpec, base: tuple, ctx: _Context) -> None:
        for pattern, node in block.nodes.items():
            path = base + ("nodes", pattern)
            name = self.format(pattern, ctx, path)
            if name is not None:
                self.add_node(name, node, path, ctx)
        for i, link in enumerate(block.links):
            path = base + ("links", i)
            a, b = self.format(link.a, ctx, path + ("a",)), self.format(link.b, ctx, path + ("b",))
            name = self.format(link.name, ctx, path + ("name",)) if link.name else None
            if a is not None and b is not None:
                self.links.append(_LinkDraft(a, b, _set_fields(link, LinkAttrs), name, path))
        for i, star in enumerate(block.stars):
            self.add_star(star, base + ("stars", i), ctx)
        for i, agg in enumerate(block.aggregations):
            self.add_aggregation(agg, base + ("aggregations", i), ctx)
        for i, tunnel in enumerate(block.tunnels):
            self.tunnels.append((tunnel, base + ("tunnels", i), ctx))

    # -- nodes, stars, aggregations ----------------------------------------
    def add_node(self, name: str, spec: Any, path: tuple, ctx: _Context, **forced: Any) -> None:
        if name in self.nodes:
            self.error(path, f"node '{name}' is defined twice (first at {self.mark(self.nodes[name].path)})",
                       "node names must be unique across the plan; templates may use {site} in names")
            return
        if len(self.nodes) >= MAX_NODES:
            self.error(path, f"the plan expands to more than {MAX_NODES:,} nodes", _LIMIT_HINT.format("NODES"))
            raise _TooLarge()
        group = getattr(spec, "group", None) if spec is not None else forced.pop("group", None)
        fields = {k: getattr(spec, k) for k in spec.model_fields_set if k in NODE_FIELDS} if spec is not None else {}
        # what a star or aggregation says of its units ranks below the units' groups
        fields["_forced"] = {k: v for k, v in forced.items() if v is not None}
        groups = [group] if isinstance(group, str) else list(group or [])
        self.nodes[name] = _NodeDraft(
            name, fields, groups,
            dict(getattr(spec, "interfaces", {}) or {}), getattr(spec, "gateway", None),
            list(getattr(spec, "routes", []) or []), getattr(spec, "mcu_parent", None), path, ctx.site,
        )
        if self.nodes[name].mcu_parent:
            self.nodes[name].mcu_parent = self.format(self.nodes[name].mcu_parent, ctx, path + ("mcu_parent",))

    def add_star(self, star: Any, path: tuple, ctx: _Context) -> None:
        core = self.format(star.core, ctx, path + ("core",))
        if core is None:
            return
        site = self.format(star.site, ctx, path + ("site",)) if star.site else None
        names = [self.format(u, ctx, path + ("units", i)) for i, u in enumerate(star.units)]
        for i in range(1, star.count + 1):
            names.append(self.format(star.name, ctx, path + ("name",), {"i": i, "core": core}))
        for name in names:
            if name is None:
                continue
            self.add_node(name, None, path, ctx, role=star.role, domain=star.domain, site=site,
                          phase=star.phase, group=star.group)
            if name in self.nodes:
                self.nodes[name].fields.setdefault("_inherit_from", core)
            self.links.append(_LinkDraft(name, core, _set_fields(star.link, LinkAttrs, phase=star.phase), None, path))

    def add_aggregation(self, agg: Any, path: tuple, ctx: _Context) -> None:
        name = self.format(agg.name, ctx, path + ("name",))
        core = self.format(agg.core, ctx, path + ("core",))
        if name is None or core is None:
            return
        site = self.format(agg.site, ctx, path + ("site",)) if agg.site else None
        self.add_node(name, None, path, ctx, role=agg.role, domain=agg.domain, site=site, phase=agg.phase, title=agg.title,
                      group=agg.group)
        if name in self.nodes:
            self.nodes[name].fields.setdefault("_inherit_from", core)
        self.links.append(_LinkDraft(name, core, _set_fields(agg.uplink, LinkAttrs, phase=agg.phase), None, path + ("uplink",)))
        for i, member in enumerate(agg.members):
            member_name = self.format(member, ctx, path + ("members", i))
            if member_name is None:
                continue
            self.add_node(member_name, None, path + ("members", i), ctx, role=agg.member_role, domain=agg.domain,
                          site=site, phase=agg.phase, group=agg.member_group)
            if member_name in self.nodes:
                self.nodes[member_name].fields.setdefault("_inherit_from", name)
            self.links.append(_LinkDraft(member_name, name, _set_fields(agg.member_link, LinkAttrs, phase=agg.phase),
                                         None, path + ("members", i)))

    def resolve_node_fields(self) -> dict[str, dict[str, Any]]:
        """Final field values of every node: own > groups > inherited-from core > defaults."""
        defaults = {k: getattr(self.spec.defaults.node, k) for k in self.spec.defaults.node.model_fields_set}
        resolved: dict[str, dict[str, Any]] = {}

        def resolve(name: str, depth: int) -> dict[str, Any]:
            if name in resolved:
                return resolved[name]
            draft = self.nodes[name]
            out = dict(defaults)
            inherit_from = draft.fields.get("_inherit_from")
            if inherit_from in self.nodes and depth < 50:
                parent = resolve(inherit_from, depth + 1)
                out.update({k: parent[k] for k in ("domain", "site", "phase") if k in parent})
            if draft.context_site:
                out["site"] = draft.context_site
            out.update(draft.fields.get("_forced", {}))
            for i, group in enumerate(draft.groups):
                if group not in self.spec.groups:
                    self.error(draft.path + ("group",), f"node '{name}' names unknown group '{group}'",
                               suggest(group, self.spec.groups, "groups"))
                    continue
                out.update(self.group_fields.get(group, {}))
            out.update({k: v for k, v in draft.fields.items() if not k.startswith("_")})
            resolved[name] = out
            return out

        for name in self.nodes:
            resolve(name, 0)
        return resolved

    # -- the model -----------------------------------------------------------
    def build(self) -> Network:
        """The model of the plan; raises PlanError with every issue found."""
        try:
            return self._build()
        except _TooLarge:
            self.issues.raise_if_any()
            raise

    def _build(self) -> Network:
        phases = self.expand_phases()
        kinds = self.expand_domain_kinds()
        domains = self.expand_domains(kinds)
        self.expand_sites()
        self.resolve_groups()
        self.resolve_templates()
        self.check_size()
        self.apply_block(self.spec, (), _Context(None))
        self.apply_templates()
        fields = self.resolve_node_fields()
        self._check_node_refs(fields, domains)
        allocators = self._allocators(domains)
        nodes_if: dict[str, dict[str, Interface]] = {}
        links = self._links(fields, domains, allocators, nodes_if)
        nodes = self._nodes(fields, domains, allocators, nodes_if)
        self._check_addresses(nodes, links)
        acls = self._acls(nodes)
        vrfs = self._vrfs(domains)
        self._check_interface_refs(nodes, links, acls, vrfs)
        tunnels = self._tunnels(nodes, domains)
        services = self._services()
        flows = self._flows(nodes, services)
        self.issues.raise_if_any()
        return Network(
            name=self.spec.name, title=self.spec.title, file=self.file,
            domains=freeze(domains), sites=freeze(dict(self.sites)), nodes=freeze(nodes), links=freeze(links),
            tunnels=freeze(tunnels), acls=freeze(acls), vrfs=freeze(vrfs), services=freeze(services),
            flows=tuple(flows), phases=phases, policies=tuple(self.spec.policies),
            assumptions=tuple(self.spec.assumptions), waivers=self.waivers(),
            expect_fail=tuple(self.spec.expect.fail) if self.spec.expect is not None else None,
            declined_policies=self.declined_policies(), domain_kinds=freeze(kinds), mark=self.mark(()),
        )

    def check_size(self) -> None:
        """Refuse, before expanding anything, a plan whose templates, stars and aggregations would make more
        nodes or links than the limits (counted from the patterns, not by building them)."""
        sizes: dict[str, tuple[int, int]] = {}

        def block(b: TemplateSpec | PlanSpec) -> tuple[int, int]:
            nodes = len(b.nodes) + sum(len(s.units) + s.count for s in b.stars) + sum(1 + len(a.members) for a in b.aggregations)
            links = len(b.links) + sum(len(s.units) + s.count for s in b.stars) + sum(1 + len(a.members) for a in b.aggregations)
            return nodes, links

        def template(name: str) -> tuple[int, int]:
            if name not in sizes:
                parts = [block(self.spec.templates[t]) for t in self.template_order.get(name, [name]) if t in self.spec.templates]
                sizes[name] = (sum(p[0] for p in parts), sum(p[1] for p in parts))
            return sizes[name]

        nodes, links = block(self.spec)
        for site in self.sites.values():
            wanted = list(self.spec.level_templates.get(site.level, [])) + [t for t, _ in self.site_templates.get(site.name, [])]
            for name in dict.fromkeys(wanted):
                if name in self.spec.templates:
                    n, l = template(name)
                    nodes += n
                    links += l
        for what, count in (("nodes", nodes), ("links", links)):
            if count > MAX_NODES:
                self.error((), f"the plan would expand to {count:,} {what}, more than the limit of {MAX_NODES:,}",
                           _LIMIT_HINT.format("NODES"))
                raise _TooLarge()

    def _check_node_refs(self, fields: dict[str, dict[str, Any]], domains: dict[str, Domain]) -> None:
        for name, f in fields.items():
            path = self.nodes[name].path
            for key in ("role", "domain", "site"):
                if f.get(key) is None:
                    f.pop(key, None)  # null, e.g. from a group: as if not given
            if "role" not in f:
                self.error(path, f"node '{name}' has no role", "set role: (core_router, firewall, host, ...) on it, its group or defaults.node")
                f["role"] = "host"
            if "domain" not in f:
                self.error(path, f"node '{name}' has no domain", "set domain: on it, its group or defaults.node")
            elif f["domain"] not in domains:
                self.error(path + ("domain",), f"node '{name}' is in unknown domain '{f['domain']}'", suggest(f["domain"], domains, "domains"))
            if "site" not in f:
                self.error(path, f"node '{name}' has no site", "set site: on it or define it inside a template applied to a site")
            elif f["site"] not in self.sites:
                self.error(path + ("site",), f"node '{name}' is at unknown site '{f['site']}'", suggest(f["site"], self.sites, "sites"))
            draft = self.nodes[name]
            if f["role"] == "one_way_gateway" and draft.gateway is None:
                self.error(path, f"one-way gateway '{name}' does not say its direction",
                           "add gateway: {from: <domain>, to: <domain>}")
            if draft.gateway is not None:
                for key, dom in (("from", draft.gateway.from_domain), ("to", draft.gateway.to_domain)):
                    if dom not in domains:
                        self.error(path + ("gateway", key), f"gateway '{name}' names unknown domain '{dom}'", suggest(dom, domains, "domains"))
            if draft.mcu_parent and draft.mcu_parent not in self.nodes:
                self.error(path + ("mcu_parent",), f"MCU '{name}' names unknown parent '{draft.mcu_parent}'", suggest(draft.mcu_parent, self.nodes, "nodes"))

    def _allocators(self, domains: dict[str, Domain]) -> dict[str, PoolAllocator]:
        allocators = {name: PoolAllocator(d.pool) for name, d in domains.items() if d.pool is not None}
        for draft in self.nodes.values():
            for ifname, iface in draft.interfaces.items():
                if iface.address is not None:
                    for alloc in allocators.values():
                        if alloc.pool.overlaps(iface.address.network):
                            alloc.reserve(iface.address.network)
            lan = draft.fields.get("lan")
            if lan is not None:
                for alloc in allocators.values():
                    if alloc.pool.overlaps(lan):
                        alloc.reserve(lan)
        return allocators

    def _allocate(self, allocators: dict[str, PoolAllocator], domain: str | None, prefixlen: int, path: tuple) -> ipaddress.IPv4Network | None:
        alloc = allocators.get(domain or "")
        if alloc is None:
            return None
        try:
            return alloc.allocate(prefixlen)
        except PoolExhausted as exc:
            self.error(("domains", domain, "pool"), f"domain '{domain}': {exc}", "give the domain a larger pool")
            allocators.pop(domain, None)
            return None

    def _links(self, fields: dict, domains: dict, allocators: dict, nodes_if: dict) -> dict[str, Link]:
        defaults = _set_fields(self.spec.defaults.link, LinkAttrs)
        out: dict[str, Link] = {}
        next_if: dict[str, int] = {}
        for draft in self.links:
            ends = []
            for key, end in (("a", draft.a), ("b", draft.b)):
                node, _, ifname = end.partition(":")
                if node not in self.nodes:
                    self.error(draft.path + (key,), f"link end '{node}' is not a node", suggest(node, self.nodes, "nodes"))
                    break
                if ifname and self.nodes[node].interfaces and ifname not in self.nodes[node].interfaces:
                    self.error(draft.path + (key,), f"node '{node}' has no interface '{ifname}'",
                               suggest(ifname, self.nodes[node].interfaces, "interfaces of " + node))
                    break
                if not ifname:
                    while True:
                        next_if[node] = next_if.get(node, -1) + 1
                        ifname = f"e{next_if[node]}"
                        if ifname not in self.nodes[node].interfaces and ifname not in nodes_if.get(node, {}):
                            break
                elif ifname in nodes_if.get(node, {}):
                    self.error(draft.path + (key,), f"interface '{node}:{ifname}' already has a link", "each interface takes one link; use another interface")
                    break
                ends.append((node, ifname))
            else:
                if ends[0][0] == ends[1][0]:
                    self.error(draft.path, f"link joins '{ends[0][0]}' to itself", "a link joins two different nodes")
                    continue
                attrs = {**defaults, **draft.attrs}
                a_fields = fields[ends[0][0]]
                name = draft.name or f"{ends[0][0]}--{ends[1][0]}"
                if not draft.name and name in out:
                    name = f"{ends[0][0]}:{ends[0][1]}--{ends[1][0]}:{ends[1][1]}"
                if name in out:
                    self.error(draft.path + ("name",), f"link name '{name}' is used twice", "give each link its own name")
                    continue
                phase_name = attrs.get("phase")
                phase = max(self.phase_of(phase_name, draft.path + ("phase",)) if phase_name else 0,
                            self._node_phase(fields, ends[0][0]), self._node_phase(fields, ends[1][0]))
                pool_domain = attrs.get("domain") or a_fields.get("domain")
                if attrs.get("domain") and attrs["domain"] not in domains:
                    self.error(draft.path + ("domain",), f"unknown domain '{attrs['domain']}'", suggest(attrs["domain"], domains, "domains"))
                explicit = [self.nodes[n].interfaces.get(i) for n, i in ends]
                addresses = [e.address if e is not None else None for e in explicit]
                subnet = None
                if addresses[0] is not None or addresses[1] is not None:
                    subnet = (addresses[0] or addresses[1]).network
                    if addresses[0] is not None and addresses[1] is not None and addresses[0].network != addresses[1].network:
                        self.error(draft.path, f"link {name}: {addresses[0]} and {addresses[1]} are not in one subnet",
                                   "give both ends addresses in the same subnet")
                    elif None in addresses:
                        addresses = _complete_pair(addresses, draft.path, self)
                else:
                    prefixlen = domains[pool_domain].pool and self.spec.domains[pool_domain].link_prefix if pool_domain in domains else None
                    if prefixlen:
                        subnet = self._allocate(allocators, pool_domain, prefixlen, draft.path)
                        if subnet is not None:
                            first = int(subnet.network_address) + (0 if prefixlen == 31 else 1)
                            addresses = [ipaddress.IPv4Interface((first, prefixlen)), ipaddress.IPv4Interface((first + 1, prefixlen))]
                medium = attrs.get("medium") or "lan"
                bandwidth = attrs.get("bandwidth") or DEFAULT_BANDWIDTH
                link = Link(
                    name=name, a=ends[0][0], a_if=ends[0][1], b=ends[1][0], b_if=ends[1][1],
                    bandwidth=bandwidth, latency=attrs.get("latency", DEFAULT_LATENCY) if attrs.get("latency") is not None else DEFAULT_LATENCY,
                    medium=medium, shared=attrs.get("shared") if attrs.get("shared") is not None else medium in UNTRUSTED_MEDIA,
                    cost=attrs.get("cost") or max(1, int(REFERENCE_BANDWIDTH // bandwidth)), phase=phase, subnet=subnet,
                    channel=attrs.get("channel") if attrs.get("channel") is not None else True,
                    mtu=attrs.get("mtu") or 1500, mark=self.mark(draft.path),
                )
                out[name] = link
                for (node, ifname), address in zip(ends, addresses):
                    spec = self.nodes[node].interfaces.get(ifname)
                    nodes_if.setdefault(node, {})[ifname] = Interface(
                        node, ifname, address, name,
                        spec.acl_in if spec else None, spec.acl_out if spec else None,
                        (spec.vrf if spec and spec.vrf else fields[node].get("vrf")), spec.nat if spec else False,
                        spec.cost if spec else None, self.mark(self.nodes[node].path + (("interfaces", ifname) if spec else ())),
                    )
        return out

    def _node_phase(self, fields: dict, node: str) -> int:
        name = fields[node].get("phase")
        return self.phase_index.get(name, 0) if name else 0

    def _nodes(self, fields: dict, domains: dict, allocators: dict, nodes_if: dict) -> dict[str, Node]:
        out: dict[str, Node] = {}
        for name, draft in self.nodes.items():
            f = fields[name]
            domain = f.get("domain", "")
            interfaces = dict(nodes_if.get(name, {}))
            for ifname, spec in draft.interfaces.items():
                if ifname not in interfaces:  # declared but not cabled: keeps its address and ACLs
                    interfaces[ifname] = Interface(name, ifname, spec.address, None, spec.acl_in, spec.acl_out,
                                                   spec.vrf or f.get("vrf"), spec.nat, spec.cost,
                                                   self.mark(draft.path + ("interfaces", ifname)))
            loopback_net = self._allocate(allocators, domain, 32, draft.path) if domain in domains else None
            classification = f.get("classification")
            phase_name = f.get("phase")
            gateway = draft.gateway
            out[name] = Node(
                name=name, role=f.get("role", "host"), domain=domain, site=f.get("site", ""),
                phase=self.phase_of(phase_name, draft.path + ("phase",)) if phase_name else 0,
                interfaces=freeze(dict(sorted(interfaces.items()))),
                loopback=ipaddress.IPv4Interface((int(loopback_net.network_address), 32)) if loopback_net else None,
                lan=f.get("lan"), title=f.get("title"),
                classification=CLASSIFICATION_ORDER.index(classification) if classification else 0,
                services=tuple(f.get("services", ())), default_action=f.get("default_action"),
                gateway=Gateway(gateway.from_domain, gateway.to_domain, tuple(gateway.allow), gateway.approved) if gateway else None,
                routes=tuple(StaticRoute(r.prefix, r.via, r.vrf) for r in draft.routes),
                vrf=f.get("vrf"), mcu_parent=draft.mcu_parent, tags=tuple(f.get("tags", ())), mark=self.mark(draft.path),
            )
        return out

    def _check_addresses(self, nodes: dict[str, Node], links: dict[str, Link]) -> None:
        owners: list[tuple[ipaddress.IPv4Network, tuple]] = []
        seen: dict[ipaddress.IPv4Address, str] = {}
        for link in links.values():
            if link.subnet is not None:
                owners.append((link.subnet, ("link", link.name, link.mark)))
        for node in nodes.values():
            if node.lan is not None:
                owners.append((node.lan, ("LAN of", node.name, node.mark)))
            for iface in node.interfaces.values():
                if iface.address is None:
                    continue
                where = f"{node.name}:{iface.name}"
                if iface.address.ip in seen:
                    self.issues.add(iface.mark, f"address {iface.address.ip} of {where} is also used by {seen[iface.address.ip]}",
                                    "every interface needs its own address")
                seen[iface.address.ip] = where
                if iface.link is None:
                    owners.append((iface.address.network, ("interface", where, iface.mark)))
        for first, second in find_overlaps(owners):
            self.issues.add(second[2], f"{second[0]} {second[1]} overlaps {first[0]} {first[1]}",
                            "every link and LAN needs its own block of the address plan")

    def _rule_prefixes(self, value: Any, nodes: dict[str, Node], path: tuple) -> list[ipaddress.IPv4Network]:
        if isinstance(value, ipaddress.IPv4Network):
            return [value]
        node = nodes.get(value)
        if node is None:
            self.error(path, f"'{value}' is neither an address, a prefix, 'any' nor a node", suggest(value, nodes, "nodes"))
            return []
        out = [ipaddress.IPv4Network((int(a.ip), 32)) for a in node.addresses]
        if node.lan is not None:
            out.append(node.lan)
        if not out:
            self.error(path, f"node '{value}' has no address to match", "give its domain a pool or the node an address")
        return out

    def _acls(self, nodes: dict[str, Node]) -> dict[str, Acl]:
        out = {}
        for name, rules in self.spec.acls.items():
            built = []
            for i, r in enumerate(rules):
                path = ("acls", name, i)
                if (r.sport or r.dport) and r.proto not in ("tcp", "udp"):
                    self.error(path, f"ACL {name} rule {i + 1}: ports need proto tcp or udp", "set proto: tcp or udp, or drop the ports")
                if r.icmp_type is not None and r.proto != "icmp":
                    self.error(path, f"ACL {name} rule {i + 1}: icmp_type needs proto icmp", "set proto: icmp")
                sources = self._rule_prefixes(r.src, nodes, path + ("src",))
                targets = self._rule_prefixes(r.dst, nodes, path + ("dst",))
                # a rule naming a node matches each of its addresses: one model rule per pair, same index
                built.extend(Rule(i + 1, r.action, src, dst, r.proto, r.sport, r.dport, r.icmp_type, r.description,
                                  self.mark(path)) for src in sources for dst in targets)
            out[name] = Acl(name, tuple(built), self.mark(("acls", name)))
        return out

    def _vrfs(self, domains: dict) -> dict[str, Vrf]:
        out = {}
        for name, v in self.spec.vrfs.items():
            if v.domain and v.domain not in domains:
                self.error(("vrfs", name, "domain"), f"VRF '{name}' is in unknown domain '{v.domain}'", suggest(v.domain, domains, "domains"))
            for i, imported in enumerate(v.import_):
                if imported not in self.spec.vrfs:
                    self.error(("vrfs", name, "import", i), f"VRF '{name}' imports unknown VRF '{imported}'", suggest(imported, self.spec.vrfs, "vrfs"))
            out[name] = Vrf(name, v.title, v.domain, tuple(v.import_), self.mark(("vrfs", name)))
        return out

    @staticmethod
    def _neighbours(node: Node, links: dict[str, Link]) -> set[str]:
        return {links[i.link].other(node.name) for i in node.interfaces.values() if i.link in links}

    def _check_interface_refs(self, nodes: dict[str, Node], links: dict[str, Link], acls: dict, vrfs: dict) -> None:
        owned = {str(a.ip) for n in nodes.values() for a in n.addresses}
        neighbours: dict[str, set[str]] = {}
        for node in nodes.values():
            if node.vrf and node.vrf not in vrfs:
                self.issues.add(node.mark, f"node '{node.name}' is in unknown VRF '{node.vrf}'", suggest(node.vrf, vrfs, "vrfs"))
            for iface in node.interfaces.values():
                for key in ("acl_in", "acl_out"):
                    acl = getattr(iface, key)
                    if acl and acl not in acls:
                        self.issues.add(iface.mark, f"interface {node.name}:{iface.name} uses unknown ACL '{acl}'", suggest(acl, acls, "acls"))
                if iface.vrf and iface.vrf not in vrfs and iface.vrf != node.vrf:
                    self.issues.add(iface.mark, f"interface {node.name}:{iface.name} is in unknown VRF '{iface.vrf}'", suggest(iface.vrf, vrfs, "vrfs"))
            for route in node.routes:
                if route.vrf and route.vrf not in vrfs:
                    self.issues.add(node.mark, f"a static route of '{node.name}' names unknown VRF '{route.vrf}'", suggest(route.vrf, vrfs, "vrfs"))
                if _is_address(route.via):
                    if route.via not in owned:
                        self.issues.add(node.mark, f"a static route of '{node.name}' goes via {route.via}, an address no "
                                        "node of the plan has", "write the address of a next-hop interface or a neighbour's name")
                elif route.via not in nodes:
                    self.issues.add(node.mark, f"a static route of '{node.name}' goes via '{route.via}', neither an address nor a node",
                                    "write an IPv4 address or a neighbour's name")
                elif route.via not in neighbours.setdefault(node.name, self._neighbours(node, links)):
                    self.issues.add(node.mark, f"a static route of '{node.name}' goes via '{route.via}', which is not "
                                    f"linked to {node.name}", "name a node cabled to this one, or give the next hop's address")

    def _tunnels(self, nodes: dict[str, Node], domains: dict) -> dict[str, Tunnel]:
        out = {}
        for i, (t, path, ctx) in enumerate(self.tunnels):
            name = self.format(t.name, ctx, path + ("name",))
            a, b = self.format(t.a, ctx, path + ("a",)), self.format(t.b, ctx, path + ("b",))
            if name is None or a is None or b is None:
                continue
            bad = False
            for key, end in (("a", a), ("b", b)):
                if end not in nodes:
                    self.error(path + (key,), f"tunnel '{name}' ends at unknown node '{end}'", suggest(end, nodes, "nodes"))
                    bad = True
            if t.domain and t.domain not in domains:
                self.error(path + ("domain",), f"tunnel '{name}' carries unknown domain '{t.domain}'", suggest(t.domain, domains, "domains"))
            if name in out:
                self.error(path + ("name",), f"tunnel '{name}' is defined twice", "give each tunnel its own name")
                bad = True
            if bad:
                continue
            encrypted = t.encrypted if t.encrypted is not None else t.kind == "ipsec"
            if t.kind == "gre" and encrypted:
                self.error(path + ("encrypted",), f"tunnel '{name}': GRE does not encrypt", "use kind: ipsec for an encrypted tunnel")
            phase = max(self.phase_of(t.phase, path + ("phase",)) if t.phase else 0, nodes[a].phase, nodes[b].phase)
            out[name] = Tunnel(name, t.kind, a, b, encrypted and t.cipher != "NULL", tuple(t.protect), t.cipher, phase,
                               t.domain, 0x1000 + i, self.mark(path))
        return out

    def _services(self) -> dict[str, Service]:
        return {name: Service(name, s.kind, s.rate, s.packet_size, s.protocol, s.port, s.title, s.max_delay,
                              self.mark(("services", name)), s.one_way) for name, s in self.spec.services.items()}

    def _flows(self, nodes: dict[str, Node], services: dict[str, Service]) -> list[Flow]:
        flows: list[Flow] = []
        for i, t in enumerate(self.spec.traffic):
            path = ("traffic", i)
            service = services.get(t.service)
            if service is None:
                self.error(path + ("service",), f"unknown service '{t.service}'", suggest(t.service, services, "services"))
                continue
            senders = self._select(t.from_, nodes, path + ("from",))
            phase = self.phase_of(t.phase, path + ("phase",)) if t.phase else 0
            missing: list[str] = []
            for src in senders:
                dst = self.format(t.to, self.context(nodes[src].site), path + ("to",))
                if dst is None:
                    break
                if dst not in nodes:
                    missing.append(dst)
                    continue
                if dst == src:
                    continue
                rate = t.rate or service.rate
                pairs = [(src, dst), (dst, src)] if t.bidirectional else [(src, dst)]
                for s, d in pairs:
                    flows.append(Flow(service.name, service.kind, s, d, rate, service.packet_size, service.protocol,
                                      service.port, max(phase, nodes[s].phase, nodes[d].phase), self.mark(path),
                                      one_way=service.one_way))
            if missing:
                self.error(path + ("to",), f"traffic to '{missing[0]}' names no node"
                           + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""), suggest(missing[0], nodes, "nodes"))
        return flows

    def _select(self, selector: str | SelectorSpec, nodes: dict[str, Node], path: tuple) -> list[str]:
        if isinstance(selector, str):
            if selector not in nodes:
                self.error(path, f"traffic from unknown node '{selector}'", suggest(selector, nodes, "nodes"))
                return []
            return [selector]
        out = []
        for node in nodes.values():
            if selector.role and node.role != selector.role:
                continue
            if selector.domain and node.domain != selector.domain:
                continue
            if selector.level and self.sites.get(node.site) and self.sites[node.site].level != selector.level:
                continue
            if selector.site and node.site != selector.site:
                continue
            if selector.name and not fnmatch.fnmatchcase(node.name, selector.name):
                continue
            if selector.service and selector.service not in node.services:
                continue
            if selector.tag and selector.tag not in node.tags:
                continue
            out.append(node.name)
        return out


class _TooLarge(Exception):
    """Expansion stopped at a limit (the issue is recorded)."""


_LIMIT_HINT = ("check the counts of stars, aggregations and generated sites; a larger plan can raise the limit "
               "with the environment variable GOVNET_MAX_{}")


def _set_fields(model: Any, cls: type, **extra: Any) -> dict[str, Any]:
    out = {k: getattr(model, k) for k in model.model_fields_set if k in cls.model_fields}
    for k, v in extra.items():
        if v is not None:
            out.setdefault(k, v)
    return out


def _is_address(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False


def expand_plan(spec: PlanSpec, marks: dict, root: Path) -> Network:
    """Expand a validated plan into the immutable model; raises PlanError."""
    return _Expander(spec, marks, str(root)).build()


def _complete_pair(addresses: list, path: tuple, expander: _Expander) -> list:
    """Give the unaddressed end of a link the first free host of the other end's subnet."""
    known = addresses[0] or addresses[1]
    network = known.network
    hosts = [network.network_address, network.broadcast_address] if network.prefixlen == 31 else network.hosts()
    for host in hosts:
        if host != known.ip:
            other = ipaddress.IPv4Interface(f"{host}/{network.prefixlen}")
            return [known, other] if addresses[0] is not None else [other, known]
    expander.error(path, f"subnet {network} has no room for the other end of the link", "use a /31 or larger subnet")
    return addresses
