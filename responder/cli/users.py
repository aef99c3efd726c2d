"""`responder users`: create, list, disable and enable accounts."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from responder.db import get_session

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


def register(app: Flask) -> None:
    """Add this module's commands to the app's CLI."""
    app.cli.add_command(users_cli)
