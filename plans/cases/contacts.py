"""The mentors' contact log: date and kind, never a clinical note (Guide s.25, s.57).

The clinical note stays in the trust's own record; the log keeps only a reference
to that entry. Three or more contacts in which the person was supported start the
data requirement of Guide s.57.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import clock
from plans.cases import guard
from plans.cases.models import CONTACT_KINDS, Case, CaseContact
from plans.models import User
from plans.vocabulary import Channel

KIND_WORDS: dict[str, str] = {
    "face_to_face": "face to face",
    "phone": "phone",
    "did_not_attend": "did not attend",
    "attempt": "attempted contact",
    "significant_event": "significant event",
}
# Contacts in which the person was supported (s.57 counts these).
SUPPORTED: frozenset[str] = frozenset(("face_to_face", "phone"))
DATA_REQUIREMENT_FROM = 3


class ContactError(ValueError):
    """A contact that cannot be logged as given; the message says why."""


def record_contact(
    session: Session,
    case: Case,
    *,
    on: dt.date,
    kind: str,
    trust_reference: str | None,
    next_contact: dt.date | None,
    by: User | str,
    channel: Channel,
) -> CaseContact:
    """Log one contact: its date, kind, the trust record's reference, the next one."""
    guard.require_case_work(session, by, channel, case.team_id, "manage_cases")
    if kind not in CONTACT_KINDS:
        raise ContactError("choose the kind of contact")
    if on > clock.today():
        raise ContactError("a contact is logged on or after the day it happened")
    if next_contact is not None and next_contact < on:
        raise ContactError("the next contact comes after this one")
    reference = (trust_reference or "").strip() or None
    if reference is not None and (len(reference) > 100 or "\n" in reference):
        # A reference, not a note: the note belongs in the trust's record.
        raise ContactError(
            "give the reference of the trust record's entry, not the note itself"
        )
    contact = CaseContact(
        case_id=case.id,
        on=on,
        kind=kind,
        trust_reference=reference,
        next_contact=next_contact,
        recorded_by_id=by.id if isinstance(by, User) else None,
    )
    session.add(contact)
    session.flush()
    guard.record(
        session,
        by,
        action="case_contact_recorded",
        channel=channel,
        detail={"case_id": case.id, "outcome": kind},
    )
    return contact


@dataclass(frozen=True)
class ContactSummary:
    """A case's contact log in short."""

    contacts: tuple[CaseContact, ...]
    supported: int
    next_contact: dt.date | None

    @property
    def data_requirement(self) -> bool:
        """Say whether s.57's data requirement applies (three or more supported)."""
        return self.supported >= DATA_REQUIREMENT_FROM


def summary(session: Session, case: Case) -> ContactSummary:
    """Return the case's contacts (newest first), supported count, next contact."""
    contacts = tuple(
        session.scalars(
            select(CaseContact)
            .where(CaseContact.case_id == case.id)
            .order_by(CaseContact.on.desc(), CaseContact.id.desc())
        )
    )
    return ContactSummary(
        contacts=contacts,
        supported=sum(1 for c in contacts if c.kind in SUPPORTED),
        next_contact=contacts[0].next_contact if contacts else None,
    )
