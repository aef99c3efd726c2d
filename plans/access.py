"""Opening a plan: only on an access basis, for a limited time, always audited.

A responder sees a full plan only after stating why (a card scan, or attending an
incident, with their agency and its CAD or log number). That grants them that
person's plan for a limited time and writes an audit row.

Patterns that matter raise a privacy-officer alert, one per responder, pattern and
window, counted in full: every later opening that fits the pattern updates the
alert's count and evidence (the grants), so an alert never says 6 when 37 plans
were opened. The patterns: many distinct plans in an hour, plans of people outside
the responder's area, and repeated openings with no number. One opening without a
number, or one plan from another area, is an ordinary day at scene and raises
nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, select
from sqlalchemy.orm import (
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
)

from plans import audit, rules
from plans.db import Base, utcnow
from plans.models import Person, PlanVersion, User
from plans.vocabulary import Channel

BASES: dict[str, str] = {
    "card_scan": "Scanned the person's plan card",
    "attending_incident": "Attending an incident with this person",
    "control_room_incident": "Control room: incident in progress",
    "ed_attendance": "Person attending the Emergency Department",
    "crisis_call": "On a call with this person (NHS 111 or a crisis line)",
    "crisis_assessment": "Assessing or treating this person in crisis",
}
GRANT_LIFETIME = dt.timedelta(hours=12)
BURST_WINDOW = dt.timedelta(minutes=60)
BURST_LIMIT = 5  # distinct people opened in the window before an alert
SHIFT_WINDOW = dt.timedelta(hours=12)
NO_NUMBER_LIMIT = 3  # openings without a number in a shift before an alert
OUT_OF_AREA_LIMIT = 3  # distinct people outside the responder's teams, per shift
INCIDENT_MAX_LENGTH = 40
AGENCY_MAX_LENGTH = 100

ALERT_KINDS: dict[str, str] = {
    "no_incident_number": "Repeated openings without an incident number",
    "many_plans": "Many plans opened in a short time",
    "out_of_area": "Plans of people outside the responder's area",
    "card_scan_invalid": "Invalid plan card scans",
    "sign_in_guessing": "Sign-in guessing at one account",
    "withdrawal_overdue": "A withdrawal request is past its deadline",
    "other": "Other",
}

# What each agency calls its incident reference, and how it usually looks: the
# hint under the field on the access basis form.
REFERENCE_HINTS: dict[str, tuple[str, str]] = {
    "police": ("CAD or log number", "e.g. CAD 1234 03/12 or 20261203-0345"),
    "ambulance": ("CAD incident number", "e.g. 12345678 or AMB-2026-012345"),
    "emergency_department": ("ED attendance number", "e.g. ED26-012345"),
    "control_room": ("Log number", "e.g. LOG 0345 03/12/26"),
    "mental_health_crisis_team": ("Referral or contact number", "e.g. CRHT-012345"),
    "home_treatment_team": ("Referral or contact number", "e.g. HTT-012345"),
    "liaison_psychiatry": ("Referral number", "e.g. LP26-012345"),
    "nhs_111_crisis_line": ("Call reference", "e.g. 111-20261203-0345"),
    "street_triage": ("CAD or log number", "e.g. CAD 1234 03/12"),
    "liaison_and_diversion": ("Custody or case number", "e.g. CUST-2026-012345"),
}
AGENCY_NAMES: dict[str, str] = {
    "police": "Police",
    "ambulance": "Ambulance service",
    "emergency_department": "Emergency Department",
    "control_room": "Control room",
    "mental_health_crisis_team": "Mental-health crisis team",
    "home_treatment_team": "Home treatment team",
    "liaison_psychiatry": "Liaison psychiatry",
    "nhs_111_crisis_line": "NHS 111 or crisis line",
    "street_triage": "Street triage",
    "liaison_and_diversion": "Liaison and diversion",
}


class AccessGrant(Base):
    """Permission for one user to see one person's plan until it expires."""

    __tablename__ = "access_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    plan_version_id: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.id"))
    basis: Mapped[str] = mapped_column(String(40))
    agency: Mapped[str | None] = mapped_column(String(AGENCY_MAX_LENGTH))
    incident: Mapped[str | None] = mapped_column(String(INCIDENT_MAX_LENGTH))
    channel: Mapped[str] = mapped_column(String(16))
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()
    person: Mapped[Person] = relationship()


class PrivacyAlert(Base):
    """Something about an access that a privacy officer should look at."""

    __tablename__ = "privacy_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("access_grants.id"))
    summary: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    closed_at: Mapped[dt.datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(String(1000))
    # Counted in full: how many openings fit the pattern so far, and which grants.
    count: Mapped[int | None] = mapped_column(Integer)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    person: Mapped[Person | None] = relationship()


class AccessRefused(PermissionError):
    """The access basis is missing or not acceptable, in words."""


@dataclass(frozen=True)
class OpenedPlan:
    """What `open_plan` hands back: the grant and the version to show."""

    grant: AccessGrant
    version: PlanVersion
    alerts: tuple[PrivacyAlert, ...]


def clean_incident(incident: str | None) -> str | None:
    """Return a tidy incident number, or None when blank; refuse odd ones."""
    if incident is None:
        return None
    incident = " ".join(incident.split())
    if not incident:
        return None
    if len(incident) > INCIDENT_MAX_LENGTH or not all(
        ch.isalnum() or ch in "-/ ." for ch in incident
    ):
        raise AccessRefused(
            f"an incident number is up to {INCIDENT_MAX_LENGTH} letters, digits, "
            "dashes or slashes"
        )
    return incident


def default_agency(user: User) -> str:
    """Return the agency a responder opens plans for: their organisation or role."""
    return (user.organisation or "").strip() or AGENCY_NAMES.get(user.role, "")


def clean_agency(agency: str | None, user: User) -> str:
    """Return a tidy agency name, defaulting to the responder's own."""
    agency = " ".join((agency or "").split())[:AGENCY_MAX_LENGTH]
    return agency or default_agency(user)


def active_grant(
    session: Session, user: User, person: Person, *, now: dt.datetime | None = None
) -> AccessGrant | None:
    """Return the user's unexpired grant for this person's plan, if any."""
    now = now or utcnow()
    return session.scalar(
        select(AccessGrant)
        .where(
            AccessGrant.user_id == user.id,
            AccessGrant.person_id == person.id,
            AccessGrant.expires_at > now,
            AccessGrant.revoked_at.is_(None),
        )
        .order_by(AccessGrant.granted_at.desc())
        .limit(1)
    )


def open_plan(
    session: Session,
    user: User,
    person: Person,
    *,
    basis: str,
    channel: Channel,
    incident: str | None = None,
    agency: str | None = None,
    card_id: str | None = None,
    now: dt.datetime | None = None,
) -> OpenedPlan:
    """Grant `user` this person's live plan on a stated basis, audit and alert."""
    if not rules.allowed(rules.party_of(user), channel, "open_plan"):
        raise AccessRefused("only responders open plans on an access basis")
    if basis not in BASES:
        raise AccessRefused(f"choose an access basis: {', '.join(BASES)}")
    incident = clean_incident(incident)
    agency = clean_agency(agency, user)
    now = now or utcnow()
    version = session.scalar(
        select(PlanVersion).where(
            PlanVersion.person_id == person.id, PlanVersion.status == "live"
        )
    )
    if version is None:
        raise AccessRefused("this person has no live plan")
    grant = AccessGrant(
        user_id=user.id,
        person_id=person.id,
        plan_version_id=version.id,
        basis=basis,
        agency=agency,
        incident=incident,
        channel=channel,
        granted_at=now,
        expires_at=now + GRANT_LIFETIME,
    )
    session.add(grant)
    session.flush()
    alerts = _raise_alerts(session, user, person, grant, now=now)
    detail: dict[str, object] = {"basis": basis}
    if incident:
        detail["incident"] = incident
    if card_id:
        detail["card_id"] = card_id
    if alerts:
        detail["alert_id"] = alerts[0].id
    audit.record_for(
        session,
        user,
        action="plan_opened",
        channel=channel,
        person_ref=person.ref,
        plan_version_id=version.id,
        detail=detail,
    )
    return OpenedPlan(grant=grant, version=version, alerts=tuple(alerts))


def _raise_alerts(
    session: Session,
    user: User,
    person: Person,
    grant: AccessGrant,
    *,
    now: dt.datetime,
) -> list[PrivacyAlert]:
    """Raise or update the alerts this opening adds to; return the new ones."""
    mins = int(BURST_WINDOW.total_seconds() // 60)
    hours = int(SHIFT_WINDOW.total_seconds() // 3600)
    who = f"{user.display_name} ({user.role_label})"
    raised: list[PrivacyAlert] = []

    burst = _grants(session, user, since=now - BURST_WINDOW)
    distinct = {g.person_id for g in burst}
    if len(distinct) > BURST_LIMIT:
        incidents = sorted({g.incident for g in burst if g.incident})
        under = f" under incident {incidents[0]}" if len(incidents) == 1 else ""
        raised += _counted(
            session,
            "many_plans",
            user,
            person,
            grant,
            burst,
            now=now,
            window=BURST_WINDOW,
            summary=f"{who} opened {len(distinct)} different plans within "
            f"{mins} minutes{under}",
            count=len(distinct),
        )

    if grant.basis != "card_scan" and not grant.incident:
        shift = _grants(session, user, since=now - SHIFT_WINDOW)
        bare = [g for g in shift if g.basis != "card_scan" and not g.incident]
        if len(bare) >= NO_NUMBER_LIMIT:
            raised += _counted(
                session,
                "no_incident_number",
                user,
                person,
                grant,
                bare,
                now=now,
                window=SHIFT_WINDOW,
                summary=f"{who} opened plans {len(bare)} times without an incident "
                f"number within {hours} hours",
            )

    home_teams = user.team_ids
    if home_teams and person.team_id not in home_teams:
        shift = _grants(session, user, since=now - SHIFT_WINDOW)
        away = [g for g in shift if g.person.team_id not in home_teams]
        away_people = {g.person_id for g in away}
        if len(away_people) >= OUT_OF_AREA_LIMIT:
            teams = sorted({g.person.team.name for g in away})
            raised += _counted(
                session,
                "out_of_area",
                user,
                person,
                grant,
                away,
                now=now,
                window=SHIFT_WINDOW,
                summary=f"{who} opened {len(away_people)} plans of people outside "
                f"their area within {hours} hours ({', '.join(teams)})",
            )
    session.flush()
    return raised


def _grants(session: Session, user: User, *, since: dt.datetime) -> list[AccessGrant]:
    return list(
        session.scalars(
            select(AccessGrant)
            .where(AccessGrant.user_id == user.id, AccessGrant.granted_at > since)
            .options(selectinload(AccessGrant.person).selectinload(Person.team))
            .order_by(AccessGrant.granted_at, AccessGrant.id)
        )
    )


def _evidence(grants: list[AccessGrant]) -> dict[str, Any]:
    return {
        "grants": [
            {
                "grant_id": g.id,
                "person_ref": g.person.ref,
                "basis": g.basis,
                "incident": g.incident,
                "at": g.granted_at.isoformat(),
            }
            for g in grants
        ]
    }


def _counted(
    session: Session,
    kind: str,
    user: User,
    person: Person,
    grant: AccessGrant,
    grants: list[AccessGrant],
    *,
    now: dt.datetime,
    window: dt.timedelta,
    summary: str,
    count: int | None = None,
) -> list[PrivacyAlert]:
    """Update this pattern's open alert with the full count, or raise one."""
    alert = session.scalar(
        select(PrivacyAlert)
        .where(
            PrivacyAlert.kind == kind,
            PrivacyAlert.user_id == user.id,
            PrivacyAlert.status == "open",
            PrivacyAlert.created_at > now - window,
        )
        .order_by(PrivacyAlert.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    if alert is not None:
        alert.summary = summary[:500]
        alert.count = count if count is not None else len(grants)
        alert.evidence = _evidence(grants)
        return []
    alert = PrivacyAlert(
        kind=kind,
        user_id=user.id,
        person_id=person.id,
        grant_id=grant.id,
        summary=summary[:500],
        created_at=now,
        count=count if count is not None else len(grants),
        evidence=_evidence(grants),
    )
    session.add(alert)
    return [alert]


class OutOfTeam(AccessRefused):
    """The object belongs to a team the user is not in (answered as not found)."""


def alert_in_scope(alert: PrivacyAlert, officer: User) -> bool:
    """Say whether an officer oversees this alert.

    A team-scoped officer sees alerts about their teams' people only; an alert
    about no one person (sign-in guessing, card scans) is trust-wide.
    """
    if not officer.team_ids:
        return True
    return alert.person is not None and alert.person.team_id in officer.team_ids


def require_team(
    session: Session,
    user: User,
    team_ids: Iterable[int] | int,
    *,
    channel: Channel,
    route: str,
) -> None:
    """Refuse a user reaching for another team's object, and audit the probe.

    The refusal is written here, not in the view: a 404 from team scope once
    left no row, so probing other teams' ids went unseen.
    """
    wanted = {team_ids} if isinstance(team_ids, int) else set(team_ids)
    if user.role == "privacy_officer" and not user.team_ids:
        return  # a trust-wide privacy officer oversees every team
    if wanted & set(user.team_ids):
        return
    audit.record_for(
        session,
        user,
        action="out_of_team",
        channel=channel,
        detail={"route": route[:80], "reason_code": "team_scope"},
    )
    raise OutOfTeam("that belongs to another team")


def raise_alert(
    session: Session,
    *,
    kind: str,
    summary: str,
    person: Person | None = None,
    user: User | None = None,
    now: dt.datetime | None = None,
) -> PrivacyAlert:
    """Raise a privacy-officer alert that no access grant caused (e.g. a deadline)."""
    if kind not in ALERT_KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    alert = PrivacyAlert(
        kind=kind,
        user_id=user.id if user is not None else None,
        person_id=person.id if person is not None else None,
        summary=summary[:500],
        created_at=now or utcnow(),
    )
    session.add(alert)
    session.flush()
    return alert


def close_alert(
    session: Session, alert: PrivacyAlert, *, officer: User, resolution: str
) -> None:
    """Close a privacy alert with the officer's resolution, audited."""
    if officer.role != "privacy_officer":
        raise AccessRefused("only a privacy officer closes alerts")
    if not alert_in_scope(alert, officer):
        # A team-scoped officer once closed a trust-wide alert by its id.
        raise OutOfTeam("this alert is outside your teams")
    resolution = resolution.strip()
    if not resolution:
        raise AccessRefused("say how the alert was resolved")
    alert.status = "closed"
    alert.closed_at = utcnow()
    alert.closed_by_id = officer.id
    alert.resolution = resolution[:1000]
    audit.record_for(
        session,
        officer,
        action="alert_closed",
        channel="web",
        detail={"alert_id": alert.id},
    )


def access_log(
    session: Session, person: Person, *, since: dt.datetime | None = None
) -> list[AccessGrant]:
    """Return who opened this person's plan (newest first)."""
    query = select(AccessGrant).where(AccessGrant.person_id == person.id)
    if since is not None:
        query = query.where(AccessGrant.granted_at >= since)
    return list(session.scalars(query.order_by(AccessGrant.granted_at.desc())))


def search_access_log(
    session: Session,
    *,
    person_ref: str | None = None,
    user_email: str | None = None,
    basis: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    team_ids: set[int] | None = None,
    limit: int = 200,
) -> list[AccessGrant]:
    """Return grants matching the filters, newest first; `until` is inclusive.

    `team_ids` limits the answer to people of those teams; None or empty means
    every team (a trust-wide privacy officer).
    """
    query = select(AccessGrant)
    if person_ref:
        query = query.where(
            AccessGrant.person_id.in_(select(Person.id).where(Person.ref == person_ref))
        )
    if user_email:
        query = query.where(
            AccessGrant.user_id.in_(select(User.id).where(User.email == user_email))
        )
    if basis in BASES:
        query = query.where(AccessGrant.basis == basis)
    if since:
        start = dt.datetime.combine(since, dt.time(), dt.UTC)
        query = query.where(AccessGrant.granted_at >= start)
    if until:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
        query = query.where(AccessGrant.granted_at < end)
    if team_ids:
        query = query.where(
            AccessGrant.person_id.in_(
                select(Person.id).where(Person.team_id.in_(team_ids))
            )
        )
    return list(
        session.scalars(query.order_by(AccessGrant.granted_at.desc()).limit(limit))
    )
