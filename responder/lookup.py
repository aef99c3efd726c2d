"""Blueprint `lookup`: the responder's phone app.

Home (one search box, near me, scan a card), search results in minimal identity,
opening a plan on a stated basis, the plan page, and the PWA shell: manifest,
service worker and offline page. Personal pages are never cached anywhere
(no-store, and the service worker keeps only the shell).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from plans import access, clock, hours, lookup, photos, plan_view
from plans.models import Person, PlanVersion, Team, User
from plans.search import SearchResult
from responder.access import RESPONDERS, public, roles_required, signed_in
from responder.db import get_session
from responder.rows import person_by_ref_or_404
from responder.security import cacheable, limiter, search_rate

logger = logging.getLogger(__name__)

bp = Blueprint("lookup", __name__)

# The reason most people in each role open a plan: the one-tap button.
DEFAULT_BASIS: dict[str, str] = {
    "police": "attending_incident",
    "ambulance": "attending_incident",
    "emergency_department": "ed_attendance",
    "control_room": "control_room_incident",
    "mental_health_crisis_team": "crisis_assessment",
    "home_treatment_team": "crisis_assessment",
    "liaison_psychiatry": "crisis_assessment",
    "nhs_111_crisis_line": "crisis_call",
    "street_triage": "attending_incident",
    "liaison_and_diversion": "crisis_assessment",
}
# A card scan is a basis only the card route can state.
STATED_BASES = tuple(basis for basis in access.BASES if basis != "card_scan")
# Searches are counted per account by plans.lookup.find_plans on every channel
# (SEARCH_RATE_LIMITS); opening is limited here, per user, not per address,
# because a control room shares one.
OPEN_LIMIT = "30 per minute"
SHELL_FILES = (
    "css/app.css",
    "js/app.js",
    "js/open-now.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "sw.js",
)


def today() -> dt.date:
    """Return today's date in the UK, where plans are reviewed and read."""
    return clock.today()


def user_key() -> str:
    """Return the rate-limit key of the signed-in user."""
    return f"user:{current_user.get_id()}"


def viewer() -> User:
    """Return the signed-in user as the domain object."""
    user: User = current_user._get_current_object()
    return user


def endpoint_url(endpoint: str, **values: Any) -> str | None:
    """Return the URL of an endpoint, or None when it is not in this app."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def chat_configured() -> bool:
    """Say whether any chat channel is configured (Telegram, SMS or WhatsApp)."""
    config = current_app.config
    twilio = bool(config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN"))
    return bool(config.get("TELEGRAM_BOT_USERNAME")) or (
        twilio
        and bool(
            config.get("TWILIO_SMS_NUMBER") or config.get("TWILIO_WHATSAPP_NUMBER")
        )
    )


@bp.app_context_processor
def template_helpers() -> dict[str, Any]:
    """Give every template `endpoint_url` and `chat_configured` (for the masthead)."""
    return {"endpoint_url": endpoint_url, "chat_configured": chat_configured}


def live_version_or_none(person: Person) -> PlanVersion | None:
    """Return the person's live version (retired and superseded ones never show)."""
    return person.live_version(get_session())


def search_form_context(**extra: Any) -> dict[str, Any]:
    """Return what the search form needs."""
    context: dict[str, Any] = {
        "max_query_length": current_app.config["SEARCH_MAX_QUERY_LENGTH"],
        "query": "",
        "status_message": None,
    }
    context.update(extra)
    return context


def parse_position() -> tuple[float, float] | None:
    """Return the lat/lon the phone sent, or None when absent or not a place."""
    try:
        lat = float(request.args.get("lat", ""))
        lon = float(request.args.get("lon", ""))
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


@dataclass(frozen=True)
class ResultRow:
    """One search result as the page shows it: minimal identity and a link."""

    name: str
    age: int | None
    town: str | None
    team: str
    reasons: tuple[str, ...]
    review_overdue: bool
    href: str
    match: str = "weak"

    @property
    def match_words(self) -> str:
        """Return the match strength as the page says it."""
        return MATCH_WORDS.get(self.match, MATCH_WORDS["weak"])


MATCH_WORDS = {
    "strong": "Strong match",
    "possible": "Possible match",
    "weak": "Weak match",
}


def result_rows(user: User, results: list[SearchResult]) -> list[ResultRow]:
    """Link each result to its plan when already granted, else to the basis page."""
    session = get_session()
    refs = [result.ref for result in results]
    granted: set[str] = set()
    if refs:
        now = clock.now()
        granted = set(
            session.scalars(
                select(Person.ref)
                .join(access.AccessGrant, access.AccessGrant.person_id == Person.id)
                .where(
                    Person.ref.in_(refs),
                    access.AccessGrant.user_id == user.id,
                    access.AccessGrant.expires_at > now,
                    access.AccessGrant.revoked_at.is_(None),
                )
            )
        )
    return [
        ResultRow(
            name=result.name,
            age=result.age,
            town=result.town,
            team=result.team,
            reasons=result.reasons,
            review_overdue=result.review_overdue,
            match=getattr(result, "match", "weak"),
            href=url_for(
                "lookup.plan" if result.ref in granted else "lookup.open_plan",
                ref=result.ref,
            ),
        )
        for result in results
    ]


def shown_parameter() -> int:
    """Return how many results to show: the default, more on demand."""
    config = current_app.config
    raw = request.args.get("shown", "")
    wanted = int(raw) if raw.isdigit() else int(config["SEARCH_DEFAULT_LIMIT"])
    return max(1, min(wanted, int(config["SEARCH_MAX_LIMIT"])))


def run_search(text: str, position: tuple[float, float] | None) -> list[SearchResult]:
    """Search live plans through the domain, which checks, counts and audits."""
    session = get_session()
    lat, lon = position if position else (None, None)
    try:
        results = lookup.find_plans(
            session,
            viewer(),
            text,
            channel="web",
            lat=lat,
            lon=lon,
            limit=shown_parameter(),
            today=today(),
            rate=search_rate(current_app),
        )
    except lookup.SearchRefused as refused:
        session.commit()  # the count stands, so waiting is the only way on
        if refused.reason == "rate_limited":
            abort(429)
        abort(403)
    session.commit()
    return results


def render_results(
    text: str, position: tuple[float, float] | None, heading: str
) -> ResponseReturnValue:
    """Render a results page for what was typed and/or where the phone is."""
    results = run_search(text, position)
    rows = result_rows(viewer(), results)
    empty = (
        "No live plans match. Try fewer words, a nickname, what the person is "
        "wearing, or a nearby place."
        if text
        else "No live plans have places near you."
    )
    total = int(getattr(results, "total", len(rows)))
    more_href = None
    if len(rows) < total and len(rows) < current_app.config["SEARCH_MAX_LIMIT"]:
        args: dict[str, Any] = {
            key: value for key, value in request.args.items() if key != "shown"
        }
        more_href = url_for(
            request.endpoint or "lookup.search", **args, shown=len(rows) + 10
        )
    page = render_template(
        "lookup/results.html",
        **search_form_context(query=text),
        heading=heading,
        results=rows,
        empty_message=empty,
        total=total,
        total_is_lower_bound=bool(getattr(results, "at_least", False)),
        area_first=bool(getattr(results, "area_first", False)),
        any_strong=any(row.match == "strong" for row in rows),
        more_href=more_href,
    )
    return Response(page)


# -- pages ---------------------------------------------------------------------------


@bp.route("/")
@signed_in
def index() -> ResponseReturnValue:
    """Show the search box, near me and scan; staff go to their own desk."""
    user = viewer()
    if not user.is_responder:
        from responder.auth import home_for

        return redirect(home_for(user))
    return Response(render_template("lookup/index.html", **search_form_context()))


@bp.route("/search")
@roles_required(*RESPONDERS)
def search() -> ResponseReturnValue:
    """Search live plans by name, behaviour, description or place."""
    text = " ".join(request.args.get("q", "").split())
    limit = current_app.config["SEARCH_MAX_QUERY_LENGTH"]
    if len(text) > limit or "\x00" in text:
        page = render_template(
            "lookup/index.html",
            **search_form_context(
                status_message=f"Search words can be at most {limit} characters."
            ),
        )
        return Response(page, status=400)
    position = parse_position()
    if not text and position is None:
        return redirect(url_for("lookup.index"))
    heading = f"Results for “{text}”" if text else "Plans near you"
    if text and position:
        heading += " near you"
    return render_results(text, position, heading)


@bp.route("/near")
@roles_required(*RESPONDERS)
def near() -> ResponseReturnValue:
    """List plans with places near where the phone is."""
    position = parse_position()
    if position is None:
        page = render_template(
            "lookup/index.html",
            **search_form_context(
                status_message="Location not available. Allow location for this "
                "site, or type a street or place."
            ),
        )
        return Response(page, status=400)
    return render_results("", position, "Plans near you")


@bp.route("/scan")
@roles_required(*RESPONDERS)
def scan() -> ResponseReturnValue:
    """Scan a plan card's QR code with the camera, where the browser can."""
    return Response(render_template("lookup/scan.html"))


def identity(person: Person) -> dict[str, Any]:
    """Return the minimal identity shown before a plan is opened."""
    return {
        "ref": person.ref,
        "name": person.display_name,
        "age": person.age_on(today()),
        "town": person.town,
        "team": person.team.name,
    }


def render_open_page(
    person: Person,
    *,
    error: str | None = None,
    incident: str = "",
    agency: str = "",
    status: int = 200,
) -> ResponseReturnValue:
    """Render the page that asks why the plan is being opened."""
    user = viewer()
    role = user.role
    default = DEFAULT_BASIS.get(role, "attending_incident")
    reference_label, reference_hint = access.REFERENCE_HINTS.get(
        role, ("Incident number", "")
    )
    page = render_template(
        "lookup/open.html",
        person=identity(person),
        bases=access.BASES,
        default_basis=default,
        other_bases=[basis for basis in STATED_BASES if basis != default],
        incident=incident,
        incident_max_length=access.INCIDENT_MAX_LENGTH,
        agency=agency or access.default_agency(user),
        agency_max_length=access.AGENCY_MAX_LENGTH,
        reference_label=reference_label,
        reference_hint=reference_hint,
        error=error,
        back_url=url_for("lookup.index"),
    )
    return Response(page, status=status)


@bp.route("/open/<path:ref>", methods=["GET", "POST"])
@roles_required(*RESPONDERS)
@limiter.limit(OPEN_LIMIT, key_func=user_key, methods=["POST"])
def open_plan(ref: str) -> ResponseReturnValue:
    """Ask why the plan is needed; one tap grants it for the shift and opens it."""
    person = person_by_ref_or_404(ref, in_teams=False)
    if live_version_or_none(person) is None:
        abort(404)
    if request.method == "GET":
        return render_open_page(person)
    basis = request.form.get("basis", "")
    incident = request.form.get("incident", "")[:200]
    agency = request.form.get("agency", "")[:200]
    if basis not in STATED_BASES:
        return render_open_page(
            person,
            error="Choose a reason.",
            incident=incident,
            agency=agency,
            status=400,
        )
    session = get_session()
    try:
        access.open_plan(
            session,
            viewer(),
            person,
            basis=basis,
            channel="web",
            incident=incident,
            agency=agency,
        )
    except access.AccessRefused as refused:
        session.rollback()
        return render_open_page(
            person,
            error=str(refused).capitalize() + ".",
            incident=incident,
            agency=agency,
            status=400,
        )
    session.commit()
    return redirect(url_for("lookup.plan", ref=person.ref), code=303)


@bp.route("/plans/<path:ref>")
@roles_required(*RESPONDERS)
def plan(ref: str) -> ResponseReturnValue:
    """Show the live plan to a responder who has stated why they need it."""
    session = get_session()
    person = person_by_ref_or_404(ref, in_teams=False)
    user = viewer()
    try:
        version = lookup.view_plan(session, user, person, channel="web")
    except lookup.PlanNotOpen:
        return redirect(url_for("lookup.open_plan", ref=person.ref))
    if version is None:
        team = person.team
        page = render_template(
            "lookup/gone.html",
            name=person.display_name,
            team_name=team.name,
            team_phone=team.phone,
            team_tel=plan_view.tel_href(team.phone) if team.phone else None,
        )
        return Response(page, status=410)
    view = plan_view.build(
        version,
        user.role,
        today=today(),
        now=clock.now(),
        team_contacts=person.team.contacts,
    )
    photo = photos.current_photo(session, version)
    session.commit()
    page = render_template(
        "lookup/plan.html",
        view=view,
        photo=photo,
        photo_url=url_for("lookup.plan_photo", photo_id=photo.id) if photo else None,
    )
    return Response(page)


@bp.route("/plan-photos/<int:photo_id>")
@roles_required(*RESPONDERS)
def plan_photo(photo_id: int) -> ResponseReturnValue:
    """Send the person's photo, only inside a plan this responder has opened."""
    session = get_session()
    try:
        photo = photos.view_photo(session, viewer(), photo_id, channel="web")
    except photos.PhotoError:
        session.rollback()
        abort(404)
    session.commit()
    response = Response(photo.image, mimetype=photo.media_type)
    # Never in the HTTP cache, a shared cache or the service worker's.
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Disposition"] = "inline"
    return response


# -- the PWA shell ---------------------------------------------------------------------


@cache
def shell_version(static_folder: str) -> str:
    """Return a fingerprint of the shell files, so a new release refreshes caches."""
    digest = hashlib.sha256()
    for name in SHELL_FILES:
        path = Path(static_folder) / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:16]


@bp.route("/manifest.webmanifest")
@public
@cacheable
def manifest() -> ResponseReturnValue:
    """Describe the app for installing on a phone's home screen."""
    icon = "/static/icons/icon-{0}.png"
    document = {
        "name": "Responder",
        "short_name": "Responder",
        "description": "Crisis response plans for responders at scene.",
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#003087",
        "lang": "en-GB",
        "icons": [
            {"src": icon.format(size), "sizes": f"{size}x{size}", "type": "image/png"}
            for size in (192, 512)
        ]
        + [
            {
                "src": icon.format(512),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            }
        ],
    }
    return Response(json.dumps(document), mimetype="application/manifest+json")


@bp.route("/sw.js")
@public
@cacheable
def service_worker() -> ResponseReturnValue:
    """Serve the service worker from the root so it controls the whole app."""
    folder = str(current_app.static_folder)
    source = (Path(folder) / "sw.js").read_text(encoding="utf-8")
    body = source.replace("__SHELL_VERSION__", shell_version(folder))
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/offline")
@public
@cacheable
def offline() -> ResponseReturnValue:
    """Say the phone is offline, whom to phone now, and what still works.

    The service worker keeps this page, so it holds only what is public anyway
    (each team's lines and hours, as printed on cards); the phone's script picks
    the line open at the moment it is read.
    """
    session = get_session()
    moment = clock.now()
    teams = [
        {
            "name": team.name,
            "lines": hours.published_lines(team.contacts),
            "open": hours.number_open_now(team.contacts, moment),
        }
        for team in session.scalars(select(Team).order_by(Team.name))
        if team.phone or team.out_of_hours_phone or team.crisis_line
    ]
    return render_template("lookup/offline.html", shell_page=True, teams=teams)
