"""Counting hits per key in fixed windows, atomically, in Redis or the database.

A read-then-write counter lets parallel requests slip past it (we paid for that
with the PIN wait), so both counters make the increment and the read one atomic
step: Redis `INCR` in a MULTI/EXEC pipeline, or one `INSERT ... ON CONFLICT DO
UPDATE ... RETURNING` on SQLite and PostgreSQL alike.

Callers choose the counter (the app builds a Redis one when RESPONDER_REDIS_URL is
set); the domain only asks `hit`. Redis failing mid-shift falls back to the
database counter rather than refusing a responder.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Integer, String, delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from plans.db import Base, utcnow

logger = logging.getLogger(__name__)

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(second|minute|hour|day)s?\s*$")


@dataclass(frozen=True)
class Limit:
    """At most `count` hits in each window of `seconds`."""

    count: int
    seconds: int


def parse_limits(text: str) -> tuple[Limit, ...]:
    """Read limits like "60/minute;600/hour" (or "60 per minute")."""
    limits = []
    for part in filter(None, (piece.strip() for piece in text.split(";"))):
        match = _LIMIT.match(part)
        if match is None:
            raise ValueError(f"not a rate limit: {part!r} (say e.g. 60/minute)")
        limits.append(Limit(int(match[1]), _UNITS[match[2]]))
    if not limits:
        raise ValueError("give at least one rate limit")
    return tuple(limits)


@dataclass(frozen=True)
class Decision:
    """Whether a hit is within its limits, and if not, when to try again."""

    allowed: bool
    retry_after: int = 0


class Counter(Protocol):
    """Something that counts hits per key and window, atomically."""

    def hit(
        self,
        session: Session,
        key: str,
        limits: tuple[Limit, ...],
        *,
        now: dt.datetime,
    ) -> Decision:
        """Count one hit on `key` and say whether every limit still holds."""
        ...


def doubling_wait(
    count: int, *, first: dt.timedelta, cap: dt.timedelta, free: int = 0
) -> dt.timedelta:
    """Return the back-off after `count` failures: none for the first `free`,
    then `first`, doubling with each one more, never above `cap`."""
    if count < free:
        return dt.timedelta(0)
    # The exponent is capped so a long run of failures cannot overflow timedelta.
    exponent = min(count - free, 20)
    delay: dt.timedelta = first * 2**exponent
    return min(delay, cap)


def _window(now: dt.datetime, seconds: int) -> int:
    return int(now.timestamp()) // seconds


def _decide(counts: list[int], limits: tuple[Limit, ...], now: dt.datetime) -> Decision:
    retry_after = 0
    for count, limit in zip(counts, limits, strict=True):
        if count > limit.count:
            window_end = (_window(now, limit.seconds) + 1) * limit.seconds
            retry_after = max(retry_after, window_end - int(now.timestamp()))
    return Decision(allowed=retry_after == 0, retry_after=retry_after)


class RateCounter(Base):
    """Hits on one key in one window (the database counter's rows)."""

    __tablename__ = "rate_counters"

    bucket: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class DatabaseCounter:
    """Count in the `rate_counters` table, one atomic upsert per limit."""

    def hit(
        self,
        session: Session,
        key: str,
        limits: tuple[Limit, ...],
        *,
        now: dt.datetime,
    ) -> Decision:
        """Count one hit on `key` and say whether every limit still holds."""
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        counts = []
        for limit in limits:
            bucket = f"{key}:{limit.seconds}"
            window = _window(now, limit.seconds)
            upsert = insert(RateCounter).values(
                bucket=bucket, window_no=window, count=1
            )
            statement = upsert.on_conflict_do_update(
                index_elements=[RateCounter.bucket, RateCounter.window_no],
                set_={"count": RateCounter.count + 1},
            ).returning(RateCounter.count)
            count = int(session.execute(statement).scalar_one())
            if count == 1:  # a new window: forget the old ones of this bucket
                session.execute(
                    delete(RateCounter).where(
                        RateCounter.bucket == bucket, RateCounter.window_no < window
                    )
                )
            counts.append(count)
        return _decide(counts, limits, now)


@dataclass(frozen=True)
class RedisCounter:
    """Count in Redis with INCR and EXPIRE in one MULTI/EXEC transaction."""

    client: Any
    prefix: str = "responder:rate:"
    fallback: Counter = field(default_factory=DatabaseCounter)

    def hit(
        self,
        session: Session,
        key: str,
        limits: tuple[Limit, ...],
        *,
        now: dt.datetime,
    ) -> Decision:
        """Count one hit on `key` and say whether every limit still holds."""
        from redis.exceptions import RedisError

        try:
            pipe = self.client.pipeline(transaction=True)
            for limit in limits:
                name = (
                    f"{self.prefix}{key}:{limit.seconds}:{_window(now, limit.seconds)}"
                )
                pipe.incr(name)
                pipe.expire(name, limit.seconds + 1)
            replies = pipe.execute()
        except RedisError:
            logger.warning("rate-limit Redis unreachable; counting in the database")
            return self.fallback.hit(session, key, limits, now=now)
        return _decide([int(value) for value in replies[::2]], limits, now)


def hit(
    session: Session,
    counter: Counter,
    key: str,
    limits: tuple[Limit, ...],
    *,
    now: dt.datetime | None = None,
) -> Decision:
    """Count one hit on `key` with `counter`; shorthand for domain callers."""
    return counter.hit(session, key, limits, now=now or utcnow())
