"""Scheduled plan-review jobs.

responder reviews remind   remind mentors on their chats that a review falls due

Run daily from cron (docs/operations.md) so the team's mentors hear of a review
30 days before its date (REVIEW_REMINDER_DAYS) and on the day, even when nobody
opens the desk.
"""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from plans import clock, review_reminders
from plans.publish_rules import PublishRules

reviews_cli = click.Group("reviews", help="Scheduled plan-review jobs.")


@reviews_cli.command("remind")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Catch up as on this past day (YYYY-MM-DD); default: today in the UK.",
)
@with_appcontext
def remind(today: dt.datetime | None) -> None:
    """Queue chat reminders to mentors of reviews due soon or today."""
    on_date = today.date() if today else clock.today()
    # A day ahead would queue reminders early, and the outbox forgets them (and
    # could send them again) before their real day comes.
    if on_date > clock.today():
        raise click.BadParameter("not a day in the future", param_hint="'--today'")
    sessions = current_app.extensions["responder.sessions"]
    with sessions() as session:
        queued = review_reminders.queue_review_reminders(
            session,
            today=on_date,
            rules=PublishRules.from_config(current_app.config),
        )
        session.commit()
    # Counts only: which plans and whose chats stay in the outbox.
    click.echo(
        f"queued {queued.total} review reminder(s): "
        f"{queued.soon} coming up, {queued.due} due"
    )


def register(app: Flask) -> None:
    """Add the reviews commands."""
    app.cli.add_command(reviews_cli)
