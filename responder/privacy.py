"""Blueprint `privacy`: the privacy officer's queue of alerts and the access log.

Alerts come from `plans.access` (a plan opened without an incident number, many
plans opened in a short time, invalid card scans). The officer reviews each one
and closes it with a resolution. The access log search shows who opened which
plan, when and why, across the officer's teams (every team for a trust-wide
officer); searching it is itself audited.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import Select, func, select

from plans import access, oversight
from plans.access import AccessGrant, PrivacyAlert
from plans.clock import iso_date
from plans.models import Person, User
from responder.access import require_team, roles_required
from responder.db import get_session
from responder.rows import get_or_404

logger = logging.getLogger(__name__)

bp = Blueprint("privacy", __name__, url_prefix="/privacy")

LOG_PAGE_SIZE = 200


def officer() -> User:
    """Return the signed-in privacy officer as the domain object."""
    user: User = current_user._get_current_object()
    return user


def scoped(query: Select[Any], person_column: Any) -> Select[Any]:
    """Limit a query to the officer's teams (none: a trust-wide officer)."""
    team_ids = officer().team_ids
    if not team_ids:
        return query
    return query.where(
        person_column.in_(select(Person.id).where(Person.team_id.in_(team_ids)))
    )


def alert_or_404(alert_id: int) -> PrivacyAlert:
    """Return an alert the officer may see, or abort 404."""
    alert = get_or_404(PrivacyAlert, alert_id)
    if alert.person is not None:
        require_team(alert.person.team_id)
    elif not access.alert_in_scope(alert, officer()):
        abort(404)  # a trust-wide alert is not a team-scoped officer's
    return alert


@bp.route("/")
@roles_required("privacy_officer")
def index() -> ResponseReturnValue:
    """Show the queue of alerts: open ones first, oldest first."""
    session = get_session()
    status = request.args.get("status", "open")
    if status not in ("open", "closed"):
        status = "open"
    query = scoped(
        select(PrivacyAlert).where(PrivacyAlert.status == status),
        PrivacyAlert.person_id,
    )
    order = (
        PrivacyAlert.created_at.asc()
        if status == "open"
        else PrivacyAlert.closed_at.desc()
    )
    alerts = list(session.scalars(query.order_by(order).limit(500)))
    open_count = session.scalar(
        scoped(
            select(func.count())
            .select_from(PrivacyAlert)
            .where(PrivacyAlert.status == "open"),
            PrivacyAlert.person_id,
        )
    )
    return render_template(
        "privacy/queue.html",
        alerts=alerts,
        status=status,
        open_count=open_count or 0,
        kinds=access.ALERT_KINDS,
    )


@bp.route("/alerts/<int:alert_id>", methods=["GET", "POST"])
@roles_required("privacy_officer")
def alert(alert_id: int) -> ResponseReturnValue:
    """Review one alert, with the user's recent openings, and close it."""
    session = get_session()
    found = alert_or_404(alert_id)
    error = None
    if request.method == "POST":
        try:
            access.close_alert(
                session,
                found,
                officer=officer(),
                resolution=request.form.get("resolution", ""),
            )
        except access.AccessRefused as refused:
            session.rollback()
            error = str(refused)
            found = alert_or_404(alert_id)
        else:
            session.commit()
            flash("Alert closed.")
            return redirect(url_for("privacy.index"), code=303)
    recent: list[AccessGrant] = []
    if found.user_id is not None:
        recent = list(
            session.scalars(
                scoped(
                    select(AccessGrant).where(AccessGrant.user_id == found.user_id),
                    AccessGrant.person_id,
                )
                .order_by(AccessGrant.granted_at.desc())
                .limit(50)
            )
        )
    return (
        render_template(
            "privacy/alert.html",
            alert=found,
            kinds=access.ALERT_KINDS,
            grants=recent,
            bases=access.BASES,
            error=error,
        ),
        422 if error else 200,
    )


@bp.route("/log")
@roles_required("privacy_officer")
def log() -> ResponseReturnValue:
    """Search the access log by person, user, basis and dates."""
    session = get_session()
    args = request.args
    person_ref = args.get("person", "").strip()
    user_email = args.get("user", "").strip().lower()
    basis = args.get("basis", "")
    since, until = iso_date(args.get("since")), iso_date(args.get("until"))
    grants = oversight.search_access_log(
        session,
        officer(),
        person_ref=person_ref,
        user_email=user_email,
        basis=basis,
        since=since,
        until=until,
        limit=LOG_PAGE_SIZE,
    )
    session.commit()
    return render_template(
        "privacy/log.html",
        grants=grants,
        bases=access.BASES,
        person_ref=person_ref,
        user_email=user_email,
        basis=basis,
        since=args.get("since", ""),
        until=args.get("until", ""),
        limit=LOG_PAGE_SIZE,
    )
