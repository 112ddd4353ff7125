"""What this kernel offers a lab, found by trying, and the mechanism each plan feature uses.

Detection makes a scratch namespace and tries each feature there with the
real tools: a veth pair, a bridge, a VRF device, a GRE device, an XFRM state,
a TUN device, a multipath route, a policy-routing rule, nftables NAT and
conntrack zones. Nothing is tried outside the scratch namespace, which is
removed at the end.

The mechanisms (:func:`mechanisms`) are chosen to work on every kernel that
has the *required* features (veth, policy routing, multipath, nftables with
NAT and conntrack, and TUN when the plan has tunnels):

- VRFs are routing tables chosen by ``ip rule`` on the incoming interface,
  with one veth pair per VRF on backbone links (VRF-lite), whether or not the
  kernel has VRF devices: the tables hold the simulator's forwarding state
  either way, and one mechanism means one behaviour to compare;
- IPsec and GRE tunnel endpoints run in user space over TUN devices (scapy's
  ESP with the keys govnet derives, and GRE), so tunnelled packets cross the
  lab's links as real ESP or GRE. Kernel XFRM and GRE devices are reported
  when present but not used: no machine of this project has them, so a
  kernel-native path could not be tested, and the user-space endpoint runs
  the simulator's own encapsulation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import LabError, LabUnavailable
from .netns import (
    add_namespaces,
    delete_namespaces,
    ip_batch,
    nft_load,
    require_tools,
    run,
)

FEATURES = ("veth", "bridge", "vrf", "gre", "xfrm", "tun", "multipath", "policy_routing", "nft_nat",
            "conntrack_zones")
REQUIRED = ("veth", "policy_routing", "multipath", "nft_nat", "conntrack_zones")

_TRIES: dict[str, list[str]] = {
    "veth": ["link add gk0 type veth peer name gk1", "link set gk0 up", "link set gk1 up",
             "addr add 192.0.2.0/31 dev gk0"],
    "bridge": ["link add gkb type bridge"],
    "vrf": ["link add gkv type vrf table 10"],
    "gre": ["link add gkg type gre local 192.0.2.0 remote 192.0.2.1"],
    "xfrm": [("xfrm state add src 192.0.2.0 dst 192.0.2.1 proto esp spi 0x100 mode tunnel "
              "auth sha1 0x0000000000000000000000000000000000000000 enc aes 0x00000000000000000000000000000000")],
    "tun": ["tuntap add dev gkt mode tun"],
    "multipath": ["route add 198.51.100.0/24 nexthop via 192.0.2.1 dev gk0 onlink nexthop via 192.0.2.1 dev gk1 onlink"],
    "policy_routing": ["rule add iif gk0 lookup 100 pref 1000", "route add table 100 blackhole 203.0.113.0/24"],
}
_NFT_NAT = """table ip gk {
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "gk0" snat to 192.0.2.0
  }
}
"""
_NFT_ZONES = """table ip gkz {
  chain pre {
    type filter hook prerouting priority raw; policy accept;
    ct zone set ip id
  }
  chain c_forward {
    type filter hook forward priority filter; policy accept;
    ct direction reply accept
  }
}
"""


@dataclass(frozen=True)
class Features:
    """Which kernel features a lab could use (True: tried and it worked)."""

    found: dict[str, bool]

    def has(self, name: str) -> bool:
        return self.found.get(name, False)

    def text(self) -> str:
        return ", ".join(f"{name} {'yes' if self.has(name) else 'no'}" for name in FEATURES)


def detect() -> Features:
    """Try every feature in a scratch namespace (see the module docstring)."""
    require_tools("ip", "nft")
    scratch = f"glprobe-{os.getpid()}"
    add_namespaces([scratch])
    found: dict[str, bool] = {}
    try:
        ip_batch(["link set lo up"], scratch)
        for name in ("veth", "bridge", "vrf", "gre", "xfrm", "tun", "multipath", "policy_routing"):
            if name in ("multipath", "policy_routing") and not found.get("veth"):
                found[name] = False
                continue
            try:
                ip_batch(_TRIES[name], scratch)
                found[name] = True
            except LabUnavailable:
                raise
            except LabError:  # the tool's refusal is the answer
                found[name] = False
        for name, ruleset in (("nft_nat", _NFT_NAT), ("conntrack_zones", _NFT_ZONES)):
            if name == "nft_nat" and not found.get("veth"):
                found[name] = False
                continue
            try:
                nft_load(scratch, ruleset)
                found[name] = True
            except LabUnavailable:
                raise
            except LabError:
                found[name] = False
    finally:
        delete_namespaces([scratch])
    return Features(found)


def require(features: Features, tunnels: bool) -> None:
    """Raise :class:`LabUnavailable` naming what a lab of this plan needs and the kernel lacks."""
    missing = [n for n in REQUIRED if not features.has(n)]
    if tunnels and not features.has("tun"):
        missing.append("tun")
    if missing:
        raise LabUnavailable(f"this kernel lacks {', '.join(missing)}, which a lab needs ({features.text()})")


def mechanisms(features: Features, routing: str = "static") -> dict[str, str]:
    """The mechanism each plan feature uses in a lab on this kernel, as the output states it."""
    vrf_devices = "has" if features.has("vrf") else "has no"
    routes = ("the simulator's forwarding state as kernel routes, one table per VRF, multipath routes for ECMP"
              if routing == "static" else "FRR ospfd per namespace (plan costs), zebra installs the kernel routes")
    return {
        "links": "veth pairs with the plan's addresses and MTU, permanent neighbour entries",
        "routes": routes,
        "vrf": f"routing tables chosen by ip rule on the incoming interface, a veth pair per VRF on backbone "
               f"links (the kernel {vrf_devices} VRF devices)",
        "acl": "nftables chains of the simulator's compiled rules, first match; fall-through and boundary "
               "default as final drop rules",
        "sessions": "conntrack (reply direction), one conntrack zone per checked packet",
        "nat": "nftables snat to the interface address",
        "one_way": "nftables forward policy on the declared direction and protocols",
        "ipsec": "user-space endpoint over a TUN device (scapy ESP, govnet's keys) "
                 f"(kernel XFRM {'present, not used' if features.has('xfrm') else 'not available'})",
        "gre": "user-space endpoint over a TUN device (scapy GRE) "
               f"(kernel GRE devices {'present, not used' if features.has('gre') else 'not available'})",
    }


def kernel_release() -> str:
    return run(["uname", "-r"]).stdout.strip()
