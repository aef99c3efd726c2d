"""The audit log is append-only, hash-chained and keeps plan text out."""

from __future__ import annotations

import json
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select, text, update
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


# -- signed checkpoints (issue 12, finding 5) --------------------------------------


def _rewrite_and_rechain(session: Session, seq: int) -> None:
    """Rewrite one row and re-chain every row after it, head included: what
    someone holding the database can do once the triggers are dropped."""
    _disable_guard(session)
    rows = session.scalars(
        select(audit.AuditEvent).order_by(audit.AuditEvent.seq)
    ).all()
    previous = audit.GENESIS_HASH
    for row in rows:
        if row.seq == seq:
            row.actor = "mallory"
        row.prev_hash = previous
        row.hash = audit._row_hash(audit._hashed_fields(row))
        previous = row.hash
    session.flush()
    session.execute(
        update(audit.AuditHead)
        .where(audit.AuditHead.id == 1)
        .values(last_hash=previous)
    )
    session.commit()


def _truncate_and_rewind(session: Session, keep: int) -> None:
    _disable_guard(session)
    session.execute(text(f"DELETE FROM audit_events WHERE seq > {keep}"))
    last = session.scalar(
        select(audit.AuditEvent.hash).where(audit.AuditEvent.seq == keep)
    )
    session.execute(
        update(audit.AuditHead)
        .where(audit.AuditHead.id == 1)
        .values(seq=keep, last_hash=last)
    )
    session.commit()


def test_a_rechained_rewrite_passes_the_chain_but_not_a_checkpoint(
    session: Session,
) -> None:
    key = Ed25519PrivateKey.generate()
    _append(session, 3)
    early = audit.checkpoint(session, key)
    _append(session, 3)
    latest = audit.checkpoint(session, key)
    _rewrite_and_rechain(session, 4)
    assert audit.verify(session).ok  # the attack the hostile pass made
    report = audit.verify(session, checkpoints=[early, latest])
    assert not report.ok
    assert report.broken_seq == 6
    assert "rewritten" in (report.problem or "")


def test_truncation_with_the_head_rewound_is_named(session: Session) -> None:
    key = Ed25519PrivateKey.generate()
    _append(session, 8)
    signed = audit.checkpoint(session, key)
    _truncate_and_rewind(session, 3)
    assert audit.verify(session).ok
    report = audit.verify(session, checkpoints=[signed])
    assert not report.ok
    assert "truncated" in (report.problem or "")
    assert "8 rows" in (report.problem or "")


def test_checkpoints_round_trip_and_a_forged_one_is_refused(session: Session) -> None:
    key = Ed25519PrivateKey.generate()
    _append(session, 2)
    line = audit.checkpoint(session, key).to_json()
    (read,) = audit.read_checkpoints([line], key.public_key())
    assert (read.seq, read.hash) == (2, session.get(audit.AuditHead, 1).last_hash)
    forged = json.loads(line)
    forged["seq"] = 1
    with pytest.raises(audit.CheckpointError, match="does not verify"):
        audit.read_checkpoints([json.dumps(forged)], key.public_key())
    other = Ed25519PrivateKey.generate()
    with pytest.raises(audit.CheckpointError, match="another key"):
        audit.read_checkpoints([line], other.public_key())
