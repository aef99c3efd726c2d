"""Notifications: an outbox written in the same transaction as the change.

When a plan goes live or is retired (`plans.versions.on_live_change`), or a plan
is opened (a new `AccessGrant`), one outbox row per recipient chat is added to the
session that made the change, so the message exists exactly when the change does.
A worker drains the outbox: it claims due rows under a lease, sends them, and marks
them sent or schedules a retry with exponential backoff. Each row carries an
idempotency key, so the same event never queues twice for the same chat.

Rows hold no plan text: only the kind of message and the few facts its words need
(ref, name, version, role, time). The words are written at send time by bots/.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from plans.access import AccessGrant
from plans.chat import ChatLink
from plans.db import Base, chunks, dialect_name, utcnow
from plans.document import places as plan_places
from plans.models import ROLE_LABELS, Person, PlanVersion, Team, User
from plans.ratelimit import doubling_wait
from plans.search.geo import haversine_m

STATUSES: tuple[str, ...] = ("pending", "sending", "sent", "failed", "cancelled")
KINDS: tuple[str, ...] = (
    "plan_updated",  # to a follower: a plan they follow has a new live version
    "plan_retired",  # to a follower: a plan they follow was retired
    "own_plan_updated",  # to the person: their plan changed
    "own_plan_retired",  # to the person: their plan is no longer in use
    "own_plan_opened",  # to the person, if they asked: role and time only
    "review_soon",  # to the team's mentors: a plan's review falls due soon
    "review_due",  # to the team's mentors: a plan's review is due today (or late)
)
MAX_ATTEMPTS = 8
BASE_BACKOFF = dt.timedelta(seconds=30)
MAX_BACKOFF = dt.timedelta(hours=1)
LEASE = dt.timedelta(minutes=2)
MAX_AREA_RADIUS_M = 200_000.0
KEEP_DONE = dt.timedelta(days=30)  # sent rows are kept a month, for support


class NotifyError(ValueError):
    """A subscription that cannot be made, in words."""


class Subscription(Base):
    """A user following a person, a team's plans, or the plans of an area."""

    __tablename__ = "notify_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    area_lat: Mapped[float | None] = mapped_column(Float)
    area_lon: Mapped[float | None] = mapped_column(Float)
    area_radius_m: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()

    def covers(self, person: Person, places: Iterable[tuple[float, float]]) -> bool:
        """Say whether this subscription follows `person`."""
        if self.person_id is not None:
            return self.person_id == person.id
        if self.team_id is not None:
            return self.team_id == person.team_id
        if self.area_lat is None or self.area_lon is None:
            return False
        radius = self.area_radius_m or 0.0
        return any(
            haversine_m(self.area_lat, self.area_lon, lat, lon) <= radius
            for lat, lon in places
        )


class Outbox(Base):
    """One message to one chat, waiting to be sent or already sent."""

    __tablename__ = "notify_outbox"
    __table_args__ = (Index("ix_notify_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    link_id: Mapped[int] = mapped_column(ForeignKey("chat_links.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[dt.datetime | None]
    # The error's class name only: provider messages can echo the body.
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]

    link: Mapped[ChatLink] = relationship()


# -- subscriptions ---------------------------------------------------------------


def follow(
    session: Session,
    user: User,
    *,
    person: Person | None = None,
    team: Team | None = None,
    area: tuple[float, float, float] | None = None,
    label: str | None = None,
) -> Subscription:
    """Follow one person, a team's plans or an area's (lat, lon, radius in m)."""
    given = [x for x in (person, team, area) if x is not None]
    if len(given) != 1:
        raise NotifyError("follow one person, one team or one area")
    subscription = Subscription(user_id=user.id, label=(label or "")[:100] or None)
    if person is not None:
        subscription.person_id = person.id
    elif team is not None:
        subscription.team_id = team.id
    elif area is not None:
        lat, lon, radius = area
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise NotifyError("an area's centre is a latitude and longitude")
        if not 0 < radius <= MAX_AREA_RADIUS_M:
            raise NotifyError(
                f"an area's radius is up to {int(MAX_AREA_RADIUS_M // 1000)} km"
            )
        subscription.area_lat, subscription.area_lon = lat, lon
        subscription.area_radius_m = radius
    session.add(subscription)
    session.flush()
    return subscription


def unfollow(session: Session, subscription: Subscription) -> None:
    """Stop following."""
    session.delete(subscription)
    session.flush()


def subscriptions_for(session: Session, user: User) -> list[Subscription]:
    """Return what a user follows."""
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.user_id == user.id)
            .order_by(Subscription.id)
        )
    )


# -- writing the outbox ----------------------------------------------------------

_commit_callbacks: list[Callable[[], None]] = []


def on_outbox_commit(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback()` after any commit that added outbox rows (wake a worker)."""
    if callback not in _commit_callbacks:  # registering twice wakes once
        _commit_callbacks.append(callback)
    return callback


def _enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    link: ChatLink,
    params: dict[str, Any],
    now: dt.datetime,
    stored: set[str] | None = None,
) -> Outbox | None:
    """Add one outbox row unless its key exists; `stored` is a prefetched key set."""
    with session.no_autoflush:
        pending_keys: set[str] = session.info.setdefault("outbox_keys", set())
        if key in pending_keys:
            return None
        if stored is not None:
            if key in stored:
                return None
        elif session.scalar(select(Outbox.id).where(Outbox.key == key)):
            return None
    pending_keys.add(key)
    row = Outbox(
        key=key,
        kind=kind,
        link_id=link.id,
        channel=link.channel,
        address=link.address,
        params=params,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.info["outbox_added"] = True
    return row


@dataclass(frozen=True)
class Message:
    """One outbox message to insert unless its key is already stored."""

    key: str
    kind: str
    link: ChatLink
    params: dict[str, Any]


def enqueue_new(
    session: Session, messages: Sequence[Message], *, now: dt.datetime
) -> list[str]:
    """Insert the messages whose key is new; return the keys this call inserted.

    For jobs that may run twice at once (cron on two hosts): the unique key decides,
    in one INSERT ... ON CONFLICT DO NOTHING, so a second caller inserts nothing and
    fails nothing. Keys go in sorted order, so two callers wait for each other's
    keys in the same order and cannot deadlock.
    """
    postgresql = dialect_name(session) == "postgresql"
    insert = postgresql_insert if postgresql else sqlite_insert
    inserted: list[str] = []
    for chunk in chunks(sorted(messages, key=lambda message: message.key), 200):
        statement = (
            insert(Outbox)
            .values(
                [
                    {
                        "key": message.key,
                        "kind": message.kind,
                        "link_id": message.link.id,
                        "channel": message.link.channel,
                        "address": message.link.address,
                        "params": message.params,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for message in chunk
                ]
            )
            .on_conflict_do_nothing(index_elements=[Outbox.key])
            .returning(Outbox.key)
        )
        inserted.extend(session.execute(statement).scalars())
    if inserted:
        session.info["outbox_added"] = True  # wake the worker after the commit
    return sorted(inserted)


def person_places(version: PlanVersion | None) -> list[tuple[float, float]]:
    """Return the points a plan places the person at (home, crisis locations)."""
    if version is None:
        return []
    return [
        (float(point[0]), float(point[1]))
        for _kind, place in plan_places(version.document or {})
        if (point := place.point) is not None
    ]


def _latest_version(session: Session, person: Person) -> PlanVersion | None:
    return session.scalar(
        select(PlanVersion)
        .where(PlanVersion.person_id == person.id, PlanVersion.status != "draft")
        .order_by(PlanVersion.version.desc())
        .limit(1)
    )


def followers(session: Session, person: Person) -> list[User]:
    """Return the active users following this person's plan, by any route."""
    version = _latest_version(session, person)
    places = person_places(version)
    query = (
        select(Subscription)
        .where(
            or_(
                Subscription.person_id == person.id,
                Subscription.team_id == person.team_id,
                Subscription.area_lat.is_not(None),
            )
        )
        .options(joinedload(Subscription.user))
    )
    users: dict[int, User] = {}
    for subscription in session.scalars(query):
        if subscription.user.active and subscription.covers(person, places):
            users[subscription.user_id] = subscription.user
    return [users[key] for key in sorted(users)]


def plan_changed(
    session: Session, person: Person, event_name: str, *, now: dt.datetime | None = None
) -> list[Outbox]:
    """Queue messages about a plan going live or retiring (caller commits)."""
    now = now or utcnow()
    version = _latest_version(session, person)
    if version is None:
        return []
    retired = event_name == "retired"
    params = {
        "ref": person.ref,
        "name": person.display_name,
        "version": version.version,
        "team": person.team.name if person.team else "",
        "team_phone": person.team.phone if person.team else None,
    }
    rows: list[Outbox] = []
    # Every key of this event carries the version id: one query finds those
    # already queued, instead of one query per recipient.
    stored = set(
        session.scalars(
            select(Outbox.key).where(
                Outbox.key.like(f"%:{version.id}:%"),
                Outbox.kind.in_(
                    (
                        "plan_updated",
                        "plan_retired",
                        "own_plan_updated",
                        "own_plan_retired",
                    )
                ),
            )
        )
    )
    own_kind = "own_plan_retired" if retired else "own_plan_updated"
    for link in session.scalars(
        select(ChatLink).where(
            ChatLink.person_id == person.id, ChatLink.unlinked_at.is_(None)
        )
    ):
        row = _enqueue(
            session,
            key=f"{own_kind}:{version.id}:{link.id}",
            kind=own_kind,
            link=link,
            params={
                "version": version.version,
                "team": params["team"],
                "team_phone": params["team_phone"],
            },
            now=now,
            stored=stored,
        )
        if row is not None:
            rows.append(row)
    kind = "plan_retired" if retired else "plan_updated"
    users = followers(session, person)
    if users:
        links = session.scalars(
            select(ChatLink).where(
                ChatLink.user_id.in_([u.id for u in users]),
                ChatLink.unlinked_at.is_(None),
            )
        )
        for link in links:
            row = _enqueue(
                session,
                key=f"{kind}:{version.id}:{link.id}",
                kind=kind,
                link=link,
                params=params,
                now=now,
                stored=stored,
            )
            if row is not None:
                rows.append(row)
    session.flush()
    return rows


def _queue_on_live_change(
    session: Session, changes: Sequence[tuple[Person, str]]
) -> None:
    if len(changes) > 1:
        changes = _with_possible_recipients(session, changes)
    for person, event_name in changes:
        plan_changed(session, person, event_name)


def _with_possible_recipients(
    session: Session, changes: Sequence[tuple[Person, str]]
) -> list[tuple[Person, str]]:
    """Drop, in two queries, the changes nobody could hear about (bulk imports)."""
    if session.scalar(select(Subscription.id).limit(1)) is not None:
        return list(changes)
    linked: set[int] = set()
    for chunk in chunks(sorted({person.id for person, _event in changes})):
        linked.update(
            session.scalars(
                select(ChatLink.person_id).where(
                    ChatLink.person_id.in_(chunk), ChatLink.unlinked_at.is_(None)
                )
            )
        )
    return [(person, event) for person, event in changes if person.id in linked]


def _queue_opened(session: Session, grant: AccessGrant) -> None:
    with session.no_autoflush:
        links = list(
            session.scalars(
                select(ChatLink).where(
                    ChatLink.person_id == grant.person_id,
                    ChatLink.unlinked_at.is_(None),
                    ChatLink.notify_opened.is_(True),
                )
            )
        )
        if not links:
            return
        user = grant.user or session.get(User, grant.user_id)
        role = ROLE_LABELS.get(user.role, user.role) if user else "Responder"
        at = grant.granted_at or utcnow()
        # The grant has no id before this flush; its user and moment are unique
        # enough, and the key only has to stop the same opening queuing twice.
        stamp = at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        for link in links:
            _enqueue(
                session,
                key=f"own_plan_opened:{grant.user_id}:{stamp}:{link.id}",
                kind="own_plan_opened",
                link=link,
                params={"role": role, "at": at.isoformat()},
                now=utcnow(),
            )


def _queue_on_new_grants(session: Session, _context: Any, _instances: Any) -> None:
    """Queue 'your plan was opened' messages in the flush that creates the grant."""
    for obj in list(session.new):
        if isinstance(obj, AccessGrant):
            _queue_opened(session, obj)


def _after_commit(session: Session) -> None:
    session.info.pop("outbox_keys", None)
    if session.info.pop("outbox_added", False):
        for callback in _commit_callbacks:
            callback()


def _after_rollback(session: Session, _previous: Any) -> None:
    session.info.pop("outbox_keys", None)
    session.info.pop("outbox_added", None)


# -- draining --------------------------------------------------------------------


def backoff(attempts: int) -> dt.timedelta:
    """Return how long to wait before retry number `attempts` + 1."""
    return doubling_wait(max(attempts - 1, 0), first=BASE_BACKOFF, cap=MAX_BACKOFF)


def claim_due(
    session: Session,
    *,
    limit: int = 50,
    lease: dt.timedelta = LEASE,
    now: dt.datetime | None = None,
) -> list[Outbox]:
    """Claim due messages under a lease so no other worker sends them (caller commits).

    A row left 'sending' by a worker that died is claimable again once its lease
    runs out.
    """
    now = now or utcnow()
    query = (
        select(Outbox)
        .where(
            or_(
                (Outbox.status == "pending") & (Outbox.next_attempt_at <= now),
                (Outbox.status == "sending") & (Outbox.lease_until <= now),
            )
        )
        .order_by(Outbox.id)
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        row.status = "sending"
        row.lease_until = now + lease
        row.attempts += 1
    session.flush()
    return rows


class Queued(Protocol):
    """What an outbox row has for the send bookkeeping: this outbox's and NRL's."""

    status: str
    attempts: int
    next_attempt_at: dt.datetime
    lease_until: dt.datetime | None
    last_error: str | None
    sent_at: dt.datetime | None


def mark_sent(session: Session, row: Queued, *, now: dt.datetime | None = None) -> None:
    """Record that a message went out."""
    row.status = "sent"
    row.sent_at = now or utcnow()
    row.lease_until = None
    row.last_error = None
    session.flush()


def mark_failed(
    session: Session, row: Queued, error: str, *, now: dt.datetime | None = None
) -> None:
    """Record a failed send and schedule the retry, or give up after the last."""
    now = now or utcnow()
    row.last_error = error[:200]
    row.lease_until = None
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
    else:
        row.status = "pending"
        row.next_attempt_at = now + backoff(row.attempts)
    session.flush()


def cancel(session: Session, row: Queued, why: str) -> None:
    """Drop a message that must no longer go out (its chat was unlinked)."""
    row.status = "cancelled"
    row.lease_until = None
    row.last_error = why[:200]
    session.flush()


def purge(
    session: Session,
    *,
    keep: dt.timedelta = KEEP_DONE,
    now: dt.datetime | None = None,
) -> int:
    """Delete sent and cancelled messages older than `keep`; return how many."""
    now = now or utcnow()
    result = session.execute(
        delete(Outbox).where(
            Outbox.status.in_(("sent", "cancelled")),
            Outbox.created_at < now - keep,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def next_due(session: Session) -> dt.datetime | None:
    """Return when the next pending message falls due, if any is waiting."""
    return session.scalar(
        select(func.min(Outbox.next_attempt_at)).where(Outbox.status == "pending")
    )


@dataclass(frozen=True)
class OutboxCounts:
    """How many messages are in each state."""

    pending: int
    sending: int
    sent: int
    failed: int
    cancelled: int


def counts(session: Session) -> OutboxCounts:
    """Count the outbox by state."""
    found = dict(
        session.execute(
            select(Outbox.status, func.count()).group_by(Outbox.status)
        ).all()
    )
    return OutboxCounts(**{status: int(found.get(status, 0)) for status in STATUSES})
