"""Browser tests of linking a chat: Telegram's deep link and a number's code."""

from __future__ import annotations

import re
from typing import Any

import pytest

from plans import chat
from tests.bots.fakes import RecordingHttpClient, no_network

__all__ = ["no_network"]

pytestmark = pytest.mark.e2e


def test_a_responder_links_and_unlinks_telegram(
    page: Any, live_server: Any, make_account: Any, sign_in: Any
) -> None:
    live_server.app.config["TELEGRAM_BOT_USERNAME"] = "ResponderTestBot"
    account = make_account(role="police")
    sign_in(page, account)
    response = page.goto("/chat/")
    assert response.headers["cache-control"] == "no-store"
    assert page.get_by_text("Nothing is linked.").is_visible()
    page.get_by_role("button", name="Link Telegram").click()
    link = page.get_by_role("link", name="Link Telegram")
    link.wait_for()
    href = link.get_attribute("href")
    match = re.fullmatch(r"https://t\.me/ResponderTestBot\?start=([\w-]+)", href)
    assert match
    # What the bot does when the person presses Start in Telegram.
    with live_server.session() as session:
        assert chat.redeem_link_token(session, match.group(1), "31337") is not None
        session.commit()
    page.goto("/chat/")
    page.get_by_text("Telegram: a Telegram chat").wait_for()
    page.get_by_role("button", name="Unlink").click()
    page.get_by_text("Telegram unlinked.").wait_for()
    assert page.get_by_text("Nothing is linked.").is_visible()


def test_a_responder_links_a_number_with_the_code_texted_to_it(
    page: Any, live_server: Any, make_account: Any, sign_in: Any
) -> None:
    recording = RecordingHttpClient()
    live_server.app.config.update(
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="token",
        TWILIO_SMS_NUMBER="+441632960999",
    )
    live_server.app.extensions["responder.twilio_http"] = recording
    sign_in(page, make_account(role="ambulance"))
    page.goto("/chat/")
    page.get_by_label("Mobile number").fill("07700 900123")
    page.get_by_role("button", name="Send a code").click()
    code_field = page.get_by_label(re.compile("Code sent by SMS"))
    code_field.wait_for()
    (to, body) = recording.bodies()[0]
    assert to == "+447700900123"
    code = re.search(r"code is (\d{6})", body).group(1)
    code_field.fill(code)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("SMS linked.").wait_for()
    assert page.get_by_text(re.compile(r"SMS: •+123")).is_visible()
