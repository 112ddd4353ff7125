"""Packet-level simulator: forwarding, firewalls, tunnels, traces, header space, load."""
