"""The audit log is append-only, hash-chained and keeps plan text out."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from plans import audit
from plans.db import make_session_factory


def _append(session: Session, n: int) -> None:
    for i in range(n):
        audit.record(
            session, action="search", channel="api", detail={"result_count": i}
        )
    session.commit()


def test_chain_verifies_and_counts_rows(session: Session) -> None:
    _append(session, 5)
    report = audit.verify(session)
    assert report.ok
    assert report.checked == 5


def test_each_row_carries_the_hash_of_the_previous(session: Session) -> None:
    _append(session, 3)
    rows = session.scalars(
        select(audit.AuditEvent).order_by(audit.AuditEvent.seq)
    ).all()
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'nothing' WHERE seq = 2",
        "DELETE FROM audit_events WHERE seq = 2",
    ],
)
def test_database_refuses_update_and_delete(session: Session, statement: str) -> None:
    _append(session, 3)
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert audit.verify(session).checked == 3


def test_postgres_refuses_truncate(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    _append(session, 1)
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("TRUNCATE audit_events"))
    session.rollback()


def _disable_guard(session: Session) -> None:
    """Drop the append-only triggers, as an attacker with owner rights could."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("DROP TRIGGER audit_events_no_change ON audit_events"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("DROP TRIGGER audit_events_no_delete"))


def test_verify_names_the_first_altered_row(session: Session) -> None:
    _append(session, 6)
    _disable_guard(session)
    session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 4"))
    session.commit()
    report = audit.verify(session)
    assert not report.ok
    assert report.broken_seq == 4
    assert "altered" in (report.problem or "")


def test_verify_names_a_deleted_row(session: Session) -> None:
    _append(session, 6)
    _disable_guard(session)
    session.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    session.commit()
    report = audit.verify(session)
    assert report.broken_seq == 3


def test_detail_refuses_keys_that_could_carry_plan_text(session: Session) -> None:
    with pytest.raises(audit.AuditDetailRefused):
        audit.record(
            session, action="plan_opened", channel="web", detail={"summary": "x"}
        )


def test_unknown_channel_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="channel"):
        audit.record(session, action="search", channel="carrier-pigeon")


def test_concurrent_writers_never_fork_the_chain(engine: Engine) -> None:
    factory = make_session_factory(engine)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with factory() as session:
                for i in range(15):
                    audit.record(
                        session,
                        action="search",
                        channel="api",
                        detail={"result_count": i},
                    )
                    session.commit()
        except BaseException as error:  # noqa: BLE001  report to the main thread
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with factory() as session:
        report = audit.verify(session)
    assert report.ok
    assert report.checked == 60
