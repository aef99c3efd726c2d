"""Sign-in limits shared through Redis, as several workers share them in production."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import redis
from flask import Flask

from plans.db import create_schema
from responder import create_app
from tests.conftest import skip_without_redis

REDIS_URL = "redis://127.0.0.1:6379/15"

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_app(database_url: str) -> Iterator[Flask]:
    """Return the app with its rate limits in Redis (skip if Redis is not there)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        skip_without_redis("Redis is not running on 127.0.0.1:6379")
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            # A prefix of its own: runs never share counters.
            "RATELIMIT_KEY_PREFIX": "test-" + secrets.token_hex(6),
        }
    )
    create_schema(app.extensions["responder.engine"])
    yield app
    app.extensions["responder.engine"].dispose()


def test_the_address_limit_counts_in_redis(redis_app: Flask) -> None:
    address = "203.0.113.77"
    first, second = redis_app.test_client(), redis_app.test_client()
    for client in (first, second):
        client.environ_base["REMOTE_ADDR"] = address
    # Two browsers from one address count together: the counter lives in Redis.
    codes = [
        (first if n % 2 else second)
        .post("/login", data={"email": f"u{n}@example.test", "password": "x" * 12})
        .status_code
        for n in range(21)
    ]
    assert codes[:20] == [401] * 20
    assert codes[20] == 429
    keys = redis.Redis.from_url(REDIS_URL).keys(
        "*" + redis_app.config["RATELIMIT_KEY_PREFIX"] + "*"
    )
    assert keys
