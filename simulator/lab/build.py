"""``lab up`` and ``lab down``: the plan as namespaces, veth pairs, routes and nftables, and its removal.

Up, in order (each step one batch of real tool calls):

1. ``lab.json`` is written first, naming every namespace and device, so a
   crash at any later point leaves enough for ``down``;
2. one namespace per node (:mod:`simulator.lab.state` names), sysctls
   (forwarding on forwarding nodes only: a host drops transit packets as the
   simulator's step 5 does; no reverse-path filter and local sources
   accepted, since the simulator checks neither);
3. one veth pair per link with the plan's MTU and fixed MAC addresses; on a
   backbone link of a plan with VRFs, one pair per VRF (VRF-lite: the
   device a packet arrives on says its VRF, as the MPLS label would);
4. addresses (loopbacks on ``lo``), permanent neighbour entries (no ARP
   traffic, no resolution delay), one ``ip rule`` per device choosing the
   routing table of the VRF a packet arriving there is in, and the tables
   themselves (:mod:`simulator.lab.fib`), or FRR's ospfd (:mod:`simulator.lab.ospf`);
5. the nftables ruleset of each node (:mod:`simulator.lab.firewall`);
6. the user-space tunnel endpoints (:mod:`simulator.lab.tunneld`), one
   process inside the lab's first namespace.

Down kills every process inside the lab's namespaces (found with ``ip netns
pids``: every process a lab starts runs inside one of them), then the
processes its pid files name, removes the namespaces (found by name prefix
alone, with or without the state folder) and the state folder.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from topology.model import Network

from ..forwarding import Forwarder, build_forwarding
from ..tunnels import TunnelEnd
from .errors import LabError
from .fib import backbone, forwarding_table, node_vrfs
from .firewall import Port, ruleset
from .kernel import detect, mechanisms, require
from .layout import Layout
from .netns import (
    add_namespaces,
    delete_namespaces,
    ip_batch,
    list_namespaces,
    namespace_pids,
    nft_load,
    require_tools,
    write_sysctls,
)
from .network import lab_network
from .state import (
    Device,
    LabState,
    check_lab_name,
    device_name,
    is_lab_namespace,
    load_state,
    ns_name,
    save_state,
    state_dir,
    tun_name,
)

TUN_MTU = 1400
READY_TIMEOUT = 60.0
RULE_PREF = 1000
TUNNEL_RULE_PREF = 900


def _mac(ns_index: int, if_index: int, vrf_index: int) -> str:
    octets = [0x02, (ns_index >> 8) & 0xFF, ns_index & 0xFF, (if_index >> 8) & 0xFF, if_index & 0xFF, vrf_index & 0xFF]
    return ":".join(f"{o:02x}" for o in octets)


def layout(net: Network, fw: Forwarder, lab: str) -> Layout:
    """Namespaces, devices, tables and TUN devices of the lab of ``net`` (deterministic)."""
    vrfs: list[str | None] = [None, *sorted(net.vrfs)]
    tables = {v: 100 + i for i, v in enumerate(vrfs)}
    namespaces = {name: ns_name(lab, i) for i, name in enumerate(net.nodes)}
    index = {name: i for i, name in enumerate(net.nodes)}
    devices: list[Device] = []
    ports: dict[str, dict[str, Port]] = {}
    for name, node in net.nodes.items():
        ports[name] = {}
        for k, (ifname, iface) in enumerate(sorted(node.interfaces.items())):
            copies = vrfs if net.vrfs and backbone(net, name, ifname) else [None]
            devs = tuple(device_name(k, j if len(copies) > 1 else 0) for j, _ in enumerate(copies))
            ports[name][ifname] = Port(k, devs, int(iface.address.ip) if iface.address is not None else None)
    for name, node in net.nodes.items():
        for k, (ifname, iface) in enumerate(sorted(node.interfaces.items())):
            link = net.links.get(iface.link) if iface.link is not None else None
            if link is None:
                continue
            peer, peer_if = (link.b, link.b_if) if link.a == name else (link.a, link.a_if)
            peer_port = ports[peer][peer_if]
            copies = vrfs if len(ports[name][ifname].devices) > 1 else [None]
            for j, vrf in enumerate(copies):
                arrival = vrf if len(copies) > 1 else (iface.vrf or net.nodes[peer].interfaces[peer_if].vrf)
                devices.append(Device(name, ports[name][ifname].devices[j], ifname, arrival, link.name, peer,
                                      peer_port.devices[j], None, _mac(index[name], k, j)))
    tuns: dict[str, dict[str, TunnelEnd]] = {}
    for ends in fw.tunnels.values():
        for end in ends:
            mine = tuns.setdefault(end.node, {})
            dev = tun_name(len(mine))
            mine[dev] = end
            devices.append(Device(end.node, dev, None, fw.nodes[end.node].vrf, None, None, None, end.tunnel))
    return Layout(namespaces, devices, tables, lab, ports, tuns)


def _route_lines(net: Network, fw: Forwarder, lay: Layout, node: str, vrf: str | None) -> list[str]:
    table = lay.tables[vrf]
    lines = []
    for route in forwarding_table(fw, node, vrf):
        head = f"route add table {table}"
        if route.kind == "local":
            lines.append(f"{head} local {route.prefix} dev lo")
        elif route.kind == "blackhole":
            lines.append(f"{head} blackhole {route.prefix}")
        elif route.kind == "tunnel":
            lines.append(f"{head} {route.prefix} dev {lay.tun_of(node, route.tunnel or '')}")
        else:
            hops = []
            for hop in route.hops:
                dev = lay.device(node, hop.out_if, hop.vrf, net)
                hops.append(f"via {_ip(hop.via)} dev {dev} onlink" if hop.via is not None else f"dev {dev}")
            if len(hops) == 1:
                lines.append(f"{head} {route.prefix} {hops[0]}")
            else:
                lines.append(f"{head} {route.prefix} " + " ".join(f"nexthop {h}" for h in hops))
    return lines


def _ip(value: int) -> str:
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def _sysctls(forwarding: bool) -> dict[str, str]:
    return {
        "net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.default.rp_filter": "0",
        "net.ipv4.conf.all.accept_local": "1", "net.ipv4.conf.default.accept_local": "1",
        "net.ipv4.ip_forward": "1" if forwarding else "0",
        "net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1",
    }


def node_lines(net: Network, fw: Forwarder, lay: Layout, node: str, static_routes: bool = True) -> list[str]:
    """The iproute2 commands that configure ``node``'s namespace (after its devices exist)."""
    n = net.nodes[node]
    mine = [d for d in lay.devices if d.node == node]
    by_key = {(d.node, d.dev): d for d in lay.devices}
    lines = ["link set lo up"]
    if n.loopback is not None:
        lines.append(f"addr add {n.loopback.ip}/32 dev lo")
    for ifname, iface in sorted(n.interfaces.items()):
        if iface.address is None:
            continue
        if iface.link is None or iface.link not in net.links:
            lines.append(f"addr add {iface.address.ip}/32 dev lo")
            continue
        for dev in lay.ports[node][ifname].devices:
            lines.append(f"addr add {iface.address} dev {dev}" + (" noprefixroute" if static_routes else ""))
    for d in mine:
        lines.append(f"link set {d.dev} up")
    for d in mine:
        if d.peer_node is None or d.peer_dev is None:
            continue
        peer = by_key[(d.peer_node, d.peer_dev)]
        peer_iface = net.nodes[peer.node].interfaces[peer.interface or ""]
        if peer_iface.address is not None and peer.mac is not None:
            lines.append(f"neigh replace {peer_iface.address.ip} lladdr {peer.mac} dev {d.dev} nud permanent")
    if not static_routes:
        return lines
    for d in mine:
        lines.append(f"rule add pref {RULE_PREF} iif {d.dev} lookup {lay.tables[d.vrf]}")
    lines.append(f"rule add pref {RULE_PREF} iif lo lookup {lay.tables[n.vrf]}")
    for end in lay.tuns.get(node, {}).values():
        under = underlay_vrf(fw, end)
        if under != n.vrf and end.address is not None:
            lines.append(f"rule add pref {TUNNEL_RULE_PREF} iif lo from {_ip(end.address)} lookup {lay.tables[under]}")
    for vrf in node_vrfs(net, node):
        lines += _route_lines(net, fw, lay, node, vrf)
    return lines


_SHARED: tuple = ()
PARALLEL_FROM = 100  # nodes: below this, computing the tables in one process is quicker than forking


def _lines_of(node: str) -> tuple[str, list[str]]:
    net, fw, lay, static = _SHARED
    return node, node_lines(net, fw, lay, node, static[node])


def all_node_lines(net: Network, fw: Forwarder, lay: Layout, static: dict[str, bool]) -> Iterator[tuple[str, list[str]]]:
    """(node, its iproute2 commands) for every node; on a large plan computed by one forked worker per core.

    The tables are the simulator's decisions on every elementary interval at
    every node (about 20 µs each), the bulk of bringing a large plan up; the
    workers inherit the built forwarding state, and their results are loaded
    while the others are still computed.
    """
    global _SHARED
    nodes = list(net.nodes)
    workers = min(os.cpu_count() or 1, 8)
    if len(nodes) < PARALLEL_FROM or workers < 2:
        for node in nodes:
            yield node, node_lines(net, fw, lay, node, static[node])
        return
    _SHARED = (net, fw, lay, static)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap_unordered(_lines_of, nodes, chunksize=8)
    finally:
        _SHARED = ()


def underlay_vrf(fw: Forwarder, end: TunnelEnd) -> str | None:
    """The VRF a tunnel end's outer packets are routed in: its underlay interface's, else the node's."""
    ns = fw.nodes[end.node]
    if end.underlay_if is not None and ns.interfaces[end.underlay_if].vrf is not None:
        return ns.interfaces[end.underlay_if].vrf
    return ns.vrf


def _link_lines(net: Network, lay: Layout) -> list[str]:
    by_key = {(d.node, d.dev): d for d in lay.devices}
    lines, done = [], set()
    for d in lay.devices:
        if d.peer_node is None or (d.node, d.dev) in done:
            continue
        peer = by_key[(d.peer_node, d.peer_dev or "")]
        done.update({(d.node, d.dev), (peer.node, peer.dev)})
        mtu = net.links[d.link or ""].mtu
        lines.append(f"link add {d.dev} netns {lay.namespaces[d.node]} address {d.mac} mtu {mtu} type veth "
                     f"peer name {peer.dev} netns {lay.namespaces[peer.node]} address {peer.mac} mtu {mtu}")
    return lines


def lab_exists(lab: str) -> list[str]:
    """The namespaces of lab ``lab`` that exist now."""
    return [n for n in list_namespaces() if is_lab_namespace(lab, n)]


def up(plan: str | Path, lab: str, folder: str | Path | None = None, phase: str | None = None,
       select: list[str] | None = None, routing: str = "static") -> LabState:
    """Bring the plan (cut to ``phase`` and ``select``) up as lab ``lab``; its state (see the module docstring)."""
    check_lab_name(lab)
    if routing not in ("static", "ospf"):
        raise LabError(f"routing '{routing}' is not one of static, ospf")
    require_tools("ip", "nft")
    where = state_dir(lab, folder)
    if lab_exists(lab) or (where / "lab.json").exists():
        raise LabError(f"lab '{lab}' is already up (or was not removed); run 'govnet lab down --lab {lab}' first")
    t0 = time.perf_counter()
    features = detect()
    net = lab_network(plan, phase, select or [])
    require(features, tunnels=bool(net.tunnels))
    if routing == "ospf":
        from .ospf import check_plan as check_ospf

        check_ospf(net)
    fw = build_forwarding(net)
    lay = layout(net, fw, lab)
    state = LabState(lab, str(Path(plan).resolve()), str(where.resolve()), phase, list(select or []), routing,
                     lay.namespaces, lay.devices, {"" if v is None else v: t for v, t in lay.tables.items()},
                     mechanisms(features, routing), dict(features.found))
    save_state(where, state)
    try:
        _make(net, fw, lay, state, where, routing, t0)
    except BaseException:
        down(lab, folder)  # nothing half-made stays behind
        raise
    return state


def _make(net: Network, fw: Forwarder, lay: Layout, state: LabState, where: Path, routing: str, t0: float) -> None:
    timings = {"detect+plan": time.perf_counter() - t0}
    t = time.perf_counter()
    names = list(lay.namespaces.values())
    add_namespaces(names)
    for node, ns in lay.namespaces.items():
        write_sysctls(ns, _sysctls(fw.nodes[node].forwarding))
    ip_batch(_link_lines(net, lay))
    for node, tuns in lay.tuns.items():
        ip_batch([f"tuntap add dev {dev} mode tun" for dev in tuns] + [f"link set {dev} mtu {TUN_MTU}" for dev in tuns],
                 lay.namespaces[node])
    timings["namespaces+links"] = time.perf_counter() - t
    t = time.perf_counter()
    static = {node: routing == "static" or not fw.nodes[node].forwarding for node in net.nodes}
    for node, lines in all_node_lines(net, fw, lay, static):
        ip_batch(lines, lay.namespaces[node])
    timings["addresses+routes"] = time.perf_counter() - t
    t = time.perf_counter()
    for node in net.nodes:
        nft_load(lay.namespaces[node], ruleset(fw, node, lay.ports[node], lay.tuns.get(node, {}), routing == "ospf"))
    timings["nftables"] = time.perf_counter() - t
    if lay.tuns:
        t = time.perf_counter()
        start_tunnels(where, names[0])
        timings["tunnels"] = time.perf_counter() - t
    if routing == "ospf":
        from .ospf import start as start_ospf

        t = time.perf_counter()
        start_ospf(net, fw, lay, where)
        timings["ospf"] = time.perf_counter() - t
    state.complete = True
    state.timings = {k: round(v, 3) for k, v in timings.items()}
    state.timings["total"] = round(time.perf_counter() - t0, 3)
    save_state(where, state)


def start_tunnels(where: Path, home: str) -> None:
    """Start the user-space tunnel endpoints inside namespace ``home``; wait until they are ready."""
    ready = where / "tunneld.ready"
    ready.unlink(missing_ok=True)
    with open(where / "tunneld.log", "ab") as log:
        proc = subprocess.Popen(["ip", "netns", "exec", home, sys.executable, "-m", "simulator.lab.tunneld",
                                 str(where)], stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
                                cwd=str(Path(__file__).resolve().parents[2]))
    (where / "tunneld.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if ready.exists():
            return
        if proc.poll() is not None:
            raise LabError(f"the tunnel endpoints exited ({proc.returncode}); see {where / 'tunneld.log'}")
        time.sleep(0.05)
    raise LabError(f"the tunnel endpoints were not ready within {READY_TIMEOUT:.0f} s; see {where / 'tunneld.log'}")


@dataclass
class DownReport:
    namespaces: int
    processes: int
    folder: str | None


def _kill(pids: list[int]) -> int:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
            alive.append(pid)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 3.0
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _running(p)]
        time.sleep(0.05)
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(pids)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return False


def _recorded_pids(where: Path) -> list[int]:
    """Processes named by the lab's pid files that are still the lab's (their command line says so)."""
    out = []
    for path in sorted(where.rglob("*.pid")) if where.is_dir() else []:
        try:
            pid = int(path.read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if b"simulator.lab" in cmdline or b"/frr/" in cmdline or str(where).encode() in cmdline:
            out.append(pid)
    return out


def down(lab: str, folder: str | Path | None = None) -> DownReport:
    """Remove lab ``lab``: its processes, namespaces and state folder (see the module docstring)."""
    check_lab_name(lab)
    require_tools("ip")
    where = state_dir(lab, folder)
    state = load_state(where)
    names = set(lab_exists(lab))
    if state is not None:
        names |= {ns for ns in state.namespaces.values() if ns in set(list_namespaces())}
    from .ospf import runtime_dir

    frr = runtime_dir(lab)
    pids = sorted({p for ns in names for p in namespace_pids(ns)} | set(_recorded_pids(where))
                  | set(_recorded_pids(frr)))
    pids = [p for p in pids if p != os.getpid()]
    killed = _kill(pids)
    delete_namespaces(sorted(names))
    shutil.rmtree(frr, ignore_errors=True)
    removed = None
    if where.is_dir():
        shutil.rmtree(where, ignore_errors=True)
        removed = str(where)
    return DownReport(len(names), killed, removed)


def is_up(lab: str, folder: str | Path | None = None) -> bool:
    """Whether lab ``lab`` is up (its state is complete and its namespaces exist)."""
    state = load_state(state_dir(check_lab_name(lab), folder))
    return state is not None and state.complete and bool(lab_exists(lab))


def running_plan(lab: str, folder: str | Path | None, plan: str | Path | None) -> str:
    """The plan lab ``lab`` runs; LabError when ``plan`` is given and is another one."""
    state = load_state(state_dir(check_lab_name(lab), folder))
    if state is None:
        raise LabError(f"lab '{lab}' is not up")
    if plan is not None and str(Path(plan).resolve()) != state.plan:
        raise LabError(f"lab '{lab}' runs {state.plan}, not {plan}; run 'govnet lab down --lab {lab}' first")
    return state.plan
