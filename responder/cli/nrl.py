"""National Record Locator pointers.

responder nrl send     send every due pointer change once (run from cron)
responder nrl status   count queued, sent, refused and failed changes

Off unless RESPONDER_NRL_BASE_URL is set (docs/deploy.md); then every plan with
an NHS number and a lawful basis that goes live queues a pointer change.
"""

from __future__ import annotations

import click
import requests
from flask import Flask, current_app
from flask.cli import with_appcontext

from plans import nrl
from responder.nrl import HttpTransport, NrlNotConfigured, load_config, send_pending

nrl_cli = click.Group("nrl", help="National Record Locator pointers.")


@nrl_cli.command("send")
@click.option("--limit", default=50, show_default=True, help="Messages per run.")
@with_appcontext
def send(limit: int) -> None:
    """Send due pointer changes to the NRL once; failures retry with back-off."""
    try:
        config = load_config(current_app.config)
    except (NrlNotConfigured, OSError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    with requests.Session() as http:
        report = send_pending(
            current_app.extensions["responder.sessions"],
            HttpTransport(config, http),
            config.pointers,
            limit=limit,
        )
    click.echo(
        f"sent {report.sent}, retrying {report.retrying}, refused {report.refused}, "
        f"failed {report.failed}, cancelled {report.cancelled}"
    )


@nrl_cli.command("status")
@with_appcontext
def status() -> None:
    """Count the NRL queue by state, and list what was refused or given up."""
    if not current_app.config.get("NRL_BASE_URL"):
        click.echo("NRL is off (RESPONDER_NRL_BASE_URL is not set)")
    with current_app.extensions["responder.sessions"]() as session:
        counts = nrl.counts(session)
        stuck = nrl.refused(session)
        lines = [f"{name}: {count}" for name, count in counts.by_status.items()]
        lines.append(f"pointers held: {counts.pointers}")
        # Refs and statuses only: never the NHS number.
        lines += [
            f"{row.status} {row.action} {row.person.ref} ({row.last_error})"
            for row in stuck
        ]
    click.echo("\n".join(lines))


def register(app: Flask) -> None:
    """Add the NRL commands."""
    app.cli.add_command(nrl_cli)
