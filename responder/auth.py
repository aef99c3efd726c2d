"""Blueprint `auth`: sign-in with a second factor, re-authentication, sign-out.

Signing in takes a password and then a second factor (a passkey, an authenticator
app code or a recovery code), or a passkey alone: a passkey with user verification
is already two factors. An account without a second factor must enrol one before
its first sign-in completes. Only then is a server-side session record opened;
the browser's cookie carries its random token, nothing else.

The signed-in user's own account pages are `responder.account`; the
administrators' pages for every account are `responder.users`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from typing import Any
from urllib.parse import urlsplit

import pyotp
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    after_this_request,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.routing import BuildError

from plans import accounts, clock
from plans.models import User
from plans.signin import (
    SecondFactorError,
    authenticator,
    passkeys,
    recovery,
    second_factors,
    sessions,
    throttling,
)
from plans.vocabulary import SignInEvent
from responder import qr
from responder.access import public, signed_in
from responder.db import get_session, session_factory
from responder.security import limiter, require_rate_limit_storage

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)
login_manager = LoginManager()

PENDING_LIFETIME = dt.timedelta(minutes=10)
LOGIN_LIMIT = "20 per minute;200 per hour"
FACTOR_LIMIT = "20 per minute;200 per hour"
BAD_CREDENTIALS = "Email address or password not recognised."
BAD_CODE = "That code was not accepted."
# Adding a way in (a passkey, an app, recovery codes, a chat) needs the password
# proved this recently in this session: a stolen cookie alone cannot add one.
REAUTH_WINDOW = dt.timedelta(minutes=10)
KNOWN_DEVICE_MAX_AGE = dt.timedelta(days=180)
KNOWN_DEVICE_MAX_ACCOUNTS = 5

# Where each role lands after signing in, first endpoint that exists wins.
HOME_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "police": ("lookup.index",),
    "ambulance": ("lookup.index",),
    "emergency_department": ("lookup.index",),
    "control_room": ("lookup.index",),
    "mental_health_crisis_team": ("lookup.index",),
    "home_treatment_team": ("lookup.index",),
    "liaison_psychiatry": ("lookup.index",),
    "nhs_111_crisis_line": ("lookup.index",),
    "street_triage": ("lookup.index",),
    "liaison_and_diversion": ("lookup.index",),
    "mentor": ("mentor.index",),
    "lead_clinician": ("mentor.index",),
    "privacy_officer": ("privacy.index", "concerns.queue"),
    "admin": ("users.index",),
}


# -- configuration and Flask-Login ----------------------------------------------


def init_app(app: Flask) -> None:
    """Configure the session cookie and Flask-Login with server-side records."""
    from responder import is_development

    if app.config.get("SESSION_COOKIE_NAME") in (None, "session"):
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"
    insecure = bool(app.config.get("ALLOW_HTTP_SESSION_COOKIE")) and is_development(app)
    # __Host-: Secure, Path=/ and no Domain, so no sibling host can plant or read it.
    app.config["SESSION_COOKIE_SECURE"] = not insecure
    if insecure and app.config["SESSION_COOKIE_NAME"].startswith("__Host-"):
        app.config["SESSION_COOKIE_NAME"] = "session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_PATH"] = "/"
    app.config["SESSION_COOKIE_DOMAIN"] = None
    app.config.setdefault("SESSION_IDLE_TIMEOUT", dt.timedelta(hours=2))
    app.config.setdefault("SESSION_ABSOLUTE_TIMEOUT", dt.timedelta(hours=13))
    app.config.setdefault("WEBAUTHN_RP_ID", "localhost")
    app.config.setdefault("WEBAUTHN_RP_NAME", "Responder")
    app.config.setdefault("WEBAUTHN_ORIGIN", None)
    app.config["REMEMBER_COOKIE_DURATION"] = dt.timedelta(seconds=0)

    login_manager.login_view = "auth.login"
    # Our own session records bind the cookie to the sign-in; Flask-Login's
    # address-and-agent hash would sign responders out when a phone roams.
    login_manager.session_protection = None
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    login_manager.init_app(app)
    app.after_request(audit_denials)


def _timeout(name: str) -> dt.timedelta:
    value = current_app.config[name]
    if isinstance(value, dt.timedelta):
        return value
    return dt.timedelta(seconds=float(value))


def load_user(user_id: str) -> User | None:
    """Return the signed-in user if the session record is live, else None."""
    token = session.get("sid")
    if not isinstance(token, str):
        return None
    db = get_session()
    row = sessions.load_session(
        db,
        token,
        idle_timeout=_timeout("SESSION_IDLE_TIMEOUT"),
        absolute_timeout=_timeout("SESSION_ABSOLUTE_TIMEOUT"),
    )
    if row is None or str(row.user_id) != user_id:
        session.clear()
        _end_stale_session(token)
        return None
    if sessions.touch_due(row):
        # A session of its own, so touching never commits the view's work.
        with session_factory()() as touch:
            sessions.touch_session(touch, row.id)
            touch.commit()
    g.user_session = row
    return row.user


def _end_stale_session(token: str) -> None:
    # A session of its own: the loader may run in the middle of a view.
    with session_factory()() as db:
        row = sessions.end_stale_session(
            db,
            token,
            idle_timeout=_timeout("SESSION_IDLE_TIMEOUT"),
            absolute_timeout=_timeout("SESSION_ABSOLUTE_TIMEOUT"),
        )
        if row is None:
            return
        accounts.record_sign_in_event(
            db,
            "session_revoked",
            row.user,
            ip_hash=ip_hash(),
            detail={"why": row.revoke_reason},
        )
        db.commit()


def audit_denials(response: Response) -> Response:
    """Audit every refusal of a signed-in user (403), once per response."""
    if response.status_code != 403 or request.blueprint in ("api", "hooks"):
        return response
    if not current_user or not current_user.is_authenticated:
        return response
    db = get_session()
    # Nothing a refused request did may be committed with its audit row.
    db.rollback()
    accounts.record_denial(
        db, current_user, route=request.endpoint or "", ip_hash=ip_hash()
    )
    db.commit()
    return response


def unauthorized() -> ResponseReturnValue:
    """Send anonymous callers to sign in (JSON callers get a bare 401)."""
    if request.path.startswith("/api/") or request.accept_mimetypes.best == (
        "application/json"
    ):
        return jsonify({"error": "Please sign in.", "status": 401}), 401
    next_path = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=next_path))


def relying_party() -> passkeys.RelyingParty:
    """Return the WebAuthn relying party from configuration."""
    config = current_app.config
    configured = config.get("WEBAUTHN_ORIGIN")
    if configured:
        origins = tuple(o.strip() for o in str(configured).split(",") if o.strip())
    else:
        from responder import is_development

        if is_development(current_app):
            origins = (request.host_url.rstrip("/"),)
        else:
            origins = (f"https://{config['WEBAUTHN_RP_ID']}",)
    return passkeys.RelyingParty(
        rp_id=str(config["WEBAUTHN_RP_ID"]),
        name=str(config["WEBAUTHN_RP_NAME"]),
        origins=origins,
    )


def totp_cipher() -> Any:
    """Return the cipher for TOTP secrets, keyed from SECRET_KEY."""
    return authenticator.totp_cipher(str(current_app.config["SECRET_KEY"]))


# -- helpers ----------------------------------------------------------------------


def ip_hash() -> str:
    """Return a keyed hash of the caller's address, for throttles and the audit."""
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    address = (request.remote_addr or "").encode("utf-8")
    return hmac.new(key, address, hashlib.sha256).hexdigest()[:16]


def safe_next(target: object) -> str | None:
    """Return `target` if it is a path on this site, else None (no open redirect)."""
    if not isinstance(target, str) or not target.startswith("/"):
        return None
    if target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_for(user: User) -> str:
    """Return where a user lands after signing in."""
    for endpoint in HOME_ENDPOINTS.get(user.role, ()):
        try:
            return url_for(endpoint)
        except BuildError:
            continue
    return url_for("account.index")


def _account_help() -> str:
    return str(current_app.config.get("ACCOUNT_HELP") or accounts.DEFAULT_ACCOUNT_HELP)


def _now() -> dt.datetime:
    return clock.now()


# -- known browsers and re-authentication ---------------------------------------


def _device_cookie_name() -> str:
    secure = str(current_app.config["SESSION_COOKIE_NAME"]).startswith("__Host-")
    return "__Host-device" if secure else "device"


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(
        str(current_app.config["SECRET_KEY"]), salt="responder known device"
    )


def _known_account_ids() -> list[int]:
    raw = request.cookies.get(_device_cookie_name())
    if not raw or len(raw) > 500:
        return []
    try:
        ids = _device_serializer().loads(raw)
    except BadSignature:
        return []
    if not isinstance(ids, list):
        return []
    return [i for i in ids if isinstance(i, int)][:KNOWN_DEVICE_MAX_ACCOUNTS]


def known_device(user: User | None) -> bool:
    """Say whether this browser has signed in to this account before.

    Such a browser skips the account-wide throttle, so guessing at the account
    from elsewhere slows the guesser, not the account's owner.
    """
    return user is not None and user.id in _known_account_ids()


def _remember_device(user: User) -> None:
    ids = [user.id] + [i for i in _known_account_ids() if i != user.id]
    value = _device_serializer().dumps(ids[:KNOWN_DEVICE_MAX_ACCOUNTS])

    @after_this_request
    def set_cookie(response: Response) -> Response:
        response.set_cookie(
            _device_cookie_name(),
            value,
            max_age=int(KNOWN_DEVICE_MAX_AGE.total_seconds()),
            path="/",
            secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
            httponly=True,
            samesite="Lax",
        )
        return response


def recently_reauthenticated() -> bool:
    """Say whether the signed-in user proved their password lately in this session."""
    row = g.get("user_session")
    if row is None or row.reauthenticated_at is None:
        return False
    since: dt.timedelta = _now() - row.reauthenticated_at
    return since <= REAUTH_WINDOW


def reauthentication_required(back: str | None = None) -> ResponseReturnValue | None:
    """Return the answer that asks for the password again, or None if proved lately.

    Only a signed-in user is asked: a pending user enrolling a first factor has
    just proved their password.
    """
    if not current_user.is_authenticated or recently_reauthenticated():
        return None
    confirm_url = url_for("auth.confirm_password", next=back or _back_path())
    if request.is_json or request.path.endswith("/options"):
        return jsonify(
            {"error": "Please confirm your password.", "confirm": confirm_url}
        ), 401
    return redirect(confirm_url)


def _back_path() -> str:
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = safe_next(request.form.get("next")) if request.form else None
    return referrer or url_for("account.index")


def pending_user() -> User | None:
    """Return the user who passed the password step and owes a second factor."""
    user_id = session.get("pending_uid")
    started = session.get("pending_at")
    if not isinstance(user_id, int) or not isinstance(started, str):
        return None
    try:
        started_at = dt.datetime.fromisoformat(started)
    except ValueError:
        return None
    if _now() - started_at > PENDING_LIFETIME:
        return None
    user = get_session().get(User, user_id)
    if user is None or not user.active:
        return None
    return user


def enrolling_user() -> User | None:
    """Return who may add a second factor now: the signed-in user, or a pending
    user who has none yet (never one who has: that would bypass their factor)."""
    if current_user.is_authenticated:
        user: User = current_user._get_current_object()
        return user
    user_or_none = pending_user()
    if user_or_none is None:
        return None
    if second_factors.has_second_factor(get_session(), user_or_none):
        return None
    return user_or_none


def record_event(action: SignInEvent, user: User | None, **detail: Any) -> None:
    """Record a sign-in event for `user` with the caller's hashed address."""
    accounts.record_sign_in_event(
        get_session(), action, user, ip_hash=ip_hash(), detail=detail
    )


def complete_sign_in(user: User, method: str) -> str:
    """Open a session record, rotate the cookie and return where to go next."""
    db = get_session()
    row, token = sessions.start_session(
        db,
        user,
        method=method,
        ip_hash=ip_hash(),
        user_agent=request.headers.get("User-Agent"),
    )
    # Signing in proves the password (or a passkey) now: no second prompt soon.
    row.reauthenticated_at = _now()
    _remember_device(user)
    record_event("login_succeeded", user, method=method)
    db.commit()
    next_path = safe_next(session.get("next"))
    # Nothing set before sign-in survives it: no fixation of the old cookie.
    session.clear()
    session["sid"] = token
    login_user(user)
    return next_path or home_for(user)


def _start_pending(user: User, next_path: str | None) -> None:
    session.clear()
    session["pending_uid"] = user.id
    session["pending_at"] = _now().isoformat()
    if next_path:
        session["next"] = next_path


def _remember_challenge(purpose: str, challenge: bytes) -> None:
    db = get_session()
    session["webauthn"] = passkeys.save_challenge(db, purpose, challenge)
    db.commit()


def _take_challenge(purpose: str) -> bytes | None:
    handle = session.pop("webauthn", None)
    if not isinstance(handle, str):
        return None
    db = get_session()
    challenge = passkeys.take_challenge(db, handle, purpose)
    db.commit()
    return challenge


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400)
    return body


def claim_attempt(
    purpose: str, account: str, user: User | None, *, account_wide: bool = True
) -> list[throttling.Throttle] | dt.timedelta:
    """Count this attempt before checking it; return its throttles, or the wait.

    The count is committed before the secret is checked, so parallel attempts
    in other workers see it (and a refused attempt counts for nothing).
    """
    db = get_session()
    throttles = throttling.attempt_throttles(
        purpose,
        account,
        ip_hash(),
        known_device=known_device(user) or not account_wide,
    )
    try:
        throttling.claim_attempt(db, throttles, user=user)
    except throttling.Throttled as throttled:
        db.rollback()
        return throttled.wait
    db.commit()
    return throttles


def _wait_words(wait: dt.timedelta) -> str:
    seconds = max(1, int(wait.total_seconds() + 0.999))
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"


# -- sign-in ------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login() -> ResponseReturnValue:
    """Sign in: email and password, then a second factor (or a passkey alone)."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    next_path = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("auth/login.html", next=next_path, error=None)

    require_rate_limit_storage()
    email = request.form.get("email", "")[:254]
    # Never truncated: a longer password is simply not the right one.
    password = request.form.get("password", "")
    db = get_session()
    user = accounts.find_user(db, email) if email else None
    claimed = claim_attempt("password", accounts.normalise_email(email), user)
    if isinstance(claimed, dt.timedelta):
        record_event("login_throttled", user)
        db.commit()
        message = (
            f"Too many attempts. Please wait {_wait_words(claimed)} and try again."
        )
        return render_template(
            "auth/login.html", next=next_path, error=message, email=email
        ), 429
    ok = len(password) <= accounts.MAX_PASSWORD_LENGTH and accounts.verify_password(
        user, password
    )
    if ok and user is not None and not user.active:
        # Only someone who knows the password learns the account is disabled.
        record_event("login_failed", user, reason_code="inactive")
        db.commit()
        who = accounts.whom_to_ask(db, user, fallback=_account_help())
        message = f"This account is disabled. Please ask {who} to enable it again."
        return render_template(
            "auth/login.html", next=next_path, error=message, email=email
        ), 401
    if not ok or user is None:
        reason = "bad_password"
        record_event("login_failed", user, reason_code=reason if user else "unknown")
        db.commit()
        return render_template(
            "auth/login.html", next=next_path, error=BAD_CREDENTIALS, email=email
        ), 401
    throttling.forget_failures(db, claimed)
    if accounts.password_needs_rehash(user):
        # Not set_password: an old, shorter password must not fail its own upgrade.
        user.password_hash = accounts.hash_password(password)
    db.commit()
    _start_pending(user, next_path)
    if not second_factors.has_second_factor(db, user):
        return redirect(url_for("auth.enrol"))
    return redirect(url_for("auth.second_factor"))


@bp.route("/login/second-factor")
@public
def second_factor() -> ResponseReturnValue:
    """Ask for the second factor: passkey, authenticator app or recovery code."""
    user = pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    methods = second_factors.second_factor_methods(get_session(), user)
    if not methods:
        return redirect(url_for("auth.enrol"))
    return render_template("auth/second_factor.html", methods=methods, error=None)


def _factor_refused(user: User, method: str) -> None:
    db = get_session()
    record_event("mfa_failed", user, method=method)
    db.commit()


@bp.route("/login/totp", methods=["POST"])
@public
@limiter.limit(FACTOR_LIMIT)
def login_totp() -> ResponseReturnValue:
    """Finish signing in with a code from the authenticator app."""
    require_rate_limit_storage()
    user = pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    db = get_session()
    methods = second_factors.second_factor_methods(db, user)
    claimed = claim_attempt("factor", str(user.id), user)
    if isinstance(claimed, dt.timedelta):
        record_event("mfa_throttled", user, method="totp")
        db.commit()
        message = (
            f"Too many attempts. Please wait {_wait_words(claimed)} and try again."
        )
        return render_template(
            "auth/second_factor.html", methods=methods, error=message
        ), 429
    code = request.form.get("code", "")[:20]
    if not authenticator.verify_totp(db, user, code, totp_cipher()):
        _factor_refused(user, "totp")
        return render_template(
            "auth/second_factor.html", methods=methods, error=BAD_CODE
        ), 401
    throttling.forget_failures(db, claimed)
    return redirect(complete_sign_in(user, "totp"))


@bp.route("/login/recovery", methods=["GET", "POST"])
@public
@limiter.limit(FACTOR_LIMIT, methods=["POST"])
def login_recovery() -> ResponseReturnValue:
    """Finish signing in with a single-use recovery code."""
    user = pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("auth/recovery.html", error=None)
    require_rate_limit_storage()
    db = get_session()
    claimed = claim_attempt("factor", str(user.id), user)
    if isinstance(claimed, dt.timedelta):
        record_event("mfa_throttled", user, method="recovery_code")
        db.commit()
        message = (
            f"Too many attempts. Please wait {_wait_words(claimed)} and try again."
        )
        return render_template("auth/recovery.html", error=message), 429
    if not recovery.use_recovery_code(db, user, request.form.get("code", "")[:64]):
        _factor_refused(user, "recovery_code")
        return render_template("auth/recovery.html", error=BAD_CODE), 401
    throttling.forget_failures(db, claimed)
    record_event(
        "recovery_code_used",
        user,
        count=recovery.unused_recovery_codes(db, user),
    )
    return redirect(complete_sign_in(user, "recovery_code"))


@bp.route("/login/passkey/options", methods=["POST"])
@public
@limiter.limit(FACTOR_LIMIT)
def passkey_options() -> ResponseReturnValue:
    """Give the browser a challenge to sign with a passkey."""
    db = get_session()
    user = pending_user()
    options, challenge = passkeys.authentication_options(db, relying_party(), user)
    _remember_challenge("login", challenge)
    return Response(options, mimetype="application/json")


@bp.route("/login/passkey", methods=["POST"])
@public
@limiter.limit(FACTOR_LIMIT)
def login_passkey() -> ResponseReturnValue:
    """Sign in with a passkey: alone, or as the second step after a password."""
    require_rate_limit_storage()
    credential = _json_body()
    challenge = _take_challenge("login")
    if challenge is None:
        return jsonify({"error": "The sign-in took too long; please try again."}), 400
    db = get_session()
    user = pending_user()
    # No account-wide throttle: a passkey cannot be guessed, and a shared "no
    # account yet" counter would let anyone slow every passkey sign-in.
    claimed = claim_attempt(
        "passkey", str(user.id) if user else "-", user, account_wide=False
    )
    if isinstance(claimed, dt.timedelta):
        record_event("mfa_throttled", user, method="passkey")
        db.commit()
        return jsonify({"error": f"Please wait {_wait_words(claimed)}."}), 429
    row = passkeys.authenticate_passkey(
        db, credential, challenge=challenge, rp=relying_party(), user=user
    )
    if row is None:
        record_event("mfa_failed" if user else "login_failed", user, method="passkey")
        db.commit()
        return jsonify({"error": "That passkey was not accepted."}), 401
    throttling.forget_failures(db, claimed)
    return jsonify({"redirect": complete_sign_in(row.user, "passkey")})


# -- enrolment ------------------------------------------------------------------------


@bp.route("/login/enrol")
@public
def enrol() -> ResponseReturnValue:
    """Choose a second factor to set up: a passkey, or an authenticator app."""
    user = enrolling_user()
    if user is None:
        return redirect(url_for("auth.login"))
    return render_template(
        "auth/enrol.html", first=not current_user.is_authenticated, user=user
    )


def _totp_page(user: User, error: str | None) -> str:
    db = get_session()
    cipher = totp_cipher()
    uri = authenticator.pending_totp_uri(db, user, cipher)
    if uri is None:
        uri = authenticator.begin_totp(db, user, cipher)
        db.commit()
    return render_template(
        "auth/enrol_totp.html",
        qr=qr.svg_data_uri(uri),
        secret=pyotp.parse_uri(uri).secret,
        error=error,
    )


@bp.route("/login/enrol/app", methods=["GET", "POST"])
@public
@limiter.limit(FACTOR_LIMIT, methods=["POST"])
def enrol_totp() -> ResponseReturnValue:
    """Set up an authenticator app: scan the code, then confirm one code."""
    user = enrolling_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if (ask := reauthentication_required()) is not None:
        return ask
    db = get_session()
    if authenticator.totp_enabled(db, user):
        return redirect(url_for("account.index"))
    if request.method == "GET":
        return _totp_page(user, None)
    if not authenticator.confirm_totp(
        db, user, request.form.get("code", ""), totp_cipher()
    ):
        record_event("mfa_failed", user, method="totp_enrolment")
        db.commit()
        return _totp_page(user, BAD_CODE), 400
    record_event("totp_enrolled", user, method="totp")
    return _finish_enrolment(user, "totp")


def _finish_enrolment(user: User, method: str) -> ResponseReturnValue:
    """Issue recovery codes if the user has none, and sign a pending user in."""
    db = get_session()
    codes: list[str] = []
    if recovery.unused_recovery_codes(db, user) == 0:
        codes = recovery.issue_recovery_codes(db, user)
        record_event("recovery_codes_issued", user, count=len(codes))
    if current_user.is_authenticated:
        db.commit()
        destination = url_for("account.index")
    else:
        destination = complete_sign_in(user, method)
    if not codes:
        return redirect(destination)
    return render_template("account/recovery_codes.html", codes=codes, next=destination)


@bp.route("/login/enrol/passkey/options", methods=["POST"])
@public
@limiter.limit(FACTOR_LIMIT)
def enrol_passkey_options() -> ResponseReturnValue:
    """Give the browser the options to create a passkey for this account."""
    user = enrolling_user()
    if user is None:
        return jsonify({"error": "Please sign in again."}), 401
    if (ask := reauthentication_required()) is not None:
        return ask
    options, challenge = passkeys.registration_options(
        get_session(), user, relying_party()
    )
    _remember_challenge("register", challenge)
    return Response(options, mimetype="application/json")


@bp.route("/login/enrol/passkey", methods=["POST"])
@public
@limiter.limit(FACTOR_LIMIT)
def enrol_passkey() -> ResponseReturnValue:
    """Store a new passkey after checking the browser's attestation."""
    user = enrolling_user()
    if user is None:
        return jsonify({"error": "Please sign in again."}), 401
    if (ask := reauthentication_required()) is not None:
        return ask
    body = _json_body()
    challenge = _take_challenge("register")
    if challenge is None:
        return jsonify({"error": "That took too long; please try again."}), 400
    db = get_session()
    credential = body.get("credential")
    if not isinstance(credential, dict):
        abort(400)
    try:
        passkeys.register_passkey(
            db,
            user,
            credential,
            challenge=challenge,
            rp=relying_party(),
            name=str(body.get("name") or "Passkey"),
        )
    except SecondFactorError as error:
        record_event("mfa_failed", user, method="passkey_enrolment")
        db.commit()
        return jsonify({"error": str(error)}), 400
    record_event("passkey_added", user, method="passkey")
    if current_user.is_authenticated:
        db.commit()
        return jsonify({"redirect": url_for("account.index")})
    # The passkey proved itself with user verification, so it completes sign-in.
    next_url = complete_sign_in(user, "passkey")
    codes_url = url_for("account.recovery_codes", next=next_url, first=1)
    return jsonify({"redirect": codes_url})


# -- proving the password again, and signing out --------------------------------


@bp.route("/account/confirm", methods=["GET", "POST"])
@signed_in
@limiter.limit(FACTOR_LIMIT, methods=["POST"])
def confirm_password() -> ResponseReturnValue:
    """Ask for the password again before adding a way in to the account."""
    next_path = safe_next(request.values.get("next")) or url_for("account.index")
    if request.method == "GET":
        return render_template("auth/confirm.html", error=None, next=next_path)
    db = get_session()
    user: User = current_user._get_current_object()
    claimed = claim_attempt("reauth", str(user.id), user)
    if isinstance(claimed, dt.timedelta):
        message = f"Too many attempts. Please wait {_wait_words(claimed)}."
        return render_template("auth/confirm.html", error=message, next=next_path), 429
    password = request.form.get("password", "")
    if len(password) > accounts.MAX_PASSWORD_LENGTH or not accounts.verify_password(
        user, password
    ):
        record_event("reauth_failed", user)
        db.commit()
        return render_template(
            "auth/confirm.html", error="That password was not right.", next=next_path
        ), 401
    throttling.forget_failures(db, claimed)
    row = g.get("user_session")
    if row is not None:
        sessions.mark_reauthenticated(db, row.id, now=_now())
    record_event("reauthenticated", user)
    db.commit()
    return redirect(next_path, code=303)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout() -> ResponseReturnValue:
    """Sign out: end the session record and clear the browser's stores."""
    db = get_session()
    row = g.get("user_session")
    user: User = current_user._get_current_object()
    if row is not None:
        sessions.revoke_session(row, reason="logout")
    record_event("logout", user)
    db.commit()
    logout_user()
    session.clear()
    response = redirect(url_for("auth.login"))
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    response.delete_cookie(
        current_app.config["SESSION_COOKIE_NAME"],
        path="/",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response
