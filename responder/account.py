"""Blueprint `account`: the signed-in user's own sign-in security.

Passkeys, the authenticator app, recovery codes, API tokens, the password and the
other browsers signed in as the user. Adding a way in asks for the password again
(`responder.auth.reauthentication_required`); signing in itself is
`responder.auth`, and other people's accounts are `responder.users`.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from plans import accounts
from plans.models import ApiToken, User
from plans.signin import authenticator, passkeys, recovery, sessions, throttling
from responder.access import signed_in
from responder.auth import (
    FACTOR_LIMIT,
    claim_attempt,
    reauthentication_required,
    record_event,
    safe_next,
)
from responder.db import get_session
from responder.security import limiter

bp = Blueprint("account", __name__)


@bp.route("/account")
@signed_in
def index() -> ResponseReturnValue:
    """Show the user's passkeys, authenticator app, recovery codes and sessions."""
    db = get_session()
    user: User = current_user._get_current_object()
    return render_template(
        "account/index.html",
        user=user,
        passkeys=passkeys.passkeys_for(db, user),
        totp=authenticator.totp_enabled(db, user),
        codes_left=recovery.unused_recovery_codes(db, user),
        live=sessions.live_sessions(db, user),
        current=g.get("user_session"),
        tokens=accounts.tokens_of(db, user),
        token_is_live=accounts.token_is_live,
    )


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@signed_in
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke one of the user's own API tokens."""
    db = get_session()
    user: User = current_user._get_current_object()
    row = db.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        abort(404)
    accounts.withdraw_token(db, row, by=user, channel="web")
    db.commit()
    return redirect(url_for("account.index"), code=303)


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@signed_in
def recovery_codes() -> ResponseReturnValue:
    """Create a new set of recovery codes, shown once (the old set stops working)."""
    db = get_session()
    user: User = current_user._get_current_object()
    next_path = safe_next(request.values.get("next")) or url_for("account.index")
    if request.method == "GET":
        return render_template(
            "account/recovery_codes.html",
            codes=None,
            codes_left=recovery.unused_recovery_codes(db, user),
            first=request.args.get("first") == "1",
            next=next_path,
        )
    if (ask := reauthentication_required()) is not None:
        return ask
    codes = recovery.issue_recovery_codes(db, user)
    record_event("recovery_codes_issued", user, count=len(codes))
    db.commit()
    return render_template("account/recovery_codes.html", codes=codes, next=next_path)


@bp.route("/account/passkeys/<int:passkey_id>/delete", methods=["POST"])
@signed_in
def remove_passkey(passkey_id: int) -> ResponseReturnValue:
    """Remove one of the user's passkeys, unless it is their only factor."""
    db = get_session()
    user: User = current_user._get_current_object()
    others = [p for p in passkeys.passkeys_for(db, user) if p.id != passkey_id]
    if not others and not authenticator.totp_enabled(db, user):
        abort(409)
    if not passkeys.remove_passkey(db, user, passkey_id):
        abort(404)
    record_event("passkey_removed", user)
    db.commit()
    return redirect(url_for("account.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
@limiter.limit(FACTOR_LIMIT, methods=["POST"])
def change_password() -> ResponseReturnValue:
    """Change the password, proving the old one; other browsers are signed out."""
    if request.method == "GET":
        return render_template("account/password.html", error=None)
    db = get_session()
    user: User = current_user._get_current_object()
    claimed = claim_attempt("password_change", str(user.id), user)
    if isinstance(claimed, dt.timedelta):
        return render_template(
            "account/password.html", error="Too many attempts. Please wait."
        ), 429
    current = request.form.get("current", "")
    if len(current) > accounts.MAX_PASSWORD_LENGTH or not accounts.verify_password(
        user, current
    ):
        record_event("password_change_failed", user)
        db.commit()
        return render_template(
            "account/password.html", error="Your current password was not right."
        ), 401
    # Never truncated: an over-long password is refused in words, not cut short.
    new = request.form.get("new", "")
    if new != request.form.get("confirm", ""):
        return render_template(
            "account/password.html", error="The new passwords do not match."
        ), 400
    try:
        accounts.set_password(user, new)
    except accounts.AccountError as error:
        return render_template(
            "account/password.html", error=str(error).capitalize()
        ), 400
    throttling.forget_failures(db, claimed)
    count = sessions.revoke_user_sessions(
        db, user, reason="password_changed", keep=g.get("user_session")
    )
    record_event("password_changed", user, count=count)
    db.commit()
    return redirect(url_for("account.index"))


@bp.route("/account/sessions/end-others", methods=["POST"])
@signed_in
def end_other_sessions() -> ResponseReturnValue:
    """Sign out every other browser signed in as this user."""
    db = get_session()
    user: User = current_user._get_current_object()
    count = sessions.revoke_user_sessions(
        db, user, reason="ended_by_user", keep=g.get("user_session")
    )
    record_event("session_revoked", user, count=count, why="ended_by_user")
    db.commit()
    return redirect(url_for("account.index"))
