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
    >>> b.to_dict()["routing"]          # the cost model is always written out
    {'cost': 'bandwidth', 'reference_bandwidth': '100G'}

A link of unknown capacity is written ``bandwidth: unknown`` (see :mod:`.options`).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from typing import Any

from ..expand.links import REFERENCE_BANDWIDTH, UNKNOWN_BANDWIDTH
from ..units import parse_bandwidth
from .naming import unique_name
from .options import ImporterError

DOMAIN = "extranet"
DEFAULT_BANDWIDTH = "1G"
DEFAULT_LATENCY = "1ms"
MEDIUM = "leased_fibre"
SERVICE = "demand"
CARRIER_PACK = "carrier"  # what an imported network is checked with (policies/packs/carrier.yaml)
CARRIER_NOTE = ("An imported carrier or backbone network: checked with the carrier pack (capacity at peak, delay, "
                "N-1 with shared risks); the e-government packs (isolation of security domains, the unified "
                "channel of the administrative hierarchy) are not asked of it.")
REGIONS_NOTE = (" The file's regions (countries, states) are sites one level below the network for drawing and "
                "selecting (site:NAME); they are not administrative levels, and links between them are the "
                "carrier's own, not an e-government channel.")
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
        self._by_name: dict[str, dict[str, Any]] = {}
        self.cost_model: str | None = "bandwidth"  # routing.cost of the plan; None: no routing section

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

    def add_link(self, a: str, b: str, bandwidth: float | str | None = None, latency: float | None = None,
                 cost: int | None = None) -> str:
        """Add a link between two added nodes; returns its (unique) name.

        ``bandwidth`` is bit/s, ``'unknown'`` (not sized) or None (the default); ``cost`` the link's own IGP cost.
        """
        for end in (a, b):
            if end not in self._nodes:
                raise ValueError(f"link end {end!r} is not a node")
        auto = f"{a}--{b}"
        name = unique_name(auto, self._link_names)
        link: dict[str, Any] = {"a": a, "b": b}
        if name != auto:
            link["name"] = name
        if bandwidth is not None:
            link["bandwidth"] = UNKNOWN_BANDWIDTH if bandwidth == UNKNOWN_BANDWIDTH else bandwidth_text(float(bandwidth))
        if latency is not None:
            link["latency"] = latency_text(latency)
        if cost is not None:
            link["cost"] = cost
        self._links.append(link)
        self._by_name[name] = link
        return name

    def set_bandwidth(self, link: str, bandwidth: float | str) -> None:
        """Give the added link called ``link`` its bandwidth (bit/s, or ``'unknown'``)."""
        self._by_name[link]["bandwidth"] = (UNKNOWN_BANDWIDTH if bandwidth == UNKNOWN_BANDWIDTH
                                            else bandwidth_text(float(bandwidth)))

    def add_traffic(self, src: str, dst: str, rate: float) -> None:
        """Add a one-way traffic demand of ``rate`` bits/s from ``src`` to ``dst``."""
        self._traffic.append({"service": SERVICE, "from": src, "to": dst, "rate": bandwidth_text(rate)})

    def choose_cost_model(self, given: str | None, unsized: int = 0, size: str = "none") -> None:
        """The plan's cost model: ``given`` (``--cost``), else bandwidth, else hop when ``unsized`` links have no
        bandwidth to price; ``file`` leaves it to the links' own costs. Says which and why in the assumptions."""
        if given == "file":
            self.cost_model = None
            return
        cost = given or ("hop" if unsized else "bandwidth")
        if cost == "bandwidth" and unsized:
            raise ImporterError(f"--cost bandwidth cannot price the {unsized} links --size {size} leaves unsized "
                                "(they have no bandwidth); use --cost hop (the default with --size none) or --cost file")
        self.cost_model = cost
        how = f"--cost {cost}" if given else "the default"
        if cost == "hop":
            why = ", since links left unsized have no bandwidth to price" if not given else ""
            self.note(f"Link cost model: hop ({how}{why}; the plan says routing: {{cost: hop}}): every link costs 1, "
                      "so traffic takes the fewest hops whatever the bandwidths.")
        else:
            self.note(f"Link cost model: bandwidth ({how}, the plan format's; the plan says routing: {{cost: bandwidth, "
                      "reference_bandwidth: 100G}): a link costs 100G ÷ its bandwidth, at least 1, as OSPF's "
                      "auto-cost, so traffic prefers fast links to few hops; --cost hop would route on the fewest hops.")

    def set_service_title(self, title: str) -> None:
        self._service_title = title

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain data, sections in the order a reader expects."""
        plan: dict[str, Any] = {"name": self.name}
        if self.title:
            plan["title"] = self.title
        if self.description:
            plan["description"] = self.description
        assumptions = [*self.assumptions, CARRIER_NOTE + (REGIONS_NOTE if self._regions else "")]
        plan["assumptions"] = assumptions
        plan["policies"] = [CARRIER_PACK]
        plan["domains"] = {DOMAIN: {"kind": "extranet", "title": "imported network", "pool": str(self._pool())}}
        plan["sites"] = {self.root_site: self._site_tree()}
        plan["defaults"] = {
            "node": {"role": "router", "domain": DOMAIN, "site": self.root_site},
            "link": {"bandwidth": DEFAULT_BANDWIDTH, "latency": DEFAULT_LATENCY, "medium": MEDIUM},
        }
        if self.cost_model == "bandwidth":
            plan["routing"] = {"cost": "bandwidth", "reference_bandwidth": bandwidth_text(REFERENCE_BANDWIDTH)}
        elif self.cost_model is not None:
            plan["routing"] = {"cost": self.cost_model}
        plan["nodes"] = {name: dict(node) for name, node in self._nodes.items()}
        plan["links"] = [dict(link) for link in self._links]
        if self._traffic:
            plan["services"] = {SERVICE: {"kind": "data", "rate": self._service_rate(), "title": self._service_title}}
            plan["traffic"] = [dict(t) for t in self._traffic]
        return plan

    def _site_tree(self) -> dict[str, Any]:  # regions as sites for drawing and selection, see REGIONS_NOTE
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
