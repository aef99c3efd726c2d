"""Blueprint `cards`: scanning a plan card, the published keys, and issuing cards.

A scan by a signed-in responder is their access basis and lands on the plan.
Anyone else learns only that the card is genuine and whom to call, and may enter
the holder's PIN. Tokens are never logged or audited: they are bearer credentials.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
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
from fpdf import FPDF
from qrcode.main import QRCode

from plans import card_documents, card_keys, cards, lookup, people
from plans.models import User
from responder import qr
from responder.access import (
    MENTORS,
    RESPONDERS,
    public,
    roles_required,
)
from responder.db import get_session
from responder.rows import get_or_404, person_by_ref_or_404
from responder.security import cacheable, limiter

logger = logging.getLogger(__name__)

bp = Blueprint("cards", __name__)


KEY_FILE_NAME = "card-keys.json"
SCAN_LIMIT = "30 per minute"
QR_MAX_VERSION = 8
CARD_WIDTH_MM = 85.6
CARD_HEIGHT_MM = 54.0
STATE_STATUS = {"revoked": 410, "expired": 410, "retired": 410, "no_plan": 200}


# -- keys from configuration ----------------------------------------------------


def key_file_path(app: Flask) -> Path:
    """Return where the card key file lives (CARD_KEY_FILE or the instance folder)."""
    configured = app.config.get("CARD_KEY_FILE")
    return Path(configured) if configured else Path(app.instance_path) / KEY_FILE_NAME


def load_keys(app: Flask) -> card_keys.KeySet:
    """Return the card keys: CARD_SIGNING_KEYS, else the key file.

    In development a key file is created on first use; elsewhere a missing key
    is a configuration error, because cards signed by a throwaway key would stop
    working at the next restart.
    """
    from responder import ConfigurationError, is_development

    configured = app.config.get("CARD_SIGNING_KEYS")
    if configured:
        return card_keys.parse_keys(str(configured))
    path = key_file_path(app)
    if path.exists():
        return card_keys.read_key_file(path.read_text(encoding="utf-8"))
    if not is_development(app):
        raise ConfigurationError(
            "set RESPONDER_CARD_SIGNING_KEYS (kid:base64-key,...) or create a key "
            f"file with `responder cards keys generate` at {path}"
        )
    keys = card_keys.KeySet((card_keys.generate_master_key("DEV1"),))
    write_key_file(path, card_keys.write_key_file(keys))
    return card_keys.read_key_file(path.read_text(encoding="utf-8"))


def write_key_file(path: Path, text: str, *, replace: bool = False) -> None:
    """Write a key file readable by its owner only, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own for each call (mkstemp makes it 0600): two first requests
    # in one process once shared a per-process name and one got a 500.
    descriptor, name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    temporary = Path(name)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    if replace:
        os.replace(temporary, path)
        return
    try:
        # link() fails if another process created the file first: theirs wins.
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def current_keys() -> card_keys.KeySet:
    """Return the app's card keys, loaded once."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    source = app.config.get("CARD_SIGNING_KEYS")
    cached = app.extensions.get("responder.card_keys")
    if cached is None or cached[0] != source:
        cached = (source, load_keys(app))
        app.extensions["responder.card_keys"] = cached
    keys: card_keys.KeySet = cached[1]
    return keys


def check_card_keys(app: Flask) -> None:
    """Refuse to start outside development without card signing keys."""
    from responder import is_development

    if not is_development(app) and app.config.get("CARDS_ENABLED") is not False:
        load_keys(app)


@bp.record_once
def _check_on_registration(state: Any) -> None:
    check_card_keys(state.app)


def base_url() -> str:
    """Return the public base URL printed on cards (CARD_BASE_URL or this host)."""
    configured = current_app.config.get("CARD_BASE_URL")
    if configured:
        return str(configured)
    try:
        return request.host_url
    except RuntimeError:  # the CLI has no request
        return "http://localhost:5000"


def service_contact() -> tuple[str, str | None]:
    """Return the service's name and phone for the keys document."""
    config = current_app.config
    return config.get("CARD_SERVICE_NAME") or "Responder", config.get(
        "CARD_SERVICE_PHONE"
    )


# -- printing -------------------------------------------------------------------


def card_qr(card: cards.Card, *, box_size: int = 10, border: int = 4) -> QRCode[Any]:
    """Return the card's QR: alphanumeric mode, at least level M, version <= 8."""
    code = qr.qr_code(
        cards.card_url(base_url(), card.token), box_size=box_size, border=border
    )
    if code.version > QR_MAX_VERSION:
        logger.warning("card QR is version %s; shorten CARD_BASE_URL", code.version)
    return code


def _latin1(text: str) -> str:
    # fpdf2's core fonts are Latin-1; an unusual character must not stop a print.
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(card: cards.Card) -> bytes:
    """Render a wallet-size card, front and back, as PDF."""
    team = card.team
    pdf = FPDF(orientation="L", unit="mm", format=(CARD_HEIGHT_MM, CARD_WIDTH_MM))
    pdf.set_auto_page_break(False)
    pdf.set_margins(4, 4, 4)
    png = io.BytesIO(qr.png(card_qr(card, box_size=8, border=2)))

    pdf.add_page()
    pdf.set_font("Helvetica", "B", 11)
    pdf.set_xy(4, 4)
    pdf.multi_cell(44, 5, "I have a crisis plan:", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.set_x(4)
    pdf.multi_cell(44, 4.2, "scan with your phone camera", new_x="LMARGIN")
    if card.first_name:
        pdf.set_font("Helvetica", "B", 10)
        pdf.set_xy(4, 20)
        pdf.cell(44, 5, _latin1(card.first_name))
    pdf.set_font("Helvetica", "", 7.5)
    pdf.set_xy(4, 30)
    pdf.multi_cell(44, 3.6, _latin1(team.name), new_x="LMARGIN", new_y="NEXT")
    if team.phone:
        pdf.set_font("Helvetica", "B", 9)
        pdf.set_x(4)
        pdf.cell(44, 4.5, _latin1(team.phone), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 7)
    pdf.set_xy(4, CARD_HEIGHT_MM - 7)
    pdf.cell(44, 3.5, f"Card {card.short_id}")
    size = 36.0
    pdf.image(png, x=CARD_WIDTH_MM - size - 3, y=(CARD_HEIGHT_MM - size) / 2, w=size)

    pdf.add_page()
    pdf.set_xy(5, 5)
    pdf.set_font("Helvetica", "B", 10)
    pdf.multi_cell(CARD_WIDTH_MM - 10, 5, "If you find me in crisis")
    pdf.set_font("Helvetica", "", 8)
    lines = [
        "Scan the code on the front with your phone camera.",
        "Police, ambulance and hospital staff: sign in to see my plan.",
        "Plans advise only: always assess and treat.",
    ]
    if team.phone:
        lines.append(_latin1(f"{team.name}: {team.phone}"))
    if team.hours:
        lines.append(_latin1(team.hours))
    pdf.set_x(5)
    pdf.multi_cell(CARD_WIDTH_MM - 10, 4, "\n".join(lines))
    pdf.set_font("Helvetica", "", 7)
    pdf.set_xy(5, CARD_HEIGHT_MM - 8)
    pdf.cell(CARD_WIDTH_MM - 10, 4, f"Card {card.short_id}")
    return bytes(pdf.output())


def render_png(card: cards.Card) -> bytes:
    """Render the card's QR as PNG, with a quiet zone, for any printer."""
    return qr.png(card_qr(card))


def render_svg(card: cards.Card) -> bytes:
    """Render the card's QR as SVG, titled with the card's short id only."""
    return qr.svg(card_qr(card), title=f"Plan card {card.short_id}")


RENDERERS: dict[str, tuple[Callable[[cards.Card], bytes], str]] = {
    "pdf": (render_pdf, "application/pdf"),
    "png": (render_png, "image/png"),
    "svg": (render_svg, "image/svg+xml"),
}


# -- helpers --------------------------------------------------------------------


def staff_user() -> User | None:
    """Return the signed-in staff user, or None."""
    if not current_user.is_authenticated:
        return None
    user: User = current_user._get_current_object()
    return user


def ip_hash() -> str:
    """Return a keyed hash of the caller's address: enough to see a pattern."""
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    address = (request.remote_addr or "").encode("utf-8")
    return hmac.new(key, address, hashlib.sha256).hexdigest()[:16]


def scanned(token: str) -> cards.ScanResult:
    """Verify a scanned token; audit and answer 404 if it is not genuine."""
    session = get_session()
    try:
        return cards.scan(session, token, current_keys())
    except card_keys.InvalidToken:
        session.rollback()
        cards.record_invalid_scan(session, ip_hash=ip_hash())
        session.commit()
        abort(404)


# -- scanning -------------------------------------------------------------------


@bp.get("/c/<token>")
@bp.get("/C/<token>")
@limiter.limit(SCAN_LIMIT)
@public
def scan(token: str) -> ResponseReturnValue:
    """Open the card's plan for a responder; otherwise show only whose card it is."""
    session = get_session()
    user = staff_user()
    try:
        scanned = lookup.scan_card(
            session, user, token, current_keys(), ip_hash=ip_hash()
        )
    except card_keys.InvalidToken:
        session.commit()  # the audit row of the failed scan, and any alert
        abort(404)
    session.commit()
    card = scanned.card
    if scanned.opened is not None:
        target = url_for("lookup.plan", ref=card.person.ref)
        return redirect(target)
    if scanned.result.state != "valid":
        # A signed-in responder is never left at a dead end: the card opens
        # nothing, but the person's live plan is still there on a stated basis.
        # The link names the card, not the person.
        live = card.person.live_version(session)
        open_url = (
            url_for("cards.current_plan", token=token)
            if user is not None and user.is_responder and live is not None
            else None
        )
        page = render_template(
            "cards/unusable.html",
            card=card,
            team=card.team,
            state=scanned.result.state,
            open_url=open_url,
            replacement=cards.replacement_of(session, card),
        )
        return Response(page, STATE_STATUS.get(scanned.result.state, 410))
    if scanned.refusal:
        flash(scanned.refusal)
    page = render_template(
        "cards/genuine.html",
        card=card,
        team=card.team,
        token=token,
        signed_in=user is not None,
        sign_in=url_for("auth.login", next=request.path),
        has_pin=people.has_pin(session, card.person),
    )
    return Response(page)


@bp.get("/c/<token>/current")
@bp.get("/C/<token>/current")
@limiter.limit(SCAN_LIMIT)
@roles_required(*RESPONDERS)
def current_plan(token: str) -> ResponseReturnValue:
    """Take a responder from a cancelled card to the basis page of the live plan."""
    result = scanned(token)
    card = result.card
    assert card is not None
    if card.person.live_version(get_session()) is None:
        abort(404)
    # The normal access basis: the cancelled card is not a reason in itself.
    target = url_for("lookup.open_plan", ref=card.person.ref)
    return redirect(target)


# -- published documents --------------------------------------------------------


def _json(document: dict[str, Any], max_age: int) -> Response:
    response = Response(
        json.dumps(document, indent=1, default=str), mimetype="application/json"
    )
    # Public and not personal: short caching lets the service worker keep a copy.
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/.well-known/plan-card-keys.json")
@public
@cacheable
def keys_document() -> ResponseReturnValue:
    """Publish the card verification keys and whom to call for each."""
    name, phone = service_contact()
    return _json(
        card_documents.keys_document(
            get_session(), current_keys(), service_name=name, service_phone=phone
        ),
        300,
    )


@bp.get("/cards/revoked.json")
@public
@cacheable
def revoked_list() -> ResponseReturnValue:
    """Publish the signed list of cards that no longer open a plan."""
    return _json(card_documents.revocation_list(get_session(), current_keys()), 60)


@bp.get("/cards/check")
@public
@cacheable
def check() -> ResponseReturnValue:
    """Show the offline card check (verifies in the browser, no plan content)."""
    response = Response(render_template("cards/check.html"))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# -- issuing (mentors) ----------------------------------------------------------


@bp.get("/cards/for/<path:ref>")
@roles_required(*MENTORS)
def person_cards(ref: str) -> ResponseReturnValue:
    """List a person's cards with forms to issue, reissue and revoke."""
    session = get_session()
    person = person_by_ref_or_404(ref)
    page = render_template(
        "cards/person.html",
        person=person,
        cards=[(c, c.state(session)) for c in cards.cards_for(session, person)],
        has_pin=people.has_pin(session, person),
        states=cards.CARD_STATES,
    )
    return Response(page)


def _form_pin(*, required: bool) -> str | None:
    pin = request.form.get("pin", "").strip()
    confirm = request.form.get("pin_confirm", "").strip()
    if not pin:
        if required:
            raise people.PersonError("set a PIN with the person for their own view")
        return None
    if pin != confirm:
        raise people.PersonError("the two PINs differ")
    return people.check_pin_format(pin)


@bp.post("/cards/for/<path:ref>/issue")
@roles_required(*MENTORS)
def issue(ref: str) -> ResponseReturnValue:
    """Issue a new card for a person, setting the holder's PIN."""
    session = get_session()
    person = person_by_ref_or_404(ref)
    user = staff_user()
    try:
        pin = _form_pin(required=not people.has_pin(session, person))
        card = cards.issue(
            session,
            person,
            current_keys(),
            by=user,
            channel="web",
            first_name=request.form.get("first_name") or None,
        )
        if pin:
            people.set_pin(session, person, pin)
    except (card_keys.CardError, people.PersonError) as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("cards.person_cards", ref=ref))
    session.commit()
    flash(f"Card {card.short_id} issued. Print it below.", "ok")
    return redirect(url_for("cards.person_cards", ref=ref))


@bp.post("/cards/for/<path:ref>/pin")
@roles_required(*MENTORS)
def set_pin(ref: str) -> ResponseReturnValue:
    """Set or change the holder's PIN; the card they carry keeps working."""
    session = get_session()
    person = person_by_ref_or_404(ref)
    user = staff_user()
    assert user is not None  # roles_required signed them in
    try:
        pin = _form_pin(required=True)
        assert pin is not None
        cards.set_holder_pin(session, person, pin, by=user, channel="web")
    except (card_keys.CardError, people.PersonError) as error:
        session.rollback()
        flash(str(error).capitalize() + ".", "error")
    else:
        session.commit()
        flash("PIN set. The person's card is unchanged.", "ok")
    return redirect(url_for("cards.person_cards", ref=ref), code=303)


@bp.post("/cards/<int:card_pk>/reissue")
@roles_required(*MENTORS)
def reissue(card_pk: int) -> ResponseReturnValue:
    """Replace a card (lost, worn): the old one stops working at once."""
    session = get_session()
    card = get_or_404(cards.Card, card_pk, team_of=lambda card: card.team_id)
    try:
        pin = _form_pin(required=False)
        new = cards.reissue(
            session, card, current_keys(), by=staff_user(), channel="web"
        )
        if pin:
            people.set_pin(session, card.person, pin)
    except (card_keys.CardError, people.PersonError) as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        flash(f"Card {card.short_id} replaced by {new.short_id}.", "ok")
    return redirect(url_for("cards.person_cards", ref=card.person.ref))


@bp.post("/cards/<int:card_pk>/revoke")
@roles_required(*MENTORS)
def revoke(card_pk: int) -> ResponseReturnValue:
    """Revoke a card: it opens nothing from now on."""
    session = get_session()
    card = get_or_404(cards.Card, card_pk, team_of=lambda card: card.team_id)
    try:
        cards.revoke(
            session,
            card,
            by=staff_user(),
            channel="web",
            reason=request.form.get("reason", "") or "revoked by a mentor",
        )
    except card_keys.CardError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        flash(f"Card {card.short_id} revoked.", "ok")
    return redirect(url_for("cards.person_cards", ref=card.person.ref))


@bp.get("/cards/<int:card_pk>/card.<fmt>")
@roles_required(*MENTORS)
def printable(card_pk: int, fmt: str) -> ResponseReturnValue:
    """Download the printable card as PDF (front and back), PNG or SVG."""
    if fmt not in RENDERERS:
        abort(404)
    session = get_session()
    card = get_or_404(cards.Card, card_pk, team_of=lambda card: card.team_id)
    if card.revoked_at is not None:
        abort(410)
    render, mimetype = RENDERERS[fmt]
    body = render(card)
    card_documents.record_printed(session, card, by=staff_user(), fmt=fmt)
    session.commit()
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="plan-card-{card.short_id}.{fmt}"'
    )
    return response
