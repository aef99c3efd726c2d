"""Blueprint `mentor`: the mentors' desk and the lead clinician's approvals.

Mentors (and lead clinicians) of a team see that team's people and plans, draft
and edit plans with every field of response-plan/2, preview them exactly as a
responder reads them, compare them with the live version and submit them. A lead
clinician of the team acknowledges each flagged phrase with a reason and
publishes. Team scope is checked on every object: another team's plans are 404.

The plan form itself (its fields, reading a post, adding and removing rows
without JavaScript) is `responder.plan_form`; the views here parse with it, call
`plans.drafts`, commit and respond. Nothing is saved until "Save draft".
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from plans import (
    access,
    agreement,
    clock,
    drafts,
    oversight,
    people,
    plan_view,
)
from plans import document as plan_document
from plans.exchange import reading
from plans.models import (
    RESPONDER_KINDS,
    ROLE_LABELS,
    Person,
    PlanVersion,
    Team,
    User,
)
from plans.publish_rules import (
    AGREEMENT_CHANNELS,
    MIN_REVIEW_LENGTH,
    PublishRules,
)
from plans.publish_rules import (
    CAPACITY_ACKNOWLEDGEMENT_KEY as CAPACITY_KEY,
)
from plans.versions import live_version
from responder.access import MENTORS, PLAN_STAFF, roles_required
from responder.db import get_session
from responder.plan_form import FIELDSETS, FORM_HELPERS, change_rows, read_form
from responder.rows import draft_or_404, person_or_404

logger = logging.getLogger(__name__)

bp = Blueprint("mentor", __name__, url_prefix="/mentor")


@bp.context_processor
def desk_helpers() -> dict[str, Any]:
    """Give desk templates field names in words for JSON pointers."""
    return {"describe": drafts.describe_pointer}


def today() -> dt.date:
    """Return today's date in the UK, where plans are reviewed."""
    return clock.today()


def rules() -> PublishRules:
    """Return the publish rules as this deployment configures them."""
    return PublishRules.from_config(current_app.config)


def desk_user() -> User:
    """Return the signed-in user as the domain object."""
    user: User = current_user._get_current_object()
    return user


# --- lookups -------------------------------------------------------------------


def user_teams() -> list[Team]:
    """Return the signed-in user's teams, by name."""
    return sorted(desk_user().teams, key=lambda team: team.name)


def preview_view(version: PlanVersion, role: str | None) -> plan_view.PlanView:
    """Return the plan exactly as a responder in `role` would read it."""
    return plan_view.build(version, role, today=today())


def render_form(
    template_context: dict[str, Any], *, status: int = 200
) -> ResponseReturnValue:
    """Render the plan form."""
    return (
        render_template(
            "mentor/edit.html", fieldsets=FIELDSETS, h=FORM_HELPERS, **template_context
        ),
        status,
    )


# --- views ---------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRow:
    """One line of the desk: a person and where their plan stands."""

    person: Person
    live: PlanVersion | None
    draft: PlanVersion | None
    review_overdue: bool


@bp.route("/")
@roles_required(*MENTORS)
def index() -> ResponseReturnValue:
    """Show the team's people, drafts in progress and drafts awaiting approval."""
    session = get_session()
    user = desk_user()
    team_ids = user.team_ids
    on_date = today()
    versions_by_person: dict[int, dict[str, PlanVersion]] = {}
    if team_ids:
        for version in session.scalars(
            select(PlanVersion)
            .join(Person, PlanVersion.person_id == Person.id)
            .where(
                Person.team_id.in_(team_ids),
                PlanVersion.status.in_(("live", "draft")),
            )
        ):
            versions_by_person.setdefault(version.person_id, {})[version.status] = (
                version
            )
    # Mentors open the desk every working day: a withdrawal past its deadline
    # reaches the privacy officer then, even if the person never looks.
    if people.alert_overdue_withdrawals(session, today=on_date):
        session.commit()
    rows = []
    for person in drafts.team_people(session, team_ids):
        found = versions_by_person.get(person.id, {})
        live = found.get("live")
        rows.append(
            PersonRow(
                person,
                live,
                found.get("draft"),
                bool(live and live.review_overdue(on_date)),
            )
        )
    return render_template(
        "mentor/desk.html",
        rows=rows,
        awaiting=drafts.team_drafts(session, team_ids, submitted=True),
        reminders=drafts.review_reminders(
            session, team_ids, today=on_date, rules=rules()
        ),
        in_progress=drafts.team_drafts(session, team_ids, submitted=False),
        is_lead=user.role == "lead_clinician",
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MENTORS)
def new() -> ResponseReturnValue:
    """Start a plan for someone new: the whole form, saved as a draft."""
    teams = user_teams()
    if not teams:
        abort(403)
    context: dict[str, Any] = {
        "teams": teams,
        "version": None,
        "person": None,
        "edit_count": None,
        "conflict": None,
        "notice": None,
    }
    if request.method == "GET":
        blank: dict[str, dict[str, object]] = {"person": {}, "plan": {}}
        return render_form({**context, "document": blank, "problems": []})
    team_id = request.form.get("team_id", type=int)
    team = next((t for t in teams if t.id == team_id), None)
    state = read_form(request.form, {})
    action = request.form.get("action", "save")
    if action != "save":
        notice = change_rows(state, action)
        return render_form(
            {
                **context,
                "document": state.document,
                "problems": [],
                "notice": notice,
                "team_id": team_id,
            }
        )
    problems = list(state.problems)
    if team is None:
        problems.append("Team: choose the team that will own this plan")
    if not problems:
        session = get_session()
        try:
            version = drafts.create_draft(
                session, state.clean, author=desk_user(), team=team
            )
        except drafts.DraftError as error:
            session.rollback()
            problems.append(str(error))
        else:
            session.commit()
            flash("Draft saved. Nothing is shown to responders until it is published.")
            return redirect(url_for("mentor.draft", version_id=version.id), code=303)
    return render_form(
        {
            **context,
            "document": state.document,
            "problems": problems,
            "team_id": team_id,
        },
        status=422,
    )


@bp.route("/people/<int:person_id>")
@roles_required(*MENTORS)
def person(person_id: int) -> ResponseReturnValue:
    """Show a person's plan: the live version, its history, drafts and retiring."""
    session = get_session()
    who = person_or_404(person_id)
    live = live_version(session, who)
    if live is not None:
        oversight.read_plan_as_staff(session, desk_user(), live)
    page = render_template(
        "mentor/person.html",
        person=who,
        live=live,
        draft=drafts.open_draft(session, who),
        versions=list(reversed(who.versions)),
        view=preview_view(live, None) if live else None,
        reasons=drafts.RETIRE_REASONS,
        review_overdue=bool(live and live.review_overdue(today())),
    )
    session.commit()
    return page


@bp.route("/people/<int:person_id>/drafts", methods=["POST"])
@roles_required(*MENTORS)
def start_draft(person_id: int) -> ResponseReturnValue:
    """Start a new draft from the person's live version."""
    session = get_session()
    who = person_or_404(person_id)
    try:
        version = drafts.start_from_live(session, who, author=desk_user())
    except drafts.DraftError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("mentor.person", person_id=who.id), code=303)
    session.commit()
    return redirect(url_for("mentor.edit", version_id=version.id), code=303)


@bp.route("/drafts/<int:version_id>")
@roles_required(*MENTORS)
def draft(version_id: int) -> ResponseReturnValue:
    """Show a draft: what stops publishing, flagged words, changes and a preview."""
    session = get_session()
    version = draft_or_404(version_id)
    role = request.args.get("role")
    if role not in RESPONDER_KINDS:
        role = None
    seen = drafts.review(session, version, today=today(), rules=rules())
    oversight.read_plan_as_staff(session, desk_user(), version)
    page = render_template(
        "mentor/draft.html",
        version=version,
        person=version.person,
        review=seen,
        responses=agreement.responses_for(session, version),
        view=preview_view(version, role),
        role=role,
        roles=[(kind, ROLE_LABELS[kind]) for kind in RESPONDER_KINDS],
        is_lead=desk_user().role == "lead_clinician",
    )
    session.commit()
    return page


@bp.route("/drafts/<int:version_id>/edit", methods=["GET", "POST"])
@roles_required(*MENTORS)
def edit(version_id: int) -> ResponseReturnValue:
    """Edit a draft; a save that started from an older copy is refused and compared."""
    session = get_session()
    version = draft_or_404(version_id)
    context: dict[str, Any] = {
        "version": version,
        "person": version.person,
        "teams": None,
        "conflict": None,
        "notice": None,
        "problems": [],
    }
    if request.method == "GET":
        return render_form(
            {**context, "document": version.document, "edit_count": version.edit_count}
        )
    based_on = request.form.get("edit_count", type=int)
    state = read_form(request.form, version.document)
    action = request.form.get("action", "save")
    if action != "save":
        notice = change_rows(state, action)
        return render_form(
            {
                **context,
                "document": state.document,
                "edit_count": based_on,
                "notice": notice,
            }
        )
    if state.problems or based_on is None:
        return render_form(
            {
                **context,
                "document": state.document,
                "edit_count": based_on,
                "problems": state.problems or ["The form is incomplete: reload it"],
            },
            status=422,
        )
    mine = state.clean
    try:
        drafts.edit_draft(session, version, mine, editor=desk_user(), based_on=based_on)
        session.commit()
    except drafts.EditConflict as conflict:
        session.rollback()
        version = draft_or_404(version_id)
        changes = conflict.changes or drafts.diff_documents(
            version.document,
            drafts.as_draft_of(version, mine),
        )
        return render_form(
            {
                **context,
                "version": version,
                "document": state.document,
                # Saving again now is a deliberate choice made with the
                # differences in view.
                "edit_count": version.edit_count,
                "conflict": {"message": str(conflict), "changes": changes},
            },
            status=409,
        )
    except drafts.DraftError as error:
        session.rollback()
        return render_form(
            {
                **context,
                "document": state.document,
                "edit_count": based_on,
                "problems": [str(error)],
            },
            status=422,
        )
    flash("Draft saved.")
    return redirect(url_for("mentor.draft", version_id=version.id), code=303)


@bp.route("/drafts/<int:version_id>/submit", methods=["POST"])
@roles_required(*MENTORS)
def submit(version_id: int) -> ResponseReturnValue:
    """Submit a draft to the team's lead clinician."""
    session = get_session()
    version = draft_or_404(version_id)
    try:
        drafts.submit(
            session, version, mentor=desk_user(), today=today(), rules=rules()
        )
    except drafts.DraftError as error:
        session.rollback()
        for problem in getattr(error, "problems", None) or [str(error)]:
            flash(problem, "error")
        return redirect(url_for("mentor.draft", version_id=version_id), code=303)
    session.commit()
    flash("Submitted to the lead clinician for approval.")
    return redirect(url_for("mentor.draft", version_id=version_id), code=303)


@bp.route("/drafts/<int:version_id>/approve", methods=["GET", "POST"])
@roles_required("lead_clinician")
def approve(version_id: int) -> ResponseReturnValue:
    """Review a submitted draft, acknowledge flagged words, and publish it."""
    session = get_session()
    version = draft_or_404(version_id)
    seen = drafts.review(session, version, today=today(), rules=rules())
    refused: list[str] = []
    reasons: dict[str, str] = {}
    if request.method == "POST":
        reasons = {
            finding.key: request.form.get(f"ack-{index}", "")
            for index, finding in enumerate(seen.to_acknowledge)
        }
        if seen.capacity_review_needed:
            reasons[CAPACITY_KEY] = request.form.get("ack-capacity", "")
        try:
            drafts.publish(
                session,
                version,
                approver=desk_user(),
                acknowledgements=reasons,
                today=today(),
                rules=rules(),
            )
        except drafts.DraftError as error:
            session.rollback()
            refused = getattr(error, "problems", None) or [str(error)]
            version = draft_or_404(version_id)
        else:
            session.commit()
            flash(f"Version {version.version} is live; the one before is superseded.")
            return redirect(
                url_for("mentor.person", person_id=version.person_id), code=303
            )
    return (
        render_template(
            "mentor/approve.html",
            version=version,
            person=version.person,
            review=seen,
            refused=refused,
            reasons=reasons,
            min_reason=drafts.MIN_ACKNOWLEDGEMENT_LENGTH,
            min_review=MIN_REVIEW_LENGTH,
            agreement_channels=AGREEMENT_CHANNELS,
            agreement=plan_document.plan_of(version.document or {}).agreement,
            capacity_key=CAPACITY_KEY,
            view=preview_view(version, None),
        ),
        422 if refused else 200,
    )


@bp.route("/drafts/<int:version_id>/return", methods=["POST"])
@roles_required("lead_clinician")
def return_draft(version_id: int) -> ResponseReturnValue:
    """Send a submitted draft back to the mentors."""
    session = get_session()
    version = draft_or_404(version_id)
    try:
        drafts.return_to_mentor(session, version, approver=desk_user())
    except drafts.DraftError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        flash("Returned to the mentors.")
    return redirect(url_for("mentor.draft", version_id=version_id), code=303)


@bp.route("/drafts/<int:version_id>/discard", methods=["POST"])
@roles_required(*MENTORS)
def discard(version_id: int) -> ResponseReturnValue:
    """Discard a draft that never went live."""
    session = get_session()
    version = draft_or_404(version_id)
    person_id = version.person_id
    person_gone = drafts.discard_draft(session, version, by=desk_user())
    session.commit()
    flash("Draft discarded.")
    if person_gone:
        return redirect(url_for("mentor.index"), code=303)
    return redirect(url_for("mentor.person", person_id=person_id), code=303)


@bp.route("/people/<int:person_id>/retire", methods=["POST"])
@roles_required(*MENTORS)
def retire(person_id: int) -> ResponseReturnValue:
    """Retire the person's live plan; responders stop seeing it at once."""
    session = get_session()
    who = person_or_404(person_id)
    try:
        drafts.retire_plan(
            session,
            who,
            by=desk_user(),
            reason=request.form.get("reason", ""),
            person_told=request.form.get("person_told", ""),
        )
    except drafts.DraftError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("mentor.person", person_id=who.id), code=303)
    session.commit()
    flash(
        "The plan is retired. Responders no longer see it and its cards stop working."
    )
    return redirect(url_for("mentor.person", person_id=who.id), code=303)


@bp.route("/people/<int:person_id>/access")
@roles_required(*PLAN_STAFF)
def access_log(person_id: int) -> ResponseReturnValue:
    """Show who opened this person's plan, when, and on what basis."""
    session = get_session()
    who = person_or_404(person_id)
    return render_template(
        "mentor/access_log.html",
        person=who,
        grants=access.access_log(session, who),
        bases=access.BASES,
    )


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*MENTORS)
def import_documents() -> ResponseReturnValue:
    """Turn uploaded response-plan documents into drafts for the lead clinician."""
    if request.method == "GET":
        return render_template("mentor/import.html", outcomes=None, problems=[])
    upload = request.files.get("file")
    text = request.form.get("text", "")
    name = ""
    if upload is not None and upload.filename:
        name = upload.filename
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            return render_template(
                "mentor/import.html",
                outcomes=None,
                problems=["The file is not UTF-8 text."],
            ), 422
    if not text.strip():
        return render_template(
            "mentor/import.html",
            outcomes=None,
            problems=["Choose a file or paste a document."],
        ), 422
    parsed = reading.read_text(text, name=name)
    problems = [str(problem) for document in parsed for problem in document.problems]
    valid = [
        (document.position or "document", document.document)
        for document in parsed
        if document.valid and document.document is not None
    ]
    session = get_session()
    outcomes = drafts.draft_documents(
        session, valid, author=desk_user(), today=today(), rules=rules()
    )
    session.commit()
    refused = any(not document.valid for document in parsed)
    return render_template(
        "mentor/import.html", outcomes=outcomes, problems=problems
    ), (422 if refused else 200)
