"""Backups of the SQLite default, and restores that check before they replace."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from plans import audit, versions
from plans.audit import AuditEvent
from plans.db import make_engine, make_session_factory
from plans.models import PlanVersion
from tests.conftest import BACKEND
from tests.plans import factories

sqlite_only = pytest.mark.skipif(
    BACKEND != "sqlite",
    reason="backup/restore copy the SQLite file; PostgreSQL uses pg_dump (tested "
    "below: the commands print that guidance)",
)


def database_file(app: Flask) -> Path:
    return Path(str(make_url(app.config["DATABASE_URL"]).database))


def stamp_head(app: Flask) -> None:
    """Mark the test schema as migrated, as `responder db upgrade` would."""
    from alembic import command

    from responder.cli.database import alembic_config

    with app.app_context():
        command.stamp(alembic_config(app), "head")


def publish(db: Session, ref: str) -> None:
    person = factories.person(db, ref)
    version = factories.draft(db, person)
    versions.make_live(db, version)
    audit.record(db, action="plan_published", channel="web", person_ref=ref)
    db.commit()


def settle(path: Path) -> None:
    """Age the file past the 'recently written' guard, as a stopped service's is."""
    # An hour before its own stamp: the file system's clock, which the guard reads,
    # not the process clock (the clock-ahead run moves only the latter).
    past = path.stat().st_mtime - 3600
    os.utime(path, (past, past))


def count_versions(path: Path) -> int:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(select(func.count()).select_from(PlanVersion)) or 0
    finally:
        engine.dispose()


def audit_actions(path: Path) -> list[str]:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with make_session_factory(engine)() as session:
            assert audit.verify(session).ok
            return list(
                session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq))
            )
    finally:
        engine.dispose()


@pytest.fixture
def stocked(app: Flask, db: Session) -> Flask:
    """Return the app on a migrated database holding two published plans."""
    stamp_head(app)
    publish(db, "TEST-TEAM/00001")
    publish(db, "TEST-TEAM/00002")
    db.close()
    return app


@sqlite_only
def test_backup_then_restore_brings_back_exactly_what_was_saved(
    stocked: Flask, runner: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    copy = tmp_path / "backups" / "responder.db"
    result = runner.invoke(args=["backup", str(copy)])
    assert result.exit_code == 0, result.output
    assert "2 plan versions" in result.output and "audit chain intact" in result.output
    assert copy.stat().st_mode & 0o077 == 0  # personal data: owner only

    publish(db, "TEST-TEAM/00003")  # written after the backup: lost on restore
    db.close()
    live = database_file(stocked)
    settle(live)

    result = runner.invoke(args=["restore", str(copy)])
    assert result.exit_code == 0, result.output
    assert count_versions(live) == 2
    actions = audit_actions(live)
    assert actions[-1] == "database_restored"
    assert "database_backed_up" not in actions  # recorded after the copy was taken
    kept = [p for p in live.parent.iterdir() if ".before-restore-" in p.name]
    assert len(kept) == 1 and count_versions(kept[0]) == 3
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


@sqlite_only
def test_a_backup_is_taken_while_a_writer_is_mid_transaction(
    stocked: Flask,
    runner: FlaskCliRunner,
    db: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = factories.person(db, "TEST-TEAM/00009")
    factories.draft(db, person)
    monkeypatch.setattr("responder.cli.ops.RECORD_WAIT_MS", 100)
    # The writer holds its transaction open while the backup runs.
    result = runner.invoke(args=["backup", str(tmp_path / "during.db")])
    db.rollback()
    assert result.exit_code == 0, result.output
    assert "written" in result.output
    assert count_versions(tmp_path / "during.db") == 2


@sqlite_only
def test_backup_does_not_overwrite_an_earlier_backup_unless_forced(
    stocked: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    copy = tmp_path / "earlier.db"
    copy.write_bytes(b"an earlier backup")
    result = runner.invoke(args=["backup", str(copy)])
    assert result.exit_code != 0
    assert "exists" in result.output
    assert copy.read_bytes() == b"an earlier backup"
    result = runner.invoke(args=["backup", "--force", str(copy)])
    assert result.exit_code == 0, result.output
    assert count_versions(copy) == 2


@sqlite_only
def test_restore_refuses_a_database_in_use_unless_forced(
    stocked: Flask, runner: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.db"
    assert runner.invoke(args=["backup", str(copy)]).exit_code == 0
    live = database_file(stocked)

    # Just written, as by a running service.
    result = runner.invoke(args=["restore", str(copy)])
    assert result.exit_code != 0
    assert (
        "refusing to replace" in result.output and "Stop the service" in result.output
    )

    # Held open by another process's connection.
    settle(live)
    holder = sqlite3.connect(live)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("SELECT count(*) FROM people").fetchall()
    try:
        result = runner.invoke(args=["restore", str(copy)])
        assert result.exit_code != 0
        assert "open" in result.output
    finally:
        holder.close()

    publish(db, "TEST-TEAM/00003")
    db.close()
    result = runner.invoke(args=["restore", "--force", str(copy)])
    assert result.exit_code == 0, result.output
    assert count_versions(live) == 2


@sqlite_only
@pytest.mark.parametrize("damage", ["garbage", "truncated", "tampered_audit"])
def test_restore_refuses_a_damaged_backup_and_leaves_the_database_alone(
    stocked: Flask, runner: FlaskCliRunner, tmp_path: Path, damage: str
) -> None:
    copy = tmp_path / "copy.db"
    assert runner.invoke(args=["backup", str(copy)]).exit_code == 0
    if damage == "garbage":
        copy.write_bytes(b"this is not a database at all" * 100)
    elif damage == "truncated":
        data = copy.read_bytes()
        copy.write_bytes(data[: len(data) // 3])
    else:
        raw = sqlite3.connect(copy)
        raw.execute("DROP TRIGGER audit_events_no_update")
        raw.execute(
            "UPDATE audit_events SET person_ref = 'TEST-TEAM/99999' WHERE seq = 1"
        )
        raw.commit()
        raw.close()
    live = database_file(stocked)
    settle(live)
    before = live.read_bytes()

    result = runner.invoke(args=["restore", str(copy)])
    assert result.exit_code != 0
    expected = {
        "garbage": "not a SQLite database",
        "truncated": "cannot be",
        "tampered_audit": "audit chain",
    }[damage]
    assert expected in result.output
    assert live.read_bytes() == before
    assert not [p for p in live.parent.iterdir() if ".restoring" in p.name]


@sqlite_only
def test_restore_refuses_a_backup_from_another_schema_revision(
    stocked: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.db"
    assert runner.invoke(args=["backup", str(copy)]).exit_code == 0
    raw = sqlite3.connect(copy)
    raw.execute("UPDATE alembic_version SET version_num = '0000_older'")
    raw.commit()
    raw.close()
    settle(database_file(stocked))
    result = runner.invoke(args=["restore", str(copy)])
    assert result.exit_code != 0
    assert "schema revision 0000_older" in result.output


@sqlite_only
def test_restore_into_a_new_server_needs_no_existing_database(
    stocked: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    from responder import create_app

    copy = tmp_path / "copy.db"
    assert runner.invoke(args=["backup", str(copy)]).exit_code == 0
    fresh = tmp_path / "new-server" / "responder.db"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{fresh}"})
    result = app.test_cli_runner().invoke(args=["restore", str(copy)])
    app.extensions["responder.engine"].dispose()
    assert result.exit_code == 0, result.output
    assert count_versions(fresh) == 2


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_postgresql_deployments_are_told_to_use_pg_dump(
    tmp_path: Path, command: str
) -> None:
    from responder import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": "postgresql+psycopg://owner:s3cret@db.example/responder",
        }
    )
    target = tmp_path / "x.db"
    target.write_bytes(b"")
    result = app.test_cli_runner().invoke(args=[command, str(target)])
    assert result.exit_code == 2
    assert ("pg_dump" if command == "backup" else "pg_restore") in result.output
    assert "audit verify" in result.output or command == "backup"
    assert "s3cret" not in result.output
    assert "postgresql://owner:***@db.example/responder" in result.output
