"""Blueprint `users`: the administrators' pages for every account.

List accounts, create one (single sign-on, or a first password shown once),
disable and enable it, reset its second factors, and approve or decline a first
single sign-on. Every rule and audit row is in `plans.accounts` and
`plans.identity`; the views parse, call, commit and respond.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from plans import accounts, identity
from plans.identity import ExternalIdentity
from plans.models import ROLE_LABELS, Team, User
from responder.access import roles_required
from responder.db import get_session
from responder.rows import get_or_404

bp = Blueprint("users", __name__)


def _admin() -> User:
    admin: User = current_user._get_current_object()
    return admin


@bp.route("/admin/users")
@roles_required("admin")
def index() -> ResponseReturnValue:
    """List every account as a card: role, teams, sign-in method, last sign-in."""
    db = get_session()
    return render_template(
        "users/index.html",
        summaries=accounts.list_accounts(db, by=_admin(), channel="web"),
        waiting=identity.awaiting_approval(db, by=_admin(), channel="web"),
        labels=ROLE_LABELS,
        done=request.args.get("done"),
    )


def _teams() -> list[Team]:
    return list(get_session().scalars(select(Team).order_by(Team.name)))


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new() -> ResponseReturnValue:
    """Create an account: single sign-on, or a password shown once to hand over."""
    form = request.form
    if request.method == "GET":
        return render_template(
            "users/new.html",
            teams=_teams(),
            labels=ROLE_LABELS,
            form={},
            chosen=[],
        )
    db = get_session()
    local = form.get("method") == "password"
    password = secrets_password() if local else None
    try:
        user = accounts.add_user(
            db,
            form.get("email", "")[:254],
            by=_admin(),
            channel="web",
            role=form.get("role", ""),
            display_name=form.get("display_name", "").strip()[:200] or None,
            organisation=form.get("organisation", "").strip()[:200] or None,
            team_codes=form.getlist("team")[:50],
            password=password,
        )
    except accounts.AccountError as error:
        db.rollback()
        return render_template(
            "users/new.html",
            teams=_teams(),
            labels=ROLE_LABELS,
            form=form,
            chosen=form.getlist("team"),
            error=str(error).capitalize() + ".",
        ), 400
    db.commit()
    if password is None:
        return redirect(url_for("users.index", done="created"), code=303)
    return render_template("users/password.html", user=user, password=password)


def secrets_password() -> str:
    """Return a first password to hand over in person: four random words' worth."""
    import secrets

    return "-".join(secrets.token_urlsafe(6) for _ in range(4))


@bp.route("/admin/users/<int:user_id>")
@roles_required("admin")
def show(user_id: int) -> ResponseReturnValue:
    """Show one account and what can be done to it, one action at a time."""
    db = get_session()
    target = get_or_404(User, user_id)
    [summary] = [
        s
        for s in accounts.list_accounts(db, by=_admin(), channel="web")
        if s.user.id == target.id
    ]
    return render_template(
        "users/show.html", summary=summary, labels=ROLE_LABELS, error=None
    )


@bp.route("/admin/users/<int:user_id>/disable", methods=["GET", "POST"])
@roles_required("admin")
def disable(user_id: int) -> ResponseReturnValue:
    """Disable an account for a stated reason; its sessions and tokens end at once."""
    db = get_session()
    target = get_or_404(User, user_id)
    if request.method == "GET":
        return render_template("users/disable.html", target=target, error=None)
    if target.id == current_user.id:
        abort(409)  # an administrator cannot lock the door behind themselves
    try:
        accounts.disable_account(
            db,
            target,
            by=_admin(),
            channel="web",
            reason=request.form.get("reason", "")[:1000],
        )
    except accounts.AccountError as error:
        db.rollback()
        return render_template(
            "users/disable.html",
            target=target,
            error=str(error).capitalize() + ".",
            reason=request.form.get("reason", "")[:1000],
        ), 400
    db.commit()
    return redirect(url_for("users.index", done="disabled"), code=303)


@bp.route("/admin/users/<int:user_id>/enable", methods=["POST"])
@roles_required("admin")
def enable(user_id: int) -> ResponseReturnValue:
    """Let a disabled account sign in again."""
    db = get_session()
    target = get_or_404(User, user_id)
    try:
        accounts.enable_account(db, target, by=_admin(), channel="web")
    except accounts.AccountError:
        db.rollback()
        return redirect(url_for("users.show", user_id=user_id), code=303)
    db.commit()
    return redirect(url_for("users.index", done="enabled"), code=303)


@bp.route("/admin/users/<int:user_id>/reset-factors", methods=["GET", "POST"])
@roles_required("admin")
def reset_factors(user_id: int) -> ResponseReturnValue:
    """Remove a user's second factors so they enrol again at next sign-in."""
    db = get_session()
    target = get_or_404(User, user_id)
    if request.method == "GET":
        return render_template("users/reset.html", target=target)
    accounts.reset_factors(db, target, by=_admin(), channel="web")
    db.commit()
    return redirect(url_for("users.index", done="reset"), code=303)


@bp.route("/admin/sign-ins/<int:identity_id>", methods=["GET", "POST"])
@roles_required("admin")
def approve_sign_in(identity_id: int) -> ResponseReturnValue:
    """Approve a first single sign-on with a role and teams, or decline it."""
    db = get_session()
    row = get_or_404(ExternalIdentity, identity_id)
    if request.method == "GET":
        return render_template(
            "users/identity.html",
            identity=row,
            teams=_teams(),
            labels=ROLE_LABELS,
            error=None,
        )
    try:
        if request.form.get("decision") == "decline":
            identity.decline_identity(db, row, by=_admin(), channel="web")
            done = "declined"
        else:
            identity.approve_identity(
                db,
                row,
                by=_admin(),
                channel="web",
                role=request.form.get("role", ""),
                team_codes=request.form.getlist("team")[:50],
            )
            done = "approved"
    except identity.IdentityError as error:
        db.rollback()
        return render_template(
            "users/identity.html",
            identity=row,
            teams=_teams(),
            labels=ROLE_LABELS,
            error=str(error),
        ), 400
    db.commit()
    return redirect(url_for("users.index", done=done), code=303)
