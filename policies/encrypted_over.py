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
- traffic between the domain's *islands* (the parts its trusted links keep
  together: a remote office behind the internet is an island) and along the
  domain's own untrusted links never crosses an untrusted link unencrypted.
  This is decided with the packet simulator: a representative packet is
  traced between each island and the main one, in both directions, along
  each untrusted link the domain owns, and for each declared traffic flow
  between two islands; a hop that leaves on an untrusted link with the
  domain's packet readable (not inside an encrypted tunnel) is a *clear hop*.
  A packet that is not delivered at all is not this rule's business (the
  coverage and logical-isolation rules judge reachability).

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

from collections import deque

from topology.errors import GovnetError
from topology.model import Link, Network, Tunnel

from .connectivity import component_labels, link_between
from .evidence import evidence_pcap, plural
from .model import Evidence, PolicyRule, RuleResult
from .params import Params
from .registry import Context, params_of, register
from .selectors import DomainSelector, describe_domain, is_public, select_domains

ENDPOINT_ROLES = ("host", "server", "mcu")
MAX_FLOW_TRACES = 200


class EncryptedOverParams(Params):
    domains: list[DomainSelector] = ["trusted"]
    media: list[str] = ["internet", "carrier_line"]
    shared: bool = True
    untrusted: list[DomainSelector] = ["public"]
    trace: bool = True


def untrusted_link(net: Network, link: Link, p: EncryptedOverParams, untrusted_domains: set[str]) -> bool:
    return (link.medium in p.media or (p.shared and link.shared)
            or net.nodes[link.a].domain in untrusted_domains or net.nodes[link.b].domain in untrusted_domains)


def tunnel_domain(net: Network, t: Tunnel) -> str | None:
    if t.domain:
        return t.domain
    da, db = net.nodes[t.a].domain, net.nodes[t.b].domain
    return da if da == db else None


@register("encrypted_over", params=EncryptedOverParams)
def evaluate(net: Network, rule: PolicyRule, context: Context) -> RuleResult:
    p = params_of(rule, EncryptedOverParams)
    untrusted = set(select_domains(net, p.untrusted)) | {d for d, dom in net.domains.items() if is_public(dom)}
    protected = [d for d in select_domains(net, p.domains) if d not in untrusted]
    if not protected:
        return RuleResult.not_applicable(rule, f"the plan has no protected network (one matching {', '.join(p.domains)} "
                                         "that is not untrusted)")
    bad_links = {l.name for l in net.links.values() if untrusted_link(net, l, p, untrusted)}
    evidence: list[Evidence] = []
    problems: list[str] = []

    # -- tunnels: endpoints and encryption -------------------------------------------
    misplaced = clear_tunnels = 0
    for t in net.tunnels.values():
        dom = tunnel_domain(net, t)
        ends = {t.a: net.nodes[t.a].domain, t.b: net.nodes[t.b].domain}
        carried = dom if dom is not None else next(iter(d for d in ends.values() if d in protected), None)
        if carried not in protected:
            continue
        wrong = [n for n, d in ends.items() if d != carried]
        if wrong:
            misplaced += 1
            evidence.append(Evidence(
                kind="tunnel",
                summary=(f"tunnel {t.name} carries {describe_domain(net, carried)} but ends at "
                         + ", ".join(f"{n} in {describe_domain(net, ends[n])}" for n in wrong)
                         + ": beyond that endpoint the traffic travels unprotected"),
                data={"tunnel": t.name, "a": t.a, "b": t.b, "domain": carried, "misplaced": wrong},
                marks=(t.mark,) + tuple(net.nodes[n].mark for n in wrong), subjects=(t.a, t.b)))
        if not t.encrypted:
            hop = _underlay_clear_link(net, t, bad_links)
            if hop is not None:
                clear_tunnels += 1
                why = "GRE does not encrypt" if t.kind == "gre" else (
                    "its cipher is NULL" if t.cipher == "NULL" else "it is declared unencrypted")
                evidence.append(Evidence(
                    kind="clear_hop",
                    summary=(f"tunnel {t.name} ({t.a} ⇄ {t.b}) carries {describe_domain(net, carried)} across "
                             f"{hop.medium} link {hop.name} in clear: {why}"),
                    data={"tunnel": t.name, "link": hop.name, "medium": hop.medium, "kind": t.kind, "cipher": t.cipher},
                    marks=(t.mark, hop.mark), subjects=(t.a, t.b)))
    if misplaced:
        problems.append(f"{plural(misplaced, 'tunnel')} ending outside the network it protects")
    if clear_tunnels:
        problems.append(f"{plural(clear_tunnels, 'unencrypted tunnel')} across untrusted links")

    # -- traffic: clear hops found by tracing ------------------------------------------
    clear_hops = 0
    if p.trace:
        seen_links: set[tuple[str, str]] = {(e.data.get("tunnel", ""), e.data.get("link", "")) for e in evidence}
        for src, dst, dom in _probe_pairs(net, protected, bad_links):
            found = _clear_hop(net, src, dst, bad_links, context)
            if found is None:
                continue
            t, index, link = found
            hop = t.hops[index]
            key = (hop.header.tunnel or "", link.name)  # a clear hop always has its header
            if key in seen_links:
                continue
            seen_links.add(key)
            clear_hops += 1
            evidence.append(_clear_hop_evidence(net, t, index, link, dom, context, (src, dst)))
        if clear_hops:
            problems.append(f"{plural(clear_hops, 'clear hop')} of protected traffic on untrusted links")

    if problems:
        return RuleResult.failed(rule, "; ".join(problems), evidence)
    scope = ", ".join(describe_domain(net, d) for d in protected)
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
    while parent[path[-1]] is not None:
        path.append(parent[path[-1]])  # type: ignore[arg-type]
    path.reverse()
    for u, v in zip(path, path[1:]):
        link = link_between(net, u, v)
        if link is not None and link.name in bad_links:
            return link
    return None


def _representative(net: Network, members: list[str]) -> str | None:
    """A node to send from or to: an end system if the island has one, else the first addressed node."""
    for roles in (ENDPOINT_ROLES, None):
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


def _clear_hop(net: Network, src: str, dst: str, bad_links: set[str], context: Context):
    from simulator.trace import trace

    try:
        t = trace(net, src, dst, proto="tcp", sport=40000, dport=443)
    except GovnetError:
        return None
    if not t.delivered:
        return None
    for index, hop in enumerate(t.hops):
        if hop.link is None or hop.link not in bad_links or hop.header is None:
            continue
        h = hop.header
        if h.inner is not None and h.tunnel in net.tunnels and net.tunnels[h.tunnel].encrypted:
            continue
        return t, index, net.links[hop.link]
    return None


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
    marks = (link.mark,)
    if clear_tunnel and clear_tunnel in net.tunnels:
        marks = (net.tunnels[clear_tunnel].mark, link.mark)
    pcap = evidence_pcap(t, context, f"clear-{t.src}-{t.dst}")
    if pcap:
        data["pcap"] = pcap
    return Evidence(
        kind="clear_hop",
        summary=(f"a packet of {describe_domain(net, dom)} from {t.src} to {t.dst} ({readable}) leaves {hop.node} "
                 f"over {link.medium} link {link.name} readable, {how}"),
        data=data, marks=marks, subjects=tuple(dict.fromkeys(ends)))


