"""Plans for the capacity tests: hand-computable small cases and a generated province.

Every plan here is YAML text in the plan format; tests write it with
``tests.helpers.write_plan`` and load it with ``topology.load_plan``.
"""

from __future__ import annotations

import random

HEAD = """\
name: {name}
domains:
  ext: {{kind: extranet, pool: 10.0.0.0/8}}
sites:
  省: {{level: province}}
defaults:
  node: {{domain: ext, site: 省}}
"""

# A star: two hosts send 2 Mb/s each to a server behind one core router.
STAR = HEAD.format(name="star") + """\
nodes:
  core: {role: core_router}
  h1: {role: host}
  h2: {role: host}
  srv: {role: server}
links:
  - {a: h1, b: core, bandwidth: 10M, latency: 1ms}
  - {a: h2, b: core, bandwidth: 10M, latency: 1ms}
  - {a: srv, b: core, bandwidth: 5M, latency: 2ms}
services:
  doc: {kind: document_exchange, rate: 2M, packet_size: 1000}
traffic:
  - {service: doc, from: {role: host}, to: srv}
"""

# A chain with an ECMP diamond: r1 reaches r4 over r2 and r3 at equal cost,
# then r4 -- r5 is a plain chain.
#   h -- r1 <  r2  > r4 -- r5 -- s
#            \ r3 /
CHAIN_ECMP = HEAD.format(name="chain") + """\
nodes:
  h: {role: host}
  s: {role: server}
  r1: {role: router}
  r2: {role: router}
  r3: {role: router}
  r4: {role: router}
  r5: {role: router}
links:
  - {a: h, b: r1, bandwidth: 100M, cost: 1}
  - {a: r1, b: r2, bandwidth: 10M, cost: 10}
  - {a: r1, b: r3, bandwidth: 10M, cost: 10}
  - {a: r2, b: r4, bandwidth: 10M, cost: 10}
  - {a: r3, b: r4, bandwidth: 10M, cost: 10}
  - {a: r4, b: r5, bandwidth: 10M, cost: 10}
  - {a: r5, b: s, bandwidth: 100M, cost: 1}
services:
  bulk: {kind: data, rate: 8M, packet_size: 1400}
  back: {kind: data, rate: 2M, packet_size: 500}
traffic:
  - {service: bulk, from: h, to: s}
  - {service: back, from: s, to: h}
"""

# An IPsec tunnel between two gateways over a carrier line; a GRE variant below.
TUNNEL = HEAD.format(name="tunnel").replace("sites:", "  inet: {kind: internet, pool: 198.51.100.0/24}\nsites:") + """\
nodes:
  h: {role: host}
  gw1: {role: vpn_gateway}
  isp: {role: router, domain: inet}
  gw2: {role: vpn_gateway}
  s: {role: server}
links:
  - {a: h, b: gw1, bandwidth: 100M}
  - {a: gw1, b: isp, bandwidth: 10M, medium: internet, domain: inet}
  - {a: isp, b: gw2, bandwidth: 10M, medium: internet, domain: inet}
  - {a: gw2, b: s, bandwidth: 100M}
tunnels:
  - {name: t1, kind: KIND, a: gw1, b: gw2, domain: ext}
services:
  doc: {kind: document_exchange, rate: 4M, packet_size: 1000}
traffic:
  - {service: doc, from: h, to: s}
"""

# A video cascade: province MCU, a prefecture MCU with two county MCUs below it;
# county A has two terminals (1080p at 4 Mb/s), county B none (its own room).
CASCADE = HEAD.format(name="cascade") + """\
nodes:
  core: {role: core_router}
  pm: {role: mcu}
  fm: {role: mcu, mcu_parent: pm}
  ca: {role: mcu, mcu_parent: fm}
  cb: {role: mcu, mcu_parent: fm}
  t1: {role: host}
  t2: {role: host}
links: [pm -- core, fm -- core, ca -- core, cb -- core, t1 -- core, t2 -- core]
services:
  hd: {kind: video, rate: 4M, packet_size: 1200, protocol: udp, port: 5004}
traffic:
  - {service: hd, from: t1, to: ca}
  - {service: hd, from: t2, to: ca}
"""


def province_plan(prefectures: int = 3, counties: int = 3, units: int = 4, townships: int = 2,
                  town_hosts: int = 2, dual_homed: bool = True, uplink: str = "100M") -> str:
    """A generated province: province core pair, prefectures in a ring, counties as trees.

    Traffic: document exchange on three levels, e-mail to the prefecture, internet
    per unit, video along the MCU cascade. About ``prefectures × counties × (units
    + townships × (town_hosts + 1) + 3)`` nodes.
    """
    lines = [
        "name: province",
        "domains:",
        "  ext: {kind: extranet, pool: 10.0.0.0/8}",
        "  inet: {kind: internet, pool: 203.0.113.0/24}",
        "sites:",
        "  省:",
        "    level: province",
        "    children:",
    ]
    for p in range(prefectures):
        lines.append(f"      州{p:02d}:")
        lines.append(f"        generate: {{count: {counties}, name: '{{parent}}县{{i:02d}}'}}")
    lines += [
        "defaults:",
        "  node: {domain: ext}",
        "  link: {bandwidth: 1G}",
        "level_templates:",
        "  county: [county]",
        "templates:",
        "  county:",
        "    nodes:",
        "      '{site}核心': {role: core_router}",
        "      '{site}文档': {role: server, services: [document_exchange]}",
        "      '{site}MCU': {role: mcu, mcu_parent: '{prefecture}MCU'}",
    ]
    lines += [f"      '{{site}}镇{t:02d}': {{role: router}}" for t in range(townships)]
    lines += [
        "    links:",
        f"      - {{a: '{{site}}核心', b: '{{prefecture}}核心', bandwidth: {uplink}, latency: 2ms}}",
        "      - '{site}文档 -- {site}核心'",
        "      - '{site}MCU -- {site}核心'",
    ]
    lines += [f"      - {{a: '{{site}}镇{t:02d}', b: '{{site}}核心', bandwidth: 10M, latency: 3ms}}" for t in range(townships)]
    lines += [
        "    stars:",
        f"      - {{core: '{{site}}核心', count: {units}, name: '{{site}}单位{{i:02d}}', link: {{bandwidth: 100M}}}}",
    ]
    lines += [f"      - {{core: '{{site}}镇{t:02d}', count: {town_hosts}, name: '{{site}}镇{t:02d}户{{i}}', link: {{bandwidth: 10M}}}}"
              for t in range(townships)]
    lines += [
        "nodes:",
        "  省核心A: {role: core_router, site: 省}",
        "  省核心B: {role: core_router, site: 省}",
        "  省文档: {role: server, site: 省, services: [document_exchange, data_centre], tags: [key]}",
        "  省备份: {role: server, site: 省, services: [data_centre], tags: [key]}",
        "  省MCU: {role: mcu, site: 省}",
        "  互联网: {role: cloud, site: 省, domain: inet}",
        "  省防火墙: {role: firewall, site: 省, interfaces: {inside: {acl_in: 出向}}}",
    ]
    for p in range(prefectures):
        lines += [
            f"  州{p:02d}核心: {{role: core_router, site: 州{p:02d}}}",
            f"  州{p:02d}文档: {{role: server, site: 州{p:02d}, services: [document_exchange]}}",
            f"  州{p:02d}邮件: {{role: server, site: 州{p:02d}, services: [mail]}}",
            f"  州{p:02d}MCU: {{role: mcu, site: 州{p:02d}, mcu_parent: 省MCU}}",
        ]
    lines += [
        "links:",
        "  - {a: 省核心A, b: 省核心B, bandwidth: 10G}",
        "  - {a: 省文档, b: 省核心A, bandwidth: 1G}",
        "  - {a: 省文档, b: 省核心B, bandwidth: 1G}",
        "  - {a: 省备份, b: 省核心B, bandwidth: 1G}",
        "  - {a: 省MCU, b: 省核心A, bandwidth: 1G}",
        "  - {a: '省防火墙:inside', b: 省核心A, bandwidth: 1G}",
        "  - {a: 省防火墙, b: 互联网, bandwidth: 1G, medium: internet, domain: inet}",
    ]
    for p in range(prefectures):
        lines += [
            f"  - {{a: 州{p:02d}核心, b: 省核心A, bandwidth: 1G, latency: 5ms}}",
            f"  - 州{p:02d}文档 -- 州{p:02d}核心",
            f"  - 州{p:02d}邮件 -- 州{p:02d}核心",
            f"  - 州{p:02d}MCU -- 州{p:02d}核心",
        ]
        if dual_homed:
            lines.append(f"  - {{a: 州{p:02d}核心, b: 省核心B, bandwidth: 1G, latency: 5ms}}")
        if prefectures > 2:
            q = (p + 1) % prefectures
            lines.append(f"  - {{a: 州{p:02d}核心, b: 州{q:02d}核心, bandwidth: 1G, latency: 4ms}}")
    lines += [
        "acls:",
        "  出向: [{action: permit, proto: tcp, src: 10.0.0.0/8, dport: 443}, {action: deny}]",
        "services:",
        "  doc: {kind: document_exchange, rate: 1M, packet_size: 1200}",
        "  doc-up: {kind: document_exchange, rate: 10M, packet_size: 1400}",
        "  mail: {kind: email, rate: 500k, packet_size: 1000}",
        "  web: {kind: internet, rate: 1M, packet_size: 1200}",
        "  video: {kind: video, rate: 2M, packet_size: 1200, protocol: udp, port: 5004}",
        "traffic:",
        "  - {service: doc, from: {role: host, level: county}, to: '{county}文档', bidirectional: true}",
        "  - {service: doc-up, from: {name: '*县*文档'}, to: '{prefecture}文档', bidirectional: true}",
        "  - {service: doc-up, from: {name: '州*文档'}, to: 省文档, bidirectional: true}",
        "  - {service: mail, from: {role: host, level: county}, to: '{prefecture}邮件'}",
        "  - {service: web, from: {role: host, level: county}, to: 互联网}",
    ]
    return "\n".join(lines) + "\n"


def random_plan(seed: int, routers: int = 8, extra: int = 4, hosts: int = 6, flows: int = 10) -> str:
    """A random connected router graph (a tree plus ``extra`` edges) with hosts and flows between them.

    Costs are small integers, so equal-cost paths (ECMP) are common; some hosts
    are dual-homed. Used against the brute force in the tests.
    """
    rng = random.Random(seed)
    edges: dict[tuple[int, int], tuple[int, int]] = {}
    for child in range(1, routers):
        parent = rng.randrange(child)
        edges[(parent, child)] = (rng.randint(1, 3), rng.choice([10, 20, 50]))
    for _ in range(extra):
        a, b = rng.randrange(routers), rng.randrange(routers)
        if a != b and (min(a, b), max(a, b)) not in edges:
            edges[(min(a, b), max(a, b))] = (rng.randint(1, 3), rng.choice([10, 20, 50]))
    lines = [HEAD.format(name=f"random{seed}"), "nodes:"]
    lines += [f"  r{i}: {{role: router}}" for i in range(routers)]
    lines += [f"  h{j}: {{role: host}}" for j in range(hosts)]
    lines.append("links:")
    lines += [f"  - {{a: r{a}, b: r{b}, cost: {c}, bandwidth: {bw}M}}" for (a, b), (c, bw) in sorted(edges.items())]
    for j in range(hosts):
        first = rng.randrange(routers)
        lines.append(f"  - {{a: h{j}, b: r{first}, cost: 1, bandwidth: 100M}}")
        if rng.random() < 0.3:
            second = rng.randrange(routers)
            if second != first:
                lines.append(f"  - {{a: h{j}, b: r{second}, cost: 2, bandwidth: 100M}}")
    lines += ["services:", "  s: {kind: data, rate: 1M, packet_size: 1000}", "traffic:"]
    for _ in range(flows):
        a, b = rng.randrange(hosts), rng.randrange(hosts)
        if a != b:
            lines.append(f"  - {{service: s, from: h{a}, to: h{b}, rate: {rng.randint(1, 9)}M}}")
    return "\n".join(lines) + "\n"
