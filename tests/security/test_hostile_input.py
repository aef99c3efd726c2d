"""Hostile input answers 4xx, never 500; switched-off channels are gone.

Findings 8, 9 and 10 of the hostile test pass (issue 12), and the Twilio half of
finding 11: each test failed on the code the pass ran against.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from bots import replies
from plans import accounts
from tests.bots.fakes import RecordingRequest, no_network
from tests.bots.test_hooks_telegram import HEADERS, linked_officer, message, telegram
from tests.bots.test_hooks_twilio import (
    AUTH_TOKEN,
    BASE,
    form,
    officer,
    send,
    signed,
    twilio_app,
    twiml_text,
)

__all__ = ["no_network", "telegram", "linked_officer", "officer", "twilio_app"]


# -- finding 8: error pages need no request adapter -------------------------------


@pytest.fixture
def trusted_hosts_app(app: Flask) -> Flask:
    app.config["TRUSTED_HOSTS"] = ["responder.example.nhs.uk"]
    return app


@pytest.mark.parametrize("path", ["/", "/login", "/account", "/no-such-page"])
def test_a_forged_host_header_gets_an_html_400_not_a_500(
    trusted_hosts_app: Flask, path: str
) -> None:
    client = trusted_hosts_app.test_client()
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "The request could not be understood." in response.get_data(as_text=True)


@pytest.mark.parametrize("code", [400, 403, 404, 405, 429, 500, 503])
def test_every_html_error_page_renders_without_a_request_adapter(
    app: Flask, code: int
) -> None:
    from responder.errors import render_error

    # A bare request context whose URL adapter could not be built.
    with app.test_request_context("/anything") as context:
        context.url_adapter = None
        body, status = render_error(code)
    assert status == code
    assert f"Error {code}." in str(body)


# -- finding 9: malformed parameters get 400 --------------------------------------


@pytest.fixture
def api_token(app: Flask, db: Session) -> str:
    user = accounts.create_user(db, "cr@example.org", role="control_room")
    _row, token = accounts.create_token(db, user)
    db.commit()
    return token


@pytest.mark.parametrize("limit", ["\u00b2", "\u0663", "\uff11", "1\u00b2", "99999999"])
def test_unicode_digits_in_the_search_limit_get_400(
    client: FlaskClient, api_token: str, limit: str
) -> None:
    response = client.get(
        "/api/v1/search",
        query_string={"q": "smith", "limit": limit},
        headers={"Authorization": f"Bearer {api_token}"},
    )
    assert response.status_code == 400
    assert "limit" in response.get_json()["error"]


@pytest.mark.parametrize("number", ["\u00b2", "\u0663", "\uff11"])
def test_sms_open_with_a_unicode_digit_asks_which_result(
    client: FlaskClient, officer: str, number: str
) -> None:
    send(client, form(officer, "find Alexandra"))
    response = send(client, form(officer, f"open {number} attending"))
    assert response.status_code == 200
    assert replies.WHICH_RESULT in twiml_text(response)


def _nested(depth: int) -> bytes:
    inner = (
        '{"message_id": 1, "date": 1763892000, "chat": {"id": 1, "type": "private"}}'
    )
    text = inner
    for _ in range(depth):
        text = (
            '{"message_id": 1, "date": 1763892000, "chat": {"id": 1, "type": '
            f'"private"}}, "reply_to_message": {text}}}'
        )
    return ('{"update_id": 77, "message": ' + text + "}").encode()


@pytest.mark.parametrize(
    "body",
    [
        _nested(1200),
        b'{"update_id": 78, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["nested-replies", "nested-arrays"],
)
def test_a_deeply_nested_telegram_update_gets_400(
    telegram: RecordingRequest, client: FlaskClient, body: bytes
) -> None:
    response = client.post(
        "/hooks/telegram",
        data=body,
        headers={**HEADERS, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert telegram.sent() == []


def test_depth_counting_ignores_brackets_inside_strings() -> None:
    from responder.hooks import json_depth_ok

    assert json_depth_ok(json.dumps({"text": "[[[[{{{{" * 50}).encode(), 3)
    assert not json_depth_ok(b"[[[[]]]]", 3)
    assert json_depth_ok(b'{"a": "\\"[[[["}', 1)


def test_an_ordinary_telegram_update_still_goes_through(
    telegram: RecordingRequest, client: FlaskClient, linked_officer: int
) -> None:
    response = client.post(
        "/hooks/telegram", json=message(linked_officer, "help"), headers=HEADERS
    )
    assert response.status_code == 200


# -- finding 10: a channel switched off takes no webhooks --------------------------


@pytest.mark.parametrize("switch", [False, "false", "0", "off"])
def test_telegram_switched_off_refuses_webhooks_even_with_a_secret(
    app: Flask, telegram: RecordingRequest, client: FlaskClient, switch: Any
) -> None:
    app.config["TELEGRAM_ENABLED"] = switch
    response = client.post(
        "/hooks/telegram", json=message(5009, "help"), headers=HEADERS
    )
    assert response.status_code == 404
    assert telegram.sent() == []


@pytest.mark.parametrize("path", ["/hooks/twilio/sms", "/hooks/twilio/whatsapp"])
@pytest.mark.parametrize("switch", [False, "false"])
def test_twilio_switched_off_refuses_webhooks_even_with_a_token(
    twilio_app: Flask, client: FlaskClient, path: str, switch: Any
) -> None:
    twilio_app.config["TWILIO_ENABLED"] = switch
    response = send(client, form("+447700900123", "help"), path=path)
    assert response.status_code == 404


def test_twilio_switched_on_explicitly_still_answers(
    twilio_app: Flask, client: FlaskClient
) -> None:
    twilio_app.config["TWILIO_ENABLED"] = True
    assert send(client, form("+447700900123", "help")).status_code == 200


# -- finding 11 (Twilio): every value of a repeated key is signed -------------------


def _post_pairs(
    client: FlaskClient, pairs: list[tuple[str, str]], signature: str
) -> Any:
    return client.post(
        "/hooks/twilio/sms",
        data=MultiDict(pairs),
        headers={"X-Twilio-Signature": signature},
    )


def test_a_value_smuggled_under_a_signed_key_is_refused(
    twilio_app: Flask, client: FlaskClient
) -> None:
    params = form("+447700900123", "help")
    signature = signed(BASE + "/hooks/twilio/sms", params)
    pairs = [*params.items(), ("Body", "find Alexandra")]
    assert _post_pairs(client, pairs, signature).status_code == 403


def test_a_request_with_repeated_keys_signed_as_twilio_signs_is_accepted(
    twilio_app: Flask, client: FlaskClient
) -> None:
    from twilio.request_validator import RequestValidator

    params = form("+447700900123", "help")
    pairs = [*params.items(), ("MediaUrl", "https://a.example/1")]
    pairs.append(("MediaUrl", "https://a.example/2"))
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        BASE + "/hooks/twilio/sms", MultiDict(pairs)
    )
    assert _post_pairs(client, pairs, signature).status_code == 200
