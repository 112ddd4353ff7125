"""Quantities written the way planners write them: ``100M``, ``1G``, ``2.5ms``.

Bandwidths are bits per second (``k``/``M``/``G``/``T`` are powers of 1000,
an optional ``bps`` or ``b/s`` suffix is allowed); delays are seconds (``us``,
``ms``, ``s``). Plain numbers are taken as bits per second and milliseconds.

    >>> parse_bandwidth("100M"), parse_delay("2.5ms")
    (100000000.0, 0.0025)
"""

from __future__ import annotations

import re

_BW = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtT]?)\s*(?:bps|b/s|bit/s)?\s*$")
_BW_FACTOR = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}
_DELAY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(us|µs|ms|s)?\s*$")
_DELAY_FACTOR = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, None: 1e-3}

_PORTS = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")

MIN_BANDWIDTH = 1.0  # 1 bit/s: less is no line (and would overflow the link cost)
MAX_BANDWIDTH = 10e12  # 10 Tb/s: above any single link a plan of this kind has
MAX_DELAY = 10.0
# standard line rates (E1, Ethernet, E3, Fast Ethernet, STM-1, STM-4, GbE, STM-16, 10/40/100/400 GbE):
# what an upgrade or a link sized for its load is given
STANDARD_RATES = (2e6, 10e6, 34e6, 100e6, 155e6, 622e6, 1e9, 2.5e9, 10e9, 40e9, 100e9, 400e9)


def parse_bandwidth(value: object) -> float:
    """Bits per second from ``'100M'``, ``'1 Gbps'``, ``2e6`` ...; raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("a bandwidth is a number with a unit, like 100M or 1G")
    if isinstance(value, (int, float)):
        bps = float(value)
    elif isinstance(value, str) and (match := _BW.match(value)):
        bps = float(match.group(1)) * _BW_FACTOR[match.group(2).lower()]
    else:
        raise ValueError(f"{value!r} is not a bandwidth; write it like 100M, 1G or 2.5G")
    if not MIN_BANDWIDTH <= bps <= MAX_BANDWIDTH:
        raise ValueError(f"bandwidth {value!r} is out of range; use at least 1 (bit/s) and at most 10T")
    return bps


def parse_delay(value: object) -> float:
    """Seconds from ``'2ms'``, ``'150us'``, ``'0.1s'`` or a number of milliseconds."""
    if isinstance(value, bool):
        raise ValueError("a delay is a number with a unit, like 2ms")
    if isinstance(value, (int, float)):
        seconds = float(value) * 1e-3
    elif isinstance(value, str) and (match := _DELAY.match(value)):
        seconds = float(match.group(1)) * _DELAY_FACTOR[match.group(2)]
    else:
        raise ValueError(f"{value!r} is not a delay; write it like 2ms or 150us")
    if not 0 <= seconds <= MAX_DELAY:
        raise ValueError(f"delay {value!r} is out of range; use 0 to 10s")
    return seconds


def parse_port_range(value: object) -> tuple[int, int]:
    """``443`` -> (443, 443); ``"1024-65535"`` -> (1024, 65535); ``"any"`` -> (0, 65535)."""
    if isinstance(value, bool):
        raise ValueError("a port is a number or a range like 1024-65535")
    if value == "any":
        return (0, 65535)
    if isinstance(value, int):
        low = high = value
    elif isinstance(value, str) and (match := _PORTS.match(value)):
        low, high = int(match.group(1)), int(match.group(2) or match.group(1))
    else:
        raise ValueError(f"{value!r} is not a port or port range; write 443 or 1024-65535")
    if not 0 <= low <= high <= 65535:
        raise ValueError(f"port range {value!r} must lie within 0-65535, low before high")
    return (low, high)


def format_bandwidth(bps: float) -> str:
    """Short human form: 100000000 -> '100M'."""
    for factor, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if bps >= factor:
            return f"{bps / factor:g}{unit}"
    return f"{bps:g}"
