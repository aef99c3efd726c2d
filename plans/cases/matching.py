"""Which rows of different lists may be the same person, and why: pure functions.

Names are compared with the search's own matching (`plans.search.names`:
spelling variants, nicknames, phonetic codes, typos), dates of birth exactly,
with day and month swapped, or one digit apart, and NHS numbers when both rows
have one. A proposal is only a proposal: a person confirms or rejects it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from plans.search.names import match_token, phonetic_keys
from plans.search.text import words


@dataclass(frozen=True)
class Row:
    """What matching needs of a list row."""

    key: int
    given_name: str
    family_name: str
    date_of_birth: dt.date
    nhs_number: str | None = None
    # Rows of one group (one list) are never compared with each other.
    group: str = ""


@dataclass(frozen=True)
class Proposal:
    """Two rows that may be the same person, with the reasons in words."""

    key: int
    other_key: int
    score: float
    reasons: tuple[str, ...]


def _name_quality(typed: str, name: str) -> tuple[float, str]:
    """Return the best match of any word of one name with any word of the other."""
    best, reason = 0.0, ""
    for a in words(typed):
        for b in words(name):
            for x, y, display in ((a, b, name), (b, a, typed)):
                found = match_token(x, y, display)
                if found.quality > best:
                    best, reason = found.quality, found.reason
    return best, reason


def _digits_apart(a: dt.date, b: dt.date) -> int:
    return sum(x != y for x, y in zip(f"{a:%Y%m%d}", f"{b:%Y%m%d}", strict=True))


def date_quality(a: dt.date, b: dt.date) -> tuple[float, str]:
    """Return how well two dates of birth agree, and why in words."""
    if a == b:
        return 1.0, "same date of birth"
    if a.year == b.year and a.day == b.month and a.month == b.day:
        return 0.9, "date of birth with day and month swapped"
    if _digits_apart(a, b) == 1:
        return 0.7, "date of birth one digit apart"
    return 0.0, ""


def compare(a: Row, b: Row) -> Proposal | None:
    """Return a proposal if the two rows may be the same person, else None."""
    if a.nhs_number and b.nhs_number and a.nhs_number != b.nhs_number:
        return None
    same_nhs = bool(a.nhs_number) and a.nhs_number == b.nhs_number
    born, born_reason = date_quality(a.date_of_birth, b.date_of_birth)
    given, given_reason = _name_quality(a.given_name, b.given_name)
    family, family_reason = _name_quality(a.family_name, b.family_name)
    swapped = False
    if given < 0.86 or family < 0.86:
        # Some lists put the family name first.
        cross_given, _ = _name_quality(a.given_name, b.family_name)
        cross_family, _ = _name_quality(a.family_name, b.given_name)
        if min(cross_given, cross_family) >= 0.93 > min(given, family):
            given, family, swapped = cross_given, cross_family, True
    likely = (
        same_nhs
        or (born >= 0.9 and family >= 0.8 and given >= 0.72)
        or (born == 1.0 and family >= 0.66 and given >= 0.86)
        or (born >= 0.7 and family >= 0.93 and given >= 0.93)
    )
    if not likely:
        return None
    reasons: list[str] = []
    if same_nhs:
        reasons.append("same NHS number")
    if born_reason:
        reasons.append(born_reason)
    if swapped:
        reasons.append("given and family names written the other way round")
    else:
        reasons.append(
            "same given name" if given == 1.0 else f"given name: {given_reason}"
        )
        reasons.append(
            "same family name" if family == 1.0 else f"family name: {family_reason}"
        )
    score = 1.0 if same_nhs else round(0.4 * born + 0.3 * given + 0.3 * family, 3)
    return Proposal(a.key, b.key, score, tuple(r for r in reasons if r))


def propose(rows: Sequence[Row], existing: Iterable[Row] = ()) -> list[Proposal]:
    """Propose matches of `rows` with each other and with `existing` rows.

    Rows of the same group are never compared. Each pair is proposed once, the
    new row first.
    """
    index: dict[str, list[Row]] = {}
    pool = [*existing, *rows]
    for row in pool:
        for key in block_keys(row):
            index.setdefault(key, []).append(row)
    proposals: list[Proposal] = []
    seen: set[tuple[int, int]] = set()
    for row in rows:
        for key in block_keys(row):
            for other in index.get(key, ()):
                if other.key == row.key or other.group == row.group:
                    continue
                pair = (min(row.key, other.key), max(row.key, other.key))
                if pair in seen:
                    continue
                seen.add(pair)
                found = compare(row, other)
                if found is not None:
                    proposals.append(found)
    return proposals


def block_keys(row: Row) -> set[str]:
    """Return keys that any row it could match shares with it (cheap blocking)."""
    dob = row.date_of_birth
    dates = {dob.isoformat()}
    if dob.day <= 12:
        dates.add(f"{dob.year}-{dob.day:02d}-{dob.month:02d}")
    sounds = {
        code for name in words(row.family_name) for code in phonetic_keys(name) if code
    } | {code for name in words(row.given_name) for code in phonetic_keys(name) if code}
    keys = {f"d:{date}" for date in dates}
    # One digit apart in the date, same sounding name: the year and a sound.
    keys |= {f"y:{dob.year}:{sound}" for sound in sounds}
    keys |= {f"m:{dob.month}-{dob.day}:{sound}" for sound in sounds}
    if row.nhs_number:
        keys.add(f"n:{row.nhs_number}")
    return keys
