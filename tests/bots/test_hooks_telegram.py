"""The Telegram webhook and bot, driven offline through process_update."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bots import replies
from plans import chat
from plans.access import AccessGrant
from plans.audit import AuditEvent
from responder import hooks
from tests.bots.fakes import (
    BOT_TOKEN,
    PLAN_EXTRAS,
    RecordingRequest,
    live_person,
    no_network,
    staff,
)

__all__ = ["no_network"]

SECRET = "webhook-secret-for-tests-0123456789"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


@pytest.fixture
def telegram(app: Flask) -> Iterator[RecordingRequest]:
    """Configure the bot on the app with a recording request object."""
    app.config.update(
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_BOT_USERNAME="ResponderTestBot",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        PUBLIC_BASE_URL="https://responder.example",
    )
    recording = RecordingRequest()
    runner = hooks.install_telegram(app, request_object=recording)
    yield recording
    runner.close()


_next_id = iter(range(1000, 100000))


def message(chat_id: int, text: str, *, chat_type: str = "private") -> dict[str, Any]:
    update_id = next(_next_id)
    body: dict[str, Any] = {
        "message_id": update_id,
        "date": 1763892000,
        "chat": {"id": chat_id, "type": chat_type},
        "from": {"id": abs(chat_id), "is_bot": False, "first_name": "Test"},
        "text": text,
    }
    if text.startswith("/"):
        command = text.split()[0]
        body["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(command)}
        ]
    return {"update_id": update_id, "message": body}


def tap(chat_id: int, data: str) -> dict[str, Any]:
    update_id = next(_next_id)
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": 1,
                "date": 1763892000,
                "chat": {"id": chat_id, "type": "private"},
                "text": "Matches:",
            },
        },
    }


def location(chat_id: int, lat: float, lon: float) -> dict[str, Any]:
    update = message(chat_id, "")
    del update["message"]["text"]
    update["message"]["location"] = {"latitude": lat, "longitude": lon}
    return update


def post(client: FlaskClient, update: dict[str, Any], **kwargs: Any) -> int:
    return client.post("/hooks/telegram", json=update, headers=HEADERS, **kwargs)


def last_text(recording: RecordingRequest) -> str:
    return recording.sent()[-1]["text"]


@pytest.fixture
def linked_officer(telegram: RecordingRequest, client: FlaskClient, db: Session) -> int:
    officer = staff(db, "pc.tele@example.org")
    live_person(db)
    token = chat.create_link_token(db, user=officer)
    db.commit()
    assert post(client, message(5001, f"/start {token}")).status_code == 200
    return 5001


def test_start_with_a_token_links_the_chat(
    telegram: RecordingRequest, linked_officer: int, db: Session
) -> None:
    assert (
        last_text(telegram)
        == "Linked to Responder as pc.tele (Police). Send help for commands."
    )
    assert telegram.calls[0][0] == "getMe"
    link = chat.active_link(db, "telegram", "5001")
    assert link is not None and link.user.email == "pc.tele@example.org"


def test_an_unknown_chat_gets_one_generic_line(
    telegram: RecordingRequest, client: FlaskClient, db: Session
) -> None:
    live_person(db)
    db.commit()
    post(client, message(6000, "/find Alexandra"))
    assert [m["text"] for m in telegram.sent()] == [replies.NOT_LINKED]


def test_a_group_chat_gets_nothing(
    telegram: RecordingRequest, client: FlaskClient, linked_officer: int
) -> None:
    before = len(telegram.sent())
    for kind in ("group", "supergroup"):
        response = post(client, message(-5001, "/find Alexandra", chat_type=kind))
        assert response.status_code == 200
    assert len(telegram.sent()) == before


def test_find_answers_with_results_and_buttons_then_a_tap_opens(
    telegram: RecordingRequest, client: FlaskClient, linked_officer: int, db: Session
) -> None:
    post(client, message(linked_officer, "/find Alexandra"))
    found = telegram.sent()[-1]
    assert found["text"].startswith("Matches:\n1. Alexandra Testperson")
    assert found["parse_mode"] == "HTML"
    keyboard = found["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0]["callback_data"] == "open:1:attending"
    post(client, tap(linked_officer, "open:1:attending"))
    assert "answerCallbackQuery" in [name for name, _ in telegram.calls]
    assert replies.ADVICE_ONLY in last_text(telegram)
    grant = db.scalars(select(AccessGrant)).one()
    assert (grant.channel, grant.basis) == ("telegram", "attending_incident")
    channels = {
        row.channel
        for row in db.scalars(
            select(AuditEvent).where(
                AuditEvent.action.in_(["search", "plan_opened", "plan_disclosed"])
            )
        )
    }
    assert channels == {"telegram"}


def test_summary_disclosure_on_telegram(
    app: Flask, telegram: RecordingRequest, client: FlaskClient, db: Session
) -> None:
    app.config["CHAT_DISCLOSURE"] = "summary"
    runner = hooks.install_telegram(app)
    runner.application.bot_data["settings"] = hooks.chat_settings(app)
    officer = staff(db, "pc.sum@example.org")
    live_person(db)
    token = chat.create_link_token(db, user=officer)
    db.commit()
    post(client, message(5002, f"/start {token}"))
    post(client, message(5002, "find Alexandra"))
    post(client, message(5002, "/open 1 attending INC-7"))
    text = last_text(telegram)
    assert PLAN_EXTRAS["summary"] in text
    assert PLAN_EXTRAS["advice_for"]["police"] in text
    assert replies.ADVICE_ONLY in text


def test_a_shared_location_finds_plans_near_you(
    telegram: RecordingRequest, client: FlaskClient, linked_officer: int
) -> None:
    post(client, location(linked_officer, 50.9101, -1.4101))
    assert last_text(telegram).startswith("Matches near you:\n1. Alexandra")


def test_user_text_is_escaped_for_html(
    telegram: RecordingRequest, client: FlaskClient, linked_officer: int
) -> None:
    post(client, message(linked_officer, "find x near <b>Atlantis</b> & co"))
    text = last_text(telegram)
    assert "&lt;b&gt;Atlantis&lt;/b&gt; &amp; co" in text
    assert "<b>" not in text


def test_a_replayed_update_is_handled_once(
    telegram: RecordingRequest, client: FlaskClient, linked_officer: int
) -> None:
    update = message(linked_officer, "help")
    before = len(telegram.sent())
    assert post(client, update).status_code == 200
    assert post(client, update).status_code == 200
    assert len(telegram.sent()) == before + 1


def test_unlink_from_the_chat(
    telegram: RecordingRequest, client: FlaskClient, linked_officer: int, db: Session
) -> None:
    post(client, message(linked_officer, "/unlink"))
    assert last_text(telegram) == replies.UNLINKED
    assert chat.active_link(db, "telegram", str(linked_officer)) is None
    post(client, message(linked_officer, "/find Alexandra"))
    assert last_text(telegram) == replies.NOT_LINKED


@pytest.mark.parametrize(
    ("headers", "kwargs", "status"),
    [
        ({}, {}, 403),
        ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}, 403),
        (HEADERS, {"data": "update_id=1", "content_type": "text/plain"}, 415),
        (HEADERS, {"data": "{not json", "content_type": "application/json"}, 400),
        (HEADERS, {"json": {"no": "update_id"}}, 400),
        (
            HEADERS,
            {"data": "{" + " " * 300_000 + "}", "content_type": "application/json"},
            413,
        ),
    ],
)
def test_the_webhook_refuses_bad_requests_with_bare_statuses(
    telegram: RecordingRequest,
    client: FlaskClient,
    headers: dict[str, str],
    kwargs: dict[str, Any],
    status: int,
) -> None:
    if not {"json", "data"} & set(kwargs):
        kwargs = {"json": message(1, "help")}
    response = client.post("/hooks/telegram", headers=headers, **kwargs)
    assert response.status_code == status
    assert response.data == b""
    assert telegram.sent() == []


def test_the_webhook_is_off_until_configured(client: FlaskClient) -> None:
    response = client.post("/hooks/telegram", json=message(1, "help"), headers=HEADERS)
    assert response.status_code == 404 and response.data == b""


def test_nothing_secret_reaches_the_logs(
    telegram: RecordingRequest,
    client: FlaskClient,
    db: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    officer = staff(db, "pc.log@example.org")
    live_person(db)
    token = chat.create_link_token(db, user=officer)
    db.commit()
    post(client, message(5003, f"/start {token}"))
    post(client, message(5003, "find Alexandra"))
    post(client, message(5003, "open 1 attending INC-9"))
    assert telegram.sent()
    for secret in (token, BOT_TOKEN, SECRET, "Alexandra", "INC-9"):
        assert secret not in caplog.text


def test_a_failing_handler_is_logged_and_the_chat_told(
    telegram: RecordingRequest,
    client: FlaskClient,
    linked_officer: int,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bots import commands

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(commands, "handle_text", broken)
    assert post(client, message(linked_officer, "help")).status_code == 200
    assert "telegram handler failed" in caplog.text
    assert last_text(telegram).startswith("Sorry, something went wrong")


def test_a_responder_is_offered_the_share_location_button(
    telegram: RecordingRequest, client: FlaskClient, linked_officer: int
) -> None:
    # Linking, and help, both offer it.
    for sent in (telegram.sent()[-1], None):
        if sent is None:
            post(client, message(linked_officer, "/help"))
            sent = telegram.sent()[-1]
        (button,) = sent["reply_markup"]["keyboard"][0]
        assert button == {"text": "Plans near me", "request_location": True}
