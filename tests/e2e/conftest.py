"""Browser fixtures: the real app on a free port, Playwright on the system Chromium.

Fixtures (all function-scoped unless said otherwise):

- `live_server`: the app on http://localhost:<free port> (bound to 127.0.0.1), served
  by Werkzeug in a background thread on this test's database (SQLite or PostgreSQL,
  as for the rest of the suite). `live_server.url` is the base URL,
  `live_server.app` the Flask app, `live_server.session()` a context manager giving
  a domain session on the same database (commit what you arrange).
- `browser` (session-scoped): Chromium from /usr/bin/chromium, headless. Skips with a
  reason when Chromium is missing, or fails when RESPONDER_REQUIRE_BROWSER=1 (CI).
- `mobile_context`: a phone-sized context (360x740, touch, mobile) with geolocation
  granted at `PHONE_POSITION`, its base_url set to the live server.
- `page`: a page in `mobile_context`.
- `make_account(role="police", teams=("DEMO-X",), email=None) -> Account`: a user
  with a password and a confirmed authenticator app (TOTP, through
  plans.signin) stored in the live server's database;
  `account.next_totp_code()` gives a code not used before.
- `sign_in(page, account, next_path="/")`: sign in through the real sign-in pages.
- `add_virtual_authenticator(page) -> VirtualAuthenticator`: a CDP virtual WebAuthn
  platform authenticator (ctap2, internal, user verification) for passkey tests.

Every test in this folder is marked `e2e` automatically; mark new ones explicitly
too so `-m e2e` / `-m "not e2e"` reads well in the file itself.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from plans.db import create_schema, make_session_factory

CHROMIUM = os.environ.get("RESPONDER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    # The server listens on IPv4 only; keep "localhost" (a secure context, and a
    # valid WebAuthn RP ID, unlike an IP address) off ::1.
    "--host-resolver-rules=MAP localhost 127.0.0.1",
]
PHONE_VIEWPORT = {"width": 360, "height": 740}
# Southampton Central station: the demo data's first town.
PHONE_POSITION = {"latitude": 50.9077, "longitude": -1.4136, "accuracy": 20}
PASSWORD = "correct horse battery staple 42"
_emails = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in tests/e2e as a browser test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


_RESPONSE_KEY = "tests.e2e.response"


class _ClosesOnce:
    """A WSGI response body that can be closed twice but closes its source once."""

    def __init__(self, body: Iterable[bytes]) -> None:
        self.body = body
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            close = getattr(self.body, "close", None)
            if close is not None:
                close()


def _remember_response(app: Any) -> Any:
    """Wrap a WSGI app so the handler can close a response the server left open."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> _ClosesOnce:
        body = _ClosesOnce(app(environ, start_response))
        environ[_RESPONSE_KEY] = body
        return body

    return wrapped


class QuietHandler(WSGIRequestHandler):
    """Serve requests without logging their URLs (card URLs carry tokens).

    When the browser drops a connection mid-response (a page navigated away while a
    script was still downloading), Werkzeug's development server can raise while
    draining the socket and never close the response, leaving a static file open
    for the garbage collector to warn about in a later test. Closing it here makes
    the server as tidy as gunicorn.
    """

    # An idle keep-alive connection ends after this long, so joining the request
    # threads when the server stops cannot wait on a browser that never hangs up.
    timeout = 10

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None

    def run_wsgi(self) -> None:
        try:
            super().run_wsgi()
        finally:
            environ = getattr(self, "environ", None) or {}
            body = environ.get(_RESPONSE_KEY)
            if body is not None:
                body.close()


@dataclass
class LiveServer:
    """The app served on a free local port."""

    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        """Return the port the server listens on."""
        return int(self.server.server_port)

    @property
    def url(self) -> str:
        """Return the base URL (no trailing slash)."""
        return f"http://localhost:{self.port}"

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """Open a domain session on the server's database."""
        factory = make_session_factory(self.app.extensions["responder.engine"])
        with factory() as session:
            yield session


@pytest.fixture
def live_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Return the app for the live server, on this test's database."""
    from responder import create_app

    app = create_app(
        {
            "TESTING": True,
            # A browser posts real forms, so CSRF is on as in production.
            "WTF_CSRF_ENABLED": True,
            "ENVIRONMENT": "development",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "e2e-secret-key-that-is-long-enough-0123456789abcdef",
            "CARD_KEY_FILE": str(tmp_path / "card-keys.json"),
            "WEBAUTHN_RP_ID": "localhost",
            "PUBLIC_BASE_URL": "http://localhost",
        }
    )
    # A live server must behave like production: errors become error pages.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    create_schema(app.extensions["responder.engine"])
    yield app
    app.extensions["responder.engine"].dispose()


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[LiveServer]:
    """Serve the app on http://localhost:<free port> for one test."""
    server = make_server(
        "127.0.0.1",
        0,
        _remember_response(live_app),
        threaded=True,
        request_handler=QuietHandler,
    )
    # Werkzeug runs requests on daemon threads, which server_close() does not wait
    # for: a request still running when the test ended returned its connection to a
    # pool the app fixture had already disposed, and the garbage collector found it
    # open in whichever test came next. Tracked threads are joined on close.
    server.daemon_threads = False
    port = server.server_port
    origin = f"http://localhost:{port}"
    live_app.config["WEBAUTHN_ORIGIN"] = origin
    live_app.config["PUBLIC_BASE_URL"] = origin
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app=live_app, server=server, thread=thread)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    """Start Playwright once for the session."""
    if not os.path.exists(CHROMIUM):
        reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("RESPONDER_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + "; RESPONDER_REQUIRE_BROWSER=1 requires it")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver: Any) -> Iterator[Any]:
    """Launch the system Chromium, headless, once for the session."""
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def mobile_context(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """Return a phone-sized context with location granted, on the live server."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE_VIEWPORT,
        screen=PHONE_VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        timezone_id="Europe/London",
        geolocation=PHONE_POSITION,
        permissions=["geolocation"],
        service_workers="allow",
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(mobile_context: Any) -> Iterator[Any]:
    """Return a page in the phone-sized context."""
    page = mobile_context.new_page()
    yield page
    page.close()


@dataclass
class Account:
    """A user made for a browser test, with what it takes to sign in."""

    id: int
    email: str
    role: str
    password: str = PASSWORD
    totp_secret: str | None = None
    team_codes: tuple[str, ...] = field(default_factory=tuple)
    last_totp_step: int = 0

    def next_totp_code(self) -> str:
        """Return a TOTP code for a step not used yet (each code works once)."""
        import time

        import pyotp

        if self.totp_secret is None:
            raise ValueError("this account has no authenticator app")
        step = max(int(time.time()) // 30, self.last_totp_step + 1)
        self.last_totp_step = step
        return str(pyotp.TOTP(self.totp_secret).at(step * 30))


def _enrol_totp(session: Session, user: Any, secret_key: str) -> tuple[str, int] | None:
    """Enrol a confirmed TOTP factor through the auth domain; return secret and step.

    The confirming code is the previous 30 s step's, so the current step is still
    free for the sign-in that follows (each code works once).
    """
    import time

    import pyotp

    from plans.signin import authenticator

    cipher = authenticator.totp_cipher(secret_key)
    uri = authenticator.begin_totp(session, user, cipher)
    totp = pyotp.parse_uri(uri)
    step = int(time.time()) // 30 - 1
    if not authenticator.confirm_totp(session, user, totp.at(step * 30), cipher):
        raise RuntimeError("the test TOTP enrolment was refused")
    return totp.secret, step


@pytest.fixture
def make_account(live_server: LiveServer) -> Callable[..., Account]:
    """Return a maker of accounts in the live server's database."""
    from plans import accounts
    from plans.models import Team

    def make(
        role: str = "police",
        teams: tuple[str, ...] = ("DEMO-X",),
        email: str | None = None,
    ) -> Account:
        email = email or f"{role}-{next(_emails)}@example.test"
        with live_server.session() as session:
            for code in teams:
                if session.scalar(select(Team).where(Team.code == code)) is None:
                    session.add(Team(code=code, name=f"{code} team"))
            session.flush()
            user = accounts.create_user(
                session,
                email,
                role=role,
                password=PASSWORD,
                display_name=f"Test {role.replace('_', ' ')}",
                organisation="Example Constabulary" if role == "police" else None,
                team_codes=teams,
            )
            enrolled = _enrol_totp(
                session, user, str(live_server.app.config["SECRET_KEY"])
            )
            session.commit()
            return Account(
                id=user.id,
                email=email,
                role=role,
                totp_secret=enrolled[0] if enrolled else None,
                team_codes=teams,
                last_totp_step=enrolled[1] if enrolled else 0,
            )

    return make


def sign_in(page: Any, account: Account, next_path: str = "/") -> None:
    """Sign in through the real pages: password, then the app code if asked."""
    from urllib.parse import quote

    page.goto(f"/login?next={quote(next_path)}")
    page.get_by_label(re.compile(r"e-?mail", re.I)).fill(account.email)
    password = page.get_by_label(re.compile(r"^password", re.I)).first
    password.fill(account.password)
    with page.expect_navigation():
        password.press("Enter")
    code_field = page.get_by_label(re.compile(r"code", re.I))
    if account.totp_secret and code_field.count():
        code_field.first.fill(account.next_totp_code())
        with page.expect_navigation():
            code_field.first.press("Enter")


@pytest.fixture(name="sign_in")
def sign_in_fixture() -> Callable[..., None]:
    """Return `sign_in(page, account, next_path="/")`."""
    return sign_in


@dataclass
class VirtualAuthenticator:
    """A CDP virtual WebAuthn authenticator attached to a page."""

    cdp: Any
    authenticator_id: str

    def credentials(self) -> list[dict[str, Any]]:
        """Return the credentials the authenticator holds."""
        answer = self.cdp.send(
            "WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id}
        )
        return list(answer.get("credentials", []))

    def set_user_verified(self, verified: bool) -> None:
        """Make the next ceremonies pass or fail user verification."""
        self.cdp.send(
            "WebAuthn.setUserVerified",
            {"authenticatorId": self.authenticator_id, "isUserVerified": verified},
        )

    def remove(self) -> None:
        """Detach the authenticator."""
        self.cdp.send(
            "WebAuthn.removeVirtualAuthenticator",
            {"authenticatorId": self.authenticator_id},
        )


def add_virtual_authenticator(page: Any) -> VirtualAuthenticator:
    """Add a platform authenticator with user verification to the page's browser."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    answer = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return VirtualAuthenticator(cdp=cdp, authenticator_id=answer["authenticatorId"])


@pytest.fixture(name="add_virtual_authenticator")
def add_virtual_authenticator_fixture() -> Callable[[Any], VirtualAuthenticator]:
    """Return `add_virtual_authenticator(page)`."""
    return add_virtual_authenticator
