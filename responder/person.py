"""Blueprint `person`: the person's own view of their plan, reached with their PIN.

The person's session is separate from staff sign-in: its own cookie, scoped to
/me, holding a random token whose digest is a server-side record with a short
lifetime. Every page here is personal, so none of it may be cached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from plans import agreement, card_keys, cards, clock, people
from plans.models import Person, PlanVersion
from plans.publish_rules import AGREEMENT_CHANNELS
from responder.access import public
from responder.cards import current_keys
from responder.db import get_session
from responder.security import limiter

bp = Blueprint("person", __name__, url_prefix="/me")

COOKIE = "responder_person"
PIN_LIMIT = "10 per minute"
# A card in any of these states still proves who holds it: a person whose plan
# was retired may still read their history and the answers to their requests.
PIN_STATES = ("valid", "retired", "no_plan")


def current_person() -> Person | None:
    """Return the person signed in to their own view, or None."""
    if "person" not in g:
        token = request.cookies.get(COOKIE, "")
        g.person = people.person_for_token(get_session(), token) if token else None
    person: Person | None = g.person
    return person


def current_person_or_abort(status: int) -> Person:
    """Return the person signed in to their own view, or abort with `status`."""
    person = current_person()
    if person is None:
        abort(status)
    return person


def _lifetime() -> dt.timedelta:
    value = current_app.config.get("PERSON_SESSION_LIFETIME", people.SESSION_LIFETIME)
    return value if isinstance(value, dt.timedelta) else dt.timedelta(seconds=value)


def _pin_page(token: str, message: str | None = None, status: int = 200) -> Response:
    page = render_template(
        "person/pin.html",
        token=token,
        message=message,
        nhs_login=bool(current_app.config.get("NHS_LOGIN_ENABLED")),
    )
    return Response(page, status)


@bp.get("/pin")
@public
def pin_form() -> ResponseReturnValue:
    """Ask the holder to scan their card (the PIN form comes with the scan)."""
    if current_person() is not None:
        return redirect(url_for("person.home"))
    return _pin_page("")


@bp.post("/pin")
@limiter.limit(PIN_LIMIT)
@public
def pin() -> ResponseReturnValue:
    """Check the holder's PIN against their card and open their own view."""
    session = get_session()
    token = request.form.get("card", "").strip()
    entered = request.form.get("pin", "")
    try:
        result = cards.scan(session, token, current_keys())
    except card_keys.InvalidToken:
        return _pin_page("", "Please scan your card again.", 400)
    card = result.card
    if card is None or result.state not in PIN_STATES:
        return _pin_page("", "This card no longer works. Please ask your team.", 410)
    person = card.person
    try:
        ok = people.verify_pin(session, person, entered, card_id=card.short_id)
    except people.PinDelayed as waiting:
        session.commit()
        seconds = max(1, int((waiting.retry_at - clock.now()).total_seconds()))
        response = _pin_page(
            token,
            f"Too many wrong PINs. Please wait {seconds} seconds and try again.",
            429,
        )
        response.headers["Retry-After"] = str(seconds)
        return response
    if not ok:
        session.commit()
        return _pin_page(token, "That PIN is not right. Please try again.", 200)
    return _open_own_view(
        person, via="card", detail={"card_id": card.short_id, "method": "pin"}
    )


def _open_own_view(
    person: Person, *, via: str, detail: dict[str, str]
) -> ResponseReturnValue:
    """Start the person's session, audit, commit, and send them to their view."""
    session = get_session()
    lifetime = _lifetime()
    _row, session_token = people.start_session(
        session, person, via=via, lifetime=lifetime, detail=detail
    )
    session.commit()
    response = redirect(url_for("person.home"))
    response.set_cookie(
        COOKIE,
        session_token,
        max_age=int(lifetime.total_seconds()),
        path=bp.url_prefix or "/me",
        secure=not current_app.debug and not current_app.testing,
        httponly=True,
        samesite="Strict",
    )
    return response


def _nhs_login_provider() -> Any:
    """Return the NHS login provider when the setting turns it on, else abort 404."""
    from responder import sso

    if not current_app.config.get("NHS_LOGIN_ENABLED"):
        abort(404)
    name = str(current_app.config.get("NHS_LOGIN_PROVIDER") or "nhslogin")
    return sso.provider_or_404(name, purpose="person")


@bp.get("/nhs-login")
@public
def nhs_login() -> ResponseReturnValue:
    """Leave for NHS login to prove who you are (instead of card and PIN)."""
    from responder import sso

    return sso.begin(_nhs_login_provider(), "person.nhs_login_callback", None)


@bp.get("/nhs-login/<name>/callback")
@public
def nhs_login_callback(name: str) -> ResponseReturnValue:
    """Come back from NHS login and open the person's own view, or refuse."""
    from plans import identity
    from responder import sso

    provider = _nhs_login_provider()
    if provider.name != name:
        abort(404)
    session = get_session()
    matcher = current_app.extensions.get(
        "responder.nhs_login_matcher", identity.match_by_nhs_number
    )
    try:
        claims, _next = sso.finish(provider, "person.nhs_login_callback")
        person = identity.person_for_nhs_login(
            session, provider, claims, find_person=matcher
        )
    except identity.IdentityError as error:
        if error.code in ("identity_level", "no_nhs_number", "no_plan"):
            session.commit()  # the domain audited the refusal
            return _pin_page("", str(error), 403)
        session.rollback()
        identity.record_refusal(session, provider, error.code)
        session.commit()
        return _pin_page("", "NHS login did not sign you in. Please try again.", 401)
    return _open_own_view(person, via="nhs_login", detail={"method": "nhs_login"})


@bp.get("/link/<token>")
@public
def link(token: str) -> ResponseReturnValue:
    """Show a button that opens the person's view from a link their chat sent."""
    # Opening happens on POST: chat apps fetch link previews with GET, and a
    # preview must not use up the person's one-time link.
    return render_template("person/link.html", token=token)


@bp.post("/link")
@limiter.limit(PIN_LIMIT)
@public
def open_link() -> ResponseReturnValue:
    """Exchange a one-time chat link for the person's own session."""
    session = get_session()
    row = people.redeem_link(session, request.form.get("token", ""))
    if row is None:
        session.rollback()
        return _pin_page(
            "", "That link has expired or was used already. Ask the chat again.", 410
        )
    return _open_own_view(row.person, via=row.via, detail={"method": "chat_link"})


@bp.get("/")
@public
def home() -> ResponseReturnValue:
    """Show the person their plan, their mentors and who opened their plan."""
    person = current_person()
    if person is None:
        return redirect(url_for("person.pin_form"))
    session = get_session()
    # The person sees whether their withdrawal is late; the privacy officer
    # hears of it at the same moment, once.
    people.alert_overdue_withdrawals(session)
    view = people.own_view(session, person)
    people.record_view(session, person, channel="web")
    session.commit()
    return render_template(
        "person/home.html",
        view=view,
        deadline_days=_withdrawal_days(),
        channels=AGREEMENT_CHANNELS,
    )


def _withdrawal_days() -> int:
    return int(
        current_app.config.get(
            "WITHDRAWAL_DEADLINE_WORKING_DAYS", people.WITHDRAWAL_DEADLINE_WORKING_DAYS
        )
    )


def _proposal_or_none(person: Person) -> PlanVersion | None:
    """Return the proposed version the person read, if it is still the same words."""
    proposed = agreement.proposed_version(get_session(), person)
    if proposed is None:
        return None
    seen = (
        request.form.get("version_id", type=int),
        request.form.get("edit_count", type=int),
    )
    if seen != (proposed.id, proposed.edit_count):
        return None
    return proposed


def _answer_proposal(
    person: Person, answer: Callable[[Session, PlanVersion], object], thanks: str
) -> ResponseReturnValue:
    """Record the person's answer to the proposed version; say thanks or why not."""
    back = redirect(url_for("person.home") + "#proposed")
    proposed = _proposal_or_none(person)
    if proposed is None:
        flash("Your team changed the plan since you opened it. Please read it again.")
        return back
    session = get_session()
    try:
        answer(session, proposed)
    except agreement.AgreementError as error:
        session.rollback()
        flash(str(error), "error")
        return back
    session.commit()
    flash(thanks, "ok")
    return back


@bp.post("/proposed/agree")
@public
def agree() -> ResponseReturnValue:
    """Agree to the version of the plan the team proposes, as the person read it."""
    person = current_person()
    if person is None:
        return redirect(url_for("person.pin_form"))
    if request.form.get("confirm") != "yes":
        flash("Tick the box to say you agree.", "error")
        return redirect(url_for("person.home") + "#proposed")
    comment = request.form.get("message", "")
    return _answer_proposal(
        person,
        lambda session, proposed: agreement.agree(
            session, proposed, channel="own_view", comment=comment
        ),
        "Thank you. Your team can see that you agree.",
    )


@bp.post("/proposed/comment")
@public
def comment() -> ResponseReturnValue:
    """Send the team a comment on the version they propose."""
    person = current_person()
    if person is None:
        return redirect(url_for("person.pin_form"))
    message = request.form.get("message", "")
    return _answer_proposal(
        person,
        lambda session, proposed: agreement.comment_on(
            session, proposed, message=message, channel="own_view"
        ),
        "Thank you. Your team has your comment.",
    )


@bp.post("/requests")
@public
def raise_request() -> ResponseReturnValue:
    """Send a concern or change request to the person's mentors."""
    person = current_person()
    if person is None:
        return redirect(url_for("person.pin_form"))
    session = get_session()
    kind = request.form.get("kind", "concern")
    if kind == "withdrawal":
        kind = "invalid"  # withdrawal has its own, deliberate form
    try:
        people.raise_request(
            session,
            person,
            kind=kind,
            message=request.form.get("message", ""),
            via="web",
        )
    except people.PersonError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("person.home") + "#raise")
    session.commit()
    flash("Thank you. Your team has it and will answer here.", "ok")
    return redirect(url_for("person.home") + "#requests")


@bp.get("/withdraw")
@public
def withdraw_form() -> ResponseReturnValue:
    """Ask the person to confirm they want to withdraw, and why if they wish."""
    if current_person() is None:
        return redirect(url_for("person.pin_form"))
    return render_template("person/withdraw.html")


@bp.post("/withdraw")
@public
def withdraw() -> ResponseReturnValue:
    """Ask to withdraw from the scheme; staff act on it and the person sees status."""
    person = current_person()
    if person is None:
        return redirect(url_for("person.pin_form"))
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm you want to withdraw.", "error")
        return redirect(url_for("person.home") + "#withdraw")
    session = get_session()
    people.raise_request(
        session,
        person,
        kind="withdrawal",
        message=request.form.get("message", ""),
        via="web",
        deadline_days=_withdrawal_days(),
    )
    session.commit()
    flash("Your request to withdraw has been sent to your team.", "ok")
    return redirect(url_for("person.home") + "#requests")


@bp.post("/signout")
@public
def sign_out() -> ResponseReturnValue:
    """End the person's own session."""
    token = request.cookies.get(COOKIE, "")
    if token:
        session = get_session()
        people.end_session(session, token)
        session.commit()
    response = redirect(url_for("person.pin_form"))
    response.delete_cookie(COOKIE, path=bp.url_prefix or "/me")
    return response
