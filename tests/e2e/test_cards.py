"""Plan cards in a real browser: scanning, the holder's PIN, the offline check."""

from __future__ import annotations

from typing import Any

import pytest

from plans import cards, people, versions
from responder.cards import load_keys
from tests.e2e.conftest import LiveServer
from tests.plans import factories

pytestmark = pytest.mark.e2e

PIN = "4826"


def issue_cards(live_server: LiveServer) -> tuple[str, str, str]:
    """Store a person with a live plan and a PIN; return a good and a revoked URL,
    and the team's phone number."""
    keys = load_keys(live_server.app)
    with live_server.session() as session:
        person = factories.person(session)
        versions.make_live(session, factories.draft(session, person))
        people.set_pin(session, person, PIN)
        good = cards.issue(session, person, keys, by=None, channel="cli")
        revoked = cards.issue(session, person, keys, by=None, channel="cli")
        cards.revoke(session, revoked, by=None, channel="cli")
        session.commit()
        phone = person.team.phone or ""
        return (
            cards.card_url(live_server.url, good.token),
            cards.card_url(live_server.url, revoked.token),
            phone,
        )


def path(url: str) -> str:
    """Return the path of a card URL."""
    return "/" + url.split("/", 3)[3]


def test_a_signed_in_responder_lands_on_the_plan(
    page: Any, live_server: LiveServer, make_account: Any, sign_in: Any
) -> None:
    good, _revoked, _phone = issue_cards(live_server)
    sign_in(page, make_account(role="ambulance"))
    page.goto(path(good))
    page.wait_for_url("**/plans/TEST-TEAM/00001")
    assert page.get_by_text("Alexandra has a plan agreed with the test team.").count()
    assert page.get_by_text("Advice only: always assess and treat").count()


def test_a_stranger_sees_whose_card_and_signs_in_to_the_plan(
    page: Any, live_server: LiveServer, make_account: Any, sign_in: Any
) -> None:
    good, _revoked, phone = issue_cards(live_server)
    page.goto(path(good))
    assert page.get_by_role("heading", name="This is a genuine crisis plan card")
    body = page.inner_text("body")
    assert phone in body and "Alexandra" not in body
    href = page.get_by_role("link", name="Sign in to see the plan").get_attribute(
        "href"
    )
    assert href is not None and "next=" in href
    sign_in(page, make_account(role="police"), next_path=path(good))
    page.wait_for_url("**/plans/TEST-TEAM/00001")


def test_the_holder_opens_their_own_view_with_their_pin(
    page: Any, live_server: LiveServer
) -> None:
    good, _revoked, _phone = issue_cards(live_server)
    page.goto(path(good))
    page.get_by_label("Your PIN").fill(PIN)
    page.get_by_role("button", name="See my plan").click()
    page.wait_for_url("**/me/")
    assert page.get_by_role("heading", name="Your crisis plan").is_visible()
    assert page.get_by_text("Please tell me your name.").count()
    page.get_by_label("What would you like to tell us?").fill("Please add my GP")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Your team has it").wait_for()
    assert page.get_by_text("Received").count()
    stored = page.evaluate(
        "async () => [localStorage.length, sessionStorage.length,"
        " (await caches.keys()).length]"
    )
    assert stored == [0, 0, 0]


def test_the_offline_check_verifies_in_the_browser_with_no_signal(
    page: Any, live_server: LiveServer, make_account: Any, sign_in: Any
) -> None:
    good, revoked, phone = issue_cards(live_server)
    sign_in(page, make_account(role="police"))
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function(
        """async () => {
          for (const name of await caches.keys()) {
            const cache = await caches.open(name);
            if (await cache.match('/.well-known/plan-card-keys.json')) return true;
          }
          return false;
        }""",
        polling=200,
        timeout=10_000,
    )
    page.goto("/cards/check")
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))

    page.context.set_offline(True)
    try:
        page.goto("/cards/check")
        field = page.get_by_label("Card link or code")
        result = page.locator("#card-result")

        field.fill(good)
        page.get_by_role("button", name="Check", exact=True).click()
        page.wait_for_function(
            "() => document.querySelector('#card-result').dataset.state"
        )
        assert result.get_attribute("data-state") == "valid"
        text = result.inner_text()
        assert "Genuine card" in text and phone in text
        assert "Alexandra" not in text

        field.fill(revoked)
        page.get_by_role("button", name="Check", exact=True).click()
        page.wait_for_function(
            "() => document.querySelector('#card-result').dataset.state === 'revoked'"
        )

        token = good.rsplit("/", 1)[1]
        tampered = (
            good[: -len(token)]
            + token[:30]
            + ("A" if token[30] != "A" else "B")
            + token[31:]
        )
        field.fill(tampered)
        page.get_by_role("button", name="Check", exact=True).click()
        page.wait_for_function(
            "() => document.querySelector('#card-result').dataset.state === 'invalid'"
        )
    finally:
        page.context.set_offline(False)
    assert not [url for url in seen if "/plans/" in url or "/c/" in url.lower()]


def test_card_pages_fit_a_phone_and_are_easy_to_tap(
    page: Any, live_server: LiveServer
) -> None:
    from tests.e2e.test_responder import assert_fits_the_phone

    good, revoked, _phone = issue_cards(live_server)
    for url in (path(good), path(revoked), "/cards/check"):
        page.goto(url)
        assert_fits_the_phone(page)
    page.goto(path(good))
    page.get_by_label("Your PIN").fill(PIN)
    page.get_by_role("button", name="See my plan").click()
    page.wait_for_url("**/me/")
    assert_fits_the_phone(page)
    page.get_by_role("link", name="Ask to leave the scheme").click()
    page.wait_for_url("**/me/withdraw")
    assert_fits_the_phone(page)


def test_a_card_link_answered_with_the_check_page_checks_that_card(
    page: Any, live_server: LiveServer
) -> None:
    good, _revoked, phone = issue_cards(live_server)
    # What the service worker does with no signal: answer the card's own URL
    # with the cached check page (the page must then find the card in its URL).
    page.goto("/cards/check")
    check_page = page.content()
    page.route(
        "**/C/**",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body=check_page
        ),
    )
    page.goto(path(good))
    page.wait_for_function(
        "() => document.querySelector('#card-result').dataset.state === 'valid'"
    )
    assert phone in page.locator("#card-result").inner_text()
