"""The account page lists the user's API tokens and revokes them, only their own."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from plans import accounts
from plans.models import User
from tests.conftest import AuthActions


def test_the_account_page_lists_and_revokes_own_tokens(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    signed_in = auth.login(role="control_room")
    user = db.get(User, signed_in.id)
    assert user is not None
    row, token = accounts.create_token(db, user, name="dispatch desk")
    stranger = accounts.create_user(db, "other@example.test", role="police")
    theirs, their_token = accounts.create_token(db, stranger)
    db.commit()

    page = client.get("/account").get_data(as_text=True)
    assert "dispatch desk" in page and "expires" in page

    assert client.post(f"/account/tokens/{theirs.id}/revoke").status_code == 404
    response = client.post(f"/account/tokens/{row.id}/revoke")
    assert response.status_code == 303
    db.expire_all()
    assert accounts.authenticate_token(db, token) is None
    assert accounts.authenticate_token(db, their_token) is not None
    assert "revoked" in client.get("/account").get_data(as_text=True)
