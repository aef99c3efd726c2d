"""What the person experienced, shown beside demand on every page and report.

Falling demand can hide harm, so concerns and complaints, withdrawals, crises in
which the plan was opened, and deaths are always counted alongside it. Counts
that leave the team are suppressed below five.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import audit, rules
from plans.access import AccessGrant
from plans.clock import today
from plans.models import Person, User
from plans.people import PersonRequest
from plans.portal.demand import DemandError, require_team_member
from plans.portal.models import HarmEvent
from plans.vocabulary import Channel

SUPPRESS_BELOW = 5

HARM_KINDS: dict[str, str] = {
    "concerns": "Concerns and complaints",
    "withdrawals": "Withdrawal requests",
    "openings": "Crises where the plan was opened",
    "deaths": "Deaths",
}
EVENT_KINDS: dict[str, str] = {
    "death": "Death",
    "complaint": "Complaint made outside this service",
    "serious_incident": "Serious incident",
}


def suppressed(count: int) -> str:
    """Return a count fit to leave the team: 1 to 4 become "<5"."""
    if 0 < count < SUPPRESS_BELOW:
        return f"<{SUPPRESS_BELOW}"
    return str(count)


@dataclass
class Harms:
    """Harm counts per month, by kind."""

    months: list[dt.date]
    counts: dict[str, list[int]] = field(default_factory=dict)

    def total(self, kind: str) -> int:
        """Return the kind's count over every month."""
        return sum(self.counts.get(kind, []))


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def harms_by_month(
    session: Session, person_ids: Iterable[int], months: list[dt.date]
) -> Harms:
    """Count each kind of harm per month for these people."""
    ids = list(person_ids)
    harms = Harms(months, {kind: [0] * len(months) for kind in HARM_KINDS})
    if not months:
        return harms
    index = {month: i for i, month in enumerate(months)}
    first = dt.datetime.combine(months[0], dt.time.min, tzinfo=dt.UTC)

    def bump(kind: str, day: dt.date) -> None:
        at = index.get(_month(day))
        if at is not None:
            harms.counts[kind][at] += 1

    for kind, created in session.execute(
        select(PersonRequest.kind, PersonRequest.created_at).where(
            PersonRequest.person_id.in_(ids), PersonRequest.created_at >= first
        )
    ):
        if kind == "concern":  # a change request is not a complaint
            bump("concerns", created.date())
        elif kind == "withdrawal":
            bump("withdrawals", created.date())
    for (granted,) in session.execute(
        select(AccessGrant.granted_at).where(
            AccessGrant.person_id.in_(ids), AccessGrant.granted_at >= first
        )
    ):
        bump("openings", granted.date())
    for kind, occurred in session.execute(
        select(HarmEvent.kind, HarmEvent.occurred_on).where(
            HarmEvent.person_id.in_(ids), HarmEvent.occurred_on >= months[0]
        )
    ):
        bump("deaths" if kind == "death" else "concerns", occurred)
    return harms


def record_harm(
    session: Session,
    person: Person,
    kind: str,
    occurred_on: dt.date,
    *,
    by: User,
    channel: Channel = "web",
) -> HarmEvent:
    """Record a death, an outside complaint or a serious incident for a person."""
    rules.require(by, channel, "enter_demand")
    require_team_member(by, person.team_id)
    if kind not in EVENT_KINDS:
        raise DemandError(f"choose one of: {', '.join(EVENT_KINDS)}")
    if occurred_on > today():
        raise DemandError("that date has not happened yet")
    event = HarmEvent(
        person_id=person.id, kind=kind, occurred_on=occurred_on, recorded_by_id=by.id
    )
    session.add(event)
    audit.record_for(
        session,
        by,
        action="harm_recorded",
        channel=channel,
        person_ref=person.ref,
        detail={"reason_code": kind},
    )
    return event
