"""``govnet trace``: the hop-by-hop fate of one packet, or of every packet of a batch file, as text, JSON and pcap.

Exit status: 0 when the packet (with ``--batch``: every packet) is delivered,
1 when one is dropped (denied, no route, TTL expired, tunnel down ...), 2 on
an input error (unknown node or address, bad plan, a bad row of the batch
file: ``FILE:LINE:COL``, nothing traced or written).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from simulator.packet_batch import FORMATS, PACKET_DEFAULTS, PROTOCOLS
from topology.errors import GovnetError
from topology.files import shown

from ..output import dumps_json, emit, write_atomic
from .common import load, plan_argument, refuse_outputs


@click.command()
@plan_argument()
@click.option("--from", "src", default=None, help="the sending node (name or node:NAME)  [required without --batch]")
@click.option("--to", "dst", default=None,
              help="the destination: a node name or an IPv4 address  [required without --batch]")
@click.option("--proto", type=click.Choice(PROTOCOLS), default=PACKET_DEFAULTS["proto"], show_default=True)
@click.option("--sport", type=click.IntRange(0, 65535), default=PACKET_DEFAULTS["sport"], show_default=True,
              help="source port (tcp/udp)")
@click.option("--dport", type=click.IntRange(0, 65535), default=PACKET_DEFAULTS["dport"], show_default=True,
              help="destination port (tcp/udp)")
@click.option("--icmp-type", type=click.IntRange(0, 255), default=PACKET_DEFAULTS["icmp-type"], show_default=True,
              help="ICMP type (with --proto icmp)")
@click.option("--src-ip", default=None, help="send from this address instead of the node's own")
@click.option("--reply", is_flag=True, help="also trace the answer back through the same firewalls and NAT")
@click.option("--phase", default=None, help="the network as built up to this phase")
@click.option("--batch", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default=None,
              help="trace every packet of this CSV or JSON-lines file (- reads stdin), loading the plan once")
@click.option("--batch-format", type=click.Choice(list(FORMATS)), default=None,
              help="the batch file's format  [default: by its name: .csv, .jsonl or .ndjson]")
@click.option("--hops", is_flag=True, help="with --batch: every hop of every packet, not one line per packet")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="with --batch, json is JSON lines: one object per packet")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the answer to this file instead of stdout")
@click.option("--pcap", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write every hop's packet to this pcap file (Wireshark, scapy rdpcap)")
def trace(plan: Path | None, src: str | None, dst: str | None, proto: str, sport: int, dport: int, icmp_type: int,
          src_ip: str | None, reply: bool, phase: str | None, batch: Path | None, batch_format: str | None,
          hops: bool, fmt: str, output: Path | None, pcap: Path | None) -> None:
    """Follow one packet from a node to a node or address, hop by hop.

    Every hop shows the node, the interfaces in and out, what it decided
    (forwarded, delivered, denied, no route, encapsulated, decapsulated ...)
    and the exact firewall rule that decided.

    With --batch FILE, every packet of FILE, in order, on the plan loaded
    once. FILE is CSV with a header row, or JSON lines (one object per line);
    its columns or keys are the packet options without their dashes: from,
    to, proto, sport, dport, icmp-type, src-ip. A field a row leaves out takes
    the option's value. One line (text) or JSON object (json) per packet:
    row, packet, delivered, decision and node where it ended, hop count;
    --hops adds every hop. Every row is checked before any is traced: a bad
    one is an error at FILE:LINE:COL.

    Exit 0 when the packet is delivered (with --batch: every packet), 1 when
    one is not, 2 on bad input (nothing written).
    """
    from simulator.packet_batch import answer_batch, check_packets, read_packets, results, trace_packets
    from simulator.packet_batch import batch_format as batch_format_of
    from simulator.pcap import pcap_bytes
    from simulator.trace import Trace, round_trip
    from topology.collector import no_gc

    if batch is None:
        for value, name in ((src, "--from"), (dst, "--to")):
            if value is None:
                raise click.UsageError(f"Missing option '{name}' (or give --batch FILE)")
        net = load(plan, phase)
        inputs = net.sources
        refuse_outputs(inputs, output, pcap)
        assert src is not None and dst is not None
        trip = round_trip(net, src, dst, proto=proto, sport=sport, dport=dport, src_ip=src_ip, icmp_type=icmp_type,
                          answer=reply)
        trips = [trip]
        delivered = trip.delivered
        text = dumps_json(trip.to_json()) if fmt == "json" else trip.text()
    else:
        stdin = str(batch) == "-"
        kind = batch_format_of(batch, batch_format)
        inputs = () if stdin else (str(batch),)
        refuse_outputs(inputs, output, pcap)  # the batch file is an input too
        data = sys.stdin.buffer.read() if stdin else _read(batch)
        defaults = {"from": src, "to": dst, "proto": proto, "sport": sport, "dport": dport, "icmp-type": icmp_type,
                    "src-ip": src_ip}
        rows = read_packets(data, "<stdin>" if stdin else shown(batch), kind, defaults)  # every row, before the plan
        net = load(plan, phase)
        inputs = net.sources + inputs
        refuse_outputs(inputs, output, pcap)
        with no_gc():  # tracing and writing a batch make no reference cycles; collections would scan the plan
            check_packets(net, rows)
            if pcap is None:
                text, delivered = answer_batch(net, rows, fmt, hops, reply)
                trips = []
            else:  # the pcap holds every hop: traced here
                trips = list(trace_packets(net, rows, answer=reply))
                text = results(rows, trips, fmt, hops)
                delivered = all(t.delivered for t in trips)
    if pcap is not None:
        every = tuple(h for t in trips for h in t.hops)
        write_atomic(pcap, pcap_bytes(Trace(delivered, every, "")), inputs)
    emit(text, output, inputs)
    if not delivered:
        click.get_current_context().exit(1)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise GovnetError(f"cannot read the batch file {shown(path)}: {exc.strerror or exc}") from None

