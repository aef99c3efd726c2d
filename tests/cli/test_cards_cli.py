"""`responder cards`: issue, reissue, revoke and verify cards; manage keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from plans import card_documents, card_keys, card_tokens, cards, people
from plans.models import Person
from tests.web.test_cards_support import decode_qr, live_person, use_fresh_keys


@pytest.fixture
def holder(db: Session) -> Person:
    """Return a person with a live plan, committed."""
    person = live_person(db)
    db.commit()
    return person


@pytest.fixture
def keys(app: Flask) -> card_keys.KeySet:
    """Return the keys this test's app signs cards with."""
    return use_fresh_keys(app)


def test_issue_sets_the_pin_and_writes_a_card_that_scans(
    runner: FlaskCliRunner,
    db: Session,
    holder: Person,
    keys: card_keys.KeySet,
    tmp_path: Path,
) -> None:
    out = tmp_path / "card.png"
    result = runner.invoke(
        args=["cards", "issue", holder.ref, "--pin-stdin", "--out", str(out)],
        input="4826\n",
    )
    assert result.exit_code == 0, result.output
    [card] = cards.cards_for(db, holder)
    assert card.short_id in result.output
    assert card.token not in result.output and "4826" not in result.output
    assert people.verify_pin(db, holder, "4826")
    url = decode_qr(out.read_bytes())
    assert (
        card_tokens.verify_token(card_documents.token_from_url(url), keys).card_id
        == card.card_id
    )


def test_issue_refuses_a_weak_pin_and_an_unknown_person(
    runner: FlaskCliRunner, db: Session, holder: Person, keys: card_keys.KeySet
) -> None:
    weak = runner.invoke(
        args=["cards", "issue", holder.ref, "--pin-stdin"], input="1111\n"
    )
    assert weak.exit_code != 0 and "PIN" in weak.output
    unknown = runner.invoke(args=["cards", "issue", "NOPE/1"])
    assert unknown.exit_code != 0 and "no person" in unknown.output
    assert cards.cards_for(db, holder) == []


def test_reissue_and_revoke_by_printed_id(
    runner: FlaskCliRunner, db: Session, holder: Person, keys: card_keys.KeySet
) -> None:
    card = cards.issue(db, holder, keys, by=None, channel="cli")
    db.commit()
    result = runner.invoke(args=["cards", "reissue", card.short_id])
    assert result.exit_code == 0, result.output
    db.expire_all()
    new, old = cards.cards_for(db, holder)
    assert old.id == card.id and old.revoked_at is not None
    result = runner.invoke(
        args=["cards", "revoke", new.short_id.lower(), "--reason", "lost"]
    )
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert new.revoked_reason == "lost"
    again = runner.invoke(args=["cards", "revoke", new.short_id])
    assert again.exit_code != 0 and "already revoked" in again.output


def test_verify_offline_with_the_published_files(
    app: Flask,
    runner: FlaskCliRunner,
    db: Session,
    holder: Person,
    keys: card_keys.KeySet,
    tmp_path: Path,
) -> None:
    card = cards.issue(db, holder, keys, by=None, channel="cli")
    db.commit()
    client = app.test_client()
    keys_file = tmp_path / "plan-card-keys.json"
    keys_file.write_bytes(client.get("/.well-known/plan-card-keys.json").data)
    url = cards.card_url("https://responder.example", card.token)

    result = runner.invoke(args=["cards", "verify", url, "--keys", str(keys_file)])
    assert result.exit_code == 0, result.output
    assert f"genuine card {card.short_id}" in result.output
    assert holder.team.name in result.output and holder.team.phone in result.output
    assert "Alexandra" not in result.output

    cards.revoke(db, card, by=None, channel="cli")
    db.commit()
    revoked_file = tmp_path / "revoked.json"
    revoked_file.write_bytes(client.get("/cards/revoked.json").data)
    result = runner.invoke(
        args=[
            "cards",
            "verify",
            url,
            "--keys",
            str(keys_file),
            "--revoked",
            str(revoked_file),
        ]
    )
    assert result.exit_code == 2 and "Revoked" in result.output


def test_verify_with_the_configured_keys_and_a_forgery(
    runner: FlaskCliRunner, db: Session, holder: Person, keys: card_keys.KeySet
) -> None:
    card = cards.issue(db, holder, keys, by=None, channel="cli")
    db.commit()
    good = runner.invoke(args=["cards", "verify", f"HTTPS://X/C/{card.token}"])
    assert good.exit_code == 0 and "Valid" in good.output
    forged = card.token[:-4] + ("AAAA" if not card.token.endswith("AAAA") else "BBBB")
    bad = runner.invoke(args=["cards", "verify", f"HTTPS://X/C/{forged}"])
    assert bad.exit_code == 1 and "NOT GENUINE" in bad.output


def test_keys_generate_rotate_and_list_with_a_key_file(
    app: Flask, runner: FlaskCliRunner, db: Session, holder: Person, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys" / "card-keys.json"
    app.config["CARD_KEY_FILE"] = str(key_file)
    app.config.pop("CARD_SIGNING_KEYS", None)
    result = runner.invoke(args=["cards", "keys", "generate", "--kid", "K1"])
    assert result.exit_code == 0, result.output
    assert key_file.stat().st_mode & 0o077 == 0  # owner-only
    assert runner.invoke(args=["cards", "keys", "generate"]).exit_code != 0

    issued = runner.invoke(args=["cards", "issue", holder.ref])
    assert issued.exit_code == 0, issued.output
    [old_card] = cards.cards_for(db, holder)

    rotated = runner.invoke(args=["cards", "keys", "rotate", "--kid", "K2"])
    assert rotated.exit_code == 0, rotated.output
    listing = runner.invoke(args=["cards", "keys", "list"])
    assert listing.output.splitlines()[0].startswith("K2: current")
    assert "K1: verifies old cards" in listing.output
    private = json.loads(key_file.read_text())["keys"][0]["private_key"]
    assert private not in listing.output

    check = runner.invoke(args=["cards", "verify", old_card.token])
    assert check.exit_code == 0, check.output
    runner.invoke(args=["cards", "issue", holder.ref])
    db.expire_all()
    assert cards.cards_for(db, holder)[0].kid.startswith("K2.")


def test_keys_generate_prints_a_configuration_value(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["cards", "keys", "generate", "--print", "--kid", "P1"])
    assert result.exit_code == 0
    assert card_keys.parse_keys(result.output.strip()).current.kid == "P1"


def test_rotate_with_configured_keys_prints_the_new_setting(
    runner: FlaskCliRunner, keys: card_keys.KeySet
) -> None:
    result = runner.invoke(args=["cards", "keys", "rotate", "--kid", "T2"])
    assert result.exit_code == 0, result.output
    value = result.output.strip().splitlines()[-1]
    assert [m.kid for m in card_keys.parse_keys(value).masters] == ["T2", "T1"]
