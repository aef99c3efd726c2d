"""Blueprint `portal`: demand, costs, graphs, reports, directory, self-assessment.

Mentors and lead clinicians see and enter their own teams' people's data; a team
lead reads the team's reports; the network role sees only aggregates with small
numbers suppressed. Responders never reach any of it. Every rule is in
`plans.portal`; the views parse, call, commit and respond.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from plans.clock import today
from plans.models import Person, Team, User
from plans.portal import assessment, costs, demand, directory, harms, reports
from plans.portal.models import SavedReport, SelfAssessment, TeamProfile
from plans.portal.pdf import render_report_pdf
from plans.portal.units import (
    DEFAULT_COSTS,
    SERVICE_LABELS,
    UNITS,
    UNITS_BY_CODE,
)
from responder.access import public, require_team, roles_required, web_roles
from responder.db import get_session
from responder.rows import get_or_404, person_or_404

bp = Blueprint("portal", __name__, url_prefix="/portal")

READERS = web_roles("read_demand")
ENTERERS = web_roles("enter_demand")
BUILDERS = web_roles("build_reports")
NETWORK = web_roles("read_network")
ASSESSORS = web_roles("assess_team")


@bp.context_processor
def _portal_helpers() -> dict[str, object]:
    return {
        "units_by_code": UNITS_BY_CODE,
        "service_labels": SERVICE_LABELS,
        "harm_kinds": harms.HARM_KINDS,
        "month_label": lambda m: m.strftime("%b %Y"),
    }


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _month_arg(default: dt.date) -> dt.date:
    raw = request.values.get("month", "")
    if not raw:
        return default
    try:
        return demand.parse_month(raw)
    except demand.DemandError:
        return default


# -- the portal's front page ----------------------------------------------------------


@bp.get("/")
@roles_required(*NETWORK)
def index() -> ResponseReturnValue:
    """List the user's teams and people, or the network's pages for the network role."""
    user = _user()
    teams = [] if user.role == "network" else sorted(user.teams, key=lambda t: t.name)
    people = {
        team.id: sorted(team.people, key=lambda p: p.family_name) for team in teams
    }
    return render_template("portal/index.html", teams=teams, people=people)


# -- a person -------------------------------------------------------------------------


@bp.get("/people/<int:person_id>")
@roles_required(*READERS)
def person(person_id: int) -> ResponseReturnValue:
    """Show a person's demand by service, its cost and the harms beside it."""
    session = get_session()
    found = person_or_404(person_id)
    portal = reports.person_portal(session, found, user=_user())
    return render_template(
        "portal/person.html",
        portal=portal,
        demand_chart=portal.demand_chart(),
        cost_chart=portal.cost_chart(),
        saved=reports.saved_reports(session, found.id),
        revisions=demand.revisions(session, found.id)[:20],
        event_kinds=harms.EVENT_KINDS,
        today=today(),
    )


@bp.get("/people/<int:person_id>/demand")
@roles_required(*ENTERERS)
def demand_form(person_id: int) -> ResponseReturnValue:
    """Show the month's counts for every unit, ready to enter or correct."""
    session = get_session()
    found = person_or_404(person_id)
    month = _month_arg(today().replace(day=1))
    grid = demand.demand_grid(session, [found.id], month, month)
    values = {unit: count for (_p, _m, unit), count in grid.items()}
    return render_template(
        "portal/demand.html", person=found, month=month, values=values, units=UNITS
    )


@bp.post("/people/<int:person_id>/demand")
@roles_required(*ENTERERS)
def save_demand(person_id: int) -> ResponseReturnValue:
    """Store the month's counts; a changed count is recorded as a correction."""
    session = get_session()
    found = person_or_404(person_id)
    counts: dict[str, int | None] = {}
    try:
        month = demand.parse_month(request.form.get("month", ""))
        for unit in UNITS:
            counts[unit.code] = demand.parse_count(request.form.get(unit.code, ""))
        tally = demand.set_counts(session, found, month, counts, by=_user())
    except demand.DemandError as error:
        session.rollback()
        flash(f"Nothing was saved: {error}.", "error")
        values = {u.code: request.form.get(u.code, "") for u in UNITS}
        return (
            render_template(
                "portal/demand.html",
                person=found,
                month=_month_arg(today().replace(day=1)),
                values=values,
                units=UNITS,
            ),
            400,
        )
    session.commit()
    flash(
        f"Saved {month:%B %Y}: {tally.added} new, {tally.updated} corrected, "
        f"{tally.unchanged} unchanged.",
        "ok",
    )
    following = (month + dt.timedelta(days=32)).replace(day=1)
    if request.form.get("next") == "1" and following <= today():
        return redirect(
            url_for(
                "portal.demand_form", person_id=found.id, month=f"{following:%Y-%m}"
            )
        )
    return redirect(url_for("portal.person", person_id=found.id))


@bp.post("/people/<int:person_id>/start")
@roles_required(*ENTERERS)
def set_start(person_id: int) -> ResponseReturnValue:
    """Record the day mentoring began (the baseline is the months before)."""
    session = get_session()
    found = person_or_404(person_id)
    try:
        started = dt.date.fromisoformat(request.form.get("started_on", ""))
        demand.set_mentoring_start(session, found, started, by=_user())
    except ValueError as error:  # DemandError is a ValueError too
        session.rollback()
        flash(f"Not saved: {error}.", "error")
        return redirect(url_for("portal.person", person_id=found.id))
    session.commit()
    flash("Mentoring start saved.", "ok")
    return redirect(url_for("portal.person", person_id=found.id))


@bp.post("/people/<int:person_id>/harms")
@roles_required(*ENTERERS)
def add_harm(person_id: int) -> ResponseReturnValue:
    """Record a death, an outside complaint or a serious incident."""
    session = get_session()
    found = person_or_404(person_id)
    try:
        occurred = dt.date.fromisoformat(request.form.get("occurred_on", ""))
        harms.record_harm(
            session, found, request.form.get("kind", ""), occurred, by=_user()
        )
    except ValueError as error:
        session.rollback()
        flash(f"Not saved: {error}.", "error")
        return redirect(url_for("portal.person", person_id=found.id))
    session.commit()
    flash("Recorded. It shows beside demand on every page and report.", "ok")
    return redirect(url_for("portal.person", person_id=found.id))


@bp.post("/people/<int:person_id>/reports")
@roles_required(*BUILDERS)
def build_report(person_id: int) -> ResponseReturnValue:
    """Build and save a dated report of the person's last 24 months."""
    session = get_session()
    found = person_or_404(person_id)
    report = reports.build_report(session, found, by=_user())
    session.commit()
    flash(f"Report {report.id} saved. Print it as PDF below.", "ok")
    return redirect(url_for("portal.report", report_id=report.id))


@bp.get("/reports/<int:report_id>")
@roles_required(*READERS)
def report(report_id: int) -> ResponseReturnValue:
    """Show a saved report, exactly as it was built."""
    session = get_session()
    saved = reports.read_report(
        session,
        get_or_404(
            SavedReport, report_id, team_of=lambda report: report.person.team_id
        ),
        user=_user(),
    )
    session.commit()
    return render_template("portal/report.html", report=saved, own=False)


@bp.get("/reports/<int:report_id>/report.pdf")
@roles_required(*READERS)
def report_pdf(report_id: int) -> ResponseReturnValue:
    """Download a saved report as PDF."""
    session = get_session()
    saved = reports.read_report(
        session,
        get_or_404(
            SavedReport, report_id, team_of=lambda report: report.person.team_id
        ),
        user=_user(),
    )
    session.commit()
    return _pdf(saved)


def _pdf(saved: SavedReport) -> Response:
    body = render_report_pdf(saved.content, built_on=saved.built_on, report_id=saved.id)
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="report-{saved.id}-{saved.built_on.isoformat()}.pdf"'
    )
    return response


# -- a team ---------------------------------------------------------------------------


@bp.get("/teams/<int:team_id>")
@roles_required(*READERS)
def team(team_id: int) -> ResponseReturnValue:
    """Show the team's XmR charts per minimum data set, its cost and harms."""
    session = get_session()
    found = get_or_404(Team, team_id, team_of=lambda team: team.id)
    report = reports.team_report(session, found, user=_user())
    return render_template(
        "portal/team.html",
        report=report,
        xmr_charts=report.xmr_charts(),
        cost_chart=report.cost_chart(),
        yearly=costs.yearly(report.costs, report.months),
    )


@bp.get("/teams/<int:team_id>/import")
@roles_required(*ENTERERS)
def import_form(team_id: int) -> ResponseReturnValue:
    """Show the agency import form and the template's columns."""
    return render_template(
        "portal/import.html",
        team=get_or_404(Team, team_id, team_of=lambda team: team.id),
        units=UNITS,
        problems=[],
    )


@bp.post("/teams/<int:team_id>/import")
@roles_required(*ENTERERS)
def import_demand(team_id: int) -> ResponseReturnValue:
    """Import an agency's CSV: all of it, or nothing with every bad line named."""
    session = get_session()
    found = get_or_404(Team, team_id, team_of=lambda team: team.id)
    upload = request.files.get("file")
    raw = upload.read(demand.MAX_IMPORT_BYTES + 1) if upload else b""
    try:
        tally = demand.import_csv(
            session, found, raw, agency=request.form.get("agency", ""), by=_user()
        )
    except demand.ImportRefused as refused:
        session.rollback()
        return (
            render_template(
                "portal/import.html", team=found, units=UNITS, problems=refused.problems
            ),
            400,
        )
    except demand.DemandError as error:
        session.rollback()
        flash(f"Nothing was imported: {error}.", "error")
        return redirect(url_for("portal.import_form", team_id=found.id))
    session.commit()
    flash(
        f"Imported for {len(tally.people)} people: {tally.added} new, "
        f"{tally.updated} corrected, {tally.unchanged} unchanged.",
        "ok",
    )
    return redirect(url_for("portal.team", team_id=found.id))


@bp.get("/import-template.csv")
@roles_required(*ENTERERS)
def import_template() -> ResponseReturnValue:
    """Download the CSV template: the header and one synthetic example line."""
    minimum = [u.code for u in UNITS if u.minimum]
    body = "person_ref,month," + ",".join(minimum) + "\n"
    body += "TEAM/00001,2026-01," + ",".join("0" for _ in minimum) + "\n"
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="demand.csv"'
    return response


@bp.get("/teams/<int:team_id>/costs")
@roles_required(*ENTERERS)
def costs_page(team_id: int) -> ResponseReturnValue:
    """Show the team's dated unit costs beside the illustrative defaults."""
    session = get_session()
    found = get_or_404(Team, team_id, team_of=lambda team: team.id)
    return render_template(
        "portal/costs.html",
        team=found,
        own=costs.team_costs(session, found.id),
        defaults=DEFAULT_COSTS,
        units=UNITS,
        today=today(),
    )


@bp.post("/teams/<int:team_id>/costs")
@roles_required(*ENTERERS)
def set_cost(team_id: int) -> ResponseReturnValue:
    """Record a unit's cost from a month on."""
    session = get_session()
    found = get_or_404(Team, team_id, team_of=lambda team: team.id)
    try:
        costs.set_unit_cost(
            session,
            found,
            request.form.get("unit", ""),
            costs.parse_pounds(request.form.get("pounds", "")),
            valid_from=demand.parse_month(request.form.get("valid_from", "")),
            source=request.form.get("source", ""),
            by=_user(),
        )
    except demand.DemandError as error:
        session.rollback()
        flash(f"Not saved: {error}.", "error")
        return redirect(url_for("portal.costs_page", team_id=found.id))
    session.commit()
    flash("Cost saved; months from that date use it.", "ok")
    return redirect(url_for("portal.costs_page", team_id=found.id))


# -- the network ----------------------------------------------------------------------


@bp.get("/network")
@roles_required(*NETWORK)
def network() -> ResponseReturnValue:
    """Show every team's yearly totals, counts under five suppressed."""
    rows = reports.network_aggregates(get_session(), user=_user())
    return render_template(
        "portal/network.html", rows=rows, units=[u for u in UNITS if u.minimum]
    )


@bp.get("/directory")
@roles_required(*NETWORK)
def directory_page() -> ResponseReturnValue:
    """Find the teams covering a town or place ("who covers here?")."""
    place = request.args.get("place", "")[:100]
    entries = directory.directory(get_session(), user=_user(), place=place)
    return render_template("portal/directory.html", entries=entries, place=place)


@bp.get("/experience")
@roles_required(*NETWORK)
def experience() -> ResponseReturnValue:
    """Find teams with experience of a crisis behaviour, never naming a person."""
    words = request.args.get("q", "")[:200]
    labels: list[str] = []
    found: list[directory.Experience] = []
    error = None
    if words.strip():
        try:
            labels, found = directory.behaviour_experience(
                get_session(), words, user=_user()
            )
        except demand.DemandError as refused:
            error = str(refused)
    return render_template(
        "portal/experience.html", words=words, labels=labels, found=found, error=error
    )


@bp.get("/teams/<int:team_id>/profile")
@roles_required(*ASSESSORS)
def profile_form(team_id: int) -> ResponseReturnValue:
    """Show the team's directory entry for editing."""
    found = get_or_404(Team, team_id, team_of=lambda team: team.id)
    return render_template(
        "portal/profile.html",
        team=found,
        profile=get_session().get(TeamProfile, found.id),
    )


@bp.post("/teams/<int:team_id>/profile")
@roles_required(*ASSESSORS)
def save_profile(team_id: int) -> ResponseReturnValue:
    """Save the team's directory entry."""
    session = get_session()
    found = get_or_404(Team, team_id, team_of=lambda team: team.id)
    form = request.form
    try:
        directory.update_profile(
            session,
            found,
            by=_user(),
            police_force_area=form.get("police_force_area", ""),
            icb=form.get("icb", ""),
            towns=form.get("towns", ""),
            member_agencies=form.get("member_agencies", ""),
            mentors=form.get("mentors", ""),
            declared_experience=form.get("declared_experience", ""),
        )
    except demand.DemandError as error:
        session.rollback()
        flash(f"Not saved: {error}.", "error")
        return redirect(url_for("portal.profile_form", team_id=found.id))
    session.commit()
    flash("Directory entry saved.", "ok")
    return redirect(url_for("portal.directory_page"))


@bp.get("/teams/<int:team_id>/assessments")
@roles_required(*ASSESSORS)
def assessments(team_id: int) -> ResponseReturnValue:
    """Show the team's self-assessment history and the form for a new visit."""
    session = get_session()
    found = get_or_404(Team, team_id, team_of=lambda team: team.id)
    visits = assessment.history(session, found, user=_user())
    return render_template(
        "portal/assessments.html",
        team=found,
        visits=visits,
        measures=assessment.MEASURES,
        score_labels=assessment.SCORE_LABELS,
        score_of=assessment.score_of,
        latest_chart=assessment.chart(visits[0]) if visits else None,
        today=today(),
    )


@bp.post("/teams/<int:team_id>/assessments")
@roles_required(*ASSESSORS)
def save_assessment(team_id: int) -> ResponseReturnValue:
    """Record one support visit's scores and notes."""
    session = get_session()
    found = get_or_404(Team, team_id, team_of=lambda team: team.id)
    form = request.form
    try:
        row = assessment.save_assessment(
            session,
            found,
            by=_user(),
            visited_on=dt.date.fromisoformat(form.get("visited_on", "")),
            scores={
                m.code: (
                    form.get(f"score-{m.code}", ""),
                    form.get(f"evidence-{m.code}", ""),
                )
                for m in assessment.MEASURES
            },
            worked_well=form.get("worked_well", ""),
            still_hard=form.get("still_hard", ""),
            learn_from=form.get("learn_from", ""),
        )
    except ValueError as error:
        session.rollback()
        flash(f"Not saved: {error}.", "error")
        return redirect(url_for("portal.assessments", team_id=found.id))
    session.commit()
    flash("Visit recorded.", "ok")
    return redirect(url_for("portal.assessment_record", assessment_id=row.id))


@bp.get("/assessments/<int:assessment_id>")
@roles_required(*ASSESSORS)
def assessment_record(assessment_id: int) -> ResponseReturnValue:
    """Show one visit's record, ready to print."""
    session = get_session()
    found = session.get(SelfAssessment, assessment_id)
    if found is None:
        abort(404)
    require_team(found.team_id)
    row = assessment.visit(session, assessment_id, user=_user())
    if row is None:
        abort(404)
    return render_template(
        "portal/assessment.html",
        row=row,
        measures=assessment.MEASURES,
        score_labels=assessment.SCORE_LABELS,
        score_of=assessment.score_of,
        chart=assessment.chart(row),
    )


# -- the person's own reports ---------------------------------------------------------
#
# Under /me, where the person's own-view cookie is scoped (responder.person).

own_bp = Blueprint("portal_own", __name__, url_prefix="/me/reports")


def _own_person() -> Person:
    from responder.person import current_person_or_abort

    return current_person_or_abort(404)


@own_bp.get("/")
@public
def own_reports() -> ResponseReturnValue:
    """List the person's own saved reports."""
    from responder.person import current_person

    found = current_person()
    if found is None:
        return redirect(url_for("person.pin_form"))
    saved = reports.saved_reports(get_session(), found.id)
    return render_template("portal/own_reports.html", reports=saved)


def _own_report(report_id: int) -> SavedReport:
    found = _own_person()
    report = get_session().get(SavedReport, report_id)
    if report is None or report.person_id != found.id:
        abort(404)
    return reports.read_report(get_session(), report, person=found)


@own_bp.get("/<int:report_id>")
@public
def own_report(report_id: int) -> ResponseReturnValue:
    """Show the person one of their own reports, with their comments."""
    saved = _own_report(report_id)
    get_session().commit()
    return render_template("portal/report.html", report=saved, own=True)


@own_bp.get("/<int:report_id>/report.pdf")
@public
def own_report_pdf(report_id: int) -> ResponseReturnValue:
    """Download one of the person's own reports as PDF."""
    saved = _own_report(report_id)
    get_session().commit()
    return _pdf(saved)


@own_bp.post("/<int:report_id>/comment")
@public
def own_comment(report_id: int) -> ResponseReturnValue:
    """Add the person's comment to one of their own reports."""
    session = get_session()
    found = _own_person()
    report = session.get(SavedReport, report_id)
    if report is None or report.person_id != found.id:
        abort(404)
    try:
        reports.comment_on_report(session, found, report, request.form.get("text", ""))
    except demand.DemandError as error:
        session.rollback()
        flash(f"Not saved: {error}.", "error")
        return redirect(url_for("portal_own.own_report", report_id=report_id))
    session.commit()
    flash("Thank you: your comment is saved with the report.", "ok")
    return redirect(url_for("portal_own.own_report", report_id=report_id))
