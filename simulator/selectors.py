"""Selectors: naming a set of nodes on the command line.

Definition. A selector is one or more terms joined by ``,`` (all must hold):

- ``node:NAME`` or a bare ``NAME``: that node (a bare name with ``*`` or ``?``
  is a glob on node names, as is ``name:GLOB``);
- ``site:NAME``: the nodes at that site and at every site below it;
- ``domain:NAME``: the nodes of a security domain (its name or its kind);
- ``role:ROLE``: the nodes of a role (``firewall``, ``server`` ...);
- ``level:LEVEL``: the nodes at sites of a level (``county`` ...);
- ``service:NAME``: the nodes hosting a service.

Nodes come back in plan order. A term that matches nothing, an unknown key or
an empty selector raises :class:`~topology.errors.SelectorError` with the
closest names as a hint.

Example::

    >>> select_nodes(net, "domain:extranet,role:server")     # doctest: +SKIP
    ['州政府门户', '州邮件服务器']
"""

from __future__ import annotations

import difflib
import fnmatch

from topology.errors import SelectorError
from topology.model import Network

KEYS = ("node", "name", "site", "domain", "role", "level", "service")


def _hint(value: str, known) -> str:
    close = difflib.get_close_matches(value, list(known), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def _term(net: Network, key: str, value: str) -> list[str]:
    nodes = net.nodes
    if key == "node":
        if value in nodes:
            return [value]
        raise SelectorError(f"no node named '{value}'{_hint(value, nodes)}")
    if key == "name":
        out = [n for n in nodes if fnmatch.fnmatchcase(n, value)]
        if not out:
            raise SelectorError(f"no node name matches '{value}'")
        return out
    if key == "site":
        if value not in net.sites:
            raise SelectorError(f"no site named '{value}'{_hint(value, net.sites)}")
        return [n.name for n in nodes.values() if n.site in net.sites and value in net.site_ancestors(n.site)]
    if key == "domain":
        if value in net.domains:
            wanted = {value}
        else:
            wanted = {d.name for d in net.domains.values() if d.kind == value}
            if not wanted:
                raise SelectorError(f"no domain named '{value}'{_hint(value, net.domains)}")
        return [n.name for n in nodes.values() if n.domain in wanted]
    if key == "role":
        return [n.name for n in nodes.values() if n.role == value]
    if key == "level":
        return [n.name for n in nodes.values() if n.site in net.sites and net.sites[n.site].level == value]
    if key == "service":
        return [n.name for n in nodes.values() if value in n.services]
    raise SelectorError(f"unknown selector key '{key}:' (use {', '.join(k + ':' for k in KEYS)} or a bare node name)")


def select_nodes(net: Network, selector: str) -> list[str]:
    """The nodes ``selector`` names, in plan order; see the module docstring."""
    text = (selector or "").strip()
    if not text:
        raise SelectorError("empty selector (name a node, or use node:, site:, domain:, role:, level:, service:)")
    chosen: set[str] | None = None
    for raw in text.split(","):
        term = raw.strip()
        if not term:
            raise SelectorError(f"empty term in selector '{selector}'")
        key, sep, value = term.partition(":")
        if not sep:
            if term in net.nodes:
                key, value = "node", term
            elif any(c in term for c in "*?["):
                key, value = "name", term
            else:
                raise SelectorError(f"no node named '{term}'{_hint(term, net.nodes)}"
                                    " (use site:, domain:, role:, level: or service: for groups)")
        elif key not in KEYS:
            if term in net.nodes:  # a node name with a colon in it
                key, value = "node", term
            else:
                raise SelectorError(f"unknown selector key '{key}:' (use {', '.join(k + ':' for k in KEYS)} or a bare node name)")
        if not value:
            raise SelectorError(f"selector term '{term}' names nothing after '{key}:'")
        found = set(_term(net, key, value))
        if not found:
            raise SelectorError(f"no node matches '{term}'")
        chosen = found if chosen is None else chosen & found
    out = [n for n in net.nodes if n in (chosen or ())]
    if not out:
        raise SelectorError(f"no node matches all of '{selector}'")
    return out
