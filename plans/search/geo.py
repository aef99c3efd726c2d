"""Distances on the Earth's surface and the boxes that bound them."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two points in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = (
        math.sin(d_phi / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(
    lat: float, lon: float, radius_m: float
) -> tuple[float, float, float, float]:
    """Return (min_lat, max_lat, min_lon, max_lon) around a point and radius."""
    d_lat = math.degrees(radius_m / EARTH_RADIUS_M)
    cos_lat = max(math.cos(math.radians(lat)), 0.01)
    d_lon = min(180.0, math.degrees(radius_m / (EARTH_RADIUS_M * cos_lat)))
    return (
        max(-90.0, lat - d_lat),
        min(90.0, lat + d_lat),
        lon - d_lon,
        lon + d_lon,
    )


def describe_distance(metres: float) -> str:
    """Return a distance as a responder reads it: "320 m", "1.2 km", "14 km"."""
    if metres < 1000:
        return f"{max(10, round(metres / 10) * 10)} m"
    if metres < 10_000:
        return f"{metres / 1000:.1f} km"
    return f"{round(metres / 1000)} km"
