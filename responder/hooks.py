"""Blueprint `hooks`: the Telegram and Twilio webhooks, answered with bare statuses.

These routes take no session cookie and no CSRF token: Telegram proves itself with
the secret token it was given at set-webhook time, Twilio with X-Twilio-Signature
over the exact URL and form. Nothing a chat sends, nor any token or signature, is
ever logged.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, request
from flask.typing import ResponseReturnValue
from twilio.rest import Client

from bots import twilio as twilio_bot
from bots.commands import ChatSettings
from bots.outbound import Sender, TelegramChannel
from bots.telegram import BotRunner, build_application
from responder.access import public
from responder.db import get_session
from responder.production import telegram_enabled, twilio_enabled
from responder.security import search_rate

logger = logging.getLogger(__name__)

bp = Blueprint("hooks", __name__, url_prefix="/hooks")

TELEGRAM_MAX_BODY = 256 * 1024  # Telegram updates are a few kilobytes at most
TWILIO_MAX_BODY = 64 * 1024
# Real updates nest a handful of levels (a reply inside a message inside the
# update); a hostile one nested thousands deep exhausted the recursion limit.
TELEGRAM_MAX_DEPTH = 32


def json_depth_ok(raw: bytes, limit: int) -> bool:
    """Say whether JSON text nests arrays and objects at most `limit` deep."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return False
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return True


def chat_settings(app: Flask) -> ChatSettings:
    """Return the deployment's chat settings from configuration."""
    config = app.config
    return ChatSettings(
        disclosure=str(config.get("CHAT_DISCLOSURE") or "link"),
        public_base_url=str(config.get("PUBLIC_BASE_URL") or ""),
        plan_path=str(config.get("CHAT_PLAN_PATH") or "/plans/{ref}"),
        bot_username=str(config.get("TELEGRAM_BOT_USERNAME") or ""),
        search_rate=search_rate(app),
    )


def install_telegram(app: Flask, *, request_object: Any = None) -> BotRunner:
    """Build the app's Telegram bot once; tests pass a recording request object."""
    runner: BotRunner | None = app.extensions.get("responder.telegram")
    if runner is not None:
        return runner
    token = app.config.get("TELEGRAM_BOT_TOKEN")
    if not token:
        raise RuntimeError("TELEGRAM_BOT_TOKEN is not configured")
    application = build_application(
        str(token),
        sessions=app.extensions["responder.sessions"],
        settings=chat_settings(app),
        request=request_object or app.extensions.get("responder.telegram_request"),
    )
    runner = BotRunner(application)
    app.extensions["responder.telegram"] = runner
    return runner


def twilio_client(app: Flask) -> Client | None:
    """Return a Twilio REST client, or None if Twilio is not configured."""
    sid = app.config.get("TWILIO_ACCOUNT_SID")
    token = app.config.get("TWILIO_AUTH_TOKEN")
    if not sid or not token:
        return None
    return Client(
        str(sid), str(token), http_client=app.extensions.get("responder.twilio_http")
    )


def senders(app: Flask) -> dict[str, Sender]:
    """Return a sender for each configured channel."""
    found: dict[str, Sender] = {}
    client = twilio_client(app)
    if client is not None:
        twilio_sender = twilio_bot.TwilioSender(
            client,
            sms_from=app.config.get("TWILIO_SMS_NUMBER"),
            whatsapp_from=app.config.get("TWILIO_WHATSAPP_NUMBER"),
        )
        if app.config.get("TWILIO_SMS_NUMBER"):
            found["sms"] = twilio_sender
        if app.config.get("TWILIO_WHATSAPP_NUMBER"):
            found["whatsapp"] = twilio_sender
    if app.config.get("TELEGRAM_BOT_TOKEN"):
        found["telegram"] = TelegramChannel(install_telegram(app))
    return found


def _bare(status: int) -> Response:
    return Response(status=status)


@bp.post("/telegram")
@public
def telegram() -> ResponseReturnValue:
    """Receive one Telegram update: check the secret, then hand it to the bot."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    secret = str(app.config.get("TELEGRAM_WEBHOOK_SECRET") or "")
    # Switched off means gone, whatever secrets are still configured.
    if not telegram_enabled(app.config):
        abort(404)
    if not secret or not app.config.get("TELEGRAM_BOT_TOKEN"):
        abort(404)
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8")):
        abort(403)
    if request.mimetype != "application/json":
        abort(415)
    if request.content_length is None or request.content_length > TELEGRAM_MAX_BODY:
        abort(413)
    raw = request.get_data(cache=False)
    if not json_depth_ok(raw, TELEGRAM_MAX_DEPTH):
        abort(400)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        abort(400)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        abort(400)
    install_telegram(app).process(data)
    return _bare(200)


def _twilio(channel: str) -> ResponseReturnValue:
    token = str(current_app.config.get("TWILIO_AUTH_TOKEN") or "")
    # Switched off means gone, whatever auth token is still configured.
    if not token or not twilio_enabled(current_app.config):
        abort(404)
    if request.content_length is None or request.content_length > TWILIO_MAX_BODY:
        abort(413)
    if request.mimetype != "application/x-www-form-urlencoded":
        abort(415)
    signature = request.headers.get("X-Twilio-Signature", "")
    # request.url is the URL Twilio called only if ProxyFix (TRUSTED_PROXY_HOPS)
    # has restored the scheme and host the proxy received.
    if not twilio_bot.signature_ok(token, request.url, request.form, signature):
        abort(403)
    session = get_session()
    body = twilio_bot.handle_inbound(
        session,
        channel=channel,
        form=request.form,
        settings=chat_settings(current_app),
    )
    session.commit()
    response = Response(body, status=200, mimetype="application/xml")
    return response


@bp.post("/twilio/sms")
@public
def twilio_sms() -> ResponseReturnValue:
    """Receive one SMS from Twilio and answer in TwiML."""
    return _twilio("sms")


@bp.post("/twilio/whatsapp")
@public
def twilio_whatsapp() -> ResponseReturnValue:
    """Receive one WhatsApp message from Twilio and answer in TwiML."""
    return _twilio("whatsapp")
