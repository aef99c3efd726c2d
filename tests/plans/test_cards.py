"""Plan cards: signed tokens, key sets and rotation, revocation, offline checks."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import card_documents, card_keys, card_tokens, cards, versions
from plans.audit import AuditEvent
from plans.db import utcnow
from plans.models import Person
from tests.plans import factories

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def keys() -> card_keys.KeySet:
    """Return a fresh one-key key set."""
    return card_keys.KeySet((card_keys.generate_master_key("K1"),))


@pytest.fixture
def holder(session: Session) -> Person:
    """Return a person with a live plan."""
    person = factories.person(session)
    versions.make_live(session, factories.draft(session, person))
    return person


def test_a_token_carries_only_ids_times_and_a_signature(keys: card_keys.KeySet) -> None:
    kid, key = keys.signing_key(7)
    card_id = card_tokens.new_card_id()
    token = card_tokens.sign_token(
        key,
        kid=kid,
        card_id=card_id,
        issued_at=NOW,
        expires_at=NOW + dt.timedelta(days=1),
    )
    assert token == token.upper() and token.isalnum()
    claims = card_tokens.verify_token(token, keys)
    assert claims.card_id == card_id
    assert claims.kid == "K1.7" and claims.team_id == 7
    assert claims.issued_at == NOW
    assert claims.expires_at == NOW + dt.timedelta(days=1)
    # 2 format bytes + kid + 10-byte id + two times + 64-byte signature.
    assert len(token) <= 150


def _flip(token: str, index: int) -> str:
    replacement = "A" if token[index] != "A" else "B"
    return token[:index] + replacement + token[index + 1 :]


@pytest.mark.parametrize("index", [0, 3, 10, 40, 70, -2])
def test_a_tampered_token_does_not_verify(keys: card_keys.KeySet, index: int) -> None:
    kid, key = keys.signing_key(1)
    token = card_tokens.sign_token(
        key, kid=kid, card_id=card_tokens.new_card_id(), issued_at=NOW, expires_at=NOW
    )
    with pytest.raises(card_keys.InvalidToken):
        card_tokens.verify_token(_flip(token, index), keys)


@pytest.mark.parametrize(
    "token", ["", "A", "not base32!", "AAAA" * 40, "0" * 50, "Z" * 401]
)
def test_garbage_tokens_are_invalid(keys: card_keys.KeySet, token: str) -> None:
    with pytest.raises(card_keys.InvalidToken):
        card_tokens.verify_token(token, keys)


def test_a_truncated_token_is_invalid(keys: card_keys.KeySet) -> None:
    kid, key = keys.signing_key(1)
    token = card_tokens.sign_token(
        key, kid=kid, card_id=card_tokens.new_card_id(), issued_at=NOW, expires_at=NOW
    )
    with pytest.raises(card_keys.InvalidToken):
        card_tokens.verify_token(token[:-8], keys)


def test_a_card_signed_for_one_team_does_not_verify_as_another(
    keys: card_keys.KeySet,
) -> None:
    _kid, key = keys.signing_key(1)
    token = card_tokens.sign_token(
        key,
        kid="K1.2",
        card_id=card_tokens.new_card_id(),
        issued_at=NOW,
        expires_at=NOW,
    )
    with pytest.raises(card_keys.InvalidToken):
        card_tokens.verify_token(token, keys)


def test_rotation_keeps_old_cards_while_their_key_is_listed(
    keys: card_keys.KeySet,
) -> None:
    kid, key = keys.signing_key(3)
    old = card_tokens.sign_token(
        key, kid=kid, card_id=card_tokens.new_card_id(), issued_at=NOW, expires_at=NOW
    )
    rotated = card_keys.rotate(keys, "K2")
    assert rotated.current.kid == "K2"
    assert rotated.signing_key(3)[0] == "K2.3"
    assert card_tokens.verify_token(old, rotated).kid == "K1.3"
    with pytest.raises(card_keys.InvalidToken):
        card_tokens.verify_token(old, card_keys.retire_key(rotated, "K1"))


def test_keys_round_trip_through_config_and_key_file(keys: card_keys.KeySet) -> None:
    rotated = card_keys.rotate(keys, "K2")
    assert card_keys.format_keys(
        card_keys.parse_keys(card_keys.format_keys(rotated))
    ) == (card_keys.format_keys(rotated))
    text = card_keys.write_key_file(rotated, {"K1": "2025-01-01"})
    again = card_keys.read_key_file(text)
    assert [m.kid for m in again.masters] == ["K2", "K1"]
    assert card_keys.key_file_dates(text)["K1"] == "2025-01-01"


@pytest.mark.parametrize(
    "text", ["K1", "k1:AAAA", "K1:not-base64!", "K1:AAAA", "TOOLONGKID:AAAA", ""]
)
def test_bad_key_configuration_is_refused(text: str) -> None:
    with pytest.raises(card_keys.CardError):
        card_keys.parse_keys(text)


def test_issue_audits_and_the_card_opens_the_newest_plan(
    session: Session, holder: Person, keys: card_keys.KeySet
) -> None:
    card = cards.issue(session, holder, keys, by=None, channel="cli", now=NOW)
    first = cards.scan(session, card.token, keys, now=NOW)
    assert first.state == "valid" and first.card is card
    versions.make_live(session, factories.draft(session, holder, version=2))
    assert cards.scan(session, card.token, keys, now=NOW).card is card
    assert holder.live_version(session).version == 2
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "card_issued")
    ).one()
    assert event.person_ref == holder.ref
    assert event.detail == {"card_id": card.short_id}
    assert card.token not in str(event.detail)


def test_revoked_expired_and_retired_cards_say_so(
    session: Session, holder: Person, keys: card_keys.KeySet
) -> None:
    revoked = cards.issue(session, holder, keys, by=None, channel="cli", now=NOW)
    cards.revoke(session, revoked, by=None, channel="cli")
    assert cards.scan(session, revoked.token, keys).state == "revoked"
    with pytest.raises(card_keys.CardError):
        cards.revoke(session, revoked, by=None, channel="cli")

    short = cards.issue(
        session,
        holder,
        keys,
        by=None,
        channel="cli",
        lifetime=dt.timedelta(days=1),
        now=utcnow() - dt.timedelta(days=2),
    )
    assert cards.scan(session, short.token, keys).state == "expired"

    current = cards.issue(session, holder, keys, by=None, channel="cli")
    versions.retire(session, holder, reason="test")
    assert cards.scan(session, current.token, keys).state == "retired"


def test_reissue_revokes_the_old_card_and_keeps_the_first_name(
    session: Session, holder: Person, keys: card_keys.KeySet
) -> None:
    card = cards.issue(session, holder, keys, by=None, channel="cli", first_name="Alex")
    new = cards.reissue(session, card, keys, by=None, channel="cli")
    assert card.revoked_reason == "reissued"
    assert new.replaces_id == card.id and new.first_name == "Alex"
    assert new.card_id != card.card_id
    assert [c.id for c in cards.cards_for(session, holder)][0] == new.id


@pytest.mark.parametrize("name", ["Alexandra Testperson", "x" * 41])
def test_a_card_carries_no_more_than_a_first_name(
    session: Session, holder: Person, keys: card_keys.KeySet, name: str
) -> None:
    with pytest.raises(card_keys.CardError):
        cards.issue(session, holder, keys, by=None, channel="cli", first_name=name)


def test_a_signed_token_with_no_card_on_record_is_invalid(
    session: Session, keys: card_keys.KeySet
) -> None:
    kid, key = keys.signing_key(1)
    token = card_tokens.sign_token(
        key, kid=kid, card_id=card_tokens.new_card_id(), issued_at=NOW, expires_at=NOW
    )
    with pytest.raises(card_keys.InvalidToken):
        cards.scan(session, token, keys)


def test_the_revocation_list_is_signed_and_lists_revoked_and_retired(
    session: Session, holder: Person, keys: card_keys.KeySet
) -> None:
    other = factories.person(session, ref="TEST-TEAM/00002")
    versions.make_live(session, factories.draft(session, other))
    revoked = cards.issue(session, holder, keys, by=None, channel="cli")
    cards.revoke(session, revoked, by=None, channel="cli")
    good = cards.issue(session, holder, keys, by=None, channel="cli")
    retired = cards.issue(session, other, keys, by=None, channel="cli")
    versions.retire(session, other, reason="test")

    document = card_documents.revocation_list(session, keys)
    public = card_documents.public_keys_from_document(
        card_documents.keys_document(session, keys, service_name="Test")
    )
    _at, ids = card_documents.read_revocation_list(document, public)
    assert ids == {revoked.card_id, retired.card_id}
    assert good.card_id not in ids

    forged = dict(document, list=document["list"] + "\nAAAAAAAAAAAAAAAA")
    with pytest.raises(card_keys.CardError):
        card_documents.read_revocation_list(forged, public)


def test_offline_check_names_the_team_and_spots_revocation(
    session: Session, holder: Person, keys: card_keys.KeySet
) -> None:
    card = cards.issue(session, holder, keys, by=None, channel="cli")
    document = card_documents.keys_document(
        session, keys, service_name="Test service", service_phone="111"
    )
    found = card_documents.offline_check(card.token, document)
    assert found["state"] == "valid"
    assert found["team"]["name"] == holder.team.name
    assert found["team"]["phone"] == holder.team.phone
    assert found["card"] == card.short_id
    assert "Testperson" not in str(found)

    cards.revoke(session, card, by=None, channel="cli")
    listed = card_documents.revocation_list(session, keys)
    assert (
        card_documents.offline_check(card.token, document, listed)["state"] == "revoked"
    )

    stranger = card_keys.KeySet((card_keys.generate_master_key("K1"),))
    with pytest.raises(card_keys.InvalidToken):
        card_documents.offline_check(
            card.token,
            card_documents.keys_document(session, stranger, service_name="x"),
        )


def test_the_keys_document_holds_no_private_key(
    session: Session, holder: Person, keys: card_keys.KeySet
) -> None:
    document = card_documents.keys_document(session, keys, service_name="Test")
    private = card_keys.format_keys(keys).split(":", 1)[1]
    assert private not in str(document)
    kids = {entry["kid"] for entry in document["keys"]}
    assert card_keys.team_kid("K1", holder.team_id) in kids


@pytest.mark.parametrize(
    ("url", "token"),
    [
        ("HTTPS://R.EXAMPLE/C/ABC", "ABC"),
        ("https://r.example/c/abc/", "abc"),
        ("ABC", "ABC"),
    ],
)
def test_token_from_url(url: str, token: str) -> None:
    assert card_documents.token_from_url(url) == token


def test_short_id_lookup(
    session: Session, holder: Person, keys: card_keys.KeySet
) -> None:
    card = cards.issue(session, holder, keys, by=None, channel="cli")
    assert cards.find_by_short_id(session, card.short_id) is card
    assert cards.find_by_short_id(session, card.short_id.lower()) is card
    assert cards.find_by_short_id(session, "ZZZZ") is None


def test_a_burst_of_invalid_scans_raises_one_privacy_alert(session: Session) -> None:
    alerts = [
        cards.record_invalid_scan(session, ip_hash="abc")
        for _ in range(cards.INVALID_SCAN_ALERT_AT + 5)
    ]
    raised = [alert for alert in alerts if alert is not None]
    assert len(raised) == 1 and raised[0].kind == "card_scan_invalid"
    assert alerts.index(raised[0]) == cards.INVALID_SCAN_ALERT_AT - 1
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "card_scan_invalid")
    ).all()
    assert len(events) == cards.INVALID_SCAN_ALERT_AT + 5
    assert all(set(event.detail) <= {"ip_hash", "alert_id"} for event in events)
