"""The person's own side: PIN, sessions, access history, concerns and withdrawal."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import access, accounts, people, versions
from plans.audit import AuditEvent
from plans.db import utcnow
from plans.models import Person
from tests.plans import factories


@pytest.fixture
def holder(session: Session) -> Person:
    """Return a person with a live plan naming a mentor."""
    person = factories.person(session)
    versions.make_live(
        session,
        factories.draft(
            session,
            person,
            mentors=[{"name": "Sam Mentor", "role": "mentor", "phone": "01632 960001"}],
        ),
    )
    return person


def test_the_pin_is_stored_hashed_and_checked(session: Session, holder: Person) -> None:
    row = people.set_pin(session, holder, "4826")
    assert "4826" not in row.pin_hash
    assert people.verify_pin(session, holder, "4826")
    assert not people.verify_pin(session, holder, "4827")


@pytest.mark.parametrize("pin", ["123", "abcd", "1111", "1234", "987654", "123456789"])
def test_weak_or_malformed_pins_are_refused(
    session: Session, holder: Person, pin: str
) -> None:
    with pytest.raises(people.PersonError):
        people.set_pin(session, holder, pin)


def test_wrong_pins_bring_a_growing_wait_but_never_a_lock_out(
    session: Session, holder: Person
) -> None:
    people.set_pin(session, holder, "4826")
    start = utcnow()
    for _attempt in range(people.FREE_ATTEMPTS):
        assert not people.verify_pin(session, holder, "0000", now=start)
    # While waiting, even the right PIN is not checked.
    with pytest.raises(people.PinDelayed) as waiting:
        people.verify_pin(session, holder, "4826", now=start)
    later = start
    first_wait = waiting.value.retry_at - later
    assert not people.verify_pin(session, holder, "0000", now=waiting.value.retry_at)
    with pytest.raises(people.PinDelayed) as longer:
        people.verify_pin(session, holder, "4826", now=waiting.value.retry_at)
    assert longer.value.retry_at - waiting.value.retry_at > first_wait
    # After the wait the right PIN works, however many wrong ones came before.
    assert people.verify_pin(session, holder, "4826", now=longer.value.retry_at)
    assert people.verify_pin(session, holder, "4826", now=longer.value.retry_at)


def test_the_wait_is_capped() -> None:
    assert people.pin_delay(1000) == people.MAX_DELAY
    assert people.pin_delay(0) == dt.timedelta(0)


def test_no_pin_set_never_verifies(session: Session, holder: Person) -> None:
    assert not people.verify_pin(session, holder, "4826")
    assert not people.has_pin(session, holder)


def test_a_person_session_is_short_and_ends(session: Session, holder: Person) -> None:
    row, token = people.start_session(session, holder, via="card")
    assert token not in row.digest
    assert people.person_for_token(session, token) is holder
    assert people.person_for_token(session, token + "x") is None
    assert (
        people.person_for_token(session, token, now=utcnow() + people.SESSION_LIFETIME)
        is None
    )
    people.end_session(session, token)
    assert people.person_for_token(session, token) is None


def test_own_view_shows_plan_mentors_and_who_opened_it(
    session: Session, holder: Person
) -> None:
    officer = accounts.create_user(
        session, "pc@example.org", role="police", organisation="Test Constabulary"
    )
    access.open_plan(session, officer, holder, basis="card_scan", channel="card")
    view = people.own_view(session, holder)
    assert view.statement == "Please tell me your name."
    assert view.mentors[0].name == "Sam Mentor"
    assert view.review_by == dt.date(2027, 6, 1)
    [entry] = view.history
    assert entry.role == "Police"
    assert entry.organisation == "Test Constabulary"
    assert entry.basis == access.BASES["card_scan"]


def test_history_covers_one_year(session: Session, holder: Person) -> None:
    officer = accounts.create_user(session, "pc@example.org", role="police")
    access.open_plan(
        session,
        officer,
        holder,
        basis="card_scan",
        channel="card",
        now=utcnow() - dt.timedelta(days=400),
    )
    assert people.access_history(session, holder) == []


def test_a_concern_is_tracked_to_an_answer_and_audited_without_its_words(
    session: Session, holder: Person
) -> None:
    mentor = accounts.create_user(session, "m@example.org", role="mentor")
    concern = people.raise_request(
        session, holder, kind="concern", message="My GP's number is wrong", via="web"
    )
    assert people.request_queue(session, team_ids={holder.team_id}) == [concern]
    assert people.request_queue(session, team_ids={holder.team_id + 1}) == []
    people.respond(session, concern, by=mentor, status="answered", response="Fixed.")
    assert concern.status_label == "Answered"
    assert people.own_view(session, holder).requests[0].response == "Fixed."
    assert people.count_open(session, team_ids=None) == 0
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.action for e in events][-2:] == ["concern_raised", "concern_updated"]
    assert "GP" not in str([e.detail for e in events])


@pytest.mark.parametrize(
    ("kind", "message"), [("concern", "  "), ("nonsense", "x"), ("change", "x" * 2001)]
)
def test_bad_requests_are_refused(
    session: Session, holder: Person, kind: str, message: str
) -> None:
    with pytest.raises(people.PersonError):
        people.raise_request(session, holder, kind=kind, message=message, via="web")


def test_an_answer_needs_words_and_a_staff_role(
    session: Session, holder: Person
) -> None:
    concern = people.raise_request(
        session, holder, kind="change", message="Add my sister", via="web"
    )
    officer = accounts.create_user(session, "pc@example.org", role="police")
    mentor = accounts.create_user(session, "m@example.org", role="mentor")
    with pytest.raises(people.PersonError):
        people.respond(session, concern, by=officer, status="closed")
    with pytest.raises(people.PersonError):
        people.respond(session, concern, by=mentor, status="answered", response=" ")


def test_withdrawal_retires_the_plan_and_is_not_duplicated(
    session: Session, holder: Person
) -> None:
    first = people.raise_request(
        session, holder, kind="withdrawal", message="", via="web"
    )
    again = people.raise_request(
        session, holder, kind="withdrawal", message="", via="web"
    )
    assert again is first
    assert people.own_view(session, holder).withdrawal_pending
    lead = accounts.create_user(session, "lead@example.org", role="lead_clinician")
    people.complete_withdrawal(session, first, by=lead)
    assert holder.live_version(session) is None
    assert first.status_label == "Plan withdrawn"
    view = people.own_view(session, holder)
    assert view.retired and not view.withdrawal_pending
    with pytest.raises(people.PersonError):
        people.complete_withdrawal(session, first, by=lead)


def test_a_chat_link_works_once_and_is_not_a_session(
    session: Session, holder: Person
) -> None:
    token = people.create_link(session, holder, via="telegram")
    assert people.person_for_token(session, token) is None
    row = people.redeem_link(session, token)
    assert row is not None and row.person is holder and row.via == "telegram"
    assert people.redeem_link(session, token) is None


def test_a_chat_link_expires(session: Session, holder: Person) -> None:
    token = people.create_link(session, holder, via="sms")
    later = utcnow() + people.LINK_LIFETIME
    assert people.redeem_link(session, token, now=later) is None
    _row, session_token = people.start_session(session, holder, via="card")
    assert people.redeem_link(session, session_token) is None
