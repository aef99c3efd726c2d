"""Blueprint `chat`: link a Telegram chat or a phone number, and unlink it.

Staff link from /chat; the person links their own chat from /me/chat, inside the
path their own-view cookie is scoped to. Telegram links are one-time deep links
(t.me/<bot>?start=TOKEN, 10 minutes); numbers are proved with a code sent to them.
Every page is personal, so none of it may be cached.
"""

from __future__ import annotations

import logging
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
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bots import twilio as twilio_bot
from plans import chat
from plans.chat import ChatError, ChatLink
from plans.models import Person, User
from responder.access import public, signed_in
from responder.auth import reauthentication_required
from responder.db import get_session
from responder.hooks import twilio_client
from responder.security import limiter

logger = logging.getLogger(__name__)

bp = Blueprint("chat", __name__)

CODE_TEXT = (
    "Your Responder code is {code}. It expires in 10 minutes. "
    "If you did not ask for it, ignore this message."
)
CODE_LIMIT = "5 per minute;20 per hour"
CHANNEL_LABELS = {"telegram": "Telegram", "sms": "SMS", "whatsapp": "WhatsApp"}


def _person_or_403() -> Person:
    from responder.person import current_person_or_abort

    return current_person_or_abort(403)


def _owner(own: bool) -> dict[str, Any]:
    """Return whose links a page manages: the signed-in user or the person."""
    if own:
        return {"person": _person_or_403()}
    return {"user": get_session().get(User, current_user.id)}


def _endpoint(own: bool, name: str) -> str:
    return url_for(f"chat.{'own_' if own else ''}{name}")


def _page(own: bool, *, status: int = 200, **context: Any) -> Response:
    session = get_session()
    links = chat.links_for(session, **_owner(own))
    pending = chat.pending_code(session, **_owner(own))
    config = current_app.config
    body = render_template(
        "chat/links.html",
        own=own,
        links=links,
        pending=pending,
        labels=CHANNEL_LABELS,
        mask=chat.mask_number,
        telegram_ready=bool(config.get("TELEGRAM_BOT_USERNAME")),
        sms_ready=bool(config.get("TWILIO_SMS_NUMBER")) and twilio_ready(),
        whatsapp_ready=bool(config.get("TWILIO_WHATSAPP_NUMBER")) and twilio_ready(),
        url=lambda name: _endpoint(own, name),
        **context,
    )
    return Response(body, status=status)


def twilio_ready() -> bool:
    """Say whether this deployment can send SMS or WhatsApp messages."""
    config = current_app.config
    return bool(config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN"))


# -- the views, for staff (/chat) and for the person (/me/chat) ----------------------


def _index(own: bool) -> ResponseReturnValue:
    return _page(own)


def _telegram(own: bool) -> ResponseReturnValue:
    username = current_app.config.get("TELEGRAM_BOT_USERNAME")
    if not username:
        abort(404)
    session = get_session()
    token = chat.create_link_token(session, **_owner(own))
    session.commit()
    deep_link = f"https://t.me/{username}?start={token}"
    return _page(own, deep_link=deep_link)


def _number(own: bool) -> ResponseReturnValue:
    channel = request.form.get("channel", "sms")
    if channel not in chat.PHONE_CHANNELS:
        abort(400)
    session = get_session()
    try:
        pending = chat.start_number_link(
            session, channel, request.form.get("number", "")[:40], **_owner(own)
        )
    except ChatError as error:
        session.rollback()
        return _page(own, error=str(error).capitalize() + ".", status=400)
    client = twilio_client(current_app)
    if client is None:
        session.rollback()
        return _page(own, error="Text messages are not set up here.", status=503)
    sender = twilio_bot.TwilioSender(
        client,
        sms_from=current_app.config.get("TWILIO_SMS_NUMBER"),
        whatsapp_from=current_app.config.get("TWILIO_WHATSAPP_NUMBER"),
    )
    try:
        sender.send(channel, pending.row.address, CODE_TEXT.format(code=pending.code))
    except Exception as error:  # noqa: BLE001  any provider failure: try again
        session.rollback()
        logger.warning("verification code not sent: %s", type(error).__name__)
        return _page(
            own, error="The code could not be sent. Please try again.", status=502
        )
    session.commit()
    return redirect(_endpoint(own, "index"), code=303)


def _confirm(own: bool) -> ResponseReturnValue:
    session = get_session()
    try:
        link = chat.confirm_number_link(
            session, request.form.get("code", "")[:20], **_owner(own)
        )
    except ChatError as error:
        session.commit()  # the spent attempt counts
        return _page(own, error=str(error).capitalize() + ".", status=400)
    session.commit()
    flash(f"{CHANNEL_LABELS[link.channel]} linked.")
    return redirect(_endpoint(own, "index"), code=303)


def _unlink(own: bool, link_id: int) -> ResponseReturnValue:
    session = get_session()
    link = session.get(ChatLink, link_id)
    owner = _owner(own)
    mine = link is not None and (
        (own and link.person_id == owner["person"].id)
        or (not own and link.user_id == owner["user"].id)
    )
    if link is None or not mine or not link.active:
        abort(404)
    chat.unlink(session, link)
    session.commit()
    flash(f"{CHANNEL_LABELS[link.channel]} unlinked.")
    return redirect(_endpoint(own, "index"), code=303)


@bp.get("/chat/")
@signed_in
def index() -> ResponseReturnValue:
    """List the signed-in user's linked chats and numbers."""
    return _index(False)


@bp.post("/chat/telegram")
@signed_in
def telegram() -> ResponseReturnValue:
    """Show a one-time Telegram deep link that binds the chat to this account."""
    if (ask := reauthentication_required(url_for("chat.index"))) is not None:
        return ask
    return _telegram(False)


@bp.post("/chat/number")
@limiter.limit(CODE_LIMIT)
@signed_in
def number() -> ResponseReturnValue:
    """Send a code to a number the user wants to link."""
    if (ask := reauthentication_required(url_for("chat.index"))) is not None:
        return ask
    return _number(False)


@bp.post("/chat/number/confirm")
@signed_in
def confirm() -> ResponseReturnValue:
    """Link the number once the user types the code it received."""
    return _confirm(False)


@bp.post("/chat/links/<int:link_id>/unlink")
@signed_in
def unlink(link_id: int) -> ResponseReturnValue:
    """Unlink one of the user's chats or numbers."""
    return _unlink(False, link_id)


# The person's own pages check their own-view session (current_person) instead of
# staff sign-in, like the rest of /me.


@bp.get("/me/chat/")
@public
def own_index() -> ResponseReturnValue:
    """List the person's own linked chats and numbers."""
    return _index(True)


@bp.post("/me/chat/telegram")
@public
def own_telegram() -> ResponseReturnValue:
    """Show the person a one-time Telegram deep link to their own plan."""
    return _telegram(True)


@bp.post("/me/chat/number")
@limiter.limit(CODE_LIMIT)
@public
def own_number() -> ResponseReturnValue:
    """Send a code to the person's number."""
    return _number(True)


@bp.post("/me/chat/number/confirm")
@public
def own_confirm() -> ResponseReturnValue:
    """Link the person's number once they type the code."""
    return _confirm(True)


@bp.post("/me/chat/links/<int:link_id>/opened")
@public
def own_opened(link_id: int) -> ResponseReturnValue:
    """Turn the person's 'my plan was opened' messages on or off for one chat."""
    person = _person_or_403()
    session = get_session()
    link = session.get(ChatLink, link_id)
    if link is None or link.person_id != person.id or not link.active:
        abort(404)
    wanted = request.form.get("wanted") == "on"
    chat.set_notify_opened(session, link, wanted)
    session.commit()
    flash(
        "You will get a message each time your plan is opened."
        if wanted
        else "You will no longer get a message when your plan is opened."
    )
    return redirect(url_for("chat.own_index"), code=303)


@bp.post("/me/chat/links/<int:link_id>/unlink")
@public
def own_unlink(link_id: int) -> ResponseReturnValue:
    """Unlink one of the person's chats or numbers."""
    return _unlink(True, link_id)
