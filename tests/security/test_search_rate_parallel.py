"""Parallel searches through the app never pass the per-account limit."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import pytest
from flask import Flask

from plans import accounts, clock
from plans.db import create_schema, make_session_factory
from plans.ratelimit import RedisCounter, parse_limits
from responder import create_app
from responder.security import search_rate
from tests.conftest import TEST_HASH_COST, skip_without_redis

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["database", "redis"])
def limited_app(request: pytest.FixtureRequest, database_url: str) -> Iterator[Flask]:
    """Return the app allowing 10 searches a minute, counted in the DB or Redis."""
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "PASSWORD_HASH_COST": TEST_HASH_COST,
        "SEARCH_RATE_LIMITS": "10/minute",
    }
    if request.param == "redis":
        import redis

        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        except redis.RedisError:
            skip_without_redis("Redis is not running on 127.0.0.1:6379")
        config["REDIS_URL"] = REDIS_URL
    app = create_app(config)
    if request.param == "redis":
        # A prefix of its own: runs never share counters.
        rate = search_rate(app)
        assert isinstance(rate.counter, RedisCounter)
        app.extensions["responder.search_rate"] = type(rate)(
            counter=RedisCounter(
                rate.counter.client, prefix=f"test-{secrets.token_hex(6)}:"
            ),
            limits=parse_limits("10/minute"),
        )
    create_schema(app.extensions["responder.engine"])
    yield app
    app.extensions["responder.engine"].dispose()


def test_parallel_api_searches_stop_at_the_limit(limited_app: Flask) -> None:
    # Mid-minute, so the burst never straddles two counting windows.
    with clock.frozen(clock.now().replace(second=30, microsecond=0)):
        run_parallel_searches(limited_app)


def run_parallel_searches(limited_app: Flask) -> None:
    """Search 20 times from 4 threads with one token; 10 may pass."""
    factory = make_session_factory(limited_app.extensions["responder.engine"])
    with factory() as db:
        user = accounts.create_user(db, "pc@example.test", role="police")
        _row, token = accounts.create_token(db, user)
        db.commit()
    codes: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker() -> None:
        client = limited_app.test_client()
        start.wait()
        for _ in range(5):
            status = client.get(
                "/api/v1/search?q=smith", headers={"Authorization": f"Bearer {token}"}
            ).status_code
            with lock:
                codes.append(status)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200] * 10 + [429] * 10
