"""The linking pages: staff at /chat, the person at /me/chat."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import chat, people
from plans.audit import AuditEvent
from plans.chat import ChatLink
from plans.models import User
from tests.bots.fakes import RecordingHttpClient, live_person, no_network
from tests.conftest import AuthActions

__all__ = ["no_network"]


@pytest.fixture
def configured(app: Flask) -> RecordingHttpClient:
    recording = RecordingHttpClient()
    app.config.update(
        TELEGRAM_BOT_USERNAME="ResponderTestBot",
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="token",
        TWILIO_SMS_NUMBER="+441632960999",
        TWILIO_WHATSAPP_NUMBER="+441632960998",
    )
    app.extensions["responder.twilio_http"] = recording
    return recording


def deep_link_token(page: str) -> str:
    match = re.search(r"https://t\.me/ResponderTestBot\?start=([A-Za-z0-9_-]+)", page)
    assert match, page
    return match.group(1)


def sent_code(recording: RecordingHttpClient) -> str:
    match = re.search(r"code is ([0-9]{6})", recording.bodies()[-1][1])
    assert match
    return match.group(1)


def test_signing_in_is_required(client: FlaskClient) -> None:
    response = client.get("/chat/")
    assert response.status_code in (302, 401)


def test_link_telegram_gives_a_one_time_deep_link(
    client: FlaskClient, auth: AuthActions, configured, db: Session
) -> None:
    user = auth.login("police")
    page = client.get("/chat/")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    response = client.post("/chat/telegram")
    assert response.status_code == 200
    token = deep_link_token(response.get_data(as_text=True))
    link = chat.redeem_link_token(db, token, "4242")
    assert link is not None and link.user_id == user.id
    db.commit()
    assert "a Telegram chat" in client.get("/chat/").get_data(as_text=True)


def test_link_a_number_with_the_code_sent_to_it(
    client: FlaskClient, auth: AuthActions, configured: RecordingHttpClient, db: Session
) -> None:
    user = auth.login("ambulance")
    response = client.post(
        "/chat/number", data={"number": "07700 900123", "channel": "sms"}
    )
    assert response.status_code == 303
    assert configured.bodies()[0][0] == "+447700900123"
    page = client.get("/chat/").get_data(as_text=True)
    assert "Code sent by SMS to" in page and "900123" not in page  # masked
    wrong = client.post("/chat/number/confirm", data={"code": "not it"})
    assert wrong.status_code == 400 and "4 tries left" in wrong.get_data(as_text=True)
    done = client.post("/chat/number/confirm", data={"code": sent_code(configured)})
    assert done.status_code == 303
    link = db.scalars(select(ChatLink).where(ChatLink.user_id == user.id)).one()
    assert (link.channel, link.address) == ("sms", "+447700900123")


def test_whatsapp_codes_go_by_whatsapp(
    client: FlaskClient, auth: AuthActions, configured: RecordingHttpClient
) -> None:
    auth.login("police")
    client.post("/chat/number", data={"number": "07700900123", "channel": "whatsapp"})
    (request,) = configured.requests
    assert request["data"]["To"] == "whatsapp:+447700900123"
    assert request["data"]["From"] == "whatsapp:+441632960998"


def test_a_bad_number_is_explained(
    client: FlaskClient, auth: AuthActions, configured: RecordingHttpClient
) -> None:
    auth.login("police")
    response = client.post("/chat/number", data={"number": "call me", "channel": "sms"})
    assert response.status_code == 400
    assert "mobile number" in response.get_data(as_text=True)
    assert configured.requests == []


def test_a_failed_send_spends_no_code(
    client: FlaskClient, auth: AuthActions, configured: RecordingHttpClient, db: Session
) -> None:
    auth.login("police")
    configured.fail_next = 1
    response = client.post(
        "/chat/number", data={"number": "07700900123", "channel": "sms"}
    )
    assert response.status_code == 502
    assert db.scalars(select(chat.VerificationCode)).all() == []


def test_unlink_from_the_web_and_only_your_own(
    client: FlaskClient, auth: AuthActions, configured, db: Session
) -> None:
    user = auth.login("police")
    token = deep_link_token(client.post("/chat/telegram").get_data(as_text=True))
    mine = chat.redeem_link_token(db, token, "1111")
    other = db.scalars(select(User).where(User.id != user.id)).first()
    if other is None:
        from plans import accounts

        other = accounts.create_user(db, "other@example.test", role="police")
    theirs = chat.redeem_link_token(db, chat.create_link_token(db, user=other), "2222")
    db.commit()
    assert client.post(f"/chat/links/{theirs.id}/unlink").status_code == 404
    assert client.post(f"/chat/links/{mine.id}/unlink").status_code == 303
    db.expire_all()
    assert chat.active_link(db, "telegram", "1111") is None
    assert chat.active_link(db, "telegram", "2222") is not None
    assert [
        e.channel
        for e in db.scalars(
            select(AuditEvent).where(AuditEvent.action == "chat_unlinked")
        )
    ] == ["telegram"]


def test_the_person_links_their_own_chat_from_their_view(
    client: FlaskClient, configured, db: Session
) -> None:
    person = live_person(db)
    assert client.get("/me/chat/").status_code == 403
    one_time = people.create_link(db, person, via="web")
    db.commit()
    assert client.post("/me/link", data={"token": one_time}).status_code in (302, 303)
    page = client.get("/me/chat/")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    token = deep_link_token(client.post("/me/chat/telegram").get_data(as_text=True))
    link = chat.redeem_link_token(db, token, "8080")
    assert link.person_id == person.id and link.user_id is None
    db.commit()
    assert client.post(f"/me/chat/links/{link.id}/unlink").status_code == 303
    db.expire_all()
    assert chat.active_link(db, "telegram", "8080") is None


def test_the_person_chooses_to_hear_when_their_plan_is_opened(
    client: FlaskClient, configured, db: Session
) -> None:
    person = live_person(db)
    link = chat.redeem_link_token(db, chat.create_link_token(db, person=person), "99")
    one_time = people.create_link(db, person, via="web")
    db.commit()
    client.post("/me/link", data={"token": one_time})
    page = client.get("/me/chat/").get_data(as_text=True)
    assert "Message me when my plan is opened" in page
    response = client.post(f"/me/chat/links/{link.id}/opened", data={"wanted": "on"})
    assert response.status_code == 303
    db.expire_all()
    assert chat.active_link(db, "telegram", "99").notify_opened is True
    page = client.get("/me/chat/").get_data(as_text=True)
    assert "Stop messages when my plan is opened" in page
