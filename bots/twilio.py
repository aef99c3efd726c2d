"""Twilio SMS and WhatsApp: signature checks, inbound handling and TwiML replies.

Every inbound request is checked with Twilio's RequestValidator against the URL
Twilio called and the posted form; there is no bypass, in development or not. A
MessageSid seen before is answered with an empty TwiML response, so a replayed
webhook never acts twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bots import commands
from bots.commands import ChatSettings, Reply
from plans import chat
from plans.chat import ChatError

WHATSAPP_PREFIX = "whatsapp:"


def signature_ok(
    auth_token: str, url: str, form: Mapping[str, str], signature: str
) -> bool:
    """Say whether X-Twilio-Signature matches this URL and every posted value.

    Pass the form as received (a MultiDict): Twilio signs every value of a
    repeated key, and dict(form) would keep only the first, so a request with
    extra values smuggled under a signed key would pass.
    """
    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, form, signature))


def twiml(reply: Reply | None) -> str:
    """Return the TwiML for a reply; an empty <Response/> sends nothing."""
    response = MessagingResponse()
    if reply is not None and reply.text:
        response.message(reply.text)
    return str(response)


def handle_inbound(
    session: Session,
    *,
    channel: str,
    form: Mapping[str, str],
    settings: ChatSettings,
    now: dt.datetime | None = None,
) -> str:
    """Answer one inbound SMS or WhatsApp message with TwiML (caller commits)."""
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
    if not sid or not chat.claim_message(session, channel, sid, now=now):
        return twiml(None)
    try:
        address = chat.normalise_number(form.get("From", ""))
    except ChatError:
        return twiml(None)
    reply = commands.handle_text(
        session,
        channel=channel,
        address=address,
        text=form.get("Body", ""),
        settings=settings,
        now=now,
    )
    return twiml(reply)


class TwilioSender:
    """Send SMS and WhatsApp messages through Twilio's REST API."""

    def __init__(
        self,
        client: Client,
        *,
        sms_from: str | None,
        whatsapp_from: str | None,
    ) -> None:
        self.client = client
        # Twilio's client logs each request's form, message body included, at INFO.
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
        self.sms_from = sms_from
        self.whatsapp_from = whatsapp_from

    def send(self, channel: str, address: str, text: str) -> str:
        """Send one message; return Twilio's message SID."""
        if channel == "whatsapp":
            if not self.whatsapp_from:
                raise RuntimeError("TWILIO_WHATSAPP_NUMBER is not configured")
            sender = _whatsapp(self.whatsapp_from)
            to = _whatsapp(address)
        elif channel == "sms":
            if not self.sms_from:
                raise RuntimeError("TWILIO_SMS_NUMBER is not configured")
            sender, to = self.sms_from, address
        else:
            raise ValueError(f"Twilio does not carry {channel!r}")
        message = self.client.messages.create(to=to, from_=sender, body=text)
        return str(message.sid)


def _whatsapp(number: str) -> str:
    return number if number.startswith(WHATSAPP_PREFIX) else WHATSAPP_PREFIX + number
