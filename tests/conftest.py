"""Fixtures: the app on SQLite or PostgreSQL, a client, a CLI runner and a session.

The whole suite runs on SQLite; with RESPONDER_TEST_BACKEND=postgresql and
RESPONDER_TEST_POSTGRES_URL set (see the Makefile) it runs again on PostgreSQL, each
test in a schema of its own that is dropped afterwards.
"""

from __future__ import annotations

import os
import traceback
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from plans import hashing
from plans.db import create_schema, make_engine, make_session_factory
from plans.models import User

# Signing in at argon2's production cost was the slowest part of the web tests;
# only tests of hashing itself ask for production cost (production_hash_cost).
TEST_HASH_COST = "time_cost=1,memory_cost=8,parallelism=1"
hashing.set_cost(hashing.parse_cost(TEST_HASH_COST))

BACKEND = os.environ.get("RESPONDER_TEST_BACKEND", "sqlite")
POSTGRES_URL = os.environ.get("RESPONDER_TEST_POSTGRES_URL", "")


def skip_without_redis(reason: str) -> None:
    """Skip a test that needs Redis, or fail it where CI says Redis must be there."""
    if os.environ.get("RESPONDER_REQUIRE_REDIS") == "1":
        pytest.fail(reason + "; RESPONDER_REQUIRE_REDIS=1 requires it")
    pytest.skip(reason)


def pytest_report_header() -> str:
    """Say which database this run uses."""
    return f"responder database backend: {BACKEND}"


@pytest.fixture
def production_hash_cost() -> Iterator[hashing.HashCost]:
    """Hash at production cost for this test (tests of hashing itself)."""
    before = hashing.cost()
    hashing.set_cost(hashing.PRODUCTION)
    yield hashing.PRODUCTION
    hashing.set_cost(before)


# Any fixed number: the advisory lock that serialises creating the extension.
_EXTENSION_LOCK = 720_136


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """Connect to the PostgreSQL test database as its administrator."""
    if not POSTGRES_URL:
        pytest.skip("RESPONDER_TEST_POSTGRES_URL is not set")
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        # CREATE EXTENSION IF NOT EXISTS is not safe against itself: on a fresh
        # database the two test workers (or a bench run beside them) both create it
        # and one fails with a unique violation, which failed every test on that
        # worker. A lock on the database makes them take turns.
        connection.execute(
            text("SELECT pg_advisory_lock(:key)"), {"key": _EXTENSION_LOCK}
        )
        try:
            connection.execute(
                text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
            )
        finally:
            connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": _EXTENSION_LOCK}
            )
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
        POSTGRES_URL + separator + "options=" + quote(f"-csearch_path={schema},public")
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


@pytest.fixture(autouse=True)
def instance_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Give every test its own instance folder, so no key or file leaks across."""
    folder = str(tmp_path_factory.mktemp("instance"))
    monkeypatch.setenv("RESPONDER_INSTANCE_PATH", folder)
    # TESTING is refused outside development and test environments; apps that
    # tests build (and servers they start) are test instances unless they say so.
    monkeypatch.setenv("RESPONDER_ENVIRONMENT", "test")
    return folder


@pytest.fixture
def app(database_url: str, tmp_path: object) -> Iterator[Flask]:
    """Return the app on a fresh database."""
    from responder import create_app

    app = create_app(
        {
            "TESTING": True,
            "ENVIRONMENT": "test",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "PASSWORD_HASH_COST": TEST_HASH_COST,
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


TEST_PASSWORD = "correct horse battery staple"


class AuthActions:
    """Sign test users in and out through the real sign-in pages."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self._app = app
        self._client = client
        self._count = 0
        self.user: User | None = None

    def _csrf(self, path: str) -> dict[str, str]:
        import re

        page = self._client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        return {"csrf_token": match.group(1)} if match else {}

    def login(
        self,
        role: str = "police",
        teams: tuple[str, ...] | list[str] = ("DEMO-X",),
        email: str | None = None,
    ) -> User:
        """Create (or reuse) a user with a password and an authenticator app, and
        sign in with both through /login and /login/totp; return the User."""
        import pyotp
        from sqlalchemy import select

        from plans import accounts
        from plans.db import utcnow
        from plans.models import Team
        from plans.signin import authenticator

        self._count += 1
        email = email or f"{role.replace('_', '-')}-{self._count}@example.test"
        cipher = authenticator.totp_cipher(str(self._app.config["SECRET_KEY"]))
        factory = make_session_factory(self._app.extensions["responder.engine"])
        with factory() as db:
            for code in teams:
                if db.scalar(select(Team).where(Team.code == code)) is None:
                    db.add(Team(code=code, name=f"Team {code} (synthetic)"))
            db.flush()
            user = accounts.find_user(db, email)
            if user is None:
                user = accounts.create_user(
                    db,
                    email,
                    role=role,
                    password=TEST_PASSWORD,
                    display_name=f"Test {role}",
                    team_codes=tuple(teams),
                )
            if not authenticator.totp_enabled(db, user):
                authenticator.begin_totp(db, user, cipher)
            factor = db.get(authenticator.TotpFactor, user.id)
            assert factor is not None
            # Arranged, not enrolled: confirm without spending a code, and let this
            # sign-in use the current code even if a previous one just did.
            factor.confirmed_at = factor.confirmed_at or utcnow()
            factor.last_step = 0
            secret = cipher.decrypt(factor.secret_encrypted.encode()).decode()
            db.commit()
        response = self._client.post(
            "/login",
            data={"email": email, "password": TEST_PASSWORD, **self._csrf("/login")},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        assert "/login/second-factor" in response.headers["Location"]
        response = self._client.post(
            "/login/totp",
            data={
                "code": pyotp.TOTP(secret).now(),
                **self._csrf("/login/second-factor"),
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        self.user = user
        return user

    def logout(self) -> None:
        """Sign out through POST /logout."""
        self._client.post("/logout", data=self._csrf("/account"))
        self.user = None


@pytest.fixture
def auth(app: Flask, client: FlaskClient) -> AuthActions:
    """Sign in through the real HTTP flow (password, then a TOTP code).

    `auth.login(role="police", teams=("DEMO-X",), email=None) -> User` creates the
    teams if missing and the user (or reuses one with that email), with a password
    and an authenticator app, then signs the `client` in via /login and
    /login/totp. `auth.logout()` signs out via POST /logout; `auth.user` is the
    signed-in User (detached from any session: re-fetch it to change it).
    A second browser: `AuthActions(app, app.test_client()).login(...)`. Works with
    CSRF on or off (it posts the form's token when the page has one).
    """
    return AuthActions(app, client)


# Every pooled connection a test checks out must be back in its pool when the test
# ends. One left out when its engine is disposed is never closed: on PostgreSQL the
# driver warns when the garbage collector finds it, in whichever later test is running.
_CHECKED_OUT: dict[int, str] = {}
_TRACE_CHECKOUTS = os.environ.get("RESPONDER_TRACE_CHECKOUTS") == "1"


@event.listens_for(Pool, "checkout")
def _on_checkout(_dbapi: object, record: object, _proxy: object) -> None:
    where = "".join(traceback.format_stack(limit=30)) if _TRACE_CHECKOUTS else ""
    _CHECKED_OUT[id(record)] = where


@event.listens_for(Pool, "checkin")
def _on_checkin(_dbapi: object, record: object) -> None:
    _CHECKED_OUT.pop(id(record), None)


@event.listens_for(Pool, "detach")
def _on_detach(_dbapi: object, record: object) -> None:
    _CHECKED_OUT.pop(id(record), None)


@pytest.fixture(autouse=True)
def _connections_returned() -> Iterator[None]:
    """Fail a test that ends with a pooled connection still checked out.

    RESPONDER_TRACE_CHECKOUTS=1 records where each was checked out.
    """
    before = set(_CHECKED_OUT)
    yield
    left = {key: where for key, where in _CHECKED_OUT.items() if key not in before}
    for key in left:
        _CHECKED_OUT.pop(key, None)
    if left:
        where = "\n".join(left.values()) or "(set RESPONDER_TRACE_CHECKOUTS=1 to see)"
        pytest.fail(
            f"{len(left)} pooled connection(s) still checked out when the test "
            f"ended; checked out at:\n{where}"
        )
