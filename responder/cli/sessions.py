"""`responder sessions`: end sign-ins and purge stale sign-in rows."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from plans import accounts
from plans.signin import throttling
from responder.db import session_factory

sessions_cli = AppGroup("sessions", help="Signed-in sessions and sign-in throttles.")


@sessions_cli.command("purge")
def purge_command() -> None:
    """Delete day-old sign-in throttles and stale passkey challenges."""
    with session_factory()() as db:
        count = throttling.purge_stale(db)
        db.commit()
    click.echo(f"Purged {count} stale rows.")


@sessions_cli.command("revoke")
@click.argument("email")
def revoke_command(email: str) -> None:
    """Sign a user out of every browser at once."""
    with session_factory()() as db:
        user = accounts.find_user(db, email)
        if user is None:
            raise click.ClickException(f"no user with email {email}")
        count = accounts.sign_out_everywhere(db, user, by=None, channel="cli")
        db.commit()
    click.echo(f"Ended {count} session(s) for {email}.")


def register(app: Flask) -> None:
    """Add this module's commands to the app's CLI."""
    app.cli.add_command(sessions_cli)
