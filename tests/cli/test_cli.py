"""The management commands others rely on: users, tokens, audit, db."""

from __future__ import annotations

from flask.testing import FlaskCliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from plans import accounts


def test_users_create_reads_the_password_from_stdin(
    runner: FlaskCliRunner, db: Session
) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Medic@Example.org",
            "--role",
            "ambulance",
            "--password-stdin",
        ],
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    user = accounts.find_user(db, "medic@example.org")
    assert user is not None and user.role == "ambulance"
    assert accounts.verify_password(user, "correct horse battery")


def test_users_create_refuses_an_unknown_role(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["users", "create", "x@example.org", "--role", "boss"])
    assert result.exit_code != 0
    assert "unknown role" in result.output


def test_tokens_create_prints_the_token_alone(
    runner: FlaskCliRunner, db: Session
) -> None:
    accounts.create_user(db, "cr@example.org", role="control_room")
    db.commit()
    result = runner.invoke(args=["tokens", "create", "cr@example.org"])
    assert result.exit_code == 0
    token = result.output.strip()
    assert token.startswith("rsp_") and "\n" not in token
    db.expire_all()
    assert accounts.authenticate_token(db, token) is not None


def test_tokens_are_listed_and_revoked_by_id(
    runner: FlaskCliRunner, db: Session
) -> None:
    user = accounts.create_user(db, "cr@example.org", role="control_room")
    db.commit()
    created = runner.invoke(args=["tokens", "create", "cr@example.org", "--days", "7"])
    assert created.exit_code == 0, created.output
    (row,) = accounts.tokens_of(db, user)
    listed = runner.invoke(args=["tokens", "list", "cr@example.org"])
    assert listed.output.startswith(f"{row.id}\tapi\t") and "\tlive" in listed.output
    revoked = runner.invoke(args=["tokens", "revoke", str(row.id)])
    assert revoked.exit_code == 0, revoked.output
    db.expire_all()
    assert accounts.authenticate_token(db, created.output.strip()) is None
    assert "revoked" in runner.invoke(args=["tokens", "list", "cr@example.org"]).output


def test_tokens_create_refuses_a_life_past_the_configured_most(
    runner: FlaskCliRunner, db: Session
) -> None:
    accounts.create_user(db, "cr@example.org", role="control_room")
    db.commit()
    result = runner.invoke(args=["tokens", "create", "cr@example.org", "--days", "400"])
    assert result.exit_code != 0
    assert "--days must be from 1 to 90" in result.output


def test_audit_verify_reports_an_intact_chain(runner: FlaskCliRunner) -> None:
    runner.invoke(args=["users", "create", "a@example.org", "--role", "admin"])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "intact: 1 rows" in result.output


def test_audit_verify_names_the_broken_row(runner: FlaskCliRunner, db: Session) -> None:
    for n in range(3):
        runner.invoke(args=["users", "create", f"u{n}@example.org", "--role", "admin"])
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("DROP TRIGGER audit_events_no_change ON audit_events"))
    else:
        db.execute(text("DROP TRIGGER audit_events_no_update"))
    db.execute(text("UPDATE audit_events SET role = 'admin' WHERE seq = 2"))
    db.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at row 2" in result.output


def test_demo_accounts_are_created_once_per_role_and_printed(
    runner: FlaskCliRunner, db: Session
) -> None:
    from plans.models import ROLES, Team

    db.add(Team(code="DEMO-X", name="Demo X team"))
    db.commit()
    first = runner.invoke(args=["users", "demo"])
    second = runner.invoke(args=["users", "demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    for role in ROLES:
        assert f"demo-{role.replace('_', '-')}@example.org" in second.output
    line = next(x for x in second.output.splitlines() if "demo-police@" in x)
    password = line.split()[-1]
    db.expire_all()
    assert accounts.verify_password(
        accounts.find_user(db, "demo-police@example.org"), password
    )
    assert accounts.count_users(db) == len(ROLES)


def test_search_rebuild_indexes_every_live_plan(
    runner: FlaskCliRunner, db: Session
) -> None:
    from sqlalchemy import func, select

    from plans.exchange import import_documents
    from plans.models import PlanVersion
    from responder.demo import generate_documents

    import_documents(db, generate_documents(12, seed=5), actor=None, source="test")
    db.commit()
    live = db.scalar(
        select(func.count())
        .select_from(PlanVersion)
        .where(PlanVersion.status == "live")
    )
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert f"rebuilt: {live} live plans" in result.output
