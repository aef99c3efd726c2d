"""The person's own side: their PIN, their sessions, their concerns and who looked.

The holder's PIN is stored as an argon2id hash. Wrong PINs earn a growing wait
before the next try is even checked, never a lock-out: a person in crisis must not
be locked out of their own plan, yet four digits must not be guessable online.

A person's session is a server-side record with a short lifetime, separate from
staff sign-in; only the SHA-256 of its token is stored.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    ColumnElement,
    Date,
    ForeignKey,
    String,
    Text,
    and_,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from plans import agreement, audit, clock, hashing, photos, plan_view, versions
from plans.access import BASES, access_log, raise_alert
from plans.cases import workflow as cases_workflow
from plans.db import Base, utcnow
from plans.document import plan_of
from plans.hashing import sha256_hex
from plans.models import ROLE_LABELS, Person, PlanVersion, User
from plans.ratelimit import doubling_wait
from plans.vocabulary import as_channel
from plans.working_days import add_working_days

PIN_LENGTHS = range(4, 9)
FREE_ATTEMPTS = 3
FIRST_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(minutes=20)
LINK_LIFETIME = dt.timedelta(minutes=10)
HISTORY_WINDOW = dt.timedelta(days=365)
CONCERN_MAX_LENGTH = 2000
# A withdrawal request is acted on within this many working days (England).
WITHDRAWAL_DEADLINE_WORKING_DAYS = 5

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

# argon2id at plans.hashing's cost, as for staff passwords; an unknown holder is
# checked against a dummy hash of the same cost.
_DUMMY_PIN = "0000-not-a-real-pin"
_dummy_hashes: dict[hashing.HashCost, str] = {}


def _dummy_hash() -> str:
    cost = hashing.cost()
    if cost not in _dummy_hashes:
        _dummy_hashes[cost] = hashing.hasher().hash(_DUMMY_PIN)
    return _dummy_hashes[cost]


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
    # A withdrawal's deadline, in working days from the day it was asked for,
    # and when the privacy officer was alerted that it had passed.
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    overdue_alerted_at: Mapped[dt.datetime | None]

    person: Mapped[Person] = relationship()
    handled_by: Mapped[User | None] = relationship()

    def overdue(self, today: dt.date) -> bool:
        """Say whether an open request has passed its deadline."""
        return self.is_open and self.due_on is not None and self.due_on < today

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
    row.pin_hash = hashing.hasher().hash(pin)
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
    # Half a minute, doubling: a person who mistypes loses seconds, a guesser
    # gets about a hundred tries a day at most (four digits: 10,000).
    return doubling_wait(
        failed_count, first=FIRST_DELAY, cap=MAX_DELAY, free=FREE_ATTEMPTS
    )


def pin_retry_at(session: Session, person: Person) -> dt.datetime | None:
    """Return when the next PIN try will be checked, if the holder must wait."""
    row = session.get(HolderPin, person.id)
    if row is None or row.last_failed_at is None:
        return None
    retry_at = row.last_failed_at + pin_delay(row.failed_count)
    return retry_at if retry_at > utcnow() else None


def _may_try_now(now: dt.datetime) -> ColumnElement[bool]:
    """Say in SQL whether a PIN row's wait is over (pin_delay, one case per count).

    The wait depends only on the count, so "waited long enough" is one
    comparison per count up to the cap, and the claim stays one statement.
    """
    cases: list[ColumnElement[bool]] = [
        HolderPin.last_failed_at.is_(None),
        HolderPin.failed_count < FREE_ATTEMPTS,
    ]
    count = FREE_ATTEMPTS
    while pin_delay(count) < MAX_DELAY:
        cases.append(
            and_(
                HolderPin.failed_count == count,
                HolderPin.last_failed_at <= now - pin_delay(count),
            )
        )
        count += 1
    cases.append(
        and_(
            HolderPin.failed_count >= count,
            HolderPin.last_failed_at <= now - MAX_DELAY,
        )
    )
    return or_(*cases)


def verify_pin(
    session: Session,
    person: Person,
    pin: str,
    *,
    card_id: str | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Check the holder's PIN; wrong ones make the next try wait longer (audited).

    Raises PinDelayed while the holder must wait; a try during the wait is not
    checked, so guessing gets no faster by hammering.

    The try is counted as a failure before the PIN is checked, in one UPDATE
    that only succeeds when the wait is over: twelve parallel guesses were once
    all checked while the count rose by three. The UPDATE holds the row's write
    lock (a row lock on PostgreSQL, the database write lock on SQLite) until the
    caller commits, so a parallel try waits for this one's count. A right PIN
    then resets the count.
    """
    now = now or utcnow()
    claimed = session.execute(
        update(HolderPin)
        .where(HolderPin.person_id == person.id, _may_try_now(now))
        .values(failed_count=HolderPin.failed_count + 1, last_failed_at=now)
        .returning(HolderPin.pin_hash)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if claimed is None:
        row = session.get(HolderPin, person.id, populate_existing=True)
        if row is None:
            _check_hash(None, pin)  # the same cost as a real check
            return False
        raise PinDelayed(_retry_time(row))
    ok = _check_hash(claimed, pin)
    if not ok:
        audit.record(
            session,
            action="person_pin_failed",
            channel="card",
            actor="person",
            person_ref=person.ref,
            detail={"card_id": card_id} if card_id else {},
        )
    if ok:
        session.execute(
            update(HolderPin)
            .where(HolderPin.person_id == person.id)
            .values(failed_count=0, last_failed_at=None)
            .execution_options(synchronize_session=False)
        )
    # Bring any loaded copy of the row up to date with the statements above.
    session.get(HolderPin, person.id, populate_existing=True)
    return ok


def _retry_time(row: HolderPin) -> dt.datetime:
    if row.last_failed_at is None:
        return utcnow()
    return row.last_failed_at + pin_delay(row.failed_count)


def _check_hash(stored: str | None, pin: str) -> bool:
    try:
        return hashing.hasher().verify(stored or _dummy_hash(), pin.strip()) and bool(
            stored
        )
    except (VerificationError, InvalidHashError):
        return False


# -- sessions -------------------------------------------------------------------


def start_session(
    session: Session,
    person: Person,
    *,
    via: str,
    lifetime: dt.timedelta = SESSION_LIFETIME,
    detail: dict[str, str] | None = None,
    now: dt.datetime | None = None,
) -> tuple[PersonSession, str]:
    """Open a person's own session after they proved who they are (audited).

    Return the row and the token; `detail` says how they proved it.
    """
    opened = _new_token(
        session, person, via=via, kind="session", lifetime=lifetime, now=now
    )
    audit.record(
        session,
        action="person_signed_in",
        channel=as_channel(via) if via in audit.CHANNELS else "web",
        actor="person",
        person_ref=person.ref,
        detail=detail or {},
    )
    return opened


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
        digest=sha256_hex(token),
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
    digest = sha256_hex(token)
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
        select(PersonSession).where(PersonSession.digest == sha256_hex(token))
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
class StaffRead:
    """A member of staff reading the person's plan at the desk."""

    at: dt.datetime
    role: str
    why: str


STAFF_READ_REASONS: dict[str, str] = {
    "team_mentor": "Your team, looking after your plan",
}


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
    staff_reads: tuple[StaffRead, ...] = ()
    proposed: PlanVersion | None = None
    proposed_plan: plan_view.PlanView | None = None
    responses: tuple[agreement.PlanResponse, ...] = ()
    today: dt.date | None = None
    # Their answers about taking part and who may be told what (plans.cases).
    consent: cases_workflow.OwnConsent | None = None

    @property
    def proposed_agreed(self) -> bool:
        """Say whether the person has agreed the proposed version as it stands."""
        return bool(self.proposed and self.proposed.agreed_with_person)

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


def staff_reads(
    session: Session, person: Person, *, now: dt.datetime | None = None
) -> list[StaffRead]:
    """Return staff reads of the person's plan at the desk in the last year."""
    event = audit.AuditEvent
    now = now or utcnow()
    rows = session.scalars(
        select(event)
        .where(
            event.person_ref == person.ref,
            event.action == "plan_viewed",
            event.at >= now - HISTORY_WINDOW,
        )
        .order_by(event.seq.desc())
        .limit(200)
    )
    return [
        StaffRead(
            at=row.at,
            role=ROLE_LABELS.get(row.role or "", row.role or "Staff"),
            why=STAFF_READ_REASONS.get(
                str((row.detail or {}).get("basis")), "Looking after your plan"
            ),
        )
        for row in rows
    ]


def _mentors(version: PlanVersion | None) -> tuple[Mentor, ...]:
    if version is None:
        return ()
    found = []
    for entry in plan_of(version.document).mentors:
        if entry.name:
            found.append(
                Mentor(
                    name=entry.name,
                    role=plan_view.MENTOR_ROLE_LABELS.get(
                        str(entry.role),
                        ROLE_LABELS.get(str(entry.role), entry.role),
                    ),
                    phone=entry.phone,
                )
            )
    return tuple(found)


def own_view(
    session: Session, person: Person, *, now: dt.datetime | None = None
) -> OwnView:
    """Gather the person's own view: plan, statement, mentors, history, requests."""
    now = now or utcnow()
    today = clock.london_date(now)
    version = versions.live_version(session, person)
    plan_agreement = plan_of(version.document).agreement if version else None
    statement = plan_agreement.person_statement if plan_agreement else None
    proposed = agreement.proposed_version(session, person)
    return OwnView(
        person=person,
        version=version,
        # The reading responders get, with every role's advice, but never a
        # map to a place the person has been in crisis.
        plan=plan_view.build(version, None, today=today, for_person=True)
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
        staff_reads=tuple(staff_reads(session, person, now=now)),
        proposed=proposed,
        proposed_plan=plan_view.build(
            proposed.document, None, today=today, for_person=True
        )
        if proposed is not None
        else None,
        responses=tuple(agreement.responses_for(session, proposed))
        if proposed is not None
        else (),
        today=today,
        consent=cases_workflow.own_consent(session, person),
    )


def record_view(session: Session, person: Person, *, channel: str) -> None:
    """Audit that the person looked at their own plan."""
    audit.record(
        session,
        action="person_view",
        channel=as_channel(channel),
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
    deadline_days: int = WITHDRAWAL_DEADLINE_WORKING_DAYS,
    today: dt.date | None = None,
) -> PersonRequest:
    """Record a concern, change or withdrawal request for the team, audited.

    A withdrawal is due within `deadline_days` working days (weekends and
    England bank holidays skipped); the person sees the date.
    """
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
        due_on=add_working_days(today or clock.today(), deadline_days)
        if kind == "withdrawal"
        else None,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        action="withdrawal_requested" if kind == "withdrawal" else "concern_raised",
        channel=as_channel(via),
        actor="person",
        person_ref=person.ref,
        detail={"concern_id": request.id, "status": request.status},
    )
    return request


def alert_overdue_withdrawals(
    session: Session, *, today: dt.date | None = None
) -> list[PersonRequest]:
    """Alert the privacy officer, once each, to withdrawals past their deadline.

    The scheduled job (`responder privacy alert-overdue`), the desk and the
    person's own view all call this, perhaps at the same moment: each request is
    claimed by one conditional UPDATE before its alert is raised, so two callers
    never alert twice.
    """
    today = today or clock.today()
    claimed = session.scalars(
        update(PersonRequest)
        .where(
            PersonRequest.kind == "withdrawal",
            PersonRequest.status.in_(OPEN_STATUSES),
            PersonRequest.due_on < today,
            PersonRequest.overdue_alerted_at.is_(None),
        )
        .values(overdue_alerted_at=utcnow())
        .returning(PersonRequest.id),
        execution_options={"synchronize_session": False},
    ).all()
    if not claimed:
        return []
    overdue = session.scalars(
        select(PersonRequest)
        .where(PersonRequest.id.in_(claimed))
        .order_by(PersonRequest.id)
        .execution_options(populate_existing=True)
    ).all()
    for request in overdue:
        alert = raise_alert(
            session,
            kind="withdrawal_overdue",
            person=request.person,
            summary=f"{request.person.ref} asked to withdraw; it was due by "
            f"{plan_view.long_date(request.due_on)} and is still open",
        )
        audit.record(
            session,
            action="alert_raised",
            channel="system",
            actor="system",
            person_ref=request.person.ref,
            detail={"alert_id": alert.id, "concern_id": request.id},
        )
    session.flush()
    return list(overdue)


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
