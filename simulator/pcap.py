"""Pcap: a trace as a capture file Wireshark and scapy open.

Definition. One record per hop, in order, holding the packet as it leaves that
hop (or as it was dropped): raw IPv4 (link type 228, LINKTYPE_IPV4), so a
tunnelled hop shows the ESP or GRE packet on the wire. Timestamps are
synthetic and deterministic (one millisecond apart from a fixed epoch), so
the same trace always gives the same bytes.

Example::

    >>> from scapy.utils import PcapReader
    >>> import io
    >>> from simulator.trace import trace
    >>> data = pcap_bytes(trace(net, "双柏县财政局", "楚雄州行政审批服务器"))    # the Chuxiong plan
    >>> packets = list(PcapReader(io.BytesIO(data)))
    >>> len(packets), packets[0].summary()      # one record per hop
    (5, 'IP / TCP 10.53.5.155:40000 > 10.53.4.225:https S / Raw')
"""

from __future__ import annotations

import io
from pathlib import Path

from scapy.utils import PcapWriter

from topology.files import write_atomic

EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z
LINKTYPE_IPV4 = 228


def pcap_bytes(trace) -> bytes:
    """The pcap file of every hop's packet of ``trace``."""
    buffer = io.BytesIO()
    writer = PcapWriter(buffer, linktype=LINKTYPE_IPV4, sync=True)
    for i, hop in enumerate(trace.hops):
        packet = hop.packet.copy()
        packet.time = EPOCH + i / 1000
        writer.write(packet)
    writer.flush()
    data = buffer.getvalue()
    if not trace.hops:  # an empty capture still needs its header
        writer.write_header(None)
        data = buffer.getvalue()
    return data


def write_pcap(trace, path: str | Path) -> None:
    """Write ``trace``'s pcap to ``path`` atomically (a temporary file, then a rename)."""
    write_atomic(path, pcap_bytes(trace))
