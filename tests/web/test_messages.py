"""Flashed messages: shown once, by base.html, on the next page not cached."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.conftest import AuthActions
from tests.web.test_mentor import FILLED, TEAM, plan_form

MESSAGES = [
    ("message", "A plain word."),
    ("error", "Something was refused."),
    ("warning", "Mind this."),
    ("success", "It worked."),
    ("ok", "Done too."),
]


def flash_pending(client: FlaskClient) -> None:
    with client.session_transaction() as stored:
        stored["_flashes"] = list(MESSAGES)


@pytest.fixture
def signed_in(auth: AuthActions) -> None:
    auth.login(role="mentor", teams=(TEAM,))


def test_a_message_from_a_view_is_shown_once(
    client: FlaskClient, db: Session, signed_in: None
) -> None:
    page = client.get("/mentor/new").get_data(as_text=True)
    form = {**plan_form(page), **FILLED, "action": "save"}
    response = client.post("/mentor/new", data=form, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert page.count("Draft saved.") == 1
    assert page.count('class="messages"') == 1
    # Read once: the next page no longer says it.
    again = client.get(response.request.path).get_data(as_text=True)
    assert "Draft saved." not in again


@pytest.mark.parametrize("path", ["/account", "/mentor/"])
def test_every_category_has_one_class_on_every_page(
    client: FlaskClient, signed_in: None, path: str
) -> None:
    # /account never showed messages before base.html did; the desk had its own.
    flash_pending(client)
    page = client.get(path).get_data(as_text=True)
    assert '<p class="notice message">A plain word.</p>' in page
    assert '<p class="notice error">Something was refused.</p>' in page
    assert '<p class="notice warning">Mind this.</p>' in page
    assert '<p class="notice success">It worked.</p>' in page
    assert '<p class="notice success">Done too.</p>' in page
    for _, words in MESSAGES:
        assert page.count(words) == 1


def test_a_page_that_may_be_cached_leaves_messages_for_the_next_page(
    client: FlaskClient, signed_in: None
) -> None:
    flash_pending(client)
    response = client.get("/cards/check")
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("public")
    assert "Something was refused." not in response.get_data(as_text=True)
    assert "Something was refused." in client.get("/account").get_data(as_text=True)


def test_an_error_page_outside_base_still_renders_and_keeps_messages(
    client: FlaskClient, signed_in: None
) -> None:
    flash_pending(client)
    missing = client.get("/mentor/people/999999")
    assert missing.status_code == 404
    assert "Something was refused." not in missing.get_data(as_text=True)
    assert "Something was refused." in client.get("/account").get_data(as_text=True)
