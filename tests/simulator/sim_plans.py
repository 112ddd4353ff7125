"""Small plans exercising one forwarding mechanism each (used by the simulator tests)."""

HEAD = """\
name: {name}
domains:
  d: {{kind: extranet, pool: 10.0.0.0/24}}
  inet: {{kind: internet, pool: 198.51.100.0/24}}
sites: {{s: {{}}}}
defaults: {{node: {{domain: d, site: s}}}}
"""


def head(name: str) -> str:
    return HEAD.format(name=name)


# r2 originates the LAN 10.1.0.0/16, the internet cloud the default route;
# r4 has a static route for that LAN via r1 although its direct link to r2 is shorter
LPM = head("lpm") + """\
nodes:
  h1: {role: host}
  r1: {role: router}
  r2: {role: router, lan: 10.1.0.0/16}
  r3: {role: router}
  r4:
    role: router
    routes: [{prefix: 10.1.0.0/16, via: r1}]
  h4: {role: host}
  isp: {role: cloud, domain: inet}
links:
  - h1 -- r1
  - {a: r1, b: r2, cost: 1}
  - r1 -- r3
  - {a: r3, b: isp, domain: inet}
  - {a: r4, b: r1, cost: 10}
  - {a: r4, b: r2, cost: 5}
  - h4 -- r4
"""

# two equal-cost paths r0 -> r3
ECMP = head("ecmp") + """\
nodes:
  h0: {role: host}
  r0: {role: router}
  r1: {role: router}
  r2: {role: router}
  r3: {role: router}
  h3: {role: host}
links:
  - h0 -- r0
  - {a: r0, b: r1, cost: 5}
  - {a: r0, b: r2, cost: 5}
  - {a: r1, b: r3, cost: 5}
  - {a: r2, b: r3, cost: 5}
  - h3 -- r3
"""

# a firewall between an outside host and two servers; inside -> outside NAT
FIREWALL = head("fw") + """\
nodes:
  out: {role: host, domain: inet}
  isp: {role: cloud, domain: inet}
  fw:
    role: firewall
    interfaces:
      outside: {acl_in: from-outside, nat: true}
      inside: {acl_in: from-inside}
  core: {role: router}
  web: {role: server}
  db: {role: server}
  pc: {role: host}
links:
  - {a: out, b: isp, domain: inet}
  - {a: "fw:outside", b: isp, domain: inet, medium: internet}
  - fw:inside -- core
  - web -- core
  - db -- core
  - pc -- core
acls:
  from-outside:
    - {action: permit, proto: tcp, dst: WEB, dport: 443}
    - {action: deny, proto: tcp, dst: WEB}
    - {action: permit, proto: icmp, dst: WEB, icmp_type: 8}
  from-inside:
    - {action: permit, proto: tcp, src: 10.0.0.0/24, dport: 443}
    - {action: permit, proto: udp, src: 10.0.0.0/24, dport: 53}
"""

# three VRFs over a backbone: A imports the shared-service VRF S, B does not
VRF = head("vrf") + """\
vrfs:
  A: {import: [S]}
  B: {}
  S: {import: [A]}
nodes:
  ha: {role: host, vrf: A}
  hb: {role: host, vrf: B}
  srv: {role: server, vrf: S}
  pe1:
    role: router
    interfaces: {toa: {vrf: A}, tob: {vrf: B}}
  p: {role: router}
  pe2:
    role: router
    interfaces: {tos: {vrf: S}}
links:
  - ha -- pe1:toa
  - hb -- pe1:tob
  - pe1 -- p
  - p -- pe2
  - srv -- pe2:tos
"""

# two sites joined by a tunnel over the internet
TUNNEL = head("tunnel") + """\
nodes:
  ha: {role: host}
  gwa:
    role: vpn_gateway
    interfaces: {wan: {acl_in: ina}, lan: {}}
  isp: {role: cloud, domain: inet}
  gwb:
    role: vpn_gateway
    interfaces: {wan: {acl_in: inb}, lan: {}}
  hb: {role: host}
links:
  - ha -- gwa:lan
  - {a: "gwa:wan", b: isp, medium: internet, domain: inet}
  - {a: "gwb:wan", b: isp, medium: internet, domain: inet}
  - hb -- gwb:lan
tunnels:
  - {name: t1, kind: KIND, a: gwa, b: gwb, domain: d, cipher: "CIPHER"}
acls:
  ina:
    - {action: permit, proto: PROTO}
    - {action: deny}
  inb:
    - {action: permit, proto: PROTO}
    - {action: deny}
"""


def tunnel_plan(kind: str = "ipsec", cipher: str = "AES-CBC", accept: str | None = None) -> str:
    proto = accept or ("esp" if kind == "ipsec" else "gre")
    return TUNNEL.replace("KIND", kind).replace("CIPHER", cipher).replace("PROTO", proto)


# a one-way gateway from the extranet to the intranet, UDP only
ONE_WAY = """\
name: oneway
domains:
  ext: {kind: extranet, pool: 10.0.0.0/24}
  int: {kind: intranet, pool: 10.9.0.0/24}
sites: {s: {}}
defaults: {node: {site: s}}
nodes:
  e1: {role: host, domain: ext}
  esw: {role: switch, domain: ext}
  gw:
    role: one_way_gateway
    domain: ext
    gateway: {from: ext, to: int, allow: [udp]}
  isw: {role: switch, domain: int}
  i1: {role: server, domain: int}
links:
  - e1 -- esw
  - esw -- gw
  - {a: gw, b: isw, domain: int}
  - i1 -- isw
"""

# a static routing loop, and a static route through a host
LOOP = head("loop") + """\
nodes:
  h: {role: host}
  r1:
    role: router
    routes: [{prefix: 10.9.0.0/16, via: r2}, {prefix: 10.8.0.0/16, via: pc}]
  r2:
    role: router
    routes: [{prefix: 10.9.0.0/16, via: r1}]
  pc: {role: host}
links:
  - h -- r1
  - r1 -- r2
  - pc -- r1
"""
