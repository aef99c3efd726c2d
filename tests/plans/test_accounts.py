"""Passwords are argon2id; API tokens are stored only as digests."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import accounts
from plans.models import ApiToken
from tests.plans import factories


def test_passwords_are_hashed_with_argon2id(
    session: Session, production_hash_cost: object
) -> None:
    user = accounts.create_user(
        session, "Pat@Example.org", role="police", password="a long passphrase"
    )
    assert user.email == "pat@example.org"
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert accounts.verify_password(user, "a long passphrase")
    assert not accounts.verify_password(user, "a long passphrasE")


def test_unknown_user_never_verifies() -> None:
    assert not accounts.verify_password(None, "anything at all")


@pytest.mark.parametrize(
    ("email", "role", "password", "message"),
    [
        ("not-an-email", "police", "a long passphrase", "not an email"),
        ("x@example.org", "superuser", "a long passphrase", "unknown role"),
        ("x@example.org", "police", "short", "at least 12"),
    ],
)
def test_bad_accounts_are_refused(
    session: Session, email: str, role: str, password: str, message: str
) -> None:
    with pytest.raises(accounts.AccountError, match=message):
        accounts.create_user(session, email, role=role, password=password)


def test_duplicate_email_is_refused(session: Session) -> None:
    accounts.create_user(session, "a@example.org", role="mentor")
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.create_user(session, "A@example.org", role="mentor")


def test_team_membership(session: Session) -> None:
    team = factories.team(session, "TEAM-A")
    user = accounts.create_user(
        session, "m@example.org", role="mentor", team_codes=["TEAM-A"]
    )
    assert user.team_ids == {team.id}
    with pytest.raises(accounts.AccountError, match="no team"):
        accounts.create_user(
            session, "n@example.org", role="mentor", team_codes=["NOPE"]
        )


def test_tokens_are_stored_as_digests(session: Session) -> None:
    user = accounts.create_user(session, "t@example.org", role="control_room")
    row, token = accounts.create_token(session, user)
    session.commit()
    stored = session.scalars(select(ApiToken.digest)).all()
    assert token not in stored and row.digest in stored
    assert accounts.authenticate_token(session, token) is user
    assert accounts.authenticate_token(session, token + "x") is None
    assert accounts.authenticate_token(session, "garbage") is None


def test_revoked_expired_and_disabled_tokens_fail(session: Session) -> None:
    user = accounts.create_user(session, "t@example.org", role="ambulance")
    row, token = accounts.create_token(session, user)
    accounts.revoke_token(row)
    assert accounts.authenticate_token(session, token) is None
    _row, expired = accounts.create_token(
        session, user, lifetime=dt.timedelta(seconds=-1)
    )
    assert accounts.authenticate_token(session, expired) is None
    _row, fresh = accounts.create_token(session, user)
    accounts.disable_user(user)
    assert accounts.authenticate_token(session, fresh) is None
