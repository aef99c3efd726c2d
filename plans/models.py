"""Core tables: teams, people, plan versions, users and API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from plans import document as plan_document
from plans import vocabulary
from plans.db import Base, utcnow
from plans.hours import TeamContacts

# The typed vocabulary lives in plans.vocabulary; these names stay for callers.
RESPONDER_KINDS: tuple[str, ...] = vocabulary.RESPONDER_ROLES
STAFF_ROLES: tuple[str, ...] = vocabulary.STAFF_ROLES
ROLES: tuple[str, ...] = vocabulary.ROLES

ROLE_LABELS: dict[str, str] = {
    "police": "Police",
    "ambulance": "Ambulance",
    "emergency_department": "Emergency Department",
    "control_room": "Control room",
    "mental_health_crisis_team": "Mental-health crisis team",
    "home_treatment_team": "Home treatment team",
    "liaison_psychiatry": "Liaison psychiatry",
    "nhs_111_crisis_line": "NHS 111 and crisis lines",
    "street_triage": "Street triage",
    "liaison_and_diversion": "Liaison and diversion",
    "mentor": "Mentor",
    "lead_clinician": "Lead clinician",
    "privacy_officer": "Privacy officer",
    "admin": "Administrator",
    "team_lead": "Team lead",
    "network": "Network",
}

PLAN_STATUSES: tuple[str, ...] = vocabulary.PLAN_STATUSES
SHARING_BASES: tuple[str, ...] = ("consent", "vital_interests", "public_task")


class Team(Base):
    """A mental-health or high-intensity team that owns plans."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # `phone` and `hours` are the in-hours line; a responder at 2 a.m. needs the
    # out-of-hours line or the area's 24-hour crisis line instead (plans.hours).
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    hours: Mapped[str | None] = mapped_column(String(200))
    out_of_hours_phone: Mapped[str | None] = mapped_column(String(40))
    # None: the out-of-hours line answers whenever the team is closed.
    out_of_hours: Mapped[str | None] = mapped_column(String(200))
    crisis_line: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    people: Mapped[list[Person]] = relationship(back_populates="team")

    @property
    def contacts(self) -> TeamContacts:
        """Return the team's lines and hours, for choosing the one open now."""
        return TeamContacts(
            team_name=self.name,
            in_hours_phone=self.phone,
            in_hours=self.hours,
            out_of_hours_phone=self.out_of_hours_phone,
            out_of_hours=self.out_of_hours,
            crisis_line=self.crisis_line,
        )

    def exchange_dict(self) -> dict[str, Any]:
        """Return the team as the exchange format's `team` object."""
        out: dict[str, Any] = {"code": self.code, "name": self.name}
        for key in ("phone", "email", "hours"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


class Person(Base):
    """Someone with a crisis response plan; `ref` is stable across teams."""

    __tablename__ = "people"
    # A unique index rather than a constraint: SQLite adds an index without
    # rebuilding the table (which every plan version refers to).
    __table_args__ = (Index("uq_people_nhs_number", "nhs_number", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    # Ten digits, checked (modulus 11) and normalised by plans.nhs_numbers; one
    # person per number, so an exact search finds exactly one.
    nhs_number: Mapped[str | None] = mapped_column(String(10))
    preferred_name: Mapped[str | None] = mapped_column(String(100))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(Text)
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    team: Mapped[Team] = relationship(back_populates="people")
    versions: Mapped[list[PlanVersion]] = relationship(
        back_populates="person",
        order_by="PlanVersion.version",
        foreign_keys="PlanVersion.person_id",
    )

    @property
    def display_name(self) -> str:
        """Return the name a responder would call the person by."""
        given = self.preferred_name or self.given_name
        return f"{given} {self.family_name}"

    @property
    def town(self) -> str | None:
        """Return the town of the person's home, as far as the address says."""
        if not self.address:
            return None
        text = self.address.get("address") or ""
        if "," in text:
            return text.rsplit(",", 1)[1].strip() or None
        return None

    def age_on(self, day: dt.date) -> int | None:
        """Return the person's age in whole years on `day`."""
        if self.date_of_birth is None:
            return None
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))

    def exchange_dict(self) -> dict[str, Any]:
        """Return the person as the exchange format's `person` object."""
        out: dict[str, Any] = {
            "ref": self.ref,
            "given_name": self.given_name,
            "family_name": self.family_name,
        }
        if self.nhs_number:
            out["nhs_number"] = self.nhs_number
        if self.preferred_name:
            out["preferred_name"] = self.preferred_name
        out["aliases"] = list(self.aliases or [])
        if self.date_of_birth:
            out["date_of_birth"] = self.date_of_birth.isoformat()
        if self.sex:
            out["sex"] = self.sex
        if self.description:
            out["description"] = self.description
        if self.address:
            out["address"] = dict(self.address)
        return out

    def live_version(self, session: Session) -> PlanVersion | None:
        """Return the live version of this person's plan, if any."""
        from sqlalchemy import select

        return session.scalar(
            select(PlanVersion).where(
                PlanVersion.person_id == self.id, PlanVersion.status == "live"
            )
        )


class PlanVersion(Base):
    """One version of a person's plan; immutable once it leaves draft.

    `document` holds the whole response-plan/1 document of this version, so every
    field of the exchange format round-trips; the columns beside it are the parts
    the service queries or must record on every version (approval, consent,
    lawful basis, review date).
    """

    __tablename__ = "plan_versions"
    __table_args__ = (
        UniqueConstraint(
            "person_id", "version", name="uq_plan_versions_person_version"
        ),
        CheckConstraint(
            "status IN ('draft', 'live', 'superseded', 'retired')", name="status"
        ),
        # Exactly one live version per person, enforced by the database itself.
        Index(
            "uq_plan_versions_one_live",
            "person_id",
            unique=True,
            sqlite_where=text("status = 'live'"),
            postgresql_where=text("status = 'live'"),
        ),
        Index("ix_plan_versions_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    document: Mapped[dict[str, Any]] = mapped_column(JSON)

    # Recorded on every version (lines we do not cross: consent, basis, approval,
    # review date).
    review_by: Mapped[dt.date | None] = mapped_column(Date)
    sharing_basis: Mapped[str | None] = mapped_column(String(20))
    agreed_with_person: Mapped[bool | None]
    agreed_on: Mapped[dt.date | None] = mapped_column(Date)
    approved_by_name: Mapped[str | None] = mapped_column(String(200))
    approved_on: Mapped[dt.date | None] = mapped_column(Date)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    # Guardrail findings and the lead clinician's acknowledgements, as lists of
    # dicts; see plans.guardrails.
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    acknowledgements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(500))
    # Optimistic concurrency: a save that started from an older edit is refused.
    edit_count: Mapped[int] = mapped_column(Integer, default=1)

    person: Mapped[Person] = relationship(
        back_populates="versions", foreign_keys=[person_id]
    )

    __mapper_args__ = {"version_id_col": edit_count}

    @property
    def summary(self) -> str:
        """Return the summary a responder reads first."""
        return plan_document.summary(self.document)

    def review_overdue(self, today: dt.date) -> bool:
        """Say whether the plan is past its review date."""
        return self.review_by is not None and self.review_by < today

    def sync_recorded_fields(self) -> None:
        """Copy the recorded fields out of the document into their columns."""
        plan = plan_document.plan_of(self.document)
        self.review_by = plan.review_by
        self.sharing_basis = plan.sharing_basis
        agreement = plan.agreement
        self.agreed_with_person = agreement.agreed_with_person if agreement else None
        self.agreed_on = agreement.agreed_on if agreement else None
        self.approved_by_name = plan.approved_by
        self.approved_on = plan.approved_on


# Columns that may change after a version leaves draft: its lifecycle only.
_LIFECYCLE_COLUMNS = frozenset(
    {"status", "ended_at", "end_reason", "edit_count", "updated_at", "published_at"}
)


def _refuse_edits_to_published_versions(
    session: Session, _context: Any, _instances: Any
) -> None:
    """Refuse any change to a version's content once it has been published."""
    for obj in session.dirty:
        if not isinstance(obj, PlanVersion):
            continue
        state = inspect(obj)
        status_history = state.attrs.status.history
        original = status_history.deleted[0] if status_history.deleted else obj.status
        if original == "draft":
            continue
        for attr in state.attrs:
            if attr.key in _LIFECYCLE_COLUMNS or attr.key == "person":
                continue
            if attr.history.has_changes():
                raise PublishedVersionImmutable(
                    f"version {obj.version} of {obj.person_id} is {original}; "
                    f"{attr.key} cannot change"
                )


class PublishedVersionImmutable(Exception):
    """A published, superseded or retired version's content cannot change."""


class User(Base):
    """A person who signs in: a responder, mentor, clinician or officer."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN (" + ", ".join(f"'{role}'" for role in vocabulary.ROLES) + ")",
            name="role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[dt.datetime | None]
    # Why and by whom, so the person locked out is told whom to ask.
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    disabled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_login_at: Mapped[dt.datetime | None]

    memberships: Mapped[list[TeamMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def teams(self) -> list[Team]:
        """Return the teams this user belongs to."""
        return [membership.team for membership in self.memberships]

    @property
    def team_ids(self) -> set[int]:
        """Return the ids of the teams this user belongs to."""
        return {membership.team_id for membership in self.memberships}

    @property
    def is_responder(self) -> bool:
        """Say whether this user responds at scene (police, ambulance, ED, control)."""
        return self.role in RESPONDER_KINDS

    @property
    def role_label(self) -> str:
        """Return the role in words."""
        return ROLE_LABELS.get(self.role, self.role)

    # Flask-Login's user protocol, duck-typed so this module never imports Flask.
    @property
    def is_active(self) -> bool:
        """Say whether the account may sign in (not disabled)."""
        return bool(self.active)

    @property
    def is_authenticated(self) -> bool:
        """Say that a loaded user is signed in (anonymous users are another class)."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Say that a loaded user is not anonymous."""
        return False

    def get_id(self) -> str:
        """Return the id Flask-Login keeps in the session."""
        return str(self.id)


class TeamMembership(Base):
    """A user's membership of a team, which scopes what they may edit."""

    __tablename__ = "team_memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)

    user: Mapped[User] = relationship(back_populates="memberships")
    team: Mapped[Team] = relationship()


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="api")
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()
