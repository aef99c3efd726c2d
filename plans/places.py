"""Where a response plan places the person, as the dicts search still reads.

The one reader of a plan's places is `plans.document.places` (typed `Place`s);
`plan_places` hands the same places to plans/search/ as exchange-format dicts
until search reads the typed ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plans import document as plan_document
from plans.document import PlaceKind

__all__ = ["PlaceKind", "plan_places"]


def plan_places(
    document: Mapping[str, Any],
) -> list[tuple[PlaceKind, dict[str, Any]]]:
    """Return (kind, place) for each place in a plan document with a numeric lat/lon."""
    return [(kind, place.as_dict()) for kind, place in plan_document.places(document)]
