"""The vocabulary of the domain, defined once: roles and what they do, levels, media, protocols,
classifications, domain kinds, service kinds and the severities of rules.

Every other module takes these names from here; the plan format's types
(:mod:`topology.schema`) are these literals, and the tuples are derived from
them, so a list can never drift from the type that validates it.

Roles: :data:`ROLE_TITLES` says what a node of each role is, and the role
sets say what it does: forwarding roles carry transit traffic, endpoints
(servers, hosts, MCUs) never do, controlled roles are boundary devices, and
a firewall denies transit by default. The plan format reference
(``docs/format.md``) shows them as one table.

Levels: :data:`LEVELS` is the administrative hierarchy, highest first: the
national centre (中央, 国家政务外网中心) above the provinces, then 省 → 市/州
→ 县 → 乡镇 → 村. Whatever compares or lists levels takes this tuple (a
site's parent is higher in it, the unified channel runs along it, coverage
climbs it), so a province below 中央 is as ordinary as a county below its
prefecture.

    >>> set(ROLE_TITLES) == set(ROLES)
    True
    >>> ROLE_TITLES["one_way_gateway"]
    'a one-way gateway (网闸 / data diode): its `gateway:` says the direction'
    >>> sorted(FORWARDING_ROLES & CONTROLLED_ROLES)
    ['firewall', 'one_way_gateway', 'vpn_gateway']
    >>> PROTO_NUMBERS["esp"], PROTO_NAMES[17]
    (50, 'udp')
    >>> LEVELS[:2], [LEVEL_NAMES_CN[level] for level in LEVELS]
    (('central', 'province'), ['中央', '省', '州/市', '县', '乡镇', '村'])
"""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["core_router", "router", "aggregation", "access_switch", "switch", "firewall",
               "one_way_gateway", "vpn_gateway", "server", "host", "mcu", "cloud"]
ROLES: tuple[Role, ...] = get_args(Role)
ROLE_TITLES: dict[Role, str] = {  # what a node of each role is
    "core_router": "the core of a level (核心交换平台)",
    "router": "an access or transit router",
    "aggregation": "an aggregation node (二级节点 / 汇集点)",
    "access_switch": "an access switch",
    "switch": "a LAN switch",
    "firewall": "a boundary firewall",
    "one_way_gateway": "a one-way gateway (网闸 / data diode): its `gateway:` says the direction",
    "vpn_gateway": "a VPN gateway (安全接入平台), a tunnel end",
    "cloud": "a public network (the internet) or a carrier",
    "server": "a server (`services:` portal, document_exchange ...)",
    "host": "a department, a unit, a PC",
    "mcu": "a video conference MCU",
}
FORWARDING_ROLES = frozenset({"core_router", "router", "aggregation", "access_switch", "switch", "firewall",
                              "one_way_gateway", "vpn_gateway", "cloud"})  # carry traffic for others
ENDPOINT_ROLES = frozenset(ROLES) - FORWARDING_ROLES  # end systems: send and receive, never transit
CONTROLLED_ROLES = frozenset({"firewall", "one_way_gateway", "vpn_gateway"})  # decide what crosses a boundary
DENY_BY_DEFAULT_ROLES = frozenset({"firewall"})  # pass only what a rule permits, even without an ACL
SERVICE_ROLES = frozenset({"server", "mcu"})  # end systems that offer services

Level = Literal["central", "province", "prefecture", "county", "township", "village"]
LEVELS: tuple[Level, ...] = get_args(Level)  # highest first
LEVEL_NAMES_CN = {"central": "中央", "province": "省", "prefecture": "州/市", "county": "县", "township": "乡镇",
                  "village": "村"}

Medium = Literal["lan", "leased_fibre", "carrier_line", "internet", "wireless"]
MEDIA: tuple[Medium, ...] = get_args(Medium)
UNTRUSTED_MEDIA = ("internet", "carrier_line")  # an outsider can read them; shared by default

Protocol = Literal["ip", "tcp", "udp", "icmp", "esp", "gre"]
PROTOCOLS: tuple[Protocol, ...] = get_args(Protocol)  # ``ip`` is any protocol
TCP, UDP, ICMP, GRE, ESP = 6, 17, 1, 47, 50
PROTO_NUMBERS = {"tcp": TCP, "udp": UDP, "icmp": ICMP, "gre": GRE, "esp": ESP}
PROTO_NAMES = {number: name for name, number in PROTO_NUMBERS.items()}
PORTED = (TCP, UDP)  # protocols with ports

EVERY_NODE = "*"  # the scope of a waiver that holds for every node

Classification = Literal["非涉密", "秘密", "机密", "绝密"]
CLASSIFICATIONS: tuple[Classification, ...] = get_args(Classification)  # lowest first: an index is a clearance level

DomainKind = Literal["party_private", "intranet", "extranet", "internet", "dmz"]
DOMAIN_KINDS: tuple[DomainKind, ...] = get_args(DomainKind)  # the built-in kinds
UNTRUSTED_KINDS = ("internet",)  # untrusted unless the plan says otherwise
DOMAIN_KIND_PATTERN = r"^[a-z][a-z0-9_]*$"  # how a plan's own kind is written

ServiceKind = Literal["video", "document_exchange", "email", "approval", "internet", "voip", "vod", "data", "custom"]
SERVICE_KINDS: tuple[ServiceKind, ...] = get_args(ServiceKind)

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)  # lowest first
