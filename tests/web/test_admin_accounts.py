"""Administration on a phone: create, disable with a reason, enable, see sign-ins.

The rules live in plans.accounts and are the same on the web and the CLI; a
disabled user who knows the password is told whom to ask, anyone else is not.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import accounts, rules
from plans.audit import AuditEvent
from plans.models import Team, User
from tests.conftest import TEST_PASSWORD, AuthActions


def events(db: Session, action: str) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def user_by_email(db: Session, email: str) -> User:
    db.expire_all()
    user = accounts.find_user(db, email)
    assert user is not None
    return user


# -- the domain ------------------------------------------------------------------


def make_user(session: Session, email: str, role: str = "police") -> User:
    return accounts.create_user(
        session, email, role=role, password=TEST_PASSWORD, display_name=email[:5]
    )


def test_disabling_needs_a_reason_and_records_it(session: Session) -> None:
    admin = make_user(session, "admin@example.test", "admin")
    officer = make_user(session, "pc@example.test")
    with pytest.raises(accounts.AccountError, match="say why"):
        accounts.disable_account(session, officer, by=admin, channel="web", reason=" ")
    assert officer.active
    accounts.disable_account(
        session, officer, by=admin, channel="web", reason="left  the force"
    )
    assert not officer.active
    assert officer.disabled_reason == "left the force"
    assert officer.disabled_by_id == admin.id
    [row] = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "account_disabled")
    )
    assert row.detail["why"] == "left the force" and row.actor_id == admin.id


def test_an_overlong_reason_is_refused_whole(session: Session) -> None:
    admin = make_user(session, "admin@example.test", "admin")
    officer = make_user(session, "pc@example.test")
    with pytest.raises(accounts.AccountError, match="under 200"):
        accounts.disable_account(
            session, officer, by=admin, channel="web", reason="x" * 201
        )
    assert officer.active


def test_enabling_brings_an_account_back_and_is_audited(session: Session) -> None:
    admin = make_user(session, "admin@example.test", "admin")
    officer = make_user(session, "pc@example.test")
    with pytest.raises(accounts.AccountError, match="not disabled"):
        accounts.enable_account(session, officer, by=admin, channel="web")
    accounts.disable_account(session, officer, by=admin, channel="web", reason="r")
    with pytest.raises(accounts.AccountError, match="already disabled"):
        accounts.disable_account(session, officer, by=admin, channel="web", reason="r")
    accounts.enable_account(session, officer, by=admin, channel="web")
    assert officer.active and officer.disabled_reason is None
    assert session.scalar(
        select(AuditEvent).where(AuditEvent.action == "account_enabled")
    )


@pytest.mark.parametrize("role", ["police", "mentor", "privacy_officer"])
def test_only_administrators_manage_accounts(session: Session, role: str) -> None:
    actor = make_user(session, "actor@example.test", role)
    target = make_user(session, "target@example.test")
    with pytest.raises(rules.NotAllowed):
        accounts.disable_account(session, target, by=actor, channel="web", reason="r")
    with pytest.raises(rules.NotAllowed):
        accounts.list_accounts(session, by=actor, channel="web")
    with pytest.raises(rules.NotAllowed):
        accounts.add_user(
            session, "new@example.test", by=actor, channel="web", role="police"
        )
    assert target.active


def test_an_administrator_cannot_disable_themselves(session: Session) -> None:
    admin = make_user(session, "admin@example.test", "admin")
    with pytest.raises(accounts.AccountError, match="your own"):
        accounts.disable_account(session, admin, by=admin, channel="web", reason="r")


def test_the_list_says_how_and_when_each_account_signs_in(session: Session) -> None:
    from plans.signin import authenticator, sessions

    admin = make_user(session, "admin@example.test", "admin")
    officer = make_user(session, "pc@example.test")
    sessions.start_session(session, officer, method="totp")
    authenticator.begin_totp(session, officer, authenticator.totp_cipher("k" * 40))
    summaries = {
        s.user.email: s
        for s in accounts.list_accounts(session, by=admin, channel="web")
    }
    assert summaries["pc@example.test"].last_sign_in_method == "totp"
    assert summaries["pc@example.test"].last_sign_in_at is not None
    assert summaries["admin@example.test"].last_sign_in_at is None
    assert summaries["admin@example.test"].sign_in_methods == ("password",)


# -- the web ---------------------------------------------------------------------


def test_accounts_show_as_cards_with_one_action_each(
    client: FlaskClient, auth: AuthActions, app: Flask
) -> None:
    AuthActions(app, app.test_client()).login(role="mentor", email="m@example.test")
    auth.login(role="admin")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "<table" not in page
    cards = re.findall(
        r'<li class="account-card[^"]*" id="user-\d+">(.*?)</li>', page, re.S
    )
    assert len(cards) == 2
    for card in cards:
        assert card.count("<a ") == 1 and "<form" not in card
    assert "Signs in with password + totp" in page
    assert "Last sign-in:" in page and "(totp)" in page


def test_disable_asks_for_confirmation_and_a_reason(
    client: FlaskClient, auth: AuthActions, app: Flask, db: Session
) -> None:
    officer = AuthActions(app, app.test_client()).login(role="police")
    auth.login(role="admin")
    detail = client.get(f"/admin/users/{officer.id}").get_data(as_text=True)
    assert f"/admin/users/{officer.id}/disable" in detail
    confirm = client.get(f"/admin/users/{officer.id}/disable")
    assert confirm.status_code == 200
    assert "Why?" in confirm.get_data(as_text=True)
    assert user_by_email(db, officer.email).active
    refused = client.post(f"/admin/users/{officer.id}/disable", data={"reason": ""})
    assert refused.status_code == 400
    assert "Say why" in refused.get_data(as_text=True)
    assert user_by_email(db, officer.email).active
    done = client.post(
        f"/admin/users/{officer.id}/disable", data={"reason": "Moved to another force"}
    )
    assert done.status_code == 303
    assert not user_by_email(db, officer.email).active
    page = client.get(f"/admin/users/{officer.id}").get_data(as_text=True)
    assert "Moved to another force" in page
    client.post(f"/admin/users/{officer.id}/enable")
    assert user_by_email(db, officer.email).active
    assert [e.channel for e in events(db, "account_enabled")] == ["web"]


def test_a_disabled_user_with_the_right_password_is_told_whom_to_ask(
    client: FlaskClient, auth: AuthActions, app: Flask, db: Session
) -> None:
    officer = AuthActions(app, app.test_client()).login(role="police")
    admin = auth.login(role="admin")
    client.post(f"/admin/users/{officer.id}/disable", data={"reason": "left"})
    stranger = app.test_client()
    right = stranger.post(
        "/login", data={"email": officer.email, "password": TEST_PASSWORD}
    ).get_data(as_text=True)
    assert "This account is disabled" in right
    assert admin.email in right and "left" not in right.split("disabled", 1)[1][:80]
    wrong = stranger.post(
        "/login", data={"email": officer.email, "password": "not the password at all"}
    ).get_data(as_text=True)
    assert "disabled" not in wrong
    assert "Email address or password not recognised." in wrong


def test_an_administrator_creates_an_account_from_the_web(
    client: FlaskClient, auth: AuthActions, app: Flask, db: Session
) -> None:
    auth.login(role="admin", teams=("DEMO-X",))
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert 'name="role"' in form and "DEMO-X" in form
    bad = client.post("/admin/users/new", data={"email": "nope", "role": "police"})
    assert bad.status_code == 400
    assert "not an email address" in bad.get_data(as_text=True)
    sso = client.post(
        "/admin/users/new",
        data={
            "email": "Officer@Force.example",
            "display_name": "PC Synthetic",
            "role": "police",
            "team": "DEMO-X",
            "method": "sso",
        },
    )
    assert sso.status_code == 303
    created = user_by_email(db, "officer@force.example")
    assert created.password_hash is None and created.role == "police"
    assert [t.code for t in created.teams] == ["DEMO-X"]
    local = client.post(
        "/admin/users/new",
        data={
            "email": "partner@charity.example",
            "display_name": "Partner",
            "role": "mentor",
            "method": "password",
        },
    )
    shown = re.search(
        r'<code id="first-password">([^<]+)</code>', local.get_data(as_text=True)
    )
    assert shown is not None
    signed = app.test_client().post(
        "/login", data={"email": "partner@charity.example", "password": shown.group(1)}
    )
    assert signed.headers["Location"] == "/login/enrol"
    [first, second] = events(db, "user_created")
    assert first.channel == "web" and second.detail["target_role"] == "mentor"


def test_a_duplicate_account_is_refused_and_nothing_is_lost(
    client: FlaskClient, auth: AuthActions
) -> None:
    admin = auth.login(role="admin")
    again = client.post(
        "/admin/users/new",
        data={"email": admin.email, "display_name": "Kept name", "role": "police"},
    )
    assert again.status_code == 400
    page = again.get_data(as_text=True)
    assert "already exists" in page and 'value="Kept name"' in page


def test_police_cannot_reach_the_new_pages(
    client: FlaskClient, auth: AuthActions
) -> None:
    officer = auth.login(role="police")
    for path in ("/admin/users/new", f"/admin/users/{officer.id}"):
        assert client.get(path).status_code == 403


# -- the CLI ---------------------------------------------------------------------


def test_the_cli_lists_disables_and_enables(
    runner: FlaskCliRunner, app: Flask, db: Session
) -> None:
    db.add(Team(code="T1", name="Team one (synthetic)"))
    make_user(db, "pc@example.test")
    db.commit()
    listed = runner.invoke(args=["users", "list"])
    assert listed.exit_code == 0, listed.output
    assert "active" in listed.output and "pc@example.test" in listed.output
    missing = runner.invoke(args=["users", "disable", "pc@example.test"])
    assert missing.exit_code != 0 and "--reason" in missing.output
    done = runner.invoke(
        args=["users", "disable", "pc@example.test", "--reason", "left the force"]
    )
    assert done.exit_code == 0, done.output
    assert not user_by_email(db, "pc@example.test").active
    again = runner.invoke(args=["users", "disable", "pc@example.test", "--reason", "x"])
    assert again.exit_code != 0 and "already disabled" in again.output
    only = runner.invoke(args=["users", "list", "--active-only"])
    assert "pc@example.test" not in only.output
    assert runner.invoke(args=["users", "enable", "pc@example.test"]).exit_code == 0
    assert user_by_email(db, "pc@example.test").active
    assert [e.channel for e in events(db, "account_disabled")] == ["cli"]
    nobody = runner.invoke(args=["users", "enable", "nobody@example.test"])
    assert nobody.exit_code != 0 and "no user with email" in nobody.output
