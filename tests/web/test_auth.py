"""Signing in and out through the pages, as a responder or an attacker would."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plans import accounts, clock
from plans.audit import AuditEvent
from plans.db import utcnow
from plans.models import Team, User
from plans.signin import authenticator, recovery, sessions
from tests.conftest import TEST_PASSWORD, AuthActions

EMAIL = "pc.demo@example.test"


def cipher(app: Flask) -> object:
    return authenticator.totp_cipher(str(app.config["SECRET_KEY"]))


@pytest.fixture
def make_user(app: Flask, db: Session) -> Callable[..., tuple[User, pyotp.TOTP | None]]:
    """Return a maker of synthetic users, with an authenticator app unless told."""

    def make(
        email: str = EMAIL, role: str = "police", app_factor: bool = True
    ) -> tuple[User, pyotp.TOTP | None]:
        if db.scalar(select(Team).where(Team.code == "DEMO-X")) is None:
            db.add(Team(code="DEMO-X", name="Demo team (synthetic)"))
            db.flush()
        user = accounts.create_user(
            db, email, role=role, password=TEST_PASSWORD, team_codes=["DEMO-X"]
        )
        totp = None
        if app_factor:
            key = authenticator.totp_cipher(str(app.config["SECRET_KEY"]))
            totp = pyotp.parse_uri(authenticator.begin_totp(db, user, key))
            factor = db.get(authenticator.TotpFactor, user.id)
            assert factor is not None
            factor.confirmed_at = utcnow()
        db.commit()
        return user, totp

    return make


def password_step(
    client: FlaskClient, email: str = EMAIL, password: str = TEST_PASSWORD, **kw: str
) -> object:
    return client.post("/login", data={"email": email, "password": password, **kw})


def client_at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def actions(db: Session) -> list[str]:
    db.expire_all()
    return [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("__Host-session")
    return cookie.value if cookie else None


# -- the happy path -----------------------------------------------------------------


def test_the_login_page_offers_a_passkey_and_a_password(client: FlaskClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Sign in with a passkey" in text
    assert 'name="password"' in text
    assert page.headers["Cache-Control"] == "no-store"


def test_password_then_app_code_signs_in(
    client: FlaskClient, make_user: Callable[..., tuple[User, pyotp.TOTP]], db: Session
) -> None:
    _user, totp = make_user()
    response = password_step(client)
    assert response.headers["Location"] == "/login/second-factor"
    assert not signed_in(client)  # a password alone never signs anyone in
    page = client.get("/login/second-factor").get_data(as_text=True)
    assert "Authenticator app" in page
    response = client.post("/login/totp", data={"code": totp.now()})
    assert response.status_code == 302
    assert signed_in(client)
    assert actions(db)[-1] == "login_succeeded"


def test_the_session_cookie_is_host_only_secure_and_httponly(
    client: FlaskClient, auth: AuthActions
) -> None:
    client.get("/login")
    password_step(client, email="nobody@example.test")
    auth.login()
    cookie = client.get_cookie("__Host-session")
    assert cookie is not None
    assert cookie.secure and cookie.http_only
    assert cookie.same_site == "Lax"
    assert cookie.path == "/"
    assert cookie.domain in ("localhost", "")  # host-only: no Domain attribute


def test_signing_in_lands_on_a_safe_next_page(
    client: FlaskClient, make_user: Callable[..., tuple[User, pyotp.TOTP]]
) -> None:
    _user, totp = make_user()
    password_step(client, next="/account?tab=1")
    response = client.post("/login/totp", data={"code": totp.now()})
    assert response.headers["Location"] == "/account?tab=1"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/%0d%0aSet-Cookie:x",
        "/\t/evil.example",
    ],
)
def test_next_never_leaves_the_site(
    client: FlaskClient,
    make_user: Callable[..., tuple[User, pyotp.TOTP]],
    target: str,
) -> None:
    _user, totp = make_user()
    password_step(client, next=target)
    response = client.post("/login/totp", data={"code": totp.now()})
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "evil" not in location


def test_an_anonymous_visit_is_sent_to_sign_in_and_back(
    client: FlaskClient, make_user: Callable[..., tuple[User, pyotp.TOTP]]
) -> None:
    _user, totp = make_user()
    response = client.get("/account?x=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    password_step(client, next="/account?x=1")
    response = client.post("/login/totp", data={"code": totp.now()})
    assert response.headers["Location"] == "/account?x=1"


def test_json_callers_get_401_not_a_redirect(client: FlaskClient) -> None:
    response = client.get("/account", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json == {"error": "Please sign in.", "status": 401}


# -- wrong answers ------------------------------------------------------------------


def test_unknown_email_and_wrong_password_get_the_same_answer(
    client: FlaskClient, make_user: Callable[..., tuple[User, pyotp.TOTP]]
) -> None:
    make_user()
    wrong = password_step(client, password="not the password at all")
    unknown = password_step(client, email="nobody@example.test")
    assert wrong.status_code == unknown.status_code == 401
    strip = re.compile(r'(value|content)="[^"]*"')
    assert strip.sub("", wrong.get_data(as_text=True)) == strip.sub(
        "", unknown.get_data(as_text=True)
    )
    assert "Email address or password not recognised." in wrong.get_data(as_text=True)


def test_a_disabled_account_cannot_sign_in_even_with_the_password(
    client: FlaskClient,
    make_user: Callable[..., tuple[User, pyotp.TOTP]],
    db: Session,
) -> None:
    user, _totp = make_user()
    accounts.disable_user(db.merge(user))
    db.commit()
    assert password_step(client).status_code == 401


def test_a_wrong_app_code_is_refused_and_audited(
    client: FlaskClient,
    make_user: Callable[..., tuple[User, pyotp.TOTP]],
    db: Session,
) -> None:
    _user, totp = make_user()
    password_step(client)
    wrong = "000000" if totp.now() != "000000" else "111111"
    response = client.post("/login/totp", data={"code": wrong})
    assert response.status_code == 401
    assert "That code was not accepted." in response.get_data(as_text=True)
    assert not signed_in(client)
    assert "mfa_failed" in actions(db)


def test_the_second_factor_step_needs_the_password_step_first(
    client: FlaskClient, make_user: Callable[..., tuple[User, pyotp.TOTP]]
) -> None:
    _user, totp = make_user()
    response = client.post("/login/totp", data={"code": totp.now()})
    assert response.headers["Location"] == "/login"
    assert not signed_in(client)


def test_the_password_step_expires_after_ten_minutes(
    client: FlaskClient, make_user: Callable[..., tuple[User, pyotp.TOTP]]
) -> None:
    _user, totp = make_user()
    password_step(client)
    with client.session_transaction() as flask_session:
        started = utcnow() - dt.timedelta(minutes=11)
        flask_session["pending_at"] = started.isoformat()
    response = client.post("/login/totp", data={"code": totp.now()})
    assert response.headers["Location"] == "/login"


# -- guessing -----------------------------------------------------------------------


@pytest.fixture
def still_clock() -> Iterator[None]:
    """Stop the clock: the first wait is one second, and each check takes time."""
    with clock.frozen(clock.now()):
        yield


@pytest.mark.usefixtures("still_clock")
def test_repeated_wrong_passwords_earn_a_wait_not_a_lockout(
    app: Flask, make_user: Callable[..., tuple[User, pyotp.TOTP]]
) -> None:
    make_user()
    attacker = client_at(app, "203.0.113.9")
    for _ in range(3):
        assert password_step(attacker, password="guess guess guess").status_code == 401
    throttled = password_step(attacker, password="guess guess guess")
    assert throttled.status_code == 429
    assert "Please wait" in throttled.get_data(as_text=True)
    # Even the right password waits its turn from the guessing address...
    assert password_step(attacker).status_code == 429
    # ...while the responder on their own phone signs in as usual.
    responder = client_at(app, "198.51.100.7")
    assert password_step(responder).status_code == 302


@pytest.mark.usefixtures("still_clock")
def test_guessing_unknown_accounts_is_throttled_the_same_way(
    app: Flask,
) -> None:
    client = client_at(app, "203.0.113.9")
    codes = [
        password_step(client, email="nobody@example.test").status_code for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]


@pytest.mark.usefixtures("still_clock")
def test_repeated_wrong_codes_earn_a_wait(
    client: FlaskClient, make_user: Callable[..., tuple[User, pyotp.TOTP]]
) -> None:
    _user, totp = make_user()
    password_step(client)
    wrong = "000000" if totp.now() != "000000" else "111111"
    codes = [
        client.post("/login/totp", data={"code": wrong}).status_code for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    assert client.post("/login/totp", data={"code": totp.now()}).status_code == 429


def test_the_address_limit_stops_spraying_many_accounts(app: Flask) -> None:
    client = client_at(app, "203.0.113.10")
    codes = [
        password_step(client, email=f"user{n}@example.test").status_code
        for n in range(21)
    ]
    assert codes[:20] == [401] * 20
    assert codes[20] == 429


def test_sign_in_fails_closed_when_the_rate_limit_store_is_down(
    database_url: str,
) -> None:
    from plans.db import create_schema
    from responder import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 0.5},
        }
    )
    create_schema(app.extensions["responder.engine"])
    try:
        response = password_step(app.test_client())
        assert response.status_code == 503
    finally:
        app.extensions["responder.engine"].dispose()


# -- sessions -----------------------------------------------------------------------


def test_signing_in_gives_a_new_session_cookie(
    app: Flask, client: FlaskClient, make_user: Callable[..., tuple[User, pyotp.TOTP]]
) -> None:
    _user, totp = make_user()
    password_step(client)
    before = session_cookie(client)
    client.post("/login/totp", data={"code": totp.now()})
    after = session_cookie(client)
    assert before and after and before != after
    # The cookie from before sign-in is worth nothing afterwards.
    planted = app.test_client()
    planted.set_cookie("__Host-session", before, domain="localhost")
    assert not signed_in(planted)


def test_logout_ends_the_session_everywhere_and_clears_the_browser(
    app: Flask, client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    auth.login()
    stolen = session_cookie(client)
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert not signed_in(client)
    # A copy of the cookie taken before logout no longer works.
    replay = app.test_client()
    assert stolen
    replay.set_cookie("__Host-session", stolen, domain="localhost")
    assert not signed_in(replay)
    assert actions(db)[-1] == "logout"


def test_logout_needs_post(client: FlaskClient, auth: AuthActions) -> None:
    auth.login()
    assert client.get("/logout").status_code == 405
    assert signed_in(client)


def test_two_idle_hours_sign_a_responder_out(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    auth.login()
    db.execute(
        update(sessions.UserSession).values(
            last_seen_at=utcnow() - dt.timedelta(hours=2, minutes=1)
        )
    )
    db.commit()
    assert not signed_in(client)


def test_thirteen_hours_sign_anyone_out_however_busy(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    auth.login()
    db.execute(
        update(sessions.UserSession).values(
            created_at=utcnow() - dt.timedelta(hours=13, minutes=1)
        )
    )
    db.commit()
    assert not signed_in(client)


def test_activity_keeps_a_session_alive(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    auth.login()
    an_hour_ago = utcnow() - dt.timedelta(hours=1, minutes=30)
    db.execute(update(sessions.UserSession).values(last_seen_at=an_hour_ago))
    db.commit()
    assert signed_in(client)
    db.expire_all()
    row = db.scalar(select(sessions.UserSession))
    assert row is not None and row.last_seen_at > an_hour_ago


def test_ending_other_sessions_signs_out_the_other_phone(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    user = auth.login()
    other = app.test_client()
    AuthActions(app, other).login(email=user.email)
    assert signed_in(other)
    client.post("/account/sessions/end-others")
    assert not signed_in(other)
    assert signed_in(client)


# -- first sign-in and recovery -----------------------------------------------------


def test_first_sign_in_forces_a_second_factor_then_shows_codes_once(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., tuple[User, pyotp.TOTP | None]],
    db: Session,
) -> None:
    make_user(app_factor=False)
    response = password_step(client)
    assert response.headers["Location"] == "/login/enrol"
    assert not signed_in(client)
    assert client.get("/login/second-factor").headers["Location"] == "/login/enrol"
    page = client.get("/login/enrol/app").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert secret
    totp = pyotp.TOTP(secret.group(1))
    response = client.post("/login/enrol/app", data={"code": totp.now()})
    assert response.status_code == 200
    codes = re.findall(
        r"<li><code>([a-z2-7-]+)</code></li>", response.get_data(as_text=True)
    )
    assert len(codes) == 10
    assert signed_in(client)
    assert "totp_enrolled" in actions(db)
    # Shown once: the recovery page now only counts them.
    later = client.get("/account/recovery-codes").get_data(as_text=True)
    assert codes[0] not in later and "10 unused recovery codes" in later


def test_a_wrong_first_code_does_not_enrol(
    client: FlaskClient, make_user: Callable[..., tuple[User, pyotp.TOTP | None]]
) -> None:
    make_user(app_factor=False)
    password_step(client)
    client.get("/login/enrol/app")
    response = client.post("/login/enrol/app", data={"code": "12"})
    assert response.status_code == 400
    assert not signed_in(client)


def test_a_password_alone_cannot_add_a_factor_to_a_protected_account(
    client: FlaskClient, make_user: Callable[..., tuple[User, pyotp.TOTP]]
) -> None:
    make_user()
    password_step(client)
    assert client.get("/login/enrol").headers["Location"] == "/login"
    assert client.get("/login/enrol/app").headers["Location"] == "/login"
    assert client.post("/login/enrol/passkey/options").status_code == 401
    assert client.post("/login/enrol/passkey", json={}).status_code == 401


def test_a_recovery_code_signs_in_once(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., tuple[User, pyotp.TOTP]],
    db: Session,
) -> None:
    user, _totp = make_user()
    codes = recovery.issue_recovery_codes(db, db.merge(user))
    db.commit()
    password_step(client)
    response = client.post("/login/recovery", data={"code": codes[0].upper()})
    assert response.status_code == 302
    assert signed_in(client)
    assert "recovery_code_used" in actions(db)
    again = app.test_client()
    password_step(again)
    assert again.post("/login/recovery", data={"code": codes[0]}).status_code == 401


def test_new_recovery_codes_are_shown_once_and_replace_the_old(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    user = auth.login()
    old = recovery.issue_recovery_codes(db, db.merge(user))
    db.commit()
    page = client.post("/account/recovery-codes").get_data(as_text=True)
    new = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", page)
    assert len(new) == 10 and not set(new) & set(old)
    db.expire_all()
    assert not recovery.use_recovery_code(db, db.merge(user), old[0])


def test_the_audit_never_holds_passwords_or_codes(
    client: FlaskClient,
    make_user: Callable[..., tuple[User, pyotp.TOTP]],
    db: Session,
) -> None:
    _user, totp = make_user()
    password_step(client, password="wrong password typed here")
    password_step(client)
    code = totp.now()
    client.post("/login/totp", data={"code": code})
    rows = db.scalars(select(AuditEvent)).all()
    dumped = repr([(r.actor, r.action, r.detail) for r in rows])
    assert {"login_failed", "login_succeeded"} <= {r.action for r in rows}
    for secret in (TEST_PASSWORD, "wrong password typed here", code, totp.secret):
        assert secret not in dumped
    assert all(r.channel == "web" for r in rows)
