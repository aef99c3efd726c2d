"""Plan cards on the web: scanning, the published keys, issuing and printing."""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import MODE_ALPHA_NUM
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import access, card_documents, card_keys, cards, versions
from plans.audit import AuditEvent
from plans.db import utcnow
from plans.models import Person
from responder.qr import qr_code
from tests.plans import factories
from tests.web.test_cards_support import (
    decode_qr,
    live_person,
    path_of,
    sign_in,
    staff,
    use_fresh_keys,
)


@pytest.fixture
def keys(app: Flask) -> card_keys.KeySet:
    """Return the keys this test's app signs cards with."""
    return use_fresh_keys(app)


@pytest.fixture
def holder(db: Session) -> Person:
    """Return a person with a live plan, committed."""
    person = live_person(db)
    db.commit()
    return person


@pytest.fixture
def card(db: Session, holder: Person, keys: card_keys.KeySet) -> cards.Card:
    """Return a card issued for the holder."""
    card = cards.issue(db, holder, keys, by=None, channel="cli")
    db.commit()
    return card


def _pdf(data: bytes) -> Any:
    # pypdf is a test-only dependency (see the report); skip cleanly without it.
    return pytest.importorskip("pypdf").PdfReader(io.BytesIO(data))


def _actions(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_the_printed_qr_leads_a_responder_straight_to_the_plan(
    app: Flask, client: FlaskClient, db: Session, holder: Person, card: cards.Card
) -> None:
    mentor = staff(db, "mentor@example.org", "mentor")
    officer = staff(db, "pc@example.org", "police")
    db.commit()
    sign_in(app, client, mentor)
    png = client.get(f"/cards/{card.id}/card.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    url = decode_qr(png.data)
    assert url == url.upper() and url.startswith("HTTPS://RESPONDER.EXAMPLE/C/")

    officer_client = app.test_client()
    sign_in(app, officer_client, officer)
    response = officer_client.get(path_of(url))
    assert response.status_code == 302
    assert "/C/" not in response.headers["Location"].upper()
    grant = access.active_grant(db, officer, holder)
    assert grant is not None and grant.basis == "card_scan" and grant.channel == "card"
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "plan_opened")
    ).one()
    assert event.detail["card_id"] == card.short_id


def test_the_same_card_opens_the_newly_published_version(
    app: Flask, client: FlaskClient, db: Session, holder: Person, card: cards.Card
) -> None:
    versions.make_live(db, factories.draft(db, holder, version=2))
    officer = staff(db, "pc@example.org", "police")
    db.commit()
    sign_in(app, client, officer)
    assert client.get(f"/c/{card.token}").status_code == 302
    grant = access.active_grant(db, officer, holder)
    assert grant is not None
    assert grant.plan_version_id == holder.live_version(db).id
    assert holder.live_version(db).version == 2


def test_someone_not_signed_in_sees_only_whose_card_it_is(
    client: FlaskClient, db: Session, holder: Person, card: cards.Card
) -> None:
    response = client.get(f"/C/{card.token}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "genuine" in page
    assert holder.team.name in page and holder.team.phone in page
    assert "Advice only: always assess and treat" in page
    for personal in ("Alexandra", "Testperson", holder.ref, "Please tell me"):
        assert personal not in page
    assert "next=" in page and card.token in page  # sign-in returns to the scan
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert _actions(db)[-1] == "card_scan"


def test_the_scan_route_ignores_case(client: FlaskClient, card: cards.Card) -> None:
    assert client.get(f"/c/{card.token.lower()}").status_code == 200


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-10],
        lambda t: t[:20] + ("A" if t[20] != "A" else "B") + t[21:],
        lambda t: "AAAA" + t[4:],
        lambda t: "NOTATOKEN",
        lambda t: t + "AAAAAAAA",
    ],
    ids=["truncated", "tampered", "forged-header", "garbage", "extended"],
)
def test_bad_tokens_get_404_and_an_audit_row_without_the_token(
    client: FlaskClient, db: Session, card: cards.Card, mangle: object
) -> None:
    bad = mangle(card.token)  # type: ignore[operator]
    response = client.get(f"/C/{bad}")
    assert response.status_code == 404
    assert "Alexandra" not in response.get_data(as_text=True)
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "card_scan_invalid")
    ).one()
    assert bad not in str(event.detail) and card.token not in str(event.detail)
    assert event.person_ref is None


def test_a_card_from_an_unlisted_key_is_404(
    app: Flask, client: FlaskClient, db: Session, holder: Person, card: cards.Card
) -> None:
    use_fresh_keys(app, kid="T9")
    assert client.get(f"/C/{card.token}").status_code == 404


def test_rotation_keeps_old_cards_working(
    app: Flask, client: FlaskClient, card: cards.Card, keys: card_keys.KeySet
) -> None:
    app.config["CARD_SIGNING_KEYS"] = card_keys.format_keys(
        card_keys.rotate(keys, "T2")
    )
    assert client.get(f"/C/{card.token}").status_code == 200
    published = client.get("/.well-known/plan-card-keys.json").get_json()
    assert published["current"] == "T2"
    assert {"T1", "T2"} <= {entry["kid"] for entry in published["keys"]}


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("revoked", "has been cancelled"),
        ("retired", "has been withdrawn"),
        ("expired", "has expired"),
    ],
)
def test_revoked_expired_and_retired_cards_say_so_with_no_data(
    app: Flask,
    client: FlaskClient,
    db: Session,
    holder: Person,
    card: cards.Card,
    keys: card_keys.KeySet,
    state: str,
    words: str,
) -> None:
    officer = staff(db, "pc@example.org", "police")
    if state == "revoked":
        cards.revoke(db, card, by=None, channel="cli")
    elif state == "retired":
        versions.retire(db, holder, reason="test")
    else:
        card = cards.issue(
            db,
            holder,
            keys,
            by=None,
            channel="cli",
            lifetime=dt.timedelta(days=1),
            now=utcnow() - dt.timedelta(days=2),
        )
    db.commit()
    sign_in(app, client, officer)
    response = client.get(f"/C/{card.token}")
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert words in page
    assert "Alexandra" not in page and holder.ref not in page
    assert access.active_grant(db, officer, holder) is None


def test_the_keys_document_names_each_team_and_holds_no_secret(
    client: FlaskClient, holder: Person, card: cards.Card, keys: card_keys.KeySet
) -> None:
    response = client.get("/.well-known/plan-card-keys.json")
    assert response.status_code == 200
    document = response.get_json()
    entry = next(k for k in document["keys"] if k["kid"] == card.kid)
    assert entry["team"]["name"] == holder.team.name
    assert entry["team"]["phone"] == holder.team.phone
    assert card_keys.format_keys(keys).split(":", 1)[1] not in response.get_data(
        as_text=True
    )
    found = card_documents.offline_check(card.token, document)
    assert found["state"] == "valid"


def test_the_revocation_list_is_signed_and_current(
    client: FlaskClient, db: Session, card: cards.Card
) -> None:
    cards.revoke(db, card, by=None, channel="cli")
    db.commit()
    keys_doc = client.get("/.well-known/plan-card-keys.json").get_json()
    listed = client.get("/cards/revoked.json").get_json()
    public = card_documents.public_keys_from_document(keys_doc)
    _at, ids = card_documents.read_revocation_list(listed, public)
    assert card.card_id in ids
    assert (
        card_documents.offline_check(card.token, keys_doc, listed)["state"] == "revoked"
    )


def test_the_offline_check_page_loads_its_script(client: FlaskClient) -> None:
    page = client.get("/cards/check").get_data(as_text=True)
    assert "card-verify.js" in page
    with client.get("/static/js/card-verify.js") as script:
        assert script.status_code == 200
        assert "Ed25519" in script.get_data(as_text=True)


def test_a_mentor_issues_reissues_and_revokes_on_the_web(
    app: Flask, client: FlaskClient, db: Session, holder: Person, keys: card_keys.KeySet
) -> None:
    mentor = staff(db, "mentor@example.org", "mentor")
    db.commit()
    sign_in(app, client, mentor)
    page = client.get(f"/cards/for/{holder.ref}")
    assert page.status_code == 200
    response = client.post(
        f"/cards/for/{holder.ref}/issue",
        data={"pin": "4826", "pin_confirm": "4826", "first_name": "Alex"},
    )
    assert response.status_code == 302
    [card] = cards.cards_for(db, holder)
    assert card.first_name == "Alex"
    assert card.issued_by_id == mentor.id

    client.post(f"/cards/{card.id}/reissue")
    db.expire_all()
    new, old = cards.cards_for(db, holder)
    assert old.revoked_at is not None and new.revoked_at is None
    assert client.get(f"/C/{old.token}").status_code == 410
    assert client.get(f"/C/{new.token}").status_code == 200

    client.post(f"/cards/{new.id}/revoke", data={"reason": "lost"})
    db.expire_all()
    assert new.revoked_at is not None and new.revoked_reason == "lost"
    listing = client.get(f"/cards/for/{holder.ref}").get_data(as_text=True)
    assert "lost" in listing
    assert [a for a in _actions(db) if a.startswith("card_")] == [
        "card_issued",
        "card_revoked",
        "card_issued",
        "card_scan",
        "card_scan",
        "card_revoked",
    ]


def test_issuing_without_a_pin_or_with_mismatched_pins_is_refused(
    app: Flask, client: FlaskClient, db: Session, holder: Person, keys: card_keys.KeySet
) -> None:
    mentor = staff(db, "mentor@example.org", "mentor")
    db.commit()
    sign_in(app, client, mentor)
    client.post(f"/cards/for/{holder.ref}/issue", data={})
    client.post(
        f"/cards/for/{holder.ref}/issue", data={"pin": "4826", "pin_confirm": "4862"}
    )
    assert cards.cards_for(db, holder) == []
    page = client.get(f"/cards/for/{holder.ref}").get_data(as_text=True)
    assert "the two PINs differ" in page


def test_mentors_of_another_team_cannot_see_or_issue(
    app: Flask, client: FlaskClient, db: Session, holder: Person, card: cards.Card
) -> None:
    factories.team(db, "OTHER")
    outsider = staff(db, "other@example.org", "mentor", team=False)
    db.commit()
    sign_in(app, client, outsider)
    assert client.get(f"/cards/for/{holder.ref}").status_code == 404
    assert client.post(f"/cards/{card.id}/revoke").status_code == 404
    assert client.get(f"/cards/{card.id}/card.pdf").status_code == 404


@pytest.mark.parametrize("role", ["police", "privacy_officer"])
def test_only_mentors_issue_cards(
    app: Flask,
    client: FlaskClient,
    db: Session,
    holder: Person,
    card: cards.Card,
    role: str,
) -> None:
    user = staff(db, "someone@example.org", role)
    db.commit()
    sign_in(app, client, user)
    assert client.get(f"/cards/for/{holder.ref}").status_code == 403
    assert client.post(f"/cards/{card.id}/revoke").status_code == 403


def test_the_pdf_is_wallet_size_front_and_back(
    app: Flask, client: FlaskClient, db: Session, holder: Person, keys: card_keys.KeySet
) -> None:
    card = cards.issue(db, holder, keys, by=None, channel="cli", first_name="Alex")
    mentor = staff(db, "mentor@example.org", "mentor")
    db.commit()
    sign_in(app, client, mentor)
    response = client.get(f"/cards/{card.id}/card.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    reader = _pdf(response.data)
    assert len(reader.pages) == 2
    for page in reader.pages:
        width_mm = float(page.mediabox.width) * 25.4 / 72
        height_mm = float(page.mediabox.height) * 25.4 / 72
        assert round(width_mm, 1) == 85.6 and round(height_mm, 1) == 54.0
    front = reader.pages[0].extract_text()
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "I have a crisis plan" in front and "scan with your phone camera" in front
    assert holder.team.name in text and holder.team.phone in text
    assert card.short_id in text
    assert "Alex" in front and "Testperson" not in text


def test_the_pdf_qr_decodes_to_the_card(
    app: Flask, client: FlaskClient, db: Session, card: cards.Card
) -> None:
    pdf_images = _pdf(_printed(app, client, db, card, "pdf")).pages[0].images
    assert len(pdf_images) == 1
    url = decode_qr(pdf_images[0].data)
    assert path_of(url) == f"/C/{card.token}"


def _printed(
    app: Flask, client: FlaskClient, db: Session, card: cards.Card, fmt: str
) -> bytes:
    mentor = staff(db, "mentor@example.org", "mentor")
    db.commit()
    sign_in(app, client, mentor)
    response = client.get(f"/cards/{card.id}/card.{fmt}")
    assert response.status_code == 200
    return response.data


def test_the_svg_holds_the_qr_and_no_name(
    app: Flask, client: FlaskClient, db: Session, card: cards.Card
) -> None:
    svg = _printed(app, client, db, card, "svg").decode("utf-8")
    assert svg.startswith("<?xml") or svg.startswith("<svg")
    assert card.short_id in svg and "Alexandra" not in svg


def test_the_qr_is_small_enough_for_a_worn_wallet_card(
    app: Flask, db: Session, card: cards.Card
) -> None:
    with app.test_request_context():
        from responder.cards import card_qr

        code = card_qr(card)
    assert [chunk.mode for chunk in code.data_list] == [MODE_ALPHA_NUM]
    assert code.version <= 8
    assert code.error_correction == ERROR_CORRECT_M
    # Even with a long host name the URL stays within version 8 at level M.
    long_url = cards.card_url("https://responder.hampshire-and-iow.nhs.uk", card.token)
    assert qr_code(long_url).version <= 8


def test_printing_a_revoked_card_is_refused(
    app: Flask, client: FlaskClient, db: Session, card: cards.Card
) -> None:
    cards.revoke(db, card, by=None, channel="cli")
    mentor = staff(db, "mentor@example.org", "mentor")
    db.commit()
    sign_in(app, client, mentor)
    assert client.get(f"/cards/{card.id}/card.pdf").status_code == 410


def test_scanning_is_rate_limited(client: FlaskClient, db: Session) -> None:
    statuses = [client.get(f"/C/FORGED{n}").status_code for n in range(40)]
    assert statuses[0] == 404
    assert statuses[-1] == 429
    # Scans refused by the limiter never reach the audit log.
    assert _actions(db).count("card_scan_invalid") < 40


def test_no_token_reaches_the_logs(
    client: FlaskClient, card: cards.Card, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.get(f"/C/{card.token}")
    client.get(f"/C/{card.token[:-4]}AAAA")
    for _ in range(35):
        client.get(f"/C/{card.token[:-2]}QQ")
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert card.token[:40] not in logged


# -- cards that never dead-end ------------------------------------------------------


@pytest.mark.parametrize("how", ["revoked", "reissued", "expired"])
def test_a_responder_scanning_a_dead_card_is_offered_the_live_plan(
    app: Flask,
    client: FlaskClient,
    db: Session,
    holder: Person,
    card: cards.Card,
    keys: card_keys.KeySet,
    how: str,
) -> None:
    officer = staff(db, "pc@example.org", "police")
    if how == "revoked":
        cards.revoke(db, card, by=None, channel="cli")
    elif how == "reissued":
        new = cards.reissue(db, card, keys, by=None, channel="cli")
    else:
        card = cards.issue(
            db,
            holder,
            keys,
            by=None,
            channel="cli",
            lifetime=dt.timedelta(days=1),
            now=utcnow() - dt.timedelta(days=2),
        )
    db.commit()
    sign_in(app, client, officer)

    response = client.get(f"/C/{card.token}")

    page = response.get_data(as_text=True)
    assert response.status_code == 410
    if how == "reissued":
        assert "has been replaced" in page and new.short_id in page
    assert "has a live plan" in page
    assert "Alexandra" not in page and holder.ref not in page
    onward = client.get(f"/C/{card.token}/current")
    assert onward.status_code == 302
    assert onward.headers["Location"] == f"/open/{holder.ref}"
    # The normal basis: the dead card grants nothing by itself.
    assert access.active_grant(db, officer, holder) is None


def test_no_offer_when_the_plan_is_withdrawn_or_the_reader_is_not_a_responder(
    app: Flask, client: FlaskClient, db: Session, holder: Person, card: cards.Card
) -> None:
    cards.revoke(db, card, by=None, channel="cli")
    db.commit()
    assert "has a live plan" not in client.get(f"/C/{card.token}").get_data(True)
    assert client.get(f"/C/{card.token}/current").status_code == 302  # to sign in

    versions.retire(db, holder, reason="test")
    officer = staff(db, "pc@example.org", "police")
    db.commit()
    sign_in(app, client, officer)
    assert "has a live plan" not in client.get(f"/C/{card.token}").get_data(True)
    assert client.get(f"/C/{card.token}/current").status_code == 404


def test_a_mentor_sets_and_changes_the_pin_without_reissuing(
    app: Flask, client: FlaskClient, db: Session, holder: Person, card: cards.Card
) -> None:
    from plans import people

    mentor = staff(db, "mentor@example.org", "mentor")
    db.commit()
    sign_in(app, client, mentor)
    path = f"/cards/for/{holder.ref}/pin"

    assert (
        client.post(path, data={"pin": "4826", "pin_confirm": "4862"}).status_code
        == 303
    )
    assert not people.has_pin(db, holder)
    client.post(path, data={"pin": "4826", "pin_confirm": "4826"})
    client.post(path, data={"pin": "9315", "pin_confirm": "9315"})

    db.expire_all()
    assert people.verify_pin(db, holder, "9315")
    [still] = cards.cards_for(db, holder)
    assert still.id == card.id and still.revoked_at is None
    assert [a for a in _actions(db) if a.startswith("pin_")] == [
        "pin_set",
        "pin_changed",
    ]


def test_the_keys_document_carries_every_line_with_its_hours(
    client: FlaskClient, db: Session, holder: Person, card: cards.Card
) -> None:
    holder.team.out_of_hours_phone = "01632 960999"
    holder.team.crisis_line = "0800 000 1111"
    db.commit()

    published = client.get("/.well-known/plan-card-keys.json").get_json()

    team = next(k["team"] for k in published["keys"] if k["use"] == "card")
    assert [line["which"] for line in team["lines"]] == [
        "in_hours",
        "out_of_hours",
        "crisis_line",
    ]
    assert team["lines"][2]["spans"].startswith("0:0-1440")
