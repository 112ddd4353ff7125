"""Rule kind ``encrypted_over``: a protected network never crosses an untrusted medium in clear.

Definition. A link is *untrusted* when its medium is one of ``media``
(default: internet, carrier_line), when the carrier shares it with other
customers (``shared``), or when one of its ends is a node of an untrusted
network (``untrusted``, default the public ones). For every protected domain
(``domains``, default every trusted one):

- every tunnel that carries the domain has both endpoints inside it (a tunnel
  ending on the internet side leaves the last stretch in clear), and a tunnel
  whose way between its endpoints crosses an untrusted link encrypts (IPsec
  with a real cipher, not GRE, not NULL);
- no packet of the domain (one that starts or ends in it, with neither end on
  an untrusted network) crosses an untrusted link unencrypted, whether or not
  it is delivered afterwards: the leak happens the moment the clear packet
  is on the wire. This is decided with the packet simulator, on
  (a) a representative packet traced between each *island* of the domain
  (the parts its trusted links keep together: a remote office behind the
  internet is an island) and the main one, both ways, and along each
  untrusted link the domain owns; (b) every branch of every declared demand
  (:attr:`simulator.load.DemandPath.clear`); (c) every address of a trusted
  node that a device at an untrusted link sends out over it unencapsulated
  by a static route, traced from the device and from other nodes of the domain. A hop that
  leaves on an untrusted link with the payload readable (not inside an
  encrypted tunnel) is a *clear hop*.

Evidence: the clear hop (link, packet, the trace up to it, a pcap when the
run has a pcap folder), or the misplaced or unencrypted tunnel.

Example (policy file)::

    - id: EGOV-VPN-1
      kind: encrypted_over
      severity: critical
      clause: 地方电子政务外网技术参考手册 (安全接入平台)
      params: {domains: [kind:extranet, kind:intranet]}
"""

from __future__ import annotations

import bisect
import itertools
from collections import deque

from simulator.forwarding import build_forwarding
from simulator.headerspace import ip_text, prefix_interval
from simulator.load import base_assignment, clear_trace, readable
from topology.errors import GovnetError, Mark
from topology.model import Link, Network, Tunnel, untrusted_links
from topology.selectors import is_public, select_domains
from topology.vocabulary import ENDPOINT_ROLES

from .connectivity import component_labels, link_between
from .evidence import evidence_pcap, plural
from .model import Evidence, PolicyRule, RuleResult
from .params import EncryptedOverParams
from .registry import Context, params_of, register

MAX_FLOW_TRACES = 200
MAX_LEAKS = 5          # addresses a device routes out in clear that are traced for evidence
MAX_LEAK_SOURCES = 20  # protected senders tried for each


def tunnel_domain(net: Network, t: Tunnel) -> str | None:
    if t.domain:
        return t.domain
    da, db = net.nodes[t.a].domain, net.nodes[t.b].domain
    return da if da == db else None


@register("encrypted_over")
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, EncryptedOverParams)
    untrusted = set(select_domains(net, p.untrusted)) | {d for d, dom in net.domains.items() if is_public(dom)}
    protected = [d for d in select_domains(net, p.domains) if d not in untrusted]
    if not protected:
        return RuleResult.not_applicable(rule, f"the plan has no protected network (one matching {', '.join(p.domains)} "
                                         "that is not untrusted)")
    bad_links = set(untrusted_links(net, p.media, p.shared, untrusted))
    evidence: list[Evidence] = []
    problems: list[str] = []

    # -- tunnels: endpoints and encryption -------------------------------------------
    misplaced = clear_tunnels = 0
    for tun in net.tunnels.values():
        dom = tunnel_domain(net, tun)
        ends = {tun.a: net.nodes[tun.a].domain, tun.b: net.nodes[tun.b].domain}
        carried = dom if dom is not None else next(iter(d for d in ends.values() if d in protected), None)
        if carried not in protected:
            continue
        wrong = [n for n, d in ends.items() if d != carried]
        if wrong:
            misplaced += 1
            evidence.append(Evidence(
                kind="tunnel",
                summary=(f"tunnel {tun.name} carries {net.domain_label(carried)} but ends at "
                         + ", ".join(f"{n} in {net.domain_label(ends[n])}" for n in wrong)
                         + ": beyond that endpoint the traffic travels unprotected"),
                data={"tunnel": tun.name, "a": tun.a, "b": tun.b, "domain": carried, "misplaced": wrong},
                marks=(tun.mark,) + tuple(net.nodes[n].mark for n in wrong), subjects=(tun.a, tun.b)))
        if not tun.encrypted:
            hop = _underlay_clear_link(net, tun, bad_links)
            if hop is not None:
                clear_tunnels += 1
                why = "GRE does not encrypt" if tun.kind == "gre" else (
                    "its cipher is NULL" if tun.cipher == "NULL" else "it is declared unencrypted")
                evidence.append(Evidence(
                    kind="clear_hop",
                    summary=(f"tunnel {tun.name} ({tun.a} ⇄ {tun.b}) carries {net.domain_label(carried)} across "
                             f"{hop.medium} link {hop.name} in clear: {why}"),
                    data={"tunnel": tun.name, "link": hop.name, "medium": hop.medium, "kind": tun.kind, "cipher": tun.cipher},
                    marks=(tun.mark, hop.mark), subjects=(tun.a, tun.b)))
    if misplaced:
        problems.append(f"{plural(misplaced, 'tunnel')} ending outside the network it protects")
    if clear_tunnels:
        problems.append(f"{plural(clear_tunnels, 'unencrypted tunnel')} across untrusted links")

    # -- traffic: clear hops found by tracing ------------------------------------------
    clear_hops = 0
    if p.trace:
        seen_links: set[tuple[str, str]] = {(e.data.get("tunnel", ""), e.data.get("link", "")) for e in evidence}

        def found(t, dom: str, ends: tuple[str, str]) -> None:
            nonlocal clear_hops
            index = _first_clear(net, t, bad_links)
            if index is None:
                return
            hop = t.hops[index]
            key = (hop.header.tunnel or "", hop.link)  # a clear hop always has its header
            if key in seen_links:
                return
            seen_links.add(key)
            clear_hops += 1
            evidence.append(_clear_hop_evidence(net, t, index, net.links[hop.link], dom, context, ends))

        for src, dst, dom in _probe_pairs(net, protected, bad_links):
            t = _trace(net, src, dst)
            if t is not None:
                found(t, dom, (src, dst))
        fw = build_forwarding(net)
        a = base_assignment(net)
        for demand, path in zip(a.demands, a.paths):  # every branch of every declared demand, delivered or not
            crossing = path.clear & bad_links
            dom = _protected_packet(net, demand.src, demand.dst, protected, untrusted)
            if crossing and dom is not None:
                t = clear_trace(fw, demand, crossing)
                if t is not None:
                    found(t, dom, (demand.src, demand.dst))
        for src, ip, dom in _edge_leaks(net, fw, protected, untrusted, bad_links):
            t = _trace(net, src, ip_text(ip))
            if t is not None:
                found(t, dom, (src, t.dst))
        if clear_hops:
            problems.append(f"{plural(clear_hops, 'clear hop')} of protected traffic on untrusted links")

    if problems:
        return RuleResult.failed(rule, "; ".join(problems), evidence)
    scope = ", ".join(net.domain_label(d) for d in protected)
    return RuleResult.passed(rule, f"no traffic of {scope} crosses an untrusted link in clear "
                             f"({plural(len(net.tunnels), 'tunnel')}, {plural(len(bad_links), 'untrusted link')})")


def _underlay_clear_link(net: Network, t: Tunnel, bad_links: set[str]) -> Link | None:
    """The first untrusted link on the physical shortest path between the tunnel's endpoints."""
    parent: dict[str, str | None] = {t.a: None}
    queue = deque([t.a])
    while queue:
        u = queue.popleft()
        if u == t.b:
            break
        for link in sorted(net.links_of(u), key=lambda l: l.name):
            v = link.other(u)
            if v not in parent:
                parent[v] = u
                queue.append(v)
    if t.b not in parent:
        return None
    path = [t.b]
    while (up := parent[path[-1]]) is not None:
        path.append(up)
    path.reverse()
    for u, v in itertools.pairwise(path):
        on_path = link_between(net, u, v)
        if on_path is not None and on_path.name in bad_links:
            return on_path
    return None


def _representative(net: Network, members: list[str]) -> str | None:
    """A node to send from or to: an end system if the island has one, else the first addressed node."""
    for roles in (sorted(ENDPOINT_ROLES), None):
        for name in sorted(members):
            node = net.nodes[name]
            if (roles is None or node.role in roles) and node.addresses:
                return name
    return None


def _probe_pairs(net: Network, protected: list[str], bad_links: set[str]) -> list[tuple[str, str, str]]:
    """(source, destination, domain) packets worth tracing, deterministic and deduplicated."""
    pairs: list[tuple[str, str, str]] = []
    for dom in protected:
        members = [n.name for n in net.nodes.values() if n.domain == dom]
        if not members:
            continue
        edges = [(l.a, l.b) for l in net.links.values()
                 if l.name not in bad_links and net.nodes[l.a].domain == dom and net.nodes[l.b].domain == dom]
        label = component_labels(members, edges)
        islands: dict[int, list[str]] = {}
        for name in members:
            islands.setdefault(label[name], []).append(name)
        ordered = sorted(islands.values(), key=lambda m: (-len(m), sorted(m)[0]))
        reps = [_representative(net, m) for m in ordered]
        main = reps[0] if reps else None
        for rep in reps[1:]:
            if main is not None and rep is not None:
                pairs += [(rep, main, dom), (main, rep, dom)]
        for link in net.links.values():
            if link.name in bad_links and net.nodes[link.a].domain == dom and net.nodes[link.b].domain == dom:
                ra = _representative(net, islands[label[link.a]]) or link.a
                rb = _representative(net, islands[label[link.b]]) or link.b
                if ra != rb:
                    pairs += [(ra, rb, dom), (rb, ra, dom)]
        seen_islands: set[tuple[int, int]] = set()
        for flow in net.flows:
            if len(seen_islands) >= MAX_FLOW_TRACES:
                break
            if flow.src not in label or flow.dst not in label:
                continue
            key = (label[flow.src], label[flow.dst])
            if key[0] == key[1] or key in seen_islands:
                continue
            seen_islands.add(key)
            pairs.append((flow.src, flow.dst, dom))
    out, seen = [], set()
    for pair in pairs:
        if pair[0] != pair[1] and pair[:2] not in seen:
            seen.add(pair[:2])
            out.append(pair)
    return out


def _trace(net: Network, src: str, dst: str):
    """The trace of a TCP 443 probe from ``src`` to a node or address (None when an end has no address)."""
    from simulator.trace import trace

    try:
        return trace(net, src, dst, proto="tcp", sport=40000, dport=443)
    except GovnetError:
        return None


def _first_clear(net: Network, t, bad_links: set[str]) -> int | None:
    """The first hop of ``t`` that leaves on an untrusted link with the payload readable, delivered or not."""
    for index, hop in enumerate(t.hops):
        if hop.link is not None and hop.link in bad_links and hop.header is not None and readable(net, hop.header):
            return index
    return None


def _protected_packet(net: Network, src: str, dst: str, protected: list[str], untrusted: set[str]) -> str | None:
    """The protected domain a packet from ``src`` to ``dst`` belongs to: it starts or ends in one, and neither
    end is on an untrusted network (traffic to the internet is the internet's)."""
    ds, dd = net.nodes[src].domain, net.nodes[dst].domain
    if ds in untrusted or dd in untrusted:
        return None
    return ds if ds in protected else (dd if dd in protected else None)


def _edge_leaks(net: Network, fw, protected: list[str], untrusted: set[str], bad_links: set[str]):
    """(source, destination address, domain) of packets a device at an untrusted link sends out in clear.

    For every forwarding node of a trusted network at an untrusted link, the
    addresses of trusted nodes (not their public, internet-facing ones) that
    it routes out over that link unencapsulated by a static route; for each, the first node of a
    protected network (the device itself first) whose packet really gets
    there, so that evidence is a real trace. Only the addresses inside one of
    the device's own static routes are looked up (no other can be sent out
    by one): normally none.
    """
    targets: list[tuple[int, str]] = []
    for node in net.nodes.values():
        if node.domain in untrusted:
            continue
        if node.loopback is not None:
            targets.append((int(node.loopback.ip), node.name))
        for iface in node.interfaces.values():
            peer = net.links[iface.link].other(node.name) if iface.link is not None and iface.link in net.links else None
            if iface.address is not None and (peer is None or net.nodes[peer].domain not in untrusted):
                targets.append((int(iface.address.ip), node.name))
        if node.lan is not None and node.lan.num_addresses > 2:
            targets.append((int(node.lan.network_address) + 1, node.name))
    sources = [n.name for n in net.nodes.values() if n.domain in protected]
    by_address = sorted(range(len(targets)), key=lambda i: targets[i][0])
    addresses = [targets[i][0] for i in by_address]
    out = []
    for name in sorted(bad_links, key=list(net.links).index):
        link = net.links[name]
        for end, ifname in ((link.a, link.a_if), (link.b, link.b_if)):
            ns = fw.nodes.get(end)
            if ns is None or not ns.forwarding or ns.domain in untrusted:
                continue
            vrf = fw.routing.vrf_of_interface(end, None)
            statics = [prefix_interval(prefix) for prefix, _, _ in fw.routing.statics.get(end, ())]
            covered = sorted({by_address[i] for lo, hi in statics  # only a static route of its own sends out so
                              for i in range(bisect.bisect_left(addresses, lo), bisect.bisect_right(addresses, hi))})
            leaking = [(ip, owner) for ip, owner in (targets[i] for i in covered) if owner != end
                       and _sends_out(fw.dst_decision(end, vrf, ip), ifname, fw, end, vrf, ip)]
            for ip, owner in leaking[:MAX_LEAKS]:
                dom = ns.domain if ns.domain in protected else net.nodes[owner].domain
                for src in [end, *sources][:MAX_LEAK_SOURCES]:
                    if src != owner and net.nodes[src].domain in protected:
                        out.append((src, ip, dom))
    return out


def _sends_out(decision, ifname: str, fw, node: str, vrf: str | None, ip: int) -> bool:
    """Whether ``node`` sends packets for ``ip`` out of ``ifname`` unencapsulated by a static route of its own.

    A static route is the planner's own statement of where a destination
    lies; one that sends a protected destination out over an untrusted link
    puts that traffic on the wire in clear. (Routes learnt by the IGP across
    an untrusted network are the simulator's simplification of reachability
    through it and are judged on real traffic, by the probes and demands.)
    """
    from simulator.forwarding import ROUTE

    if decision.kind != ROUTE or not any(h.out_if == ifname for h in decision.hops):
        return False
    route = fw.routing.lookup(node, ip, vrf)
    return route is not None and route.source == "static"


def _clear_hop_evidence(net: Network, t, index: int, link: Link, dom: str, context: Context,
                        ends: tuple[str, str]) -> Evidence:
    hop = t.hops[index]
    h = hop.header
    clear_tunnel = h.tunnel if h is not None and h.inner is not None else None
    readable = h.innermost() if h is not None else None
    how = f"inside unencrypted tunnel {clear_tunnel}" if clear_tunnel else "with no tunnel at all"
    data = {"link": link.name, "medium": link.medium, "node": hop.node, "hop": index + 1,
            "packet": readable.to_json() if readable is not None else None,
            "trace": t.to_json()}
    marks: tuple[Mark, ...] = (link.mark,)
    if clear_tunnel and clear_tunnel in net.tunnels:
        marks = (net.tunnels[clear_tunnel].mark, link.mark)
    pcap = evidence_pcap(t, context, f"clear-{t.src}-{t.dst}")
    if pcap:
        data["pcap"] = pcap
    return Evidence(
        kind="clear_hop",
        summary=(f"a packet of {net.domain_label(dom)} from {t.src} to {t.dst} ({readable}) leaves {hop.node} "
                 f"over {link.medium} link {link.name} readable, {how}"),
        data=data, marks=marks, subjects=tuple(dict.fromkeys(ends)))


