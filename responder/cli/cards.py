"""`responder cards`: issue, reissue, revoke and verify plan cards; manage keys."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from plans import card_documents, card_keys, cards, people
from plans.models import Person
from responder.cards import (
    RENDERERS,
    current_keys,
    key_file_path,
    service_contact,
    write_key_file,
)
from responder.db import get_session

cards_cli = click.Group("cards", help="Issue, revoke and check plan cards.")
keys_cli = click.Group("keys", help="Create, rotate and list card signing keys.")
cards_cli.add_command(keys_cli)


def _person(ref: str) -> Person:
    person = get_session().scalar(select(Person).where(Person.ref == ref))
    if person is None:
        raise click.ClickException(f"no person with ref {ref}")
    return person


def _card(short: str) -> cards.Card:
    card = cards.find_by_short_id(get_session(), short)
    if card is None:
        raise click.ClickException(f"no card {short}")
    return card


def _read_pin() -> str:
    pin = sys.stdin.readline().strip()
    try:
        return people.check_pin_format(pin)
    except people.PersonError as error:
        raise click.ClickException(str(error)) from None


def _write_card(card: cards.Card, out: Path | None) -> None:
    if out is None:
        return
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in RENDERERS:
        raise click.ClickException("--out must end in .pdf, .png or .svg")
    render, _mimetype = RENDERERS[fmt]
    out.write_bytes(render(card))
    click.echo(f"printable card written to {out}")


OUT_OPTION = click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the printable card here (.pdf, .png or .svg).",
)


@cards_cli.command("issue")
@click.argument("ref")
@click.option("--first-name", help="Print the person's first name (only if asked).")
@click.option("--pin-stdin", is_flag=True, help="Read the holder's PIN from stdin.")
@OUT_OPTION
@with_appcontext
def issue(ref: str, first_name: str | None, pin_stdin: bool, out: Path | None) -> None:
    """Issue a plan card for the person with REF."""
    session = get_session()
    person = _person(ref)
    pin = _read_pin() if pin_stdin else None
    try:
        card = cards.issue(
            session,
            person,
            current_keys(),
            by=None,
            channel="cli",
            first_name=first_name,
        )
    except card_keys.CardError as error:
        raise click.ClickException(str(error)) from None
    if pin:
        people.set_pin(session, person, pin)
    session.commit()
    click.echo(f"issued card {card.short_id} for {person.ref}")
    if not people.has_pin(session, person):
        click.echo("no PIN set: the holder cannot open their own view yet", err=True)
    _write_card(card, out)


@cards_cli.command("reissue")
@click.argument("card_id")
@click.option("--first-name", help="Print the person's first name (only if asked).")
@click.option("--pin-stdin", is_flag=True, help="Read a new PIN from stdin.")
@OUT_OPTION
@with_appcontext
def reissue(
    card_id: str, first_name: str | None, pin_stdin: bool, out: Path | None
) -> None:
    """Replace card CARD_ID (as printed, e.g. ABCD-EFGH); the old one stops working."""
    session = get_session()
    card = _card(card_id)
    pin = _read_pin() if pin_stdin else None
    try:
        new = cards.reissue(
            session, card, current_keys(), by=None, channel="cli", first_name=first_name
        )
    except card_keys.CardError as error:
        raise click.ClickException(str(error)) from None
    if pin:
        people.set_pin(session, card.person, pin)
    session.commit()
    click.echo(f"card {card.short_id} revoked; issued {new.short_id}")
    _write_card(new, out)


@cards_cli.command("revoke")
@click.argument("card_id")
@click.option("--reason", default="revoked", help="Why, in a few words (no names).")
@with_appcontext
def revoke(card_id: str, reason: str) -> None:
    """Revoke card CARD_ID (as printed): it opens nothing from now on."""
    session = get_session()
    card = _card(card_id)
    try:
        cards.revoke(session, card, by=None, channel="cli", reason=reason)
    except card_keys.CardError as error:
        raise click.ClickException(str(error)) from None
    session.commit()
    click.echo(f"card {card.short_id} revoked")


@cards_cli.command("verify")
@click.argument("url")
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The published plan-card-keys.json (default: this deployment's keys).",
)
@click.option(
    "--revoked",
    "revoked_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A published revoked.json to check against.",
)
@with_appcontext
def verify(url: str, keys_file: Path | None, revoked_file: Path | None) -> None:
    """Check the card at URL offline: is it genuine, whose, and still valid?"""
    if keys_file is not None:
        keys_doc = json.loads(keys_file.read_text(encoding="utf-8"))
    else:
        name, phone = service_contact()
        keys_doc = card_documents.keys_document(
            get_session(), current_keys(), service_name=name, service_phone=phone
        )
    revocations = (
        json.loads(revoked_file.read_text(encoding="utf-8")) if revoked_file else None
    )
    try:
        found = card_documents.offline_check(
            card_documents.token_from_url(url), keys_doc, revocations
        )
    except card_keys.InvalidToken:
        click.echo("NOT GENUINE: this is not a plan card signed by a listed key")
        sys.exit(1)
    except card_keys.CardError as error:
        raise click.ClickException(str(error)) from None
    team = found["team"] or {}
    click.echo(f"genuine card {found['card']} (key {found['kid']})")
    click.echo(f"state: {cards.CARD_STATES.get(found['state'], found['state'])}")
    if team:
        phone = f", phone {team['phone']}" if team.get("phone") else ""
        click.echo(f"team: {team.get('name')}{phone}")
    click.echo(
        f"issued {found['issued_at']:%Y-%m-%d}, expires {found['expires_at']:%Y-%m-%d}"
    )
    if revocations is None:
        click.echo("revocations not checked (pass --revoked revoked.json)")
    if found["state"] != "valid":
        sys.exit(2)


# -- keys -----------------------------------------------------------------------


def _key_file() -> Path:
    return key_file_path(current_app._get_current_object())  # type: ignore[attr-defined]


@keys_cli.command("generate")
@click.option("--kid", default="K1", show_default=True, help="Id of the new key.")
@click.option(
    "--print",
    "print_only",
    is_flag=True,
    help="Print kid:base64-key for RESPONDER_CARD_SIGNING_KEYS instead of a file.",
)
@with_appcontext
def keys_generate(kid: str, print_only: bool) -> None:
    """Create the first card signing key (in the instance folder's key file)."""
    try:
        keys = card_keys.KeySet((card_keys.generate_master_key(kid),))
    except card_keys.CardError as error:
        raise click.ClickException(str(error)) from None
    if print_only:
        click.echo(card_keys.format_keys(keys))
        return
    path = _key_file()
    if path.exists():
        raise click.ClickException(f"{path} exists; use `responder cards keys rotate`")
    write_key_file(path, card_keys.write_key_file(keys))
    click.echo(f"created card key {kid} in {path}")


@keys_cli.command("rotate")
@click.option("--kid", required=True, help="Id of the new current key, e.g. K2.")
@click.option("--drop", multiple=True, help="Stop listing this old key (repeatable).")
@with_appcontext
def keys_rotate(kid: str, drop: tuple[str, ...]) -> None:
    """Put a new key in front; cards signed by keys still listed keep working."""
    configured = current_app.config.get("CARD_SIGNING_KEYS")
    try:
        keys = card_keys.rotate(current_keys(), kid)
        for old in drop:
            keys = card_keys.retire_key(keys, old)
    except card_keys.CardError as error:
        raise click.ClickException(str(error)) from None
    if configured:
        click.echo("set RESPONDER_CARD_SIGNING_KEYS to:")
        click.echo(card_keys.format_keys(keys))
        return
    path = _key_file()
    dates = card_keys.key_file_dates(path.read_text(encoding="utf-8"))
    write_key_file(path, card_keys.write_key_file(keys, dates), replace=True)
    current_app.extensions.pop("responder.card_keys", None)
    click.echo(f"card key {kid} is now current; listed: {_kids(keys)}")


def _kids(keys: card_keys.KeySet) -> str:
    return ", ".join(master.kid for master in keys.masters)


@keys_cli.command("list")
@with_appcontext
def keys_list() -> None:
    """List the card signing keys, the current one first (never the keys)."""
    keys = current_keys()
    path = _key_file()
    dates = (
        card_keys.key_file_dates(path.read_text(encoding="utf-8"))
        if not current_app.config.get("CARD_SIGNING_KEYS") and path.exists()
        else {}
    )
    for index, master in enumerate(keys.masters):
        role = "current" if index == 0 else "verifies old cards"
        created = f", created {dates[master.kid]}" if dates.get(master.kid) else ""
        click.echo(f"{master.kid}: {role}{created}")


def register(app: Flask) -> None:
    """Add the `cards` command group to the app's CLI."""
    app.cli.add_command(cards_cli)
