"""Mentors are reminded on their chats 30 days before a plan's review and on the day.

The desk lists reviews due (tests/plans/test_publish_rules.py); this is the
message to the team's mentors and lead clinicians, queued once per version, kind
and chat by a daily job, caught up when a day was missed, and never twice, even
when two runs meet.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from plans import accounts, chat, clock, notify, versions
from plans.audit import AuditEvent
from plans.db import make_session_factory
from plans.models import Person, PlanVersion, User
from plans.notify import Outbox
from plans.publish_rules import PublishRules
from plans.review_reminders import CATCH_UP, RemindersQueued, queue_review_reminders
from tests.plans import factories

REVIEW_BY = dt.date(2027, 1, 10)
THIRTY_DAYS_BEFORE = dt.date(2026, 12, 11)
# The job runs at 7 am; the clock is frozen so no row depends on the real date.
RUN_AT = dt.datetime(2026, 12, 11, 7, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen(RUN_AT):
        yield


def linked(session: Session, user: User, address: str) -> chat.ChatLink:
    token = chat.create_link_token(session, user=user)
    return chat.redeem_link_token(session, token, address)


def user(session: Session, email: str, role: str, team: str = "TEST-TEAM") -> User:
    factories.team(session, team)
    return accounts.create_user(session, email, role=role, team_codes=[team])


def live(
    session: Session,
    ref: str = "TEST-TEAM/00001",
    review_by: dt.date = REVIEW_BY,
    team: str = "TEST-TEAM",
) -> PlanVersion:
    person = factories.person(session, ref, team)
    version = factories.draft(session, person, review_by=review_by.isoformat())
    versions.make_live(session, version)
    return version


@pytest.fixture
def team_chats(session: Session) -> dict[str, chat.ChatLink]:
    """The team's mentor and lead clinician on chats; a responder too."""
    chats = {
        "mentor": linked(session, user(session, "m@example.org", "mentor"), "201"),
        "lead": linked(
            session, user(session, "l@example.org", "lead_clinician"), "202"
        ),
        "police": linked(session, user(session, "p@example.org", "police"), "203"),
    }
    session.commit()
    return chats


def reminders(session: Session) -> list[tuple[str, int]]:
    session.expire_all()
    return sorted(
        (row.kind, row.link_id)
        for row in session.scalars(
            select(Outbox).where(Outbox.kind.in_(("review_soon", "review_due")))
        )
    )


def run(session: Session, today: dt.date, **rules: int) -> RemindersQueued:
    queued = queue_review_reminders(session, today=today, rules=PublishRules(**rules))
    session.commit()
    return queued


def test_thirty_days_before_each_mentor_and_lead_is_told_once(
    session: Session, team_chats: dict[str, chat.ChatLink]
) -> None:
    version = live(session)
    session.commit()
    assert run(session, THIRTY_DAYS_BEFORE - dt.timedelta(days=1)) == (
        RemindersQueued()
    )
    assert reminders(session) == []
    assert run(session, THIRTY_DAYS_BEFORE) == RemindersQueued(soon=2)
    assert reminders(session) == [
        ("review_soon", team_chats["mentor"].id),
        ("review_soon", team_chats["lead"].id),
    ]
    row = session.scalars(select(Outbox)).first()
    assert row is not None
    assert row.key == f"review:{version.id}:review_soon:{team_chats['mentor'].id}"
    # The plan's reference, version and date; nothing written in the plan.
    assert row.params == {
        "ref": "TEST-TEAM/00001",
        "version": 1,
        "review_by": "2027-01-10",
    }
    assert (row.status, row.channel, row.address) == ("pending", "telegram", "201")


def test_on_the_day_each_is_told_it_is_due_and_running_again_adds_nothing(
    session: Session, team_chats: dict[str, chat.ChatLink]
) -> None:
    live(session)
    session.commit()
    assert run(session, THIRTY_DAYS_BEFORE) == RemindersQueued(soon=2)
    for day in range(1, 30):
        assert run(session, THIRTY_DAYS_BEFORE + dt.timedelta(days=day)).total == 0
    assert run(session, REVIEW_BY) == RemindersQueued(due=2)
    assert run(session, REVIEW_BY) == RemindersQueued()
    assert run(session, REVIEW_BY + dt.timedelta(days=7)) == RemindersQueued()
    assert [kind for kind, _link in reminders(session)] == [
        "review_due",
        "review_due",
        "review_soon",
        "review_soon",
    ]
    # One audit row per run that queued something: counts, no names or refs.
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "review_reminders_queued")
        .order_by(AuditEvent.seq)
    ).all()
    assert [event.detail for event in events] == [
        {"count": 2, "soon": 2, "due": 0},
        {"count": 2, "soon": 0, "due": 2},
    ]
    assert all(
        (event.channel, event.person_ref) == ("system", None) for event in events
    )


def test_a_missed_day_is_caught_up_and_never_told_twice(
    session: Session, team_chats: dict[str, chat.ChatLink]
) -> None:
    live(session)
    # Reviewed on 1 February: the job was down when it was announced.
    live(session, "TEST-TEAM/00002", review_by=dt.date(2027, 2, 1))
    session.commit()
    # The job did not run on 11 December; on the 20th it catches up.
    assert run(session, dt.date(2026, 12, 20)) == RemindersQueued(soon=2)
    # Nor on 10 January; on the 12th the first is due, the second coming up.
    assert run(session, dt.date(2027, 1, 12)) == RemindersQueued(soon=2, due=2)
    assert run(session, dt.date(2027, 1, 12)) == RemindersQueued()
    # Down for 19 days after the second's review date: it is told it is due.
    assert run(session, dt.date(2027, 2, 20)) == RemindersQueued(due=2)
    assert len(reminders(session)) == 8


def test_a_reminder_is_never_sent_again_once_the_outbox_forgets_it(
    session: Session, team_chats: dict[str, chat.ChatLink]
) -> None:
    live(session)
    session.commit()
    # The clock runs with the days here: the outbox is stamped, and purged, by it.
    for days in range(-31, 60):
        day = REVIEW_BY + dt.timedelta(days=days)
        with clock.frozen(dt.datetime.combine(day, dt.time(7), tzinfo=dt.UTC)):
            queued = run(session, day).total
            # The worker sends what was queued; the drain purges month-old rows.
            for row in session.scalars(
                select(Outbox).where(Outbox.status == "pending")
            ):
                notify.mark_sent(session, row)
            notify.purge(session)
            session.commit()
        assert queued == (2 if days in (-30, 0) else 0), day
    assert session.scalars(select(Outbox)).all() == []


def test_a_plan_long_past_its_review_is_left_to_the_desk(
    session: Session, team_chats: dict[str, chat.ChatLink]
) -> None:
    live(session, review_by=THIRTY_DAYS_BEFORE - dt.timedelta(days=CATCH_UP.days))
    live(session, "TEST-TEAM/00002", review_by=dt.date(2026, 1, 10))
    session.commit()
    assert run(session, THIRTY_DAYS_BEFORE) == RemindersQueued()


def test_a_review_only_days_away_is_told_on_the_day(
    session: Session, team_chats: dict[str, chat.ChatLink]
) -> None:
    live(session, review_by=THIRTY_DAYS_BEFORE + dt.timedelta(days=2))
    session.commit()
    assert run(session, THIRTY_DAYS_BEFORE) == RemindersQueued()
    assert run(session, THIRTY_DAYS_BEFORE + dt.timedelta(days=2)) == (
        RemindersQueued(due=2)
    )


def test_a_plan_already_past_its_review_is_told_due_only(
    session: Session, team_chats: dict[str, chat.ChatLink]
) -> None:
    live(session, review_by=dt.date(2026, 11, 30))
    session.commit()
    assert run(session, THIRTY_DAYS_BEFORE) == RemindersQueued(due=2)


def test_the_window_is_the_configured_number_of_days(
    session: Session, team_chats: dict[str, chat.ChatLink]
) -> None:
    live(session)
    session.commit()
    assert run(session, THIRTY_DAYS_BEFORE, reminder_days=14).total == 0
    assert run(session, dt.date(2026, 12, 27), reminder_days=14) == (
        RemindersQueued(soon=2)
    )


def test_retired_and_superseded_plans_and_other_teams_are_skipped(
    session: Session, team_chats: dict[str, chat.ChatLink]
) -> None:
    retired = live(session, "TEST-TEAM/00001")
    versions.retire(session, retired.person, reason="no longer needed")
    superseded = live(session, "TEST-TEAM/00002")
    later = factories.draft(
        session, superseded.person, 2, review_by=dt.date(2027, 6, 1).isoformat()
    )
    versions.make_live(session, later)
    # Another team's plan: its team has no mentor on a chat, and ours hears nothing.
    live(session, "OTHER-TEAM/00001", team="OTHER-TEAM")
    session.commit()
    assert {v.status for v in (retired, superseded)} == {"retired", "superseded"}
    assert run(session, THIRTY_DAYS_BEFORE) == RemindersQueued()
    assert run(session, REVIEW_BY) == RemindersQueued()
    assert reminders(session) == []


def test_a_disabled_account_or_an_unlinked_chat_gets_nothing(
    session: Session, team_chats: dict[str, chat.ChatLink]
) -> None:
    live(session)
    mentor = team_chats["mentor"].user
    assert mentor is not None
    accounts.disable_user(mentor)
    chat.unlink(session, team_chats["lead"])
    session.commit()
    assert run(session, THIRTY_DAYS_BEFORE) == RemindersQueued()
    assert reminders(session) == []


def test_a_mentor_of_two_teams_hears_of_each_teams_plans(session: Session) -> None:
    factories.team(session, "TEST-TEAM")
    factories.team(session, "OTHER-TEAM")
    both = accounts.create_user(
        session,
        "both@example.org",
        role="mentor",
        team_codes=["TEST-TEAM", "OTHER-TEAM"],
    )
    link = linked(session, both, "301")
    live(session, "TEST-TEAM/00001")
    live(session, "OTHER-TEAM/00001", team="OTHER-TEAM")
    session.commit()
    assert run(session, THIRTY_DAYS_BEFORE) == RemindersQueued(soon=2)
    assert reminders(session) == [("review_soon", link.id)] * 2


def test_runs_at_the_same_moment_queue_each_reminder_once(
    engine: Engine, session: Session, team_chats: dict[str, chat.ChatLink]
) -> None:
    for number in range(1, 6):
        live(session, f"TEST-TEAM/{number:05d}")
    session.commit()
    factory = make_session_factory(engine)
    threads = 4
    start = threading.Barrier(threads)
    errors: list[BaseException] = []
    queued: list[int] = []
    lock = threading.Lock()

    def job() -> None:
        try:
            start.wait()
            with factory() as own:  # the clock is one per process, frozen above
                found = queue_review_reminders(own, today=THIRTY_DAYS_BEFORE)
                own.commit()
            with lock:
                queued.append(found.total)
        except BaseException as error:  # noqa: BLE001  report to the main thread
            errors.append(error)

    pool = [threading.Thread(target=job) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    assert sorted(queued, reverse=True)[0] > 0 and sum(queued) == 10
    keys = session.scalars(select(Outbox.key)).all()
    assert len(keys) == len(set(keys)) == 10
    counted = session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "review_reminders_queued")
    ).all()
    assert sum(detail["count"] for detail in counted) == 10


def test_people_with_no_live_plan_count_for_nothing(
    session: Session, team_chats: dict[str, chat.ChatLink]
) -> None:
    factories.draft(session, factories.person(session), review_by="2027-01-10")
    session.commit()
    assert run(session, REVIEW_BY) == RemindersQueued()
    assert session.scalar(select(func.count()).select_from(Person)) == 1


def test_a_run_that_queued_reminders_wakes_the_worker_and_one_that_did_not_does_not(
    session: Session, team_chats: dict[str, chat.ChatLink]
) -> None:
    live(session)
    session.commit()
    woken: list[int] = []
    callback = notify.on_outbox_commit(lambda: woken.append(1))
    try:
        run(session, THIRTY_DAYS_BEFORE)
        assert woken == [1]
        run(session, THIRTY_DAYS_BEFORE)
        assert woken == [1]
    finally:
        notify._commit_callbacks.remove(callback)
