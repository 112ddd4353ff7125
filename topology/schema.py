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
    domain_kinds: {name: {like: <built-in kind>, title, description}}
    domains:   {name: {kind, clearance, trust, pool}}
    sites:     {name: {level, children: {...}, generate: {count, name}}}
    phases:    {一期: {start: 2005-01, end: 2006-06}, 二期: {...}}
    defaults:  {node: {...}, link: {...}}
    groups:    {name: {role, domain, ...}}      # nodes say group: name
    templates: {name: {nodes, links, stars, aggregations}}
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

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from .units import parse_bandwidth, parse_delay, parse_port_range

CLASSIFICATIONS = ("非涉密", "秘密", "机密", "绝密")
LEVELS = ("province", "prefecture", "county", "township", "village")
LEVEL_NAMES_CN = {"province": "省", "prefecture": "州/市", "county": "县", "township": "乡镇", "village": "村"}
ROLES = (
    "core_router", "router", "aggregation", "access_switch", "switch", "firewall",
    "one_way_gateway", "vpn_gateway", "server", "host", "mcu", "cloud",
)
MEDIA = ("lan", "leased_fibre", "carrier_line", "internet", "wireless")
KNOWN_DOMAIN_KINDS = ("party_private", "intranet", "extranet", "internet", "dmz")  # the built-in domain kinds
DOMAIN_KIND_PATTERN = r"^[a-z][a-z0-9_]*$"
SERVICE_KINDS = ("video", "document_exchange", "email", "approval", "internet", "voip", "vod", "data", "custom")
PROTOCOLS = ("ip", "tcp", "udp", "icmp", "esp", "gre")

Classification = Literal["非涉密", "秘密", "机密", "绝密"]
Level = Literal["province", "prefecture", "county", "township", "village"]
Role = Literal[
    "core_router", "router", "aggregation", "access_switch", "switch", "firewall",
    "one_way_gateway", "vpn_gateway", "server", "host", "mcu", "cloud",
]
Medium = Literal["lan", "leased_fibre", "carrier_line", "internet", "wireless"]
Protocol = Literal["ip", "tcp", "udp", "icmp", "esp", "gre"]
Name = Annotated[str, Field(min_length=1, max_length=200)]
BuiltinKind = Literal["party_private", "intranet", "extranet", "internet", "dmz"]
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

    like: BuiltinKind = Field(description="the built-in kind whose rules this kind takes")
    title: str | None = None
    description: str | None = None


class DomainSpec(Strict):
    """A security domain (安全域): one network that must be kept apart from others."""

    kind: Annotated[str, Field(pattern=DOMAIN_KIND_PATTERN, description=
                               "party_private (党委专网), intranet (政务内网), extranet (政务外网), internet, dmz, "
                               "or a kind the plan declares under domain_kinds")]
    title: str | None = None
    clearance: Classification = "非涉密"
    trust: Literal["trusted", "untrusted"] | None = Field(None, description="untrusted for media such as the internet; defaults by kind")
    pool: Prefix | None = Field(None, description="address pool that loopbacks and links of this domain are taken from")
    link_prefix: Annotated[int, Field(ge=24, le=31)] = 31
    owner: str | None = Field(None, description="who runs this network, e.g. 市委机要保密局")
    description: str | None = None


class GenerateSpec(Strict):
    """Generate ``count`` child sites, e.g. the townships of a county."""

    count: Annotated[int, Field(ge=1, le=10000)]
    name: str = "{parent}乡镇{i:02d}"
    level: Level | None = None
    templates: list[Name] = []
    phase: Name | None = Field(None, description="phase in which the generated sites are built")


class SiteSpec(Strict):
    """An administrative site (province, prefecture, county, township, village)."""

    level: Level | None = Field(None, description="defaults to one level below the parent")
    title: str | None = None
    children: dict[Name, "SiteSpec"] = {}
    generate: GenerateSpec | None = None
    templates: list[Name] = Field([], description="templates applied to this site besides its level's")
    phase: Name | None = None


class InterfaceSpec(Strict):
    address: Address | None = None
    acl_in: Name | None = None
    acl_out: Name | None = None
    vrf: Name | None = None
    nat: bool = Field(False, description="masquerade traffic leaving this interface (source NAT)")
    cost: Annotated[int, Field(ge=1, le=65535)] | None = None


class GatewaySpec(Strict):
    """A one-way gateway (网闸 / data diode): carries data only from one domain to another."""

    from_domain: Name = Field(alias="from")
    to_domain: Name = Field(alias="to")
    allow: list[Protocol] = ["tcp", "udp"]
    approved: bool = Field(False, description="an approved import device (may feed a classified domain)")


class RouteSpec(Strict):
    prefix: Prefix
    via: Name = Field(description="next hop: an IPv4 address or a neighbouring node's name")
    vrf: Name | None = None


class NodeFields(Strict):
    """Fields a node, a group and the node defaults share."""

    role: Role | None = None
    domain: Name | None = None
    site: Name | None = None
    phase: Name | None = None
    title: str | None = None
    classification: Classification | None = Field(None, description="highest classification of the data a server holds")
    services: list[Name] = Field([], description="services hosted here: document_exchange, video_mcu, mail, portal, approval, ...")
    default_action: Literal["deny", "permit"] | None = Field(None, description="what a firewall does with traffic no rule matches")
    vrf: Name | None = None
    tags: list[Name] = []
    lan: Prefix | None = Field(None, description="a LAN prefix this node originates (its office network)")


class NodeSpec(NodeFields):
    group: Name | list[Name] | None = None
    interfaces: dict[Name, InterfaceSpec] = {}
    gateway: GatewaySpec | None = None
    routes: list[RouteSpec] = []
    mcu_parent: Name | None = Field(None, description="for an MCU: the MCU above it in the video cascade")


class GroupSpec(NodeFields):
    inherit: list[Name] = []


class LinkAttrs(Strict):
    bandwidth: Bandwidth | None = None
    latency: Delay | None = None
    medium: Medium | None = None
    shared: bool | None = Field(None, description="a carrier shares this line with other customers")
    cost: Annotated[int, Field(ge=1, le=65535)] | None = None
    phase: Name | None = None
    domain: Name | None = Field(None, description="address pool for the link's subnet (default: domain of end a)")
    channel: bool | None = Field(None, description="false for a link outside the unified network channel (统一网络通道)")
    mtu: Annotated[int, Field(ge=576, le=9216)] | None = None


class LinkSpec(LinkAttrs):
    a: Name
    b: Name
    name: Name | None = None


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
    """A horizontal star (横向网): units around a core, one link each."""

    core: Name
    units: list[Name] = []
    count: Annotated[int, Field(ge=0, le=100000)] = 0
    name: str = Field("{core}单位{i:02d}", description="name pattern of generated units: {core} {site} {i}")
    role: Role = "host"
    domain: Name | None = None
    site: Name | None = None
    group: Name | None = None
    phase: Name | None = None
    link: LinkAttrs = LinkAttrs()


class AggregationSpec(Strict):
    """An aggregation node (二级节点/汇集点): nearby units share one line to the core."""

    name: Name
    core: Name
    members: list[Name]
    role: Role = "aggregation"
    member_role: Role = "host"
    group: Name | None = Field(None, description="group the aggregation node inherits from")
    member_group: Name | None = Field(None, description="group the member units inherit from")
    domain: Name | None = None
    site: Name | None = None
    phase: Name | None = None
    title: str | None = None
    uplink: LinkAttrs = LinkAttrs()
    member_link: LinkAttrs = LinkAttrs()


class TunnelSpec(Strict):
    name: Name
    kind: Literal["ipsec", "gre"] = "ipsec"
    a: Name
    b: Name
    encrypted: bool | None = Field(None, description="IPsec encrypts by default; GRE never does")
    protect: list[Prefix] = Field([], description="traffic selectors: destinations carried in the tunnel (default: LANs and loopbacks behind the far end)")
    cipher: Literal["AES-CBC", "AES-GCM", "NULL"] = "AES-CBC"
    phase: Name | None = None
    domain: Name | None = Field(None, description="the domain whose traffic the tunnel carries")


class VrfSpec(Strict):
    """A department VPN (专用网络区) on the extranet backbone."""

    title: str | None = None
    domain: Name | None = None
    import_: list[Name] = Field([], alias="import", description="VRFs whose routes this one imports (shared services)")


class RuleSpec(Strict):
    action: Literal["permit", "deny"]
    src: MatchPrefix = ipaddress.IPv4Network("0.0.0.0/0")
    dst: MatchPrefix = ipaddress.IPv4Network("0.0.0.0/0")
    proto: Protocol = "ip"
    sport: PortRange | None = None
    dport: PortRange | None = None
    icmp_type: Annotated[int, Field(ge=0, le=255)] | None = None
    description: str | None = None

    @field_validator("proto", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class ServiceSpec(Strict):
    kind: Literal["video", "document_exchange", "email", "approval", "internet", "voip", "vod", "data", "custom"]
    rate: Bandwidth
    packet_size: Annotated[int, Field(ge=40, le=9000)] = 1200
    protocol: Literal["tcp", "udp"] = "tcp"
    port: Annotated[int, Field(ge=1, le=65535)] = 443
    title: str | None = None
    max_delay: Delay | None = None
    one_way: bool = Field(False, description="the service only sends (e.g. an import through a one-way gateway): "
                                             "no answer is expected back, even over TCP")


class SelectorSpec(Strict):
    role: Role | None = None
    level: Level | None = None
    domain: Name | None = None
    site: Name | None = None
    name: str | None = Field(None, description="a glob on node names, e.g. '*财政局'")
    service: Name | None = Field(None, description="nodes hosting this service")
    tag: Name | None = Field(None, description="nodes carrying this tag")


class TrafficSpec(Strict):
    """Traffic of one service from every matching node to the node its pattern names."""

    service: Name
    from_: Name | SelectorSpec = Field(alias="from")
    to: str = Field(description="node name, may use the sender's {site} {parent} {province} {prefecture} {county}")
    rate: Bandwidth | None = None
    bidirectional: bool = False
    phase: Name | None = None


class PhaseSpec(Strict):
    title: str | None = None
    start: str | None = None
    end: str | None = None


class Defaults(Strict):
    node: NodeFields = NodeFields()
    link: LinkAttrs = LinkAttrs()


class TemplateSpec(Strict):
    """A reusable block, expanded once per site it applies to.

    Names and link ends may use ``{site}``, ``{parent}``, ``{level}`` and the
    names of the site's ancestors ``{province}``, ``{prefecture}``, ``{county}``.
    """

    use: list[Name] = []
    nodes: dict[str, NodeSpec] = {}
    links: list[LinkEntry] = []
    stars: list[StarSpec] = []
    aggregations: list[AggregationSpec] = []
    tunnels: list[TunnelSpec] = []


class WaiverSpec(Strict):
    """An accepted risk: findings of one rule, about the nodes of ``scope``, that do not fail the check."""

    rule: Name = Field(description="id of the rule whose findings are waived, e.g. DJ-NA-4")
    scope: Name = Field("*", description="the nodes it covers: a node selector (site:, domain:, role:, level:, "
                                         "service:, name:GLOB, a node name; terms joined by ',') or * for every node")
    reason: Text = Field(description="why the risk is accepted")
    approver: Text = Field(description="who accepted the risk")
    document: str | None = Field(None, description="number of the approval document")
    expires: Date = Field(description="last day the waiver holds, YYYY-MM-DD")


class ExpectSpec(Strict):
    """What a plan variant must give when checked: a planted fault says which rules it breaks."""

    fail: list[Name] = Field(description="ids of the rules that must fail (every other rule must not)")


class PlanSpec(Strict):
    name: Name
    title: str | None = None
    description: str | None = None
    assumptions: list[str] = Field([], description="planning assumptions: numbers the source plans do not give")
    include: list[Name] = []
    policies: list[Name] = []
    declined_policies: dict[Name, Text] = Field({}, description="built-in packs the plan does not take, and why")
    waivers: list[WaiverSpec] = []
    expect: ExpectSpec | None = Field(None, description="for a plan variant with a planted fault: the rules it must "
                                                        "fail (govnet check and the pytest plugin hold it to that)")
    domain_kinds: dict[KindName, DomainKindSpec] = {}
    default_phase: Name | None = None
    domains: dict[Name, DomainSpec] = {}
    sites: dict[Name, SiteSpec] = {}
    phases: dict[Name, PhaseSpec] = {}
    defaults: Defaults = Defaults()
    groups: dict[Name, GroupSpec] = {}
    templates: dict[Name, TemplateSpec] = {}
    level_templates: dict[Level, list[Name]] = {}
    nodes: dict[str, NodeSpec] = {}
    links: list[LinkEntry] = []
    stars: list[StarSpec] = []
    aggregations: list[AggregationSpec] = []
    tunnels: list[TunnelSpec] = []
    vrfs: dict[Name, VrfSpec] = {}
    acls: dict[Name, list[RuleSpec]] = {}
    services: dict[Name, ServiceSpec] = {}
    traffic: list[TrafficSpec] = []


SECTIONS_MERGED_AS_MAPS = ("domains", "sites", "phases", "groups", "templates", "nodes", "vrfs", "acls", "services",
                           "level_templates", "domain_kinds", "declined_policies")
SECTIONS_MERGED_AS_LISTS = ("links", "stars", "aggregations", "tunnels", "traffic", "assumptions", "policies", "waivers")


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
