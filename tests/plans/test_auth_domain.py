"""Session records, second factors and throttles in plans.signin (no Flask)."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plans import accounts
from plans.db import utcnow
from plans.models import Team, User
from plans.signin import (
    SecondFactorError,
    authenticator,
    passkeys,
    recovery,
    second_factors,
    sessions,
    throttling,
)

IDLE = dt.timedelta(hours=2)
ABSOLUTE = dt.timedelta(hours=13)
SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture
def user(session: Session) -> User:
    """Return a synthetic police user in team DEMO-X."""
    session.add(Team(code="DEMO-X", name="Demo team (synthetic)"))
    session.flush()
    return accounts.create_user(
        session,
        "pc.demo@example.test",
        role="police",
        password="correct horse battery staple",
        team_codes=["DEMO-X"],
    )


def load(session: Session, token: str, now: dt.datetime | None = None) -> object:
    return sessions.load_session(
        session, token, idle_timeout=IDLE, absolute_timeout=ABSOLUTE, now=now
    )


# -- session records ----------------------------------------------------------------


def test_a_session_token_opens_its_record_and_only_its_digest_is_stored(
    session: Session, user: User
) -> None:
    row, token = sessions.start_session(session, user, method="totp")
    session.commit()
    assert load(session, token) is row
    assert token not in {row.digest}
    assert load(session, token + "x") is None
    assert load(session, "") is None
    assert user.last_login_at is not None


def test_each_sign_in_gets_a_different_token(session: Session, user: User) -> None:
    tokens = {sessions.start_session(session, user, method="totp")[1] for _ in range(5)}
    assert len(tokens) == 5


def test_a_session_ends_after_two_idle_hours(session: Session, user: User) -> None:
    row, token = sessions.start_session(session, user, method="totp")
    start = row.last_seen_at
    assert load(session, token, start + dt.timedelta(hours=1, minutes=59)) is row
    assert load(session, token, start + dt.timedelta(hours=2, minutes=1)) is None


def test_a_busy_session_still_ends_after_thirteen_hours(
    session: Session, user: User
) -> None:
    row, token = sessions.start_session(session, user, method="totp")
    created = row.created_at
    later = created + dt.timedelta(hours=12, minutes=59)
    sessions.touch_session(session, row.id, now=later - dt.timedelta(minutes=5))
    session.refresh(row)
    assert load(session, token, later) is row
    sessions.touch_session(session, row.id, now=later)
    session.refresh(row)
    assert load(session, token, created + dt.timedelta(hours=13, minutes=1)) is None


def test_touching_is_due_only_after_a_minute(session: Session, user: User) -> None:
    row, _token = sessions.start_session(session, user, method="totp")
    assert not sessions.touch_due(row, now=row.last_seen_at + dt.timedelta(seconds=30))
    assert sessions.touch_due(row, now=row.last_seen_at + dt.timedelta(minutes=2))


def test_revoking_ends_a_session_at_once(session: Session, user: User) -> None:
    row, token = sessions.start_session(session, user, method="totp")
    sessions.revoke_session(row, reason="logout")
    assert load(session, token) is None
    assert row.revoke_reason == "logout"


def test_ending_other_sessions_keeps_this_one(session: Session, user: User) -> None:
    mine, my_token = sessions.start_session(session, user, method="totp")
    _other, other_token = sessions.start_session(session, user, method="passkey")
    assert sessions.revoke_user_sessions(session, user, reason="x", keep=mine) == 1
    session.expire_all()
    assert load(session, my_token) is not None
    assert load(session, other_token) is None
    assert [row.id for row in sessions.live_sessions(session, user)] == [mine.id]


def test_disabling_an_account_ends_its_sessions_and_tokens(
    session: Session, user: User
) -> None:
    _row, token = sessions.start_session(session, user, method="totp")
    _api, api_token = accounts.create_token(session, user)
    assert sessions.disable_account(session, user) == 1
    session.commit()
    session.expire_all()
    assert load(session, token) is None
    assert accounts.authenticate_token(session, api_token) is None
    assert user.active is False


def test_a_disabled_user_session_stops_even_without_revocation(
    session: Session, user: User
) -> None:
    _row, token = sessions.start_session(session, user, method="totp")
    accounts.disable_user(user)
    assert load(session, token) is None


# -- authenticator app --------------------------------------------------------------


def enrolled(session: Session, user: User) -> pyotp.TOTP:
    cipher = authenticator.totp_cipher(SECRET)
    uri = authenticator.begin_totp(session, user, cipher)
    totp = pyotp.parse_uri(uri)
    earlier = utcnow() - dt.timedelta(seconds=30)
    assert authenticator.confirm_totp(
        session, user, totp.at(earlier), cipher, now=earlier
    )
    return totp


def test_the_app_works_only_after_a_confirmed_code(
    session: Session, user: User
) -> None:
    cipher = authenticator.totp_cipher(SECRET)
    uri = authenticator.begin_totp(session, user, cipher)
    totp = pyotp.parse_uri(uri)
    assert not authenticator.totp_enabled(session, user)
    assert not authenticator.verify_totp(session, user, totp.now(), cipher)
    assert not authenticator.confirm_totp(session, user, "000000x", cipher)
    assert authenticator.confirm_totp(session, user, totp.now(), cipher)
    assert authenticator.totp_enabled(session, user)
    assert second_factors.has_second_factor(session, user)
    assert second_factors.second_factor_methods(session, user) == ["totp"]


def test_the_app_secret_is_stored_encrypted(session: Session, user: User) -> None:
    totp = enrolled(session, user)
    row = session.get(authenticator.TotpFactor, user.id)
    assert row is not None
    assert totp.secret not in row.secret_encrypted
    other_key = authenticator.totp_cipher("another-secret-key-entirely-0123456789")
    with pytest.raises(SecondFactorError):
        authenticator.verify_totp(session, user, totp.now(), other_key)


def test_a_code_is_accepted_once(session: Session, user: User) -> None:
    totp = enrolled(session, user)
    cipher = authenticator.totp_cipher(SECRET)
    code = totp.now()
    assert authenticator.verify_totp(session, user, code, cipher)
    assert not authenticator.verify_totp(session, user, code, cipher)


@pytest.mark.parametrize("offset", [-30, 30])
def test_a_neighbouring_code_is_accepted_for_clock_drift(
    session: Session, user: User, offset: int
) -> None:
    totp = enrolled(session, user)
    now = utcnow() + dt.timedelta(seconds=60)
    code = totp.at(now + dt.timedelta(seconds=offset))
    assert authenticator.verify_totp(
        session, user, code, authenticator.totp_cipher(SECRET), now=now
    )


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "000000"])
def test_bad_codes_are_refused(session: Session, user: User, code: str) -> None:
    totp = enrolled(session, user)
    if code == "000000" and totp.now() == "000000":
        pytest.skip("the real code happens to be 000000")
    assert not authenticator.verify_totp(
        session, user, code, authenticator.totp_cipher(SECRET)
    )


def test_a_code_from_far_away_in_time_is_refused(session: Session, user: User) -> None:
    totp = enrolled(session, user)
    stale = totp.at(utcnow() - dt.timedelta(minutes=5))
    if stale == totp.now():
        pytest.skip("codes collided")
    assert not authenticator.verify_totp(
        session, user, stale, authenticator.totp_cipher(SECRET)
    )


def test_a_confirmed_app_cannot_be_silently_replaced(
    session: Session, user: User
) -> None:
    enrolled(session, user)
    with pytest.raises(SecondFactorError):
        authenticator.begin_totp(session, user, authenticator.totp_cipher(SECRET))


# -- recovery codes -----------------------------------------------------------------


def test_ten_distinct_recovery_codes_each_work_once(
    session: Session, user: User
) -> None:
    codes = recovery.issue_recovery_codes(session, user)
    assert len(codes) == 10 == len(set(codes))
    assert recovery.unused_recovery_codes(session, user) == 10
    assert recovery.use_recovery_code(session, user, codes[0])
    assert not recovery.use_recovery_code(session, user, codes[0])
    assert recovery.unused_recovery_codes(session, user) == 9


def test_recovery_codes_forgive_case_spaces_and_dashes(
    session: Session, user: User
) -> None:
    code = recovery.issue_recovery_codes(session, user)[3]
    typed = " " + code.replace("-", " ").upper() + " "
    assert recovery.use_recovery_code(session, user, typed)


def test_recovery_codes_are_stored_only_as_digests(
    session: Session, user: User
) -> None:
    codes = recovery.issue_recovery_codes(session, user)
    stored = set(session.scalars(select(recovery.RecoveryCode.digest)))
    assert len(stored) == 10
    assert not stored & set(codes)


def test_new_recovery_codes_replace_the_old_ones(session: Session, user: User) -> None:
    old = recovery.issue_recovery_codes(session, user)
    recovery.issue_recovery_codes(session, user)
    assert not recovery.use_recovery_code(session, user, old[0])
    assert recovery.unused_recovery_codes(session, user) == 10


def test_another_users_recovery_code_does_not_work(
    session: Session, user: User
) -> None:
    other = accounts.create_user(session, "other@example.test", role="mentor")
    code = recovery.issue_recovery_codes(session, other)[0]
    assert not recovery.use_recovery_code(session, user, code)


def test_resetting_second_factors_removes_them_and_ends_sessions(
    session: Session, user: User
) -> None:
    enrolled(session, user)
    recovery.issue_recovery_codes(session, user)
    _row, token = sessions.start_session(session, user, method="totp")
    assert second_factors.reset_second_factors(session, user) == 1
    session.expire_all()
    assert not second_factors.has_second_factor(session, user)
    assert recovery.unused_recovery_codes(session, user) == 0
    assert load(session, token) is None


# -- throttling ---------------------------------------------------------------------


def test_waits_double_after_three_failures_up_to_fifteen_minutes() -> None:
    waits = [throttling.failure_wait(n).total_seconds() for n in range(1, 9)]
    assert waits == [0, 0, 1, 2, 4, 8, 16, 32]
    assert throttling.failure_wait(40) == dt.timedelta(minutes=15)


def test_a_throttled_key_waits_then_may_try_again(session: Session) -> None:
    key = throttling.throttle_key("password", "pc.demo@example.test", "ip-a")
    now = utcnow()
    for _ in range(4):
        throttling.record_failure(session, key, now=now)
    assert throttling.throttle_wait(session, key, now=now) == dt.timedelta(seconds=2)
    later = now + dt.timedelta(seconds=3)
    assert throttling.throttle_wait(session, key, now=later) == dt.timedelta(0)


def test_an_attacker_elsewhere_cannot_lock_the_responder_out(
    session: Session,
) -> None:
    attacker = throttling.throttle_key("password", "pc.demo@example.test", "ip-evil")
    responder = throttling.throttle_key("password", "PC.Demo@example.test ", "ip-own")
    now = utcnow()
    for _ in range(30):
        throttling.record_failure(session, attacker, now=now)
    assert throttling.throttle_wait(session, attacker, now=now) > dt.timedelta(0)
    assert throttling.throttle_wait(session, responder, now=now) == dt.timedelta(0)


def test_success_forgets_failures(session: Session) -> None:
    key = throttling.throttle_key("factor", "7", "ip-a")
    for _ in range(5):
        throttling.record_failure(session, key)
    throttling.record_success(session, key)
    assert throttling.throttle_wait(session, key) == dt.timedelta(0)
    assert throttling.record_failure(session, key) == dt.timedelta(0)


def test_failures_a_day_old_are_forgotten(session: Session) -> None:
    key = throttling.throttle_key("password", "x@example.test", "ip-a")
    then = utcnow() - dt.timedelta(days=2)
    for _ in range(10):
        throttling.record_failure(session, key, now=then)
    assert throttling.record_failure(session, key) == dt.timedelta(0)
    assert throttling.purge_stale(session, now=utcnow() + dt.timedelta(days=2)) == 1


# -- WebAuthn challenges ------------------------------------------------------------


def test_a_challenge_can_be_taken_once_for_its_purpose(session: Session) -> None:
    handle = passkeys.save_challenge(session, "login", b"challenge-bytes")
    assert passkeys.take_challenge(session, handle, "login") == b"challenge-bytes"
    assert passkeys.take_challenge(session, handle, "login") is None
    other = passkeys.save_challenge(session, "register", b"x")
    assert passkeys.take_challenge(session, other, "login") is None
    assert passkeys.take_challenge(session, other, "register") is None


def test_a_challenge_expires_after_five_minutes(session: Session) -> None:
    handle = passkeys.save_challenge(session, "login", b"c")
    later = utcnow() + dt.timedelta(minutes=6)
    assert passkeys.take_challenge(session, handle, "login", now=later) is None


def test_unanswered_challenges_are_cleared_as_new_ones_arrive(
    session: Session,
) -> None:
    passkeys.save_challenge(session, "login", b"old")
    session.execute(
        update(passkeys.WebAuthnChallenge).values(
            created_at=utcnow() - dt.timedelta(minutes=10)
        )
    )
    passkeys.save_challenge(session, "login", b"new")
    stored = session.scalars(select(passkeys.WebAuthnChallenge.challenge)).all()
    assert stored == [b"new"]
