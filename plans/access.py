"""Opening a plan: only on an access basis, for a limited time, always audited.

A responder sees a full plan only after stating why (a card scan, or attending an
incident, with an optional incident number). That grants them that person's plan for
a limited time and writes an audit row. Unusual patterns raise a privacy-officer
alert: no incident number, or many different plans opened in a short time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from plans import audit, rules
from plans.db import Base, utcnow
from plans.models import Person, PlanVersion, User
from plans.vocabulary import Channel

BASES: dict[str, str] = {
    "card_scan": "Scanned the person's plan card",
    "attending_incident": "Attending an incident with this person",
    "control_room_incident": "Control room: incident in progress",
    "ed_attendance": "Person attending the Emergency Department",
}
GRANT_LIFETIME = dt.timedelta(hours=12)
BURST_WINDOW = dt.timedelta(minutes=60)
BURST_LIMIT = 5  # distinct people opened in the window before an alert
INCIDENT_MAX_LENGTH = 40

ALERT_KINDS: dict[str, str] = {
    "no_incident_number": "Plan opened without an incident number",
    "many_plans": "Many plans opened in a short time",
    "card_scan_invalid": "Invalid plan card scans",
    "sign_in_guessing": "Sign-in guessing at one account",
    "withdrawal_overdue": "A withdrawal request is past its deadline",
    "other": "Other",
}


class AccessGrant(Base):
    """Permission for one user to see one person's plan until it expires."""

    __tablename__ = "access_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    plan_version_id: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.id"))
    basis: Mapped[str] = mapped_column(String(40))
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
    card_id: str | None = None,
    now: dt.datetime | None = None,
) -> OpenedPlan:
    """Grant `user` this person's live plan on a stated basis, audit and alert."""
    if not rules.allowed(rules.party_of(user), channel, "open_plan"):
        raise AccessRefused("only responders open plans on an access basis")
    if basis not in BASES:
        raise AccessRefused(f"choose an access basis: {', '.join(BASES)}")
    incident = clean_incident(incident)
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
    alerts: list[PrivacyAlert] = []
    if grant.basis != "card_scan" and not grant.incident:
        alerts.append(
            PrivacyAlert(
                kind="no_incident_number",
                user_id=user.id,
                person_id=person.id,
                grant_id=grant.id,
                summary=f"{user.display_name} ({user.role_label}) opened "
                f"{person.ref} with no incident number",
            )
        )
    distinct = (
        session.scalar(
            select(func.count(func.distinct(AccessGrant.person_id))).where(
                AccessGrant.user_id == user.id,
                AccessGrant.granted_at > now - BURST_WINDOW,
            )
        )
        or 0
    )
    if distinct > BURST_LIMIT:
        already = session.scalar(
            select(func.count())
            .select_from(PrivacyAlert)
            .where(
                PrivacyAlert.kind == "many_plans",
                PrivacyAlert.user_id == user.id,
                PrivacyAlert.created_at > now - BURST_WINDOW,
            )
        )
        if not already:
            alerts.append(
                PrivacyAlert(
                    kind="many_plans",
                    user_id=user.id,
                    person_id=person.id,
                    grant_id=grant.id,
                    summary=f"{user.display_name} ({user.role_label}) opened "
                    f"{distinct} different plans within "
                    f"{int(BURST_WINDOW.total_seconds() // 60)} minutes",
                )
            )
    for alert in alerts:
        alert.created_at = now
        session.add(alert)
    session.flush()
    return alerts


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
    channel: str,
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
