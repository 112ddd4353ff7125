"""Pass ``templates``: the plan's body and every template applied per site, as node, link and ACL drafts.

Definition. The plan's own ``nodes``, ``links``, ``stars``, ``aggregations``,
``tunnels`` and ``acls`` are drafted first, then, site by site in plan order, the
templates of the site's level (``level_templates``) and the site's own
(``templates``), each with its template order (:mod:`.inheritance`) and each
template at most once per site. Names are filled in the site's
:class:`~topology.expand.draft.Context` (``{site}``, ``{parent}``,
``{province}`` ... ``{township}``, ``{level}``).

A star makes one new node per unit (its listed ``units`` and ``count``
more named by ``name`` with ``{i}`` and ``{core}``), each linked to the
core; an aggregation makes an aggregation node linked to the core and its
``members``, each linked to the aggregation node. The nodes a star or an
aggregation makes take its role, domain, site, phase and title
(:class:`~topology.expand.draft.UnitDefaults`) and, failing those, their
core's domain, site and phase (``inherits_from``). A plan whose patterns
would make more nodes or links than the limit is refused before any is made.

    >>> from topology.expand import run
    >>> from topology.loader import draft_of
    >>> d = run(draft_of('''
    ... name: demo
    ... sites: {楚雄州: {level: prefecture, children: {禄丰县: {}, 武定县: {}}}}
    ... templates:
    ...   county:
    ...     nodes: {"{site}核心": {role: core_router}}
    ...     stars: [{core: "{site}核心", count: 2, name: "{site}局{i}", role: host}]
    ... level_templates: {county: [county]}
    ... '''), upto="templates")
    >>> list(d.nodes)   # doctest: +NORMALIZE_WHITESPACE
    ['禄丰县核心', '禄丰县局1', '禄丰县局2', '武定县核心', '武定县局1', '武定县局2']
    >>> d.nodes["禄丰县局1"].unit, d.nodes["禄丰县局1"].inherits_from
    (UnitDefaults(role='host', domain=None, site=None, phase=None, title=None), '禄丰县核心')
    >>> [(l.a, l.b) for l in d.links][:2]
    [('禄丰县局1', '禄丰县核心'), ('禄丰县局2', '禄丰县核心')]

A template's ACLs are drafted per site like its nodes: the ACL's name and
the ``src``, ``dst`` and ``description`` of each rule are filled in the
site's context (:data:`RULE_PATTERNS`), and so are the ``acl_in`` and
``acl_out`` its nodes' interfaces name; the rules keep their places (rule
``i`` of the template is rule ``i`` of every ACL it makes). The plan's own
ACLs and the ACL names its own nodes give are taken as written. An ACL
name is unique across the plan: a second ACL of the same name, of the plan
or made at another site, is an error at the one drafted later.

    >>> d = run(draft_of('''
    ... name: demo
    ... sites: {云南省: {level: province, children: {昆明市: {}, 楚雄州: {}}}}
    ... templates:
    ...   prefecture:
    ...     nodes:
    ...       "{site}防火墙": {role: firewall, interfaces: {outside: {acl_in: "{site}互联网入"}}}
    ...     acls:
    ...       "{site}互联网入":
    ...         - {action: permit, proto: tcp, dst: "{site}门户", dport: 443, description: "{province}{site}门户"}
    ...         - {action: deny}
    ... level_templates: {prefecture: [prefecture]}
    ... '''), upto="templates")
    >>> [(a.name, a.rules[0].dst, a.rules[0].description) for a in d.acl_drafts.values()]
    [('昆明市互联网入', '昆明市门户', '云南省昆明市门户'), ('楚雄州互联网入', '楚雄州门户', '云南省楚雄州门户')]
    >>> d.nodes["楚雄州防火墙"].interfaces["outside"].acl_in
    '楚雄州互联网入'
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..schema import (
    AggregationSpec,
    InterfaceSpec,
    LinkAttrs,
    NodeSpec,
    PlanSpec,
    RuleSpec,
    StarSpec,
    TemplateSpec,
)
from ..validation import suggest
from .draft import (
    AclDraft,
    Context,
    Draft,
    LinkDraft,
    NodeDraft,
    TooLarge,
    TunnelDraft,
    UnitDefaults,
    explicit,
    limit_hint,
    set_fields,
)
from .inheritance import NODE_FIELDS

RULE_PATTERNS = ("src", "dst", "description")  # the fields of an ACL rule a template fills per site
INTERFACE_ACLS = ("acl_in", "acl_out")  # the ACL names an interface of a template's node fills per site


def templates(d: Draft) -> Draft:
    """Fill ``d.nodes``, ``d.links``, ``d.tunnels`` and ``d.acl_drafts``; raises TooLarge past the node limit."""
    check_size(d)
    apply_block(d, d.spec, (), Context(None))
    for level, names in d.spec.level_templates.items():
        for i, name in enumerate(names):
            if name not in d.spec.templates:
                d.error(("level_templates", level, i), f"unknown template '{name}'",
                        _suggest_template(d, name))
    for site in d.sites.values():
        wanted = [(t, ("level_templates", site.level, i)) for i, t in enumerate(d.spec.level_templates.get(site.level, []))]
        wanted += d.site_templates.get(site.name, [])
        applied: list[str] = []
        for name, path in wanted:
            if name not in d.spec.templates:
                if path[0] != "level_templates":
                    d.error(path, f"unknown template '{name}'", _suggest_template(d, name))
                continue
            for tname in d.template_order.get(name, [name]):
                if tname not in applied:
                    applied.append(tname)
                    apply_block(d, d.spec.templates[tname], ("templates", tname), d.context(site.name))
    return d


def _suggest_template(d: Draft, name: str) -> str:
    return suggest(name, d.spec.templates, "templates")


def check_size(d: Draft) -> None:
    """Refuse a plan whose patterns would make more nodes or links than its limit (counted, not built)."""
    sizes: dict[str, tuple[int, int]] = {}

    def block(b: TemplateSpec | PlanSpec) -> tuple[int, int]:
        made = sum(len(s.units) + s.count for s in b.stars) + sum(1 + len(a.members) for a in b.aggregations)
        return len(b.nodes) + made, len(b.links) + made

    def template(name: str) -> tuple[int, int]:
        if name not in sizes:
            parts = [block(d.spec.templates[t]) for t in d.template_order.get(name, [name]) if t in d.spec.templates]
            sizes[name] = (sum(p[0] for p in parts), sum(p[1] for p in parts))
        return sizes[name]

    nodes, links = block(d.spec)
    for site in d.sites.values():
        wanted = list(d.spec.level_templates.get(site.level, [])) + [t for t, _ in d.site_templates.get(site.name, [])]
        for name in dict.fromkeys(wanted):
            if name in d.spec.templates:
                n, l = template(name)
                nodes += n
                links += l
    for what, count in (("nodes", nodes), ("links", links)):
        if count > d.max_nodes:
            d.error(("limits", "nodes") if d.spec.limits else (),
                    f"the plan would expand to {count:,} {what}, more than the limit of {d.max_nodes:,}",
                    limit_hint("nodes"))
            raise TooLarge()


def apply_block(d: Draft, block: TemplateSpec | PlanSpec, base: tuple, ctx: Context) -> None:
    """Draft the nodes, links, stars, aggregations, tunnels and ACLs of one block in ``ctx``."""
    for pattern, node in block.nodes.items():
        path = base + ("nodes", pattern)
        name = d.format(pattern, ctx, path)
        if name is not None:
            add_node(d, name, path, ctx, node)
    for i, link in enumerate(block.links):
        path = base + ("links", i)
        a, b = d.format(link.a, ctx, path + ("a",)), d.format(link.b, ctx, path + ("b",))
        name = d.format(link.name, ctx, path + ("name",)) if link.name else None
        if a is not None and b is not None:
            d.links.append(LinkDraft(a, b, set_fields(link, LinkAttrs), name, path))
    for i, star in enumerate(block.stars):
        add_star(d, star, base + ("stars", i), ctx)
    for i, agg in enumerate(block.aggregations):
        add_aggregation(d, agg, base + ("aggregations", i), ctx)
    for i, tunnel in enumerate(block.tunnels):
        d.tunnels.append(TunnelDraft(tunnel, base + ("tunnels", i), ctx))
    for pattern, written in block.acls.items():
        add_acl(d, pattern, written, base + ("acls", pattern), ctx)


def add_acl(d: Draft, pattern: str, written: list[RuleSpec], path: tuple, ctx: Context) -> None:
    """Draft ACL ``pattern``: in a template (``ctx`` at a site) its name and rules filled, else as written.

    As :func:`add_node` does for nodes, a name already drafted is an error at ``path`` naming where the
    first one is written.
    """
    at_site = ctx.site is not None
    name = _filled_name(d, pattern, ctx, path) if at_site else pattern
    if name is None:
        return
    if name in d.acl_drafts:
        d.error(path, f"ACL '{name}' is defined twice (first at {d.mark(d.acl_drafts[name].path)})",
                "ACL names must be unique across the plan; an ACL of a template applied to several sites "
                "needs {site} (or another placeholder) in its name")
        return
    rules: list[RuleSpec | None] = ([fill_rule(d, name, rule, ctx, path + (i,)) for i, rule in enumerate(written)]
                                    if at_site else list(written))
    d.acl_drafts[name] = AclDraft(name, rules, path)


def fill_rule(d: Draft, acl: str, rule: RuleSpec, ctx: Context, path: tuple) -> RuleSpec | None:
    """``rule``, written at ``path`` in ACL ``acl``, with its :data:`RULE_PATTERNS` filled in ``ctx``.

    A filled ``src`` or ``dst`` is read again as the schema reads one (``any``, an address, a prefix or
    a node name). None after an error, which is recorded.

    >>> from topology.loader import draft_of
    >>> ctx = Context("9县", {"site": "9县", "i": 9})
    >>> rule = RuleSpec(action="permit", src="10.53.{i}.0/24", dst="{site}门户")
    >>> filled = fill_rule(draft_of("name: demo"), "入", rule, ctx, ("acls", "入", 0))
    >>> filled.src, filled.dst
    (IPv4Network('10.53.9.0/24'), '9县门户')
    """
    filled: dict[str, Any] = {}
    failed = False
    for key in RULE_PATTERNS:
        value = getattr(rule, key)
        if not isinstance(value, str) or "{" not in value:
            continue
        where = path + (key,)
        text = d.format(value, ctx, where) if key == "description" else _filled_name(d, value, ctx, where)
        if text is None:
            failed = True
        else:
            filled[key] = text
    if failed:
        return None
    if not filled:
        return rule
    try:
        return RuleSpec.model_validate({**explicit(rule), **filled})
    except ValidationError as exc:
        d.error(path, f"ACL {acl} rule {path[-1] + 1}: {exc.errors()[0]['msg']}",
                "a placeholder filled a src or dst that is neither any, an address, a prefix nor a node name")
        return None


def _filled_name(d: Draft, pattern: str, ctx: Context, path: tuple) -> str | None:
    """The name ``pattern`` makes in ``ctx`` (as :meth:`Draft.format` fills it); an empty name is an error."""
    name = d.format(pattern, ctx, path)
    if name == "":
        d.error(path, f"'{pattern}' makes an empty name at site {ctx.site}",
                "use placeholders that have a value at every site the template applies to")
        return None
    return name


def _interfaces(d: Draft, spec: NodeSpec, ctx: Context, path: tuple) -> dict[str, InterfaceSpec]:
    """The interfaces node ``spec`` declares; at a site, the ACL names they give filled in ``ctx``."""
    if ctx.site is None:
        return dict(spec.interfaces)
    out = {}
    for ifname, iface in spec.interfaces.items():
        filled = {key: _filled_name(d, value, ctx, path + ("interfaces", ifname, key))
                  for key in INTERFACE_ACLS if (value := getattr(iface, key)) and "{" in value}
        out[ifname] = iface.model_copy(update=filled) if filled else iface  # a name not filled is dropped (reported)
    return out


def add_node(d: Draft, name: str, path: tuple, ctx: Context, spec: NodeSpec | None = None,
             unit: UnitDefaults | None = None, groups: Any = None, inherits_from: str | None = None) -> None:
    """Draft node ``name``: as written (``spec``) or made by a star or an aggregation (``unit``)."""
    if name in d.nodes:
        d.error(path, f"node '{name}' is defined twice (first at {d.mark(d.nodes[name].path)})",
                "node names must be unique across the plan; templates may use {site} in names")
        return
    if len(d.nodes) >= d.max_nodes:
        d.error(path, f"the plan expands to more than {d.max_nodes:,} nodes", limit_hint("nodes"))
        raise TooLarge()
    group = spec.group if spec is not None else groups
    own = explicit(spec, NODE_FIELDS) if spec is not None else {}
    mcu_parent = spec.mcu_parent if spec is not None else None
    d.nodes[name] = NodeDraft(
        name, own, [group] if isinstance(group, str) else list(group or []),
        _interfaces(d, spec, ctx, path) if spec is not None else {}, spec.gateway if spec is not None else None,
        list(spec.routes) if spec is not None else [],
        d.format(mcu_parent, ctx, path + ("mcu_parent",)) if mcu_parent else None,
        path, ctx.site, unit, inherits_from,
    )


def add_star(d: Draft, star: StarSpec, path: tuple, ctx: Context) -> None:
    """The units of a star, each a new node linked to the core."""
    core = d.format(star.core, ctx, path + ("core",))
    if core is None:
        return
    site = d.format(star.site, ctx, path + ("site",)) if star.site else None
    names = [d.format(u, ctx, path + ("units", i)) for i, u in enumerate(star.units)]
    for i in range(1, star.count + 1):
        names.append(d.format(star.name, ctx, path + ("name",), {"i": i, "core": core}))
    unit = UnitDefaults(role=star.role, domain=star.domain, site=site, phase=star.phase)
    for name in names:
        if name is None:
            continue
        add_node(d, name, path, ctx, unit=unit, groups=star.group, inherits_from=core)
        d.links.append(LinkDraft(name, core, set_fields(star.link, LinkAttrs, phase=star.phase), None, path))


def add_aggregation(d: Draft, agg: AggregationSpec, path: tuple, ctx: Context) -> None:
    """An aggregation node linked to the core, and its members, each linked to the aggregation node."""
    name = d.format(agg.name, ctx, path + ("name",))
    core = d.format(agg.core, ctx, path + ("core",))
    if name is None or core is None:
        return
    site = d.format(agg.site, ctx, path + ("site",)) if agg.site else None
    add_node(d, name, path, ctx, unit=UnitDefaults(role=agg.role, domain=agg.domain, site=site, phase=agg.phase,
                                                   title=agg.title), groups=agg.group, inherits_from=core)
    d.links.append(LinkDraft(name, core, set_fields(agg.uplink, LinkAttrs, phase=agg.phase), None, path + ("uplink",)))
    member = UnitDefaults(role=agg.member_role, domain=agg.domain, site=site, phase=agg.phase)
    for i, pattern in enumerate(agg.members):
        member_name = d.format(pattern, ctx, path + ("members", i))
        if member_name is None:
            continue
        add_node(d, member_name, path + ("members", i), ctx, unit=member, groups=agg.member_group, inherits_from=name)
        d.links.append(LinkDraft(member_name, name, set_fields(agg.member_link, LinkAttrs, phase=agg.phase),
                                 None, path + ("members", i)))
