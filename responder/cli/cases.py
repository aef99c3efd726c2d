"""The `cases` commands: an agency's monthly list from the shell, all or nothing."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from plans.cases import lists
from plans.cases.models import AGENCIES
from plans.models import Team
from responder.cli.exchange import _cli_actor
from responder.db import get_session


@click.group("cases")
def cases_cli() -> None:
    """High Intensity User group lists (see docs/cases.md)."""


@cases_cli.command("template")
def template_command() -> None:
    """Print the header line of the agency list CSV template."""
    click.echo(lists.TEMPLATE_HEADER)


@cases_cli.command("upload")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--team", "team_code", required=True, help="The group's team code.")
@click.option("--agency", required=True, type=click.Choice(AGENCIES))
@click.option("--month", required=True, help="The month the list covers, YYYY-MM.")
@with_appcontext
def upload_command(path: str, team_code: str, agency: str, month: str) -> None:
    """Upload an agency's monthly list; print every bad row as FILE:LINE: message."""
    session = get_session()
    try:
        first_day = lists.month_of(month)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--month") from error
    team = session.scalar(select(Team).where(Team.code == team_code))
    if team is None:
        raise click.BadParameter(f"no team {team_code}", param_hint="--team")
    try:
        with open(path, encoding="utf-8-sig") as stream:
            text = stream.read()
    except UnicodeDecodeError:
        click.echo(f"{path}: not UTF-8 text; save it as CSV UTF-8", err=True)
        sys.exit(1)
    show_progress = sys.stderr.isatty()

    def progress(count: int) -> None:
        if show_progress:
            click.echo(f"\r{count} rows checked", nl=False, err=True)

    try:
        agency_list = lists.upload_list(
            session,
            text,
            team=team,
            agency=agency,
            month=first_day,
            by=_cli_actor(),
            channel="cli",
            progress=progress,
        )
    except lists.ListRefused as refused:
        session.rollback()
        if show_progress:
            click.echo("", err=True)
        for problem in refused.problems:
            click.echo(f"{path}:{problem.line}: {problem.message}", err=True)
        click.echo(f"nothing stored: {len(refused.problems)} problem(s)")
        sys.exit(1)
    session.commit()
    if show_progress:
        click.echo("", err=True)
    click.echo(f"stored {agency_list.row_count} rows for {agency} {month}")


def register(app: Flask) -> None:
    """Add the `cases` command group to the app's CLI."""
    app.cli.add_command(cases_cli)
