"""Searching through the domain: one rule, one rate, one audit row, on every channel."""

from __future__ import annotations

import datetime as dt
import secrets
import threading

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from plans import accounts, lookup, ratelimit
from plans.audit import AuditEvent
from plans.db import make_session_factory
from plans.lookup import SearchRate, SearchRefused
from plans.ratelimit import DatabaseCounter, Limit, RedisCounter
from plans.vocabulary import RESPONDER_ROLES, STAFF_ROLES
from tests.conftest import skip_without_redis

AT = dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.UTC)


def searches(session: Session) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == "search"))
    )


@pytest.mark.parametrize("role", STAFF_ROLES)
@pytest.mark.parametrize("channel", ["web", "api", "telegram", "sms", "whatsapp"])
def test_staff_are_refused_on_every_channel(
    session: Session, role: str, channel: str
) -> None:
    user = accounts.create_user(session, f"{role}@example.test", role=role)
    with pytest.raises(SearchRefused) as refused:
        lookup.find_plans(session, user, "smith", channel=channel, now=AT)  # type: ignore[arg-type]
    assert refused.value.reason == "not_allowed"
    assert searches(session) == []


@pytest.mark.parametrize("role", RESPONDER_ROLES)
def test_a_responder_search_writes_one_row_of_one_shape(
    session: Session, role: str
) -> None:
    user = accounts.create_user(session, "r@example.test", role=role)
    lookup.find_plans(session, user, "smith", channel="api", lat=50.9, lon=-1.4, now=AT)
    (row,) = searches(session)
    assert row.channel == "api" and row.actor_id == user.id
    assert row.detail == {
        "query_length": 5,
        "has_location": True,
        "result_count": 0,
        "query_kind": "text_and_location",
    }


def test_a_disabled_account_is_refused(session: Session) -> None:
    user = accounts.create_user(session, "gone@example.test", role="police")
    accounts.disable_user(user)
    with pytest.raises(SearchRefused):
        lookup.find_plans(session, user, "smith", channel="web", now=AT)


def test_the_rate_counts_per_account_and_resets_with_the_window(
    session: Session,
) -> None:
    rate = SearchRate(limits=(Limit(3, 60),))
    first = accounts.create_user(session, "a@example.test", role="police")
    other = accounts.create_user(session, "b@example.test", role="police")
    for _ in range(3):
        lookup.find_plans(session, first, "x", channel="sms", rate=rate, now=AT)
    with pytest.raises(SearchRefused) as refused:
        lookup.find_plans(session, first, "x", channel="web", rate=rate, now=AT)
    assert refused.value.reason == "rate_limited"
    assert 0 < refused.value.retry_after <= 60
    # Another account is not slowed by the first, and a minute later nor is it.
    lookup.find_plans(session, other, "x", channel="web", rate=rate, now=AT)
    later = AT + dt.timedelta(seconds=61)
    lookup.find_plans(session, first, "x", channel="web", rate=rate, now=later)
    assert len(searches(session)) == 5


def test_parse_limits_reads_the_config_words() -> None:
    assert ratelimit.parse_limits("60/minute;600 per hour") == (
        Limit(60, 60),
        Limit(600, 3600),
    )
    with pytest.raises(ValueError):
        ratelimit.parse_limits("lots")


def _hammer(
    factory: object, counter: ratelimit.Counter, threads: int, each: int
) -> list[bool]:
    """Count hits on one key from parallel sessions; return every decision."""
    decisions: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker() -> None:
        try:
            start.wait()
            for _ in range(each):
                with factory() as session:  # type: ignore[operator]
                    decision = counter.hit(
                        session, "search:user:1", (Limit(25, 60),), now=AT
                    )
                    session.commit()
                with lock:
                    decisions.append(decision.allowed)
        except BaseException as error:  # noqa: BLE001  report to the main thread
            errors.append(error)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    return decisions


def test_parallel_hits_in_the_database_never_pass_the_limit(engine: Engine) -> None:
    factory = make_session_factory(engine)
    decisions = _hammer(factory, DatabaseCounter(), threads=4, each=10)
    assert len(decisions) == 40
    assert decisions.count(True) == 25


@pytest.mark.redis
def test_parallel_hits_in_redis_never_pass_the_limit(engine: Engine) -> None:
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        skip_without_redis("Redis is not running on 127.0.0.1:6379")
    prefix = "test-" + secrets.token_hex(6) + ":"
    factory = make_session_factory(engine)
    decisions = _hammer(
        factory, RedisCounter(client, prefix=prefix), threads=4, each=10
    )
    assert decisions.count(True) == 25
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)


def test_redis_down_falls_back_to_the_database(session: Session) -> None:
    import redis

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    counter = RedisCounter(dead)
    decisions = [
        counter.hit(session, "k", (Limit(2, 60),), now=AT).allowed for _ in range(3)
    ]
    assert decisions == [True, True, False]
