"""The plan format: what a YAML plan may say, as strict pydantic models.

A plan is written by hand, so the format borrows netlab's comfort (defaults
and groups that nodes inherit, links in compact forms, address pools,
templates that expand per site) and Kubernetes' strictness (every model
forbids unknown keys; the loader turns that into "did you mean" hints).
These models describe the plan *as written*; :mod:`topology.expand` turns it
into the immutable :class:`topology.model.Network`.

Sections of a plan (every one optional but ``name``)::

    name: 楚雄州电子政务外网
    include: [units.yaml]            # files merged in, inside the plan's folder
    policies: [egov-baseline]         # packs and policy files the plan must pass
    declined_policies: {djbh-l3: why the plan does not take it}
    waivers:   [{rule, scope, reason, approver, document, expires}]   # accepted risks
    approvals: [{approves, unit, document, date}]   # approved crossings: gateway, ACL#N, 'a -> b'
    domain_kinds: {name: {like: <built-in kind>, title, description}}
    domains:   {name: {kind, clearance, trust, pool}}
    sites:     {name: {level, children: {...}, generate: {count, name}}}
    phases:    {一期: {start: 2005-01, end: 2006-06}, 二期: {...}}
    defaults:  {node: {...}, link: {...}}
    routing:   {cost: bandwidth, reference_bandwidth: 100G}   # or cost: hop
    groups:    {name: {role, domain, ...}}      # nodes say group: name
    templates: {name: {nodes, links, stars, aggregations, tunnels, acls}}
    level_templates: {county: [name, ...]}      # applied to every site of a level
    nodes, links, stars, aggregations, tunnels, vrfs, acls, services, traffic

Links come in three forms: ``"a -- b"`` (optionally ``a:ifname``),
``[a, b]`` and a mapping with ``a``, ``b`` and link attributes.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from topology.selectors import DomainSelector

from .units import parse_bandwidth, parse_delay, parse_port_range
from .vocabulary import (
    DOMAIN_KIND_PATTERN,
    Classification,
    DomainKind,
    Level,
    Medium,
    Protocol,
    Role,
    ServiceKind,
)

Name = Annotated[str, Field(min_length=1, max_length=200)]
KindName = Annotated[str, Field(pattern=DOMAIN_KIND_PATTERN, max_length=100)]


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _date(value: Any) -> Any:
    """``YYYY-MM-DD`` as a date (YAML timestamps reach the schema as text)."""
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError(f"{value!r} is not a date like 2026-12-31")
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a real date ({exc})") from None
    return value


Text = Annotated[str, AfterValidator(_text)]
Date = Annotated[datetime.date, BeforeValidator(_date),
                 WithJsonSchema({"type": "string", "format": "date", "description": "YYYY-MM-DD"})]


def _prefix(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an IPv4 prefix like 10.53.0.0/16 ({exc})") from None
    return value


def _address(value: Any) -> Any:
    if isinstance(value, str):
        if "/" not in value:
            raise ValueError(f"{value!r} needs a prefix length, like 10.0.0.1/31")
        try:
            return ipaddress.IPv4Interface(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an IPv4 interface address ({exc})") from None
    return value


def _match_prefix(value: Any) -> Any:
    """``any``, an address, a prefix, or the name of a node (its addresses, resolved at expansion)."""
    if value == "any":
        return ipaddress.IPv4Network("0.0.0.0/0")
    if isinstance(value, str) and value.count(".") == 3 and value.replace(".", "").replace("/", "").isdigit():
        return _prefix(value if "/" in value else value + "/32")
    return value


def _ports(value: Any) -> Any:
    if value is None or isinstance(value, tuple):
        return value
    return parse_port_range(value)


_STRING = {"type": "string"}
Prefix = Annotated[ipaddress.IPv4Network, BeforeValidator(_prefix), WithJsonSchema({"type": "string", "format": "ipv4-network"})]
MatchPrefix = Annotated[ipaddress.IPv4Network | Name, BeforeValidator(_match_prefix),
                        WithJsonSchema({"type": "string", "description": "any, an address, a prefix or a node name"})]
Address = Annotated[ipaddress.IPv4Interface, BeforeValidator(_address), WithJsonSchema({"type": "string", "format": "ipv4-interface"})]
Bandwidth = Annotated[float, BeforeValidator(parse_bandwidth),
                      WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^[0-9.]+ ?[kMGT]?(bps|b/s)?$"}, {"type": "number"}],
                                      "description": "bits per second: 100M, 1G, 2.5G"})]


def _link_bandwidth(value: Any) -> Any:
    """A link's bandwidth, or ``unknown`` for a link left unsized."""
    if value == "unknown":
        return value
    try:
        return parse_bandwidth(value)
    except ValueError as exc:
        raise ValueError(f"{exc} (or unknown for a link not sized)") from None


LinkBandwidth = Annotated[float | Literal["unknown"], BeforeValidator(_link_bandwidth),
                          WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^[0-9.]+ ?[kMGT]?(bps|b/s)?$"},
                                                    {"type": "number"}, {"const": "unknown"}],
                                          "description": "bits per second: 100M, 1G, 2.5G; or unknown"})]
Delay = Annotated[float, BeforeValidator(parse_delay),
                  WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^[0-9.]+ ?(us|ms|s)?$"}, {"type": "number"}],
                                  "description": "one-way delay: 2ms, 150us (a plain number is milliseconds)"})]
PortRange = Annotated[tuple[int, int], BeforeValidator(_ports),
                      WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string", "pattern": r"^\d+(-\d+)?$"}]})]


class Strict(BaseModel):
    """Base of every plan model: unknown keys are errors, values are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class DomainKindSpec(Strict):
    """A plan's own domain kind: a name for a kind of network, taking the rules of a built-in kind."""

    like: DomainKind = Field(description="the built-in kind whose rules this kind takes: a rule selecting kind:LIKE "
                                         "also selects domains of this kind, and trust defaults as for LIKE")
    title: str | None = Field(None, description="the kind's name for people, e.g. 政府专网")
    description: str | None = Field(None, description="what networks of this kind are (free text)")


class DomainSpec(Strict):
    """A security domain (安全域): one network that must be kept apart from others."""

    kind: Annotated[str, Field(pattern=DOMAIN_KIND_PATTERN, description=
                               "party_private (党委专网), intranet (政务内网), extranet (政务外网), internet, dmz, "
                               "or a kind the plan declares under domain_kinds")]
    title: str | None = Field(None, description="the network's name for people, e.g. 电子政务外网 (reports)")
    clearance: Classification = Field("非涉密", description="highest classification of data the network is cleared "
                                                          "for; above 非涉密 the classified pack is always checked")
    trust: Literal["trusted", "untrusted"] | None = Field(None, description=
                                                          "untrusted: outsiders read and write it (links into it must "
                                                          "carry protected traffic encrypted; a cloud node of it "
                                                          "originates the default route); default untrusted for kind "
                                                          "internet (and kinds like it), else trusted")
    pool: Prefix | None = Field(None, description="address block of the domain: each node's /32 loopback and each "
                                                  "link's subnet come from it, in plan order; default a free /16 "
                                                  "of 10.128.0.0/9; pools must not overlap")
    link_prefix: Annotated[int, Field(ge=24, le=31)] = Field(31, description="prefix length of the link subnets taken "
                                                                             "from the pool (/31: both addresses used)")
    owner: str | None = Field(None, description="who runs this network, e.g. 市委机要保密局 (recorded, not checked)")
    description: str | None = Field(None, description="what the network is for (free text)")


class GenerateSpec(Strict):
    """Generate ``count`` child sites, e.g. the townships of a county."""

    count: Annotated[int, Field(ge=1, le=10000)] = Field(description="how many child sites to generate (1 to 10000)")
    name: str = Field("{parent}乡镇{i:02d}", description="name pattern of the generated sites: {i} counts from 1, "
                                                     "{parent} is this site; the names of its ancestors may be used")
    level: Level | None = Field(None, description="level of the generated sites; default one below this site's")
    templates: list[Name] = Field([], description="templates applied to each generated site besides its level's")
    phase: Name | None = Field(None, description="phase in which the generated sites are built; default this site's")
    generate: GenerateSpec | None = Field(None, description="sites generated below each generated site, the same way "
                                                            "(nested: the townships of every generated county)")


class SiteSpec(Strict):
    """An administrative site (province, prefecture, county, township, village)."""

    level: Level | None = Field(None, description="the site's level; default one below the parent's (a top-level "
                                                  "site: province); it must be below the parent's")
    title: str | None = Field(None, description="the site's name for people (reports, drawings)")
    children: dict[Name, SiteSpec] = Field({}, description="the sites below this one, by name (names are "
                                                           "unique across the plan)")
    generate: GenerateSpec | None = Field(None, description="child sites made from a name pattern, besides children")
    templates: list[Name] = Field([], description="templates applied to this site besides its level's "
                                                  "(level_templates), after them")
    phase: Name | None = Field(None, description="phase in which the site appears (default the first); the nodes "
                                                 "at it say their own phase")


class InterfaceSpec(Strict):
    """A named interface of a node: a link binds to it as ``node:NAME``; ACLs, VRF, NAT and cost are set here."""

    address: Address | None = Field(None, description="address with prefix length, e.g. 10.53.9.1/30; the link's "
                                                      "subnet is then this one (the other end gets a free host of it "
                                                      "unless it says its own) and nothing is taken from a pool")
    acl_in: Name | None = Field(None, description="ACL (a name under acls) deciding packets that arrive here: first "
                                                  "matching rule; no match = the node's default_action, else deny; "
                                                  "replies of sessions the node passed skip it")
    acl_out: Name | None = Field(None, description="ACL deciding packets that leave here, after routing (not the "
                                                   "packets the node originates itself)")
    vrf: Name | None = Field(None, description="VRF of this interface (default the node's); a link with a VRF on "
                                               "neither end is backbone, shared by every VRF")
    nat: bool = Field(False, description="masquerade packets leaving here to this interface's address (source NAT, "
                                         "after the ACLs); replies are translated back")
    cost: Annotated[int, Field(ge=1, le=65535)] | None = Field(None, description="IGP cost of leaving through this "
                                                                                 "interface; default the link's cost")


class GatewaySpec(Strict):
    """A one-way gateway (网闸 / data diode): carries data only from one domain to another."""

    from_domain: Name = Field(alias="from", description="domain it takes packets from: the neighbour a packet "
                                                        "arrives from must be in it")
    to_domain: Name = Field(alias="to", description="domain it passes packets into: the next hop must be in it; "
                                                    "nothing ever flows back, replies included")
    allow: list[Protocol] = Field(["tcp", "udp"], description="protocols it passes (ip: every protocol)")
    approved: bool = Field(False, description="an approved import device: the only way a packet may enter a "
                                              "classified domain")


class RouteSpec(Strict):
    """A static route: used by its own node, redistributed into the IGP as an external route."""

    prefix: Prefix = Field(description="destination prefix, e.g. 0.0.0.0/0; other routers use it only where no "
                                       "node originates the same prefix itself")
    via: Name = Field(description="next hop: an address of the plan or the name of a node linked to this one")
    vrf: Name | None = Field(None, description="VRF whose table holds the route (default the node's)")


class NodeFields(Strict):
    """Fields a node, a group and the node defaults share.

    A node's value of each field is its own, else its groups' (a later group over an earlier), else what
    its star or aggregation says of its units, else (domain, site and phase only) its core's, else
    ``defaults.node``.
    """

    role: Role | None = Field(default=None, description="what the node is (required, on the node, a group or defaults): "
                                                        "forwarding roles carry transit traffic, endpoints (server, host, "
                                                        "mcu) never do, a firewall denies transit by default")
    domain: Name | None = Field(default=None, description="security domain of the node (required); its loopback comes "
                                                          "from this domain's pool")
    site: Name | None = Field(default=None, description="site where the node stands (required); a node of a template "
                                                        "stands at the site the template is applied to")
    phase: Name | None = Field(default=None, description="phase in which the node is built (default the first); its "
                                                         "links, tunnels and flows exist from then on")
    title: str | None = Field(default=None, description="the node's name for people (reports, drawings)")
    classification: Classification | None = Field(default=None, description="highest classification of the data the node "
                                                                            "holds (default 非涉密); above its domain's "
                                                                            "clearance fails the classification rule")
    services: list[Name] = Field(default=[], description="what the node offers, as rules and selectors name it (portal, "
                                                          "document_exchange, video_mcu, mail, approval, data_centre ...); "
                                                          "not entries of services:")
    default_action: Literal["deny", "permit"] | None = Field(default=None, description=
                                                                     "makes the node a boundary: a transit packet passes "
                                                                     "only if an ACL of an interface it crosses permits it; "
                                                                     "with no ACL on either, this decides; also what an ACL "
                                                                     "of the node does when no rule matches (default deny)")
    vrf: Name | None = Field(default=None, description="VRF (department VPN) of the node and of its interfaces that name "
                                                       "none; its loopback and LAN are routed in it")
    tags: list[Name] = Field(default=[], description="free labels that selectors match with tag: (e.g. tag:key for "
                                                     "the redundancy rule)")
    lan: Prefix | None = Field(default=None, description="the office network behind the node: a prefix it originates and "
                                                         "takes delivery for; kept out of automatic allocation")


class NodeSpec(NodeFields):
    """A node: a router, switch, firewall, gateway, server, host, MCU or cloud."""

    group: Name | list[Name] | None = Field(None, description="group or groups whose fields the node takes where "
                                                              "it gives none (a later group wins)")
    interfaces: dict[Name, InterfaceSpec] = Field({}, description="named interfaces; a link end node:NAME binds to "
                                                                  "one; a link end without a name gets the next "
                                                                  "free e0, e1 ... in plan order")
    gateway: GatewaySpec | None = Field(None, description="the direction and protocols of a one-way gateway "
                                                          "(required for role one_way_gateway)")
    routes: list[RouteSpec] = Field([], description="static routes of this node")
    mcu_parent: Name | None = Field(None, description="for an MCU: the MCU above it in the video cascade; each such "
                                                      "pair carries 1.2 × the video of the sites below, both ways")


class GroupSpec(NodeFields):
    """Node fields shared by the nodes that name the group (``group:``)."""

    inherit: list[Name] = Field([], description="groups whose fields this group takes first, in order (its own "
                                                "win); cycles are errors")


class LinkAttrs(Strict):
    """Attributes of a link; what a link leaves out comes from ``defaults.link``, then the built-in defaults."""

    bandwidth: LinkBandwidth | None = Field(default=None, description=
                                                             "capacity in bit/s, e.g. 100M, 1G (default 1G); sets the "
                                                             "default cost under routing cost bandwidth; unknown: the "
                                                             "link is not sized (an import left it so), and the "
                                                             "capacity rules are not applicable while any link is")
    latency: Delay | None = Field(default=None, description="one-way delay, e.g. 2ms (default 1ms); a plain number is "
                                                            "milliseconds")
    medium: Medium | None = Field(default=None, description="what carries it (default lan); internet and carrier_line "
                                                            "are untrusted media: protected traffic must cross them "
                                                            "encrypted")
    shared: bool | None = Field(default=None, description="a carrier shares this line with other customers, so outsiders "
                                                          "may read it; default true for internet and carrier_line")
    cost: Annotated[int, Field(ge=1, le=65535)] | None = Field(default=None, description="IGP cost; default from the "
                                                                                         "plan's routing cost model "
                                                                                         "(100 Gbit/s ÷ bandwidth, at "
                                                                                         "least 1, unless routing says "
                                                                                         "otherwise); routing adds "
                                                                                         "1,000,000 between two domains")
    phase: Name | None = Field(default=None, description="phase in which the link is built; it exists from the latest of "
                                                         "this and its ends' phases")
    domain: Name | None = Field(default=None, description="domain whose pool gives the link's subnet (default the domain "
                                                          "of end a, the first end)")
    channel: bool | None = Field(default=None, description="false for a link outside the unified network channel "
                                                           "(统一网络通道), which the unified_channel rule fails; default true")
    mtu: Annotated[int, Field(ge=576, le=9216)] | None = Field(default=None, description="IP MTU in bytes (default "
                                                                                        "1500); govnet lab sets it on "
                                                                                        "the link's veth pair")


class LinkSpec(LinkAttrs):
    """A link between two nodes: ``"a -- b"``, ``[a, b]`` or a mapping with ``a``, ``b`` and attributes."""

    a: Name = Field(description="first end: a node, or node:IFNAME to bind an interface of it")
    b: Name = Field(description="second end: a node, or node:IFNAME")
    name: Name | None = Field(None, description="the link's name (default a--b, or a:if--b:if when two links "
                                                "join the same nodes)")


_LINK_TEXT = re.compile(r"^\s*(\S+)\s*(?:--|<->|—)\s*(\S+)\s*$")


def _link_from_compact(value: Any) -> Any:
    if isinstance(value, str):
        match = _LINK_TEXT.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a link; write 'a -- b' or 'a:ifname -- b:ifname'")
        return {"a": match.group(1), "b": match.group(2)}
    if isinstance(value, list):
        if len(value) != 2 or not all(isinstance(v, str) for v in value):
            raise ValueError("a link written as a list names exactly two endpoints, like [a, b]")
        return {"a": value[0], "b": value[1]}
    return value


LinkEntry = Annotated[LinkSpec, BeforeValidator(_link_from_compact)]


class StarSpec(Strict):
    """A horizontal star (横向网): units around a core, one link each.

    Every unit is a new node (defining it under ``nodes`` too is an error), linked to the core; the
    star's role, domain, site, phase and group are the units', below what the units' group says.
    """

    core: Name = Field(description="the node the units join (it must exist)")
    units: list[Name] = Field([], description="names of units to create, each a new node")
    count: Annotated[int, Field(ge=0, le=100000)] = Field(0, description="how many more units to create, named by "
                                                                         "the name pattern")
    name: str = Field("{core}单位{i:02d}", description="name pattern of the counted units: {i} counts from 1, "
                                                     "{core} is the core; in a template also {site} and the rest")
    role: Role = Field("host", description="role of the units")
    domain: Name | None = Field(None, description="domain of the units (default the core's)")
    site: Name | None = Field(None, description="site of the units (default the template's site, else the core's)")
    group: Name | None = Field(None, description="group the units take fields from")
    phase: Name | None = Field(None, description="phase in which the units and their links are built (default "
                                                 "the core's)")
    link: LinkAttrs = Field(LinkAttrs(), description="attributes of each unit's link to the core")


class AggregationSpec(Strict):
    """An aggregation node (二级节点/汇集点): nearby units share one line to the core.

    The aggregation node and its members are new nodes made here (not nodes of ``nodes``, not units of
    a star): each member links to the aggregation node, the aggregation node to the core.
    """

    name: Name = Field(description="name of the aggregation node, a new node created here")
    core: Name = Field(description="the node the aggregation node's one uplink joins")
    members: list[Name] = Field(description="names of the member units: new nodes (not units of a star, not "
                                            "under nodes), each linked to the aggregation node, not to the core")
    role: Role = Field("aggregation", description="role of the aggregation node")
    member_role: Role = Field("host", description="role of the members")
    group: Name | None = Field(None, description="group the aggregation node takes fields from")
    member_group: Name | None = Field(None, description="group the members take fields from")
    domain: Name | None = Field(None, description="domain of the aggregation node and its members (default the "
                                                  "core's)")
    site: Name | None = Field(None, description="site of the aggregation node and its members (default the "
                                                "template's site, else the core's)")
    phase: Name | None = Field(None, description="phase in which they and their links are built (default the "
                                                 "core's)")
    title: str | None = Field(None, description="the aggregation node's name for people")
    uplink: LinkAttrs = Field(LinkAttrs(), description="attributes of the link from the aggregation node to the core")
    member_link: LinkAttrs = Field(LinkAttrs(), description="attributes of each member's link to the aggregation node")


class TunnelSpec(Strict):
    """A site-to-site tunnel (IPsec ESP or GRE) between two nodes, carried over the network between them."""

    name: Name = Field(description="the tunnel's name, unique; in a template it may use {site} and the rest")
    kind: Literal["ipsec", "gre"] = Field("ipsec", description="ipsec (ESP, protocol 50) or gre (protocol 47, "
                                                               "never encrypted)")
    a: Name = Field(description="one endpoint node")
    b: Name = Field(description="the other endpoint node")
    encrypted: bool | None = Field(None, description="whether ESP encrypts; default true for ipsec; GRE never does")
    protect: list[Prefix] = Field([], description="traffic selector: destinations carried in the tunnel (default "
                                                  "the addresses and LANs of the nodes behind the far end, reached "
                                                  "over trusted domains)")
    cipher: Literal["AES-CBC", "AES-GCM", "NULL"] = Field("AES-CBC", description="ESP cipher; NULL leaves the "
                                                                               "payload readable (a clear tunnel)")
    phase: Name | None = Field(None, description="phase in which the tunnel comes up: the latest of this and its "
                                                 "endpoints' phases")
    domain: Name | None = Field(None, description="the domain whose traffic the tunnel carries (default each "
                                                  "endpoint's own); outer packets leave by the interface facing "
                                                  "an untrusted domain, else another domain")


class VrfSpec(Strict):
    """A department VPN (专用网络区) on the extranet backbone."""

    title: str | None = Field(None, description="the VPN's name for people, e.g. 县财政业务网")
    domain: Name | None = Field(None, description="the domain the VRF belongs to")
    import_: list[Name] = Field([], alias="import", description="VRFs whose routes this one also sees (route "
                                                               "leaking, e.g. to a shared exchange VRF)")


class RuleSpec(Strict):
    """One rule of an ACL: the first rule whose fields all match a packet decides it."""

    action: Literal["permit", "deny"] = Field(description="what the rule does with a packet it matches")
    src: MatchPrefix = Field(ipaddress.IPv4Network("0.0.0.0/0"), description="source: any, an address, a prefix "
                                                                            "or a node (its addresses and LAN)")
    dst: MatchPrefix = Field(ipaddress.IPv4Network("0.0.0.0/0"), description="destination: any, an address, a "
                                                                            "prefix or a node (its addresses and "
                                                                            "LAN)")
    proto: Protocol = Field("ip", description="protocol; ip matches every protocol")
    sport: PortRange | None = Field(None, description="source port or range, e.g. 1024-65535 (needs proto tcp "
                                                      "or udp); default any")
    dport: PortRange | None = Field(None, description="destination port or range, e.g. 443 (needs proto tcp or "
                                                      "udp); default any")
    icmp_type: Annotated[int, Field(ge=0, le=255)] | None = Field(None, description="ICMP type, e.g. 8 (echo "
                                                                                    "request; needs proto icmp); "
                                                                                    "default any")
    description: str | None = Field(None, description="what the rule is for (shown as evidence)")

    @field_validator("proto", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class ServiceSpec(Strict):
    """A kind of traffic the plan carries: its rate and packets; ``traffic`` says who sends it to whom."""

    kind: ServiceKind = Field(description="what the service is; the rate of the first video service is the "
                                          "per-site rate of the video cascade")
    rate: Bandwidth = Field(description="peak rate of one flow in bit/s at the IP layer, before tunnel overhead, "
                                        "e.g. 2M")
    packet_size: Annotated[int, Field(ge=40, le=9000)] = Field(1200, description="IP packet size in bytes (for "
                                                                                 "tunnel overhead and queues)")
    protocol: Literal["tcp", "udp"] = Field("tcp", description="transport protocol of its packets")
    port: Annotated[int, Field(ge=1, le=65535)] = Field(443, description="destination port of its packets")
    title: str | None = Field(None, description="the service's name for people")
    max_delay: Delay | None = Field(None, description="one-way delay limit of its flows (default the latency "
                                                      "rule's, 150ms)")
    one_way: bool = Field(False, description="the service only sends (e.g. an import through a one-way gateway): "
                                             "no answer is expected back, even over TCP")


class SelectorSpec(Strict):
    """A node selector (:mod:`topology.selectors`): every field given must hold."""

    node: Name | None = Field(None, description="exactly this node")
    name: str | None = Field(None, description="a glob on node names, e.g. '*财政局'")
    site: Name | None = Field(None, description="nodes at this site or at any site below it")
    domain: DomainSelector | None = Field(None, description="nodes of the domains this domain selector names "
                                                             "(a name, kind:K, trusted, classified ...)")
    role: Role | list[Role] | None = Field(None, description="nodes of this role (or of one of these)")
    level: Level | None = Field(None, description="nodes at sites of this level")
    service: Name | list[Name] | None = Field(None, description="nodes hosting this service (or one of these)")
    tag: Name | None = Field(None, description="nodes carrying this tag")


class TrafficSpec(Strict):
    """Traffic of one service from every matching node to the node its pattern names."""

    service: Name = Field(description="the service (a name under services) the flows carry")
    from_: Name | SelectorSpec = Field(alias="from", description="the senders: a node name, or a node selector "
                                                                "(one flow from every node it matches)")
    to: str = Field(description="the receiver: a node name; it may use the sender's {site}, {parent}, {level} and "
                                "ancestors {province} {prefecture} {county} {township}; a sender that is its "
                                "own receiver sends nothing")
    rate: Bandwidth | None = Field(None, description="rate of each flow in bit/s (default the service's rate)")
    bidirectional: bool = Field(False, description="also a flow from the receiver back to each sender")
    phase: Name | None = Field(None, description="phase from which the flows run: the latest of this and the "
                                                 "ends' phases")


class PhaseSpec(Strict):
    """A rollout phase; phases come in the order written, each with everything built before it."""

    title: str | None = Field(None, description="what the phase builds, e.g. 县级横向网")
    start: str | None = Field(None, description="when it starts, e.g. 2005-01 (shown in reports)")
    end: str | None = Field(None, description="when it ends, e.g. 2006-06 (shown in reports)")


class Defaults(Strict):
    """What nodes and links take when nothing closer says (the lowest rank)."""

    node: NodeFields = Field(default=NodeFields(), description="fields every node takes where it, its groups and its "
                                                               "star or aggregation give none")
    link: LinkAttrs = Field(default=LinkAttrs(), description="attributes every link takes where it gives none (star and "
                                                             "aggregation links too)")


class RoutingSpec(Strict):
    """The link cost model: what a link that gives no ``cost`` of its own costs the IGP.

    ``bandwidth`` (the default) is OSPF's auto-cost, ``reference_bandwidth`` ÷ the link's bandwidth
    (at least 1): routes prefer fast links. ``hop`` prices every link at 1: routes take the fewest
    hops whatever the bandwidths. A link's (or an interface's) own ``cost`` always wins.
    """

    cost: Literal["bandwidth", "hop"] = Field("bandwidth", description="bandwidth: reference_bandwidth ÷ the link's "
                                                                       "bandwidth, at least 1 (OSPF auto-cost); hop: "
                                                                       "every link costs 1 (fewest hops); a link's own "
                                                                       "cost always wins")
    reference_bandwidth: Bandwidth = Field(100e9, json_schema_extra={"default": "100G"},
                                           description="the bandwidth that costs 1 under cost bandwidth "
                                                       "(default 100G; OSPF's reference-bandwidth); not used by "
                                                       "cost hop")


class TemplateSpec(Strict):
    """A reusable block, expanded once per site it applies to.

    Names and link ends may use ``{site}``, ``{parent}``, ``{level}`` and the
    names of the site's ancestors by level: ``{province}``, ``{prefecture}``,
    ``{county}``, ``{township}``; so may the names of the template's ACLs, the
    text fields of their rules (``src``, ``dst``, ``description``) and the ACL
    names its nodes' interfaces give (``acl_in``, ``acl_out``).
    """

    use: list[Name] = Field([], description="templates applied with this one, before it (each once per site)")
    nodes: dict[str, NodeSpec] = Field({}, description="nodes by name pattern, e.g. '{site}核心'; they stand at "
                                                      "the site")
    links: list[LinkEntry] = Field([], description="links; ends may use the patterns, e.g. '{site}核心 -- "
                                                   "{parent}核心'")
    stars: list[StarSpec] = Field([], description="horizontal stars made at each site")
    aggregations: list[AggregationSpec] = Field([], description="aggregation nodes made at each site")
    tunnels: list[TunnelSpec] = Field([], description="tunnels made at each site")
    acls: dict[Name, list[RuleSpec]] = Field({}, description="ACLs made at each site, by name pattern, e.g. "
                                                             "'{site}互联网入'; a rule's src, dst and description "
                                                             "may use the patterns; names are unique across the "
                                                             "plan, so each site's must differ")


class WaiverSpec(Strict):
    """An accepted risk: findings of one rule, about the nodes of ``scope``, that do not fail the check."""

    rule: Name = Field(description="id of the rule whose findings are waived, e.g. DJ-NA-4")
    scope: Name = Field("*", description="the nodes it covers: a node selector as text (site:, domain:, role:, "
                                         "level:, service:, tag:, name:GLOB, node: or a bare node name; terms "
                                         "joined by ',' must all hold) or * for every node")
    reason: Text = Field(description="why the risk is accepted")
    approver: Text = Field(description="who accepted the risk")
    document: str | None = Field(None, description="number of the approval document, e.g. 楚电政〔2024〕12号")
    expires: Date = Field(description="last day the waiver holds, YYYY-MM-DD; an expired waiver never "
                                      "waives")


class ApprovalSpec(Strict):
    """An approval of a boundary crossing: what is approved, by which unit, with which document, on which day."""

    approves: Name = Field(description="what is approved: a gateway node (its name), an ACL rule as ACL-NAME#INDEX "
                                       "(1 = the first rule), or a crossing as 'from-domain -> to-domain'")
    unit: Text = Field(description="the unit that approved it, e.g. 市政府应急办")
    document: Text = Field(description="number of the approval document")
    date: Date = Field(description="day of the approval, YYYY-MM-DD")
    note: str | None = Field(None, description="what the approval says, in a few words")


class AllocationsSpec(Strict):
    """The address register (地址分配表): the addresses govnet handed out automatically, kept so they never move.

    Written by ``govnet addresses``; a plan that includes it keeps every listed
    node's loopback and link's subnet, whatever is added, removed or renamed
    elsewhere (new nodes and links get free addresses; a removed one's
    address stays reserved until the register is written again). An address
    written in the plan itself wins over the register.
    """

    loopbacks: dict[Name, Prefix] = Field({}, description="node name → its /32 loopback")
    links: dict[Name, Prefix] = Field({}, description="link name → its subnet (the a end takes the first address)")


class ExpectSpec(Strict):
    """What a plan variant must give when checked: a planted fault says which rules it breaks."""

    fail: list[Name] = Field(description="ids of the rules the variant must fail; every other rule must not "
                                         "fail (govnet's own tests hold each shipped fault to it)")


PLAN_LIMIT_CEILING = 2_000_000  # the most nodes, links or sites a plan may raise its own limits to


class LimitsSpec(Strict):
    """How large the plan may grow, raised above govnet's defaults by a plan that is that large on purpose.

    The defaults (see topology.expand.draft) keep every plan answered in seconds; a national plan names
    its size here, so that a mistyped count elsewhere is still refused before anything is built.
    """

    nodes: int | None = Field(None, ge=1, le=PLAN_LIMIT_CEILING,
                              description="the most nodes (and links) the plan may expand to")
    sites: int | None = Field(None, ge=1, le=PLAN_LIMIT_CEILING, description="the most sites the plan may have")


class LinkSelectorSpec(Strict):
    """Links chosen by their name, ends and medium: every field given must hold."""

    name: str | None = Field(None, description="a glob on link names, e.g. '*--楚雄州外网核心'")
    a: Name | SelectorSpec | None = Field(None, description="one end: a node name or a node selector; alone, every "
                                                            "link with an end it names")
    b: Name | SelectorSpec | None = Field(None, description="the other end, a node name or a node selector: with a, "
                                                            "the links from a node a names to one b names (either "
                                                            "way round)")
    medium: Medium | None = Field(None, description="only links of this medium, e.g. carrier_line")


class RiskGroupSpec(Strict):
    """A shared-risk group (共享风险组): links and nodes one event fails together.

    One carrier's lines, one conduit, one machine room: ``govnet capacity --failures risk-groups`` fails each
    group as one case, all its members at once (a failed node takes its links with it).
    """

    links: list[Name | LinkSelectorSpec] = Field([], description="its links: a link name, a glob on link names, or "
                                                                 "a link selector (name, a, b, medium); each entry "
                                                                 "must name at least one link")
    nodes: list[Name | SelectorSpec] = Field([], description="its nodes: a node selector as text (a node name, "
                                                             "name:GLOB, site:X,role:Y ...) or as a mapping; each "
                                                             "entry must name at least one node")
    reason: str | None = Field(None, description="what the members share, e.g. 中国电信 (one carrier), 中山路管道 "
                                                 "(one conduit), 州网管中心机房 (one machine room); reports show it")


class PlanSpec(Strict):
    """A network plan: one YAML file and the files it includes; every section is optional but ``name``."""

    name: Name = Field(description="the plan's name (required; reports and evidence carry it)")
    title: str | None = Field(None, description="a longer title for people")
    description: str | None = Field(None, description="what the plan is, in a few sentences (free text)")
    assumptions: list[str] = Field([], description="planning assumptions: the numbers no source gives (bandwidths, "
                                                   "addresses ...), listed in reports")
    include: list[Name] = Field([], description="files merged into the plan, relative to this file, inside the "
                                                "scenario folder, each once: maps merge by key (a key twice is an "
                                                "error), lists are appended, any other section is set in one file")
    policies: list[Name] = Field([], description="what govnet check and the pytest plugin check: built-in packs "
                                                 "(egov-baseline, classified, djbh-l3) or policy files beside the "
                                                 "plan; --policy replaces the list")
    declined_policies: dict[Name, Text] = Field({}, description="built-in packs the plan does not take, and why "
                                                                "(reports list them; a pack the law requires "
                                                                "cannot be declined)")
    waivers: list[WaiverSpec] = Field([], description="accepted risks: findings of a rule about some nodes that do "
                                                      "not fail the check until the waiver expires")
    approvals: list[ApprovalSpec] = Field([], description="approved boundary crossings (网络接入审批), each naming a "
                                                          "gateway, an ACL rule or a domain pair of the plan")
    expect: ExpectSpec | None = Field(None, description="for a plan variant with a planted fault: the rules it must "
                                                        "fail")
    limits: LimitsSpec | None = Field(None, description="the plan's own size limits, above the defaults "
                                                        "(GOVNET_MAX_NODES, GOVNET_MAX_SITES), for a plan that "
                                                        "large on purpose")
    allocations: AllocationsSpec | None = Field(None, description="the address register (地址分配表) govnet addresses "
                                                                  "writes: automatic addresses that must not move")
    domain_kinds: dict[KindName, DomainKindSpec] = Field({}, description="the plan's own domain kinds (lower-case "
                                                                         "names), each taking a built-in kind's "
                                                                         "rules")
    domains: dict[Name, DomainSpec] = Field({}, description="the security domains (安全域), by name")
    sites: dict[Name, SiteSpec] = Field({}, description="the administrative hierarchy: top-level sites and, below "
                                                        "them, children and generated sites")
    phases: dict[Name, PhaseSpec] = Field({}, description="rollout phases in order (default one phase, all)")
    defaults: Defaults = Field(Defaults(), description="fields every node and attributes every link take where "
                                                       "nothing closer says")
    routing: RoutingSpec = Field(RoutingSpec(), json_schema_extra={"default": {"cost": "bandwidth",
                                                                               "reference_bandwidth": "100G"}},
                                 description="the link cost model of the IGP: what a link without its own "
                                             "cost costs (default bandwidth: 100G ÷ bandwidth, as OSPF; hop: "
                                             "1 per link)")
    groups: dict[Name, GroupSpec] = Field({}, description="named sets of node fields that nodes take with group:")
    templates: dict[Name, TemplateSpec] = Field({}, description="reusable blocks of nodes, links, stars, "
                                                                "aggregations, tunnels and ACLs, expanded per "
                                                                "site")
    level_templates: dict[Level, list[Name]] = Field({}, description="templates applied to every site of a level, "
                                                                     "before the site's own templates")
    nodes: dict[str, NodeSpec] = Field({}, description="the nodes, by name (unique across the plan)")
    links: list[LinkEntry] = Field([], description="the links: 'a -- b', [a, b] or a mapping with attributes")
    stars: list[StarSpec] = Field([], description="horizontal stars (横向网): new units around a core")
    aggregations: list[AggregationSpec] = Field([], description="aggregation nodes (汇集点): new units sharing one "
                                                                "line to a core")
    tunnels: list[TunnelSpec] = Field([], description="IPsec and GRE tunnels between two nodes")
    risk_groups: dict[Name, RiskGroupSpec] = Field({}, description="shared-risk groups, by name: links and nodes "
                                                                   "one event fails together (one carrier, one "
                                                                   "conduit, one machine room); govnet capacity "
                                                                   "--failures risk-groups fails each as one case")
    vrfs: dict[Name, VrfSpec] = Field({}, description="department VPNs (VRFs), by name; interfaces and nodes join "
                                                      "them with vrf:")
    acls: dict[Name, list[RuleSpec]] = Field({}, description="access lists by name, each an ordered list of rules; "
                                                             "an interface applies one with acl_in or acl_out")
    services: dict[Name, ServiceSpec] = Field({}, description="the kinds of traffic, by name, with their rates")
    traffic: list[TrafficSpec] = Field([], description="who sends which service to whom: the flows the plan must "
                                                       "deliver and carry")


SECTIONS_MERGED_AS_MAPS = ("domains", "sites", "phases", "groups", "templates", "nodes", "vrfs", "acls", "services",
                           "level_templates", "domain_kinds", "declined_policies", "risk_groups")
SECTIONS_MERGED_AS_LISTS = ("links", "stars", "aggregations", "tunnels", "traffic", "assumptions", "policies", "waivers",
                            "approvals")


def plan_json_schema() -> dict[str, Any]:
    """JSON Schema of the plan format, with the compact link forms spelled out."""
    schema = PlanSpec.model_json_schema(by_alias=True)
    link_forms = {"anyOf": [
        {"type": "string", "pattern": r"^\S+\s*(--|<->)\s*\S+$", "description": "a -- b  or  a:if -- b:if"},
        {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
        {"$ref": "#/$defs/LinkSpec"},
    ]}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get("type") == "array" and node.get("items") == {"$ref": "#/$defs/LinkSpec"}:
                return {**node, "items": link_forms}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    schema = walk(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "govnet plan"
    return schema
