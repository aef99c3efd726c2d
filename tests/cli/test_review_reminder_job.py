"""The scheduled job that reminds mentors of plan reviews on their chats.

`responder reviews remind` runs daily from cron, as `privacy alert-overdue` does,
so the reminder does not wait for someone to open the desk; it prints counts only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import accounts, chat, clock, versions
from plans.audit import AuditEvent
from plans.notify import Outbox
from tests.plans import factories

SEVEN_AM = dt.datetime(2026, 12, 11, 7, tzinfo=dt.UTC)  # 30 days before 10 January


def _arrange(db: Session) -> None:
    person = factories.person(db)
    versions.make_live(db, factories.draft(db, person, review_by="2027-01-10"))
    mentor = accounts.create_user(
        db, "mentor@example.org", role="mentor", team_codes=["TEST-TEAM"]
    )
    chat.redeem_link_token(db, chat.create_link_token(db, user=mentor), "4242")
    db.commit()


def _kinds(db: Session) -> list[str]:
    db.expire_all()
    return sorted(db.scalars(select(Outbox.kind)))


def test_the_job_reminds_once_before_and_once_on_the_day(
    runner: Any, db: Session
) -> None:
    _arrange(db)
    with clock.frozen(SEVEN_AM - dt.timedelta(days=1)):
        early = runner.invoke(args=["reviews", "remind"])
    assert early.exit_code == 0, early.output
    assert "queued 0 review reminder(s)" in early.output
    with clock.frozen(SEVEN_AM):
        soon = runner.invoke(args=["reviews", "remind"])
        again = runner.invoke(args=["reviews", "remind"])
    assert "queued 1 review reminder(s): 1 coming up, 0 due" in soon.output
    assert "queued 0 review reminder(s)" in again.output
    # --today runs it as on a past day (a catch-up by hand), never a future one.
    with clock.frozen(SEVEN_AM):
        ahead = runner.invoke(args=["reviews", "remind", "--today", "2027-01-10"])
    assert ahead.exit_code == 2 and "not a day in the future" in ahead.output
    with clock.frozen(dt.datetime(2027, 1, 12, 7, tzinfo=dt.UTC)):
        due = runner.invoke(args=["reviews", "remind", "--today", "2027-01-10"])
    assert "queued 1 review reminder(s): 0 coming up, 1 due" in due.output
    assert _kinds(db) == ["review_due", "review_soon"]
    # Counts only, in the output and the audit log: no ref, no name.
    for output in (soon.output, due.output):
        assert "TEST-TEAM" not in output and "Alexandra" not in output
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "review_reminders_queued")
    ).all()
    assert [(e.channel, e.actor, e.person_ref) for e in events] == [
        ("system", "system", None)
    ] * 2


def test_the_reminder_window_is_read_from_the_config(
    app: Any, runner: Any, db: Session
) -> None:
    _arrange(db)
    app.config["REVIEW_REMINDER_DAYS"] = 14
    with clock.frozen(SEVEN_AM):
        result = runner.invoke(args=["reviews", "remind"])
    assert "queued 0 review reminder(s)" in result.output
    with clock.frozen(dt.datetime(2026, 12, 27, 7, tzinfo=dt.UTC)):
        result = runner.invoke(args=["reviews", "remind"])
    assert "queued 1 review reminder(s): 1 coming up" in result.output


def test_a_bad_date_is_refused_and_nothing_is_queued(runner: Any, db: Session) -> None:
    _arrange(db)
    with clock.frozen(SEVEN_AM):
        result = runner.invoke(args=["reviews", "remind", "--today", "10/01/2027"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output or "%Y-%m-%d" in result.output
    assert "Traceback" not in result.output
    assert _kinds(db) == []
