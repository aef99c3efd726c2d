"""Intensity: frequency x risk, on the Risk Quantification Matrix (docs/cases.md).

Pure functions over a month's contacts. Likelihood is banded from how often the
person was in contact with any agency that month; impact is the most serious
kind of contact in the month. Their product (1-25) ranks the month's list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Columns of the agency list, each with its impact on the matrix (1 minor - 5
# catastrophic) and the words shown beside it.
CONTACT_TYPES: dict[str, tuple[int, str]] = {
    "calls": (1, "calls (999, 111, 101)"),
    "attendances": (2, "attendances (at scene or at the Emergency Department)"),
    "conveyances": (3, "conveyances to hospital"),
    "detentions": (4, "detentions (s.136, s.135, custody)"),
    "serious_incidents": (5, "serious incidents (harm needing treatment)"),
}

# Upper bound of contacts in a month for each likelihood band 1-4; above is 5.
LIKELIHOOD_BANDS: tuple[int, ...] = (2, 5, 10, 20)
RISK_BANDS: tuple[tuple[int, str], ...] = (
    (4, "low"),
    (9, "moderate"),
    (16, "high"),
    (25, "very high"),
)


@dataclass(frozen=True)
class Intensity:
    """One person's month on the matrix."""

    contacts: int
    likelihood: int
    impact: int

    @property
    def score(self) -> int:
        """Return likelihood x impact, 0 with no contacts."""
        return self.likelihood * self.impact

    @property
    def band(self) -> str:
        """Return the matrix's band in words."""
        if self.score == 0:
            return "none"
        return next(name for top, name in RISK_BANDS if self.score <= top)


def likelihood(contacts: int) -> int:
    """Return the likelihood band (0 with no contacts, else 1-5)."""
    if contacts <= 0:
        return 0
    for band, top in enumerate(LIKELIHOOD_BANDS, start=1):
        if contacts <= top:
            return band
    return 5


def intensity(contacts: Mapping[str, int]) -> Intensity:
    """Return the month's place on the matrix for contacts by kind."""
    total = sum(count for count in contacts.values() if count > 0)
    impact = max(
        (CONTACT_TYPES[kind][0] for kind, count in contacts.items() if count > 0),
        default=0,
    )
    return Intensity(contacts=total, likelihood=likelihood(total), impact=impact)


def add_contacts(*months: Mapping[str, int]) -> dict[str, int]:
    """Add contacts by kind from several agencies' rows."""
    out = dict.fromkeys(CONTACT_TYPES, 0)
    for contacts in months:
        for kind, count in contacts.items():
            out[kind] = out.get(kind, 0) + count
    return out
