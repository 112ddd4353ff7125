"""An independent recomputation of link loads, for plans of routers and hosts in one domain.

Written from the routing rules, not from the simulator's code: networkx
shortest paths to the destination's attachment routers, traffic split
equally over every next hop on a shortest path (per hop, as routers do), a
host sending through its first link by (cost, name), a router attached to the
destination handing the traffic over directly (split over its links to it).
Used to check :mod:`simulator.load` and :mod:`simulator.failures` on generated
graphs and imported real topologies. No VRFs, static routes, tunnels or
boundary penalties: the plans given to it have none.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx

ROUTERS = ("router", "core_router", "aggregation", "switch", "access_switch", "firewall", "vpn_gateway", "cloud")


def brute_loads(net, demands, failed_links=(), failed_nodes=()):
    """(load per (link, direction), delivered share per demand index, orphaned demand indices)."""
    failed_links, failed_nodes = set(failed_links), set(failed_nodes)
    links = [l for l in net.links.values()
             if l.name not in failed_links and l.a not in failed_nodes and l.b not in failed_nodes]
    routers = {n for n, node in net.nodes.items() if node.role in ROUTERS and n not in failed_nodes}
    graph = nx.Graph()
    graph.add_nodes_from(routers)
    best: dict[frozenset, list] = {}
    attach: dict[str, list] = defaultdict(list)
    for l in links:
        if l.a in routers and l.b in routers:
            key = frozenset((l.a, l.b))
            if key not in best or l.cost < best[key][0].cost:
                best[key] = [l]
            elif l.cost == best[key][0].cost:
                best[key].append(l)
        elif l.a in routers or l.b in routers:
            host, router = (l.b, l.a) if l.a in routers else (l.a, l.b)
            attach[host].append((router, l))
    for key, ls in best.items():
        a, b = tuple(key)
        graph.add_edge(a, b, weight=ls[0].cost, links=sorted(ls, key=lambda l: l.name))
    loads: dict = defaultdict(float)
    delivered: dict[int, float] = {}
    orphaned = []
    distances: dict = {}

    def add(link, frm, amount):
        loads[(link.name, 0 if link.a == frm else 1)] += amount

    for i, d in enumerate(demands):
        if d.src in failed_nodes or d.dst in failed_nodes:
            orphaned.append(i)
            continue
        edges = []  # (link, from, share)
        start = d.src
        if d.src not in routers:
            own = sorted((l for l in links if d.src in l.ends), key=lambda l: (l.cost, l.name))
            direct = [l for l in own if l.other(d.src) == d.dst]
            if direct:
                add(direct[0], d.src, d.rate)
                delivered[i] = 1.0
                continue
            gateways = [l for l in own if l.other(d.src) in routers]
            if not gateways:
                delivered[i] = 0.0
                continue
            edges.append((gateways[0], d.src, 1.0))
            start = gateways[0].other(d.src)
        if d.dst in routers:
            targets, final = {d.dst}, {}
        else:
            final = defaultdict(list)
            for r, l in attach.get(d.dst, []):
                final[r].append(l)
            targets = set(final)
        if not targets:
            delivered[i] = 0.0
            continue
        key = frozenset(targets)
        if key not in distances:
            distances[key] = nx.multi_source_dijkstra_path_length(graph, targets, weight="weight")
        dist = distances[key]
        if start not in dist:
            delivered[i] = 0.0
            continue
        amount = {start: 1.0}
        for u in sorted(dist, key=lambda n: -dist[n]):
            share = amount.pop(u, 0.0)
            if share == 0.0:
                continue
            if u == d.dst:
                continue
            if u in final:
                hand = sorted(final[u], key=lambda l: l.name)
                for l in hand:
                    edges.append((l, u, share / len(hand)))
                continue
            hops = [(v, l) for v in graph[u] if dist.get(v, float("inf")) + graph[u][v]["weight"] == dist[u]
                    for l in graph[u][v]["links"]]
            for v, l in hops:
                edges.append((l, u, share / len(hops)))
                amount[v] = amount.get(v, 0.0) + share / len(hops)
        for link, frm, share in edges:
            add(link, frm, d.rate * share)
        delivered[i] = 1.0
    return dict(loads), delivered, orphaned
