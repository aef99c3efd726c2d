"""The person's own side: their PIN, their sessions, their concerns and who looked.

The holder's PIN is stored as an argon2id hash. Wrong PINs earn a growing wait
before the next try is even checked, never a lock-out: a person in crisis must not
be locked out of their own plan, yet four digits must not be guessable online.

A person's session is a server-side record with a short lifetime, separate from
staff sign-in; only the SHA-256 of its token is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from plans import audit, clock, photos, plan_view, versions
from plans.access import BASES, access_log
from plans.db import Base, utcnow
from plans.models import ROLE_LABELS, Person, PlanVersion, User

PIN_LENGTHS = range(4, 9)
FREE_ATTEMPTS = 3
FIRST_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(minutes=20)
LINK_LIFETIME = dt.timedelta(minutes=10)
HISTORY_WINDOW = dt.timedelta(days=365)
CONCERN_MAX_LENGTH = 2000

REQUEST_KINDS: dict[str, str] = {
    "concern": "A concern",
    "change": "A change to my plan",
    "withdrawal": "Withdraw from the scheme",
}
REQUEST_STATUSES: dict[str, str] = {
    "open": "Received",
    "in_progress": "Being looked at",
    "answered": "Answered",
    "closed": "Closed",
    "withdrawn": "Plan withdrawn",
}
OPEN_STATUSES = ("open", "in_progress")

# argon2id with the library's defaults, as for staff passwords.
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("0000-not-a-real-pin")


class PersonError(ValueError):
    """A request about the person's own view that cannot be carried out, in words."""


class PinDelayed(PersonError):
    """Too many wrong PINs lately: the next try waits until `retry_at`."""

    def __init__(self, retry_at: dt.datetime) -> None:
        super().__init__("please wait before trying your PIN again")
        self.retry_at = retry_at


class HolderPin(Base):
    """The hashed PIN a card holder uses to see their own plan."""

    __tablename__ = "holder_pins"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    failed_count: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[dt.datetime | None]


class PersonSession(Base):
    """A person's own short session; only the token's digest is stored."""

    __tablename__ = "person_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    via: Mapped[str] = mapped_column(String(16))
    # "session" (the cookie of a signed-in person) or "link" (a one-time link a
    # linked chat sends, exchanged for a session when the person opens it).
    kind: Mapped[str] = mapped_column(String(8), default="session")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]

    person: Mapped[Person] = relationship()


class PersonRequest(Base):
    """A concern, change request or withdrawal request, tracked to a response."""

    __tablename__ = "person_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # The person's own words: shown to their mentors and the privacy officer,
    # never written to the audit log.
    message: Mapped[str] = mapped_column(Text)
    via: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    response: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[dt.datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    person: Mapped[Person] = relationship()
    handled_by: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        """Return the kind of request in words."""
        return REQUEST_KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        """Return the status in the words the person sees."""
        return REQUEST_STATUSES.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        """Say whether the request still waits for staff."""
        return self.status in OPEN_STATUSES


# -- PIN ------------------------------------------------------------------------


def check_pin_format(pin: str) -> str:
    """Return the PIN if it is 4 to 8 digits; refuse anything else."""
    pin = pin.strip()
    if not pin.isascii() or not pin.isdigit() or len(pin) not in PIN_LENGTHS:
        raise PersonError("a PIN is 4 to 8 digits")
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise PersonError("choose a PIN that is not a run or a repeated digit")
    return pin


def set_pin(session: Session, person: Person, pin: str) -> HolderPin:
    """Set or replace the holder's PIN, stored hashed."""
    pin = check_pin_format(pin)
    row = session.get(HolderPin, person.id)
    if row is None:
        row = HolderPin(person_id=person.id, pin_hash="")
        session.add(row)
    row.pin_hash = _hasher.hash(pin)
    row.set_at = utcnow()
    row.failed_count = 0
    row.last_failed_at = None
    session.flush()
    return row


def has_pin(session: Session, person: Person) -> bool:
    """Say whether the holder has a PIN set."""
    return session.get(HolderPin, person.id) is not None


def pin_delay(failed_count: int) -> dt.timedelta:
    """Return how long to wait after this many wrong PINs in a row."""
    if failed_count < FREE_ATTEMPTS:
        return dt.timedelta(0)
    # Half a minute, doubling: a person who mistypes loses seconds, a guesser
    # gets about a hundred tries a day at most (four digits: 10,000).
    exponent = min(failed_count - FREE_ATTEMPTS, 20)
    return min(MAX_DELAY, FIRST_DELAY * 2**exponent)


def pin_retry_at(session: Session, person: Person) -> dt.datetime | None:
    """Return when the next PIN try will be checked, if the holder must wait."""
    row = session.get(HolderPin, person.id)
    if row is None or row.last_failed_at is None:
        return None
    retry_at = row.last_failed_at + pin_delay(row.failed_count)
    return retry_at if retry_at > utcnow() else None


def verify_pin(
    session: Session, person: Person, pin: str, *, now: dt.datetime | None = None
) -> bool:
    """Check the holder's PIN; wrong ones make the next try wait longer.

    Raises PinDelayed while the holder must wait; a try during the wait is not
    checked, so guessing gets no faster by hammering.
    """
    now = now or utcnow()
    row = session.get(HolderPin, person.id)
    if row is not None and row.last_failed_at is not None:
        retry_at = row.last_failed_at + pin_delay(row.failed_count)
        if retry_at > now:
            raise PinDelayed(retry_at)
    stored = row.pin_hash if row is not None else None
    try:
        ok = _hasher.verify(stored or _DUMMY_HASH, pin.strip()) and row is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if row is None:
        return False
    if ok:
        row.failed_count = 0
        row.last_failed_at = None
    else:
        row.failed_count += 1
        row.last_failed_at = now
    session.flush()
    return ok


# -- sessions -------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    session: Session,
    person: Person,
    *,
    via: str,
    lifetime: dt.timedelta = SESSION_LIFETIME,
    now: dt.datetime | None = None,
) -> tuple[PersonSession, str]:
    """Open a person's own session after they proved who they are; return the token."""
    return _new_token(
        session, person, via=via, kind="session", lifetime=lifetime, now=now
    )


def create_link(
    session: Session,
    person: Person,
    *,
    via: str,
    lifetime: dt.timedelta = LINK_LIFETIME,
    now: dt.datetime | None = None,
) -> str:
    """Return a one-time token for /me/link/<token>, for a chat the person linked.

    The chat engineer calls this once a linked chat has proved who it is, and
    sends the person the link; opening it starts their own session.
    """
    _row, token = _new_token(
        session, person, via=via, kind="link", lifetime=lifetime, now=now
    )
    return token


def _new_token(
    session: Session,
    person: Person,
    *,
    via: str,
    kind: str,
    lifetime: dt.timedelta,
    now: dt.datetime | None,
) -> tuple[PersonSession, str]:
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = PersonSession(
        digest=_digest(token),
        person_id=person.id,
        via=via[:16],
        kind=kind,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    return row, token


def _live_row(
    session: Session, token: str, kind: str, now: dt.datetime | None
) -> PersonSession | None:
    if not token or len(token) > 100:
        return None
    digest = _digest(token)
    row = session.scalar(select(PersonSession).where(PersonSession.digest == digest))
    if row is None or not hmac.compare_digest(row.digest, digest) or row.kind != kind:
        return None
    now = now or utcnow()
    if row.ended_at is not None or row.expires_at <= now:
        return None
    return row


def person_for_token(
    session: Session, token: str, *, now: dt.datetime | None = None
) -> Person | None:
    """Return the person whose unexpired session this token opens, if any."""
    row = _live_row(session, token, "session", now)
    return row.person if row is not None else None


def redeem_link(
    session: Session, token: str, *, now: dt.datetime | None = None
) -> PersonSession | None:
    """Use up a one-time link; return its record (person and channel), or None."""
    row = _live_row(session, token, "link", now)
    if row is None:
        return None
    row.ended_at = now or utcnow()
    session.flush()
    return row


def end_session(session: Session, token: str) -> None:
    """End a person's session (signing out)."""
    row = session.scalar(
        select(PersonSession).where(PersonSession.digest == _digest(token))
    )
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.flush()


def end_all_sessions(session: Session, person: Person) -> int:
    """End every open session of a person; return how many."""
    rows = session.scalars(
        select(PersonSession).where(
            PersonSession.person_id == person.id, PersonSession.ended_at.is_(None)
        )
    ).all()
    for row in rows:
        row.ended_at = utcnow()
    session.flush()
    return len(rows)


# -- what the person sees -------------------------------------------------------


@dataclass(frozen=True)
class AccessEntry:
    """One opening of the person's plan, in the words the person sees."""

    at: dt.datetime
    role: str
    organisation: str | None
    basis: str
    channel: str


@dataclass(frozen=True)
class Mentor:
    """Someone the person can reach about their plan."""

    name: str
    role: str | None
    phone: str | None


@dataclass(frozen=True)
class OwnView:
    """Everything the person's own view shows."""

    person: Person
    version: PlanVersion | None
    plan: plan_view.PlanView | None
    statement: str | None
    mentors: tuple[Mentor, ...]
    team_name: str
    team_phone: str | None
    team_hours: str | None
    review_by: dt.date | None
    history: tuple[AccessEntry, ...]
    requests: tuple[PersonRequest, ...]

    @property
    def retired(self) -> bool:
        """Say whether the person has no live plan."""
        return self.version is None

    @property
    def withdrawal_pending(self) -> bool:
        """Say whether a withdrawal request waits for staff."""
        return any(r.kind == "withdrawal" and r.is_open for r in self.requests)


def access_history(
    session: Session, person: Person, *, now: dt.datetime | None = None
) -> list[AccessEntry]:
    """Return who opened the person's plan over the last year, newest first."""
    now = now or utcnow()
    return [
        AccessEntry(
            at=grant.granted_at,
            role=ROLE_LABELS.get(grant.user.role, grant.user.role),
            organisation=grant.user.organisation,
            basis=BASES.get(grant.basis, grant.basis),
            channel=grant.channel,
        )
        for grant in access_log(session, person, since=now - HISTORY_WINDOW)
    ]


def _mentors(version: PlanVersion | None) -> tuple[Mentor, ...]:
    if version is None:
        return ()
    found = []
    for entry in version.plan.get("mentors") or []:
        if isinstance(entry, dict) and entry.get("name"):
            found.append(
                Mentor(
                    name=str(entry["name"]),
                    role=plan_view.MENTOR_ROLE_LABELS.get(
                        str(entry.get("role")),
                        ROLE_LABELS.get(str(entry.get("role")), entry.get("role")),
                    ),
                    phone=entry.get("phone"),
                )
            )
    return tuple(found)


def own_view(
    session: Session, person: Person, *, now: dt.datetime | None = None
) -> OwnView:
    """Gather the person's own view: plan, statement, mentors, history, requests."""
    now = now or utcnow()
    version = versions.live_version(session, person)
    plan: dict[str, Any] = version.plan if version is not None else {}
    statement = (plan.get("coproduction") or {}).get("person_statement")
    return OwnView(
        person=person,
        version=version,
        # The same reading of the plan responders get, with every role's advice.
        plan=plan_view.build(version, None, today=clock.london_date(now))
        if version
        else None,
        statement=statement,
        mentors=_mentors(version),
        team_name=person.team.name,
        team_phone=person.team.phone,
        team_hours=person.team.hours,
        review_by=version.review_by if version is not None else None,
        history=tuple(access_history(session, person, now=now)),
        requests=tuple(requests_for(session, person)),
    )


def record_view(session: Session, person: Person, *, channel: str) -> None:
    """Audit that the person looked at their own plan."""
    audit.record(
        session,
        action="person_view",
        channel=channel,
        actor="person",
        person_ref=person.ref,
    )


# -- concerns and withdrawal ----------------------------------------------------


def raise_request(
    session: Session,
    person: Person,
    *,
    kind: str,
    message: str,
    via: str,
) -> PersonRequest:
    """Record a concern, change or withdrawal request for the team, audited."""
    if kind not in REQUEST_KINDS:
        raise PersonError(f"choose one of: {', '.join(REQUEST_KINDS)}")
    message = message.strip()
    if kind != "withdrawal" and not message:
        raise PersonError("please say what your concern or change is")
    if len(message) > CONCERN_MAX_LENGTH:
        raise PersonError(f"please keep it under {CONCERN_MAX_LENGTH} characters")
    if kind == "withdrawal":
        pending = session.scalar(
            select(PersonRequest).where(
                PersonRequest.person_id == person.id,
                PersonRequest.kind == "withdrawal",
                PersonRequest.status.in_(OPEN_STATUSES),
            )
        )
        if pending is not None:
            return pending
    request = PersonRequest(
        person_id=person.id,
        team_id=person.team_id,
        kind=kind,
        message=message or "I want to withdraw from the crisis plan scheme.",
        via=via,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        action="withdrawal_requested" if kind == "withdrawal" else "concern_raised",
        channel=via,
        actor="person",
        person_ref=person.ref,
        detail={"concern_id": request.id, "status": request.status},
    )
    return request


def requests_for(session: Session, person: Person) -> list[PersonRequest]:
    """Return a person's requests, newest first."""
    return list(
        session.scalars(
            select(PersonRequest)
            .where(PersonRequest.person_id == person.id)
            .order_by(PersonRequest.created_at.desc(), PersonRequest.id.desc())
        )
    )


def request_queue(
    session: Session,
    *,
    team_ids: set[int] | None,
    open_only: bool = True,
) -> list[PersonRequest]:
    """Return requests for staff, oldest waiting first (`None`: every team)."""
    query = select(PersonRequest)
    if team_ids is not None:
        query = query.where(PersonRequest.team_id.in_(team_ids))
    if open_only:
        query = query.where(PersonRequest.status.in_(OPEN_STATUSES))
    return list(
        session.scalars(query.order_by(PersonRequest.created_at, PersonRequest.id))
    )


def count_open(session: Session, *, team_ids: set[int] | None) -> int:
    """Return how many requests wait for staff."""
    query = select(func.count()).select_from(PersonRequest)
    query = query.where(PersonRequest.status.in_(OPEN_STATUSES))
    if team_ids is not None:
        query = query.where(PersonRequest.team_id.in_(team_ids))
    return session.scalar(query) or 0


HANDLERS = ("mentor", "lead_clinician", "privacy_officer")


def respond(
    session: Session,
    request: PersonRequest,
    *,
    by: User,
    status: str,
    response: str | None = None,
) -> None:
    """Move a request on (in progress, answered, closed) with a reply, audited."""
    if by.role not in HANDLERS:
        raise PersonError("only mentors, clinicians and privacy officers respond")
    if status not in ("in_progress", "answered", "closed"):
        raise PersonError("choose in progress, answered or closed")
    response = (response or "").strip()
    if status == "answered" and not response:
        raise PersonError("write the answer the person will read")
    if len(response) > CONCERN_MAX_LENGTH:
        raise PersonError(f"please keep it under {CONCERN_MAX_LENGTH} characters")
    if not request.is_open and status != "closed":
        raise PersonError("this request is already answered")
    now = utcnow()
    request.status = status
    request.updated_at = now
    request.handled_by_id = by.id
    if response:
        request.response = response
        request.responded_at = now
    session.flush()
    audit.record_for(
        session,
        by,
        action="concern_updated",
        channel="web",
        person_ref=request.person.ref,
        detail={"concern_id": request.id, "status": status},
    )


def complete_withdrawal(
    session: Session,
    request: PersonRequest,
    *,
    by: User,
    response: str | None = None,
) -> PlanVersion | None:
    """Retire the person's plan on their request: every card and chat stops at once."""
    if request.kind != "withdrawal":
        raise PersonError("this is not a withdrawal request")
    if by.role not in HANDLERS:
        raise PersonError("only mentors, clinicians and privacy officers act on this")
    if not request.is_open:
        raise PersonError("this request is already dealt with")
    retired = versions.retire(
        session, request.person, reason="The person asked to withdraw from the scheme"
    )
    photos.remove_photos(
        session, request.person, by=by, reason="plan withdrawn", channel="web"
    )
    now = utcnow()
    request.status = "withdrawn"
    request.updated_at = now
    request.handled_by_id = by.id
    request.response = (response or "").strip() or (
        "Your plan has been withdrawn. Responders no longer see it, and your card "
        "no longer opens it."
    )
    request.responded_at = now
    session.flush()
    audit.record_for(
        session,
        by,
        action="plan_withdrawn",
        channel="web",
        person_ref=request.person.ref,
        plan_version_id=retired.id if retired else None,
        detail={"concern_id": request.id, "status": "withdrawn"},
    )
    return retired
