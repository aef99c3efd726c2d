"""Engines, sessions and the declarative base shared by every table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    MetaData,
    create_engine,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from plans import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware, in UTC (from `plans.clock`)."""
    return clock.now()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Store datetimes as naive UTC and hand them back timezone-aware.

    SQLite has no timezone support; normalising here keeps both backends identical.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Any
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC time")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Any
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON}


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers carry on while one writer commits; NORMAL sync is durable
    # across application crashes, which is the failure we design for.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for SQLite or PostgreSQL with the project's settings."""
    if url.startswith("sqlite"):
        options: dict[str, Any] = {
            "connect_args": {"timeout": 15, "check_same_thread": False},
        }
        if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
            # File databases: a pool per process is cheap and WAL handles sharing.
            options["poolclass"] = NullPool
        options.update(kwargs)
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    options = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}
    options.update(kwargs)
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _postgresql_on_connect)
    return engine


# Every request runs a few short index lookups. Parallel workers and JIT help one
# long query on an idle server; on a busy one they only add CPU and latency (a
# search's text lookup ran on three processes for no gain under load).
_POSTGRESQL_SETTINGS = (
    "SET max_parallel_workers_per_gather = 0",
    "SET jit = off",
)


def _postgresql_on_connect(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        for statement in _POSTGRESQL_SETTINGS:
            cursor.execute(statement)
    dbapi_connection.commit()


_Item = TypeVar("_Item")


def chunks(items: Sequence[_Item], size: int = 500) -> Iterator[list[_Item]]:
    """Yield `items` in lists of at most `size`, for IN lists of bounded length.

    SQLite and PostgreSQL both cap the bound parameters of one statement.
    """
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def make_session_factory(
    engine: Engine, *, info: dict[str, Any] | None = None
) -> sessionmaker[Session]:
    """Return a session factory whose objects stay usable after commit.

    `info` seeds every session's `Session.info`: how the app tells the domain's
    subscribers what is switched on (plans.nrl.SESSION_FLAG).
    """
    import plans.all_models  # noqa: F401  (the listeners every session relies on)

    return sessionmaker(bind=engine, expire_on_commit=False, info=dict(info or {}))


# Hooks run after the tables exist: triggers, FTS tables, extensions. Each module
# that needs database objects beyond tables registers one with `after_create`.
_after_create_hooks: list[Callable[[Connection], None]] = []


def after_create(hook: Callable[[Connection], None]) -> Callable[[Connection], None]:
    """Register a function that installs database objects beyond plain tables."""
    _after_create_hooks.append(hook)
    return hook


def install_database_objects(connection: Connection) -> None:
    """Install triggers, search tables and extensions on an existing schema."""
    import plans.all_models  # noqa: F401  (registers every table and hook)

    for hook in _after_create_hooks:
        hook(connection)


def create_schema(engine: Engine) -> None:
    """Create every table and database object (tests and first start-up)."""
    import plans.all_models  # noqa: F401

    with engine.begin() as connection:
        Base.metadata.create_all(connection)
        install_database_objects(connection)


def dialect_name(session_or_connection: Session | Connection) -> str:
    """Name the database dialect behind a session or connection."""
    # A Connection knows its dialect; it has no get_bind() (a Session does).
    if isinstance(session_or_connection, Connection):
        return session_or_connection.dialect.name
    return session_or_connection.get_bind().dialect.name


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer a trivial query."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
