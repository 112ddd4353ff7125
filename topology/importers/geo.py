"""Distances between coordinates and the propagation delay of fibre laid along them.

A link's latency is estimated as the great-circle distance between its ends
(haversine formula on a sphere of the Earth's mean radius) divided by the
speed of light in fibre, about 2e8 m/s. Real fibre routes are longer, so the
estimate is a lower bound.

    >>> round(great_circle_m(52.52, 13.405, 48.8566, 2.3522) / 1000)  # Berlin - Paris
    877
    >>> round(fibre_delay(878e3) * 1e3, 2)                               # seconds -> ms
    4.39
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
LIGHT_IN_FIBRE_M_S = 2e8


def is_lat_lon(lat: float, lon: float) -> bool:
    """Whether ``(lat, lon)`` lies within the ranges of degrees on the Earth."""
    return math.isfinite(lat) and math.isfinite(lon) and -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def fibre_delay(distance_m: float) -> float:
    """One-way propagation delay in seconds over ``distance_m`` metres of fibre."""
    return distance_m / LIGHT_IN_FIBRE_M_S
