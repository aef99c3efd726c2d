"""Commands for the chat bots and the notification outbox.

responder telegram poll          long polling, for development
responder telegram set-webhook   point Telegram at /hooks/telegram
responder notify drain           send every due message once
responder notify worker          keep sending: RQ on Redis, else a polling loop
responder chat rebuild-places    re-read the places plans name (for "near")
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

import click
from flask import Flask, current_app, has_app_context
from flask.cli import with_appcontext

from bots.outbound import DrainReport, drain
from plans import chat, notify
from responder.hooks import chat_settings, install_telegram, senders

logger = logging.getLogger(__name__)

DEFAULT_QUEUE = "responder-notify"

telegram_cli = click.Group("telegram", help="Run and configure the Telegram bot.")
notify_cli = click.Group("notify", help="Send queued notifications.")
chat_cli = click.Group("chat", help="Maintain what the chat bots know.")


def _app() -> Flask:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def drain_now(app: Flask) -> DrainReport:
    """Drain the outbox once with the app's configured senders."""
    sessions = app.extensions["responder.sessions"]
    with sessions() as session:
        # Replay protection needs ids for a few days, not forever.
        chat.forget_processed(session)
        notify.purge(session)
        session.commit()
    return drain(
        sessions,
        senders(app),
        base_url=str(app.config.get("PUBLIC_BASE_URL") or ""),
    )


def _queue(app: Flask) -> Any:
    from redis import Redis
    from rq import Queue

    return Queue(
        str(app.config.get("NOTIFY_QUEUE") or DEFAULT_QUEUE),
        connection=Redis.from_url(str(app.config["REDIS_URL"])),
    )


@functools.cache
def _worker_app() -> Flask:
    """The worker process's one app: its engine and pool serve every job.

    Building an app per job left an engine (and its pooled connections) for the
    garbage collector after each one.
    """
    from responder import create_app

    return create_app()


def drain_job() -> str:
    """RQ job: drain the outbox, then come back when the next retry falls due."""
    if has_app_context():
        app = _app()
        report = drain_now(app)
    else:
        app = _worker_app()
        with app.app_context():
            report = drain_now(app)
    with app.extensions["responder.sessions"]() as session:
        due = notify.next_due(session)
    if due is not None and app.config.get("REDIS_URL"):
        _queue(app).enqueue_at(due, drain_job)
    return f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}"


def _wake_worker() -> None:
    """After a commit that queued messages, ask the RQ worker to drain now."""
    if not has_app_context() or not current_app.config.get("REDIS_URL"):
        return
    try:
        _queue(_app()).enqueue(drain_job)
    except Exception as error:  # noqa: BLE001  the outbox row is safe in the database
        logger.warning("could not wake the notify worker: %s", type(error).__name__)


@telegram_cli.command("poll")
@with_appcontext
def telegram_poll() -> None:
    """Run the bot with long polling (development; no webhook needed)."""
    from bots.telegram import ALLOWED_UPDATES, build_application

    app = _app()
    token = app.config.get("TELEGRAM_BOT_TOKEN")
    if not token:
        raise click.ClickException("set RESPONDER_TELEGRAM_BOT_TOKEN first")
    application = build_application(
        str(token),
        sessions=app.extensions["responder.sessions"],
        settings=chat_settings(app),
        polling=True,
    )
    click.echo("polling Telegram; Ctrl-C stops")
    application.run_polling(allowed_updates=ALLOWED_UPDATES)


@telegram_cli.command("set-webhook")
@click.option(
    "--url", help="Public webhook URL (default PUBLIC_BASE_URL/hooks/telegram)."
)
@with_appcontext
def telegram_set_webhook(url: str | None) -> None:
    """Point Telegram at this deployment's webhook, with the secret token."""
    app = _app()
    secret = app.config.get("TELEGRAM_WEBHOOK_SECRET")
    if not secret or len(str(secret)) < 16:
        raise click.ClickException(
            "set RESPONDER_TELEGRAM_WEBHOOK_SECRET to a long random value first"
        )
    base = str(app.config.get("PUBLIC_BASE_URL") or "")
    url = url or (base.rstrip("/") + "/hooks/telegram" if base else None)
    if not url or not url.startswith("https://"):
        raise click.ClickException("the webhook URL must be https:// (PUBLIC_BASE_URL)")
    runner = install_telegram(app)
    try:
        runner.set_webhook(url, str(secret))
    finally:
        runner.close()
        app.extensions.pop("responder.telegram", None)
    click.echo(f"webhook set to {url}")


@notify_cli.command("drain")
@with_appcontext
def notify_drain() -> None:
    """Send every notification that is due, once."""
    report = drain_now(_app())
    click.echo(
        f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}, "
        f"cancelled {report.cancelled}"
    )


@notify_cli.command("worker")
@click.option(
    "--interval",
    default=10,
    show_default=True,
    help="Seconds between drains without Redis.",
)
@click.option("--burst", is_flag=True, help="Stop when nothing is left to do.")
@with_appcontext
def notify_worker(interval: int, burst: bool) -> None:
    """Keep sending notifications: an RQ worker if REDIS_URL is set, else a loop."""
    app = _app()
    if app.config.get("REDIS_URL"):
        from rq import Worker

        queue = _queue(app)
        queue.enqueue(drain_job)  # catch up on anything queued while we were down
        click.echo(f"RQ worker on queue {queue.name}")
        Worker([queue], connection=queue.connection).work(
            with_scheduler=True, burst=burst
        )
        return
    click.echo(f"no REDIS_URL: draining every {interval}s")
    while True:
        report = drain_now(app)
        if burst and report == DrainReport():
            return
        time.sleep(interval)


def _user(session: Any, email: str) -> Any:
    from plans import accounts

    user = accounts.find_user(session, email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    return user


def _area(text: str) -> tuple[float, float, float]:
    try:
        lat, lon, km = (float(part) for part in text.split(","))
    except ValueError:
        raise click.BadParameter("give LAT,LON,KM, e.g. 50.90,-1.40,5") from None
    return lat, lon, km * 1000.0


@notify_cli.command("follow")
@click.argument("email")
@click.option("--person", "person_ref", help="Follow one person's plan by ref.")
@click.option("--team", "team_code", help="Follow every plan of a team.")
@click.option("--area", help="Follow plans placing someone within KM of LAT,LON.")
@click.option("--label", help="A name for the area, e.g. 'North control'.")
@with_appcontext
def notify_follow(
    email: str,
    person_ref: str | None,
    team_code: str | None,
    area: str | None,
    label: str | None,
) -> None:
    """Make EMAIL follow a person, a team or an area, for update messages."""
    from sqlalchemy import select

    from plans.models import Person, Team

    with _app().extensions["responder.sessions"]() as session:
        user = _user(session, email)
        target: dict[str, Any] = {}
        if person_ref:
            target["person"] = session.scalar(
                select(Person).where(Person.ref == person_ref)
            )
            if target["person"] is None:
                raise click.ClickException(f"no person {person_ref}")
        if team_code:
            target["team"] = session.scalar(select(Team).where(Team.code == team_code))
            if target["team"] is None:
                raise click.ClickException(f"no team {team_code}")
        if area:
            target["area"] = _area(area)
        try:
            subscription = notify.follow(session, user, label=label, **target)
        except notify.NotifyError as error:
            raise click.ClickException(str(error)) from None
        session.commit()
        click.echo(f"{email} follows #{subscription.id}")


@notify_cli.command("following")
@click.argument("email")
@with_appcontext
def notify_following(email: str) -> None:
    """List what EMAIL follows."""
    with _app().extensions["responder.sessions"]() as session:
        for sub in notify.subscriptions_for(session, _user(session, email)):
            if sub.person_id is not None:
                what = f"person {sub.person_id}"
            elif sub.team_id is not None:
                what = f"team {sub.team_id}"
            else:
                what = (
                    f"area {sub.area_lat:.4f},{sub.area_lon:.4f} "
                    f"{(sub.area_radius_m or 0) / 1000:g} km"
                )
            label = f" ({sub.label})" if sub.label else ""
            click.echo(f"#{sub.id} {what}{label}")


@notify_cli.command("unfollow")
@click.argument("email")
@click.argument("subscription_id", type=int)
@with_appcontext
def notify_unfollow(email: str, subscription_id: int) -> None:
    """Stop EMAIL following subscription SUBSCRIPTION_ID."""
    with _app().extensions["responder.sessions"]() as session:
        user = _user(session, email)
        found = [
            s
            for s in notify.subscriptions_for(session, user)
            if s.id == subscription_id
        ]
        if not found:
            raise click.ClickException(
                f"{email} has no subscription #{subscription_id}"
            )
        notify.unfollow(session, found[0])
        session.commit()
        click.echo(f"#{subscription_id} removed")


@chat_cli.command("rebuild-places")
@with_appcontext
def chat_rebuild_places() -> None:
    """Re-read the places named by live plans, for 'find ... near <place>'."""
    sessions = _app().extensions["responder.sessions"]
    with sessions() as session:
        count = chat.rebuild_places(session)
        session.commit()
    click.echo(f"{count} places")


def register(app: Flask) -> None:
    """Add the telegram, notify and chat commands; wake RQ after outbox commits."""
    for group in (telegram_cli, notify_cli, chat_cli):
        app.cli.add_command(group)
    notify.on_outbox_commit(_wake_worker)  # once per process, however many apps
