"""Fixtures: the app on SQLite or PostgreSQL, a client, a CLI runner and a session.

The whole suite runs on SQLite; with RESPONDER_TEST_BACKEND=postgresql and
RESPONDER_TEST_POSTGRES_URL set (see the Makefile) it runs again on PostgreSQL, each
test in a schema of its own that is dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from plans.db import create_schema, make_engine, make_session_factory

BACKEND = os.environ.get("RESPONDER_TEST_BACKEND", "sqlite")
POSTGRES_URL = os.environ.get("RESPONDER_TEST_POSTGRES_URL", "")


def pytest_report_header() -> str:
    """Say which database this run uses."""
    return f"responder database backend: {BACKEND}"


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """Connect to the PostgreSQL test database as its administrator."""
    if not POSTGRES_URL:
        pytest.skip("RESPONDER_TEST_POSTGRES_URL is not set")
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
    yield engine
    engine.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """Return the URL of an empty database for this test alone."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path}/responder.db"
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    schema = "t_" + uuid.uuid4().hex[:12]
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield (
        POSTGRES_URL
        + separator
        + "options="
        + quote(f"-csearch_path={schema},public")
    )
    with admin.connect() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """Return an engine on a fresh database with the whole schema."""
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """Return a plain domain session (no Flask)."""
    with make_session_factory(engine)() as session:
        yield session


@pytest.fixture
def app(database_url: str, tmp_path: object) -> Iterator[Flask]:
    """Return the app on a fresh database."""
    from responder import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        }
    )
    create_schema(app.extensions["responder.engine"])
    yield app
    app.extensions["responder.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Return a CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """Return a session on the app's database, for arranging and checking."""
    with make_session_factory(app.extensions["responder.engine"])() as session:
        yield session
