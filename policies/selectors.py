"""Selecting domains and nodes in rule parameters.

Built-in packs must work on any plan, whatever its authors named the
networks, so rules name domains by *selector* rather than by name:

==================  =========================================================
``*`` or ``any``    every domain
``kind:intranet``   every domain of that kind (party_private, intranet,
                    extranet, internet, dmz or a plan's own kind)
``classified``      domains cleared for classified data (涉密, clearance > 0)
``unclassified``    domains with clearance 非涉密
``public``          untrusted domains and domains of kind ``internet``
``trusted``         every domain that is not public
``clearance:机密``  domains cleared for at least that classification
``!selector``       not the domains that selector matches (in a list)
anything else       the domain of exactly that name
==================  =========================================================

A selector that matches nothing is not an error: the plan simply has no such
network and rules about it are not applicable.

    >>> select_domains(net, ["kind:intranet", "classified"])   # doctest: +SKIP
    ['内网', '党委专网']
"""

from __future__ import annotations

import fnmatch
from typing import Iterable

from pydantic import BaseModel, ConfigDict

from topology.model import CLASSIFICATION_ORDER, Domain, Network, Node

PUBLIC_KINDS = ("internet",)


def is_public(domain: Domain) -> bool:
    """An untrusted network (the internet) or one of a public kind."""
    return (not domain.trusted) or domain.kind in PUBLIC_KINDS


def domain_matches(domain: Domain, selector: str) -> bool:
    sel = selector.strip()
    if sel in ("*", "any"):
        return True
    if sel.startswith("kind:"):
        return domain.kind == sel[5:].strip()
    if sel.startswith("clearance:"):
        label = sel[10:].strip()
        return label in CLASSIFICATION_ORDER and domain.clearance >= CLASSIFICATION_ORDER.index(label)
    if sel == "classified":
        return domain.clearance > 0
    if sel == "unclassified":
        return domain.clearance == 0
    if sel == "public":
        return is_public(domain)
    if sel == "trusted":
        return not is_public(domain)
    return domain.name == sel


def select_domains(net: Network, selectors: Iterable[str]) -> list[str]:
    """Names of the domains any selector matches and no ``!selector`` excludes, in plan order.

    A list of exclusions only (``["!kind:dmz"]``) starts from every domain.
    """
    sels = [s.strip() for s in selectors]
    if not sels:
        return []
    wanted = [s for s in sels if not s.startswith("!")]
    unwanted = [s[1:].strip() for s in sels if s.startswith("!")]
    return [d.name for d in net.domains.values()
            if (not wanted or any(domain_matches(d, s) for s in wanted))
            and not any(domain_matches(d, s) for s in unwanted)]


def describe_domain(net: Network, name: str) -> str:
    """A readable name: the plan's own name (政务内网), or a short title with a terse code name."""
    domain = net.domains.get(name)
    if domain is None or not domain.title or domain.title == name or not name.isascii() or len(domain.title) > 30:
        return name
    return f"{domain.title} ({name})"


class NodeMatch(BaseModel):
    """Which nodes a clause of a rule is about; every field given must match.

    ``service`` matches nodes hosting that service (``portal``,
    ``document_exchange`` ...), ``role`` the node role, ``name`` a glob on node
    names, ``domain`` a domain selector.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    service: str | list[str] | None = None
    role: str | list[str] | None = None
    name: str | None = None
    domain: str | None = None
    tag: str | None = None

    def matches(self, net: Network, node: Node) -> bool:
        if self.service is not None:
            wanted = [self.service] if isinstance(self.service, str) else self.service
            if not any(s in node.services for s in wanted):
                return False
        if self.role is not None:
            roles = [self.role] if isinstance(self.role, str) else self.role
            if node.role not in roles:
                return False
        if self.name is not None and not fnmatch.fnmatchcase(node.name, self.name):
            return False
        if self.domain is not None:
            domain = net.domains.get(node.domain)
            if domain is None or not domain_matches(domain, self.domain):
                return False
        if self.tag is not None and self.tag not in node.tags:
            return False
        return True
