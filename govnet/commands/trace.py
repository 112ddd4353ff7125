"""``govnet trace``: the hop-by-hop fate of one packet, as text, JSON and pcap.

Exit status: 0 when the packet is delivered, 1 when it is dropped (denied, no
route, TTL expired, tunnel down ...), 2 on an input error (unknown node or
address, bad plan).
"""

from __future__ import annotations

from pathlib import Path

import click

from ..output import dumps_json, write_atomic
from .common import load, plan_argument, refuse_outputs


@click.command()
@plan_argument()
@click.option("--from", "src", required=True, help="the sending node (name or node:NAME)")
@click.option("--to", "dst", required=True, help="the destination: a node name or an IPv4 address")
@click.option("--proto", type=click.Choice(["tcp", "udp", "icmp"]), default="tcp", show_default=True)
@click.option("--sport", type=click.IntRange(0, 65535), default=40000, show_default=True, help="source port (tcp/udp)")
@click.option("--dport", type=click.IntRange(0, 65535), default=443, show_default=True, help="destination port (tcp/udp)")
@click.option("--icmp-type", type=click.IntRange(0, 255), default=8, show_default=True, help="ICMP type (with --proto icmp)")
@click.option("--src-ip", default=None, help="send from this address instead of the node's own")
@click.option("--reply", is_flag=True, help="also trace the answer back through the same firewalls and NAT")
@click.option("--phase", default=None, help="the network as built up to this phase")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--pcap", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write every hop's packet to this pcap file (Wireshark, scapy rdpcap)")
def trace(plan: Path | None, src: str, dst: str, proto: str, sport: int, dport: int, icmp_type: int,
          src_ip: str | None, reply: bool, phase: str | None, fmt: str, pcap: Path | None) -> None:
    """Follow one packet from a node to a node or address, hop by hop.

    Every hop shows the node, the interfaces in and out, what it decided
    (forwarded, delivered, denied, no route, encapsulated, decapsulated ...)
    and the exact firewall rule that decided. Exit 0 when delivered, 1 when
    dropped, 2 on bad input.
    """
    from simulator.pcap import pcap_bytes
    from simulator.trace import round_trip

    net = load(plan, phase)
    refuse_outputs(net.sources, pcap)
    trip = round_trip(net, src, dst, proto=proto, sport=sport, dport=dport, src_ip=src_ip, icmp_type=icmp_type,
                      answer=reply)
    if pcap is not None:
        write_atomic(pcap, pcap_bytes(trip.joined()), net.sources)
    if fmt == "json":
        click.echo(dumps_json(trip.to_json()), nl=False)
    else:
        click.echo(trip.text(), nl=False)
    if not trip.delivered:
        click.get_current_context().exit(1)
