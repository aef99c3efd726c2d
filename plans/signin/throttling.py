"""Login-attempt throttling: guessing is slowed, never turned into a lockout.

Three throttles count every guess, in the database so that every worker shares
them: the (account, address) pair, the account from any address, and the address
at any account. Each earns a growing wait after a few failures. An attempt is
counted before it is checked, in one atomic statement, so parallel guesses cannot
all slip in before the count rises. The account-wide throttle waits at most a few
minutes, raises a privacy alert when it first bites, and does not apply to a
browser that has signed in to the account before, so an attacker cannot keep the
responder out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Integer, String, case, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from plans.db import Base, dialect_name, utcnow
from plans.hashing import sha256_hex
from plans.models import User
from plans.ratelimit import doubling_wait
from plans.signin.passkeys import CHALLENGE_LIFETIME, WebAuthnChallenge

THROTTLE_FREE_FAILURES = 3


THROTTLE_MAX_WAIT = dt.timedelta(minutes=15)


THROTTLE_FORGET_AFTER = dt.timedelta(hours=24)


class LoginThrottle(Base):
    """Failed attempts for one (purpose, account, address) key."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    blocked_until: Mapped[dt.datetime | None]


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are free, and how long waits grow after them."""

    free_failures: int
    max_wait: dt.timedelta

    def wait_after(self, failures: int) -> dt.timedelta:
        """Return the wait earned by this many failures in a row."""
        return doubling_wait(
            failures,
            first=dt.timedelta(seconds=1),
            cap=self.max_wait,
            free=self.free_failures,
        )


# One account from one address: the user mistyping, or one guesser.
PAIR_POLICY = ThrottlePolicy(THROTTLE_FREE_FAILURES, THROTTLE_MAX_WAIT)


# One account from every address: guessing spread over many addresses. A short
# cap, so the account's owner is slowed but never kept out for long.
ACCOUNT_POLICY = ThrottlePolicy(10, dt.timedelta(minutes=5))


# One address at every account: spraying one password over many accounts. Many
# free failures, as a station's staff may share one address.
ADDRESS_POLICY = ThrottlePolicy(50, THROTTLE_MAX_WAIT)


SIGN_IN_GUESSING_ALERT = "sign_in_guessing"


@dataclass(frozen=True)
class Throttle:
    """One counter of failed attempts and the policy that turns it into waits."""

    key: str
    policy: ThrottlePolicy
    scope: str  # "pair", "account" or "address"


class Throttled(Exception):
    """An attempt that must wait; nothing was checked and nothing was counted."""

    def __init__(self, wait: dt.timedelta, scope: str) -> None:
        super().__init__(f"wait {wait}")
        self.wait = wait
        self.scope = scope


def throttle_key(purpose: str, account: str, address: str) -> str:
    """Return the throttle key for a purpose, account (email or id) and address."""
    material = f"{purpose}\x00{account.strip().lower()}\x00{address}"
    return sha256_hex(material)


def attempt_throttles(
    purpose: str, account: str, address: str, *, known_device: bool = False
) -> list[Throttle]:
    """Return the throttles one sign-in attempt counts against.

    A browser that signed in to this account before skips the account-wide
    throttle, so guessing from elsewhere cannot keep the owner out.
    """
    throttles = [
        Throttle(throttle_key(purpose, account, address), PAIR_POLICY, "pair"),
        Throttle(
            throttle_key(purpose + ":address", "*", address), ADDRESS_POLICY, "address"
        ),
    ]
    if not known_device:
        throttles.append(
            Throttle(
                throttle_key(purpose + ":account", account, "*"),
                ACCOUNT_POLICY,
                "account",
            )
        )
    return throttles


def throttle_wait(
    session: Session, key: str, *, now: dt.datetime | None = None
) -> dt.timedelta:
    """Return how long this key must wait before its next attempt (zero: go)."""
    row = session.get(LoginThrottle, key, populate_existing=True)
    now = now or utcnow()
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return dt.timedelta(0)
    return row.blocked_until - now


def failure_wait(failures: int) -> dt.timedelta:
    """Return the wait earned by this many consecutive failures (one address)."""
    return PAIR_POLICY.wait_after(failures)


def _count_failure(
    session: Session, key: str, now: dt.datetime, *, only_if_free: bool
) -> int | None:
    """Add one failure to a key atomically; return the new count.

    INSERT ... ON CONFLICT DO UPDATE on both databases: two parallel first
    failures once raced to INSERT the same key and one got a 500. With
    `only_if_free`, a key that must still wait is left alone and None returned.
    """
    insert = (
        postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    )
    column = LoginThrottle.__table__.c
    first_failure = insert(LoginThrottle).values(
        key=key, failures=1, last_failure_at=now, blocked_until=None
    )
    free = or_(column.blocked_until.is_(None), column.blocked_until <= now)
    statement = first_failure.on_conflict_do_update(
        index_elements=[column.key],
        set_={
            "failures": case(
                (column.last_failure_at < now - THROTTLE_FORGET_AFTER, 1),
                else_=column.failures + 1,
            ),
            "last_failure_at": now,
        },
        where=free if only_if_free else None,
    ).returning(column.failures)
    failures = session.execute(statement).scalar_one_or_none()
    return None if failures is None else int(failures)


def _block(
    session: Session, throttle: Throttle, failures: int, now: dt.datetime
) -> dt.timedelta:
    wait = throttle.policy.wait_after(failures)
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == throttle.key)
        .values(blocked_until=now + wait if wait else None)
        .execution_options(synchronize_session=False)
    )
    return wait


def claim_attempt(
    session: Session,
    throttles: list[Throttle],
    *,
    user: User | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Count one attempt against every throttle before it is checked.

    Raise Throttled while any throttle must wait; the caller then rolls back (a
    refused attempt counts for nothing, so hammering does not lengthen the
    wait) and answers 429. Otherwise the caller commits at once, before checking
    the secret: counted first, parallel guesses see each other's counts. The
    first time the account-wide throttle bites, the privacy officer is alerted.
    """
    now = now or utcnow()
    for throttle in throttles:
        wait = throttle_wait(session, throttle.key, now=now)
        if wait:
            raise Throttled(wait, throttle.scope)
    for throttle in throttles:
        failures = _count_failure(session, throttle.key, now, only_if_free=True)
        if failures is None:  # a parallel attempt was counted first and bit
            raise Throttled(
                throttle_wait(session, throttle.key, now=now), throttle.scope
            )
        _block(session, throttle, failures, now)
        if (
            throttle.scope == "account"
            and user is not None
            and failures == throttle.policy.free_failures
        ):
            _alert_guessing(session, user, failures, now)


def _alert_guessing(
    session: Session, user: User, failures: int, now: dt.datetime
) -> None:
    from plans.access import PrivacyAlert

    session.add(
        PrivacyAlert(
            kind=SIGN_IN_GUESSING_ALERT,
            user_id=user.id,
            summary=f"{failures} failed sign-in attempts at {user.display_name}'s "
            "account from more than one address; sign-in is being slowed",
            created_at=now,
        )
    )


def forget_failures(session: Session, throttles: list[Throttle]) -> None:
    """Forget the pair and account failures after a successful attempt.

    The address throttle is kept: one good sign-in must not reset a spray at
    every other account from that address.
    """
    keys = [t.key for t in throttles if t.scope != "address"]
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))


def record_failure(
    session: Session, key: str, *, now: dt.datetime | None = None
) -> dt.timedelta:
    """Count a failed attempt against one (account, address) key; return the wait."""
    now = now or utcnow()
    failures = _count_failure(session, key, now, only_if_free=False)
    assert failures is not None
    return _block(session, Throttle(key, PAIR_POLICY, "pair"), failures, now)


def record_success(session: Session, key: str) -> None:
    """Forget the failures of a key after a successful attempt."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


def purge_stale(session: Session, *, now: dt.datetime | None = None) -> int:
    """Delete throttles and ended sessions nobody needs any more; return how many."""
    now = now or utcnow()
    gone = session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.last_failure_at < now - THROTTLE_FORGET_AFTER
        )
    ).rowcount  # type: ignore[attr-defined]
    gone += session.execute(
        delete(WebAuthnChallenge).where(
            WebAuthnChallenge.created_at < now - CHALLENGE_LIFETIME
        )
    ).rowcount  # type: ignore[attr-defined]
    return int(gone or 0)
