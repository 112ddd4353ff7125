"""The format reference: ``docs/format.md``, rendered from the plan's JSON Schema.

A planner learns the format from one page: how a plan works (roles, the
internet, ACLs, stars and aggregations, addresses, the video cascade, parts,
the pytest plugin, PLAN on the command line), the vocabulary, then one section
per plan section with its properties (type, default, description, all read
from :func:`topology.schema.plan_json_schema`) and a short example. The
examples of the sections (:data:`SECTION_EXAMPLES`, with the part
:data:`EXAMPLE_PARTS` the ``include`` example names) together make one small
plan, which the tests load (:func:`write_example_plan`), so no example can
drift from the format.

The page is deterministic: the same schema gives the same bytes. Regenerate
it with ``govnet schema --reference -o docs/format.md`` (or
``python -m topology.reference > docs/format.md``);
``tests/topology/test_reference.py`` fails when the file is out of date.

    >>> page = render_reference()
    >>> page.startswith("# The plan format") and page == render_reference()
    True
    >>> type_text({"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 9}})
    'list of integer 1–9'
    >>> default_text({"default": ["tcp", "udp"]}, required=False)
    '`[tcp, udp]`'
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from string import Template
from typing import Any

from pydantic import TypeAdapter

from . import vocabulary as vocab
from .addressing import AUTO_POOL_PREFIX, AUTO_POOL_SPACE
from .errors import GovnetError
from .expand.links import DEFAULT_BANDWIDTH, DEFAULT_LATENCY, REFERENCE_BANDWIDTH
from .loader import INCLUDE_BOUNDARY_SEARCH
from .schema import (
    SECTIONS_MERGED_AS_LISTS,
    SECTIONS_MERGED_AS_MAPS,
    Address,
    Bandwidth,
    Date,
    Delay,
    LinkBandwidth,
    PortRange,
    Prefix,
    plan_json_schema,
)
from .units import format_bandwidth

# Figures of the simulator and the pytest plugin the prose states. They live in packages that build on
# topology (simulator, policies), so they are repeated here; tests/topology/test_reference.py checks each
# against its source.
CASCADE_FACTOR = 1.2  # simulator.traffic.CASCADE_FACTOR
DEFAULT_VIDEO_RATE = 2e6  # simulator.traffic.DEFAULT_VIDEO_RATE
BOUNDARY_PENALTY = 1_000_000  # simulator.routing.BOUNDARY_PENALTY
DEFAULT_TTL = 64  # simulator.packets.DEFAULT_TTL
PLUGIN_PATTERNS = ("plan.yaml", "*.plan.yaml")  # policies.pytest_plugin.DEFAULT_PATTERNS
PLUGIN_FAIL_ON = "high"  # the default of --govnet-fail-on


EXAMPLE_PARTS = {
    "parts/video.yaml": """\
assumptions: [one video room per site at 2 Mb/s (720p)]
services:
  视频会议: {kind: video, rate: 2M, packet_size: 1200, protocol: udp, port: 5004, max_delay: 150ms}
""",
}

SECTION_EXAMPLES = {
    "name": "name: 示例县电子政务外网\n",
    "title": "title: 示例县电子政务外网规划 (every section of the format, once)\n",
    "description": """\
description: >
  县网管中心以星型横向网连接县级部门, 乡镇经纵向网上连; 互联网经防火墙接入, 默认拒绝。
""",
    "assumptions": """\
assumptions:
  - link bandwidths and address pools are planning assumptions (no source plan gives them)
""",
    "include": "include: [parts/video.yaml]    # a part: the video service and its assumption\n",
    "policies": "policies: [egov-baseline]      # built-in packs, or policy files beside the plan\n",
    "declined_policies": """\
declined_policies:
  djbh-l3: 等保定级为第二级, 按第二级测评
""",
    "waivers": """\
waivers:
  - rule: EGOV-COV-1
    scope: "site:示例县乡镇03"
    reason: 乡镇03 二期接入前暂不覆盖
    approver: 县网管中心
    document: 示电政〔2024〕12号
    expires: 2027-12-31
""",
    "approvals": """\
approvals:
  - {approves: "互联网入#1", unit: 县政府办公室, document: 示政办〔2024〕3号, date: 2024-03-01,
     note: 公众访问门户网站}
""",
    "expect": """\
expect:                        # a variant whose firewall lets tcp 3389 in must fail, and only this
  fail: [EGOV-LI-1]
""",
    "limits": """\
limits: {nodes: 400000, sites: 40000}   # the national plan: larger than the defaults on purpose
""",
    "allocations": """\
allocations:                   # written by govnet addresses (地址分配表), kept in a file of its own
  loopbacks: {县外网核心: 10.53.0.2/32}
  links: {县外网核心--乡镇01: 10.53.0.0/31}
""",
    "domain_kinds": """\
domain_kinds:
  gov_private: {like: intranet, title: 政府专网}
""",
    "domains": """\
domains:
  政务外网: {kind: extranet, pool: 10.53.0.0/16, owner: 县网管中心}
  政府专网: {kind: gov_private, pool: 10.153.0.0/16}     # a kind of the plan's own
  互联网: {kind: internet, pool: 198.51.100.0/24}         # untrusted by kind
""",
    "sites": """\
sites:
  示例市:
    level: prefecture
    children:
      示例县:                  # a county: one level below its parent
        generate:              # 示例县乡镇01 .. 03, each with two villages (nested: 示例县乡镇01村1 ..)
          {count: 3, name: "{parent}乡镇{i:02d}", phase: 二期, generate: {count: 2, name: "{parent}村{i}"}}
""",
    "phases": """\
phases:
  一期: {title: 县级横向网, start: 2024-01, end: 2024-12}
  二期: {title: 乡镇接入, start: 2025-01, end: 2025-12}
""",
    "defaults": """\
defaults:
  node: {domain: 政务外网}
  link: {medium: leased_fibre, bandwidth: 100M}
""",
    "routing": """\
routing: {cost: bandwidth, reference_bandwidth: 100G}   # the default; cost: hop prices every link at 1
""",
    "groups": """\
groups:
  部门: {role: host, services: [公文收发], tags: [部门]}
  服务器: {role: server, site: 示例县}
  门户: {inherit: [服务器], services: [portal]}
""",
    "templates": """\
templates:
  township:
    nodes:
      "{site}路由器": {role: router, phase: 二期, interfaces: {up: {acl_in: "{site}上联入"}}}
    links: ["{site}路由器:up -- {county}核心"]        # vertical uplink to the county
    stars: [{core: "{site}路由器", count: 2, name: "{site}站所{i}", group: 部门, phase: 二期}]
    acls:                      # one ACL per township, its name and rules filled there
      "{site}上联入":
        - {action: deny, proto: tcp, dst: "{site}站所1", dport: 23, description: "{site}站所1 不开 telnet"}
        - {action: permit}
""",
    "level_templates": """\
level_templates:
  township: [township]         # every township site gets the template
""",
    "nodes": """\
nodes:
  示例市核心: {role: core_router, site: 示例市}
  示例县核心: {role: core_router, site: 示例县}
  示例县防火墙:
    role: firewall             # denies transit unless an ACL permits it
    site: 示例县
    interfaces:
      inside: {}
      outside: {acl_in: 互联网入, nat: true}
  互联网: {role: cloud, domain: 互联网, site: 示例县}     # the internet
  示例县门户网站: {group: 门户}
  示例县公文交换中心: {group: 服务器, services: [document_exchange]}
  示例县视频会场: {role: host, site: 示例县}
  示例县视频MCU: {role: mcu, site: 示例县, mcu_parent: 示例市视频MCU}
  示例市视频MCU: {role: mcu, site: 示例市}
  示例县VPN网关: {role: vpn_gateway, site: 示例县, interfaces: {inside: {}, outside: {acl_in: VPN入}}}
  驻市办VPN网关: {role: vpn_gateway, site: 示例县, interfaces: {inside: {}, outside: {acl_in: VPN入}}}
  驻市办: {role: host, site: 示例县, lan: 10.53.200.0/24}       # the county's office in the city
""",
    "links": """\
links:
  - 示例县核心 -- 示例市核心                      # vertical uplink (纵向网)
  - [示例县防火墙:inside, 示例县核心]
  - {a: "示例县防火墙:outside", b: 互联网, medium: internet, bandwidth: 50M, domain: 互联网}
  - {a: 示例县门户网站, b: 示例县核心, medium: lan, bandwidth: 1G}
  - {a: 示例县公文交换中心, b: 示例县核心, medium: lan, bandwidth: 1G}
  - {a: 示例县视频会场, b: 示例县核心, medium: lan}
  - {a: 示例县视频MCU, b: 示例县核心, medium: lan}
  - {a: 示例市视频MCU, b: 示例市核心, medium: lan}
  - {a: "示例县VPN网关:inside", b: 示例县核心, medium: lan}
  - {a: "示例县VPN网关:outside", b: 互联网, medium: internet, domain: 互联网}
  - {a: "驻市办VPN网关:outside", b: 互联网, medium: internet, domain: 互联网}
  - {a: 驻市办, b: "驻市办VPN网关:inside", medium: lan}
""",
    "stars": """\
stars:
  - core: 示例县核心
    units: [示例县财政局, 示例县教育局]           # new nodes, each linked to the core
    count: 2
    name: "示例县部门{i:02d}"                     # 示例县部门01, 示例县部门02
    group: 部门
    link: {bandwidth: 10M}
""",
    "aggregations": """\
aggregations:
  - name: 示例县汇聚节点1                        # a new node
    core: 示例县核心
    members: [示例县民政局, 示例县卫生局]         # new nodes, linked to 示例县汇聚节点1
    member_group: 部门
    uplink: {bandwidth: 100M}
    member_link: {medium: lan}
""",
    "tunnels": """\
tunnels:
  - {name: 驻市办隧道, kind: ipsec, a: 驻市办VPN网关, b: 示例县VPN网关, domain: 政务外网, cipher: AES-GCM}
""",
    "risk_groups": """\
risk_groups:                   # what one event fails together: govnet capacity --failures risk-groups
  县网管中心机房: {nodes: [示例县核心, "site:示例县,role:firewall"], reason: 一个机房 (one machine room)}
  中国电信: {links: [示例县核心--示例市核心, {medium: internet}], reason: 上联和互联网线路同一运营商}
""",
    "vrfs": """\
vrfs:
  财政: {title: 县财政业务网, domain: 政务外网, import: [共享交换]}
  教育: {title: 县教育业务网, domain: 政务外网, import: [共享交换]}
  共享交换: {title: 共享交换平台, domain: 政务外网, import: [财政, 教育]}   # shared: both import it
""",
    "acls": """\
acls:
  互联网入:                     # bound by 示例县防火墙's interface outside (acl_in)
    - {action: permit, proto: tcp, dst: 示例县门户网站, dport: 443, description: 公众访问门户网站}
    - {action: deny, description: 其余一律拒绝}
  VPN入:                        # the VPN gateways' internet side: ESP to the gateways only
    - {action: permit, proto: esp, dst: 示例县VPN网关}
    - {action: permit, proto: esp, dst: 驻市办VPN网关}
    - {action: deny}
""",
    "services": """\
services:
  公文交换: {kind: document_exchange, rate: 2M, protocol: tcp, port: 443, title: 三级公文交换}
""",
    "traffic": """\
traffic:
  - {service: 公文交换, from: {tag: 部门}, to: "{county}公文交换中心"}    # each unit to its county's centre
  - {service: 视频会议, from: 示例县视频会场, to: 示例县视频MCU, bidirectional: true}
""",
}

VARIANT_SECTIONS = ("expect",)  # sections only a variant with a planted fault says

_NAMED_TYPES: dict[str, Any] = {  # annotated types of topology.schema shown by name instead of by structure
    "bandwidth": Bandwidth, "delay": Delay, "prefix": Prefix, "address/len": Address, "port or range": PortRange,
    "date": Date, "bandwidth or unknown": LinkBandwidth,
}
_VOCABULARY = (  # (label, anchor, values, what they are) of the closed lists the schema's enums come from
    ("role", "roles", vocab.ROLES, "what a node is (see [Roles](#roles))"),
    ("level", "levels", vocab.LEVELS, "administrative levels, highest first"),
    ("medium", "media", vocab.MEDIA, "what carries a link; untrusted (outsiders may read them): "
     + ", ".join(f"`{m}`" for m in vocab.UNTRUSTED_MEDIA)),
    ("protocol", "protocols", vocab.PROTOCOLS, "protocols of ACL rules and gateways; `ip` is every protocol"),
    ("classification", "classifications", vocab.CLASSIFICATIONS, "classifications of data, lowest first"),
    ("built-in kind", "domain-kinds", vocab.DOMAIN_KINDS, "built-in domain kinds; a plan adds its own kinds"),
    ("service kind", "service-kinds", vocab.SERVICE_KINDS, "kinds of service"),
)
_ANNOTATION_KEYS = ("description", "title", "default")
_DOC_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")


class FormatReferenceError(GovnetError):
    """The reference cannot be rendered: an example or a role note does not fit the schema."""


# -- types and defaults --------------------------------------------------------------------------------
def _strip(schema: Any) -> Any:
    """``schema`` without the keys that only annotate it (for comparing shapes)."""
    if isinstance(schema, dict):
        return {k: _strip(v) for k, v in schema.items() if k not in _ANNOTATION_KEYS}
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    return schema


def _signature(schema: Any) -> str:
    return json.dumps(_strip(schema), sort_keys=True, ensure_ascii=False)


def _named_shapes() -> dict[str, str]:
    """Signature of each named annotated type → its name."""
    return {_signature(TypeAdapter(kind).json_schema()): name for name, kind in _NAMED_TYPES.items()}


_SHAPES = _named_shapes()
_ENUMS = {frozenset(values): (label, anchor) for label, anchor, values, _ in _VOCABULARY}


def model_of(ref: str) -> str:
    """The model name a ``$ref`` points at: ``#/$defs/NodeSpec`` → ``NodeSpec``."""
    return ref.rsplit("/", 1)[-1]


def model_anchor(model: str) -> str:
    """The anchor of a model's heading ``### NodeSpec object``."""
    return f"{model.lower()}-object"


def _options(schema: Mapping[str, Any]) -> list[Any]:
    """The alternatives of an ``anyOf``, without ``null`` (an optional value is simply left out)."""
    return [o for o in schema.get("anyOf", ()) if o != {"type": "null"}]


def type_text(schema: Mapping[str, Any], nested: bool = False) -> str:
    """A property's type in words: ``list of prefix``, ``map of name → NodeSpec``, ``bandwidth``.

    A property's own ``description`` is the field's; only a ``nested`` alternative's describes its form.
    """
    if "anyOf" in schema:
        options = _options(schema)
        if len(options) == 1:
            return type_text(options[0], True)
        named = _SHAPES.get(_signature({"anyOf": options}))
        return named or " or ".join(type_text(o, True) for o in options)
    named = _SHAPES.get(_signature(schema))
    if named:
        return named
    if "$ref" in schema:
        name = model_of(schema["$ref"])
        return f"[{name}](#{model_anchor(name)})"
    if "enum" in schema:
        return _enum_text(schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        size = schema.get("minItems")
        counted = f"{size} " if size is not None and size == schema.get("maxItems") else ""
        items = schema.get("items", {})
        inner = type_text(items, True)
        return f"list of {counted}" + (f"({inner})" if len(_options(items)) > 1 else inner)
    if kind == "object":
        return _map_text(schema)
    if kind in ("integer", "number") and ("minimum" in schema or "maximum" in schema):
        return f"{kind} {schema.get('minimum', '')}–{schema.get('maximum', '')}"
    if nested and kind == "string" and "pattern" in schema and "description" in schema:
        return f"string ({schema['description']})"
    return str(kind or "any")


def _enum_text(values: Iterable[Any]) -> str:
    values = list(values)
    known = _ENUMS.get(frozenset(values))
    if known is not None and len(values) > 2:
        label, anchor = known
        return f"[{label}](#{anchor})"
    return "one of " + ", ".join(f"`{v}`" for v in values)


def _map_text(schema: Mapping[str, Any]) -> str:
    """``map of KEY → VALUE`` of an object schema with free keys."""
    keys = schema.get("propertyNames", {})
    if "enum" in keys:
        key = _enum_text(keys["enum"])
    elif schema.get("patternProperties"):
        key = "lower-case name"
    else:
        key = "name"
    values = schema.get("additionalProperties")
    if not isinstance(values, dict):
        values = next(iter(schema.get("patternProperties", {}).values()), {})
    return f"map of {key} → {type_text(values, True)}"


def _flow(value: Any) -> str:
    """A default value as YAML flow text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    return str(value)


def _compact(value: Any) -> Any:
    """``value`` without unset entries: a default model shows as ``{}``."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v not in (None, [], {}) and _compact(v) != {}}
    return value


def default_text(schema: Mapping[str, Any], required: bool) -> str:
    """The default column: **required**, — (not set: the description says what applies), or the value."""
    if required:
        return "**required**"
    if "default" not in schema or schema["default"] is None:
        return "—"
    return f"`{_flow(_compact(schema['default']))}`"


# -- markdown ------------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    """``text`` fit for one table cell."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;")


def doc_text(text: str) -> str:
    """A docstring as markdown paragraphs: RST ````code```` and ``:mod:`x``` become `` `code` ``."""
    text = _DOC_ROLE.sub(r"`\1`", text).replace("``", "`")
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n") if p.strip())


def _refs(schema: Any) -> list[str]:
    """The models a schema refers to, in order of appearance."""
    out: list[str] = []
    if isinstance(schema, dict):
        if "$ref" in schema:
            out.append(model_of(schema["$ref"]))
        for value in schema.values():
            out.extend(r for r in _refs(value) if r not in out)
    elif isinstance(schema, list):
        for value in schema:
            out.extend(r for r in _refs(value) if r not in out)
    return out


def _entry_model(schema: Mapping[str, Any]) -> str | None:
    """The model a section's value is made of (itself, its items or its values): the first it refers to."""
    return next(iter(_refs(schema)), None)


def property_table(model: Mapping[str, Any]) -> list[str]:
    """The rows of a model's properties: key, type, default, description."""
    required = set(model.get("required", ()))
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for key, prop in model.get("properties", {}).items():
        rows.append(f"| `{key}` | {_cell(type_text(prop))} | {default_text(prop, key in required)} | "
                    f"{_cell(prop.get('description', ''))} |")
    return rows


def _sentence(text: str) -> str:
    """A description as a sentence: capital first, full stop last."""
    text = text.strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def _default_phrase(schema: Mapping[str, Any], required: bool) -> str:
    """``required``, ``optional`` (no default: the description says what applies) or ``default `X```."""
    shown = default_text(schema, required)
    if required:
        return "required"
    return "optional" if shown == "—" else f"default {shown}"


def _merge_text(section: str) -> str:
    if section in SECTIONS_MERGED_AS_MAPS:
        return "merged by key across includes (a key twice is an error)"
    if section in SECTIONS_MERGED_AS_LISTS:
        return "appended across includes"
    return "set in one file only"


def _yaml_block(text: str) -> list[str]:
    return ["```yaml", *text.rstrip("\n").split("\n"), "```"]


def _section(name: str, prop: Mapping[str, Any], required: bool, defs: Mapping[str, Any],
             homes: Mapping[str, str], done: set[str]) -> list[str]:
    """One plan section: what it is, its type, its example, and the tables of the models it brings."""
    out = [f"## `{name}`", "", _sentence(prop.get("description", "")), "",
           f"Type: {' '.join(type_text(prop).split())}; {_default_phrase(prop, required)}; {_merge_text(name)}.", ""]
    out += _yaml_block(SECTION_EXAMPLES[name])
    if name == "include":
        for part, text in EXAMPLE_PARTS.items():
            out += ["", f"where `{part}` holds:", "", *_yaml_block(text)]
    queue = [m for m in _refs(prop) if homes.get(m) == name or m not in homes]
    while queue:
        model = queue.pop(0)
        if model in done:
            continue
        done.add(model)
        schema = defs[model]
        out += ["", f"### {model} object", "", doc_text(schema.get("description", "")), "", *property_table(schema)]
        queue += [m for m in _refs(schema.get("properties", {})) if m not in done and m not in homes]
    return out + [""]


def _homes(sections: Mapping[str, Any]) -> dict[str, str]:
    """Model → the section whose value it is first (its table is shown there)."""
    homes: dict[str, str] = {}
    for name, prop in sections.items():
        model = _entry_model(prop)
        if model is not None:
            homes.setdefault(model, name)
    return homes


# -- prose ---------------------------------------------------------------------------------------------
def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def roles_table() -> list[str]:
    """The roles and what each does, the columns from :mod:`topology.vocabulary`."""
    rows = ["| role | forwards | endpoint | controls a boundary | denies by default | what it is |",
            "|---|---|---|---|---|---|"]
    for role in vocab.ROLES:
        rows.append(f"| `{role}` | {_yes(role in vocab.FORWARDING_ROLES)} | {_yes(role in vocab.ENDPOINT_ROLES)} | "
                    f"{_yes(role in vocab.CONTROLLED_ROLES)} | {_yes(role in vocab.DENY_BY_DEFAULT_ROLES)} | "
                    f"{vocab.ROLE_TITLES[role]} |")
    return rows


def _rate(bps: float) -> str:
    """``1e9`` → ``1 Gbit/s``."""
    short = format_bandwidth(bps)
    return f"{short[:-1]} {short[-1]}bit/s" if short[-1].isalpha() else f"{short} bit/s"


HEADER = Template("""\
<!-- generated by topology/reference.py from topology/schema.py: do not edit;
     regenerate with `govnet schema --reference -o docs/format.md` -->

$description

Every section is checked strictly: an unknown key is an error with its line, column and the
key you meant. `govnet schema` gives the JSON Schema of a plan, `govnet schema --part` that of
an included part.

The examples of the sections below make one small plan together, which `govnet validate`
accepts (the tests load it); the example of $variants belongs in a variant of it with a
planted fault.
""")

PROSE = Template("""\
## How a plan works

### Roles

Every node has a `role`. A *forwarding* node carries traffic for others and takes part in
routing; an *endpoint* sends and receives but drops every transit packet; a node that
*controls a boundary* decides what crosses between networks. A firewall *denies by default*:
it passes a transit packet only when an ACL permits it. Any node that sets `default_action`
is a boundary in the same way.

$roles_table

### The internet is a node

The internet is not a keyword: it is a node of `role: cloud` in a domain of kind `internet`
(untrusted by kind), standing at a site like every other node. A cloud node of an untrusted
domain originates the default route 0.0.0.0/0 and takes delivery of every address the plan
does not own. Link it to the outside interface of a firewall with `medium: internet`, and
take the link's addresses from the internet's pool with `domain:` (see
[Addresses](#addresses)):

```yaml
domains: {互联网: {kind: internet, pool: 198.51.100.0/24}}
nodes:
  互联网: {role: cloud, domain: 互联网, site: 示例县}
links:
  - {a: "示例县防火墙:outside", b: 互联网, medium: internet, domain: 互联网}
```

### ACLs, default_action and the order of a hop

An ACL under `acls:` is a named, ordered list of rules and does nothing until an interface
names it: `acl_in` decides the packets arriving on the interface, `acl_out` those leaving it
(after routing; not the packets the node itself originates). The first rule that matches
decides; when none matches, the node's `default_action` decides, else the packet is denied.
A rule's `src` and `dst` are `any`, an address, a prefix or a node name (the node's addresses
and LAN). An ACL under a template's `acls:` is made at every site the template applies to, its
name and its rules' `src`, `dst` and `description` filled there like node names
(`"{site}互联网入"`, `dst: "{site}门户网站"`), and the template's interfaces name it the same way
(`acl_in: "{site}互联网入"`): each site's firewall gets its own rules from one template. ACL
names are unique across the plan, and `ACL#N` approves rule N of a made ACL as of any other.

A *boundary* (role `firewall`, or any node setting `default_action`) passes a transit packet
only if an ACL of one of the two interfaces it crosses permitted it; with no ACL on either,
its `default_action` decides (`deny` unless the plan says `permit`). A reply of a session the
node passed skips its ACLs (stateful). At each hop the decisions come in this order:

1. inbound ACL of the arrival interface;
2. NAT return: a reply to an address the node masqueraded to is translated back;
3. VRF of the arrival interface (a backbone link keeps the packet's VRF);
4. local delivery (an address of the node, its LAN, the default route of the internet
   cloud), and decapsulation of a tunnel ending here;
5. an endpoint drops a transit packet;
6. the TTL goes down by one (a packet lives for $ttl hops);
7. a destination in a tunnel's selector is encapsulated at the tunnel end;
8. route: longest prefix match in the VRF and the VRFs it imports; equal-cost next hops by
   a hash of the flow; none is `no_route`;
9. a one-way gateway checks direction and protocol;
10. outbound ACL of the egress interface;
11. boundary default, as above;
12. source NAT on an egress interface with `nat: true`.

### Stars and aggregations make new nodes

A star makes its units: each name under `units` and each of the `count` names of its `name`
pattern is a new node, linked to `core`. An aggregation makes its aggregation node `name` and
its `members`, all new nodes: every member links to the aggregation node, and the aggregation
node alone links to the core. A unit or member is not a node of `nodes` or of another star:
defining a name twice is an error. Give them fields through the star's or aggregation's own
keys, `group` / `member_group`, or `defaults.node`; what none of their own keys, groups and
star says of domain, site and phase they take from their core, before `defaults.node`.

### Addresses

Each domain owns an address pool (`pool`, else a free /$auto_prefix of $auto_space that
overlaps no given pool). Addresses the plan writes (an interface's `address`, a node's `lan`)
are reserved first. Then every link gets a subnet of the domain's `link_prefix` (/31 by
default) in the order the plan expands, then every node a /32 loopback from its own domain's
pool. A link's subnet comes from the pool of the link's `domain`, by default the domain of
its first end `a`: a link from a firewall of the extranet to the internet cloud takes
extranet addresses unless it says `domain: 互联网`. A link with a written address at either
end takes its subnet from that address and nothing from a pool.

### Links and routing

A link's bandwidth defaults to $bandwidth, its delay to $latency ms, its medium to `lan`;
`bandwidth: unknown` marks a link nobody has sized (what `govnet import --size none` leaves),
on which the capacity rules refuse to judge the plan (not applicable, never passed).
Routing is one link-state IGP per VRF over the forwarding nodes; a link costs its `cost`,
else what the plan's link cost model (`routing:`) gives: by default (`cost: bandwidth`)
`reference_bandwidth` ($reference unless set) ÷ bandwidth, at least 1, as OSPF's
auto-cost; with `cost: hop` 1 for every link, so routes take the fewest hops. Between two
domains a link costs $penalty more, so traffic never detours through another domain. A static route (`routes:`) is used by its own node and
redistributed as an external route, which loses to a prefix some node originates itself.

### The video cascade

Every MCU with an `mcu_parent` adds two demands, one up to the parent and one down from it,
each of $factor × the sum of the video rates of the sites below the MCU, its own included.
The sites of an MCU are the distinct senders of `video` flows into it, at their flow rate; an
MCU nobody sends video to counts as one room of its own at the plan's video rate (the rate of
the first `video` service, else $site_rate). A video flow the plan itself declares between an
MCU and its parent is replaced by the cascade demand (the larger rate kept). A prefecture MCU
with two county MCUs below it, each with one room of 2 Mb/s, and one room of its own:

```text
county MCU     -> prefecture MCU: $factor × 2 Mb/s           = $county_rate Mb/s, and back
prefecture MCU -> province MCU:   $factor × (2 + 2 + 2) Mb/s = $prefecture_rate Mb/s, and back
```

### Parts: the files a plan includes

A plan may `include:` files, relative to the including file, that stay inside the plan's
scenario folder (the folder of the nearest `plan.yaml`, at most $search folders up, so a
variant in `faults/` may include `../parts/`); each file is included once. A part holds the
same sections as a plan, none required, and never `name` (the plan's). Maps are merged by
key, a key defined twice being an error ($maps); lists are appended ($lists); every other
section is set in one file only. `govnet schema --part > part.schema.json` gives editors the
JSON Schema of a part, `govnet schema > plan.schema.json` that of a plan.

### Plans as pytest tests

Installing govnet registers a pytest plugin: `pytest scenarios/` collects every file named
$patterns (the ini option `govnet_plans` sets other patterns) and every other YAML file
(ini option `govnet_patterns`) whose top level has a `name:` and a section that describes a
network, so the variants in `faults/` are collected and parts and policy files are not. It
makes one test item per rule of the policies the plan names, plus the packs the law requires
of it; a plan with phases gives `RULE[phase]` items (`--govnet-phase`, default `all`). A
failing rule fails its item with its evidence; a failing rule below `--govnet-fail-on`
(default `$fail_on`) and a waived one are xfail; a rule that does not apply is skipped. A
variant that says `expect: {fail: [...]}` passes when exactly those rules fail.

### PLAN on the command line

A command's PLAN is a plan file or a scenario folder: a folder holding a `plan.yaml` means
that file (`govnet check scenarios/weihai`). Without PLAN a command uses the built-in default
scenario.
""")


def prose() -> list[str]:
    """The part that explains how the pieces of a plan work together (:data:`PROSE` with the code's figures)."""
    text = PROSE.substitute(
        roles_table="\n".join(roles_table()), ttl=DEFAULT_TTL, auto_prefix=AUTO_POOL_PREFIX,
        auto_space=AUTO_POOL_SPACE, bandwidth=_rate(DEFAULT_BANDWIDTH), latency=f"{DEFAULT_LATENCY * 1e3:g}",
        reference=_rate(REFERENCE_BANDWIDTH), penalty=f"{BOUNDARY_PENALTY:,}", factor=f"{CASCADE_FACTOR:g}",
        site_rate=_rate(DEFAULT_VIDEO_RATE), county_rate=f"{CASCADE_FACTOR * 2:g}",
        prefecture_rate=f"{CASCADE_FACTOR * 6:g}", search=INCLUDE_BOUNDARY_SEARCH,
        maps=", ".join(f"`{s}`" for s in SECTIONS_MERGED_AS_MAPS),
        lists=", ".join(f"`{s}`" for s in SECTIONS_MERGED_AS_LISTS),
        patterns=" or ".join(f"`{p}`" for p in PLUGIN_PATTERNS), fail_on=PLUGIN_FAIL_ON)
    return [*text.split("\n")]


def vocabulary_part() -> list[str]:
    """The closed lists the schema's enums come from."""
    intro = "The closed lists the schema's enumerations take their values from (`topology/vocabulary.py`)."
    out = ["## Vocabulary", "", f"{intro} Roles are in [Roles](#roles).", ""]
    for _label, anchor, values, note in _VOCABULARY:
        if anchor == "roles":
            continue
        out += [f"### {anchor.replace('-', ' ').capitalize()}", "", ", ".join(f"`{v}`" for v in values), "",
                _sentence(note), ""]
    return out


# -- the page ------------------------------------------------------------------------------------------
def check_examples(sections: Iterable[str]) -> None:
    """Every section has an example, and every example is of a section; raises FormatReferenceError."""
    names = list(sections)
    missing = [s for s in names if s not in SECTION_EXAMPLES]
    unknown = [s for s in SECTION_EXAMPLES if s not in names]
    if missing or unknown:
        raise FormatReferenceError(f"examples missing for {missing}, examples of unknown sections {unknown}")
    for name, text in SECTION_EXAMPLES.items():
        if not text.startswith(f"{name}:"):
            raise FormatReferenceError(f"the example of '{name}' must be that section alone")


def render_reference(schema: Mapping[str, Any] | None = None) -> str:
    """``docs/format.md``: the prose, the vocabulary and one section per plan section."""
    schema = schema if schema is not None else plan_json_schema()
    sections = schema["properties"]
    check_examples(sections)
    homes = _homes(sections)
    required = set(schema.get("required", ()))
    variants = ", ".join(f"`{s}`" for s in VARIANT_SECTIONS)
    lines = [
        "# The plan format", "",
        HEADER.substitute(description=doc_text(schema.get("description", "")), variants=variants).rstrip("\n"), "",
        "Sections: " + ", ".join(f"[`{s}`](#{s})" for s in sections) + ".", "",
        *prose(), *vocabulary_part(),
    ]
    done: set[str] = set()
    for name, prop in sections.items():
        lines += _section(name, prop, name in required, schema.get("$defs", {}), homes, done)
    return "\n".join(lines).rstrip("\n") + "\n"


def example_plan_text(variant: bool = False) -> str:
    """The examples of every section as one plan, in the order of the schema; the sections of a variant
    (:data:`VARIANT_SECTIONS`) only when ``variant``."""
    order = list(plan_json_schema()["properties"])
    check_examples(order)
    return "".join(SECTION_EXAMPLES[s] for s in order if variant or s not in VARIANT_SECTIONS)


def write_example_plan(folder: str | Path, variant: bool = False) -> Path:
    """Write the example plan (or its variant) and its parts into ``folder``; the path of its ``plan.yaml``."""
    root = Path(folder)
    for part, text in EXAMPLE_PARTS.items():
        (root / part).parent.mkdir(parents=True, exist_ok=True)
        (root / part).write_text(text, encoding="utf-8")
    plan = root / "plan.yaml"
    plan.write_text(example_plan_text(variant), encoding="utf-8")
    return plan


def main(argv: list[str] | None = None) -> int:
    """``python -m topology.reference``: print the reference (UTF-8) to stdout."""
    if argv:
        sys.stderr.write("usage: python -m topology.reference > docs/format.md\n")
        return 2
    sys.stdout.buffer.write(render_reference().encode("utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
