"""Where a response plan places the person: home, crisis locations, places of safety.

Chat (named places), following an area (NRL outbox) and search all read the
same three lists from a plan document; this is the one reader, so a place a
plan adds is found by every channel or by none.
"""

from __future__ import annotations

from typing import Any, Literal

PlaceKind = Literal["home", "crisis_locations", "places_of_safety"]


def plan_places(document: dict[str, Any]) -> list[tuple[PlaceKind, dict[str, Any]]]:
    """Return (kind, place) for each place in a plan document with a numeric lat/lon."""
    found: list[tuple[PlaceKind, dict[str, Any]]] = []
    address = (document.get("person") or {}).get("address")
    if isinstance(address, dict):
        found.append(("home", address))
    plan = document.get("plan") or {}
    kinds: tuple[PlaceKind, ...] = ("crisis_locations", "places_of_safety")
    for kind in kinds:
        found.extend((kind, p) for p in plan.get(kind) or [] if isinstance(p, dict))
    return [
        (kind, place)
        for kind, place in found
        if _is_number(place.get("lat")) and _is_number(place.get("lon"))
    ]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
