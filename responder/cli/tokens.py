"""`responder tokens`: create, list and revoke API tokens."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from responder.db import get_session

tokens_cli = click.Group("tokens", help="Manage API tokens.")


def _token_lifetime(days: int | None) -> Any:
    import datetime as dt

    from flask import current_app

    most = int(current_app.config.get("API_TOKEN_LIFETIME_DAYS") or 90)
    if days is not None and not 1 <= days <= most:
        raise click.ClickException(f"--days must be from 1 to {most}")
    return dt.timedelta(days=days or most)


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="api", help="A label for the token.")
@click.option(
    "--days",
    type=int,
    default=None,
    help="Days until it expires (default and most: API_TOKEN_LIFETIME_DAYS).",
)
@with_appcontext
def tokens_create(email: str, name: str, days: int | None) -> None:
    """Create an API token for EMAIL and print it alone on stdout."""
    from plans import accounts

    session = get_session()
    user = accounts.find_user(session, email)
    if user is None or not user.active:
        raise click.ClickException(f"no active user {email}")
    _row, token = accounts.issue_token(
        session, user, channel="cli", name=name, lifetime=_token_lifetime(days)
    )
    session.commit()
    click.echo(token)


@tokens_cli.command("list")
@click.argument("email")
@with_appcontext
def tokens_list(email: str) -> None:
    """List EMAIL's API tokens: id, name, created, expires and whether live."""
    from plans import accounts

    session = get_session()
    user = accounts.find_user(session, email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    rows = accounts.tokens_of(session, user)
    if not rows:
        click.echo(f"{email} has no API tokens")
    for row in rows:
        if row.revoked_at is not None:
            state = f"revoked {row.revoked_at:%Y-%m-%d}"
        elif accounts.token_is_live(row):
            state = "live"
        else:
            state = "expired"
        expires = f"{row.expires_at:%Y-%m-%d}" if row.expires_at else "never"
        click.echo(
            f"{row.id}\t{row.name}\tcreated {row.created_at:%Y-%m-%d}\t"
            f"expires {expires}\t{state}"
        )


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def tokens_revoke(token_id: int) -> None:
    """Revoke the API token with id TOKEN_ID (see `responder tokens list`)."""
    from plans import accounts
    from plans.models import ApiToken

    session = get_session()
    row = session.get(ApiToken, token_id)
    if row is None:
        raise click.ClickException(f"no API token with id {token_id}")
    accounts.withdraw_token(session, row, by=None, channel="cli")
    session.commit()
    click.echo(f"revoked token {token_id} ({row.name})")


def register(app: Flask) -> None:
    """Add this module's commands to the app's CLI."""
    app.cli.add_command(tokens_cli)
