"""WCAG 2.2 AA with axe-core on the pages responders and mentors use.

axe-core comes from npm into ./node_modules (.ci/run installs it with
`npm install --no-save axe-core@<pin>`). It is injected into a context that
bypasses CSP, because the app's CSP rightly refuses injected scripts; the CSP
itself is checked with the real pages in tests/e2e/test_responder.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from plans.models import Person
from tests.e2e.conftest import PHONE_POSITION, PHONE_VIEWPORT, LiveServer
from tests.e2e.test_responder import REF, land_plan

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@pytest.fixture(scope="module")
def axe_source() -> str:
    """Return axe-core's script, or skip (fail in CI) when it is not installed."""
    if not AXE.exists():
        reason = f"axe-core is not installed at {AXE} (npm install --no-save axe-core)"
        if os.environ.get("RESPONDER_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + "; RESPONDER_REQUIRE_BROWSER=1 requires it")
        pytest.skip(reason)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(params=["light", "dark"])
def axe_page(
    browser: Any, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """Return a phone-sized page whose context lets axe-core be injected.

    Every scan runs twice: in light mode and with the phone asking for dark.
    """
    context = browser.new_context(
        color_scheme=request.param,
        base_url=live_server.url,
        viewport=PHONE_VIEWPORT,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        geolocation=PHONE_POSITION,
        permissions=["geolocation"],
        bypass_csp=True,
        service_workers="block",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def violations(page: Any, axe_source: str) -> list[str]:
    """Run axe-core on the page; return its violations in words."""
    page.add_script_tag(content=axe_source)
    result = page.evaluate(
        "async (tags) => await axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    return [
        f"{item['id']} ({item['impact']}): {item['help']} at "
        + json.dumps([node["target"] for node in item["nodes"]][:5])
        for item in result["violations"]
    ]


def test_the_scan_finds_a_real_violation(axe_page: Any, axe_source: str) -> None:
    axe_page.goto("/login")
    axe_page.evaluate(
        "document.querySelector('main').append(document.createElement('input'))"
    )

    assert any(found.startswith("label ") for found in violations(axe_page, axe_source))


def test_sign_in_page_has_no_violations(axe_page: Any, axe_source: str) -> None:
    axe_page.goto("/login")

    assert violations(axe_page, axe_source) == []


def test_responder_pages_have_no_violations(
    axe_page: Any,
    axe_source: str,
    live_server: LiveServer,
    make_account: Any,
    sign_in: Any,
) -> None:
    land_plan(live_server)
    sign_in(axe_page, make_account(role="police"))
    found: dict[str, list[str]] = {}

    for path in ("/", "/search?q=alexandra", f"/open/{REF}", "/scan", "/offline"):
        assert axe_page.goto(path).status == 200, path
        found[path] = violations(axe_page, axe_source)
    axe_page.goto(f"/open/{REF}")
    axe_page.get_by_label("CAD or log number", exact=False).fill("INC-1")
    axe_page.get_by_role(
        "button", name="Attending an incident with this person"
    ).click()
    axe_page.wait_for_url(f"**/plans/{REF}")
    found["plan"] = violations(axe_page, axe_source)
    axe_page.goto("/nowhere")
    found["404"] = violations(axe_page, axe_source)

    assert found == {path: [] for path in found}


def test_mentor_desk_has_no_violations(
    axe_page: Any,
    axe_source: str,
    live_server: LiveServer,
    make_account: Any,
    sign_in: Any,
) -> None:
    if "mentor.index" not in live_server.app.view_functions:
        pytest.skip("the mentor desk is not in this tree yet")
    land_plan(live_server)
    with live_server.session() as session:
        person_id = session.scalar(select(Person.id).where(Person.ref == REF))
    sign_in(axe_page, make_account(role="mentor", teams=("TEST-TEAM",)))
    found: dict[str, list[str]] = {}

    for path in ("/mentor/", "/mentor/new", f"/mentor/people/{person_id}"):
        assert axe_page.goto(path).status == 200, path
        found[path] = violations(axe_page, axe_source)

    assert found == {path: [] for path in found}
