"""The lifecycle of plan versions: going live, superseding and retiring.

Exactly one live version per person is the invariant; the database enforces it
with a partial unique index and these functions keep to it inside one transaction.
Modules that keep derived state (the search index, the notification outbox)
subscribe with `on_live_change` instead of being called from here by name, so
this module depends on none of them.

Hooks hear changes as a list, so a bulk import can hold them back with
`batched_live_changes` and let each subscriber refresh thousands of people in a
few statements instead of a dozen round trips per person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plans.db import utcnow
from plans.models import Person, PlanVersion

LiveChange = tuple[Person, str]
LiveChangeHook = Callable[[Session, Sequence[LiveChange]], None]
_live_change_hooks: list[LiveChangeHook] = []
_PENDING = "plans.versions.pending_live_changes"


def on_live_change(hook: LiveChangeHook) -> LiveChangeHook:
    """Subscribe to changes of live plans: hook(session, [(person, event), ...]).

    `event` is "published" (a new version went live) or "retired". A person
    appears at most once per call, with their latest event; outside a batch each
    call carries one change.
    """
    _live_change_hooks.append(hook)
    return hook


class PendingLiveChanges:
    """Live changes held back inside `batched_live_changes`, in order."""

    def __init__(self) -> None:
        self.changes: list[LiveChange] = []

    def mark(self) -> int:
        """Return a point to go back to if a savepoint rolls back."""
        return len(self.changes)

    def discard_since(self, mark: int) -> None:
        """Forget the changes made after `mark` (their savepoint is gone)."""
        del self.changes[mark:]

    def latest(self) -> list[LiveChange]:
        """Return one change per person, the latest, in first-seen order."""
        by_person: dict[int, LiveChange] = {}
        for person, event in self.changes:
            by_person[person.id] = (person, event)
        return list(by_person.values())


@contextmanager
def batched_live_changes(session: Session) -> Iterator[PendingLiveChanges]:
    """Hold live-change hooks back until the block ends, then run them once.

    The hooks run inside the caller's transaction, only if the block succeeds.
    Nested use joins the outer batch.
    """
    outer = session.info.get(_PENDING)
    if outer is not None:
        yield outer
        return
    pending = PendingLiveChanges()
    session.info[_PENDING] = pending
    try:
        yield pending
    finally:
        session.info.pop(_PENDING, None)
    changes = pending.latest()
    if changes:
        _run_hooks(session, changes)


def _run_hooks(session: Session, changes: Sequence[LiveChange]) -> None:
    for hook in _live_change_hooks:
        hook(session, changes)


def _notify(session: Session, person: Person, event: str) -> None:
    pending = session.info.get(_PENDING)
    if pending is not None:
        pending.changes.append((person, event))
    else:
        _run_hooks(session, [(person, event)])


class LifecycleError(ValueError):
    """A lifecycle step that is not allowed, in words."""


def live_version(session: Session, person: Person) -> PlanVersion | None:
    """Return the person's live version, if any."""
    return session.scalar(
        select(PlanVersion).where(
            PlanVersion.person_id == person.id, PlanVersion.status == "live"
        )
    )


def next_version_number(session: Session, person: Person) -> int:
    """Return the number the person's next version will carry."""
    highest = session.scalar(
        select(func.max(PlanVersion.version)).where(PlanVersion.person_id == person.id)
    )
    return (highest or 0) + 1


def make_live(
    session: Session, version: PlanVersion, *, at: dt.datetime | None = None
) -> PlanVersion | None:
    """Put a version live and supersede the one before; return the superseded one.

    Locks the person's row first so two publishers of the same person queue up
    rather than race (PostgreSQL row lock; SQLite serialises writers anyway).
    """
    if version.status not in ("draft", "superseded"):
        raise LifecycleError(f"a {version.status} version cannot go live")
    at = at or utcnow()
    session.flush()
    # FOR NO KEY UPDATE on PostgreSQL: publishers of one person queue up, while
    # rows that merely refer to the person (access grants, audit of a card scan)
    # insert without waiting, so neither side can hold the other up in a cycle.
    person = session.scalars(
        select(Person)
        .where(Person.id == version.person_id)
        .with_for_update(key_share=True)
    ).one()
    current = live_version(session, person)
    if current is not None and current.id != version.id:
        if current.version > version.version:
            raise LifecycleError(
                f"version {version.version} is older than the live version "
                f"{current.version}"
            )
        current.status = "superseded"
        current.ended_at = at
        # Free the one-live index slot before the new version claims it.
        session.flush()
    version.status = "live"
    version.published_at = at
    session.flush()
    _notify(session, person, "published")
    return current


def add_first_live_versions(
    session: Session,
    firsts: Sequence[tuple[Person, PlanVersion]],
    *,
    at: dt.datetime | None = None,
) -> None:
    """Add, in bulk, live versions for people who have no version at all yet.

    With nothing to supersede, a bulk import needs none of make_live's locking:
    the people are new in this transaction, and the one-live index still guards
    the invariant. Flushes twice however many there are.
    """
    at = at or utcnow()
    session.add_all(person for person, _version in firsts)
    session.flush()
    for person, version in firsts:
        version.person_id = person.id
        version.status = "live"
        version.published_at = at
    session.add_all(version for _person, version in firsts)
    session.flush()
    for person, _version in firsts:
        _notify(session, person, "published")


def retire(
    session: Session,
    person: Person,
    *,
    reason: str,
    at: dt.datetime | None = None,
) -> PlanVersion | None:
    """Retire the person's live plan; it stops being shown anywhere at once."""
    current = live_version(session, person)
    if current is None:
        return None
    current.status = "retired"
    current.ended_at = at or utcnow()
    current.end_reason = reason[:500]
    session.flush()
    _notify(session, person, "retired")
    return current
