"""API tokens expire, and tokens and chat links die with the credentials behind them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from plans import accounts, chat
from plans.models import User
from plans.signin import second_factors, sessions


@pytest.fixture
def officer(session: Session) -> User:
    user = accounts.create_user(session, "pc@example.test", role="police")
    session.commit()
    return user


def linked_chat(session: Session, user: User) -> str:
    token = chat.create_link_token(session, user=user)
    link = chat.redeem_link_token(session, token, "4242")
    assert link is not None
    return "4242"


def test_a_token_expires_after_ninety_days_by_default(
    session: Session, officer: User
) -> None:
    row, token = accounts.create_token(session, officer)
    assert row.expires_at is not None
    life = row.expires_at - row.created_at
    assert dt.timedelta(days=89, hours=23) < life <= dt.timedelta(days=90, seconds=5)
    assert accounts.authenticate_token(session, token) is officer
    assert accounts.token_is_live(row)
    assert not accounts.token_is_live(row, now=row.expires_at)


def reset_factors(session: Session, user: User) -> None:
    second_factors.reset_second_factors(session, user)


def change_password(session: Session, user: User) -> None:
    accounts.set_password(user, "a much longer passphrase")


def disable(session: Session, user: User) -> None:
    sessions.disable_account(session, user)


@pytest.mark.parametrize("end", [change_password, reset_factors, disable])
def test_tokens_and_chat_links_die_with_the_credentials(
    session: Session, officer: User, end: Callable[[Session, User], None]
) -> None:
    _row, token = accounts.create_token(session, officer)
    address = linked_chat(session, officer)
    session.commit()
    end(session, officer)
    session.commit()
    session.expire_all()
    assert accounts.authenticate_token(session, token) is None
    assert chat.active_link(session, "telegram", address) is None
    assert all(row.revoked_at for row in accounts.tokens_of(session, officer))


def test_only_the_owner_withdraws_a_token(session: Session, officer: User) -> None:
    row, token = accounts.issue_token(session, officer, channel="web", by=officer)
    other = accounts.create_user(session, "x@example.test", role="police")
    with pytest.raises(accounts.AccountError):
        accounts.withdraw_token(session, row, by=other, channel="web")
    accounts.withdraw_token(session, row, by=officer, channel="web")
    assert accounts.authenticate_token(session, token) is None
