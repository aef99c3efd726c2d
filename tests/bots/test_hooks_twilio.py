"""The Twilio SMS and WhatsApp webhooks, signed as Twilio signs them."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from werkzeug.middleware.proxy_fix import ProxyFix

from bots import replies
from plans import chat
from plans.access import AccessGrant
from plans.audit import AuditEvent
from tests.bots.fakes import live_person, no_network, staff

__all__ = ["no_network"]

AUTH_TOKEN = "twilio-auth-token-for-tests"
OFFICER = "+447700900001"
BASE = "http://localhost"


@pytest.fixture
def twilio_app(app: Flask) -> Flask:
    app.config.update(
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_SMS_NUMBER="+441632960999",
        TWILIO_WHATSAPP_NUMBER="+441632960998",
        PUBLIC_BASE_URL="https://responder.example",
    )
    return app


_sids = iter(range(1, 1_000_000))


def form(sender: str, body: str, *, sid: str | None = None) -> dict[str, str]:
    return {
        "MessageSid": sid or f"SM{next(_sids):032d}",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+441632960999",
        "Body": body,
        "NumMedia": "0",
    }


def signed(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def send(
    client: FlaskClient,
    params: dict[str, str],
    *,
    path: str = "/hooks/twilio/sms",
    signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    all_headers = dict(headers or {})
    if signature is None:
        signature = signed(BASE + path, params)
    if signature:
        all_headers["X-Twilio-Signature"] = signature
    return client.post(path, data=params, headers=all_headers)


def twiml_text(response: Any) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def officer(twilio_app: Flask, db: Session) -> str:
    user = staff(db, "pc.sms@example.org")
    live_person(db)
    pending = chat.start_number_link(db, "sms", OFFICER, user=user)
    chat.confirm_number_link(db, pending.code, user=user)
    pending = chat.start_number_link(db, "whatsapp", OFFICER, user=user)
    chat.confirm_number_link(db, pending.code, user=user)
    db.commit()
    return OFFICER


def test_an_unknown_number_gets_a_generic_twiml_reply(
    twilio_app: Flask, client: FlaskClient
) -> None:
    response = send(client, form("+447700900999", "find Alexandra"))
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert twiml_text(response) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
        f"{replies.NOT_LINKED}</Message></Response>"
    )


def test_find_then_open_over_sms(
    client: FlaskClient, officer: str, db: Session
) -> None:
    found = twiml_text(send(client, form(officer, "find Alexandra")))
    assert "1. Alexandra Testperson" in found
    opened = twiml_text(send(client, form(officer, "open 1 attending INC-5")))
    assert replies.ADVICE_ONLY in opened
    grant = db.scalars(select(AccessGrant)).one()
    assert (grant.channel, grant.incident) == ("sms", "INC-5")


def test_whatsapp_numbers_arrive_prefixed_and_are_audited_as_whatsapp(
    client: FlaskClient, officer: str, db: Session
) -> None:
    path = "/hooks/twilio/whatsapp"
    params = form("whatsapp:" + officer, "find Alexandra")
    assert "1. Alexandra" in twiml_text(send(client, params, path=path))
    search = db.scalars(select(AuditEvent).where(AuditEvent.action == "search")).one()
    assert search.channel == "whatsapp"


@pytest.mark.parametrize(
    "signature",
    [
        "",  # missing header
        "bm90IGEgc2lnbmF0dXJl",  # forged
        "wrong-token",  # signed with another account's token
        "wrong-url",  # signed for another URL
    ],
)
def test_unsigned_or_forged_requests_are_refused(
    client: FlaskClient, officer: str, db: Session, signature: str
) -> None:
    params = form(officer, "find Alexandra")
    if signature == "wrong-token":
        signature = signed(BASE + "/hooks/twilio/sms", params, "another-token")
    elif signature == "wrong-url":
        signature = signed(BASE + "/hooks/twilio/whatsapp", params)
    response = send(client, params, signature=signature)
    assert response.status_code == 403 and response.data == b""
    assert (
        db.scalars(select(AuditEvent).where(AuditEvent.action == "search")).all() == []
    )


def test_a_tampered_body_breaks_the_signature(
    client: FlaskClient, officer: str
) -> None:
    params = form(officer, "help")
    signature = signed(BASE + "/hooks/twilio/sms", params)
    params["Body"] = "find Alexandra"
    assert send(client, params, signature=signature).status_code == 403


def test_testing_mode_is_no_bypass(twilio_app: Flask, client: FlaskClient) -> None:
    assert twilio_app.testing
    assert send(client, form(OFFICER, "help"), signature="").status_code == 403


def test_the_webhook_is_off_until_configured(client: FlaskClient) -> None:
    assert send(client, form(OFFICER, "help")).status_code == 404


def test_behind_a_reverse_proxy_the_public_url_is_checked(
    client: FlaskClient, twilio_app: Flask, officer: str
) -> None:
    twilio_app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
        twilio_app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1
    )
    params = form(officer, "help")
    public = "https://responder.example/hooks/twilio/sms"
    proxy_headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "responder.example",
        "X-Forwarded-For": "203.0.113.7",
    }
    ok = send(client, params, signature=signed(public, params), headers=proxy_headers)
    assert ok.status_code == 200
    assert "unlink: stop using this chat" in twiml_text(ok)
    # Signed for the internal address, but arriving through the proxy: refused.
    params = form(officer, "help")
    internal = send(client, params, headers=proxy_headers)
    assert internal.status_code == 403


def test_a_replayed_message_sid_is_answered_once(
    client: FlaskClient, officer: str, db: Session
) -> None:
    params = form(officer, "find Alexandra", sid="SM" + "7" * 32)
    first = send(client, params)
    second = send(client, params)
    assert "1. Alexandra" in twiml_text(first)
    assert twiml_text(second) == ('<?xml version="1.0" encoding="UTF-8"?><Response />')
    searches = db.scalars(select(AuditEvent).where(AuditEvent.action == "search"))
    assert len(searches.all()) == 1


def test_bodies_over_1600_characters_are_answered_briefly(
    client: FlaskClient, officer: str
) -> None:
    response = send(client, form(officer, "find " + "a" * 1700))
    assert response.status_code == 200
    assert replies.TOO_LONG in twiml_text(response)


@pytest.mark.parametrize(
    "body",
    [
        "\u202bfind Alexandra\u202c",  # wrapped in right-to-left embedding
        "find Alexandra 🙂",
        "find אלכסנדרה",  # Hebrew: no match, but a clean answer
        "مرحبا",
    ],
)
def test_emoji_and_right_to_left_text_get_a_clean_answer(
    client: FlaskClient, officer: str, body: str
) -> None:
    response = send(client, form(officer, body))
    assert response.status_code == 200
    assert "<Message>" in twiml_text(response)


def test_the_reply_escapes_what_the_sender_typed(
    client: FlaskClient, officer: str
) -> None:
    text = twiml_text(send(client, form(officer, "find x near <Say>hi</Say>")))
    assert "&lt;Say&gt;" in text and "<Say>" not in text


def test_wrong_content_types_are_refused(
    twilio_app: Flask, client: FlaskClient
) -> None:
    response = client.post(
        "/hooks/twilio/sms",
        json=form(OFFICER, "help"),
        headers={"X-Twilio-Signature": "x"},
    )
    assert response.status_code == 415 and response.data == b""


def test_each_number_is_rate_limited(client: FlaskClient, officer: str) -> None:
    answers = [
        twiml_text(send(client, form(officer, "help")))
        for _ in range(chat.RATE_LIMIT + 1)
    ]
    assert "<Message>" in answers[0]
    assert answers[-1].endswith("<Response />")


def test_no_body_code_or_signature_reaches_the_logs(
    twilio_app: Flask,
    client: FlaskClient,
    officer: str,
    db: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    from responder import hooks
    from tests.bots.fakes import RecordingHttpClient

    caplog.set_level(logging.DEBUG)
    twilio_app.extensions["responder.twilio_http"] = RecordingHttpClient()
    params = form(officer, "find Alexandra near TT1 2AB")
    signature = signed(BASE + "/hooks/twilio/sms", params)
    send(client, params, signature=signature)
    send(client, form(officer, "open 1 attending INC-31"))
    with twilio_app.app_context():
        hooks.senders(twilio_app)["sms"].send("sms", officer, "Secret body words")
    for secret in (
        signature,
        "Alexandra",
        "TT1 2AB",
        "INC-31",
        "Secret body words",
        AUTH_TOKEN,
        officer,
    ):
        assert secret not in caplog.text
