"""Administrators manage accounts; signing out and timeouts are audited."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plans.audit import AuditEvent
from plans.db import utcnow
from plans.signin import sessions, throttling
from tests.conftest import TEST_PASSWORD, AuthActions


def events(db: Session, action: str) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def test_an_administrator_sees_every_account_and_its_factors(
    client: FlaskClient, auth: AuthActions, app: Flask
) -> None:
    AuthActions(app, app.test_client()).login(role="mentor", email="m@example.test")
    auth.login(role="admin")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "m@example.test" in page
    assert "totp" in page and "Mentor" in page


def test_disabling_an_account_signs_it_out_at_once(
    client: FlaskClient, auth: AuthActions, app: Flask, db: Session
) -> None:
    medic_client = app.test_client()
    medic = AuthActions(app, medic_client).login(role="ambulance")
    assert signed_in(medic_client)
    auth.login(role="admin")
    response = client.post(
        f"/admin/users/{medic.id}/disable", data={"reason": "left the service"}
    )
    assert response.status_code == 303
    assert not signed_in(medic_client)
    refused = medic_client.post(
        "/login", data={"email": medic.email, "password": TEST_PASSWORD}
    )
    assert refused.status_code == 401
    [disabled] = events(db, "account_disabled")
    assert disabled.detail["target_user_id"] == medic.id
    assert events(db, "session_revoked")[0].detail["count"] == 1


def test_an_administrator_cannot_disable_themselves(
    client: FlaskClient, auth: AuthActions
) -> None:
    admin = auth.login(role="admin")
    response = client.post(f"/admin/users/{admin.id}/disable", data={"reason": "x"})
    assert response.status_code == 409
    assert signed_in(client)


def test_resetting_a_second_factor_makes_the_user_enrol_again(
    client: FlaskClient, auth: AuthActions, app: Flask, db: Session
) -> None:
    officer_client = app.test_client()
    officer = AuthActions(app, officer_client).login(role="police")
    auth.login(role="admin")
    client.post(f"/admin/users/{officer.id}/reset-factors")
    assert not signed_in(officer_client)
    response = officer_client.post(
        "/login", data={"email": officer.email, "password": TEST_PASSWORD}
    )
    assert response.headers["Location"] == "/login/enrol"
    assert events(db, "factors_reset")[0].detail["target_user_id"] == officer.id


def test_unknown_users_are_not_found(client: FlaskClient, auth: AuthActions) -> None:
    auth.login(role="admin")
    assert client.post("/admin/users/987654/disable").status_code == 404
    assert client.post("/admin/users/987654/reset-factors").status_code == 404


def test_a_refused_request_is_audited(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    auth.login(role="police")
    assert client.get("/admin/users").status_code == 403
    [denied] = events(db, "access_denied")
    assert denied.detail["route"] == "users.index"
    assert denied.role == "police"


def test_a_timed_out_session_is_revoked_and_audited(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    auth.login()
    db.execute(
        update(sessions.UserSession).values(
            last_seen_at=utcnow() - dt.timedelta(hours=3)
        )
    )
    db.commit()
    assert not signed_in(client)
    db.expire_all()
    row = db.scalar(select(sessions.UserSession))
    assert row is not None and row.revoke_reason == "idle_timeout"
    assert events(db, "session_revoked")[0].detail["why"] == "idle_timeout"


def test_the_cli_signs_a_user_out_everywhere(
    client: FlaskClient, auth: AuthActions, runner: FlaskCliRunner, db: Session
) -> None:
    user = auth.login()
    result = runner.invoke(args=["sessions", "revoke", user.email])
    assert result.exit_code == 0, result.output
    assert "Ended 1 session(s)" in result.output
    assert not signed_in(client)
    assert events(db, "session_revoked")[0].channel == "cli"


def test_the_cli_purges_stale_throttles(runner: FlaskCliRunner, db: Session) -> None:
    key = throttling.throttle_key("password", "x@example.test", "ip")
    throttling.record_failure(db, key, now=utcnow() - dt.timedelta(days=3))
    db.commit()
    result = runner.invoke(args=["sessions", "purge"])
    assert result.exit_code == 0
    assert "Purged 1 stale rows." in result.output
    db.expire_all()
    assert db.get(throttling.LoginThrottle, key) is None


def test_unknown_emails_are_refused_by_the_cli(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["sessions", "revoke", "nobody@example.test"])
    assert result.exit_code != 0
    assert "no user with email" in result.output


def test_changing_the_password_signs_out_other_browsers(
    client: FlaskClient, auth: AuthActions, app: Flask, db: Session
) -> None:
    user = auth.login()
    other = app.test_client()
    AuthActions(app, other).login(email=user.email)
    new = "a brand new long password"
    response = client.post(
        "/account/password",
        data={"current": TEST_PASSWORD, "new": new, "confirm": new},
    )
    assert response.status_code == 302
    assert signed_in(client) and not signed_in(other)
    assert (
        other.post(
            "/login", data={"email": user.email, "password": TEST_PASSWORD}
        ).status_code
        == 401
    )
    assert (
        other.post("/login", data={"email": user.email, "password": new}).status_code
        == 302
    )
    assert events(db, "password_changed")


def test_a_wrong_current_or_short_new_password_changes_nothing(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    wrong = client.post(
        "/account/password",
        data={"current": "not it at all", "new": "x" * 20, "confirm": "x" * 20},
    )
    assert wrong.status_code == 401
    short = client.post(
        "/account/password",
        data={"current": TEST_PASSWORD, "new": "short", "confirm": "short"},
    )
    assert short.status_code == 400
    assert "12 characters" in short.get_data(as_text=True)
