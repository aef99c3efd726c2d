"""Blueprint `cases`: the High Intensity User group's month, and each case.

Mentors and lead clinicians of a group upload the agencies' monthly lists,
confirm or reject proposed matches, read the month ranked by intensity, open a
case, allocate mentors, record the lead clinician's permission and the person's
answers, and draft the first plan. Every rule is in `plans.cases`; these views
parse, call one domain function, commit and respond. Responders have no page
here: a person's refusal is never visible to them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from plans import clock, drafts
from plans.cases import (
    borders,
    contacts,
    guard,
    linking,
    lists,
    meetings,
    ranking,
    workflow,
)
from plans.cases.intensity import CONTACT_TYPES, LIKELIHOOD_BANDS, RISK_BANDS
from plans.cases.models import (
    AGENCIES,
    AGENCY_LABELS,
    CONSENT_ANSWERS,
    CONTACT_KINDS,
    Case,
    Meeting,
)
from plans.clock import iso_date
from plans.models import Team, User
from responder.access import roles_required, web_roles
from responder.db import get_session

bp = Blueprint("cases", __name__, url_prefix="/cases")

CASE_STAFF = web_roles("manage_cases")
PERMISSION_ROLES = web_roles("give_permission")
# Larger uploads stream their progress while the rows are checked.
STREAM_FROM_ROWS = 2 * lists.PROGRESS_EVERY


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "agency_labels": AGENCY_LABELS,
        "contact_types": CONTACT_TYPES,
        "police_mentor": guard.is_police_mentor(_user()),
    }


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _team() -> Team:
    """Return the group the page is for: ?team=CODE, or the user's first team."""
    teams = sorted(_user().teams, key=lambda team: team.code)
    code = request.values.get("team")
    for team in teams:
        if code in (None, "", team.code):
            return team
    abort(404)


def _month() -> dt.date:
    text = request.values.get("month", "")
    if text:
        try:
            return lists.month_of(text)
        except ValueError:
            pass
    return clock.today().replace(day=1)


def case_or_404(case_id: int) -> Case:
    """Return a case of the user's groups, or abort 404."""
    try:
        return workflow.get_case(get_session(), case_id, by=_user(), channel="web")
    except (LookupError, guard.CaseRefused):
        abort(404)


@bp.get("/")
@roles_required(*CASE_STAFF)
def index() -> ResponseReturnValue:
    """Show the user's caseload: their people, reviews due, what is missing."""
    lines = workflow.caseload(
        get_session(), _user(), channel="web", today=clock.today()
    )
    return render_template("cases/caseload.html", lines=lines, today=clock.today())


@bp.route("/lists", methods=["GET", "POST"])
@roles_required(*CASE_STAFF)
def upload() -> ResponseReturnValue:
    """Upload an agency's monthly list: all of it, or nothing with every problem."""
    team = _team()
    if request.method == "GET":
        return render_template(
            "cases/upload.html",
            team=team,
            agencies=AGENCIES,
            problems=[],
            month=_month(),
            template_header=lists.TEMPLATE_HEADER,
        )
    agency = request.form.get("agency", "")
    problems: list[str] = []
    try:
        month = lists.month_of(request.form.get("month", ""))
    except ValueError as error:
        problems.append(str(error))
        month = _month()
    upload_file = request.files.get("file")
    text = ""
    if upload_file is None or not upload_file.filename:
        problems.append("Choose the list's CSV file.")
    else:
        try:
            text = upload_file.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.append("The file is not UTF-8 text: save it as CSV UTF-8.")
    if problems:
        return render_template(
            "cases/upload.html",
            team=team,
            agencies=AGENCIES,
            problems=problems,
            month=month,
            template_header=lists.TEMPLATE_HEADER,
        ), 422
    if text.count("\n") >= STREAM_FROM_ROWS:
        return Response(
            stream_with_context(_streamed_upload(team, agency, month, text)),
            mimetype="text/html",
        )
    try:
        agency_list = lists.upload_list(
            get_session(),
            text,
            team=team,
            agency=agency,
            month=month,
            by=_user(),
            channel="web",
        )
    except lists.ListRefused as refused:
        get_session().rollback()
        return render_template(
            "cases/upload.html",
            team=team,
            agencies=AGENCIES,
            problems=[str(p) for p in refused.problems],
            month=month,
            template_header=lists.TEMPLATE_HEADER,
        ), 422
    get_session().commit()
    flash(
        f"{AGENCY_LABELS[agency]} list for {month:%B %Y}: "
        f"{agency_list.row_count} rows stored.",
        "success",
    )
    return redirect(url_for("cases.matches", team=team.code))


def _streamed_upload(
    team: Team, agency: str, month: dt.date, text: str
) -> Iterator[str]:
    """Stream the page: a count of rows checked so far, then the outcome."""
    about = max(text.count("\n") - 1, 1)
    yield render_template("cases/upload_progress_head.html", team=team, about=about)
    reading = lists.reading_list(text, month=month)
    while True:
        try:
            count = next(reading)
        except StopIteration as done:
            checked: lists.Checked = done.value
            break
        yield render_template(
            "cases/upload_progress_step.html", count=count, about=about
        )
    session = get_session()
    try:
        agency_list = lists.upload_list(
            session,
            text,
            team=team,
            agency=agency,
            month=month,
            by=_user(),
            channel="web",
            checked=checked,
        )
    except lists.ListRefused as refused:
        session.rollback()
        yield render_template(
            "cases/upload_progress_end.html",
            team=team,
            agency_list=None,
            problems=[str(p) for p in refused.problems],
        )
        return
    session.commit()
    yield render_template(
        "cases/upload_progress_end.html",
        team=team,
        agency_list=agency_list,
        problems=[],
    )


@bp.get("/matches")
@roles_required(*CASE_STAFF)
def matches() -> ResponseReturnValue:
    """List the proposed matches waiting for a person's decision."""
    team = _team()
    proposals = linking.pending(get_session(), team.id, by=_user(), channel="web")
    return render_template("cases/matches.html", team=team, proposals=proposals)


@bp.post("/matches/<int:proposal_id>")
@roles_required(*CASE_STAFF)
def decide(proposal_id: int) -> ResponseReturnValue:
    """Confirm or reject one proposed match; nothing is merged without this."""
    choice = request.form.get("decision")
    if choice not in ("confirm", "reject"):
        abort(400)
    session = get_session()
    try:
        outcome = linking.decide(
            session, proposal_id, confirm=choice == "confirm", by=_user(), channel="web"
        )
    except (LookupError, guard.CaseRefused):
        abort(404)
    session.commit()
    if not outcome.changed:
        flash("Someone else decided this proposal first.", "info")
    return redirect(url_for("cases.matches", team=request.form.get("team")))


@bp.get("/ranking")
@roles_required(*CASE_STAFF)
def ranked() -> ResponseReturnValue:
    """Show the month's people ranked by intensity, with their trend."""
    team = _team()
    month = _month()
    session = get_session()
    people = ranking.ranked_month(session, team, month, by=_user(), channel="web")
    return render_template(
        "cases/ranking.html",
        team=team,
        month=month,
        people=people,
        waiting=linking.pending_count(session, team.id),
        likelihood_bands=LIKELIHOOD_BANDS,
        risk_bands=RISK_BANDS,
    )


@bp.post("/open")
@roles_required(*CASE_STAFF)
def open_case() -> ResponseReturnValue:
    """Open a case for a listed person (or go to the one already open)."""
    try:
        entry_id = int(request.form.get("entry_id", ""))
        case = workflow.open_case(get_session(), entry_id, by=_user(), channel="web")
    except (ValueError, LookupError, guard.CaseRefused):
        abort(404)
    get_session().commit()
    return redirect(url_for("cases.case", case_id=case.id))


@bp.get("/<int:case_id>")
@roles_required(*CASE_STAFF)
def case(case_id: int) -> ResponseReturnValue:
    """Show one case: allocation, permission, consent and the first plan."""
    found = case_or_404(case_id)
    staff = workflow.team_staff(get_session(), found.team_id)
    return render_template(
        "cases/case.html",
        case=found,
        staff=staff,
        is_police_mentor=guard.is_police_mentor,
        cure=workflow.CURE,
        answers=[a for a in CONSENT_ANSWERS],
        refusal=workflow.drafting_refusal(found),
        permission_granted=workflow.permission_granted(found),
        consent=workflow.consent_answer(found),
        rows=linking.rows_of_person(get_session(), found.team_id, found.entry_id),
        contact_log=contacts.summary(get_session(), found),
        contact_kinds=CONTACT_KINDS,
        kind_words=contacts.KIND_WORDS,
        today=clock.today(),
    )


def _optional_int(name: str) -> int | None:
    value = request.form.get(name, "")
    return int(value) if value.isdigit() else None


def _done(case_id: int, message: str) -> ResponseReturnValue:
    get_session().commit()
    flash(message, "success")
    return redirect(url_for("cases.case", case_id=case_id))


def _refused(case_id: int, error: Exception) -> ResponseReturnValue:
    get_session().rollback()
    flash(str(error), "error")
    return redirect(url_for("cases.case", case_id=case_id)), 303


@bp.post("/<int:case_id>/allocate")
@roles_required(*CASE_STAFF)
def allocate(case_id: int) -> ResponseReturnValue:
    """Allocate the clinician mentor, police partner mentor and lead clinician."""
    found = case_or_404(case_id)
    try:
        workflow.allocate(
            get_session(),
            found,
            clinician_mentor_id=_optional_int("clinician_mentor"),
            police_mentor_id=_optional_int("police_mentor"),
            lead_clinician_id=_optional_int("lead_clinician"),
            by=_user(),
            channel="web",
        )
    except workflow.CaseError as error:
        return _refused(case_id, error)
    return _done(case_id, "Mentors and lead clinician allocated.")


@bp.post("/<int:case_id>/permission")
@roles_required(*PERMISSION_ROLES)
def permission(case_id: int) -> ResponseReturnValue:
    """Record the named lead clinician's permission (C-U-R-E, benefit, no harm)."""
    found = case_or_404(case_id)
    try:
        recorded = workflow.record_permission(
            get_session(),
            found,
            capacity={key: request.form.get(key) == "yes" for key, _ in workflow.CURE},
            likely_benefit=request.form.get("likely_benefit") == "yes",
            no_disruption=request.form.get("no_disruption") == "yes",
            notes=request.form.get("notes"),
            by=_user(),
            channel="web",
        )
    except (workflow.CaseError, guard.CaseRefused) as error:
        return _refused(case_id, error)
    return _done(
        case_id,
        "Permission given." if recorded.granted else "Recorded: permission not given.",
    )


@bp.post("/<int:case_id>/capacity")
@roles_required(*CASE_STAFF)
def capacity_changed(case_id: int) -> ResponseReturnValue:
    """Record a change in capacity: the lead clinician must look again."""
    found = case_or_404(case_id)
    workflow.record_capacity_change(get_session(), found, by=_user(), channel="web")
    return _done(case_id, "Capacity change recorded; permission must be reviewed.")


@bp.post("/<int:case_id>/consent")
@roles_required(*CASE_STAFF)
def consent(case_id: int) -> ResponseReturnValue:
    """Record an invitation, or the person's answer in their own words."""
    found = case_or_404(case_id)
    answer = request.form.get("answer", "")
    try:
        workflow.record_consent(
            get_session(),
            found,
            answer,
            person_words=request.form.get("person_words"),
            by=_user(),
            channel="web",
        )
    except workflow.CaseError as error:
        return _refused(case_id, error)
    return _done(case_id, "Recorded.")


@bp.post("/<int:case_id>/nominees")
@roles_required(*CASE_STAFF)
def nominee(case_id: int) -> ResponseReturnValue:
    """Record what one family member or friend may be told, and until when."""
    found = case_or_404(case_id)
    until_text = request.form.get("until", "")
    try:
        until = dt.date.fromisoformat(until_text) if until_text else None
        workflow.record_nominee(
            get_session(),
            found,
            nominee=request.form.get("nominee", ""),
            relationship=request.form.get("relationship"),
            may_be_told=request.form.get("may_be_told", ""),
            until=until,
            by=_user(),
            channel="web",
        )
    except ValueError as error:
        return _refused(case_id, error)
    return _done(case_id, "Nominated person recorded.")


@bp.post("/nominees/<int:nominee_id>/withdraw")
@roles_required(*CASE_STAFF)
def withdraw_nominee(nominee_id: int) -> ResponseReturnValue:
    """Record that the person withdrew consent for one nominated person."""
    try:
        row = workflow.withdraw_nominee(
            get_session(), nominee_id, by=_user(), channel="web"
        )
    except (LookupError, guard.CaseRefused):
        abort(404)
    return _done(row.case_id, "Consent for that person withdrawn.")


@bp.post("/<int:case_id>/draft")
@roles_required(*CASE_STAFF)
def draft(case_id: int) -> ResponseReturnValue:
    """Draft the case's first plan, once permission and consent allow it."""
    found = case_or_404(case_id)
    try:
        version = workflow.draft_first_plan(
            get_session(), found, by=_user(), channel="web"
        )
    except drafts.DraftError as error:
        return _refused(case_id, error)
    get_session().commit()
    return redirect(url_for("mentor.draft", version_id=version.id))


# --- the meeting ------------------------------------------------------------------

ATTENDEE_ROWS = 8


def _questions() -> tuple[str, ...]:
    configured = current_app.config.get("CASE_MEETING_QUESTIONS")
    return tuple(configured) if configured else meetings.DEFAULT_QUESTIONS


def _form_date(name: str) -> dt.date | None:
    text = request.form.get(name, "").strip()
    day = iso_date(text)
    if text and day is None:
        raise ValueError(f"write {name.replace('_', ' ')} as YYYY-MM-DD")
    return day


@bp.route("/meetings", methods=["GET", "POST"])
@roles_required(*CASE_STAFF)
def meetings_page() -> ResponseReturnValue:
    """List the group's meetings and record a new one: date and attendees."""
    team = _team()
    session = get_session()
    problem = None
    if request.method == "POST":
        attendees = [
            (
                request.form.get(f"attendee_{n}", ""),
                request.form.get(f"agency_{n}", ""),
            )
            for n in range(ATTENDEE_ROWS)
        ]
        try:
            held_on = _form_date("held_on") or clock.today()
            meeting = meetings.record_meeting(
                session,
                team,
                held_on=held_on,
                attendees=attendees,
                questions=_questions(),
                by=_user(),
                channel="web",
            )
        except ValueError as error:
            session.rollback()
            problem = str(error)
        else:
            session.commit()
            return redirect(url_for("cases.meeting", meeting_id=meeting.id))
    return render_template(
        "cases/meetings.html",
        team=team,
        problem=problem,
        meetings=meetings.meetings_of(session, team, by=_user(), channel="web"),
        rows=range(ATTENDEE_ROWS),
        agencies=meetings.ATTENDEE_AGENCIES,
        questions=_questions(),
        today=clock.today(),
    ), (422 if problem else 200)


def meeting_or_404(meeting_id: int) -> Meeting:
    """Return a meeting of the user's groups, or abort 404."""
    try:
        return meetings.get_meeting(
            get_session(), meeting_id, by=_user(), channel="web"
        )
    except LookupError:
        abort(404)


@bp.get("/meetings/<int:meeting_id>")
@roles_required(*CASE_STAFF)
def meeting(meeting_id: int) -> ResponseReturnValue:
    """Show a meeting: attendees, each person discussed, and the form for the next."""
    found = meeting_or_404(meeting_id)
    team = get_session().get(Team, found.team_id)
    return render_template(
        "cases/meeting.html",
        meeting=found,
        team=team,
        cases=workflow.team_cases(
            get_session(), found.team_id, by=_user(), channel="web"
        ),
        answers=meetings.ANSWERS,
        decisions=meetings.DECISION_WORDS,
    )


@bp.post("/meetings/<int:meeting_id>/discuss")
@roles_required(*CASE_STAFF)
def discuss(meeting_id: int) -> ResponseReturnValue:
    """Record the group's answers, decision, reasons and next review for one case."""
    found = meeting_or_404(meeting_id)
    session = get_session()
    try:
        case_id = int(request.form.get("case_id", ""))
        discussed = workflow.get_case(session, case_id, by=_user(), channel="web")
        meetings.record_discussion(
            session,
            found,
            discussed,
            answers={
                question: request.form.get(f"answer_{n}", "")
                for n, question in enumerate(found.questions)
            },
            decision=request.form.get("decision", ""),
            reasons=request.form.get("reasons", ""),
            next_review=_form_date("next_review"),
            by=_user(),
            channel="web",
        )
    except (ValueError, LookupError) as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        flash("Discussion recorded.", "success")
    return redirect(url_for("cases.meeting", meeting_id=meeting_id))


# --- contacts -----------------------------------------------------------------------


@bp.post("/<int:case_id>/contacts")
@roles_required(*CASE_STAFF)
def contact(case_id: int) -> ResponseReturnValue:
    """Log a contact: date, kind, the trust record's reference, the next contact."""
    found = case_or_404(case_id)
    try:
        contacts.record_contact(
            get_session(),
            found,
            on=_form_date("on") or clock.today(),
            kind=request.form.get("kind", ""),
            trust_reference=request.form.get("trust_reference"),
            next_contact=_form_date("next_contact"),
            by=_user(),
            channel="web",
        )
    except ValueError as error:
        return _refused(case_id, error)
    return _done(case_id, "Contact logged.")


# --- across borders ------------------------------------------------------------------


@bp.get("/borders")
@roles_required(*CASE_STAFF)
def borders_page() -> ResponseReturnValue:
    """Show questions to and from other groups, and ask a new one."""
    team = _team()
    session = get_session()
    others = session.scalars(select(Team).where(Team.id != team.id).order_by(Team.name))
    return render_template(
        "cases/borders.html",
        team=team,
        others=list(others),
        incoming=borders.incoming(session, team, by=_user(), channel="web"),
        outgoing=borders.outgoing(session, team, by=_user(), channel="web"),
        entry_id=request.args.get("entry_id", type=int),
    )


@bp.post("/borders/ask")
@roles_required(*CASE_STAFF)
def ask_border() -> ResponseReturnValue:
    """Ask another group whether a name on our list is known to them."""
    session = get_session()
    to_team = session.scalar(
        select(Team).where(Team.code == request.form.get("to_team"))
    )
    if to_team is None:
        abort(404)
    try:
        question = borders.ask(
            session,
            int(request.form.get("entry_id", "")),
            to_team=to_team,
            by=_user(),
            channel="web",
        )
    except (LookupError, guard.CaseRefused):
        abort(404)
    except ValueError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("cases.borders_page", team=request.form.get("team")))
    session.commit()
    flash(f"Asked {to_team.name}.", "success")
    team = session.get(Team, question.from_team_id)
    return redirect(url_for("cases.borders_page", team=team.code if team else None))


@bp.get("/borders/<int:question_id>")
@roles_required(*CASE_STAFF)
def border_question(question_id: int) -> ResponseReturnValue:
    """Show a question from another group with our rows that may match."""
    session = get_session()
    try:
        found = borders.candidates(session, question_id, by=_user(), channel="web")
    except LookupError:
        abort(404)
    from plans.cases.models import BorderQuestion

    question = session.get(BorderQuestion, question_id)
    return render_template(
        "cases/border_question.html",
        question=question,
        candidates=found,
        team=question.to_team if question else None,
    )


@bp.post("/borders/<int:question_id>/answer")
@roles_required(*CASE_STAFF)
def answer_border(question_id: int) -> ResponseReturnValue:
    """Answer with a contact after confirming a match, or say the name is not known."""
    session = get_session()
    confirmed = request.form.get("entry_id", "")
    try:
        question = borders.answer(
            session,
            question_id,
            confirmed_entry_id=int(confirmed) if confirmed.isdigit() else None,
            contact=request.form.get("contact"),
            by=_user(),
            channel="web",
        )
    except LookupError:
        abort(404)
    except ValueError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("cases.border_question", question_id=question_id))
    session.commit()
    flash("Answered.", "success")
    return redirect(url_for("cases.borders_page", team=question.to_team.code))
