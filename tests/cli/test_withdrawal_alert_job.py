"""The scheduled job that tells the privacy officer a withdrawal is late.

`responder privacy alert-overdue` runs from cron, so the alert does not wait for
someone to open the desk or the person's own view; every caller alerts once.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plans import clock, people, versions
from plans.access import PrivacyAlert
from plans.audit import AuditEvent
from plans.db import make_session_factory
from tests.plans import factories

ASKED = dt.datetime(2026, 12, 4, 10, tzinfo=dt.UTC)  # a Friday: due Friday 11th
DUE_DAY = dt.datetime(2026, 12, 11, 16, tzinfo=dt.UTC)
LATE = dt.datetime(2026, 12, 14, 6, tzinfo=dt.UTC)  # Monday, 6 am: cron, no one in


def _overdue_alerts(db: Session) -> list[PrivacyAlert]:
    db.expire_all()
    return list(
        db.scalars(
            select(PrivacyAlert).where(PrivacyAlert.kind == "withdrawal_overdue")
        )
    )


def _ask_to_withdraw(db: Session, number: int = 1) -> Any:
    person = factories.person(db, ref=f"TEST-TEAM/{number:05d}")
    versions.make_live(db, factories.draft(db, person))
    db.commit()
    with clock.frozen(ASKED):
        request = people.raise_request(
            db, person, kind="withdrawal", message="Please take it down.", via="web"
        )
        db.commit()
    assert request.due_on == dt.date(2026, 12, 11)
    return person


def test_the_job_alerts_once_when_the_deadline_has_passed(
    runner: Any, db: Session
) -> None:
    person = _ask_to_withdraw(db)
    with clock.frozen(DUE_DAY):
        on_the_day = runner.invoke(args=["privacy", "alert-overdue"])
    assert on_the_day.exit_code == 0, on_the_day.output
    assert "raised 0 overdue withdrawal alert(s)" in on_the_day.output
    assert _overdue_alerts(db) == []
    with clock.frozen(LATE):
        late = runner.invoke(args=["privacy", "alert-overdue"])
        again = runner.invoke(args=["privacy", "alert-overdue"])
    assert "raised 1 overdue withdrawal alert(s)" in late.output
    assert "raised 0 overdue withdrawal alert(s)" in again.output
    (alert,) = _overdue_alerts(db)
    assert alert.person_id == person.id and person.ref in alert.summary
    # The person's words never reach the command's output or the audit log.
    assert "take it down" not in late.output
    raised = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "alert_raised")
    ).all()
    assert len(raised) == 1 and raised[0].channel == "system"
    assert "take it down" not in str(raised[0].detail)


def test_a_withdrawal_answered_in_time_raises_nothing(runner: Any, db: Session) -> None:
    _ask_to_withdraw(db)
    request = db.scalars(select(people.PersonRequest)).one()
    request.status = "closed"
    db.commit()
    with clock.frozen(LATE):
        result = runner.invoke(args=["privacy", "alert-overdue"])
    assert "raised 0 overdue withdrawal alert(s)" in result.output
    assert _overdue_alerts(db) == []


def test_the_job_and_page_views_at_the_same_moment_alert_once(
    app: Flask, db: Session
) -> None:
    for number in (1, 2, 3):
        _ask_to_withdraw(db, number)
    factory = make_session_factory(app.extensions["responder.engine"])
    threads = 6
    start = threading.Barrier(threads)
    errors: list[BaseException] = []
    raised: list[int] = []
    lock = threading.Lock()

    def caller() -> None:
        try:
            start.wait()
            with factory() as session:
                found = people.alert_overdue_withdrawals(session, today=LATE.date())
                session.commit()
            with lock:
                raised.append(len(found))
        except BaseException as error:  # noqa: BLE001  report to the main thread
            errors.append(error)

    pool = [threading.Thread(target=caller) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    assert sum(raised) == 3
    assert len(_overdue_alerts(db)) == 3
    assert (
        db.scalar(select(func.count()).where(AuditEvent.action == "alert_raised")) == 3
    )
