"""Signed plan cards: a QR the person carries that leads a responder to their plan.

The card table and its lifecycle (issue, revoke, reissue, the holder's PIN) and
what a scan finds. The card points at the person, never at a version, so a newly
published version is what the same card opens next. Keys are in
`plans.card_keys`, tokens in `plans.card_tokens`, the published documents (keys,
revocation list, offline check) in `plans.card_documents`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from plans import audit, people
from plans.access import PrivacyAlert
from plans.card_keys import CardError, InvalidToken, KeySet
from plans.card_tokens import (
    TokenClaims,
    new_card_id,
    short_id,
    sign_token,
    verify_token,
)
from plans.db import Base, utcnow
from plans.models import Person, PlanVersion, Team, User
from plans.vocabulary import Channel, as_channel

DEFAULT_LIFETIME = dt.timedelta(days=730)


INVALID_SCAN_WINDOW = dt.timedelta(hours=1)


INVALID_SCAN_ALERT_AT = 20  # invalid scans in the window before a privacy alert


PIN_SETTERS = ("mentor", "lead_clinician")


CARD_STATES: dict[str, str] = {
    "valid": "Valid",
    "revoked": "Revoked",
    "expired": "Expired",
    "retired": "Plan retired",
    "no_plan": "No live plan",
}


class Card(Base):
    """A plan card issued to a person; it opens whatever plan is live for them."""

    __tablename__ = "plan_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[str] = mapped_column(String(16), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    kid: Mapped[str] = mapped_column(String(20))
    token: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(100))
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_reason: Mapped[str | None] = mapped_column(String(200))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("plan_cards.id"))

    person: Mapped[Person] = relationship()
    team: Mapped[Team] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])

    @property
    def short_id(self) -> str:
        """Return the id printed on the card."""
        return short_id(self.card_id)

    def state(self, session: Session, *, now: dt.datetime | None = None) -> str:
        """Say whether the card opens a plan now: one of CARD_STATES."""
        now = now or utcnow()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        if self.person.live_version(session) is not None:
            return "valid"
        retired = session.scalar(
            select(PlanVersion.id)
            .where(
                PlanVersion.person_id == self.person_id,
                PlanVersion.status == "retired",
            )
            .limit(1)
        )
        return "retired" if retired is not None else "no_plan"


def card_url(base_url: str, token: str) -> str:
    """Return the upper-case URL a QR holds, so the whole of it is alphanumeric."""
    return f"{base_url.rstrip('/')}/C/{token}".upper()


def issue(
    session: Session,
    person: Person,
    keys: KeySet,
    *,
    by: User | None,
    channel: Channel,
    first_name: str | None = None,
    lifetime: dt.timedelta = DEFAULT_LIFETIME,
    now: dt.datetime | None = None,
    replaces: Card | None = None,
) -> Card:
    """Issue a signed card for a person, audited (the caller commits)."""
    now = (now or utcnow()).replace(microsecond=0)
    first_name = " ".join((first_name or "").split()) or None
    if first_name is not None and (len(first_name) > 40 or " " in first_name):
        raise CardError("a card carries at most the person's first name")
    kid, key = keys.signing_key(person.team_id)
    card_id = new_card_id()
    expires = now + lifetime
    card = Card(
        card_id=card_id,
        person=person,
        team_id=person.team_id,
        kid=kid,
        token=sign_token(
            key, kid=kid, card_id=card_id, issued_at=now, expires_at=expires
        ),
        first_name=first_name,
        issued_at=now,
        expires_at=expires,
        issued_by_id=by.id if by else None,
        replaces_id=replaces.id if replaces else None,
    )
    session.add(card)
    session.flush()
    _audit(session, by, "card_issued", channel, card)
    return card


def revoke(
    session: Session,
    card: Card,
    *,
    by: User | None,
    channel: Channel,
    reason: str = "revoked",
    now: dt.datetime | None = None,
) -> None:
    """Revoke a card so it opens nothing from now on, audited."""
    if card.revoked_at is not None:
        raise CardError("this card is already revoked")
    card.revoked_at = now or utcnow()
    card.revoked_by_id = by.id if by else None
    card.revoked_reason = " ".join(reason.split())[:200] or "revoked"
    session.flush()
    _audit(session, by, "card_revoked", channel, card)


def reissue(
    session: Session,
    card: Card,
    keys: KeySet,
    *,
    by: User | None,
    channel: Channel,
    first_name: str | None = None,
    now: dt.datetime | None = None,
) -> Card:
    """Revoke a card and issue its replacement for the same person."""
    if card.revoked_at is None:
        revoke(session, card, by=by, channel=channel, reason="reissued", now=now)
    return issue(
        session,
        card.person,
        keys,
        by=by,
        channel=channel,
        first_name=first_name if first_name is not None else card.first_name,
        now=now,
        replaces=card,
    )


def _audit(
    session: Session,
    by: User | None,
    action: Literal["card_issued", "card_revoked"],
    channel: Channel,
    card: Card,
) -> None:
    audit.record(
        session,
        action=action,
        channel=as_channel(channel),
        actor_id=by.id if by else None,
        actor=by.email if by else None,
        role=by.role if by else None,
        person_ref=card.person.ref,
        detail={"card_id": card.short_id},
    )


def replacement_of(session: Session, card: Card) -> Card | None:
    """Return the card issued to replace this one, if any."""
    return session.scalar(
        select(Card)
        .where(Card.replaces_id == card.id)
        .order_by(Card.id.desc())
        .limit(1)
    )


def set_holder_pin(
    session: Session, person: Person, pin: str, *, by: User, channel: Channel
) -> None:
    """Set or change the holder's PIN without touching their card, audited.

    Reissuing a card only to set a PIN used to cancel the card the person carries.
    """
    if by.role not in PIN_SETTERS or person.team_id not in by.team_ids:
        raise CardError("only a mentor of the person's team sets their PIN")
    had_pin = people.has_pin(session, person)
    people.set_pin(session, person, pin)
    audit.record_for(
        session,
        by,
        action="pin_changed" if had_pin else "pin_set",  # both in AuditAction
        channel=channel,
        person_ref=person.ref,
    )


def find_card(session: Session, card_id: str) -> Card | None:
    """Return the card with this id, if any."""
    return session.scalar(select(Card).where(Card.card_id == card_id))


def find_by_short_id(session: Session, short: str) -> Card | None:
    """Return the card whose printed id is `short` (with or without the dash)."""
    prefix = short.replace("-", "").strip().upper()
    if len(prefix) != 8:
        return None
    matches = list(
        session.scalars(select(Card).where(Card.card_id.startswith(prefix)).limit(2))
    )
    return matches[0] if len(matches) == 1 else None


def cards_for(session: Session, person: Person) -> list[Card]:
    """Return a person's cards, newest first."""
    return list(
        session.scalars(
            select(Card)
            .where(Card.person_id == person.id)
            .order_by(Card.issued_at.desc(), Card.id.desc())
        )
    )


@dataclass(frozen=True)
class ScanResult:
    """What a scanned token leads to: the card, its state and the claims."""

    claims: TokenClaims
    card: Card | None
    state: str


def scan(
    session: Session, token: str, keys: KeySet, *, now: dt.datetime | None = None
) -> ScanResult:
    """Verify a scanned token and find its card; raise InvalidToken if not genuine.

    A genuine signature with no card on record is treated as invalid too: it can
    only come from a lost database or a stolen key, and it opens nothing.
    """
    claims = verify_token(token, keys)
    card = find_card(session, claims.card_id)
    if card is None or card.kid != claims.kid:
        raise InvalidToken("no such card")
    now = now or utcnow()
    state = card.state(session, now=now)
    if state == "valid" and claims.expires_at <= now:
        state = "expired"
    return ScanResult(claims=claims, card=card, state=state)


def record_invalid_scan(
    session: Session, *, ip_hash: str, now: dt.datetime | None = None
) -> PrivacyAlert | None:
    """Audit a scan of a token that is not genuine; alert on a burst of them.

    The token itself is never recorded: a near-miss forgery is still a secret's
    neighbour. One alert per window is enough for the privacy officer to look.
    """
    now = now or utcnow()
    since = now - INVALID_SCAN_WINDOW
    recent = (
        session.scalar(
            select(func.count())
            .select_from(audit.AuditEvent)
            .where(
                audit.AuditEvent.action == "card_scan_invalid",
                audit.AuditEvent.at > since,
            )
        )
        or 0
    ) + 1
    alert = None
    if recent >= INVALID_SCAN_ALERT_AT:
        already = session.scalar(
            select(func.count())
            .select_from(PrivacyAlert)
            .where(
                PrivacyAlert.kind == "card_scan_invalid",
                PrivacyAlert.created_at > since,
            )
        )
        if not already:
            alert = PrivacyAlert(
                kind="card_scan_invalid",
                summary=f"{recent} invalid plan card scans within "
                f"{int(INVALID_SCAN_WINDOW.total_seconds() // 60)} minutes",
                created_at=now,
            )
            session.add(alert)
            session.flush()
    detail: dict[str, Any] = {"ip_hash": ip_hash}
    if alert is not None:
        detail["alert_id"] = alert.id
    audit.record(session, action="card_scan_invalid", channel="card", detail=detail)
    return alert
