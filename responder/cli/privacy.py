"""Scheduled privacy jobs.

responder privacy alert-overdue   alert the privacy officer to late withdrawals

Run from cron (docs/operations.md) so a withdrawal past its deadline reaches the
privacy officer even when nobody opens the desk or the person's own view.
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from plans import people

privacy_cli = click.Group("privacy", help="Scheduled privacy jobs.")


@privacy_cli.command("alert-overdue")
@with_appcontext
def alert_overdue() -> None:
    """Alert the privacy officer to withdrawal requests past their deadline."""
    sessions = current_app.extensions["responder.sessions"]
    with sessions() as session:
        overdue = people.alert_overdue_withdrawals(session)
        session.commit()
    # Counts only: the requests' words and the people's names stay out of logs.
    click.echo(f"raised {len(overdue)} overdue withdrawal alert(s)")


def register(app: Flask) -> None:
    """Add the privacy commands."""
    app.cli.add_command(privacy_cli)
