"""``--routing ospf``: a real routing daemon instead of the simulator's routes, and their comparison.

Every forwarding node runs FRR's zebra and ospfd (Debian's ``frr``) inside
its namespace, each with its own configuration and runtime folder under the
lab's runtime folder (:func:`runtime_dir`). One area; every link a point-to-point network (1 s
hellos); the interface cost is the plan's (the interface's ``cost``, else the
link's) plus the simulator's :data:`~simulator.routing.BOUNDARY_PENALTY` on a
link between two domains, capped at OSPF's largest cost (65535, so a
boundary link costs 65535: the penalty cannot be represented exactly);
interfaces to hosts and servers are passive. A node's LAN and its static
routes are kernel routes redistributed into OSPF (external routes, where the
simulator has the LAN internal), the internet cloud originates the default
route, and tunnel selectors are kernel routes into the TUN device chosen by
a rule ahead of the main table (the simulator's step 7 comes before any
route). An endpoint with routers behind it redistributes the far side's
prefixes (reverse route injection); unlike the simulator, which lets only
the nodes behind the endpoint learn them, one OSPF area carries them to
every router. Hosts and servers get the simulator's routes as in a static lab.

:func:`compare_routes` waits until the kernel's OSPF routes stop changing and
asks each forwarding node's kernel (``ip route get fibmatch``) what it does
with the first address of every run of addresses the simulator decides
alike (:func:`simulator.lab.fib.decision_runs`): deliver, which neighbours
(all equal-cost next hops), which tunnel, or no route.

Only the global VRF: FRR keeps one routing table per VRF through kernel VRF
devices, which the kernels of this project's machines lack; a plan with VRFs
is refused.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import time
from pathlib import Path

from topology.model import Network

from ..forwarding import Forwarder
from ..headerspace import ip_text
from ..routing import BOUNDARY_PENALTY
from .compare import RouteVerdict
from .errors import LabError, LabUnavailable
from .fib import decision_runs
from .layout import Layout
from .netns import ip_batch, run
from .state import LabState

FRR = Path("/usr/lib/frr")
FRR_RUNTIME = Path("/run/govnet-lab-frr")
MAX_COST = 65535
TUNNEL_TABLE, TUNNEL_PREF = 99, 100
SETTLE = 3  # identical route dumps in a row, one second apart
CONVERGE_TIMEOUT = 120.0


def check_plan(net: Network) -> None:
    """Refuse what an OSPF lab cannot hold; raise when FRR is missing."""
    if net.vrfs:
        raise LabError("--routing ospf handles the global table only: FRR needs kernel VRF devices for VRFs, "
                       "which this kernel lacks; use --routing static for a plan with VRFs")
    if not (FRR / "zebra").exists() or not (FRR / "ospfd").exists():
        raise LabUnavailable("FRR is not installed (Debian package frr: apt-get install -y frr)")


def interface_cost(net: Network, node: str, ifname: str) -> int:
    iface = net.nodes[node].interfaces[ifname]
    link = net.links[iface.link or ""]
    cost = iface.cost or link.cost
    if net.nodes[link.a].domain != net.nodes[link.b].domain:
        cost += BOUNDARY_PENALTY
    return max(1, min(MAX_COST, cost))


def frr_config(net: Network, fw: Forwarder, node: str, index: int, devs: dict[str, str], folder: Path) -> str:
    """The frr.conf of one forwarding node (``devs``: plan interface -> device)."""
    n = net.nodes[node]
    lines = ["frr defaults traditional", f"hostname n{index}", f"log file {folder / 'frr.log'}", "!"]
    passive, networks = [], []
    for ifname, iface in sorted(n.interfaces.items()):
        if iface.link is None or iface.link not in net.links or iface.address is None:
            continue
        dev = devs[ifname]
        lines += [f"interface {dev}", " ip ospf network point-to-point", " ip ospf hello-interval 1",
                  " ip ospf dead-interval 4", f" ip ospf cost {interface_cost(net, node, ifname)}", "!"]
        networks.append(str(iface.address.network))
        peer = net.links[iface.link].other(node)
        if not fw.nodes[peer].forwarding:
            passive.append(dev)
    router_id = ip_text(0x0A000000 + index + 1) if n.loopback is None else str(n.loopback.ip)
    lines += ["router ospf", f" ospf router-id {router_id}", " redistribute kernel",
              " timers throttle spf 0 50 500", " timers throttle lsa all 0 50 500", " timers lsa min-arrival 0"]
    if n.loopback is not None:
        networks.append(f"{n.loopback.ip}/32")
    lines += [f" network {net_} area 0" for net_ in sorted(set(networks))]
    lines += [f" passive-interface {dev}" for dev in passive]
    domain = net.domains.get(n.domain)
    if n.role == "cloud" and domain is not None and not domain.trusted:
        lines.append(" default-information originate always")
    lines.append("!")
    return "\n".join(lines) + "\n"


def kernel_lines(net: Network, fw: Forwarder, node: str, devs: dict[str, str], tuns: dict[str, str]) -> list[str]:
    """iproute2 commands of an OSPF node: LAN, statics, the cloud's default, tunnel selectors."""
    n = net.nodes[node]
    lines = []
    if n.lan is not None:
        lines += [f"route add table local local {n.lan} dev lo", f"route add blackhole {n.lan} proto static"]
    domain = net.domains.get(n.domain)
    if n.role == "cloud" and domain is not None and not domain.trusted:
        lines.append("route add local 0.0.0.0/0 dev lo")
    for link in net.links_of(node):  # stubs hang off their routers (the simulator's attach): announce them
        stub = link.other(node)
        if fw.nodes[stub].forwarding:
            continue
        stub_if = net.nodes[stub].interfaces[link.b_if if link.a == node else link.a_if]
        if stub_if.address is None:
            continue
        stub_node = net.nodes[stub]
        for address in stub_node.addresses:
            if address != stub_if.address:
                lines.append(f"route add {address.ip}/32 via {stub_if.address.ip} proto static")
        if stub_node.lan is not None:
            lines.append(f"route add {stub_node.lan} via {stub_if.address.ip} proto static")
    for route in n.routes:
        via = _static_via(net, node, route.via)
        if via is not None:
            lines.append(f"route add {route.prefix} via {via} proto static")
    for end in fw.nodes[node].tunnel_ends:
        dev = tuns[end.tunnel]
        for lo, hi in end.selector:
            for prefix in ipaddress.summarize_address_range(ipaddress.IPv4Address(lo), ipaddress.IPv4Address(hi)):
                lines.append(f"route add table {TUNNEL_TABLE} {prefix} dev {dev}")
        if any(fw.nodes[m].forwarding for m in end.side if m != node):  # routers behind this end learn them
            for key, length in end.routes:
                lines.append(f"route add {ip_text(key)}/{length} dev {dev} metric 50")
    if fw.nodes[node].tunnel_ends:
        lines.append(f"rule add pref {TUNNEL_PREF} lookup {TUNNEL_TABLE}")
    return lines


def _static_via(net: Network, node: str, via: str) -> str | None:
    """The next-hop address of a static route's ``via`` (a neighbour's name, or an address as given)."""
    if via not in net.nodes:
        return via
    for link in net.links_of(node):
        if link.other(node) == via:
            peer_if = link.b_if if link.a == node else link.a_if
            address = net.nodes[via].interfaces[peer_if].address
            if address is not None:
                return str(address.ip)
    return None


def _daemon(namespace: str, binary: str, folder: Path) -> None:
    args = ["ip", "netns", "exec", namespace, str(FRR / binary), "-d", "-f", str(folder / "frr.conf"),
            "-i", str(folder / f"{binary}.pid"), "-z", str(folder / "zserv.api"), "--vty_socket", str(folder),
            "-P", "0", "-u", "frr", "-g", "frr", "--log", f"file:{folder / (binary + '.log')}"]
    done = subprocess.run(args, check=False, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise LabError(f"{binary} did not start in {namespace}: {done.stderr.strip() or done.stdout.strip()}")


def start(net: Network, fw: Forwarder, lay: Layout, where: Path) -> None:
    """Configure and start zebra and ospfd in every forwarding node's namespace (``lay``: the lab's layout)."""
    for i, node in enumerate(net.nodes):
        if not fw.nodes[node].forwarding:
            continue
        ns = lay.namespaces[node]
        devs = {ifname: port.devices[0] for ifname, port in lay.ports[node].items()}
        tuns = {end.tunnel: dev for dev, end in lay.tuns.get(node, {}).items()}
        ip_batch(kernel_lines(net, fw, node, devs, tuns), ns)
        folder = runtime_dir(lay.lab) / ns
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "frr.conf").write_text(frr_config(net, fw, node, i, devs, folder))
        for path in (folder, *folder.iterdir()):
            shutil.chown(path, "frr", "frr")
        _daemon(ns, "zebra", folder)
        _daemon(ns, "ospfd", folder)


def _ospf_dump(namespaces: list[str]) -> tuple:
    return tuple(run(["ip", "-n", ns, "route", "show", "proto", "ospf"], check=False).stdout for ns in namespaces)


def _adjacent(state: LabState, net: Network, fw: Forwarder) -> bool:
    """Whether every router has a full adjacency on each of its links to another router."""
    for node in net.nodes:
        if not fw.nodes[node].forwarding:
            continue
        want = sum(1 for link in net.links_of(node) if fw.nodes[link.other(node)].forwarding)
        if not want:
            continue
        done = subprocess.run(["vtysh", "--vty_socket", str(_frr_dir(state, node)), "-c", "show ip ospf neighbor json"],
                              check=False, capture_output=True, text=True, timeout=30)
        try:
            data = json.loads(done.stdout or "{}")
        except ValueError:
            return False
        full = sum(1 for ns in data.get("neighbors", {}).values() for n in ns if str(n.get("state", "")).startswith("Full"))
        if full < want:
            return False
    return True


def _frr_dir(state: LabState, node: str) -> Path:
    return runtime_dir(state.lab) / state.namespaces[node]


def runtime_dir(lab: str) -> Path:
    """Where the lab's FRR daemons keep their configuration, sockets, pid files and logs.

    Not in the state folder, which may lie below folders the ``frr`` user
    cannot enter; ``lab down`` removes it.
    """
    return FRR_RUNTIME / lab


def converge(state: LabState, net: Network, fw: Forwarder, timeout: float = CONVERGE_TIMEOUT) -> float:
    """Wait until every adjacency is full and the OSPF routes stay the same for a few seconds; the seconds it took."""
    namespaces = [state.namespaces[n] for n in net.nodes if fw.nodes[n].forwarding]
    start_time = time.monotonic()
    last, same = None, 0
    while time.monotonic() - start_time < timeout:
        dump = _ospf_dump(namespaces)
        same = same + 1 if dump == last and _adjacent(state, net, fw) else 0
        if same >= SETTLE:
            return time.monotonic() - start_time
        last = dump
        time.sleep(1.0)
    raise LabError(f"OSPF did not converge within {timeout:.0f} s (see the logs in {runtime_dir(state.lab)})")


def _kernel_answers(namespace: str, addresses: list[int]) -> list[dict | None]:
    """The kernel's FIB entry for each address (``ip route get fibmatch``); None where it has none."""
    text = "\n".join(f"route get fibmatch {ip_text(a)}" for a in addresses) + "\n"
    done = subprocess.run(["ip", "-n", namespace, "-j", "-force", "-batch", "-"], check=False, input=text,
                          capture_output=True, text=True, timeout=120)
    failed = {int(line.rsplit(":", 1)[1]) for line in done.stderr.splitlines()
              if line.startswith("Command failed") and line.rsplit(":", 1)[1].strip().isdigit()}
    outputs = [line for line in done.stdout.splitlines() if line.strip()]
    answers: list[dict | None] = []
    k = 0
    for i in range(1, len(addresses) + 1):
        if i in failed or k >= len(outputs):
            answers.append(None)
            continue
        data = json.loads(outputs[k])
        k += 1
        answers.append(data[0] if isinstance(data, list) and data else None)
    return answers


def _kernel_text(entry: dict | None, node: str, state: LabState) -> str:
    if entry is None or entry.get("type") in ("blackhole", "unreachable", "prohibit"):
        return "no route"
    if entry.get("type") == "local":
        return "deliver"
    devices = state.device_index()
    hops = entry.get("nexthops") or [entry]
    out = set()
    for hop in hops:
        d = devices.get((node, hop.get("dev", "")))
        if d is None:
            out.add(f"dev {hop.get('dev')}")
        elif d.tunnel is not None:
            out.add(f"tunnel {d.tunnel}")
        else:
            out.add(d.peer_node or "?")
    return "via " + ", ".join(sorted(out))


def _simulator_text(action: tuple) -> str:
    if action[0] == "local":
        return "deliver"
    if action[0] == "blackhole":
        return "no route"
    if action[0] == "tunnel":
        return f"via tunnel {action[1]}"
    return "via " + ", ".join(sorted({h.neighbor for h in action[1]}))


LINK_ADDRESSES = ("an address on a point-to-point link: the simulator routes each interface address as a /32 "
                  "host route to its owner (simulator.routing), OSPF routes the link's subnet to either end")


def _link_addresses(net: Network, lo: int, hi: int) -> bool:
    """Whether every address of [lo, hi] lies in the subnet of some link (they are interface addresses)."""
    spans = sorted((int(l.subnet.network_address), int(l.subnet.broadcast_address))
                   for l in net.links.values() if l.subnet is not None)
    at = lo
    for first, last in spans:
        if first <= at <= last:
            at = last + 1
            if at > hi:
                return True
    return False


_SPECIAL = ((0x00000000, 0x00FFFFFF), (0x7F000000, 0x7FFFFFFF), (0xE0000000, 0xFFFFFFFF))


def _unicast_in(lo: int, hi: int) -> int | None:
    """The first address of [lo, hi] that the kernel routes as unicast (not 0/8, 127/8, multicast or above)."""
    address = lo
    for start, end in _SPECIAL:
        if start <= address <= end:
            address = end + 1
    return address if address <= hi and address <= 0xDFFFFFFF else None


def compare_routes(net: Network, fw: Forwarder, state: LabState) -> list:
    """After convergence, every forwarding node's kernel route against the simulator's, run by run."""

    converge(state, net, fw)
    out = []
    for node in net.nodes:
        if not fw.nodes[node].forwarding:
            continue
        runs = [(lo, hi, action, probe) for lo, hi, action in decision_runs(fw, node, fw.nodes[node].vrf)
                for probe in [_unicast_in(lo, hi)] if probe is not None]
        answers = _kernel_answers(state.namespaces[node], [probe for _, _, _, probe in runs])
        for (lo, hi, action, _), entry in zip(runs, answers):
            k, s = _kernel_text(entry, node, state), _simulator_text(action)
            expected = None
            if k != s and k.startswith("via ") and s.startswith("via ") and _link_addresses(net, lo, hi):
                expected = LINK_ADDRESSES
            out.append(RouteVerdict(node, None, f"{ip_text(lo)}-{ip_text(hi)}", k, s, k == s, expected))
    return out
