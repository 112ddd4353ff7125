"""Small plans used by the topology tests."""

SMALL = """\
name: small
domains:
  ext: {kind: extranet, pool: 10.53.0.0/16}
  inet: {kind: internet, pool: 203.0.113.0/24}
sites:
  云南省:
    children:
      楚雄州:
        children:
          双柏县: {generate: {count: 3}}
phases: {一期: {start: 2005-01}, 二期: {}}
defaults:
  node: {domain: ext}
  link: {bandwidth: 100M}
groups:
  routers: {role: router}
level_templates:
  county: [county]
  township: [town]
templates:
  county:
    nodes: {"{site}核心": {role: core_router}}
    links: ["{site}核心 -- {prefecture}核心"]
    stars: [{core: "{site}核心", count: 3, name: "{site}部门{i:02d}"}]
  town:
    nodes: {"{site}核心": {group: routers}}
    links: ["{site}核心 -- {county}核心"]
nodes:
  楚雄州核心: {role: core_router, site: 楚雄州}
  fw: {role: firewall, site: 楚雄州, default_action: deny, interfaces: {out: {acl_in: inet_in, nat: true}}}
  isp: {role: cloud, site: 楚雄州, domain: inet}
links:
  - 楚雄州核心 -- fw
  - {a: "fw:out", b: isp, medium: internet, phase: 二期, domain: inet}
aggregations:
  - {name: 汇聚1, core: 楚雄州核心, members: [州财政局, 州粮食局], site: 楚雄州}
acls:
  inet_in:
    - {action: permit, proto: tcp, dst: 10.53.0.0/16, dport: 443}
    - {action: deny}
services:
  doc: {kind: document_exchange, rate: 2M}
traffic:
  - {service: doc, from: {level: township}, to: "{county}核心"}
"""
