"""The security baseline every response meets: headers, no-store, CSRF, limits."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf.csrf import CSRFError

from plans.db import create_schema
from responder import create_app
from responder.access import public
from responder.security import cacheable
from tests.conftest import TEST_PASSWORD, AuthActions

CSRF_REFUSED = 499  # a status only the test's CSRF handler answers with


@pytest.fixture
def csrf_app(database_url: str) -> Iterator[Flask]:
    """Return the app with CSRF protection on, as in production."""
    app = create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        }
    )
    create_schema(app.extensions["responder.engine"])
    app.register_error_handler(CSRFError, lambda _e: ("csrf refused", CSRF_REFUSED))
    yield app
    app.extensions["responder.engine"].dispose()


def token_from(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the form carries no CSRF token"
    return match.group(1)


# -- headers ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/no-such-page", "/healthz"])
def test_every_response_carries_the_security_headers(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("no-referrer", "strict-origin")
    assert "geolocation=(self)" in headers["Permissions-Policy"]
    assert "camera=(self)" in headers["Permissions-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def test_signed_in_pages_are_never_cached(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    response = client.get("/account")
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers


def test_static_files_may_be_cached(client: FlaskClient) -> None:
    response = client.get("/static/js/passkey.js")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_sign_in_pages_run_no_inline_script(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert " on" not in re.sub(r'"[^"]*"', "", "".join(re.findall(r"<[^>]+>", page)))
    assert "style=" not in page


# -- bodies and errors --------------------------------------------------------------


def test_an_oversized_body_is_refused_with_413(client: FlaskClient) -> None:
    body = {"email": "x@example.test", "password": "p" * (3 * 1024 * 1024)}
    response = client.post("/login", data=body)
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_an_unexpected_error_shows_no_stack_trace(app: Flask) -> None:
    def explode() -> str:
        raise RuntimeError("secret internals: SELECT * FROM plan_versions")

    app.add_url_rule("/explode", "explode", public(explode))
    response = app.test_client().get("/explode")
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in text and "secret internals" not in text
    assert response.headers["Cache-Control"] == "no-store"


# -- CSRF ---------------------------------------------------------------------------


def test_a_form_posted_without_its_token_is_refused(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    response = client.post(
        "/login", data={"email": "x@example.test", "password": TEST_PASSWORD}
    )
    assert response.status_code == CSRF_REFUSED


def test_a_form_with_its_token_goes_through(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    token = token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"email": "x@example.test", "password": "wrong", "csrf_token": token},
    )
    assert response.status_code == 401  # judged on the password, not refused


def test_sign_in_and_out_work_with_csrf_on_and_logout_needs_the_token(
    csrf_app: Flask,
) -> None:
    client = csrf_app.test_client()
    AuthActions(csrf_app, client).login()
    assert client.post("/logout").status_code == CSRF_REFUSED
    assert client.get("/account").status_code == 200
    token = token_from(client.get("/account").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/account").status_code == 302


def test_passkey_json_calls_need_the_token_header(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert meta
    assert client.post("/login/passkey/options").status_code == CSRF_REFUSED
    response = client.post(
        "/login/passkey/options", headers={"X-CSRFToken": meta.group(1)}
    )
    assert response.status_code == 200
    assert response.json and response.json["userVerification"] == "required"


def test_api_and_webhooks_are_not_asked_for_a_csrf_token(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    for rule in csrf_app.url_map.iter_rules():
        blueprint = rule.endpoint.partition(".")[0]
        if blueprint not in ("api", "hooks") or "POST" not in (rule.methods or ()):
            continue
        if rule.arguments:
            continue
        assert client.post(rule.rule, data=b"{}").status_code != CSRF_REFUSED
    assert client.get("/healthz").status_code != CSRF_REFUSED


# -- the session cookie outside tests -----------------------------------------------


def test_production_uses_a_host_only_secure_cookie() -> None:
    from responder import auth

    app = Flask(__name__)
    app.config.update(
        ENVIRONMENT="production",
        ALLOW_HTTP_SESSION_COOKIE=True,  # ignored outside development
    )
    auth.init_app(app)
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_DOMAIN"] is None
    assert app.config["SESSION_COOKIE_PATH"] == "/"


def test_development_may_opt_into_a_plain_http_cookie() -> None:
    from responder import auth

    app = Flask(__name__)
    app.config.update(ENVIRONMENT="development", ALLOW_HTTP_SESSION_COOKIE=True)
    auth.init_app(app)
    # Browsers refuse a __Host- cookie without Secure, so the name changes too.
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_NAME"] == "session"


def test_only_the_service_worker_shell_may_choose_its_own_caching(app: Flask) -> None:
    def cached_view() -> tuple[str, int, dict[str, str]]:
        return "shell", 200, {"Cache-Control": "max-age=60"}

    def personal_view() -> tuple[str, int, dict[str, str]]:
        return "personal", 200, {"Cache-Control": "max-age=60"}

    app.add_url_rule("/shell-asset", "shell_asset", public(cacheable(cached_view)))
    app.add_url_rule("/personal", "personal", public(personal_view))
    client = app.test_client()
    assert client.get("/shell-asset").headers["Cache-Control"] == "max-age=60"
    assert client.get("/personal").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "max_age"),
    [
        ("/.well-known/plan-card-keys.json", 300),
        ("/cards/revoked.json", 60),
        ("/cards/check", 300),
    ],
)
def test_card_keys_and_revocations_keep_their_public_caching(
    client: FlaskClient, path: str, max_age: int
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == f"public, max-age={max_age}"


def test_registration_asks_for_the_phones_own_authenticator(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    options = client.post("/login/enrol/passkey/options").json
    assert options is not None
    selection = options["authenticatorSelection"]
    assert selection["authenticatorAttachment"] == "platform"
    assert selection["userVerification"] == "required"
    assert selection["residentKey"] == "required"
    assert options["rp"]["id"] == "localhost"
