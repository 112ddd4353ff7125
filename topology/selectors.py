"""Selectors: naming sets of domains and of nodes, with one grammar and one meaning everywhere.

The plan's traffic (``from:``), the command line (``--from``/``--to`` of
``reach``, the scope of a waiver) and the parameters of rules all select with
this module.

**Domain selectors** (built-in packs name networks by selector, so they fit
any plan whatever its authors named the networks):

==================  =========================================================
``*`` or ``any``    every domain
``kind:intranet``   every domain of that kind, or of a plan-declared kind that
                    takes its rules (``domain_kinds: {x: {like: intranet}}``);
                    built-in kinds: party_private, intranet, extranet,
                    internet, dmz; ``kind:x`` names a plan's own kind ``x``
``classified``      domains cleared for classified data (涉密, clearance > 0)
``unclassified``    domains with clearance 非涉密
``public``          untrusted domains and domains of kind ``internet``
``trusted``         every domain that is not public
``clearance:机密``  domains cleared for at least that classification
``!selector``       not the domains that selector matches
a name              the domain of that name; a plan without a domain of that
                    name but with one of that kind means the kind
==================  =========================================================

A well-formed selector that matches no domain of the plan is not an error: the
plan simply has no such network and rules about it are not applicable.
Every parameter of a rule kind that holds domain selectors is typed
:data:`DomainSelector`, so selectors are checked wherever they appear: when a
policy file is loaded (:func:`selector_problem`) and, at check time, against
the plan (:func:`plan_selector_problem`); :func:`selector_values` finds them.

**Node selectors** (:class:`topology.schema.SelectorSpec` as a mapping, or the
text form of the command line): every field given must hold.

=====================  ===================================================
``node: NAME``         that node (text: ``node:NAME`` or a bare name)
``name: GLOB``         node names matching the glob (``*财政局``; text: a bare
                       name with ``*`` or ``?`` too)
``site: NAME``         the nodes at that site and at every site below it
``domain: SELECTOR``   the nodes of the domains a domain selector names
``role: ROLE``         the nodes of a role, or of one of several
``level: LEVEL``       the nodes at sites of a level
``service: NAME``      the nodes hosting a service, or one of several
``tag: TAG``           the nodes carrying a tag
=====================  ===================================================

Text terms are joined by ``,``: ``site:楚雄州,role:server``. On the command
line a term that matches nothing raises :class:`~topology.errors.SelectorError`
with the closest names as a hint.

    >>> from topology import load_plan
    >>> net = load_plan("scenarios/chuxiong/plan.yaml")
    >>> select_nodes(net, "site:双柏县,role:core_router")
    ['双柏县外网核心']
    >>> select_domains(net, ["kind:intranet", "classified"])
    ['政务内网']
    >>> selector_problem("kindd:intranet")
    ("unknown domain selector 'kindd:intranet'", "did you mean 'kind:intranet'?")
"""

from __future__ import annotations

import fnmatch
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, BaseModel, WithJsonSchema
from pydantic_core import PydanticCustomError

from .errors import SelectorError
from .model import Domain, Network, Node, Site
from .validation import close_match, suggest
from .vocabulary import (
    CLASSIFICATIONS,
    DOMAIN_KIND_PATTERN,
    DOMAIN_KINDS,
    LEVELS,
    ROLES,
    UNTRUSTED_KINDS,
)

PUBLIC_KINDS = UNTRUSTED_KINDS  # kinds that are public even when a plan calls them trusted
SELECTOR_WORDS = ("*", "any", "classified", "unclassified", "public", "trusted")
SELECTOR_PREFIXES = ("kind", "clearance")


def is_public(domain: Domain) -> bool:
    """An untrusted network (the internet) or one of a public kind (or a kind taking its rules)."""
    return (not domain.trusted) or domain.base_kind in PUBLIC_KINDS


def domain_matches(domain: Domain, selector: str, names: Iterable[str] = ()) -> bool:
    """Whether ``domain`` is one ``selector`` names; ``names``: the plan's domain names (a bare word that names
    no domain of the plan means a kind)."""
    sel = selector.strip()
    if sel.startswith("!"):
        return not domain_matches(domain, sel[1:], names)
    if sel in ("*", "any"):
        return True
    if sel.startswith("kind:"):
        return sel[5:].strip() in (domain.kind, domain.base_kind)
    if sel.startswith("clearance:"):
        label = sel[10:].strip()
        return label in CLASSIFICATIONS and domain.clearance >= CLASSIFICATIONS.index(label)
    if sel == "classified":
        return domain.clearance > 0
    if sel == "unclassified":
        return domain.clearance == 0
    if sel == "public":
        return is_public(domain)
    if sel == "trusted":
        return not is_public(domain)
    if domain.name == sel:
        return True
    return sel not in set(names) and sel in (domain.kind, domain.base_kind)


def select_domains(net: Network, selectors: Iterable[str]) -> list[str]:
    """Names of the domains any selector matches and no ``!selector`` excludes, in plan order.

    A list of exclusions only (``["!kind:dmz"]``) starts from every domain.
    """
    sels = [s.strip() for s in selectors]
    if not sels:
        return []
    wanted = [s for s in sels if not s.startswith("!")]
    unwanted = [s[1:].strip() for s in sels if s.startswith("!")]
    names = net.domains.keys()
    return [d.name for d in net.domains.values()
            if (not wanted or any(domain_matches(d, s, names) for s in wanted))
            and not any(domain_matches(d, s, names) for s in unwanted)]


# -- checking selectors ------------------------------------------------------------------

def selector_problem(text: str) -> tuple[str, str] | None:
    """(what is wrong, how to fix it) when ``text`` is not a domain selector of the grammar, else None.

    A ``kind:`` of a kind that is not built in passes when its name could be a
    kind a plan declares: that is decided against the plan at check time.

    >>> selector_problem("kind:intranet") is None and selector_problem("!public") is None
    True
    >>> selector_problem("clearance:秘")
    ("unknown clearance '秘' in 'clearance:秘'", "did you mean 'clearance:秘密'?")
    """
    sel = text.strip()
    if sel.startswith("!"):
        sel = sel[1:].strip()
        if sel.startswith("!"):
            return f"'{text}' negates twice", "write the selector itself, or one '!' before it"
    if not sel:
        return "an empty domain selector", "write a domain name or a selector like kind:intranet or trusted"
    prefix, colon, value = sel.partition(":")
    if not colon:
        return None  # a word of the grammar or a domain name (checked against the plan)
    prefix, value = prefix.strip(), value.strip()
    if prefix == "kind":
        if value in DOMAIN_KINDS or re.fullmatch(DOMAIN_KIND_PATTERN, value):
            return None
        close = close_match(value, DOMAIN_KINDS)
        return (f"'{value}' in '{text}' is not a domain kind",
                f"did you mean 'kind:{close}'?" if close else
                f"built-in kinds: {', '.join(DOMAIN_KINDS)}; a plan's own kind is written like gov_private")
    if prefix == "clearance":
        if value in CLASSIFICATIONS:
            return None
        close = close_match(value, CLASSIFICATIONS, cutoff=0.3)
        return (f"unknown clearance '{value}' in '{text}'",
                f"did you mean 'clearance:{close}'?" if close else f"use one of {', '.join(CLASSIFICATIONS)}")
    close = close_match(prefix, SELECTOR_PREFIXES)
    return (f"unknown domain selector '{text}'",
            f"did you mean '{close}:{value}'?" if close else
            "selectors: *, any, kind:K, clearance:L, classified, unclassified, public, trusted, !selector, "
            "or a domain name")


def plan_selector_problem(net: Network, text: str) -> tuple[str, str] | None:
    """(what is wrong, how to fix it) when ``text`` cannot mean anything in ``net``, else None.

    Besides :func:`selector_problem`: ``kind:K`` must be a built-in kind or
    one the plan declares, a bare name must name a domain of the plan. A
    selector that is well formed and matches no domain of this plan is fine.
    """
    problem = selector_problem(text)
    if problem is not None:
        return problem
    sel = text.strip().removeprefix("!").strip()
    if sel.startswith("kind:"):
        kind = sel[5:].strip()
        if kind in DOMAIN_KINDS or kind in net.domain_kinds:
            return None
        return (f"no domain kind '{kind}' is built in or declared by the plan",
                suggest(kind, [*DOMAIN_KINDS, *net.domain_kinds], "domain kinds"))
    if ":" in sel or sel in SELECTOR_WORDS or sel in net.domains:
        return None
    if any(sel in (d.kind, d.base_kind) for d in net.domains.values()):
        return None  # a bare kind: the domains of that kind
    return f"no domain '{sel}' in the plan", suggest(sel, net.domains, "domains")


class _SelectorTag:
    """Marks a parameter as a domain selector (found by :func:`selector_values`)."""

    def __repr__(self) -> str:
        return "DomainSelector"


SELECTOR_TAG = _SelectorTag()


def _check_selector(value: str) -> str:
    problem = selector_problem(value)
    if problem is not None:
        raise PydanticCustomError("domain_selector", "{message}", {"message": problem[0], "hint": problem[1]})
    return value


DomainSelector = Annotated[str, AfterValidator(_check_selector), SELECTOR_TAG,
                           WithJsonSchema({"type": "string", "description": "a domain selector"})]


def selector_values(model: BaseModel) -> list[tuple[tuple[Any, ...], str]]:
    """Every :data:`DomainSelector` in a validated parameter model: (its path by YAML keys, the selector).

    >>> class P(BaseModel):
    ...     domains: list[DomainSelector] = ["trusted", "!kind:dmz"]
    >>> selector_values(P())
    [(('domains', 0), 'trusted'), (('domains', 1), '!kind:dmz')]
    """
    return list(_walk_model(model, ()))


def _walk_model(model: BaseModel, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    for name, info in type(model).model_fields.items():
        yield from _walk(info.annotation, tuple(info.metadata), getattr(model, name), path + (info.alias or name,))


def _walk(annotation: Any, metadata: tuple[Any, ...], value: Any,
          path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    if value is None:
        return
    if any(m is SELECTOR_TAG for m in metadata):
        if isinstance(value, str):
            yield path, value
        return
    if isinstance(value, BaseModel):
        yield from _walk_model(value, path)
        return
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        yield from _walk(args[0], tuple(args[1:]), value, path)
    elif origin in (typing.Union, types.UnionType):
        for arg in args:
            if _fits(arg, value):
                yield from _walk(arg, (), value, path)
                return
    elif origin in (list, tuple) and isinstance(value, (list, tuple)) and args:
        for i, item in enumerate(value):
            yield from _walk(args[0], (), item, path + (i,))
    elif origin is dict and isinstance(value, dict) and len(args) == 2:
        for key, item in value.items():
            yield from _walk(args[1], (), item, path + (key,))


def _fits(annotation: Any, value: Any) -> bool:
    """Whether ``value`` is of the type ``annotation`` (a member of a union) describes."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return _fits(args[0], value)
    if annotation is type(None):
        return value is None
    if origin is typing.Literal:
        return value in args
    if origin in (typing.Union, types.UnionType):
        return any(_fits(a, value) for a in args)
    if isinstance(origin, type):
        return isinstance(value, origin)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True




# -- node selectors ---------------------------------------------------------------------

def _listed(value: str | Sequence[str] | None) -> list[str] | None:
    return None if value is None else ([value] if isinstance(value, str) else list(value))


class NodeQuery(Protocol):
    """A node selector's terms, read only: :class:`NodeTerms` (from text) or ``topology.schema.SelectorSpec``
    (a mapping in a plan or policy file, which this module does not import: the schema builds on it)."""

    @property
    def node(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def site(self) -> str | None: ...
    @property
    def domain(self) -> str | None: ...
    @property
    def role(self) -> str | Sequence[str] | None: ...
    @property
    def level(self) -> str | None: ...
    @property
    def service(self) -> str | Sequence[str] | None: ...
    @property
    def tag(self) -> str | None: ...


@dataclass(frozen=True)
class NodeTerms:
    """The terms of a node selector written as text (``site:楚雄州,role:server``): every one given must hold."""

    node: str | None = None
    name: str | None = None
    site: str | None = None
    domain: str | None = None
    role: str | None = None
    level: str | None = None
    service: str | None = None
    tag: str | None = None


def node_matches(spec: NodeQuery, node: Node, sites: Mapping[str, Site],
                 domains: Mapping[str, Domain]) -> bool:
    """Whether ``node`` is one the node selector ``spec`` names (every field given must hold)."""
    return node_matcher(spec, sites, domains)(node)


def node_matcher(spec: NodeQuery, sites: Mapping[str, Site], domains: Mapping[str, Domain]) -> Callable[[Node], bool]:
    """:func:`node_matches` of ``spec`` as a test of one node, for asking it of many: what depends on a node's
    site or domain alone is worked out once per site and domain.

    >>> is_server = node_matcher(NodeTerms(role="server", site="楚雄州"), net.sites, net.domains)
    >>> is_server(net.nodes["楚雄州行政审批服务器"]), is_server(net.nodes["双柏县财政局"])
    (True, False)
    """
    roles, services = _listed(spec.role), _listed(spec.service)
    by_site: dict[str, bool] = {}
    by_domain: dict[str, bool] = {}
    names = set(domains)

    def site_holds(site: str) -> bool:
        if spec.level is not None and (site not in sites or sites[site].level != spec.level):
            return False
        return spec.site is None or _below(site, spec.site, sites)

    def domain_holds(name: str) -> bool:
        domain = domains.get(name)
        return domain is not None and spec.domain is not None and domain_matches(domain, spec.domain, names)

    def matches(node: Node) -> bool:
        if spec.node is not None and node.name != spec.node:
            return False
        if spec.name is not None and not fnmatch.fnmatchcase(node.name, spec.name):
            return False
        if roles is not None and node.role not in roles:
            return False
        if services is not None and not any(s in node.services for s in services):
            return False
        if spec.tag is not None and spec.tag not in node.tags:
            return False
        if spec.level is not None or spec.site is not None:
            held = by_site.get(node.site)
            if held is None:
                held = by_site[node.site] = site_holds(node.site)
            if not held:
                return False
        if spec.domain is not None:
            held = by_domain.get(node.domain)
            if held is None:
                held = by_domain[node.domain] = domain_holds(node.domain)
            if not held:
                return False
        return True

    return matches


def _below(site: str, top: str, sites: Mapping[str, Site]) -> bool:
    current: str | None = site
    while current is not None and current in sites:
        if current == top:
            return True
        current = sites[current].parent
    return False


def select(net: Network, spec: NodeQuery) -> list[str]:
    """The nodes a node selector names, in plan order."""
    matches = node_matcher(spec, net.sites, net.domains)
    return [n.name for n in net.nodes.values() if matches(n)]


TEXT_KEYS = ("node", "name", "site", "domain", "role", "level", "service", "tag")


def parse_selector(text: str, net: Network | None = None) -> NodeTerms:
    """The node selector a text like ``site:楚雄州,role:server`` writes; raises SelectorError.

    A bare term is a node name (with ``*`` or ``?``, a glob on node names);
    with ``net`` given, a bare term with a colon that names a node is that node.
    """
    terms: dict[str, str] = {}
    stripped = (text or "").strip()
    if not stripped:
        raise SelectorError("empty selector (name a node, or use " + ", ".join(k + ":" for k in TEXT_KEYS) + ")")
    for raw in stripped.split(","):
        term = raw.strip()
        if not term:
            raise SelectorError(f"empty term in selector '{text}'")
        key, sep, value = term.partition(":")
        if not sep or (net is not None and term in net.nodes):
            key, value = ("name", term) if any(c in term for c in "*?[") else ("node", term)
        elif key not in TEXT_KEYS:
            close = close_match(key, TEXT_KEYS)
            raise SelectorError(f"unknown selector key '{key}:'" + (f" (did you mean '{close}:'?)" if close else
                                f" (use {', '.join(k + ':' for k in TEXT_KEYS)} or a bare node name)"))
        value = value.strip()
        if not value:
            raise SelectorError(f"selector term '{term}' names nothing after '{key}:'")
        if key in terms:
            raise SelectorError(f"selector '{text}' gives '{key}:' twice; a node has one {key}")
        terms[key] = value
    for key, allowed in (("role", ROLES), ("level", LEVELS)):
        if key in terms and terms[key] not in allowed:
            close = close_match(terms[key], allowed)
            raise SelectorError(f"selector '{text}': {key} '{terms[key]}' is not one of {', '.join(allowed)}"
                                + (f" (did you mean '{close}'?)" if close else ""))
    if "domain" in terms and (problem := selector_problem(terms["domain"])):
        raise SelectorError(f"selector '{text}': {problem[0]} ({problem[1]})")
    return NodeTerms(**terms)


def select_union(net: Network, texts: Iterable[str]) -> list[str]:
    """The nodes any of the text selectors names, in plan order; a selector naming nothing adds nothing.

    >>> from topology import load_plan
    >>> net = load_plan("scenarios/chuxiong/plan.yaml")
    >>> select_union(net, ["service:portal", "node:no-such-node"])
    ['楚雄州公众信息网']
    """
    wanted: set[str] = set()
    for text in texts:
        wanted.update(select(net, parse_selector(text)))
    return [name for name in net.nodes if name in wanted]


def _check_node_selector(value: str) -> str:
    try:
        parse_selector(value)
    except SelectorError as exc:
        raise PydanticCustomError("node_selector", "{message}", {"message": str(exc), "hint": ""}) from None
    return value


NodeSelector = Annotated[str, AfterValidator(_check_node_selector),
                         WithJsonSchema({"type": "string", "description": "a node selector (site:X,role:Y ...)"})]


def select_nodes(net: Network, text: str) -> list[str]:
    """The nodes a text selector names, in plan order; a term that names nothing raises SelectorError."""
    spec = parse_selector(text, net)
    _check_terms(net, spec, text)
    out = select(net, spec)
    if not out:
        both = " all of" if "," in text else ""
        raise SelectorError(f"no node matches{both} '{text}'")
    return out


def _check_terms(net: Network, spec: NodeQuery, text: str) -> None:
    """Each term on its own must name something: a typo is an error, not an empty answer."""
    def hint(value: str, known: Iterable[str]) -> str:
        close = close_match(value, list(known), cutoff=0.5)
        return f" (did you mean '{close}'?)" if close else ""

    if spec.node is not None and spec.node not in net.nodes:
        raise SelectorError(f"no node named '{spec.node}'{hint(spec.node, net.nodes)}"
                            + ("" if ":" in text else " (use site:, domain:, role:, level: or service: for groups)"))
    if spec.site is not None and spec.site not in net.sites:
        raise SelectorError(f"no site named '{spec.site}'{hint(spec.site, net.sites)}")
    if spec.domain is not None:
        problem = plan_selector_problem(net, spec.domain)
        if problem is not None:
            raise SelectorError(f"{problem[0]} ({problem[1]})")
    if spec.name is not None and not any(fnmatch.fnmatchcase(n, spec.name) for n in net.nodes):
        raise SelectorError(f"no node name matches '{spec.name}'")
