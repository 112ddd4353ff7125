"""Access-control lists: ordered rules, first match decides.

Definition. An ACL is a list of rules, each ``permit`` or ``deny`` on a box of
headers: source and destination prefixes, protocol (``ip`` = any), source and
destination port ranges (TCP/UDP; absent = any) and, for ICMP, a type
(carried in the ``dport`` field, see :mod:`simulator.headerspace`). A packet
is decided by the *first* rule whose box contains it. When no rule matches,
the *fall-through* decides: the node's ``default_action`` if the plan sets
one, else ``deny`` (the implicit deny every router and firewall has); the
fall-through is reported as rule index 0.

A rule *never matches* when the rules above it already decide every header
it describes (:func:`dead_rules`): *shadowed* when one of those does the
opposite, *redundant* when all agree. It is decided exactly on the headers
a node can send (:func:`simulator.headerspace.universe`: ports only on TCP
and UDP, a type only on ICMP), so ``permit icmp`` under ``permit icmp type
0-255`` is redundant although its box is wider.

Rules are compiled once into integer tuples; :meth:`CompiledAcl.first_match`
is the hot path of every hop. :meth:`CompiledAcl.partition` is the same
decision over a set of headers: it splits a :class:`HeaderSpace` into the
parts each rule decides (the header-space answer of a reachability query).

Example::

    >>> from topology.model import Acl, Rule
    >>> import ipaddress
    >>> any4 = ipaddress.IPv4Network("0.0.0.0/0")
    >>> web = Rule(1, "permit", any4, ipaddress.IPv4Network("10.0.0.9/32"), "tcp", None, (443, 443), None)
    >>> acl = compile_acl(Acl("fw-in", (web,)), default_permit=False)
    >>> acl.first_match(1, 0x0A000009, 6, 40000, 443)
    (1, True)
    >>> acl.first_match(1, 0x0A000009, 6, 40000, 80)
    (0, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from topology.model import Acl, Node, Rule
from topology.vocabulary import DENY_BY_DEFAULT_ROLES, PROTO_NUMBERS

from .headerspace import (
    DPORT,
    FULL,
    PROTO,
    SPORT,
    Box,
    HeaderSpace,
    IntervalSet,
    box_intersect,
    map_box,
    prefix_interval,
    universe,
)

MAX_BOXES = 20000  # past this many pieces a rule is not judged dead (no false finding)


@dataclass(frozen=True, slots=True)
class RuleRef:
    """The rule that decided: ACL ``acl`` rule ``index`` (0 = the default / fall-through) on ``node``'s ``interface``."""

    acl: str
    index: int
    action: str  # permit | deny
    node: str
    interface: str | None
    direction: str  # in | out

    def to_json(self) -> dict:
        return {"acl": self.acl, "index": self.index, "action": self.action, "node": self.node,
                "interface": self.interface, "direction": self.direction}

    def __str__(self) -> str:
        which = "the default action" if self.index == 0 else f"rule {self.index}"
        where = f"{self.node}:{self.interface} {self.direction}" if self.interface else f"{self.node} {self.direction}"
        return f"{self.action} by {which} of {self.acl} ({where})"


def rule_box(rule: Rule) -> Box:
    """The headers a rule matches, as a box."""
    if rule.proto == "ip":
        proto = FULL[PROTO]
    else:
        number = PROTO_NUMBERS[rule.proto]
        proto = IntervalSet.span(number, number)
    sport = IntervalSet.span(*rule.sport) if rule.sport else FULL[SPORT]
    dport = IntervalSet.span(*rule.dport) if rule.dport else FULL[DPORT]
    if rule.proto == "icmp" and rule.icmp_type is not None:
        dport = IntervalSet.span(rule.icmp_type, rule.icmp_type)
    return (IntervalSet.span(*prefix_interval(rule.src)), IntervalSet.span(*prefix_interval(rule.dst)), proto, sport, dport)


def rule_space(rule: Rule) -> HeaderSpace:
    """The headers a rule matches among those a node can send."""
    return universe().intersect_box(rule_box(rule))


def is_catch_all(rule: Rule) -> bool:
    """Whether the rule matches every header (``permit ip any any``, ``deny ip any any``)."""
    return not universe().subtract_box(rule_box(rule))


def is_boundary(node: Node) -> bool:
    """A boundary node passes only what an ACL permitted: a firewall, or a node whose plan sets ``default_action``."""
    return node.role in DENY_BY_DEFAULT_ROLES or node.default_action is not None


def fallthrough(node: Node, acl_applied: bool) -> Literal["permit", "deny"]:
    """What ``node`` does with a packet no rule of an interface matched.

    An applied ACL denies what it does not match unless the node's
    ``default_action`` is permit; without an ACL a boundary node applies its
    default action (deny unless the plan says permit), any other node forwards.

    >>> from topology.model import Node
    >>> fw, router = Node("fw", "firewall", "外网", "州", 0, {}), Node("r", "router", "外网", "州", 0, {})
    >>> fallthrough(fw, acl_applied=False), fallthrough(router, False), fallthrough(router, True)
    ('deny', 'permit', 'deny')
    """
    if node.default_action is not None:
        return "permit" if node.default_action == "permit" else "deny"
    return "deny" if acl_applied or is_boundary(node) else "permit"


def dead_rules(acl: Acl) -> list[tuple[int, Literal["shadowed", "redundant"], list[int]]]:
    """Rules that never match: (index, shadowed or redundant, the earlier rules that decide its headers).

    A rule as written may name a node with several addresses; the model holds
    one piece per address, all with the rule's index, and the rule is judged
    as the union of its pieces, once. Earlier rules are taken in order (first
    match): the deciders are the earlier rules that take some of its headers.

    >>> import ipaddress
    >>> any4 = ipaddress.IPv4Network("0.0.0.0/0")
    >>> tcp = Rule(1, "permit", any4, any4, "tcp", None, None, None)
    >>> web = Rule(2, "deny", any4, ipaddress.IPv4Network("10.0.0.9/32"), "tcp", None, (443, 443), None)
    >>> dead_rules(Acl("fw-in", (tcp, web)))
    [(2, 'shadowed', [1])]
    """
    written: dict[int, tuple[str, HeaderSpace]] = {}  # index -> (action, the headers of its pieces)
    for r in acl.rules:
        action, space = written.get(r.index, (r.action, HeaderSpace()))
        written[r.index] = (action, space.union(rule_space(r)))
    order = list(written)
    out: list[tuple[int, Literal["shadowed", "redundant"], list[int]]] = []
    for k, index in enumerate(order):
        action, remaining = written[index]
        deciders = []
        for j in order[:k]:
            theirs = written[j][1]
            if not any(box_intersect(a, b) is not None for a in remaining for b in theirs):
                continue
            deciders.append(j)
            remaining = remaining.subtract(theirs)
            if not remaining or len(remaining) > MAX_BOXES:
                break
        if not remaining:
            opposite = any(written[j][0] != action for j in deciders)
            out.append((index, "shadowed" if opposite else "redundant", deciders))
    return out


@dataclass(frozen=True)
class CompiledAcl:
    name: str
    rules: tuple[tuple, ...]  # (index, permit, slo, shi, dlo, dhi, plo, phi, splo, sphi, dplo, dphi)
    boxes: tuple[tuple[int, bool, Box], ...]
    default_permit: bool

    def first_match(self, src: int, dst: int, proto: int, sport: int, dport: int) -> tuple[int, bool]:
        """(rule index, permitted) of the first rule matching; (0, default) when none does."""
        for idx, permit, sl, sh, dl, dh, pl, ph, spl, sph, dpl, dph in self.rules:
            if sl <= src <= sh and dl <= dst <= dh and pl <= proto <= ph and spl <= sport <= sph and dpl <= dport <= dph:
                return idx, permit
        return 0, self.default_permit

    def partition(self, space: HeaderSpace, constants=(None,) * 5) -> list[tuple[int, bool, HeaderSpace]]:
        """Split ``space`` by which rule decides: [(index, permitted, part)] in rule order, fall-through last.

        ``constants`` maps fields rewritten on the way (NAT, encapsulation) to
        their value, so a rule on the current header is seen from the original
        header (:func:`simulator.headerspace.map_box`).
        """
        out = []
        remaining = space
        for idx, permit, b in self.boxes:
            if not remaining:
                break
            mapped = map_box(b, constants)
            if mapped is None:
                continue
            hit, remaining = remaining.split_box(mapped)
            if hit:
                out.append((idx, permit, hit))
        if remaining:
            out.append((0, self.default_permit, remaining))
        return out


def compile_acl(acl: Acl, default_permit: bool = False) -> CompiledAcl:
    rules = []
    boxes = []
    for rule in acl.rules:
        b = rule_box(rule)
        flat = tuple(v for f in b for v in f[0])
        rules.append((rule.index, rule.action == "permit") + flat)
        boxes.append((rule.index, rule.action == "permit", b))
    return CompiledAcl(acl.name, tuple(rules), tuple(boxes), default_permit)
