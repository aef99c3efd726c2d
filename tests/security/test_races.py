"""Counting under concurrency: parallel tries are counted, codes spent once.

Findings 1 and 2 of the hostile test pass (issue 12). Each test runs real
concurrent database sessions (threads, one connection each) on the suite's
database, so it runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import TypeVar

import pyotp
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from plans import accounts, clock, people
from plans.db import make_session_factory
from plans.models import Person
from plans.signin import authenticator, recovery, throttling
from tests.plans import factories

PARALLEL = 8
Result = TypeVar("Result")


def in_parallel(
    engine: Engine, attempt: Callable[[Session], Result], count: int = PARALLEL
) -> list[Result | BaseException]:
    """Run `attempt` in `count` threads at once, each in its own session."""
    factory = make_session_factory(engine)
    barrier = threading.Barrier(count)
    results: list[Result | BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        with factory() as session:
            session.connection()  # connect first, so the attempts truly overlap
            barrier.wait()
            try:
                outcome: Result | BaseException = attempt(session)
                session.commit()
            except BaseException as error:  # noqa: BLE001  (reported to the test)
                session.rollback()
                outcome = error
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == count
    return results


# -- finding 1: the holder's PIN ----------------------------------------------------


@pytest.fixture
def holder(session: Session) -> Person:
    person = factories.person(session)
    people.set_pin(session, person, "4826")
    session.commit()
    return person


def _pin_row(engine: Engine, person_id: int) -> people.HolderPin:
    with make_session_factory(engine)() as fresh:
        row = fresh.get(people.HolderPin, person_id)
        assert row is not None
        return row


def test_parallel_pin_guesses_are_each_counted_and_then_wait(
    engine: Engine, holder: Person
) -> None:
    start = clock.now()

    def guess(at: dt.datetime) -> Callable[[Session], bool]:
        def attempt(session: Session) -> bool:
            person = session.get(Person, holder.id)
            assert person is not None
            return people.verify_pin(session, person, "0000", now=at)

        return attempt

    results = in_parallel(engine, guess(start))
    checked = [r for r in results if r is False]
    waited = [r for r in results if isinstance(r, people.PinDelayed)]
    assert len(checked) + len(waited) == PARALLEL, results
    row = _pin_row(engine, holder.id)
    # Every guess that was checked was counted, and no more than the free ones.
    assert row.failed_count == len(checked) == people.FREE_ATTEMPTS

    # After the wait, one guess is checked, not one per worker.
    retry_at = row.last_failed_at + people.pin_delay(row.failed_count)
    results = in_parallel(engine, guess(retry_at))
    assert sum(r is False for r in results) == 1, results
    assert _pin_row(engine, holder.id).failed_count == people.FREE_ATTEMPTS + 1


def test_the_right_pin_still_works_after_parallel_guesses(
    engine: Engine, holder: Person
) -> None:
    start = clock.now()
    in_parallel(
        engine,
        lambda s: people.verify_pin(s, s.get(Person, holder.id), "0000", now=start),
    )
    row = _pin_row(engine, holder.id)
    later = row.last_failed_at + people.pin_delay(row.failed_count)
    with make_session_factory(engine)() as session:
        person = session.get(Person, holder.id)
        assert people.verify_pin(session, person, "4826", now=later)
        session.commit()
    assert _pin_row(engine, holder.id).failed_count == 0


# -- finding 2: one use per code; throttle rows without a race ------------------------


@pytest.fixture
def user_with_codes(session: Session) -> tuple[int, str, list[str]]:
    user = accounts.create_user(session, "pc.race@example.org", role="police")
    cipher = authenticator.totp_cipher("race-secret")
    uri = authenticator.begin_totp(session, user, cipher)
    row = session.get(authenticator.TotpFactor, user.id)
    row.confirmed_at = clock.now()
    codes = recovery.issue_recovery_codes(session, user)
    session.commit()
    return user.id, pyotp.parse_uri(uri).secret, codes


def test_one_totp_code_is_accepted_once_in_parallel(
    engine: Engine, user_with_codes: tuple[int, str, list[str]]
) -> None:
    user_id, secret, _codes = user_with_codes
    now = clock.now()
    code = pyotp.TOTP(secret).at(now)
    cipher = authenticator.totp_cipher("race-secret")

    def attempt(session: Session) -> bool:
        user = session.get(accounts.User, user_id)
        return authenticator.verify_totp(session, user, code, cipher, now=now)

    results = in_parallel(engine, attempt)
    assert results.count(True) == 1, results
    assert results.count(False) == PARALLEL - 1


def test_one_recovery_code_is_accepted_once_in_parallel(
    engine: Engine, user_with_codes: tuple[int, str, list[str]]
) -> None:
    user_id, _secret, codes = user_with_codes

    def attempt(session: Session) -> bool:
        user = session.get(accounts.User, user_id)
        return recovery.use_recovery_code(session, user, codes[0])

    results = in_parallel(engine, attempt)
    assert results.count(True) == 1, results
    with make_session_factory(engine)() as fresh:
        user = fresh.get(accounts.User, user_id)
        assert recovery.unused_recovery_codes(fresh, user) == len(codes) - 1


def test_parallel_first_failures_never_collide(engine: Engine) -> None:
    key = throttling.throttle_key("password", "nobody@example.org", "addr")
    results = in_parallel(engine, lambda s: throttling.record_failure(s, key))
    assert not [r for r in results if isinstance(r, BaseException)], results
    with make_session_factory(engine)() as fresh:
        row = fresh.get(throttling.LoginThrottle, key)
        assert row is not None and row.failures == PARALLEL


def test_parallel_sign_in_attempts_are_all_counted_before_any_check(
    engine: Engine,
) -> None:
    now = clock.now()
    throttles = throttling.attempt_throttles("password", "pc@example.org", "addr")

    def attempt(session: Session) -> bool:
        throttling.claim_attempt(session, throttles, now=now)
        return True

    results = in_parallel(engine, attempt, count=12)
    allowed = results.count(True)
    refused = [r for r in results if isinstance(r, throttling.Throttled)]
    assert allowed + len(refused) == 12, results
    # The pair throttle's last free failure earns the first wait.
    assert allowed == throttling.PAIR_POLICY.free_failures
    with make_session_factory(engine)() as fresh:
        counted = fresh.scalar(
            select(func.max(throttling.LoginThrottle.failures)).where(
                throttling.LoginThrottle.key == throttles[0].key
            )
        )
    assert counted == allowed
