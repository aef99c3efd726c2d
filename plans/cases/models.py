"""Tables of the case workflow: agency lists, proposed matches, cases, consents."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plans.db import Base, utcnow
from plans.models import Person, Team, User

# The agencies of a High Intensity User group that bring a monthly list.
AGENCIES: tuple[str, ...] = (
    "police",
    "ambulance",
    "emergency_department",
    "mental_health",
)
AGENCY_LABELS: dict[str, str] = {
    "police": "Police",
    "ambulance": "Ambulance",
    "emergency_department": "Emergency Department",
    "mental_health": "Mental health",
}
MATCH_STATUSES: tuple[str, ...] = ("proposed", "confirmed", "rejected")
DECISIONS: tuple[str, ...] = ("allocate", "review", "not_suitable")
CONSENT_ANSWERS: tuple[str, ...] = ("invited", "accepted", "declined", "stopped")
CONTACT_KINDS: tuple[str, ...] = (
    "face_to_face",
    "phone",
    "did_not_attend",
    "attempt",
    "significant_event",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class AgencyList(Base):
    """One agency's list of its most frequent callers for one month."""

    __tablename__ = "case_lists"
    __table_args__ = (
        UniqueConstraint("team_id", "agency", "month", name="uq_case_lists_month"),
        CheckConstraint(_in("agency", AGENCIES), name="agency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    agency: Mapped[str] = mapped_column(String(32))
    # The first day of the month the list covers.
    month: Mapped[dt.date] = mapped_column(Date)
    row_count: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    team: Mapped[Team] = relationship()
    entries: Mapped[list[ListEntry]] = relationship(
        back_populates="agency_list", order_by="ListEntry.line"
    )


class ListEntry(Base):
    """One row of an agency list: who, and how often they were in contact."""

    __tablename__ = "case_list_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("case_lists.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[dt.date] = mapped_column(Date)
    nhs_number: Mapped[str | None] = mapped_column(String(10))
    # Contacts this month by kind (plans.cases.intensity.CONTACT_TYPES).
    contacts: Mapped[dict[str, int]] = mapped_column(JSON)

    agency_list: Mapped[AgencyList] = relationship(back_populates="entries")

    @property
    def name(self) -> str:
        """Return the name as the agency wrote it."""
        return f"{self.given_name} {self.family_name}"

    @property
    def total_contacts(self) -> int:
        """Return the month's contacts of every kind."""
        return sum(self.contacts.values())


class MatchProposal(Base):
    """Two list rows that may be the same person, waiting for a person's word."""

    __tablename__ = "case_matches"
    __table_args__ = (
        UniqueConstraint("entry_id", "other_entry_id", name="uq_case_matches_pair"),
        CheckConstraint(_in("status", MATCH_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("case_list_entries.id"))
    other_entry_id: Mapped[int] = mapped_column(ForeignKey("case_list_entries.id"))
    score: Mapped[float]
    reasons: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    entry: Mapped[ListEntry] = relationship(foreign_keys=[entry_id])
    other_entry: Mapped[ListEntry] = relationship(foreign_keys=[other_entry_id])


class Case(Base):
    """A person the group has decided to discuss, allocate and follow."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    # The list row the case was opened from; confirmed matches join the others.
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("case_list_entries.id"), unique=True
    )
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[dt.date] = mapped_column(Date)
    nhs_number: Mapped[str | None] = mapped_column(String(10))
    # Set when the first plan is drafted: from then on the person's drafts wait
    # for the permission and consent recorded here (plans.cases.workflow).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), unique=True)
    clinician_mentor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    police_mentor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lead_clinician_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    allocated_at: Mapped[dt.datetime | None]
    next_review: Mapped[dt.date | None] = mapped_column(Date)
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    team: Mapped[Team] = relationship()
    entry: Mapped[ListEntry] = relationship()
    person: Mapped[Person | None] = relationship()
    clinician_mentor: Mapped[User | None] = relationship(
        foreign_keys=[clinician_mentor_id]
    )
    police_mentor: Mapped[User | None] = relationship(foreign_keys=[police_mentor_id])
    lead_clinician: Mapped[User | None] = relationship(foreign_keys=[lead_clinician_id])
    permissions: Mapped[list[Permission]] = relationship(
        back_populates="case", order_by="Permission.id"
    )
    consents: Mapped[list[Consent]] = relationship(
        back_populates="case", order_by="Consent.id"
    )
    nominees: Mapped[list[NomineeConsent]] = relationship(
        back_populates="case", order_by="NomineeConsent.id"
    )

    @property
    def name(self) -> str:
        """Return the person's name as the first list wrote it."""
        return f"{self.given_name} {self.family_name}"


class Permission(Base):
    """The lead clinician's permission to start mentoring (Guide s.20, s.21, s.33).

    The newest row counts. A change in capacity is recorded as a row that is not
    granted, so drafting waits for the lead clinician to look again.
    """

    __tablename__ = "case_permissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    granted: Mapped[bool]
    # C-U-R-E: communicate, understand, retain, employ (weigh) the information.
    capacity: Mapped[dict[str, bool]] = mapped_column(JSON)
    likely_benefit: Mapped[bool]
    no_disruption: Mapped[bool]
    # Clinical: never shown to police mentors.
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="permissions")
    recorded_by: Mapped[User | None] = relationship()


class Consent(Base):
    """An invitation to take part, or the person's answer, in their own words."""

    __tablename__ = "case_consents"
    __table_args__ = (CheckConstraint(_in("answer", CONSENT_ANSWERS), name="answer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    answer: Mapped[str] = mapped_column(String(12))
    person_words: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="consents")


class NomineeConsent(Base):
    """What one family member or friend may be told, and until when (s.24)."""

    __tablename__ = "case_nominee_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    nominee: Mapped[str] = mapped_column(String(200))
    relationship_to_person: Mapped[str | None] = mapped_column(String(100))
    may_be_told: Mapped[str] = mapped_column(Text)
    until: Mapped[dt.date | None] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None]

    case: Mapped[Case] = relationship(back_populates="nominees")


class Meeting(Base):
    """A monthly meeting of the group: who came for which agency, and its questions."""

    __tablename__ = "case_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    # [{"name": ..., "agency": ...}]
    attendees: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    questions: Mapped[list[str]] = mapped_column(JSON)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    discussions: Mapped[list[Discussion]] = relationship(
        back_populates="meeting", order_by="Discussion.id"
    )


class Discussion(Base):
    """One person discussed at a meeting: answers, decision, reasons, next review."""

    __tablename__ = "case_discussions"
    __table_args__ = (CheckConstraint(_in("decision", DECISIONS), name="decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("case_meetings.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # {question: "yes" | "no" | "unsure"}
    answers: Mapped[dict[str, str]] = mapped_column(JSON)
    decision: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(Text)
    next_review: Mapped[dt.date | None] = mapped_column(Date)

    meeting: Mapped[Meeting] = relationship(back_populates="discussions")
    case: Mapped[Case] = relationship()


class CaseContact(Base):
    """A mentor's contact with the person; the clinical note stays in the trust."""

    __tablename__ = "case_contacts"
    __table_args__ = (CheckConstraint(_in("kind", CONTACT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    # Where the note is: the trust record's own reference, never the note.
    trust_reference: Mapped[str | None] = mapped_column(String(100))
    next_contact: Mapped[dt.date | None] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class BorderQuestion(Base):
    """One group asking another whether a name on its list is known there."""

    __tablename__ = "case_border_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    to_team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("case_list_entries.id"))
    asked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # "asked", "known" (answered with a contact) or "not_known".
    status: Mapped[str] = mapped_column(String(12), default="asked")
    contact: Mapped[str | None] = mapped_column(String(300))
    answered_at: Mapped[dt.datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    entry: Mapped[ListEntry] = relationship()
    from_team: Mapped[Team] = relationship(foreign_keys=[from_team_id])
    to_team: Mapped[Team] = relationship(foreign_keys=[to_team_id])
