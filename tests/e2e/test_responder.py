"""A responder on a phone: search, near me, open a plan with a reason, sign out."""

from __future__ import annotations

import re
from typing import Any

import pytest

from plans.exchange.landing import import_documents
from tests.e2e.conftest import PHONE_POSITION, LiveServer
from tests.plans.factories import document

pytestmark = pytest.mark.e2e

REF = "TEST-TEAM/00001"

CACHE_CONTENTS = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    out[name] = (await cache.keys()).map((request) => new URL(request.url).pathname);
  }
  return out;
}"""


def land_plan(live_server: LiveServer) -> None:
    """Land a synthetic plan with a crisis location where the phone stands."""
    doc = document(
        REF,
        summary="Alexandra may be found near the station. Speak calmly.",
        advice_for={
            "police": "POLICE-ADVICE: offer a lift to the crisis cafe.",
            "ambulance": "AMBULANCE-ADVICE: check for overdose.",
        },
        crisis_locations=[
            {
                "name": "Central station",
                "lat": PHONE_POSITION["latitude"] + 0.0005,
                "lon": PHONE_POSITION["longitude"],
            }
        ],
        nominated_people=[
            {"name": "Sam Example", "phone": "07700 900123", "consent_recorded": True}
        ],
    )
    with live_server.session() as session:
        report = import_documents(session, [doc], actor=None, source="e2e")
        assert not report.refused
        session.commit()


def assert_fits_the_phone(page: Any) -> None:
    """Assert nothing scrolls sideways and every control is big enough to tap."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    small = page.evaluate(
        """() => [...document.querySelectorAll(
              'button, .button, input:not([type=hidden]), select, .result')]
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.textContent.trim() || el.name, el.getBoundingClientRect()])
            .filter(([, box]) => box.height < 44 || box.width < 44)
            .map(([name]) => name)"""
    )
    assert small == []


def test_search_by_name_shows_minimal_identity(
    page: Any, live_server: LiveServer, make_account: Any, sign_in: Any
) -> None:
    land_plan(live_server)
    sign_in(page, make_account(role="police"))

    assert page.get_by_role("heading", name="Find a crisis plan").is_visible()
    assert_fits_the_phone(page)
    page.get_by_label("Name, description or place").fill("alexandra")
    page.get_by_role("button", name="Search", exact=True).click()

    result = page.locator(".result").first
    result.wait_for()
    assert "Alexandra Testperson" in result.inner_text()
    assert "Testtown" in result.inner_text()
    assert "POLICE-ADVICE" not in page.content()
    assert_fits_the_phone(page)


def test_near_me_uses_the_phones_location_when_pressed(
    page: Any, live_server: LiveServer, make_account: Any, sign_in: Any
) -> None:
    land_plan(live_server)
    sign_in(page, make_account(role="ambulance"))

    page.get_by_role("button", name="Near me").click()

    page.get_by_role("heading", name="Plans near you").wait_for()
    assert "lat=50.9077" in page.url
    result = page.locator(".result").first
    assert "Alexandra Testperson" in result.inner_text()
    # What matched, in words that quote no plan text (security finding 7).
    assert "a crisis location" in result.inner_text()
    assert "Central station" not in result.inner_text()


def test_opening_a_plan_with_a_reason_shows_it_and_caches_none_of_it(
    page: Any, live_server: LiveServer, make_account: Any, sign_in: Any
) -> None:
    land_plan(live_server)
    sign_in(page, make_account(role="police"))
    page.goto("/search?q=alexandra")

    page.locator(".result").first.click()
    page.get_by_label(re.compile("CAD or log number")).fill("INC-42")
    assert_fits_the_phone(page)
    page.get_by_role("button", name="Attending an incident with this person").click()

    page.get_by_role("heading", name="Alexandra Testperson").wait_for()
    assert page.url.endswith(f"/plans/{REF}")
    text = page.inner_text("main")
    assert "Advice only: always assess and treat" in text
    assert text.index("POLICE-ADVICE") < text.index("Speak calmly")
    call = page.get_by_role("link", name=re.compile("Call 07700 900123"))
    assert call.get_attribute("href") == "tel:07700900123"
    assert_fits_the_phone(page)

    page.evaluate("navigator.serviceWorker.ready")
    page.reload()
    cached = page.evaluate(CACHE_CONTENTS)
    paths = {path for listed in cached.values() for path in listed}
    assert "/static/css/app.css" in paths
    assert not [p for p in paths if p.startswith(("/plans", "/search", "/open"))]
    stored = page.evaluate(
        "() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"
    )
    assert "POLICE-ADVICE" not in stored


def test_signing_out_clears_the_caches_and_the_service_worker(
    page: Any, live_server: LiveServer, make_account: Any, sign_in: Any
) -> None:
    sign_in(page, make_account(role="control_room"))
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function(
        "async () => (await caches.keys()).length > 0", polling=200, timeout=10_000
    )

    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()

    assert "/login" in page.url
    page.wait_for_function(
        """async () => (await caches.keys()).length === 0
            && (await navigator.serviceWorker.getRegistrations()).length === 0""",
        polling=200,
        timeout=10_000,
    )
    page.goto("/")
    assert "/login" in page.url


def test_the_offline_page_is_served_when_the_network_is_gone(
    page: Any, live_server: LiveServer, make_account: Any, sign_in: Any
) -> None:
    sign_in(page, make_account(role="police"))
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function(
        "async () => (await caches.keys()).length > 0", polling=200, timeout=10_000
    )
    page.reload()  # now controlled by the service worker

    page.context.set_offline(True)
    try:
        page.goto("/search?q=alexandra")
        assert page.get_by_role("heading", name="You are offline").is_visible()
    finally:
        page.context.set_offline(False)


def test_pages_keep_to_the_csp_and_ask_no_third_party(
    page: Any, live_server: LiveServer, make_account: Any, sign_in: Any
) -> None:
    land_plan(live_server)
    complaints: list[str] = []
    elsewhere: list[str] = []
    page.on(
        "console",
        lambda message: (
            complaints.append(message.text)
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.on(
        "request",
        lambda request: (
            elsewhere.append(request.url)
            if not request.url.startswith((live_server.url, "data:"))
            else None
        ),
    )
    sign_in(page, make_account(role="police"))

    for path in ("/", "/search?q=alexandra", f"/open/{REF}", "/scan", "/offline"):
        page.goto(path)
    page.goto(f"/open/{REF}")
    page.get_by_role("button", name="Attending an incident with this person").click()
    page.wait_for_url(f"**/plans/{REF}")

    assert [text for text in complaints if "Content Security Policy" in text] == []
    assert elsewhere == []


FAKE_CAMERA = """(value) => {
  window.BarcodeDetector = class {
    static async getSupportedFormats() { return ["qr_code"]; }
    async detect() { return [{ rawValue: value }]; }
  };
  navigator.mediaDevices.getUserMedia = async () => {
    const canvas = document.createElement("canvas");
    canvas.getContext("2d").fillRect(0, 0, 8, 8);
    return canvas.captureStream();
  };
}"""


def test_without_barcode_detection_the_scanner_says_use_the_phone_camera(
    page: Any, live_server: LiveServer, make_account: Any, sign_in: Any
) -> None:
    sign_in(page, make_account(role="police"))
    page.add_init_script("delete window.BarcodeDetector")

    page.goto("/")
    page.get_by_role("link", name="Scan a card").click()

    assert page.get_by_text("Use your phone camera").is_visible()
    assert not page.get_by_role("button", name="Start camera").is_visible()


def test_the_scanner_opens_a_card_from_this_service(
    page: Any, live_server: LiveServer, make_account: Any, sign_in: Any
) -> None:
    sign_in(page, make_account(role="police"))
    card = f"{live_server.url}/c/TESTTOKEN123"
    page.add_init_script(f"({FAKE_CAMERA})({card!r})")

    page.goto("/scan")
    page.get_by_role("button", name="Start camera").click()

    page.wait_for_url("**/c/TESTTOKEN123")


def test_the_scanner_ignores_codes_from_elsewhere(
    page: Any, live_server: LiveServer, make_account: Any, sign_in: Any
) -> None:
    sign_in(page, make_account(role="police"))
    page.add_init_script(f"({FAKE_CAMERA})('https://example.com/c/TESTTOKEN123')")

    page.goto("/scan")
    page.get_by_role("button", name="Start camera").click()

    page.get_by_text("not a plan card from this service").wait_for()
    assert page.url.endswith("/scan")


def test_near_me_without_location_permission_says_what_to_do(
    browser: Any, live_server: LiveServer, make_account: Any, sign_in: Any
) -> None:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 360, "height": 740}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, make_account(role="police"))
        page.get_by_role("button", name="Near me").click()

        page.get_by_text("Location not available").wait_for()
        assert page.url.rstrip("/") == live_server.url
    finally:
        context.close()
