"""`responder portal`: import an agency's monthly figures and print a team's report."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from plans.models import Team
from plans.portal import demand, reports
from plans.portal.units import MINIMUM_UNITS
from responder.db import get_session


@click.group("portal")
def portal_cli() -> None:
    """Demand figures and team reports of the network portal."""


def _team(code: str) -> Team:
    team = get_session().scalar(select(Team).where(Team.code == code))
    if team is None:
        raise click.ClickException(f"no team {code!r}")
    return team


@portal_cli.command("import")
@click.argument("team_code")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--agency", required=True, help="The agency the figures came from.")
@with_appcontext
def import_command(team_code: str, path: Path, agency: str) -> None:
    """Import an agency's CSV of monthly figures for TEAM_CODE, all or nothing."""
    session = get_session()
    team = _team(team_code)
    try:
        tally = demand.import_csv(
            session, team, path.read_bytes(), agency=agency, by=None, channel="cli"
        )
    except demand.ImportRefused as refused:
        session.rollback()
        for problem in refused.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(str(refused)) from None
    except demand.DemandError as error:
        session.rollback()
        raise click.ClickException(str(error)) from None
    session.commit()
    click.echo(
        f"imported: {tally.added} new, {tally.updated} corrected, "
        f"{tally.unchanged} unchanged, for {len(tally.people)} people"
    )


@portal_cli.command("team-report")
@click.argument("team_code")
@click.option("--months", default=reports.DEFAULT_MONTHS, show_default=True)
@with_appcontext
def team_report_command(team_code: str, months: int) -> None:
    """Print TEAM_CODE's monthly totals of the minimum data sets as CSV."""
    if not 1 <= months <= 120:
        raise click.ClickException("--months must be from 1 to 120")
    report = reports.team_report(
        get_session(),
        _team(team_code),
        user=None,
        months=reports.window(months),
        channel="cli",
    )
    out = sys.stdout
    out.write("month," + ",".join(u.code for u in MINIMUM_UNITS) + ",cost\n")
    for i, month in enumerate(report.months):
        cells = [str(report.totals[u.code][i]) for u in MINIMUM_UNITS]
        out.write(f"{month:%Y-%m}," + ",".join(cells) + f",{report.costs[i]}\n")


def register(app: Flask) -> None:
    """Add the `portal` command group to the app's CLI."""
    app.cli.add_command(portal_cli)
