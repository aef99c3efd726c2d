"""The month's list ranked by intensity, with each person's trend over past months."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans.cases import guard, linking
from plans.cases.intensity import Intensity, add_contacts, intensity
from plans.cases.models import AGENCY_LABELS, Case, ListEntry
from plans.models import Team, User
from plans.vocabulary import Channel

TREND_MONTHS = 6


@dataclass(frozen=True)
class Ranked:
    """One person on the month's ranked list."""

    entry_id: int
    name: str
    date_of_birth: dt.date
    agencies: tuple[str, ...]
    contacts: dict[str, int]
    intensity: Intensity
    # Score per month, oldest first, ending with this month (None: not listed).
    trend: tuple[tuple[dt.date, int | None], ...]
    case_id: int | None

    @property
    def trend_words(self) -> str:
        """Return the trend as words: rising, falling, steady or new."""
        scores = [score for _month, score in self.trend if score is not None]
        if len(scores) < 2:
            return "new this month"
        if scores[-1] > scores[-2]:
            return "rising"
        if scores[-1] < scores[-2]:
            return "falling"
        return "steady"


def _months_before(month: dt.date, count: int) -> list[dt.date]:
    months = [month]
    for _ in range(count - 1):
        first = months[0]
        months.insert(0, (first - dt.timedelta(days=1)).replace(day=1))
    return months


def ranked_month(
    session: Session,
    team: Team,
    month: dt.date,
    *,
    by: User | str,
    channel: Channel,
) -> list[Ranked]:
    """Rank the month's people (confirmed matches joined) by frequency x risk."""
    guard.require_case_work(session, by, channel, team.id, "manage_cases")
    people = linking.confirmed_people(session, team.id)
    entries = linking.team_entries(session, team.id, around=month)
    months = _months_before(month, TREND_MONTHS)
    by_person: dict[int, list[ListEntry]] = {}
    for entry in entries:
        by_person.setdefault(people.find(entry.id), []).append(entry)
    cases = {
        entry_id: case_id
        for entry_id, case_id in session.execute(
            select(Case.entry_id, Case.id).where(Case.team_id == team.id)
        )
    }
    ranked: list[Ranked] = []
    for rows in by_person.values():
        this_month = [e for e in rows if e.agency_list.month == month]
        if not this_month:
            continue
        contacts = add_contacts(*(e.contacts for e in this_month))
        trend = []
        for each in months:
            listed = [e.contacts for e in rows if e.agency_list.month == each]
            trend.append(
                (each, intensity(add_contacts(*listed)).score if listed else None)
            )
        first = min(rows, key=lambda e: e.id)
        case_id = next((cases[e.id] for e in rows if e.id in cases), None)
        ranked.append(
            Ranked(
                entry_id=first.id,
                name=first.name,
                date_of_birth=first.date_of_birth,
                agencies=tuple(
                    sorted({AGENCY_LABELS[e.agency_list.agency] for e in this_month})
                ),
                contacts=contacts,
                intensity=intensity(contacts),
                trend=tuple(trend),
                case_id=case_id,
            )
        )
    ranked.sort(
        key=lambda r: (-r.intensity.score, -r.intensity.contacts, r.name, r.entry_id)
    )
    return ranked
