"""The portal's tables, keyed on people and teams."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from plans.db import Base, utcnow
from plans.models import Person, Team, User


class DemandCount(Base):
    """How many of one unit a person used in one month (month = its first day)."""

    __tablename__ = "portal_demand"
    __table_args__ = (
        UniqueConstraint("person_id", "month", "unit", name="uq_portal_demand_cell"),
        CheckConstraint("count >= 0", name="count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    month: Mapped[dt.date] = mapped_column(Date)
    unit: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(60))
    entered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship()


class DemandRevision(Base):
    """A correction of a stored count: what it was, what it became, who and why."""

    __tablename__ = "portal_demand_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("portal_demand.id"), index=True)
    old_count: Mapped[int] = mapped_column(Integer)
    new_count: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(60))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class MentoringStart(Base):
    """The day mentoring began, when it is not the first published plan's day."""

    __tablename__ = "portal_mentoring_starts"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    started_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class UnitCost(Base):
    """A team's cost of one unit from a date on (costs change; history is kept)."""

    __tablename__ = "portal_unit_costs"
    __table_args__ = (
        UniqueConstraint("team_id", "unit", "valid_from", name="uq_portal_unit_costs"),
        CheckConstraint("pounds >= 0", name="pounds"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    unit: Mapped[str] = mapped_column(String(40))
    pounds: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(300))
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class HarmEvent(Base):
    """Something the person experienced that demand figures can hide (a death)."""

    __tablename__ = "portal_harm_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('death', 'complaint', 'serious_incident')", name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SavedReport(Base):
    """A person's report as it stood the day it was built; never changed after."""

    __tablename__ = "portal_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    built_on: Mapped[dt.date] = mapped_column(Date)
    built_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    built_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)

    person: Mapped[Person] = relationship()
    comments: Mapped[list[ReportComment]] = relationship(
        back_populates="report", order_by="ReportComment.id"
    )


class ReportComment(Base):
    """The person's own comment on one of their reports."""

    __tablename__ = "portal_report_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("portal_reports.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    report: Mapped[SavedReport] = relationship(back_populates="comments")


class TeamProfile(Base):
    """A team's entry in the network directory."""

    __tablename__ = "portal_team_profiles"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    police_force_area: Mapped[str | None] = mapped_column(String(120))
    icb: Mapped[str | None] = mapped_column(String(160))
    towns: Mapped[list[str]] = mapped_column(JSON, default=list)
    member_agencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    mentors: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Crisis behaviours the team declares experience of, in its own words.
    declared_experience: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    team: Mapped[Team] = relationship()


class SelfAssessment(Base):
    """One six-monthly support visit: a score and evidence per measure."""

    __tablename__ = "portal_self_assessments"
    __table_args__ = (
        Index("ix_portal_self_assessments_team", "team_id", "visited_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    visited_on: Mapped[dt.date] = mapped_column(Date)
    # {measure code: {"score": 0..4, "evidence": "..."}}
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    worked_well: Mapped[str | None] = mapped_column(Text)
    still_hard: Mapped[str | None] = mapped_column(Text)
    learn_from: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    team: Mapped[Team] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class ReportImmutable(Exception):
    """A saved report cannot change; build a new one."""


def _refuse_edits_to_saved_reports(
    session: Session, _context: Any, _instances: Any
) -> None:
    """Refuse any change to, or deletion of, a saved report."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, SavedReport) and (
            obj in session.deleted
            or session.is_modified(obj, include_collections=False)
        ):
            raise ReportImmutable(f"report {obj.id} is saved and cannot change")
