"""Blueprint `concerns`: staff answer the person's concerns and withdrawal requests.

Mentors and lead clinicians see their teams' requests; a trust-wide privacy
officer sees every team's. The person reads the status and answer in their view.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from plans import people
from responder.access import PLAN_STAFF, roles_required
from responder.db import get_session
from responder.rows import get_or_404

bp = Blueprint("concerns", __name__, url_prefix="/concerns")


def _scope() -> set[int] | None:
    if current_user.role == "privacy_officer" and not current_user.team_ids:
        return None
    return set(current_user.team_ids)


@bp.get("/")
@roles_required(*PLAN_STAFF)
def queue() -> ResponseReturnValue:
    """List the requests waiting for an answer, oldest first."""
    show_all = request.args.get("all") == "1"
    requests = people.request_queue(
        get_session(), team_ids=_scope(), open_only=not show_all
    )
    return render_template("concerns/queue.html", requests=requests, show_all=show_all)


@bp.get("/<int:request_id>")
@roles_required(*PLAN_STAFF)
def detail(request_id: int) -> ResponseReturnValue:
    """Show one request with the form to answer it."""
    return render_template(
        "concerns/request.html",
        item=get_or_404(
            people.PersonRequest, request_id, team_of=lambda found: found.team_id
        ),
    )


@bp.post("/<int:request_id>")
@roles_required(*PLAN_STAFF)
def answer(request_id: int) -> ResponseReturnValue:
    """Move a request on with an answer the person will read."""
    session = get_session()
    item = get_or_404(
        people.PersonRequest, request_id, team_of=lambda found: found.team_id
    )
    try:
        people.respond(
            session,
            item,
            by=current_user._get_current_object(),
            status=request.form.get("status", ""),
            response=request.form.get("response"),
        )
    except people.PersonError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("concerns.detail", request_id=request_id))
    session.commit()
    flash("Saved. The person sees the status and answer in their view.", "ok")
    return redirect(url_for("concerns.queue"))


@bp.post("/<int:request_id>/withdraw")
@roles_required(*PLAN_STAFF)
def complete_withdrawal(request_id: int) -> ResponseReturnValue:
    """Retire the person's plan as they asked; their cards and chats stop at once."""
    session = get_session()
    item = get_or_404(
        people.PersonRequest, request_id, team_of=lambda found: found.team_id
    )
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm the plan is to be withdrawn.", "error")
        return redirect(url_for("concerns.detail", request_id=request_id))
    try:
        people.complete_withdrawal(
            session,
            item,
            by=current_user._get_current_object(),
            response=request.form.get("response"),
        )
    except people.PersonError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("concerns.detail", request_id=request_id))
    session.commit()
    flash("The plan is withdrawn: responders, cards and chats no longer show it.", "ok")
    return redirect(url_for("concerns.queue"))
