"""Where every part of a plan lives in a lab's kernel: namespaces, devices, routing tables, ports and TUN devices.

:func:`simulator.lab.build.layout` computes it from the network before anything
is made; bringing the lab up, the routing daemons (:mod:`simulator.lab.ospf`) and
the runs read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from topology.model import Network

from ..tunnels import TunnelEnd
from .errors import LabError
from .fib import backbone
from .firewall import Port
from .state import Device


@dataclass
class Layout:
    """Where every part of the plan lives in the kernel (computed from the network, before anything is made)."""

    namespaces: dict[str, str]
    devices: list[Device]
    tables: dict[str | None, int]
    lab: str = ""
    ports: dict[str, dict[str, Port]] = field(default_factory=dict)  # node -> plan interface -> Port
    tuns: dict[str, dict[str, TunnelEnd]] = field(default_factory=dict)  # node -> TUN device -> end

    def device(self, node: str, ifname: str, vrf: str | None, net: Network) -> str:
        """The device a packet in ``vrf`` leaves ``node`` on through plan interface ``ifname``."""
        port = self.ports[node][ifname]
        if len(port.devices) > 1 and backbone(net, node, ifname):
            return port.devices[list(self.tables).index(vrf)]
        return port.devices[0]

    def tun_of(self, node: str, tunnel: str) -> str:
        for dev, end in self.tuns.get(node, {}).items():
            if end.tunnel == tunnel:
                return dev
        raise LabError(f"{node} has no endpoint of tunnel {tunnel}")
