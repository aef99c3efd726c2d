"""The `responder` command: one click group per noun, registered on the app."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from responder.db import get_session


def _create_app() -> Flask:
    from responder import create_app

    return create_app()


def refusal(error: Exception) -> str:
    """Say, in one paragraph, why the app refused to start and how to fix it."""
    from responder import instance_folder

    return (
        f"Responder did not start. {error}\n"
        "Set each of these in the environment (RESPONDER_<KEY>) or in "
        f"{os.path.join(instance_folder(), 'config.py')}. On a developer's machine, "
        '`make run` writes ENVIRONMENT = "development" there once; or set '
        "RESPONDER_ENVIRONMENT=development."
    )


class ResponderGroup(FlaskGroup):
    """Flask's group, answering unsafe settings with a paragraph, not a traceback."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from responder import ConfigurationError

        try:
            return super().get_command(ctx, name)
        except ConfigurationError as error:
            raise click.ClickException(refusal(error)) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        from flask.cli import ScriptInfo

        from responder import ConfigurationError

        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except ConfigurationError as error:
            click.echo(refusal(error) + "\n", err=True)
            return sorted(click.Group.list_commands(self, ctx))
        return super().list_commands(ctx)


@click.group(cls=ResponderGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Manage a Responder deployment."""


# -- database -------------------------------------------------------------------

db_cli = click.Group("db", help="Create and migrate the database.")


def alembic_config(app: Flask) -> Any:
    """Return an Alembic configuration pointing at this app's database."""
    from alembic.config import Config

    from responder import asset_folder
    from responder.db import database_url

    config = Config()
    config.set_main_option("script_location", str(asset_folder("migrations")))
    config.set_main_option("sqlalchemy.url", database_url(app).replace("%", "%%"))
    return config


@db_cli.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    from alembic import command
    from flask import current_app

    command.upgrade(alembic_config(current_app), revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION."""
    from alembic import command
    from flask import current_app

    command.downgrade(alembic_config(current_app), revision)


@db_cli.command("revision")
@click.argument("message")
@with_appcontext
def db_revision(message: str) -> None:
    """Write a new migration from the difference between models and database."""
    from alembic import command
    from flask import current_app

    command.revision(alembic_config(current_app), message=message, autogenerate=True)


@db_cli.command("current")
@with_appcontext
def db_current() -> None:
    """Show the database's migration revision."""
    from alembic import command
    from flask import current_app

    command.current(alembic_config(current_app))


# -- users and tokens -----------------------------------------------------------

users_cli = click.Group("users", help="Manage user accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    required=True,
    help="police, ambulance, emergency_department, control_room, "
    "mental_health_crisis_team, home_treatment_team, liaison_psychiatry, "
    "nhs_111_crisis_line, street_triage, liaison_and_diversion, mentor, "
    "lead_clinician, privacy_officer or admin",
)
@click.option("--team", "teams", multiple=True, help="Team code (repeatable).")
@click.option("--name", "display_name", help="Name shown to colleagues.")
@click.option("--organisation", help="Employing organisation, e.g. Hampshire Police.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@with_appcontext
def users_create(
    email: str,
    role: str,
    teams: tuple[str, ...],
    display_name: str | None,
    organisation: str | None,
    password_stdin: bool,
) -> None:
    """Create a user with a role and team memberships."""
    from plans import accounts

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    session = get_session()
    try:
        user = accounts.add_user(
            session,
            email,
            by=None,
            channel="cli",
            role=role,
            password=password,
            display_name=display_name,
            organisation=organisation,
            team_codes=list(teams),
        )
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    session.commit()
    click.echo(f"created {user.email} ({user.role_label})")


@users_cli.command("list")
@click.option("--active-only", is_flag=True, help="Leave disabled accounts out.")
@with_appcontext
def users_list(active_only: bool) -> None:
    """List accounts: state, role, email, how they sign in and when they last did."""
    from plans import accounts

    rows = accounts.list_accounts(
        get_session(), by=None, channel="cli", include_disabled=not active_only
    )
    for row in rows:
        last = (
            row.last_sign_in_at.strftime("%Y-%m-%d %H:%M")
            if row.last_sign_in_at
            else "never"
        )
        methods = "; ".join(row.sign_in_methods) or "nothing yet"
        click.echo(
            f"{row.state:<8} {row.user.role:<20} {row.user.email:<40} "
            f"{methods} (last: {last})"
        )
    click.echo(f"{len(rows)} account(s)")


def _user_or_fail(email: str) -> Any:
    from plans import accounts

    user = accounts.find_user(get_session(), email)
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    return user


@users_cli.command("disable")
@click.argument("email")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@with_appcontext
def users_disable(email: str, reason: str) -> None:
    """Disable an account: it is signed out everywhere at once."""
    from plans import accounts

    session = get_session()
    user = _user_or_fail(email)
    try:
        count = accounts.disable_account(
            session, user, by=None, channel="cli", reason=reason
        )
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    session.commit()
    click.echo(f"disabled {user.email}; ended {count} session(s)")


@users_cli.command("enable")
@click.argument("email")
@with_appcontext
def users_enable(email: str) -> None:
    """Let a disabled account sign in again."""
    from plans import accounts

    session = get_session()
    user = _user_or_fail(email)
    try:
        accounts.enable_account(session, user, by=None, channel="cli")
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    session.commit()
    click.echo(f"enabled {user.email}")


DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("police", "PC Demo Officer", "Demo Constabulary"),
    ("ambulance", "Demo Paramedic", "Demo Ambulance Service"),
    ("emergency_department", "Demo ED Nurse", "Demo General Hospital"),
    ("control_room", "Demo Control Room", "Demo Constabulary"),
    ("mental_health_crisis_team", "Demo Crisis Team Nurse", "Demo NHS Trust"),
    ("home_treatment_team", "Demo Home Treatment Worker", "Demo NHS Trust"),
    ("liaison_psychiatry", "Demo Liaison Psychiatrist", "Demo General Hospital"),
    ("nhs_111_crisis_line", "Demo 111 Mental Health Adviser", "Demo NHS 111"),
    ("street_triage", "Demo Street Triage Nurse", "Demo Constabulary"),
    ("liaison_and_diversion", "Demo L&D Practitioner", "Demo NHS Trust"),
    ("mentor", "Demo Mentor", "Demo NHS Trust"),
    ("lead_clinician", "Dr Demo Lead", "Demo NHS Trust"),
    ("privacy_officer", "Demo Privacy Officer", "Demo NHS Trust"),
    ("admin", "Demo Administrator", "Demo NHS Trust"),
    ("team_lead", "Demo Team Lead", "Demo NHS Trust"),
    ("network", "Demo Network Lead", "Demo Regional Network"),
)


@users_cli.command("demo")
@with_appcontext
def users_demo() -> None:
    """Create or reset one demo account per role and print the logins (dev only)."""
    import secrets

    from flask import current_app
    from sqlalchemy import select

    from plans import accounts
    from plans.models import Team
    from responder import is_development

    if not is_development(current_app):
        raise click.ClickException("demo accounts exist only in development")
    session = get_session()
    team_codes = list(session.scalars(select(Team.code).order_by(Team.code)).all())
    if not team_codes:
        raise click.ClickException("load the demo plans first: responder demo")
    rows = accounts.reset_demo_accounts(
        session,
        DEMO_ACCOUNTS,
        # Staff belong to the first team; responders search every team.
        team_codes=team_codes[:1],
        password=lambda: "-".join(secrets.token_hex(3) for _ in range(3)),
    )
    session.commit()
    click.echo(f"Demo logins (team {team_codes[0]}; synthetic data only):")
    for role, email, password in rows:
        click.echo(f"  {role:<22} {email:<44} {password}")
    click.echo(
        "On first sign-in each account sets up its second factor: a passkey, or an "
        "authenticator app (the page shows the secret)."
    )


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


# -- search ---------------------------------------------------------------------

search_cli = click.Group("search", help="Maintain the search index.")


@search_cli.command("rebuild")
@with_appcontext
def search_rebuild() -> None:
    """Rebuild the search index from every live plan (after a bulk load)."""
    from plans import operations

    session = get_session()
    count = operations.rebuild_search_index(session)
    session.commit()
    click.echo(f"search index rebuilt: {count} live plans")


# -- serving --------------------------------------------------------------------


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@click.option("--workers", type=int, help="gunicorn workers (default SERVE_WORKERS).")
@click.option("--threads", type=int, help="Threads per worker (default SERVE_THREADS).")
@with_appcontext
def serve(host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Serve the app with gunicorn, a production WSGI server."""
    from flask import current_app
    from gunicorn.app.base import BaseApplication

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    options = {
        "bind": f"{host}:{port}",
        "workers": workers or app.config["SERVE_WORKERS"],
        "threads": threads or app.config["SERVE_THREADS"],
        "accesslog": None,  # URLs can carry tokens: no access log by default
        "errorlog": "-",
        "timeout": 30,
        "graceful_timeout": 10,
        "forwarded_allow_ips": app.config.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return fresh_context(app)

    Server().run()


def fresh_context(app: Flask) -> Any:
    """Wrap the app so each request starts with no app context of the CLI's.

    The `responder` command runs inside an app context, and workers fork from it;
    Flask reuses an active app context, so without this `g` (the database session,
    the signed-in user, the CSRF token) would be shared by every request a worker
    serves.
    """
    import contextvars

    def wsgi(environ: Any, start_response: Any) -> Any:
        return contextvars.Context().run(app.wsgi_app, environ, start_response)

    return wsgi


def init_app(app: Flask) -> None:
    """Register every command group on the app's CLI."""
    for command in (db_cli, users_cli, tokens_cli, search_cli, serve):
        app.cli.add_command(command)
    # Each feature keeps its commands beside its own code.
    from responder import (
        cli_cards,
        cli_cases,
        cli_chat,
        cli_exchange,
        cli_nrl,
        cli_ops,
        cli_portal,
        cli_privacy,
    )

    for module in (
        cli_exchange,
        cli_cards,
        cli_cases,
        cli_chat,
        cli_ops,
        cli_portal,
        cli_privacy,
        cli_nrl,
    ):
        module.register(app)
