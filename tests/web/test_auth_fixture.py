"""The `auth` fixture signs in through the real pages, as other tests rely on."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import AuthActions


def test_auth_fixture_signs_in_and_out(client: FlaskClient, auth: AuthActions) -> None:
    assert client.get("/account").status_code == 302
    user = auth.login(role="mentor", teams=("DEMO-X", "DEMO-Y"))
    assert user.role == "mentor"
    page = client.get("/account")
    assert page.status_code == 200
    assert "Test mentor" in page.get_data(as_text=True)
    auth.logout()
    assert client.get("/account").status_code == 302


def test_auth_fixture_signs_the_same_user_in_twice(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login(email="same@example.test")
    auth.logout()
    auth.login(email="same@example.test")
    assert client.get("/account").status_code == 200
