"""The notification outbox: written with the change, drained with retries, once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import accounts, chat, clock, notify, versions
from plans.access import open_plan
from plans.db import utcnow
from plans.models import Person, User
from plans.notify import NotifyError, Outbox
from tests.plans import factories

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    """Stamp the outbox rows at NOW, so the claims below are relative to it."""
    with clock.frozen(NOW):
        yield


def linked(session: Session, who: User | Person, address: str) -> chat.ChatLink:
    if isinstance(who, User):
        token = chat.create_link_token(session, user=who)
    else:
        token = chat.create_link_token(session, person=who)
    return chat.redeem_link_token(session, token, address)


def publish(session: Session, person: Person, version: int = 1, **plan) -> None:
    versions.make_live(session, factories.draft(session, person, version, **plan))


@pytest.fixture
def person(session: Session) -> Person:
    return factories.person(session)


@pytest.fixture
def mentor(session: Session, person: Person) -> User:
    return accounts.create_user(
        session, "mentor@example.org", role="mentor", team_codes=["TEST-TEAM"]
    )


def outbox(session: Session) -> list[Outbox]:
    return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def test_publishing_queues_a_message_for_the_person_and_each_follower(
    session: Session, person: Person, mentor: User
) -> None:
    own = linked(session, person, "100")
    mentor_chat = linked(session, mentor, "200")
    notify.follow(session, mentor, person=person)
    publish(session, person)
    rows = outbox(session)
    assert {(r.kind, r.link_id) for r in rows} == {
        ("own_plan_updated", own.id),
        ("plan_updated", mentor_chat.id),
    }
    # Nothing of the plan's text goes into the outbox.
    summary = factories.BASE_DOCUMENT["plan"]["summary"]
    assert all(summary not in str(r.params) for r in rows)


def test_the_outbox_row_lives_and_dies_with_the_change(
    session: Session, person: Person
) -> None:
    linked(session, person, "100")
    session.commit()
    publish(session, person)
    assert len(outbox(session)) == 1
    session.rollback()
    assert outbox(session) == []


def test_retiring_tells_followers_and_the_person(
    session: Session, person: Person, mentor: User
) -> None:
    linked(session, person, "100")
    linked(session, mentor, "200")
    notify.follow(session, mentor, team=person.team)
    publish(session, person)
    versions.retire(session, person, reason="moved away")
    kinds = sorted(r.kind for r in outbox(session))
    assert kinds == [
        "own_plan_retired",
        "own_plan_updated",
        "plan_retired",
        "plan_updated",
    ]


def test_a_control_room_follows_its_area(session: Session, person: Person) -> None:
    near = accounts.create_user(session, "control@example.org", role="control_room")
    far = accounts.create_user(session, "far@example.org", role="control_room")
    near_chat = linked(session, near, "300")
    linked(session, far, "301")
    # The synthetic home is at 50.9, -1.4.
    notify.follow(session, near, area=(50.91, -1.41, 5_000.0), label="Testtown")
    notify.follow(session, far, area=(53.4, -2.2, 5_000.0), label="Elsewhere")
    publish(session, person)
    assert [r.link_id for r in outbox(session)] == [near_chat.id]


def test_unlinked_chats_and_disabled_users_get_nothing(
    session: Session, person: Person, mentor: User
) -> None:
    chat.unlink(session, linked(session, person, "100"))
    linked(session, mentor, "200")
    notify.follow(session, mentor, person=person)
    accounts.disable_user(mentor)
    publish(session, person)
    assert outbox(session) == []


def test_one_event_never_queues_twice_for_one_chat(
    session: Session, person: Person, mentor: User
) -> None:
    linked(session, mentor, "200")
    # Following by person and by team still means one message.
    notify.follow(session, mentor, person=person)
    notify.follow(session, mentor, team=person.team)
    publish(session, person)
    assert len(outbox(session)) == 1
    notify.plan_changed(session, person, "published")
    session.commit()
    notify.plan_changed(session, person, "published")
    assert len(outbox(session)) == 1


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"area": (95.0, 0.0, 1000.0)}, {"area": (50.0, 0.0, 0.0)}],
)
def test_follow_refuses_odd_requests(session: Session, mentor: User, kwargs) -> None:
    with pytest.raises(NotifyError):
        notify.follow(session, mentor, **kwargs)


def test_the_person_is_told_their_plan_was_opened_only_if_they_asked(
    session: Session, person: Person
) -> None:
    officer = accounts.create_user(
        session, "pc@example.org", role="police", organisation="Test Police"
    )
    own = linked(session, person, "100")
    publish(session, person)
    session.commit()
    before = len(outbox(session))
    open_plan(session, officer, person, basis="card_scan", channel="card")
    assert len(outbox(session)) == before
    chat.set_notify_opened(session, own, True)
    open_plan(session, officer, person, basis="card_scan", channel="card")
    opened = [r for r in outbox(session) if r.kind == "own_plan_opened"]
    assert len(opened) == 1
    # Role and time only: nobody's name or organisation.
    assert set(opened[0].params) == {"role", "at"}
    assert opened[0].params["role"] == "Police"


def test_draining_claims_sends_and_retries_with_backoff(
    session: Session, person: Person
) -> None:
    linked(session, person, "100")
    publish(session, person)
    session.commit()
    claimed = notify.claim_due(session, now=NOW + dt.timedelta(days=1))
    assert len(claimed) == 1
    # A second worker finds nothing while the lease holds.
    assert notify.claim_due(session, now=NOW + dt.timedelta(days=1)) == []
    row = claimed[0]
    notify.mark_failed(session, row, "TimedOut", now=NOW + dt.timedelta(days=1))
    assert row.status == "pending"
    assert row.next_attempt_at == NOW + dt.timedelta(days=1, seconds=30)
    assert notify.claim_due(session, now=NOW + dt.timedelta(days=1, seconds=29)) == []
    again = notify.claim_due(session, now=NOW + dt.timedelta(days=1, seconds=30))
    assert again == [row] and row.attempts == 2
    notify.mark_sent(session, row)
    assert notify.claim_due(session, now=NOW + dt.timedelta(days=30)) == []
    assert notify.counts(session).sent == 1


def test_a_dead_workers_lease_runs_out(session: Session, person: Person) -> None:
    linked(session, person, "100")
    publish(session, person)
    start = NOW + dt.timedelta(days=1)
    assert len(notify.claim_due(session, now=start)) == 1
    assert len(notify.claim_due(session, now=start + notify.LEASE)) == 1


def test_a_message_is_given_up_after_the_last_attempt(
    session: Session, person: Person
) -> None:
    linked(session, person, "100")
    publish(session, person)
    at = NOW + dt.timedelta(days=1)
    for _ in range(notify.MAX_ATTEMPTS):
        (row,) = notify.claim_due(session, now=at)
        notify.mark_failed(session, row, "Refused", now=at)
        at += notify.MAX_BACKOFF
    assert row.status == "failed"
    assert notify.claim_due(session, now=at + dt.timedelta(days=1)) == []


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(1, 30), (2, 60), (3, 120), (8, 3600), (20, 3600)]
)
def test_backoff_doubles_up_to_an_hour(attempts: int, seconds: int) -> None:
    assert notify.backoff(attempts) == dt.timedelta(seconds=seconds)


def test_a_commit_with_new_messages_wakes_the_worker(
    session: Session, person: Person
) -> None:
    woken: list[int] = []
    callback = notify.on_outbox_commit(lambda: woken.append(1))
    try:
        linked(session, person, "100")
        session.commit()
        assert woken == []
        publish(session, person)
        session.commit()
        assert woken == [1]
    finally:
        notify._commit_callbacks.remove(callback)


def test_old_sent_messages_are_purged_but_pending_ones_kept(
    session: Session, person: Person
) -> None:
    linked(session, person, "100")
    publish(session, person)
    publish(session, person, 2)
    first, second = outbox(session)
    notify.mark_sent(session, first)
    later = utcnow() + notify.KEEP_DONE + dt.timedelta(days=1)
    assert notify.purge(session, now=later) == 1
    assert outbox(session) == [second]
