"""`responder db`: create and migrate the database with Alembic."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

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


def register(app: Flask) -> None:
    """Add this module's commands to the app's CLI."""
    app.cli.add_command(db_cli)
