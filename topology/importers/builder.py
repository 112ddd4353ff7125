"""Assembling an imported network into plain data in the plan format.

Importers read a foreign file and tell a :class:`PlanBuilder` what they found:
regions, nodes with valid unique names (see :mod:`.naming`), links with the
bandwidths and latencies the file gives, traffic demands and the assumptions
made on the way. The builder puts the network into one ``extranet`` domain
whose address pool is sized to the network, a province site named after the
plan (one prefecture site below it per region, if the file has regions),
routers on leased fibre, explicit link names only where two links would
otherwise share one, and returns the plan as a dict in file order.

    >>> b = PlanBuilder("demo")
    >>> b.add_node("Berlin")
    >>> b.add_node("Paris", site=b.site_for("France"))
    >>> b.add_link("Berlin", "Paris", bandwidth=10e9, latency=4.39e-3)
    'Berlin--Paris'
    >>> b.to_dict()["links"]
    [{'a': 'Berlin', 'b': 'Paris', 'bandwidth': '10G', 'latency': '4.390ms'}]
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from typing import Any

from ..units import parse_bandwidth
from .naming import unique_name

DOMAIN = "extranet"
DEFAULT_BANDWIDTH = "1G"
DEFAULT_LATENCY = "1ms"
MEDIUM = "leased_fibre"
SERVICE = "demand"
POOL_BASE = ipaddress.IPv4Address("10.0.0.0")
_UNITS = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


class PlanBuilder:
    """Collects an imported network and returns it as a plan dict."""

    def __init__(self, name: str, title: str | None = None, description: str | None = None) -> None:
        self.name = name
        self.title = title
        self.description = description
        self.assumptions: list[str] = []
        self._site_names: set[str] = set()
        self.root_site = unique_name(name, self._site_names, "network")
        self._regions: dict[str, str] = {}
        self._nodes: dict[str, dict[str, Any]] = {}
        self._links: list[dict[str, Any]] = []
        self._link_names: set[str] = set()
        self._traffic: list[dict[str, Any]] = []
        self._service_title = "traffic demand"

    @property
    def node_count(self) -> int:
        return len(self._nodes)

    def note(self, text: str) -> None:
        """Record a planning assumption the source file does not state."""
        self.assumptions.append(text)

    def site_for(self, region: str | None) -> str:
        """The site of nodes in ``region`` (a prefecture below the root), or the root site."""
        if not region or not region.strip():
            return self.root_site
        if region not in self._regions:
            self._regions[region] = unique_name(region, self._site_names)
        return self._regions[region]

    def add_node(self, name: str, site: str | None = None, title: str | None = None, tags: Sequence[str] = ()) -> None:
        """Add a router called ``name`` (already valid and unique) at ``site``."""
        if name in self._nodes:
            raise ValueError(f"node name {name!r} is not unique")
        node: dict[str, Any] = {}
        if site and site != self.root_site:
            node["site"] = site
        if title:
            node["title"] = title
        if tags:
            node["tags"] = list(tags)
        self._nodes[name] = node

    def add_link(self, a: str, b: str, bandwidth: float | None = None, latency: float | None = None) -> str:
        """Add a link between two added nodes; returns its (unique) name."""
        for end in (a, b):
            if end not in self._nodes:
                raise ValueError(f"link end {end!r} is not a node")
        auto = f"{a}--{b}"
        name = unique_name(auto, self._link_names)
        link: dict[str, Any] = {"a": a, "b": b}
        if name != auto:
            link["name"] = name
        if bandwidth is not None:
            link["bandwidth"] = bandwidth_text(bandwidth)
        if latency is not None:
            link["latency"] = latency_text(latency)
        self._links.append(link)
        return name

    def add_traffic(self, src: str, dst: str, rate: float) -> None:
        """Add a one-way traffic demand of ``rate`` bits/s from ``src`` to ``dst``."""
        self._traffic.append({"service": SERVICE, "from": src, "to": dst, "rate": bandwidth_text(rate)})

    def set_service_title(self, title: str) -> None:
        self._service_title = title

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain data, sections in the order a reader expects."""
        plan: dict[str, Any] = {"name": self.name}
        if self.title:
            plan["title"] = self.title
        if self.description:
            plan["description"] = self.description
        if self.assumptions:
            plan["assumptions"] = list(self.assumptions)
        plan["domains"] = {DOMAIN: {"kind": "extranet", "title": "imported network", "pool": str(self._pool())}}
        plan["sites"] = {self.root_site: self._site_tree()}
        plan["defaults"] = {
            "node": {"role": "router", "domain": DOMAIN, "site": self.root_site},
            "link": {"bandwidth": DEFAULT_BANDWIDTH, "latency": DEFAULT_LATENCY, "medium": MEDIUM},
        }
        plan["nodes"] = {name: dict(node) for name, node in self._nodes.items()}
        plan["links"] = [dict(link) for link in self._links]
        if self._traffic:
            plan["services"] = {SERVICE: {"kind": "data", "rate": self._service_rate(), "title": self._service_title}}
            plan["traffic"] = [dict(t) for t in self._traffic]
        return plan

    def _site_tree(self) -> dict[str, Any]:
        tree: dict[str, Any] = {"level": "province"}
        if self._regions:
            tree["children"] = {site: {"level": "prefecture"} for site in self._regions.values()}
        return tree

    def _pool(self) -> ipaddress.IPv4Network:
        """A pool with room for twice the loopbacks (/32) and link subnets (/31) needed, at least a /16."""
        needed = max(1, len(self._nodes) + 2 * len(self._links))
        prefixlen = max(8, min(16, 32 - math.ceil(math.log2(2 * needed))))
        return ipaddress.IPv4Network((POOL_BASE, prefixlen))

    def _service_rate(self) -> Any:
        """The smallest demand: the service's own rate (every traffic entry sets its rate)."""
        return min((t["rate"] for t in self._traffic), key=parse_bandwidth)


def bandwidth_text(bps: float) -> str | int | float:
    """Shortest plan spelling of ``bps`` that reads back exactly: ``'10G'``, ``'155.52M'``, else the number."""
    value = float(bps)
    for factor, unit in _UNITS:
        if value >= factor:
            text = f"{value / factor:.12g}{unit}"
            if "e" not in text and parse_bandwidth(text) == value:
                return text
    return int(value) if value.is_integer() else value


def number_text(value: float) -> str:
    """A coordinate as written compactly and exactly: ``'52.37403'``, ``'-105'``."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def latency_text(seconds: float) -> str:
    """A delay in milliseconds rounded to the microsecond: ``'4.390ms'``."""
    return f"{seconds * 1e3:.3f}ms"
