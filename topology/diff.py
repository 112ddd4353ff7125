"""What changed between two versions of a plan, in the model: nodes, links, ACL rules, routes, tunnels, VRFs,
traffic, services, phases, domains, sites, approvals and waivers.

Definitions.

- Items are matched by name (a node, a link, an ACL, a tunnel, a VRF, a
  service, a phase, a domain, a site), a static route by its node, VRF and
  prefix, a traffic flow by its service, ends and origin, an approval or a
  waiver by everything it says.
- An item of one version only is *added* or *removed*; an item of both whose
  fields differ is *changed*, with every differing field as
  ``field: old → new``. Fields are compared as the expanded model holds
  them (addresses as the plan's address plan gave them, rates in bit/s
  written as the plan writes them); positions in files (marks) are not
  fields, so moving a line changes nothing. A node's interfaces are
  matched by their link (the one no link uses by its name), and which port
  a link takes is not compared: govnet numbers ports e0, e1 ... in plan
  order, so a new link would renumber every port after it.
- An ACL's rules are an ordered list: they are aligned as a sequence
  (:class:`difflib.SequenceMatcher` on the rules' text), so inserting one
  rule reports that rule, not every rule after it. A rule's position is
  part of what it means (first match wins): a rule that moved is reported.
  Rules are named ``ACL#N`` with N the rule's number in the plan (one plan
  rule naming a node stands for a rule per address of it: they share N).
- Every change points at its line in NEW, or in OLD for what was removed.

The result is ordered by section (the order of :data:`SECTIONS`), then by the
order of the items in NEW (removed ones after, in OLD's order): the same two
plans always give the same list.

    >>> from topology.loader import load_text
    >>> old = load_text('''
    ... name: demo
    ... domains: {外网: {kind: extranet}}
    ... sites: {州: {level: prefecture}}
    ... defaults: {node: {domain: 外网, site: 州, role: core_router}}
    ... nodes: {a: {}, b: {}}
    ... links: [{a: a, b: b, bandwidth: 1G}]
    ... ''')
    >>> new = load_text('''
    ... name: demo
    ... domains: {外网: {kind: extranet}}
    ... sites: {州: {level: prefecture}}
    ... defaults: {node: {domain: 外网, site: 州, role: core_router}}
    ... nodes: {a: {}, b: {}, c: {role: server}}
    ... links: [{a: a, b: b, bandwidth: 10G}, {a: b, b: c}]
    ... ''')
    >>> for c in model_changes(old, new):
    ...     print(c.text())
    node a changed: loopback: 10.128.0.2/32 → 10.128.0.4/32
    node b changed: loopback: 10.128.0.3/32 → 10.128.0.5/32; interfaces.to b--c added (10.128.0.2/31, b--c)
    node c added (server in 外网 at 州)
    link a--b changed: bandwidth: 1G → 10G; cost: 100 → 10
    link b--c added (b ⇄ c, 1G)

The loopbacks moved because a new link took the next block: a plan that includes its address register
(:mod:`topology.register`) keeps them.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import Mark
from .model import NO_MARK, Acl, Flow, Network, Node, Rule, StaticRoute
from .units import format_bandwidth

SECTIONS = ("domains", "sites", "phases", "nodes", "links", "routes", "tunnels", "vrfs", "acls", "services",
            "traffic", "approvals", "waivers")
SINGULAR = {"domains": "domain", "sites": "site", "phases": "phase", "nodes": "node", "links": "link",
            "routes": "route", "tunnels": "tunnel", "vrfs": "VRF", "acls": "ACL", "services": "service",
            "traffic": "flow", "approvals": "approval", "waivers": "waiver"}
RATE_FIELDS = ("bandwidth", "rate")  # written as the plan writes rates


@dataclass(frozen=True)
class Change:
    """One changed item: ``action`` is added, removed or changed; ``details`` the differing fields."""

    section: str
    name: str
    action: str
    details: tuple[str, ...] = ()
    mark: Mark = NO_MARK
    summary: str = ""  # what an added or removed item is, in a few words

    def text(self) -> str:
        """One line: ``node c added (server in 外网 at 州)`` / ``link a--b changed: bandwidth: 1G → 10G``."""
        head = f"{SINGULAR[self.section]} {self.name} {self.action}"
        if self.action == "changed":
            return f"{head}: {'; '.join(self.details)}"
        return f"{head} ({self.summary})" if self.summary else head


def model_changes(old: Network, new: Network) -> list[Change]:
    """Every change from ``old`` to ``new`` (see the module docstring)."""
    out: list[Change] = []
    out += _named("domains", old.domains, new.domains, lambda d: f"{d.kind}" + (f", pool {d.pool}" if d.pool else ""))
    out += _named("sites", old.sites, new.sites, lambda s: s.level + (f" below {s.parent}" if s.parent else ""))
    out += _named("phases", {p.name: p for p in old.phases}, {p.name: p for p in new.phases}, lambda p: p.title or "")
    out += _named("nodes", _ports(old), _ports(new), _node_summary)
    out += _named("links", old.links, new.links, lambda l: f"{l.a} ⇄ {l.b}, {format_bandwidth(l.bandwidth)}",
                  skip=("a_if", "b_if"))
    out += _named("routes", _routes(old), _routes(new), lambda r: f"via {r[1].via}", marks=(_node_marks(old), _node_marks(new)))
    out += _named("tunnels", old.tunnels, new.tunnels, lambda t: f"{t.kind} {t.a} ⇄ {t.b}")
    out += _named("vrfs", old.vrfs, new.vrfs, lambda v: v.domain or "")
    out += _acls(old.acls, new.acls)
    out += _named("services", old.services, new.services, lambda s: f"{s.kind}, {format_bandwidth(s.rate)}")
    out += _named("traffic", _flows(old.flows), _flows(new.flows), lambda f: format_bandwidth(f.rate))
    out += _named("approvals", {_key_text(a): a for a in old.approvals}, {_key_text(a): a for a in new.approvals},
                  lambda a: "")
    out += _named("waivers", {_key_text(w): w for w in old.waivers}, {_key_text(w): w for w in new.waivers},
                  lambda w: "")
    return out


# -- which parts of the model differ, for reusing what was derived from the others -------------------

PARTS = ("plan", "domains", "sites", "phases", "nodes", "links", "rates", "tunnels", "vrfs", "acls", "services",
         "traffic", "approvals", "waivers", "risk_groups")
RATE_OF_LINK = ("bandwidth", "latency", "sized")  # a link's rates: the "rates" part, the rest is "links"


def differing_nodes(old: Network, new: Network) -> list[str]:
    """The nodes of ``new`` whose record is not equal to ``old``'s (plan lines included), or that are new.

    >>> from topology.loader import load_text
    >>> text = "name: d\\ndomains: {外网: {kind: extranet}}\\nsites: {州: {}}\\n" \\
    ...        "defaults: {node: {domain: 外网, site: 州, role: router}}\\nnodes: {a: {}, b: {}}\\n"
    >>> differing_nodes(load_text(text), load_text(text.replace("b: {", "c: {")))
    ['c']
    """
    return [name for name, node in new.nodes.items() if old.nodes.get(name) != node]


def changed_parts(old: Network, new: Network, differing: list[str] | None = None) -> frozenset[str]:
    """The parts of :data:`PARTS` in which ``new`` differs from ``old``, marks (plan lines) included: what was
    derived from the other parts alone, its plan lines too, holds for ``new`` as it did for ``old``.

    ``plan`` is the plan's own fields (name, files, policies, assumptions, the address register ...);
    ``links`` a link's ends, cost, medium and the rest, ``rates`` its bandwidth, latency and whether it is sized;
    ``traffic`` the demands; every other part is the section of that name, in plan order.

    >>> from topology.loader import load_text
    >>> text = '''
    ... name: demo
    ... domains: {外网: {kind: extranet}}
    ... sites: {州: {level: prefecture}}
    ... defaults: {node: {domain: 外网, site: 州, role: core_router}}
    ... nodes: {a: {}, b: {}}
    ... links: [{a: a, b: b, bandwidth: 1G, cost: 10}]
    ... '''
    >>> sorted(changed_parts(load_text(text), load_text(text.replace("1G", "10G"))))
    ['rates']
    >>> sorted(changed_parts(load_text(text), load_text(text.replace("cost: 10", "cost: 20"))))
    ['links']

    ``differing``: :func:`differing_nodes`, when already known (then the nodes are not compared again).
    """
    out = {part for part, (a, b) in _part_pairs(old, new, differing is None) if a != b}
    if differing is not None and (differing or list(old.nodes) != list(new.nodes)):
        out.add("nodes")
    if list(old.links) != list(new.links):
        out.update(("links", "rates"))
    else:
        for name, link in new.links.items():
            before = old.links[name]
            if before == link:
                continue
            if any(getattr(before, f) != getattr(link, f) for f in RATE_OF_LINK):
                out.add("rates")
            if dataclasses.replace(before, bandwidth=0.0, latency=0.0, sized=True) != \
                    dataclasses.replace(link, bandwidth=0.0, latency=0.0, sized=True):
                out.add("links")
    return frozenset(out)


def _part_pairs(old: Network, new: Network, nodes: bool = True) -> list[tuple[str, tuple[Any, Any]]]:
    def plan(n: Network) -> tuple:
        return (n.name, n.title, n.file, n.policies, n.assumptions, n.expect_fail, n.sources, n.declined_policies,
                n.allocated, n.phase, n.mark)

    def items(m: Mapping[str, Any]) -> list[tuple[str, Any]]:
        return list(m.items())

    return [("plan", (plan(old), plan(new))),
            ("domains", ((items(old.domains), items(old.domain_kinds)), (items(new.domains), items(new.domain_kinds)))),
            ("sites", (items(old.sites), items(new.sites))), ("phases", (old.phases, new.phases)),
            ("nodes", (items(old.nodes), items(new.nodes)) if nodes else ((), ())), ("tunnels", (items(old.tunnels), items(new.tunnels))),
            ("vrfs", (items(old.vrfs), items(new.vrfs))), ("acls", (items(old.acls), items(new.acls))),
            ("services", (items(old.services), items(new.services))), ("traffic", (old.flows, new.flows)),
            ("approvals", (old.approvals, new.approvals)), ("waivers", (old.waivers, new.waivers)),
            ("risk_groups", (items(old.risk_groups), items(new.risk_groups)))]


# -- generic comparison -------------------------------------------------------------------------------

def flat(value: Any, path: str = "", skip: tuple[str, ...] = ()) -> dict[str, str]:
    """A value as ``field path → text``, marks and private fields left out.

    >>> import ipaddress
    >>> flat(StaticRoute(ipaddress.ip_network("10.0.0.0/8"), "core"))
    {'prefix': '10.0.0.0/8', 'via': 'core', 'vrf': '-'}
    """
    if isinstance(value, Mark):
        return {}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, str] = {}
        for f in dataclasses.fields(value):
            if f.name == "mark" or f.name.startswith("_") or f.name in skip:
                continue
            out.update(_field(getattr(value, f.name), f"{path}.{f.name}" if path else f.name, f.name))
        return out
    return _field(value, path, path.rsplit(".", 1)[-1])


def _field(value: Any, path: str, name: str) -> dict[str, str]:
    if isinstance(value, Mapping):
        out: dict[str, str] = {}
        for k, v in value.items():
            out.update(flat(v, f"{path}.{k}"))
        return out
    if isinstance(value, (tuple, list)) and any(dataclasses.is_dataclass(v) for v in value):
        out = {}
        for i, v in enumerate(value, 1):
            out.update(flat(v, f"{path}.{i}"))
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return flat(value, path)
    return {path: _text(value, name)}


def _text(value: Any, name: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and name in RATE_FIELDS:
        return format_bandwidth(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return ", ".join(_text(v, name) for v in value) or "-"
    return str(value)


def field_changes(old: Any, new: Any, path: str = "", skip: tuple[str, ...] = ()) -> list[str]:
    """Every field that differs between two versions of one item, as ``path: old → new``; an entry of a mapping
    (an interface of a node) that one version lacks as ``path added`` / ``path removed``.

    >>> import ipaddress
    >>> a = StaticRoute(ipaddress.ip_network("10.0.0.0/8"), "core")
    >>> field_changes(a, dataclasses.replace(a, via="fw"))
    ['via: core → fw']
    """
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[str] = []
        for k in dict.fromkeys([*new, *old]):
            where = f"{path}.{k}" if path else str(k)
            if k not in old:
                out.append(f"{where} added" + _brief(new[k]))
            elif k not in new:
                out.append(f"{where} removed" + _brief(old[k]))
            else:
                out += field_changes(old[k], new[k], where)
        return out
    if _is_record(old) and _is_record(new) and type(old) is type(new):
        out = []
        for f in dataclasses.fields(old):
            if f.name == "mark" or f.name.startswith("_") or f.name in skip:
                continue
            out += field_changes(getattr(old, f.name), getattr(new, f.name), f"{path}.{f.name}" if path else f.name)
        return out
    before, after = flat(old, path), flat(new, path)
    return [f"{k}: {before.get(k, '-')} → {after.get(k, '-')}"
            for k in dict.fromkeys([*after, *before]) if before.get(k, "-") != after.get(k, "-")]


def same_record(old: Any, new: Any) -> bool:
    """Whether two versions of an item say the same thing, their plan lines (marks) aside.

    >>> import ipaddress
    >>> from topology.errors import Mark
    >>> a = StaticRoute(ipaddress.ip_network("10.0.0.0/8"), "core")
    >>> b = Acl("出", (), Mark("plan.yaml", 3, 1)), Acl("出", (), Mark("plan.yaml", 9, 1))
    >>> same_record(*b), same_record(a, dataclasses.replace(a, via="fw"))
    (True, False)
    """
    return old == new or unmarked(old) == unmarked(new)


def unmarked(value: Any, skip: frozenset[str] = frozenset()) -> Any:
    """``value`` as plain nested tuples without its marks, private fields and the fields named in ``skip``
    (at any depth): two values are :func:`same_record` when these are equal."""
    if isinstance(value, Mark):
        return None
    if _is_record(value):
        return (type(value).__name__,) + tuple(
            unmarked(getattr(value, f.name), skip) for f in dataclasses.fields(value)
            if f.name != "mark" and not f.name.startswith("_") and f.name not in skip)
    if isinstance(value, Mapping):
        return tuple((k, unmarked(v, skip)) for k, v in value.items())
    if isinstance(value, (tuple, list)):
        return tuple(unmarked(v, skip) for v in value)
    return value


def _is_record(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _brief(value: Any) -> str:
    shown = [v for k, v in flat(value).items() if v not in ("-", "no") and k not in ("node", "name")]
    return f" ({', '.join(shown)})" if shown else ""


def _named(section: str, old: Mapping[str, Any], new: Mapping[str, Any], summary: Callable[[Any], str],
           skip: tuple[str, ...] = (), marks: tuple[Mapping[str, Mark], Mapping[str, Mark]] | None = None) -> list[Change]:
    def mark_of(item: Any, name: str, side: int) -> Mark:
        if marks is not None:
            return marks[side].get(name, NO_MARK)
        return getattr(item, "mark", NO_MARK)

    out: list[Change] = []
    for name, item in new.items():
        if name not in old:
            out.append(Change(section, name, "added", (), mark_of(item, name, 1), summary(item)))
            continue
        details = tuple(field_changes(old[name], item, skip=skip))
        if details:
            out.append(Change(section, name, "changed", details, mark_of(item, name, 1)))
    for name, item in old.items():
        if name not in new:
            out.append(Change(section, name, "removed", (), mark_of(item, name, 0), summary(item)))
    return out


def _key_text(item: Any) -> str:
    return "; ".join(f"{k}={v}" for k, v in flat(item).items() if v != "-")


# -- sections with their own keys ----------------------------------------------------------------------

class _Ported(dict):
    """A node's fields as compared: its interfaces keyed by link (a cabled one) or by name (one no link uses),
    its routes left to the routes section."""

    def __init__(self, node: Node):
        super().__init__((f.name, getattr(node, f.name)) for f in dataclasses.fields(node)
                         if f.name not in ("mark", "interfaces", "routes"))
        ports = {(f"to {i.link}" if i.link else i.name): dataclasses.replace(i, name="") if i.link else i
                 for i in node.interfaces.values()}
        self["interfaces"] = dict(sorted(ports.items()))
        self.node, self.mark = node, node.mark


def _ports(net: Network) -> dict[str, _Ported]:
    return {name: _Ported(n) for name, n in net.nodes.items()}


def _node_summary(p: _Ported) -> str:
    return f"{p.node.role} in {p.node.domain} at {p.node.site}"


def _routes(net: Network) -> dict[str, tuple[str, StaticRoute]]:
    """Static routes by ``node [vrf] prefix``."""
    out: dict[str, tuple[str, StaticRoute]] = {}
    for node in net.nodes.values():
        for r in node.routes:
            out[f"{node.name}{f' vrf {r.vrf}' if r.vrf else ''} {r.prefix}"] = (node.name, r)
    return out


def _node_marks(net: Network) -> dict[str, Mark]:
    return {key: net.nodes[node].mark for key, (node, _) in _routes(net).items()}


def _flows(flows: Iterable[Flow]) -> dict[str, Flow]:
    """Flows by ``service src -> dst`` (with the origin when derived, a count when repeated)."""
    out: dict[str, Flow] = {}
    for f in flows:
        base = f.label + ("" if f.origin == "plan" else f" ({f.origin})")
        key, n = base, 1
        while key in out:
            n += 1
            key = f"{base} #{n}"
        out[key] = f
    return out


def rule_text(rule: Rule) -> str:
    """A rule as one line, its position left out.

    >>> import ipaddress
    >>> r = Rule(1, "permit", ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("10.0.0.0/24"), "tcp",
    ...          None, (443, 443), None)
    >>> rule_text(r)
    'permit tcp 0.0.0.0/0 -> 10.0.0.0/24 dport 443'
    """
    ports = ""
    for what, rng in (("sport", rule.sport), ("dport", rule.dport)):
        if rng is not None:
            ports += f" {what} {rng[0]}" + (f"-{rng[1]}" if rng[1] != rng[0] else "")
    icmp = f" type {rule.icmp_type}" if rule.icmp_type is not None else ""
    return f"{rule.action} {rule.proto} {rule.src} -> {rule.dst}{ports}{icmp}"


def _acls(old: Mapping[str, Acl], new: Mapping[str, Acl]) -> list[Change]:
    out: list[Change] = []
    for name, acl in new.items():
        if name not in old:
            out.append(Change("acls", name, "added", (), acl.mark, f"{len(acl.rules)} rule(s)"))
            continue
        out += _rule_changes(name, old[name], acl)
    for name, acl in old.items():
        if name not in new:
            out.append(Change("acls", name, "removed", (), acl.mark, f"{len(acl.rules)} rule(s)"))
    return out


def _rule_changes(name: str, old: Acl, new: Acl) -> list[Change]:
    """The rules inserted, deleted or replaced in one ACL, aligned as a sequence."""
    a, b = [rule_text(r) for r in old.rules], [rule_text(r) for r in new.rules]
    out: list[Change] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        for i in range(i1, i2) if op in ("delete", "replace") else ():
            out.append(Change("acls", f"{name}#{old.rules[i].index}", "removed", (), old.rules[i].mark, a[i]))
        for j in range(j1, j2) if op in ("insert", "replace") else ():
            out.append(Change("acls", f"{name}#{new.rules[j].index}", "added", (), new.rules[j].mark, b[j]))
    described = {(r.index, rule_text(r)): r.description for r in old.rules}
    for r in new.rules:
        before = described.get((r.index, rule_text(r)), r.description)
        if before != r.description:
            out.append(Change("acls", f"{name}#{r.index}", "changed",
                              (f"description: {before or '-'} → {r.description or '-'}",), r.mark))
    return out


__all__ = ["SECTIONS", "Change", "field_changes", "flat", "model_changes", "rule_text"]
